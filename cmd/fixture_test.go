package cmd

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kazzle/kazzle/internal/pgtest"
	"github.com/kazzle/kazzle/internal/testenv"
)

// npmOnce installs each fixture's npm packages once per test binary.
var npmOnce sync.Map // folder → *sync.Once

// cmdCopyFixture copies fixtures/NAME to DEST, without its node_modules and dist
// folders; each node_modules is linked instead, after `npm ci` if it is missing.
// Scripts check the condition [tools:npm,node] first.
//
//	copyfixture saas $WORK/saas
func cmdCopyFixture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: copyfixture NAME DEST")
	}
	src := filepath.Join(ts.Getenv("FIXTURES"), args[0])
	dest := ts.MkAbs(args[1])
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dest, rel)
		switch {
		case d.IsDir() && d.Name() == "dist":
			return filepath.SkipDir
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case d.IsDir():
			if _, err := os.Stat(filepath.Join(path, "package-lock.json")); err == nil {
				if err := npmCI(ts, path); err != nil {
					return err
				}
				if err := os.MkdirAll(target, 0o755); err != nil {
					return err
				}
				if err := os.Symlink(filepath.Join(path, "node_modules"), filepath.Join(target, "node_modules")); err != nil {
					return err
				}
			}
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	ts.Check(err)
}

func npmCI(ts *testscript.TestScript, dir string) error {
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err == nil {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		ts.Fatalf("npm is not installed: the fixture's packages cannot be installed (scripts check [tools:npm] first)")
	}
	once, _ := npmOnce.LoadOrStore(dir, &sync.Once{})
	var runErr error
	once.(*sync.Once).Do(func() {
		cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			ts.Logf("npm ci in %s:\n%s", dir, out)
			runErr = err
		}
	})
	return runErr
}

// toolsCondition answers [tools:a,b] (those programs are on PATH; always true under CI,
// where a missing one must fail the script) and [postgres] (a cluster to test on).
func toolsCondition(cond string) (bool, error) {
	if cond == "root" {
		// Only root can give a file to another user, to test what kazzle does with it.
		return os.Geteuid() == 0, nil
	}
	if cond == "postgres" {
		// Under CI the PostgreSQL scripts always run, and fail without a cluster.
		return testenv.CI() || os.Getenv(pgtest.EnvVar) != "", nil
	}
	names, ok := strings.CutPrefix(cond, "tools:")
	if !ok {
		return false, fmt.Errorf("unknown condition %q", cond)
	}
	if testenv.CI() {
		return true, nil
	}
	for _, name := range strings.Split(names, ",") {
		if _, err := exec.LookPath(name); err != nil {
			return false, nil
		}
	}
	return true, nil
}
