package bundler

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// projectDir is the project folder a build writes into: every write and removal goes
// through root, opened at the folder's real path, so that no symlink in the project can
// send one outside it, even one that appears while the build runs.
type projectDir struct {
	root *os.Root
	real string // the project folder with every symlink resolved
}

func openProject(dir string) (*projectDir, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("project folder: %w", err)
	}
	root, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("project folder: %w", err)
	}
	return &projectDir{root: root, real: real}, nil
}

func (p *projectDir) Close() error { return p.root.Close() }

// realPath returns name (slash-separated, relative to the project) as an absolute path
// with the symlinks of the part that exists resolved. name need not exist: what follows
// its longest existing part cannot be a symlink yet.
func (p *projectDir) realPath(name string) (string, error) {
	if name == "" || filepath.IsAbs(filepath.FromSlash(name)) || strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%q is not a relative path", name)
	}
	existing, rest := filepath.Join(p.real, filepath.FromSlash(name)), ""
	for {
		if _, err := os.Lstat(existing); err == nil {
			break
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		rest = filepath.Join(filepath.Base(existing), rest)
		existing = filepath.Dir(existing)
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return "", err
	}
	return filepath.Join(real, rest), nil
}

// resolve returns name (slash-separated, relative to the project) as a path relative to
// the project's real folder, with its symlinks resolved, or an error if it is the
// project folder itself or lies outside it.
func (p *projectDir) resolve(name string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(name))
	switch {
	case clean == ".":
		return "", errors.New("it is the project folder itself")
	case clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)):
		return "", errors.New("it is outside the project folder")
	}
	real, err := p.realPath(name)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(p.real, real)
	switch {
	case err != nil || !within(p.real, real):
		return "", errors.New("it resolves outside the project folder through a symlink")
	case rel == ".":
		return "", errors.New("it resolves to the project folder itself through a symlink")
	}
	return rel, nil
}

// within says whether path is folder or inside it; both are absolute, or both relative
// to the same folder.
func within(folder, path string) bool {
	rel, err := filepath.Rel(folder, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// checkOutDir resolves outDir and refuses it, before anything is built or removed, when
// a build could not replace it without harm: the project folder itself, a folder
// outside the project (a symlink on the way counts), or one that holds any of entries
// (the entry and its module), since a build replaces everything in outDir. The project's
// configuration is at its top, which outDir never is.
func (p *projectDir) checkOutDir(outDir string, entries []string) (string, error) {
	out, err := p.resolve(outDir)
	if err != nil {
		return "", fmt.Errorf("outDir %q must be a folder inside the project: %w", outDir, err)
	}
	for _, name := range entries {
		file, err := p.realPath(name)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if within(filepath.Join(p.real, out), file) {
			return "", fmt.Errorf("outDir %s holds the entry %s, and a build replaces everything in outDir: choose an output folder apart from the sources, such as dist", outDir, strings.TrimPrefix(name, "./"))
		}
	}
	return out, nil
}

// replace writes files into a new folder beside out (relative to the real project
// folder) and then swaps it in, so a failed write leaves the previous build whole, as
// Vite empties outDir before writing. The old folder is removed without following any
// symlink in it.
func (p *projectDir) replace(out string, files map[string][]byte) error {
	if err := p.root.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := p.mkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-")
	if err != nil {
		return err
	}
	for name, data := range files {
		target := filepath.Join(tmp, filepath.FromSlash(name))
		if !within(tmp, target) {
			p.root.RemoveAll(tmp)
			return fmt.Errorf("output file %q is outside the output folder", name)
		}
		if err := p.root.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			p.root.RemoveAll(tmp)
			return err
		}
		if err := p.root.WriteFile(target, data, 0o644); err != nil {
			p.root.RemoveAll(tmp)
			return err
		}
	}
	if err := p.root.RemoveAll(out); err != nil {
		p.root.RemoveAll(tmp)
		return err
	}
	return p.root.Rename(tmp, out)
}

// remove deletes out (relative to the real project folder) and everything in it,
// without following any symlink in it.
func (p *projectDir) remove(out string) error { return p.root.RemoveAll(out) }

// mkdirTemp makes a new folder in dir whose name starts with prefix, as os.MkdirTemp
// does, inside the root.
func (p *projectDir) mkdirTemp(dir, prefix string) (string, error) {
	for range 100 {
		var b [8]byte
		rand.Read(b[:])
		name := filepath.Join(dir, prefix+hex.EncodeToString(b[:]))
		err := p.root.Mkdir(name, 0o755)
		if err == nil {
			return name, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", err
		}
	}
	return "", fmt.Errorf("make a temporary folder in %s: too many tries", dir)
}
