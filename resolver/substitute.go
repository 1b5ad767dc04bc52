package resolver

import (
	"fmt"
	"strings"

	"github.com/kazzle/kazzle/secret"
)

// TemplateError is a malformed reference in one of the texts given to Substitute.
type TemplateError struct {
	Index int // which text
	Err   error
}

func (e *TemplateError) Error() string { return fmt.Sprintf("text %d: %v", e.Index, e.Err) }
func (e *TemplateError) Unwrap() error { return e.Err }

// Substitute replaces every ${secret.<id>.<field>} in texts (and $${ by a literal ${),
// asking fetch once for the values of the distinct references, in order of first
// appearance. Texts without "${" come back exactly as they are, and fetch is not
// called when no text holds a reference. The substituted texts total at most
// MaxExpandedTotal bytes; past it Substitute returns an *ExpansionError.
func Substitute(texts []string, fetch func(refs []string) ([]string, error)) ([]string, error) {
	parsed := make([][]secret.Part, len(texts))
	var refs []string
	seen := map[secret.Ref]bool{}
	for i, t := range texts {
		if !strings.Contains(t, "${") {
			continue
		}
		parts, err := secret.ParseTemplate(t)
		if err != nil {
			return nil, &TemplateError{Index: i, Err: err}
		}
		parsed[i] = parts
		for _, p := range parts {
			if p.Ref != nil && !seen[*p.Ref] {
				seen[*p.Ref] = true
				refs = append(refs, p.Ref.String())
			}
		}
	}
	values := map[string]string{}
	if len(refs) > 0 {
		vals, err := fetch(refs)
		if err != nil {
			return nil, err
		}
		if len(vals) != len(refs) {
			return nil, fmt.Errorf("substitute references: %d values for %d references", len(vals), len(refs))
		}
		for i, r := range refs {
			values[r] = vals[i]
		}
	}
	// What substitution builds totals at most MaxExpandedTotal, checked before building:
	// a short text can name one large value many times.
	out := append([]string(nil), texts...)
	room := MaxExpandedTotal
	var vals []string
	for i, parts := range parsed {
		if parts == nil {
			continue
		}
		vals = vals[:0]
		for _, p := range parts {
			if p.Ref != nil {
				vals = append(vals, values[p.Ref.String()])
			} else {
				vals = append(vals, p.Literal)
			}
		}
		v, err := joinWithin(vals, room)
		if err != nil {
			return nil, &TemplateError{Index: i, Err: &ExpansionError{Where: "the substituted texts", Limit: MaxExpandedTotal, Total: true}}
		}
		room -= len(v)
		out[i] = v
	}
	return out, nil
}
