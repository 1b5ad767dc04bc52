package bundler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// outside makes a folder outside the project with a file in it, and returns the folder
// and a check that both are still there, unchanged.
func outside(t *testing.T) (string, func()) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "important")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(file, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, func() {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil || string(b) != "precious" {
			t.Errorf("the folder outside the project was touched: %v", err)
		}
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 1 {
			t.Errorf("the folder outside the project now holds %d entries (%v), want only keep.txt", len(entries), err)
		}
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestBuildNeverRemovesOutsideTheProject: an outDir that reaches outside the project
// through a symlink, or is the project folder itself through one, is refused before
// anything is built, and the folder it points at keeps its files.
func TestBuildNeverRemovesOutsideTheProject(t *testing.T) {
	for _, tc := range []struct{ name, link, outDir, want string }{
		{"below a symlink", "out", "out/important", "resolves outside the project folder"},
		{"the symlink itself", "out", "out", "resolves outside the project folder"},
		{"a symlink to the project", "self", "self", "resolves to the project folder itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := project(t, map[string]string{"src/main.ts": "console.log(1);\n"})
			far, intact := outside(t)
			target := filepath.Dir(far)
			if tc.link == "self" {
				target = "."
			}
			symlink(t, target, filepath.Join(dir, tc.link))
			_, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: tc.outDir})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "outDir") {
				t.Fatalf("err = %v, want a refusal of outDir that %s", err, tc.want)
			}
			intact()
			if _, err := os.Stat(filepath.Join(dir, "src", "main.ts")); err != nil {
				t.Errorf("a refused build touched the sources: %v", err)
			}
		})
	}
}

// TestOutDirThroughASymlinkMustNotHoldTheEntry: an outDir that holds the entry once its
// symlinks are resolved is refused, as the entry's own folder is.
func TestOutDirThroughASymlinkMustNotHoldTheEntry(t *testing.T) {
	dir := project(t, map[string]string{"web/index.html": `<script type="module" src="/src/main.ts"></script>`, "web/src/main.ts": "console.log(1);\n"})
	symlink(t, "web", filepath.Join(dir, "out"))
	_, err := Build(context.Background(), Options{Dir: dir, Entry: "web/index.html", OutDir: "out"})
	if err == nil || !strings.Contains(err.Error(), "holds the entry") {
		t.Fatalf("err = %v, want a refusal of an outDir holding the entry", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "web", "src", "main.ts")); err != nil {
		t.Errorf("a refused build touched the sources: %v", err)
	}
}

// TestSymlinkInOutDirIsRemovedNotFollowed: a symlink inside the previous output is
// removed with it, by a build and by a build that fails the leak scan, and what it
// pointed at outside the project stays.
func TestSymlinkInOutDirIsRemovedNotFollowed(t *testing.T) {
	for _, leak := range []bool{false, true} {
		name := "build"
		if leak {
			name = "leak"
		}
		t.Run(name, func(t *testing.T) {
			source := "console.log(1);\n"
			if leak {
				source = `console.log("` + serverSide.Value + `");` + "\n"
			}
			dir := project(t, map[string]string{"src/main.ts": source, "dist/old.js": "a previous build"})
			far, intact := outside(t)
			symlink(t, far, filepath.Join(dir, "dist", "link"))
			_, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Others: []Secret{serverSide}})
			var le *LeakError
			if leak != errors.As(err, &le) || (!leak && err != nil) {
				t.Fatalf("err = %v, want a leak: %v", err, leak)
			}
			intact()
			if _, err := os.Lstat(filepath.Join(dir, "dist", "link")); !os.IsNotExist(err) {
				t.Errorf("the symlink in the output folder is still there: %v", err)
			}
		})
	}
}

// TestOutDirThroughASymlinkInsideTheProject: a symlink that stays in the project is
// followed, and the build lands where it points.
func TestOutDirThroughASymlinkInsideTheProject(t *testing.T) {
	dir := project(t, map[string]string{"src/main.ts": "console.log(1);\n", "build/.keep": ""})
	symlink(t, "build", filepath.Join(dir, "out"))
	if _, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "out/web"}); err != nil {
		t.Fatal(err)
	}
	matches, err := filepath.Glob(filepath.Join(dir, "build", "web", "assets", "main-*.js"))
	if err != nil {
		t.Fatal(err)
	}
	if len(matches) != 1 {
		t.Errorf("want the bundle in build/web/assets, found %v", matches)
	}
}
