package serverconfig

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestServerConfigImportsNothingOfKazzles: reading the operator's file must not pull in
// the project configuration's evaluator (esbuild, goja) or the server it configures.
func TestServerConfigImportsNothingOfKazzles(t *testing.T) {
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
			if path, _ := strconv.Unquote(imp.Path.Value); strings.HasPrefix(path, "github.com/kazzle/kazzle/") {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}
