package resolver

import (
	"encoding/base32"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kazzle/kazzle/secret"
)

// RFC 6238 appendix B: 8-digit codes with the ASCII seeds below.
func TestTOTPRFC6238Vectors(t *testing.T) {
	seeds := map[string]string{
		"SHA1":   "12345678901234567890",
		"SHA256": "12345678901234567890123456789012",
		"SHA512": "1234567890123456789012345678901234567890123456789012345678901234",
	}
	vectors := []struct {
		unix int64
		want map[string]string
	}{
		{59, map[string]string{"SHA1": "94287082", "SHA256": "46119246", "SHA512": "90693936"}},
		{1111111109, map[string]string{"SHA1": "07081804", "SHA256": "68084774", "SHA512": "25091201"}},
		{1111111111, map[string]string{"SHA1": "14050471", "SHA256": "67062674", "SHA512": "99943326"}},
		{1234567890, map[string]string{"SHA1": "89005924", "SHA256": "91819424", "SHA512": "93441116"}},
		{2000000000, map[string]string{"SHA1": "69279037", "SHA256": "90698825", "SHA512": "38618901"}},
		{20000000000, map[string]string{"SHA1": "65353130", "SHA256": "77737706", "SHA512": "47863826"}},
	}
	for _, v := range vectors {
		for algo, want := range v.want {
			t.Run(fmt.Sprintf("%s/%d", algo, v.unix), func(t *testing.T) {
				b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(seeds[algo]))
				uri := fmt.Sprintf("otpauth://totp/kazzle:test?secret=%s&digits=8&period=30&algorithm=%s", b32, algo)
				code, validFor, err := TOTP(uri, time.Unix(v.unix, 0))
				if err != nil {
					t.Fatal(err)
				}
				if code != want {
					t.Errorf("code = %s, want %s", code, want)
				}
				if wantValid := time.Duration(30-v.unix%30) * time.Second; validFor != wantValid {
					t.Errorf("valid for %v, want %v", validFor, wantValid)
				}
			})
		}
	}
}

func TestTOTPBase32SeedForms(t *testing.T) {
	at := time.Unix(1111111109, 0)
	ref, _, err := TOTP("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", at)
	if err != nil {
		t.Fatal(err)
	}
	if ref != "081804" {
		t.Fatalf("6-digit SHA1 code = %s, want 081804 (RFC 6238's 07081804, last 6 digits)", ref)
	}
	for _, seed := range []string{"gezdgnbvgy3tqojqgezdgnbvgy3tqojq", "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", " GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ==== "} {
		got, _, err := TOTP(seed, at)
		if err != nil || got != ref {
			t.Errorf("TOTP(variant of the seed) = %q, %v; want %s", got, err, ref)
		}
	}
}

// A seed is accepted at write time only if it gives a code: a base32 text whose last
// character does not fill a byte (9 characters, say) is refused, not stored and then
// found to give no code at every resolve.
func TestTOTPSeedsThatGiveNoCodeAreRefused(t *testing.T) {
	for _, seed := range []string{"222 222222", "JBSWY3DPE", "JBSWY3DPEHP", "A"} {
		if err := secret.ValidateFields(secret.TypeTOTP, map[string]string{secret.FieldSeed: seed}); err == nil {
			t.Errorf("a seed of %d base32 characters was accepted", len(strings.ReplaceAll(seed, " ", "")))
		}
	}
	for _, seed := range []string{"JBSWY3DP", "JBSWY3DPEH", "JBSWY3DPEHPK", "JBSWY3DPEHPK3", "JBSWY3DPEHPK3PX"} {
		if err := secret.ValidateFields(secret.TypeTOTP, map[string]string{secret.FieldSeed: seed}); err != nil {
			t.Errorf("a seed of %d characters: %v", len(seed), err)
		}
		if _, _, err := TOTP(seed, time.Unix(1_700_000_000, 0)); err != nil {
			t.Errorf("TOTP(seed of %d characters) = %v", len(seed), err)
		}
	}
}
