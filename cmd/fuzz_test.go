package cmd

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kazzle/kazzle/api"
)

// FuzzExportQuoting: whatever a value holds (valid UTF-8 without NUL, as an environment
// variable can), sh reads the line of the shell format back as exactly that value.
func FuzzExportQuoting(f *testing.F) {
	for _, v := range []string{"plain", "it's", `say "hi"`, "$HOME ${x} $(id) `id`", "a\nb\n", `back\slash \n`, "#not a comment", "  spaces  ", "ключ 🔑", `it's "all" $of \them` + "\n", "'", "''", `'\''`, "\r\n"} {
		f.Add(v)
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		f.Skip("no sh")
	}
	f.Fuzz(func(t *testing.T, value string) {
		if !utf8.ValidString(value) || strings.ContainsRune(value, 0) {
			return
		}
		var file bytes.Buffer
		if err := writeExport(&file, "shell", []api.Var{{Name: "V", Value: value}}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sh, "-c", `set -a; eval "$KAZZLE_EXPORT"; printf '%s' "$V"`)
		cmd.Env = []string{"KAZZLE_EXPORT=" + file.String()}
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sh could not read the export: %v", err)
		}
		if string(out) != value {
			t.Fatalf("sh read back %q, want %q (line %q)", out, value, file.String())
		}
	})
}

// FuzzGitCredentialInput: git's key=value input never panics the parser, and the
// attributes of a well-formed request come back exactly.
func FuzzGitCredentialInput(f *testing.F) {
	f.Add("protocol", "https", "host", "github.com", "path", "acme/app.git")
	f.Add("host", "gitlab.example.com:8443", "username", "x", "password", "p=a=ss")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		raw := k1 + "=" + v1 + "\n" + k2 + "=" + v2 + "\n" + k3 + "=" + v3 + "\n\n"
		attrs, err := readCredentialAttrs(strings.NewReader(raw))
		wellFormed := true
		for _, s := range []string{k1, v1, k2, v2, k3, v3} {
			wellFormed = wellFormed && !strings.ContainsAny(s, "\n\r")
		}
		for _, k := range []string{k1, k2, k3} {
			wellFormed = wellFormed && k != "" && !strings.Contains(k, "=")
		}
		if !wellFormed || k1 == k2 || k2 == k3 || k1 == k3 {
			return // only that nothing panicked
		}
		if err != nil {
			t.Fatalf("well-formed input refused: %v", err)
		}
		if attrs[k1] != v1 || attrs[k2] != v2 || attrs[k3] != v3 || len(attrs) != 3 {
			t.Fatalf("attrs %q from %q", attrs, raw)
		}
	})
}
