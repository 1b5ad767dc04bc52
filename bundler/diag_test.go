package bundler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/kazzle/kazzle/config"
)

// TestBuildReturnsWarningsWithTheirLocation: what esbuild warns about in a component's
// sources comes back as located messages, and the build still succeeds.
func TestBuildReturnsWarningsWithTheirLocation(t *testing.T) {
	dir := project(t, map[string]string{
		"src/main.ts": "export const ok = (x: unknown) => {\n  return typeof x == \"undefinde\";\n};\n",
	})
	res, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Mode: "prod"})
	if err != nil {
		t.Fatal(err)
	}
	want := []config.Message{{File: "src/main.ts", Line: 2, Column: 22, Text: `The "typeof" operator will never evaluate to "undefinde"`}}
	if diff := cmp.Diff(want, res.Warnings, cmp.AllowUnexported(config.Message{})); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist")); err != nil {
		t.Errorf("a build with warnings wrote no output: %v", err)
	}
}

// TestBuildErrorsAreLocated: a source esbuild cannot build gives a *BuildError whose
// messages say where, and the warnings of the same build are still returned.
func TestBuildErrorsAreLocated(t *testing.T) {
	dir := project(t, map[string]string{
		"src/main.ts": "import { missing } from \"./lib\";\nif (typeof missing == \"undefinde\") {}\nexport const x = missing;\n",
		"src/lib.ts":  "export const present = 1;\n",
	})
	res, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Mode: "prod"})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a *BuildError", err)
	}
	want := []config.Message{{File: "src/main.ts", Line: 1, Column: 10, Text: `No matching export in "src/lib.ts" for import "missing"`}}
	if diff := cmp.Diff(want, be.Messages, cmp.AllowUnexported(config.Message{})); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if got, want := err.Error(), "build src/main.ts:\nsrc/main.ts:1:10: "+want[0].Text; got != want {
		t.Errorf("error text = %q, want %q", got, want)
	}
	if len(res.Warnings) != 1 || res.Warnings[0].Line != 2 {
		t.Errorf("warnings of the failed build = %+v, want the typeof one on line 2", res.Warnings)
	}
}
