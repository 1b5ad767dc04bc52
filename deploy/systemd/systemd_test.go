package systemd

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/config/serverconfig"
	"github.com/kazzle/kazzle/internal/testenv"
)

// Where the files are installed, as docs/server.md says.
const (
	installedBinary = "/usr/local/bin/kazzle"
	installedConfig = "/etc/kazzle/kazzle-server.hcl"
	dataFolder      = "/var/lib/kazzle"
)

// serviceSettings reads kazzle.service's [Service] section: each key's values in order.
func serviceSettings(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("kazzle.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	settings := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "["):
			section = line
		case section == "[Service]":
			k, v, _ := strings.Cut(line, "=")
			settings[k] = append(settings[k], v)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return settings
}

// built is the kazzle that buildKazzle builds once for all the tests.
var built struct {
	once      sync.Once
	dir, path string
	err       error
	out       []byte
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildKazzle builds cmd/kazzle, once, and returns the binary's path.
func buildKazzle(t *testing.T) string {
	t.Helper()
	goTool := testenv.LookPath(t, "it builds the kazzle the unit starts", "go")
	built.once.Do(func() {
		if built.dir, built.err = os.MkdirTemp("", "kazzle-systemd-"); built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "kazzle")
		built.out, built.err = exec.Command(goTool, "build", "-o", built.path, "github.com/kazzle/kazzle/cmd/kazzle").CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("go build: %v\n%s", built.err, built.out)
	}
	return built.path
}

// installedUnit writes kazzle.service into a temporary folder as an operator installs
// it, with ExecStart naming bin: systemd-analyze verify refuses a unit whose program
// does not exist.
func installedUnit(t *testing.T, bin string) string {
	t.Helper()
	src, err := os.ReadFile("kazzle.service")
	if err != nil {
		t.Fatal(err)
	}
	from := "ExecStart=" + installedBinary + " "
	if n := strings.Count(string(src), from); n != 1 {
		t.Fatalf("kazzle.service has %d lines %q, want one", n, from)
	}
	unit := filepath.Join(t.TempDir(), "kazzle.service")
	if err := os.WriteFile(unit, []byte(strings.Replace(string(src), from, "ExecStart="+bin+" ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return unit
}

// analyze runs systemd-analyze with args and returns what it printed and its error.
func analyze(t *testing.T, args ...string) (string, error) {
	t.Helper()
	tool := testenv.LookPath(t, "it checks kazzle.service (apt-get install systemd)", "systemd-analyze")
	out, err := exec.Command(tool, args...).CombinedOutput()
	return string(out), err
}

// TestUnitVerifies: systemd-analyze verify accepts kazzle.service without a word. An
// unknown or misspelt setting is only a warning to it, exit status 0, so its output
// must be empty too; the broken copy shows that such a warning is caught.
func TestUnitVerifies(t *testing.T) {
	unit := installedUnit(t, buildKazzle(t))
	if out, err := analyze(t, "verify", "--man=no", unit); err != nil || out != "" {
		t.Fatalf("systemd-analyze verify kazzle.service: %v\n%s", err, out)
	}

	src, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), "kazzle.service")
	if err := os.WriteFile(broken, []byte(strings.Replace(string(src), "UMask=", "UMsk=", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := analyze(t, "verify", "--man=no", broken); !strings.Contains(out, "UMsk") {
		t.Fatalf("systemd-analyze verify said nothing of a misspelt setting: %q", out)
	}
}

// TestUnitSandbox: the unit's sandbox keeps systemd's exposure score at 2.0 or below
// ("OK"; it is 1.5): a change that weakens it fails here. --threshold counts tenths.
func TestUnitSandbox(t *testing.T) {
	unit := installedUnit(t, buildKazzle(t))
	out, err := analyze(t, "security", "--offline=true", "--threshold=20", unit)
	if err != nil {
		t.Fatalf("systemd-analyze security kazzle.service: %v\n%s", err, out)
	}
	s := serviceSettings(t)
	for _, want := range []struct{ key, value string }{
		{"User", "kazzle"},
		{"StateDirectory", "kazzle"},
		{"StateDirectoryMode", "0700"},
		{"UMask", "0077"},
		{"CapabilityBoundingSet", ""},
		{"ReadWritePaths", dataFolder},
	} {
		if got := s[want.key]; len(got) != 1 || got[0] != want.value {
			t.Errorf("kazzle.service: %s=%q, want %q", want.key, got, want.value)
		}
	}
}

// TestSysusersCreatesTheUser: systemd-sysusers reads kazzle.conf and would create the
// kazzle user and group; its home is the unit's data folder.
func TestSysusersCreatesTheUser(t *testing.T) {
	tool := testenv.LookPath(t, "it checks kazzle.conf (apt-get install systemd)", "systemd-sysusers")
	conf, err := filepath.Abs("kazzle.conf")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "--root="+root, "--dry-run", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-sysusers --dry-run kazzle.conf: %v\n%s", err, out)
	}
	for _, want := range []string{"Creating group 'kazzle'", "Creating user 'kazzle'"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("systemd-sysusers said %q, want %q", out, want)
		}
	}
	src, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^u kazzle - "[^"]*" ` + dataFolder + `$`).Match(src) {
		t.Errorf("kazzle.conf does not declare user kazzle with home %s:\n%s", dataFolder, src)
	}
}

// TestExampleConfigMatchesTheUnit: kazzle-server.hcl parses, is the file ExecStart
// names, and keeps the database and root key in the folder the unit lets the service
// write, the only one it may.
func TestExampleConfigMatchesTheUnit(t *testing.T) {
	src, err := os.ReadFile("kazzle-server.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := serverconfig.Parse("kazzle-server.hcl", src)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := serviceSettings(t)["ExecStart"], installedBinary+" server --config "+installedConfig; len(got) != 1 || got[0] != want {
		t.Errorf("kazzle.service: ExecStart=%q, want %q", got, want)
	}
	if cfg.Listener.TLSDisable {
		t.Error("the example serves plain HTTP; it should show TLS")
	}
	if cfg.Storage.Type != "sqlite" || filepath.Dir(cfg.Storage.Path) != dataFolder {
		t.Errorf("storage %q path %q: want sqlite in %s", cfg.Storage.Type, cfg.Storage.Path, dataFolder)
	}
	if cfg.KMS.Type != "local" || filepath.Dir(cfg.KMS.KeyFile) != dataFolder {
		t.Errorf("kms %q key_file %q: want local in %s", cfg.KMS.Type, cfg.KMS.KeyFile, dataFolder)
	}
}

// TestExampleConfigPassesServerCheck: a built kazzle's server check accepts the example
// as installed, its folders moved under a temporary root: TLS pair loaded, no vault and
// no key yet (the first start makes them), audit retention read.
func TestExampleConfigPassesServerCheck(t *testing.T) {
	bin := buildKazzle(t)
	root := t.TempDir()
	etc, data := filepath.Join(root, "etc", "kazzle"), filepath.Join(root, "var", "lib", "kazzle")
	for _, dir := range []string{etc, data} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	writeTLSPair(t, filepath.Join(etc, "tls.crt"), filepath.Join(etc, "tls.key"))
	src, err := os.ReadFile("kazzle-server.hcl")
	if err != nil {
		t.Fatal(err)
	}
	moved := strings.NewReplacer(`"/etc/kazzle/`, `"`+etc+"/", `"`+dataFolder+"/", `"`+data+"/").Replace(string(src))
	config := filepath.Join(etc, "kazzle-server.hcl")
	if err := os.WriteFile(config, []byte(moved), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "server", "check", "--config", config)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kazzle server check: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	for _, want := range []string{
		"ok  listener  tcp 0.0.0.0:8443, TLS with " + filepath.Join(etc, "tls.crt") + "\n",
		"ok  storage   sqlite " + filepath.Join(data, "kazzle.db") + ": no vault yet; the first start creates it\n",
		"ok  kms       local " + filepath.Join(data, "root.key") + ": no key yet; the first start creates it\n",
		"ok  audit     events kept 365d\n",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("kazzle server check printed:\n%s\nwant the line %q", stdout.String(), want)
		}
	}
	entries, err := os.ReadDir(data)
	if err != nil || len(entries) != 0 {
		t.Errorf("server check wrote into the data folder: %v %v", entries, err)
	}
}

// writeTLSPair writes a self-signed certificate and its key (mode 0600, as the server
// requires).
func writeTLSPair(t *testing.T, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "kazzle.example"},
		DNSNames:     []string{"kazzle.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}
