package bundler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// MinScanLength is the shortest value the leak scan looks for: shorter ones ("true",
// "3000") occur in any bundle by chance and say nothing about a leak.
const MinScanLength = 6

// scan looks in every file (source maps included) for each of others' values, raw and
// as a JavaScript or JSON string literal would hold it, and returns the first leak found
// in a stable order.
func scan(files map[string][]byte, inline, others []Secret) *LeakError {
	inlined := map[string]string{}
	for _, s := range inline {
		inlined[s.Value] = s.Name
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		data := files[name]
		for _, s := range others {
			if len(s.Value) < MinScanLength {
				continue
			}
			for _, form := range literalForms(s.Value) {
				if bytes.Contains(data, []byte(form)) {
					return &LeakError{Secret: s.Name, File: name, SameAs: inlined[s.Value]}
				}
			}
		}
	}
	return nil
}

// literalForms are the spellings of v that a bundle or source map can hold: itself, and
// escaped inside a string literal, with non-ASCII characters as they are or as \uXXXX.
func literalForms(v string) []string {
	forms := []string{v}
	add := func(f string) {
		for _, g := range forms {
			if g == f {
				return
			}
		}
		forms = append(forms, f)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	escaped := strings.TrimSuffix(buf.String(), "\n")
	escaped = escaped[1 : len(escaped)-1]
	add(escaped)
	add(asciiEscape(escaped))
	return forms
}

// asciiEscape writes the non-ASCII characters of s as \uXXXX (surrogate pairs beyond the
// basic plane), as esbuild does with charset=ascii.
func asciiEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < utf8.RuneSelf:
			b.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&b, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
	}
	return b.String()
}
