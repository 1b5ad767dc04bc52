package jsonenc

import "testing"

// TestPlainASCII8 tries every byte at every position of an otherwise plain run: the fast
// path must never call a byte that needs escaping or UTF-8 decoding plain.
func TestPlainASCII8(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			run := []byte("abcdefgh")
			run[pos] = byte(c)
			want := c >= 0x20 && c < 0x80 && c != '"' && c != '\\'
			if got := plainASCII8(string(run)); got != want {
				t.Errorf("byte 0x%02x at %d: plainASCII8 = %v, want %v", c, pos, got, want)
			}
		}
	}
}
