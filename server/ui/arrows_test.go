package ui

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestUIDoesNotImportServer: package server mounts the UI, so the UI must never import
// server (nor cmd or mcp, which no package but cmd imports); it reaches the API through
// the API interface alone.
func TestUIDoesNotImportServer(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			switch path {
			case "github.com/kazzle/kazzle/server", "github.com/kazzle/kazzle/cmd", "github.com/kazzle/kazzle/mcp":
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
