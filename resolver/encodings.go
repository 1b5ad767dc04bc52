package resolver

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf16"
)

// minEncodedLen is the shortest encoded form EncodedForms returns for a value of at
// least this length: a shorter fragment of base64 or hex turns up in any output.
const minEncodedLen = 6

// EncodedForms returns v as text that carries it is likely to spell it: as it is;
// JSON-escaped (as Go, JavaScript and, with \u escapes for non-ASCII, Python write it);
// URL-encoded with %20 or + for a space, and as a path segment; base64 in the standard
// and URL alphabets, whole (with and without padding) and as the characters that only
// v's bytes determine at each of the three byte alignments it can have inside a longer
// encoded text; hex in lower and upper case. Forms shorter than v and than six
// characters are left out, since such a fragment of base64 or hex turns up anywhere.
func EncodedForms(v string) []string {
	if v == "" {
		return nil
	}
	forms := []string{v}
	seen := map[string]bool{v: true}
	add := func(f string) {
		if !seen[f] && len(f) >= min(len(v), minEncodedLen) {
			seen[f] = true
			forms = append(forms, f)
		}
	}
	quoted, _ := json.Marshal(v)
	jsonForm := string(quoted[1 : len(quoted)-1])
	add(jsonForm)
	add(strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(jsonForm))
	add(jsonASCII(v))
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

// jsonASCII is the JSON string body of v with every non-ASCII character as \u escapes
// (UTF-16 surrogate pairs beyond the BMP), as Python's json.dumps writes it.
func jsonASCII(v string) string {
	var b strings.Builder
	quoted, _ := json.Marshal(v)
	for _, r := range string(quoted[1 : len(quoted)-1]) {
		switch {
		case r < 0x80:
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

// EncodedReplacements returns the replacements of every encoded form of value by with.
func EncodedReplacements(value, with string) []Replacement {
	forms := EncodedForms(value)
	reps := make([]Replacement, len(forms))
	for i, f := range forms {
		reps[i] = Replacement{Value: f, With: with}
	}
	return reps
}
