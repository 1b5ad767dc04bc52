//go:build unix

package bundler

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOutputIsReadableByAWebServer: as Vite writes it under the usual umask 022, the
// output folder and every folder in it are 0755 and every file 0644, so a web server
// running as another user can serve the build.
func TestOutputIsReadableByAWebServer(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := project(t, map[string]string{
		"web/index.html":   "<!doctype html>\n<script type=\"module\" src=\"/src/main.ts\"></script>\n",
		"web/src/main.ts":  "import logo from './logo.svg';\nimport('./lazy').then(m => console.log(m.x, logo));\n",
		"web/src/lazy.ts":  "export const x = 1;\n",
		"web/src/logo.svg": "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
	})
	if _, err := Build(context.Background(), Options{Dir: dir, Entry: "web/index.html", OutDir: "web/dist"}); err != nil {
		t.Fatal(err)
	}
	files := 0
	err := filepath.WalkDir(filepath.Join(dir, "web", "dist"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		want := fs.FileMode(0o644)
		if d.IsDir() {
			want = fs.ModeDir | 0o755
		} else {
			files++
		}
		if info.Mode() != want {
			rel, _ := filepath.Rel(dir, path)
			t.Errorf("%s has mode %v, want %v", rel, info.Mode(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 {
		t.Errorf("the build wrote %d files, want index.html, two chunks, an asset and maps", files)
	}
}
