package proxy

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cost the proxy adds to one curl call to a bound host, beside the same call made
// directly: a CONNECT, a TLS handshake with a certificate from the cache, and a second
// TLS connection upstream.

func BenchmarkCurlDirect(b *testing.B) {
	f := newFixture(b, Options{})
	caFile := filepath.Join(b.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, f.ca.pem, 0o600); err != nil {
		b.Fatal(err)
	}
	env := clientEnv(f.p)[:0:0]
	for _, kv := range clientEnv(f.p) {
		if !isProxyEnv(kv) {
			env = append(env, kv)
		}
	}
	args := []string{"-sS", "--fail", "-o", "/dev/null", "--cacert", caFile,
		"--resolve", fmt.Sprintf("api.test:%d:127.0.0.1", f.api.port),
		"-H", "Authorization: Bearer " + valueA, f.api.url("/")}
	for b.Loop() {
		if out, err := run(b, env, "curl", args...); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

func BenchmarkCurlThroughProxy(b *testing.B) {
	f := newFixture(b, Options{})
	env := clientEnv(f.p)
	args := []string{"-sS", "--fail", "-o", "/dev/null", "-H", "Authorization: Bearer " + f.secretA.Placeholder, f.api.url("/")}
	for b.Loop() {
		if out, err := run(b, env, "curl", args...); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

func isProxyEnv(kv string) bool {
	k, _, _ := strings.Cut(kv, "=")
	switch strings.ToUpper(k) {
	case "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "SSL_CERT_FILE", "CURL_CA_BUNDLE":
		return true
	}
	return false
}
