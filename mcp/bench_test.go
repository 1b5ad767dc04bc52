package mcp

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// The time run_command adds to a curl call beside running the same curl directly:
// the templates call, the call's proxy (a CA, its bundle, a listener) and, for a bound
// value, the proxy's TLS on both sides.

func BenchmarkRunCommandCurl(b *testing.B) {
	if _, err := exec.LookPath("curl"); err != nil {
		b.Skip("needs curl")
	}
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	var got atomic.Value
	up := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.Header.Get("Authorization"))
	}))
	b.Cleanup(up.Close)
	roots := filepath.Join(b.TempDir(), "roots.pem")
	if err := os.WriteFile(roots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: up.Certificate().Raw}), 0o600); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(up.URL)
	environ := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + b.TempDir(), "SSL_CERT_FILE=" + roots}
	curl := func(auth string) []string {
		return []string{"curl", "-sS", "--fail", "-o", "/dev/null", "-H", "Authorization: " + auth, up.URL + "/"}
	}

	b.Run("direct", func(b *testing.B) {
		argv := append(curl("Bearer "+value), "--cacert", roots)
		for b.Loop() {
			if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
				b.Fatalf("%v: %s", err, out)
			}
		}
	})
	for _, bc := range []struct {
		name  string
		hosts []string
	}{
		{"run_command_unbound", nil},
		{"run_command_bound", []string{u.Host}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tl := newTools(Options{Client: boundVault(b, ref, value, bc.hosts), Environ: environ})
			in := runCommandInput{Argv: curl("Bearer " + ref)}
			for b.Loop() {
				_, out, err := tl.runCommand(context.Background(), nil, in)
				if err != nil || out.ExitCode != 0 {
					b.Fatalf("%v: %+v", err, out)
				}
			}
			if got.Load() != "Bearer "+value {
				b.Fatal("the upstream did not get the value")
			}
		})
	}
}
