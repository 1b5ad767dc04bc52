package secret

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"STRIPE_SECRET_KEY", true},
		{"_private", true},
		{"a1", true},
		{strings.Repeat("A", 128), true},
		{"", false},
		{"1ABC", false},
		{"WITH-DASH", false},
		{"WITH SPACE", false},
		{"ÜMLAUT", false},
		{strings.Repeat("A", 129), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateName(tc.name)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateName = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func TestValidateSlug(t *testing.T) {
	for _, tc := range []struct {
		slug string
		ok   bool
	}{
		{"my-saas", true},
		{"dev", true},
		{"0", true},
		{strings.Repeat("a", 63), true},
		{strings.Repeat("a", 64), false},
		{"", false},
		{"-dev", false},
		{"Dev", false},
		{"dev_1", false},
		{"dev/prod", false},
	} {
		t.Run(tc.slug, func(t *testing.T) {
			if err := ValidateSlug("environment", tc.slug); (err == nil) != tc.ok {
				t.Fatalf("ValidateSlug = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestValidateFields(t *testing.T) {
	const secretish = "hunter2-do-not-print"
	for _, tc := range []struct {
		desc   string
		typ    Type
		fields map[string]string
		want   string // substring of the error; "" means valid
	}{
		{"string", TypeString, map[string]string{"value": secretish}, ""},
		{"multi-line PEM", TypeString, map[string]string{"value": "-----BEGIN KEY-----\nabc\n-----END KEY-----\n"}, ""},
		{"login without url", TypeLogin, map[string]string{"username": "u", "password": secretish}, ""},
		{"login with url", TypeLogin, map[string]string{"username": "u", "password": secretish, "url": "https://x"}, ""},
		{"git", TypeGit, map[string]string{"host": "github.com", "path": "org", "username": "x", "password": secretish}, ""},
		{"totp base32", TypeTOTP, map[string]string{"seed": "JBSW Y3DP EHPK 3PXP"}, ""},
		{"totp uri", TypeTOTP, map[string]string{"seed": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=8&algorithm=SHA256"}, ""},
		{"unknown type", Type("ssh"), map[string]string{"value": secretish}, `secret type "ssh"`},
		{"missing value", TypeString, map[string]string{}, `field "value" is required`},
		{"empty git host", TypeGit, map[string]string{"username": "u", "password": secretish}, `field "host" is required`},
		{"empty password", TypeLogin, map[string]string{"username": "u", "password": ""}, `field "password" is required`},
		{"unknown field", TypeString, map[string]string{"value": secretish, "extra": "x"}, `unknown field "extra"`},
		{"computed field stored", TypeTOTP, map[string]string{"seed": "JBSWY3DPEHPK3PXP", "code": "123456"}, `unknown field "code"`},
		{"git url is computed", TypeGit, map[string]string{"host": "h", "username": "u", "password": secretish, "url": "x"}, `unknown field "url"`},
		{"too large", TypeString, map[string]string{"value": strings.Repeat("x", MaxFieldSize+1)}, "the limit is 65536"},
		{"not utf-8", TypeString, map[string]string{"value": secretish + "\xff"}, `field "value": not valid UTF-8 text at byte 20; store binary data base64-encoded`},
		{"bad seed", TypeTOTP, map[string]string{"seed": secretish + "!!"}, "neither base32"},
		{"bad uri seed", TypeTOTP, map[string]string{"seed": "otpauth://hotp/x?secret=" + secretish}, "neither base32"},
		{"at the size limit", TypeString, map[string]string{"value": strings.Repeat("x", MaxFieldSize)}, ""},
		{"period of an hour", TypeTOTP, map[string]string{"seed": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=3600"}, ""},
		{"period of a second", TypeTOTP, map[string]string{"seed": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=1"}, ""},
		{"bad reference", TypeString, map[string]string{"value": secretish + "${secret.nope}"}, "malformed reference at byte 20"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			err := ValidateFields(tc.typ, tc.fields)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("ValidateFields: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ValidateFields = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes a value: %v", err)
			}
		})
	}
}

func TestEnvVarNames(t *testing.T) {
	for _, tc := range []struct {
		typ  Type
		want []string
	}{
		{TypeString, []string{"DB"}},
		{TypeLogin, []string{"DB_USERNAME", "DB_PASSWORD", "DB_URL"}},
		{TypeGit, []string{"DB_USERNAME", "DB_PASSWORD", "DB_URL"}},
		{TypeTOTP, []string{"DB_CODE"}},
	} {
		var got []string
		for _, vf := range EnvVars("DB", tc.typ) {
			got = append(got, vf.Var)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("EnvVars(%s) (-want +got):\n%s", tc.typ, diff)
		}
	}
}

// TestValuesAnEnvironmentCannotCarryAreRefused: a NUL byte or invalid UTF-8 in any field
// is refused on write, naming the field and the byte offset and saying how to store
// binary data, never quoting the value.
func TestValuesAnEnvironmentCannotCarryAreRefused(t *testing.T) {
	const secretish = "hunter2-do-not-print"
	for _, tc := range []struct {
		desc   string
		typ    Type
		fields map[string]string
		want   string
	}{
		{"NUL in a value", TypeString, map[string]string{"value": secretish + "\x00tail"}, `field "value": a NUL byte at byte 20`},
		{"NUL first", TypeString, map[string]string{"value": "\x00"}, `field "value": a NUL byte at byte 0`},
		{"NUL in a password", TypeLogin, map[string]string{"username": "u", "password": secretish + "\x00"}, `field "password": a NUL byte at byte 20`},
		{"invalid UTF-8 in a username", TypeLogin, map[string]string{"username": "\xc3(", "password": secretish}, `field "username": not valid UTF-8 text at byte 0`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			err := ValidateFields(tc.typ, tc.fields)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "base64") {
				t.Fatalf("ValidateFields = %v, want an error containing %q and the base64 hint", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "tail") {
				t.Errorf("error quotes a value: %v", err)
			}
		})
	}
	for _, ok := range []string{"", "plain", "ключ 🔑", "line\nline\r\n\ttab"} {
		if err := ValidateValue(ok); err != nil {
			t.Errorf("ValidateValue(%q) = %v", ok, err)
		}
	}
}

// TestOtpauthPeriodOutsideOneSecondToAnHourIsRefused: a period the TOTP library would
// read as its default of 30 seconds (negative, not a number, empty) is refused like one
// out of range, with the rule in the message.
func TestOtpauthPeriodOutsideOneSecondToAnHourIsRefused(t *testing.T) {
	for _, period := range []string{"0", "-30", "3601", "99999999999999999999", "abc", "", "1e3"} {
		t.Run(period, func(t *testing.T) {
			err := ValidateFields(TypeTOTP, map[string]string{"seed": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=" + period})
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "from 1 to 3600") {
				t.Fatalf("period=%s: err = %v, want the 1 to 3600 rule", period, err)
			}
		})
	}
	for _, digits := range []string{"5", "9", "-6", "x"} {
		err := ValidateFields(TypeTOTP, map[string]string{"seed": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=" + digits})
		if err == nil || !strings.Contains(err.Error(), "6, 7 or 8") {
			t.Errorf("digits=%s: err = %v, want the 6, 7 or 8 rule", digits, err)
		}
	}
}

// TestNoteLimit: a note holds at most MaxNoteSize bytes.
func TestNoteLimit(t *testing.T) {
	if err := ValidateNote(strings.Repeat("n", MaxNoteSize)); err != nil {
		t.Fatalf("a note at the limit: %v", err)
	}
	err := ValidateNote(strings.Repeat("n", MaxNoteSize+1))
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "the limit is 4096") {
		t.Fatalf("a note past the limit: %v", err)
	}
	if err := ValidateNote("rotated\x00secret-note"); !errors.Is(err, ErrInvalid) || strings.Contains(err.Error(), "secret-note") {
		t.Fatalf("a note with a NUL byte: %v", err)
	}
}
