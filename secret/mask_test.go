package secret

import "testing"

func TestMask(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// The first 4 and the last 4 characters.
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

func TestATOTPSeedIsMaskedWhole(t *testing.T) {
	if got := MaskField(FieldSeed, "JBSWY3DPEHPK3PXP"); got != "****" {
		t.Errorf("a seed masks to %q", got)
	}
	if got := MaskField(FieldPassword, "sk-proj-abc123xyz789"); got != "sk-p****z789" {
		t.Errorf("a password masks to %q", got)
	}
}
