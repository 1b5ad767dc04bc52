package testenv

import (
	"testing"
)

// fakeT records how a test ended, without ending the real one.
type fakeT struct {
	testing.TB
	failed, skipped bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Fatalf(string, ...any) { f.failed = true }
func (f *fakeT) Skipf(string, ...any)  { f.skipped = true }

// TestMissingSkipsLocallyAndFailsUnderCI: the same missing tool skips a test on a
// developer's machine and fails it under CI=true.
func TestMissingSkipsLocallyAndFailsUnderCI(t *testing.T) {
	for _, tc := range []struct {
		ci                 string
		wantFail, wantSkip bool
	}{
		{ci: "", wantSkip: true},
		{ci: "false", wantSkip: true},
		{ci: "true", wantFail: true},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			f := &fakeT{}
			if got := LookPath(f, "it is only looked for", "kazzle-no-such-program-here"); got != "" {
				t.Errorf("LookPath = %q, want nothing", got)
			}
			if f.failed != tc.wantFail || f.skipped != tc.wantSkip {
				t.Errorf("failed=%v skipped=%v, want failed=%v skipped=%v", f.failed, f.skipped, tc.wantFail, tc.wantSkip)
			}
		})
	}
}

// TestLookPathFindsTheFirstProgramThere: a program on PATH is returned, whatever CI says.
func TestLookPathFindsTheFirstProgramThere(t *testing.T) {
	t.Setenv("CI", "true")
	if got := LookPath(t, "every machine has sh", "kazzle-no-such-program-here", "sh"); got == "" {
		t.Error("LookPath found no sh")
	}
}
