package config

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the want section of each golden config")

// TestGoldenConfigs loads each archive of fixtures/configs: its files are a project
// folder, its comment may set "env: X" and "timeout: D", and its "want" file is the Project as JSON or
// the error's text. -update rewrites the want files.
func TestGoldenConfigs(t *testing.T) {
	paths, err := filepath.Glob("../fixtures/configs/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden configs: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// The memory limit is measured on the process's heap, so a config that meets a
			// limit runs alone: the others' allocations would count against it.
			if !meetsALimit(ar) {
				t.Parallel()
			}
			dir := t.TempDir()
			var want []byte
			wantAt := -1
			for i, f := range ar.Files {
				if f.Name == "want" {
					want, wantAt = f.Data, i
					continue
				}
				target := filepath.Join(dir, filepath.FromSlash(f.Name))
				if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(target, f.Data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if wantAt < 0 && !*update {
				t.Fatal("the archive has no want file (run with -update to write one)")
			}
			var opts Options
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				if env, ok := strings.CutPrefix(line, "env: "); ok {
					opts.Env = strings.TrimSpace(env)
				}
				if limit, ok := strings.CutPrefix(line, "timeout: "); ok {
					if opts.Timeout, err = time.ParseDuration(strings.TrimSpace(limit)); err != nil {
						t.Fatal(err)
					}
				}
			}
			got := render(t, dir, opts)
			if *update {
				if wantAt < 0 {
					ar.Files = append(ar.Files, txtar.File{Name: "want"})
					wantAt = len(ar.Files) - 1
				}
				ar.Files[wantAt].Data = got
				if err := os.WriteFile(path, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !bytes.Equal(got, want) {
				t.Errorf("got:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// render loads the project in dir and prints what a golden file holds.
func render(t *testing.T, dir string, opts Options) []byte {
	p, err := Load(context.Background(), dir, opts)
	if err != nil {
		return []byte("error:\n" + strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "") + "\n")
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// meetsALimit reports whether the archive's want says its config is stopped by a limit
// of time, memory or stack.
func meetsALimit(ar *txtar.Archive) bool {
	for _, f := range ar.Files {
		if f.Name == "want" {
			w := string(f.Data)
			return strings.Contains(w, "memory") || strings.Contains(w, "did not finish") || strings.Contains(w, "stack")
		}
	}
	return false
}
