// Package secret is kazzle's model of a secret: its [Type] and the fields each type
// stores, the rules names, slugs, notes and values follow, the ${secret.<id>.<field>}
// template syntax a field may hold ([ParseTemplate]), the TOTP seed format
// ([ParseSeed]), the reserved variable names ([IsReservedVar]) and the masked preview
// of a saved value ([Mask]), and the hosts a secret may be sent to ([ParseHosts]).
//
// It is pure: no I/O, and nothing of kazzle's below it. Expanding references and
// computing codes is [github.com/kazzle/kazzle/resolver]'s work; storing secrets is
// [github.com/kazzle/kazzle/vault]'s.
//
// No function here puts a secret value into an error: errors name secrets, fields and
// offsets, never contents.
package secret

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Type is the kind of a secret, which fixes its fields.
type Type string

// The secret types.
const (
	TypeString Type = "string"
	TypeLogin  Type = "login"
	TypeGit    Type = "git"
	TypeTOTP   Type = "totp"
)

// Field names shared by several types.
const (
	FieldValue    = "value"
	FieldUsername = "username"
	FieldPassword = "password"
	FieldURL      = "url"
	FieldHost     = "host"
	FieldPath     = "path"
	FieldSeed     = "seed"
	// FieldCode is computed from a totp secret's seed when it is read; it is never stored.
	FieldCode = "code"
)

// Computed is the field of type t that is read like a stored one but derived when
// read: a totp code from its seed, a git URL from host and path; "" if t has none.
// (A switch, not a map: a resolve asks this for every secret.)
func (t Type) Computed() string {
	switch t {
	case TypeTOTP:
		return FieldCode
	case TypeGit:
		return FieldURL
	}
	return ""
}

// Limits of names and values.
const (
	MaxNameLen   = 128
	MaxFieldSize = 64 << 10
	maxSlugLen   = 63
)

type fieldSet struct{ required, optional []string }

var (
	stringFields = fieldSet{required: []string{FieldValue}}
	loginFields  = fieldSet{required: []string{FieldUsername, FieldPassword}, optional: []string{FieldURL}}
	gitFields    = fieldSet{required: []string{FieldHost, FieldUsername, FieldPassword}, optional: []string{FieldPath}}
	totpFields   = fieldSet{required: []string{FieldSeed}}
)

// typeFields returns the stored fields of type t, and false for an unknown type.
func typeFields(t Type) (fieldSet, bool) {
	switch t {
	case TypeString:
		return stringFields, true
	case TypeLogin:
		return loginFields, true
	case TypeGit:
		return gitFields, true
	case TypeTOTP:
		return totpFields, true
	}
	return fieldSet{}, false
}

// Types lists the secret types in a stable order.
func Types() []Type { return []Type{TypeString, TypeLogin, TypeGit, TypeTOTP} }

// Valid reports whether t is a known type.
func (t Type) Valid() bool { _, ok := typeFields(t); return ok }

// StoredFields returns the fields a secret of type t stores: the required ones, then the optional ones.
func (t Type) StoredFields() (required, optional []string) {
	fs, _ := typeFields(t)
	return fs.required, fs.optional
}

// HasField reports whether field can be read from a secret of type t, computed fields included.
func (t Type) HasField(field string) bool {
	if t.Computed() == field && field != "" {
		return true
	}
	fs, _ := typeFields(t)
	for _, f := range fs.required {
		if f == field {
			return true
		}
	}
	for _, f := range fs.optional {
		if f == field {
			return true
		}
	}
	return false
}

// Secret is one secret in plaintext: its fields may hold references, which
// [github.com/kazzle/kazzle/resolver.Expander] expands.
type Secret struct {
	ID   string
	Name string
	Type Type
	// Env identifies the environment the secret is tagged with; "" means untagged, which
	// makes the secret part of every environment of its collection.
	Env string
	// Hosts are the hosts the secret's values may be sent to; nil: anywhere.
	Hosts  Hosts
	Fields Fields
}

