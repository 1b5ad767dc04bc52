package resolver

import "testing"

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// SPEC section 1 prints this example as sk-p****9789, which contradicts its own rule
		// (first 4 and last 4 characters); the rule wins.
		{"sk-proj-abc123xyz789", "sk-p****z789"},
		{"0123456789abcdef", "0123****cdef"},
		{"0123456789abcde", "****"},
		{"", "****"},
		{"short", "****"},
		{"ключ-ключ-ключ-ключ", "ключ****ключ"},
	} {
		if got := Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%d chars) = %q, want %q", len(tc.in), got, tc.want)
		}
	}
}
