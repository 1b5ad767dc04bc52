package cmd

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/bundler"
	"github.com/kazzle/kazzle/config"
)

// runComponent is a component of the project configuration that kazzle run --component
// runs a command for: it gets only the component's declared secrets, and a UI
// component's output is scanned for the others' values once the command exits.
type runComponent struct {
	name    string
	dir     string // the project folder, as config.Project.Dir
	comp    config.Component
	inline  []bundler.Secret // a UI component's declared VITE_ values, as injected
	others  []bundler.Secret // what its output may not hold
	before  outputState
	outPath string // outDir as seen from here
}

// loadComponent reads the component from the project configuration, and sets the
// collection from it when co names none.
func (c *cli) loadComponent(ctx context.Context, co *common, name string) (*runComponent, error) {
	p, err := config.Load(ctx, ".", config.Options{Env: co.env, Stderr: c.stderr})
	if err != nil {
		return nil, err
	}
	comp, ok := p.Components[name]
	if !ok {
		return nil, usagef("%s has no component %q; it has %s", p.File, name, strings.Join(p.ComponentNames(), ", "))
	}
	if co.collection == "" {
		co.collection = p.Collection
	}
	rc := &runComponent{name: name, dir: p.Dir, comp: comp}
	if rc.ui() {
		rc.outPath = filepath.Join(p.Dir, filepath.FromSlash(comp.OutDir))
	}
	return rc, nil
}

func (rc *runComponent) ui() bool { return rc.comp.Kind == config.KindUI }

// declared returns the names the component injects: its declared secrets (a UI
// component's VITE_ ones), narrowed to only when given.
func (rc *runComponent) declared(only []string) ([]string, error) {
	var names []string
	for _, s := range rc.comp.Secrets {
		if !rc.ui() || strings.HasPrefix(s, "VITE_") {
			names = append(names, s)
		}
	}
	if len(only) == 0 {
		return names, nil
	}
	for _, s := range only {
		if !slices.Contains(names, s) {
			return nil, usagef("--only %s: component %s does not declare it (it declares %s)", s, rc.name, orNone(names))
		}
	}
	return only, nil
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// resolve returns the variables the command gets. A UI component's are its declared
// values; the rest of the environment's values are kept for the scan.
func (rc *runComponent) resolve(ctx context.Context, client *api.Client, co common, only []string) ([]api.Var, error) {
	names, err := rc.declared(only)
	if err != nil || len(names) == 0 {
		return nil, err // no names would be the whole environment
	}
	if !rc.ui() {
		vars, err := client.Resolve(ctx, api.ResolveRequest{Collection: co.collection, Environment: co.env, Names: names})
		if err != nil {
			return nil, fmt.Errorf("resolve %s/%s: %w", co.collection, co.env, err)
		}
		return vars, nil
	}
	vars, scan, err := client.ResolveForScan(ctx, api.ResolveRequest{Collection: co.collection, Environment: co.env})
	if err != nil {
		return nil, fmt.Errorf("resolve %s/%s: %w", co.collection, co.env, err)
	}
	var allow []string
	if rc.comp.LeakScan != nil {
		allow = rc.comp.LeakScan.Allow
	}
	if rc.inline, rc.others, err = splitSecrets(rc.name, names, allow, vars, scan, co); err != nil {
		return nil, err
	}
	out := make([]api.Var, 0, len(rc.inline))
	for _, v := range vars {
		if slices.Contains(names, v.Name) {
			out = append(out, v)
		}
	}
	return out, nil
}

// start notes the state of a UI component's output before the command runs.
func (rc *runComponent) start() error {
	var err error
	rc.before, err = readOutputState(rc.outPath)
	return err
}

// finish scans a UI component's output once the command exited with runErr: it must
// have written there, and no file may hold a value other than the component's own.
func (rc *runComponent) finish(runErr error) error {
	after, err := readOutputState(rc.outPath)
	if err != nil {
		return err
	}
	if !after.changedSince(rc.before) {
		if runErr != nil {
			return runErr
		}
		return withHint(fmt.Errorf("the command wrote nothing to %s, component %s's outDir, so its output was not scanned for secret values", rc.outPath, rc.name),
			"set outDir in the project configuration to the folder the command writes its build to (vite's build.outDir)")
	}
	leaks, err := bundler.ScanOutput(rc.dir, rc.comp.OutDir, rc.inline, rc.others)
	if len(leaks) > 0 {
		lines := make([]string, 0, len(leaks))
		for _, l := range leaks {
			line := fmt.Sprintf("%s holds the value of %s", filepath.Join(rc.outPath, filepath.FromSlash(l.File)), l.Secret)
			if l.Source != "" {
				line += fmt.Sprintf(" (in the text of the source %s)", l.Source)
			}
			if l.SameAs != "" {
				line += fmt.Sprintf(" (the injected value of %s holds it)", l.SameAs)
			}
			lines = append(lines, line)
		}
		leakErr := fmt.Errorf("secret values in the output of component %s, which only VITE_ values may reach; the %s removed:\n  %s",
			rc.name, plural(len(leaks), "file was", "files were"), strings.Join(lines, "\n  "))
		if err != nil {
			return fmt.Errorf("%w (%w)", leakErr, err)
		}
		return leakErr
	}
	if err != nil {
		return err
	}
	return runErr
}

// outputState is what a folder's files were: by path, size, modification time and inode.
type outputState map[string]fileState

type fileState struct {
	size  int64
	mtime int64 // nanoseconds
	ino   uint64
}

// readOutputState reads the state of the files under dir; none when dir does not exist.
// Symlinks are not followed.
func readOutputState(dir string) (outputState, error) {
	out := outputState{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		st := fileState{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
		if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
			st.ino = uint64(sys.Ino)
		}
		out[p] = st
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the output folder %s: %w", dir, err)
	}
	return out, nil
}

// changedSince says whether a file was created or changed since before.
func (s outputState) changedSince(before outputState) bool {
	for p, st := range s {
		if b, ok := before[p]; !ok || b != st {
			return true
		}
	}
	return false
}
