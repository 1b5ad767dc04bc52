package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// minEncodedLen is the shortest encoded form EncodedForms returns for a value of at
// least this length: a shorter fragment of base64 or hex turns up in any output.
const minEncodedLen = 6

// LiteralForms are the spellings of v inside a string literal of JavaScript or JSON:
// itself, escaped (without HTML escapes, as JavaScript and most encoders write it), and
// escaped with non-ASCII characters as \uXXXX (surrogate pairs beyond the basic plane),
// as esbuild's charset=ascii and Python's json.dumps write it.
func LiteralForms(v string) []string {
	forms := []string{v}
	add := func(f string) {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	escaped := jsonEscape(v, false)
	add(escaped)
	add(asciiEscape(escaped))
	return forms
}

// jsonEscape is the body of v as a JSON string; escapeHTML adds Go's \u003c-style
// escapes of <, > and &, which encoding/json.Marshal makes.
func jsonEscape(v string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	enc.Encode(v)
	quoted := strings.TrimSuffix(buf.String(), "\n")
	return quoted[1 : len(quoted)-1]
}

// asciiEscape writes the non-ASCII characters of s as \uXXXX (surrogate pairs beyond the
// basic plane).
func asciiEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}

// EncodedForms returns v as text that carries it is likely to spell it: as it is;
// the LiteralForms, and JSON-escaped as Go's json.Marshal writes it (also with \u escapes);
// URL-encoded with %20 or + for a space, and as a path segment; base64 in the standard
// and URL alphabets, whole (with and without padding) and as the characters that only
// v's bytes determine at each of the three byte alignments it can have inside a longer
// encoded text; hex in lower and upper case. Forms shorter than v and than six
// characters are left out, since such a fragment of base64 or hex turns up anywhere.
func EncodedForms(v string) []string {
	if v == "" {
		return nil
	}
	var forms []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] && (len(forms) == 0 || len(f) >= min(len(v), minEncodedLen)) {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	for _, f := range LiteralForms(v) {
		add(f)
	}
	goJSON := jsonEscape(v, true)
	add(goJSON)
	add(asciiEscape(goJSON))
	query := url.QueryEscape(v)
	add(query)
	add(strings.ReplaceAll(query, "+", "%20"))
	add(url.PathEscape(v))
	b := []byte(v)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		add(enc.EncodeToString(b))
		raw := enc.WithPadding(base64.NoPadding)
		for shift := range 3 {
			// With shift bytes before it, v's bits start at bit 8*shift: the characters
			// from the first whole sextet after that to the last one before its end.
			full := raw.EncodeToString(append(make([]byte, shift), b...))
			first, last := (8*shift+5)/6, (8*shift+8*len(b))/6
			add(full[first:last])
		}
	}
	add(hex.EncodeToString(b))
	add(strings.ToUpper(hex.EncodeToString(b)))
	return forms
}

// EncodedReplacements returns the replacements of every encoded form of value by with.
func EncodedReplacements(value, with string) []Replacement {
	forms := EncodedForms(value)
	reps := make([]Replacement, len(forms))
	for i, f := range forms {
		reps[i] = Replacement{Value: f, With: with}
	}
	return reps
}