// Fields are a secret's stored fields. A secret has a handful at most, so a list is
// cheaper to build and search than a map: a resolve builds one per secret.
type Fields []Field

// Field is one stored field of a secret.
type Field struct{ Name, Value string }

// FieldsOf lists the fields of m, sorted by name.
func FieldsOf(m map[string]string) Fields {
	fs := make(Fields, 0, len(m))
	for _, name := range sortedKeys(m) {
		fs = append(fs, Field{name, m[name]})
	}
	return fs
}

// Get returns the value of the named field and whether it is stored.
func (fs Fields) Get(name string) (string, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

// Value returns the value of the named field, or "" when it is not stored.
func (fs Fields) Value(name string) string {
	v, _ := fs.Get(name)
	return v
}

// ErrInvalid marks input that breaks a naming or shape rule.
var ErrInvalid = errors.New("invalid")

// ValidateName checks a secret name: an environment variable name of at most 128 characters.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("%w secret name: it is empty; use letters, digits and _ (like STRIPE_SECRET_KEY)", ErrInvalid)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w secret name: %d characters, the limit is %d", ErrInvalid, len(name), MaxNameLen)
	}
	// What follows the first character a name may not hold is never repeated: NAME=value
	// and "NAME value" are common slips, and the rest is then a value.
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c >= '0' && c <= '9')
		if ok {
			continue
		}
		if c == '=' {
			return fmt.Errorf("%w secret name %q…: a name cannot hold =; the value comes from stdin or a prompt (kazzle secrets set %s, then type or pipe the value)", ErrInvalid, name[:i], name[:i])
		}
		what := "a character"
		if r, _ := utf8.DecodeRuneInString(name[i:]); r < utf8.RuneSelf && strconv.IsPrint(r) {
			what = strconv.QuoteRune(r)
		}
		const rule = "a name must match [A-Za-z_][A-Za-z0-9_]* (an environment variable name)"
		if i == 0 {
			return fmt.Errorf("%w secret name: it starts with %s; %s", ErrInvalid, what, rule)
		}
		return fmt.Errorf("%w secret name %q…: %s at byte %d is not allowed; %s", ErrInvalid, name[:i], what, i, rule)
	}
	return nil
}

