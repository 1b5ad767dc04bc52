// Package testenv holds the one rule for tests that need something the machine may
// lack (PostgreSQL, Chromium, npm, node, the go command): on a developer's machine such
// a test skips, saying what to install; under CI=true, where .ci/run installs all of it,
// it fails instead, so that no such test is ever skipped in CI without anyone noticing.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// CI reports whether the tests run under CI (CI=true), where a missing tool is a failure.
func CI() bool { return os.Getenv("CI") == "true" }

// Missing ends the test because what is not there: it fails under CI and skips
// elsewhere. why says what the test needed it for, or how to get it.
func Missing(t testing.TB, what, why string) {
	t.Helper()
	if CI() {
		t.Fatalf("no %s under CI=true, where every test must run: %s", what, why)
		return
	}
	t.Skipf("no %s here: %s", what, why)
}

// LookPath returns the path of the first of the programs named that is on PATH, or
// ends the test as Missing does when none is.
func LookPath(t testing.TB, why string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	Missing(t, names[0], why)
	return ""
}
