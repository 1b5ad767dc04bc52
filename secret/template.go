package secret

import (
	"errors"
	"fmt"
	"strings"
)

const refOpen = "${secret."

// Ref names one field of one secret: ${secret.<id>.<field>}.
type Ref struct{ ID, Field string }

// String renders r as the template that refers to it.
func (r Ref) String() string { return refOpen + r.ID + "." + r.Field + "}" }

// Part is a piece of a parsed template: literal text, or a reference when Ref is set.
type Part struct {
	Literal string
	Ref     *Ref
}

// ErrSyntax marks a field value whose ${secret.…} is malformed (see SyntaxError).
var ErrSyntax = errors.New("malformed reference")

// SyntaxError reports a malformed ${secret.…} at a byte offset. It never quotes the
// template, since the text around a reference is itself part of a secret value.
type SyntaxError struct {
	Offset int
	Reason string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("malformed reference at byte %d: %s (write ${secret.<uuid>.<field>}, or $${ for a literal ${)", e.Offset, e.Reason)
}

// Unwrap lets errors.Is match ErrSyntax.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// ParseTemplate splits s into literal text and references. "${secret." starts a reference,
// which must read ${secret.<uuid>.<field>}; "$${" is a literal "${"; any other "${…}" (a
// shell-style ${HOME}, say) is literal text, so values such as scripts pass through as
// written. Ids are returned in lower case.
func ParseTemplate(s string) ([]Part, error) {
	if !strings.Contains(s, "${") {
		if s == "" {
			return nil, nil
		}
		return []Part{{Literal: s}}, nil
	}
	var parts []Part
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, Part{Literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] != '$' {
			j := strings.IndexByte(s[i:], '$')
			if j < 0 {
				j = len(s) - i
			}
			lit.WriteString(s[i : i+j])
			i += j
			continue
		}
		if strings.HasPrefix(s[i:], "$${") {
			lit.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], refOpen) {
			lit.WriteByte('$')
			i++
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, &SyntaxError{Offset: i, Reason: "no closing }"}
		}
		ref, err := parseRefBody(s[i+len(refOpen) : i+end])
		if err != nil {
			return nil, &SyntaxError{Offset: i, Reason: err.Error()}
		}
		flush()
		parts = append(parts, Part{Ref: &ref})
		i += end + 1
	}
	flush()
	return parts, nil
}

func parseRefBody(body string) (Ref, error) {
	id, field, ok := strings.Cut(body, ".")
	if !ok {
		return Ref{}, errors.New("no field after the secret id")
	}
	if !IsUUID(id) {
		return Ref{}, errors.New("the secret id is not a UUID")
	}
	if !isFieldName(field) {
		return Ref{}, errors.New("the field name is not [a-z_][a-z0-9_]*")
	}
	return Ref{ID: strings.ToLower(id), Field: field}, nil
}

// IsUUID reports whether s has the 8-4-4-4-12 hexadecimal form of a UUID.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) {
				return false
			}
		}
	}
	return true
}

func isFieldName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// HasReferences reports whether s holds something that parses as a reference (or tries to).
func HasReferences(s string) bool { return strings.Contains(s, refOpen) }

// References lists the references in s, in order, duplicates included.
func References(s string) ([]Ref, error) {
	parts, err := ParseTemplate(s)
	if err != nil {
		return nil, err
	}
	var refs []Ref
	for _, p := range parts {
		if p.Ref != nil {
			refs = append(refs, *p.Ref)
		}
	}
	return refs, nil
}

// FormatTemplate is the inverse of ParseTemplate: literal "${" is escaped as "$${". A
// literal that ends in "$" right before a reference has no spelling in the template
// syntax; it comes back as a literal "${secret.…".
func FormatTemplate(parts []Part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Ref != nil {
			b.WriteString(p.Ref.String())
			continue
		}
		b.WriteString(strings.ReplaceAll(p.Literal, "${", "$${"))
	}
	return b.String()
}

// ReferencesByName rewrites every ${secret.NAME.field} in s, where NAME is a secret name
// rather than an id, as ${secret.<id>.field} with the id lookup gives for NAME; the
// rest of s, $${ escapes included, is kept as it is. A malformed reference is left for
// ParseTemplate to report. lookup's error is returned as it is.
func ReferencesByName(s string, lookup func(name string) (id string, err error)) (string, error) {
	if !strings.Contains(s, refOpen) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteString(s[i : i+j])
		i += j
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("$${")
			i += 3
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if !strings.HasPrefix(s[i:], refOpen) || end < 0 {
			b.WriteByte('$')
			i++
			continue
		}
		name, field, ok := strings.Cut(s[i+len(refOpen):i+end], ".")
		if !ok || IsUUID(name) || ValidateName(name) != nil {
			b.WriteString(s[i : i+end+1])
			i += end + 1
			continue
		}
		id, err := lookup(name)
		if err != nil {
			return "", err
		}
		b.WriteString(Ref{ID: id, Field: field}.String())
		i += end + 1
	}
	return b.String(), nil
}