// ValidateSlug checks a collection or environment slug: ^[a-z0-9][a-z0-9-]{0,62}$.
func ValidateSlug(kind, slug string) error {
	if slug == "" || len(slug) > maxSlugLen {
		return fmt.Errorf("%w %s slug %q: use 1 to 63 characters of a-z, 0-9 and -", ErrInvalid, kind, Excerpt(slug))
	}
	for i := 0; i < len(slug); i++ {
		c := slug[i]
		ok := (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-')
		if !ok {
			return fmt.Errorf("%w %s slug %q: must match ^[a-z0-9][a-z0-9-]{0,62}$", ErrInvalid, kind, Excerpt(slug))
		}
	}
	return nil
}

// ValidateFields checks that fields fit type t: every required field present and non-empty
// (but a string's value, which may be empty, as FOO= in a .env file is), no unknown field, each value valid UTF-8 without NUL bytes (see ValidateValue) of at
// most 64 KiB, references well formed, and a
// totp seed that parses. Errors name fields, never their values.
func ValidateFields(t Type, fields map[string]string) error {
	fs, ok := typeFields(t)
	if !ok {
		return fmt.Errorf("%w secret type %q: use one of string, login, git, totp", ErrInvalid, Excerpt(string(t)))
	}
	for _, f := range fs.required {
		if v, ok := fields[f]; !ok || (v == "" && t != TypeString) {
			return fmt.Errorf("%w %s secret: field %q is required", ErrInvalid, t, f)
		}
	}
	for _, f := range sortedKeys(fields) {
		if !t.HasField(f) || t.Computed() == f {
			want := append(append([]string(nil), fs.required...), fs.optional...)
			return fmt.Errorf("%w %s secret: unknown field %q (fields: %s)", ErrInvalid, t, Excerpt(f), strings.Join(want, ", "))
		}
		v := fields[f]
		if len(v) > MaxFieldSize {
			return fmt.Errorf("%w field %q: %d bytes, the limit is %d", ErrInvalid, f, len(v), MaxFieldSize)
		}
		if err := ValidateValue(v); err != nil {
			return fmt.Errorf("%w field %q: %w", ErrInvalid, f, err)
		}
		if _, err := ParseTemplate(v); err != nil {
			return fmt.Errorf("%w field %q: %w", ErrInvalid, f, err)
		}
	}
	if t == TypeGit && !HasReferences(fields[FieldHost]) {
		if err := ValidateGitHost(fields[FieldHost]); err != nil {
			return fmt.Errorf("%w field %q: %w", ErrInvalid, FieldHost, err)
		}
	}
	if t == TypeTOTP && !HasReferences(fields[FieldSeed]) {
		if _, err := ParseSeed(fields[FieldSeed]); err != nil {
			return fmt.Errorf("%w field %q: %w", ErrInvalid, FieldSeed, err)
		}
	}
	return nil
}

// ValidateValue checks that v is text an environment variable can carry: valid UTF-8
// without NUL bytes (a process's environment is NUL-terminated strings, so a value with
// a NUL would break every run of its environment). The error gives a byte offset, never
// the value.
func ValidateValue(v string) error {
	const hint = "store binary data base64-encoded"
	if i := strings.IndexByte(v, 0); i >= 0 {
		return fmt.Errorf("a NUL byte at byte %d, which an environment variable cannot carry; %s", i, hint)
	}
	if !utf8.ValidString(v) {
		for i, r := range v {
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(v[i:]); size == 1 {
					return fmt.Errorf("not valid UTF-8 text at byte %d; %s", i, hint)
				}
			}
		}
	}
	return nil
}

// MaxNoteSize caps a secret's note: a line or two about the secret, not a place for data.
const MaxNoteSize = 4 << 10

// ValidateNote checks a secret's note: at most MaxNoteSize bytes of valid UTF-8.
func ValidateNote(note string) error {
	if len(note) > MaxNoteSize {
		return fmt.Errorf("%w note: %d bytes, the limit is %d", ErrInvalid, len(note), MaxNoteSize)
	}
	if !utf8.ValidString(note) {
		return fmt.Errorf("%w note: not valid UTF-8 text", ErrInvalid)
	}
	if i := strings.IndexByte(note, 0); i >= 0 {
		return fmt.Errorf("%w note: a NUL byte at byte %d; a note is text", ErrInvalid, i)
	}
	return nil
}

// VarField is one environment variable a secret exports, and the field it comes from.
type VarField struct{ Var, Field string }

// EnvVars lists the environment variables a secret of this name and type exports.
// Optional fields are listed whether or not they are set; Resolve skips the empty ones.
//
// A git secret exports NAME_USERNAME and NAME_PASSWORD like a login, and NAME_URL built
// from host and path (https://host/path), so code that expects a login's variables works.
func EnvVars(name string, t Type) []VarField { return AppendEnvVars(nil, name, t) }

// AppendEnvVars appends EnvVars(name, t) to dst, so that a resolve can reuse one buffer
// for every secret.
func AppendEnvVars(dst []VarField, name string, t Type) []VarField {
	switch t {
	case TypeString:
		return append(dst, VarField{name, FieldValue})
	case TypeLogin, TypeGit:
		return append(dst, VarField{name + "_USERNAME", FieldUsername}, VarField{name + "_PASSWORD", FieldPassword}, VarField{name + "_URL", FieldURL})
	case TypeTOTP:
		return append(dst, VarField{name + "_CODE", FieldCode})
	}
	return dst
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
