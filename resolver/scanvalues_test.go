package resolver

import (
	"testing"
	"time"

	"github.com/kazzle/kazzle/secret"

	"github.com/google/go-cmp/cmp"
)

// TestScanValuesHoldEveryStoredField: what a leak scan looks for is every stored field of
// the view (a totp seed, a git secret's host and path, a username) expanded, a seed
// also as the base32 key of its otpauth URI, and every field a reference reads, under
// the referenced secret's name, even outside the view; never a totp code.
func TestScanValuesHoldEveryStoredField(t *testing.T) {
	otp := secret.Secret{ID: id(1), Name: "OTP", Type: secret.TypeTOTP, Fields: secret.FieldsOf(map[string]string{"seed": "JBSWY3DPEHPK3PXP"})}
	uri := secret.Secret{ID: id(2), Name: "OTP_URI", Type: secret.TypeTOTP, Fields: secret.FieldsOf(map[string]string{"seed": "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&period=30"})}
	repo := secret.Secret{ID: id(3), Name: "REPO", Type: secret.TypeGit, Fields: secret.FieldsOf(map[string]string{"host": "git.internal.example", "path": "team/app", "username": "deploy-bot", "password": "ghp_token0123"})}
	hidden := secret.Secret{ID: id(4), Name: "HIDDEN", Type: secret.TypeLogin, Env: "other", Fields: secret.FieldsOf(map[string]string{"username": "hidden-user", "password": "hidden-password"})}
	site := str(5, "VITE_SITE", "https://"+ref(3, "host")+"/u/"+ref(4, "username")+"?c="+ref(1, "code"))
	view := View([]secret.Secret{otp, uri, repo, site}, "dev")
	ex := NewExpander(sourceOf(otp, uri, repo, hidden, site), time.Unix(1111111109, 0))
	got, err := ex.ScanValues(view)
	if err != nil {
		t.Fatal(err)
	}
	type key struct{ name, field, value string }
	var keys []key
	for _, v := range got {
		keys = append(keys, key{v.Name, v.Field, v.Value})
		if v.Field == secret.FieldCode {
			t.Errorf("%s.%s: a totp code is scanned for", v.Name, v.Field)
		}
	}
	want := []key{
		{"OTP", "seed", "JBSWY3DPEHPK3PXP"},
		{"OTP", "seed", "jbswy3dpehpk3pxp"},
		{"OTP", "seed", "JBSW Y3DP EHPK 3PXP"},
		{"OTP", "seed", "jbsw y3dp ehpk 3pxp"},
		{"OTP_URI", "seed", "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQ&period=30"},
		{"OTP_URI", "seed", "GEZDGNBVGY3TQOJQ"},
		{"OTP_URI", "seed", "gezdgnbvgy3tqojq"},
		{"OTP_URI", "seed", "GEZD GNBV GY3T QOJQ"},
		{"OTP_URI", "seed", "gezd gnbv gy3t qojq"},
		{"REPO", "host", "git.internal.example"},
		{"REPO", "password", "ghp_token0123"},
		{"REPO", "path", "team/app"},
		{"REPO", "username", "deploy-bot"},
		{"VITE_SITE", "value", "https://git.internal.example/u/hidden-user?c=" + mustCode(t, otp)},
		{"REPO", "host", "git.internal.example"},
		{"HIDDEN", "username", "hidden-user"},
	}
	if diff := cmp.Diff(want, keys, cmp.AllowUnexported(key{})); diff != "" {
		t.Errorf("scan values (-want +got):\n%s", diff)
	}
}

func mustCode(t *testing.T, s secret.Secret) string {
	t.Helper()
	code, _, err := TOTP(s.Fields.Value("seed"), time.Unix(1111111109, 0))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// A value is also looked for as code holds it: trimmed of what a paste left around it,
// and with CRLF line endings as LF.
func TestScanValuesHoldTrimmedAndLFForms(t *testing.T) {
	padded := str(1, "PADDED", "  sk_live_PADDED4242 \n")
	pem := str(2, "PEM", "-----BEGIN KEY-----\r\nMIIBkey\r\n-----END KEY-----\r\n")
	got, err := NewExpander(sourceOf(padded, pem), time.Now()).ScanValues([]secret.Secret{padded, pem})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"sk_live_PADDED4242": false, "-----BEGIN KEY-----\nMIIBkey\n-----END KEY-----": false, "-----BEGIN KEY-----\nMIIBkey\n-----END KEY-----\n": false}
	for _, v := range got {
		if _, ok := want[v.Value]; ok {
			want[v.Value] = true
		}
	}
	for form, found := range want {
		if !found {
			t.Errorf("no scan value of %d bytes in its trimmed or LF form", len(form))
		}
	}
}
