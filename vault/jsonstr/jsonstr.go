// Package jsonstr appends a JSON string by hand: the vault encodes the audit target of
// every read, and the server the resolve response, without encoding/json's reflection,
// which showed in a resolve's profile.
// The output decodes, by encoding/json, to the string it encoded (invalid UTF-8 as
// U+FFFD); unlike encoding/json it leaves <, > and & as they are.
package jsonstr

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Most of a response is printable ASCII: step over it 8 bytes at a time.
		if i+8 <= len(s) && plainASCII8(s[i:i+8]) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainASCII8 reports whether none of the 8 bytes of s needs escaping or UTF-8
// checking: none is below 0x20, a quote, a backslash or 0x80 and above. The byte tricks
// can answer false for a plain run (then the caller goes byte by byte), never true for
// one that is not.
func plainASCII8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	below20 := (x - ones*0x20) & ^x
	quote := x ^ (ones * '"')
	backslash := x ^ (ones * '\\')
	zeroByte := func(v uint64) uint64 { return (v - ones) & ^v }
	return (x|below20|zeroByte(quote)|zeroByte(backslash))&highs == 0
}
