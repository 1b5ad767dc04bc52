package resolver

import (
	"sort"

	"github.com/kazzle/kazzle/secret"
)

// View returns the secrets of one environment of a collection: every untagged secret, with
// a secret tagged env taking the place of an untagged one of the same name. Secrets tagged
// with another environment are left out. The result is sorted by name.
func View(secrets []secret.Secret, env string) []secret.Secret {
	order := ViewOrder(len(secrets), func(i int) (string, string) { return secrets[i].Name, secrets[i].Env }, env)
	out := make([]secret.Secret, len(order))
	for i, j := range order {
		out[i] = secrets[j]
	}
	return out
}

// ViewOrder is View on metadata alone: given n secrets whose name and environment tag
// meta returns, it lists the indexes of those in the view of env, sorted by name. It lets
// a caller pick the view before opening any secret.
func ViewOrder(n int, meta func(i int) (name, env string), env string) []int {
	byName := make(map[string]int, n)
	for i := 0; i < n; i++ {
		name, tag := meta(i)
		switch {
		case tag == env && env != "":
			byName[name] = i
		case tag == "":
			if _, taken := byName[name]; !taken {
				byName[name] = i
			}
		}
	}
	out := make([]int, 0, len(byName))
	for _, i := range byName {
		out = append(out, i)
	}
	sort.Slice(out, func(a, b int) bool {
		na, _ := meta(out[a])
		nb, _ := meta(out[b])
		return na < nb
	})
	return out
}
