package cmd

import (
	"bytes"
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
