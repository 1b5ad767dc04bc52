package resolver

import (
	"cmp"
	"maps"
	"slices"
	"strings"
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
func (e *Expander) ScanValues(view []Secret) ([]Var, error) {
	var out []Var
	total := 0
	add := func(s Secret, field, v string) error {
		if v == "" {
			return nil
		}
		if total+len(v) > MaxExpandedTotal {
			return &ExpansionError{Where: s.Name + "." + field, Limit: MaxExpandedTotal, Total: true}
		}
		total += len(v)
		out = append(out, Var{Name: s.Name, Value: v, SecretID: s.ID, Field: field})
		return nil
	}
	for _, s := range view {
		for _, f := range s.Fields {
			if !s.Type.HasField(f.Name) || computedField(s.Type) == f.Name {
				continue
			}
			v, err := e.Field(s, f.Name)
			if err != nil {
				return nil, err
			}
			if err := add(s, f.Name, v); err != nil {
				return nil, err
			}
			if s.Type == TypeTOTP && f.Name == FieldSeed {
				if p, err := parseSeed(v); err == nil && p.secret != v {
					if err := add(s, f.Name, p.secret); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	// Expanding the fields above followed every reference they hold, nested ones too.
	used := e.Used()
	for _, r := range slices.SortedFunc(maps.Keys(used), func(a, b Ref) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.Field, b.Field))
	}) {
		if r.Field == FieldCode { // only ever a computed totp code
			continue
		}
		if err := add(Secret{ID: r.ID, Name: e.read[r.ID]}, r.Field, used[r]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
