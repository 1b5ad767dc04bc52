package jsonstr

import (
	"encoding/json"
	"testing"
)

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

// FuzzAppendString: what AppendString writes decodes to what encoding/json's own
// encoding of the same string decodes to, whatever the bytes.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain ascii run of text", "quote \" back \\ nl \n tab \t", "\x00\x1f\x7f", "ключ \u2028 <&>", "\xff\xfe bad utf-8", "12345678\"12345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got, want string
		if err := json.Unmarshal(AppendString(nil, s), &got); err != nil {
			t.Fatalf("AppendString's output does not decode: %v", err)
		}
		std, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("AppendString decodes to %q, encoding/json to %q", got, want)
		}
	})
}
