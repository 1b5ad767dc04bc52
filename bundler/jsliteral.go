package bundler

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// unescapeJS returns data with every backslash escape replaced by what it stands for in
// a JavaScript string or template literal (a superset of JSON's escapes), or nil when
// data holds no backslash. It does not look for the literals: an escape means the same
// in every quote esbuild may choose (", ' or `), and the first character of a literal
// is never preceded by an unpaired backslash, so the text of every literal comes out
// whole and contiguous, as JavaScript reads it. What it does to text outside literals
// (a regular expression, a comment) only adds text to scan.
//
// The escapes: \n \t \r \b \f \v, \0 and legacy octal (\1 to \377), \xHH, \uHHHH
// (surrogate pairs joined), \u{H…}, a line continuation (a backslash before a line
// terminator, which stands for nothing), and a backslash before any other character,
// which stands for that character (\' \" \` \$ \\ \/ and the rest).
func unescapeJS(data []byte) []byte {
	i := bytes.IndexByte(data, '\\')
	if i < 0 {
		return nil
	}
	out := make([]byte, 0, len(data))
	for i >= 0 {
		out = append(out, data[:i]...)
		data = data[i:]
		var n int
		out, n = appendEscape(out, data)
		data = data[n:]
		i = bytes.IndexByte(data, '\\')
	}
	return append(out, data...)
}

// appendEscape appends what the escape at the start of s (s[0] is a backslash) stands
// for, and returns how many bytes of s it took.
func appendEscape(out, s []byte) ([]byte, int) {
	if len(s) < 2 {
		return append(out, '\\'), 1
	}
	switch c := s[1]; c {
	case 'n':
		return append(out, '\n'), 2
	case 't':
		return append(out, '\t'), 2
	case 'r':
		return append(out, '\r'), 2
	case 'b':
		return append(out, '\b'), 2
	case 'f':
		return append(out, '\f'), 2
	case 'v':
		return append(out, '\v'), 2
	case '\n':
		return out, 2
	case '\r':
		if len(s) > 2 && s[2] == '\n' {
			return out, 3
		}
		return out, 2
	case '0', '1', '2', '3', '4', '5', '6', '7':
		// Up to three octal digits while the value stays below 256 (\0 alone is NUL).
		v, n := int(c-'0'), 2
		for n < len(s) && n < 4 && s[n] >= '0' && s[n] <= '7' && v*8+int(s[n]-'0') < 256 {
			v = v*8 + int(s[n]-'0')
			n++
		}
		return utf8.AppendRune(out, rune(v)), n
	case 'x':
		if len(s) >= 4 {
			if hi, lo := hexVal(s[2]), hexVal(s[3]); hi >= 0 && lo >= 0 {
				return utf8.AppendRune(out, rune(hi<<4|lo)), 4
			}
		}
		return append(out, 'x'), 2
	case 'u':
		r, n := unicodeEscape(s)
		if n == 0 {
			return append(out, 'u'), 2
		}
		if utf16.IsSurrogate(r) && r < 0xDC00 {
			// A high surrogate followed by an escaped low one is one character.
			if lo, m := unicodeEscape(s[n:]); m > 0 && lo >= 0xDC00 && lo <= 0xDFFF {
				return utf8.AppendRune(out, utf16.DecodeRune(r, lo)), n + m
			}
		}
		return utf8.AppendRune(out, r), n // a lone surrogate becomes U+FFFD
	case 0xE2: // U+2028 and U+2029 are line terminators too
		if len(s) >= 4 && s[2] == 0x80 && (s[3] == 0xA8 || s[3] == 0xA9) {
			return out, 4
		}
		return out, 1 // the character itself follows
	default:
		if c >= utf8.RuneSelf {
			return out, 1 // a backslash before a non-ASCII character stands for it
		}
		return append(out, c), 2
	}
}

// unicodeEscape reads \uHHHH or \u{H…} at the start of s and returns the code point
// and the bytes it took, or 0 bytes when s does not start with one.
func unicodeEscape(s []byte) (rune, int) {
	if len(s) < 3 || s[0] != '\\' || s[1] != 'u' {
		return 0, 0
	}
	if s[2] == '{' {
		var v rune
		for n := 3; n < len(s) && n < 3+8; n++ {
			if s[n] == '}' {
				if n == 3 || v > utf8.MaxRune {
					return 0, 0
				}
				return v, n + 1
			}
			d := hexVal(s[n])
			if d < 0 {
				return 0, 0
			}
			v = v<<4 | rune(d)
		}
		return 0, 0
	}
	if len(s) < 6 {
		return 0, 0
	}
	var v rune
	for _, c := range s[2:6] {
		d := hexVal(c)
		if d < 0 {
			return 0, 0
		}
		v = v<<4 | rune(d)
	}
	return v, 6
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
