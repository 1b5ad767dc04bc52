package cmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestCLIDoc fails when docs/cli.md is not what the command tree says.
func TestCLIDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "cli.md")
	want := cliDoc()
	if *updateGolden {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: generate it with go test ./cmd -run TestCLIDoc -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/cli.md is stale: regenerate it with go test ./cmd -run TestCLIDoc -update")
	}
}

// BenchmarkCommandTree is what building the tree adds to every invocation, kazzle run's
// included.
func BenchmarkCommandTree(b *testing.B) {
	c := &cli{stdin: bytes.NewReader(nil), stdout: io.Discard, stderr: io.Discard, getenv: os.Getenv, environ: os.Environ}
	for _, args := range [][]string{nil, {"run"}} {
		b.Run(fmt.Sprintf("args=%v", args), func(b *testing.B) {
			for b.Loop() {
				c.newRoot(args)
			}
		})
	}
}
