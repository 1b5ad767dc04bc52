package server

import (
	"strings"
	"testing"
)

func TestMatchClaim(t *testing.T) {
	long := strings.Repeat("a", 16<<10)
	for _, tc := range []struct {
		pattern, value string
		want           bool
	}{
		{"acme/app", "acme/app", true},
		{"acme/app", "acme/app2", false},
		{"acme/app", "Acme/App", false},
		{"acme/app", "acme/app/", false},
		{"acme/app", "", false},
		{"refs/heads/*", "refs/heads/main", true},
		{"refs/heads/*", "refs/heads/", true},
		{"refs/heads/*", "refs/heads/feature/x", false},
		{"refs/heads/*", "refs/tags/v1", false},
		{"*", "anything", true},
		{"*", "", true},
		{"*", "a/b", false},
		{"*/*", "a/b", true},
		{"*/*", "a/b/c", false},
		{"acme/*-app", "acme/web-app", true},
		{"acme/*-app", "acme/web-app-x", false},
		{"acme/*-*", "acme/a-b-c", true},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
		{"a*a*a*a*b", strings.Repeat("a", 200), false},
		{"*x", long, false},
		{"*a", long, true},
		{"*", long + "/", false},
		{"repo:acme/*:ref:refs/heads/main", "repo:acme/app:ref:refs/heads/main", true},
		{"repo:acme/*:ref:refs/heads/main", "repo:acme/app:ref:refs/heads/main/x", false},
		{"ü*", "über", true},
	} {
		if got := matchClaim(tc.pattern, tc.value); got != tc.want {
			t.Errorf("matchClaim(%q, %.40q) = %v, want %v", tc.pattern, tc.value, got, tc.want)
		}
	}
}

func TestMatchRules(t *testing.T) {
	rules := []OIDCRule{
		{Claims: map[string]string{"repository": "acme/app", "ref": "refs/heads/main"}},
		{Claims: map[string]string{"repository": "acme/*", "environment": "*"}},
		{Claims: map[string]string{}},
	}
	for _, tc := range []struct {
		desc    string
		claims  map[string]any
		want    int
		matched string
	}{
		{"first rule", map[string]any{"repository": "acme/app", "ref": "refs/heads/main", "environment": "prod"}, 0, "ref=refs/heads/main, repository=acme/app"},
		{"the first match wins", map[string]any{"repository": "acme/app", "ref": "refs/heads/dev", "environment": "prod"}, 1, "environment=prod, repository=acme/app"},
		{"an empty string matches *", map[string]any{"repository": "acme/tool", "environment": ""}, 1, "environment=, repository=acme/tool"},
		{"an absent claim never matches *", map[string]any{"repository": "acme/tool"}, -1, ""},
		{"a null claim never matches *", map[string]any{"repository": "acme/tool", "environment": nil}, -1, ""},
		{"a number never matches *", map[string]any{"repository": "acme/tool", "environment": float64(1)}, -1, ""},
		{"a bool never matches *", map[string]any{"repository": "acme/tool", "environment": true}, -1, ""},
		{"an array never matches", map[string]any{"repository": []any{"acme/app"}, "ref": "refs/heads/main"}, -1, ""},
		{"an object never matches *", map[string]any{"repository": "acme/tool", "environment": map[string]any{}}, -1, ""},
		{"no claims", map[string]any{}, -1, ""},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			n, matched := matchRules(rules, tc.claims)
			if n != tc.want || strings.Join(matched, ", ") != tc.matched {
				t.Fatalf("rule %d matching %q, want %d %q", n, matched, tc.want, tc.matched)
			}
		})
	}
}
