package cmd

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
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

// TestEveryCommandIsDocumented keeps each command's help whole: a synopsis, a description
// and examples, so a new command cannot land with a bare flag list.
func TestEveryCommandIsDocumented(t *testing.T) {
	c := &cli{stdin: bytes.NewReader(nil), stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }, environ: func() []string { return nil }}
	seen := 0
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			if sub.Hidden || !sub.IsAvailableCommand() && sub.Name() != "help" {
				continue
			}
			seen++
			if sub.Short == "" || sub.Example == "" || sub.Use == "" {
				t.Errorf("%s: a synopsis (Use), a description (Short) and examples are all needed", sub.CommandPath())
			}
			walk(sub)
		}
	}
	walk(c.newRoot(nil))
	if seen < 40 {
		t.Fatalf("walked %d commands: the tree is not the whole one", seen)
	}
}
