package bundler

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// ScanOutput is the leak scan of Build, for output another bundler wrote (vite build
// run by kazzle run --component): it reads every regular file in outDir (relative to the
// project folder dir), looks in each for others' values as Build does, removes each file
// that holds one, and returns a *LeakError per such file, in file name order. Files are
// read and removed through the project folder, never following a symlink out of it;
// symlinks in outDir are not followed. outDir is refused as Build refuses it: the
// project folder itself, or a folder outside it.
func ScanOutput(dir, outDir string, inline, others []Secret) ([]*LeakError, error) {
	proj, err := openProject(dir)
	if err != nil {
		return nil, err
	}
	defer proj.Close()
	out, err := proj.resolve(outDir)
	if err != nil {
		return nil, fmt.Errorf("outDir %q must be a folder inside the project: %w", outDir, err)
	}
	m := newMatcher(others)
	if m.empty() {
		return nil, nil
	}
	var leaks []*LeakError
	var names []string
	files := map[string][]byte{}
	err = fs.WalkDir(proj.root.FS(), filepath.ToSlash(out), func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := proj.root.ReadFile(filepath.FromSlash(p))
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(out, filepath.FromSlash(p))
		names = append(names, filepath.ToSlash(rel))
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", outDir, err)
	}
	slices.Sort(names)
	var removeErrs []error
	for _, name := range names {
		s, source, ok := m.findInFile(name, files[name])
		if !ok {
			continue
		}
		leaks = append(leaks, &LeakError{Secret: s.Name, File: name, Source: source, SameAs: inlinedWith(s.Value, inline)})
		if err := proj.root.Remove(filepath.Join(out, filepath.FromSlash(name))); err != nil && !errors.Is(err, os.ErrNotExist) {
			removeErrs = append(removeErrs, err)
		}
	}
	if len(removeErrs) > 0 {
		return leaks, fmt.Errorf("remove the files that hold secret values: %w", errors.Join(removeErrs...))
	}
	return leaks, nil
}
