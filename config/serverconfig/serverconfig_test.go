package serverconfig

import (
	"strings"
	"testing"
	"time"
)

const full = `
listener "tcp" {
  address       = "0.0.0.0:8443"
  tls_cert_file = "/etc/kazzle/tls.crt"
  tls_key_file  = "/etc/kazzle/tls.key"
}
storage "sqlite" { path = "/var/lib/kazzle/kazzle.db" }
kms "local" { key_file = "/var/lib/kazzle/root.key" }
audit { retention = "365d" }
`

func TestParseServer(t *testing.T) {
	s, err := Parse("kazzle-server.hcl", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	if s.Listener.Address != "0.0.0.0:8443" || s.Storage.Path != "/var/lib/kazzle/kazzle.db" || s.KMS.KeyFile != "/var/lib/kazzle/root.key" {
		t.Fatalf("decoded %+v", s)
	}
	if d, err := s.Audit.RetentionDuration(); err != nil || d != 365*24*time.Hour {
		t.Fatalf("retention %v, %v", d, err)
	}
}

func TestParseServerErrors(t *testing.T) {
	for _, tc := range []struct{ desc, src, want string }{
		{"syntax", `listener "tcp" {`, "kazzle-server.hcl:1,"},
		{"unknown attribute", strings.Replace(full, "address", "adress", 1), `Unsupported argument; An argument named "adress"`},
		{"tls off on a public address", strings.Replace(full, `tls_cert_file = "/etc/kazzle/tls.crt"`, "tls_disable = true", 1), "allowed only on a loopback address"},
		{"no certificate", strings.Replace(full, `tls_cert_file = "/etc/kazzle/tls.crt"`, "", 1), "set tls_cert_file and tls_key_file"},
		{"unknown storage", strings.Replace(full, `storage "sqlite"`, `storage "mysql"`, 1), `storage "mysql"`},
		{"unknown kms", strings.Replace(full, `kms "local"`, `kms "vault"`, 1), `kms "vault"`},
		{"bad retention", strings.Replace(full, "365d", "forever", 1), `audit retention "forever"`},
		{"wrong type", strings.Replace(full, `tls_key_file  = "/etc/kazzle/tls.key"`, `tls_key_file = ["a"]`, 1), "tls_key_file must be a string"},
		{"duplicate block", full + `kms "local" { key_file = "x" }`, "Duplicate kms block"},
		{"missing block", strings.Replace(full, `storage "sqlite" { path = "/var/lib/kazzle/kazzle.db" }`, "", 1), "Missing storage block"},
		{"postgres without a URL", strings.Replace(full, `storage "sqlite" { path = "/var/lib/kazzle/kazzle.db" }`, `storage "postgres" {}`, 1), `storage "postgres": set url`},
		{"postgres with both", strings.Replace(full, `storage "sqlite" { path = "/var/lib/kazzle/kazzle.db" }`, `storage "postgres" {
  url     = "postgres://db/kazzle"
  url_env = "KAZZLE_DB"
}`, 1), "not both"},
		{"postgres with a path", strings.Replace(full, `storage "sqlite" { path = "/var/lib/kazzle/kazzle.db" }`, `storage "postgres" {
  url  = "postgres://db/kazzle"
  path = "/x"
}`, 1), `path is for storage "sqlite"`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := Parse("kazzle-server.hcl", []byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	for _, storage := range []string{`storage "postgres" { url = "postgres://kazzle@db:5432/kazzle" }`, `storage "postgres" { url_env = "KAZZLE_DATABASE_URL" }`} {
		s, err := Parse("x.hcl", []byte(strings.Replace(full, `storage "sqlite" { path = "/var/lib/kazzle/kazzle.db" }`, storage, 1)))
		if err != nil || s.Storage.Type != "postgres" || s.Storage.URL+s.Storage.URLEnv == "" {
			t.Fatalf("%s: %+v, %v", storage, s.Storage, err)
		}
	}
	ok := strings.Replace(strings.Replace(full, `tls_cert_file = "/etc/kazzle/tls.crt"`, "tls_disable = true", 1), "0.0.0.0", "127.0.0.1", 1)
	if _, err := Parse("x.hcl", []byte(ok)); err != nil {
		t.Fatalf("tls_disable on loopback: %v", err)
	}
}

// TestPlainHTTPBehindATLSProxy: tls_disable off loopback needs behind_tls_proxy, and even
// then only on a private or all-interfaces IP address, never a public one or a name.
func TestPlainHTTPBehindATLSProxy(t *testing.T) {
	listener := func(addr string, behind bool) string {
		l := `listener "tcp" {
  address     = "` + addr + `"
  tls_disable = true
`
		if behind {
			l += "  behind_tls_proxy = true\n"
		}
		return l + "}\n" + `storage "sqlite" { path = "/var/lib/kazzle/kazzle.db" }
kms "local" { key_file = "/var/lib/kazzle/root.key" }
`
	}
	for _, tc := range []struct {
		addr   string
		behind bool
		want   string // "" when allowed
	}{
		{"127.0.0.1:8200", false, ""},
		{"127.0.0.1:8200", true, ""},
		{"10.0.3.7:8200", true, ""},
		{"192.168.1.2:8200", true, ""},
		{"[fd00::7]:8200", true, ""},
		{"0.0.0.0:8200", true, ""},
		{":8200", true, ""},
		{"10.0.3.7:8200", false, "allowed only on a loopback address"},
		{"0.0.0.0:8200", false, "allowed only on a loopback address"},
		{"203.0.113.9:8200", true, "not a public"},
		{"[2001:db8::1]:8200", true, "not a public"},
		{"kazzle.internal:8200", true, "not a public"},
	} {
		s, err := Parse("kazzle-server.hcl", []byte(listener(tc.addr, tc.behind)))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s, behind_tls_proxy %v: %v", tc.addr, tc.behind, err)
		case tc.want == "" && s.Listener.BehindTLSProxy != tc.behind:
			t.Errorf("%s: behind_tls_proxy decoded as %v", tc.addr, s.Listener.BehindTLSProxy)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s, behind_tls_proxy %v: err = %v, want it to contain %q", tc.addr, tc.behind, err, tc.want)
		}
	}
}
