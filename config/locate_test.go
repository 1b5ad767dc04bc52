package config

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

const tsConfig = "export default { collection: \"shop\", components: { api: { kind: \"process\", secrets: [\"DB\"] } } };\n"

// ownedBy is a FileInfo as stat gives it, with its owner replaced.
type ownedBy struct {
	fs.FileInfo
	st syscall.Stat_t
}

func (o ownedBy) Sys() any { return &o.st }

// fakeOwners is a locator whose stat says that the paths in others belong to user 4242.
func fakeOwners(home string, others ...string) locator {
	l := systemLocator()
	l.home = home
	l.stat = func(p string) (fs.FileInfo, error) {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		st := *fi.Sys().(*syscall.Stat_t)
		st.Uid = uint32(l.uid)
		if slices.Contains(others, p) {
			st.Uid = 4242
		}
		return ownedBy{fi, st}, nil
	}
	return l
}

func mkdirs(t *testing.T, root string, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocateWalksUpAndStops(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "home/proj/a/b", "home/repo/.git", "home/repo/sub", "other/proj/sub")
	writeFiles(t, root, map[string]string{
		"kazzle.config.ts":           tsConfig, // above the home folder
		"home/proj/kazzle.config.ts": tsConfig,
		"other/kazzle.config.ts":     tsConfig, // in a folder of another user
	})
	home := filepath.Join(root, "home")
	l := fakeOwners(home, filepath.Join(root, "other"))
	at := func(rel string) string { return filepath.Join(root, rel) }

	// From a subfolder: the nearest parent's, named from where the search began.
	dir, file, err := l.locate(at("home/proj/a/b"))
	if err != nil || file != "kazzle.config.ts" || dir != at("home/proj") {
		t.Errorf("from a/b: %s %s %v", dir, file, err)
	}
	// .git is the top of the project: the config above it is another project's.
	if _, _, err := l.locate(at("home/repo/sub")); !errors.Is(err, ErrNoConfig) || !strings.Contains(err.Error(), "top of its git repository") {
		t.Errorf("under .git: %v", err)
	}
	// The home folder is searched, the folders above it are not.
	if _, _, err := l.locate(home); !errors.Is(err, ErrNoConfig) {
		t.Errorf("from home: %v", err)
	}
	if _, _, err := l.locate(at("home/repo/.git")); !errors.Is(err, ErrNoConfig) {
		t.Errorf("from .git itself: found one above the repository")
	}
	// A folder of another user ends the search before it is searched.
	if _, _, err := l.locate(at("other/proj/sub")); !errors.Is(err, ErrNoConfig) || !strings.Contains(err.Error(), "belongs to another user") {
		t.Errorf("below another user's folder: %v", err)
	}
}

func TestLocateRefusesAConfigOfAnotherUser(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"kazzle.config.ts": tsConfig})
	l := fakeOwners(root, filepath.Join(root, "kazzle.config.ts"))
	_, _, err := l.locate(root)
	if !errors.Is(err, ErrUntrustedConfig) || !strings.Contains(err.Error(), "belongs to user id 4242") || !strings.Contains(err.Error(), "put a copy of your own in its place") {
		t.Fatalf("err = %v", err)
	}
}

func TestLoadRefusesAConfigOthersMayWrite(t *testing.T) {
	for _, mode := range []os.FileMode{0o664, 0o646} {
		root := t.TempDir()
		writeFiles(t, root, map[string]string{"kazzle.config.ts": tsConfig})
		path := filepath.Join(root, "kazzle.config.ts")
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := Load(context.Background(), root, Options{})
		if !errors.Is(err, ErrUntrustedConfig) || !strings.Contains(err.Error(), "chmod go-w "+path) {
			t.Errorf("mode %o: err = %v", mode, err)
		}
	}
}

// TestLoadFromASubfolder: paths in messages and the project's Dir are named from where
// the command runs, so that entry and outDir resolve against the config's folder.
func TestLoadFromASubfolder(t *testing.T) {
	root := t.TempDir()
	mkdirs(t, root, "src/deep", ".git")
	writeFiles(t, root, map[string]string{"kazzle.config.ts": tsConfig})
	p, err := Load(context.Background(), filepath.Join(root, "src", "deep"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(root, "src", "deep", "..", ".."); p.Dir != filepath.Clean(want) || p.File != filepath.Join(p.Dir, "kazzle.config.ts") {
		t.Errorf("Dir %s, File %s", p.Dir, p.File)
	}
	writeFiles(t, root, map[string]string{"kazzle.config.ts": "export default { components: { api: { kind: \"proces\" } } };\n"})
	_, err = Load(context.Background(), filepath.Join(root, "src"), Options{})
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "kazzle.config.ts")) {
		t.Errorf("err = %v, want the file named from the subfolder", err)
	}
}
