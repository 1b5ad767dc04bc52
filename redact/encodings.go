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

// JSONString is v as the inside of a JSON string, as JavaScript and most encoders write
// it (without HTML escapes).
func JSONString(v string) string { return jsonEscape(v, false) }

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
// the LiteralForms, and JSON-escaped as Go's json.Marshal writes it (also with \u escapes),
// as PHP's json_encode writes it (\/) and as Gson writes it (\u003d, \u0027);
// URL-encoded with %20 or + for a space, and as a path segment; base64 in the standard
// and URL alphabets, whole (with and without padding) and as the characters that only
// v's bytes determine at each of the three byte alignments it can have inside a longer
// encoded text; hex in lower and upper case. Forms shorter than v and than six
// characters are left out, since such a fragment of base64 or hex turns up anywhere.
func EncodedForms(v string) []string {
	forms := encodedForms(v)
	out := make([]string, len(forms))
	for i, f := range forms {
		out[i] = f.text
	}
	return out
}

// form is one spelling of a value; dump marks base64 and hex, which tools wrap into
// lines (base64 at 64 or 76 columns, xxd -p at 60) or space out (od).
type form struct {
	text string
	dump bool
}

func encodedForms(v string) []form {
	if v == "" {
		return nil
	}
	var forms []form
	seen := map[string]bool{}
	add := func(f string, dump bool) {
		if !seen[f] && (len(forms) == 0 || len(f) >= min(len(v), minEncodedLen)) {
			seen[f] = true
			forms = append(forms, form{f, dump})
		}
	}
	for _, f := range LiteralForms(v) {
		add(f, false)
	}
	goJSON := jsonEscape(v, true)
	add(goJSON, false)
	add(asciiEscape(goJSON), false)
	// PHP's json_encode writes / as \/ (and non-ASCII as \u escapes); Gson escapes = and '
	// besides <, > and &: the padding of a base64 key comes back as \u003d.
	escaped := jsonEscape(v, false)
	add(strings.ReplaceAll(escaped, "/", `\/`), false)
	add(strings.ReplaceAll(asciiEscape(escaped), "/", `\/`), false)
	add(strings.NewReplacer("=", `\u003d`, "'", `\u0027`).Replace(goJSON), false)
	query := url.QueryEscape(v)
	add(query, false)
	add(strings.ReplaceAll(query, "+", "%20"), false)
	add(url.PathEscape(v), false)
	b := []byte(v)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		add(enc.EncodeToString(b), true)
		raw := enc.WithPadding(base64.NoPadding)
		for shift := range 3 {
			// With shift bytes before it, v's bits start at bit 8*shift: the characters
			// from the first whole sextet after that to the last one before its end.
			full := raw.EncodeToString(append(make([]byte, shift), b...))
			first, last := (8*shift+5)/6, (8*shift+8*len(b))/6
			add(full[first:last], true)
		}
	}
	add(hex.EncodeToString(b), true)
	add(strings.ToUpper(hex.EncodeToString(b)), true)
	return forms
}

// EncodedReplacements returns the replacements of every encoded form of value by with;
// base64 and hex forms are Wrapped.
func EncodedReplacements(value, with string) []Replacement {
	forms := encodedForms(value)
	reps := make([]Replacement, len(forms))
	for i, f := range forms {
		reps[i] = Replacement{Value: f.text, With: with, Wrapped: f.dump}
	}
	return reps
}

// Limits of ScrubReplacements.
const (
	// MinScrubLen is the shortest value scrubbed: a shorter one (a port, "true", a
	// six-digit code) occurs in output by chance, so replacing it would corrupt output
	// and tell whoever reads it where the value occurs.
	MinScrubLen = 8
	// EndRunLen is the shortest run at either end of a value that is scrubbed as part
	// of it, for values of at least MinEndRunValueLen bytes: a value cut at one end
	// (head -c, cut, a truncated log line) still gives nothing away but the other end.
	EndRunLen         = 12
	MinEndRunValueLen = 16
)

// ScrubReplacements returns what scrubs value from text shown to someone who must not
// learn it: nothing when it is shorter than MinScrubLen characters; else the
// EncodedReplacements, and, for a value and for each of its forms of MinEndRunValueLen
// bytes or more, any run of EndRunLen or more bytes that starts at its first byte or
// ends at its last (wrapped too, for a base64 or hex form).
func ScrubReplacements(value, with string) []Replacement {
	if utf8.RuneCountInString(value) < MinScrubLen {
		return nil
	}
	reps := EncodedReplacements(value, with)
	for _, r := range reps[:len(reps):len(reps)] {
		if len(r.Value) < MinEndRunValueLen {
			continue
		}
		reps = append(reps,
			Replacement{Value: r.Value[:EndRunLen], With: with, Of: r.Value, Wrapped: r.Wrapped},
			Replacement{Value: r.Value[len(r.Value)-EndRunLen:], With: with, Of: r.Value, Suffix: true, Wrapped: r.Wrapped})
	}
	return reps
}
