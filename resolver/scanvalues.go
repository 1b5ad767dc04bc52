package resolver

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/kazzle/kazzle/secret"
)

// ScanValues returns what a leak scan of output built with view's values must look for:
// every stored field of each secret of view, with its references expanded (a totp
// seed, a git secret's host and path, a username, a password), a totp seed's key as
// normalized base32 too, and the expanded value of every reference those fields lead
// to, nested ones included, under the referenced secret's name and field. A Var here
// has the secret's name as Name, not a variable name.
//
// Computed fields are left out: a totp code is six digits that any output holds now
// and then by chance, and a git url is its host and path, which are in. A referenced
// secret gives only the fields that references name: a reference hands over one field,
// not the secret. Like Resolve, the values total at most MaxExpandedTotal bytes, on a
// budget of their own.
func (e *Expander) ScanValues(view []secret.Secret) ([]Var, error) {
	var out []Var
	total := 0
	add := func(s secret.Secret, field, v string) error {
		// A value is also looked for as code would hold it: without the spaces or line
		// break a paste left around it, and with CRLF line endings as LF (a PEM key
		// stored from Windows, or read back from a template literal).
		forms := []string{v}
		if t := strings.TrimSpace(v); t != v {
			forms = append(forms, t)
		}
		for _, f := range forms {
			if strings.Contains(f, "\r\n") {
				forms = append(forms, strings.ReplaceAll(f, "\r\n", "\n"))
			}
		}
		for _, f := range forms {
			if f == "" {
				continue
			}
			if total+len(f) > MaxExpandedTotal {
				return &ExpansionError{Where: s.Name + "." + field, Limit: MaxExpandedTotal, Total: true}
			}
			total += len(f)
			out = append(out, Var{Name: s.Name, Value: f, SecretID: s.ID, Field: field})
		}
		return nil
	}
	for _, s := range view {
		for _, f := range s.Fields {
			if !s.Type.HasField(f.Name) || s.Type.Computed() == f.Name {
				continue
			}
			v, err := e.Field(s, f.Name)
			if err != nil {
				return nil, err
			}
			if err := add(s, f.Name, v); err != nil {
				return nil, err
			}
			if s.Type == secret.TypeTOTP && f.Name == secret.FieldSeed {
				// base32 ignores case and spacing: the key as apps print it, in either
				// case, whole or in groups of four.
				if p, err := secret.ParseSeed(v); err == nil {
					for _, form := range seedForms(p.Key) {
						if form != v {
							if err := add(s, f.Name, form); err != nil {
								return nil, err
							}
						}
					}
				}
			}
		}
	}
	// Expanding the fields above followed every reference they hold, nested ones too.
	used := e.Used()
	for _, r := range slices.SortedFunc(maps.Keys(used), func(a, b secret.Ref) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.Field, b.Field))
	}) {
		if r.Field == secret.FieldCode { // only ever a computed totp code
			continue
		}
		if err := add(secret.Secret{ID: r.ID, Name: e.read[r.ID]}, r.Field, used[r]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// seedForms are the spellings of a base32 TOTP key people and apps write: upper and lower
// case, whole and in groups of four separated by spaces.
func seedForms(key string) []string {
	var grouped strings.Builder
	for i := 0; i < len(key); i += 4 {
		if i > 0 {
			grouped.WriteByte(' ')
		}
		grouped.WriteString(key[i:min(i+4, len(key))])
	}
	g := grouped.String()
	return []string{key, strings.ToLower(key), g, strings.ToLower(g)}
}
