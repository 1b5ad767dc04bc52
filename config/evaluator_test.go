package config

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// loadDirEnv makes the test binary load one project's config, with the time limit in
// loadTimeoutEnv, and print the outcome, so that a config evaluate must give up on runs
// in a process of its own (whose end ends it).
const (
	loadDirEnv     = "KAZZLE_TEST_LOAD_DIR"
	loadTimeoutEnv = "KAZZLE_TEST_LOAD_TIMEOUT"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(loadDirEnv); dir != "" {
		timeout, err := time.ParseDuration(os.Getenv(loadTimeoutEnv))
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		_, err = Load(context.Background(), dir, Options{Timeout: timeout})
		fmt.Println(err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRunawayBuiltinsAreGivenUpOn: a single built-in call that runs on without returning
// cannot be interrupted; Load gives up on it and reports the limit it passed.
func TestRunawayBuiltinsAreGivenUpOn(t *testing.T) {
	for _, tc := range []struct{ name, script, timeout, want string }{
		// A join that would build a 16 GiB string; the time limit is far off.
		{"memory", "new Array(2 ** 28).join(\"x\".repeat(64));", "5m", "kazzle.config.ts: the config used more than its 512 MiB of memory and was stopped"},
		{"time", "new Array(2 ** 32 - 1).indexOf(1);", "1s", "kazzle.config.ts: the config did not finish within 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "kazzle.config.ts"), []byte(tc.script+"\nexport default { components: {} };\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			// Far longer than it takes; only a hang reaches it.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), loadDirEnv+"="+dir, loadTimeoutEnv+"="+tc.timeout)
			out, err := cmd.CombinedOutput()
			if ctx.Err() != nil {
				t.Fatalf("Load never gave up on the config:\n%s", out)
			}
			if err != nil || !strings.Contains(string(out), tc.want) {
				t.Fatalf("Load = %s (%v), want %q", out, err, tc.want)
			}
		})
	}
}

// TestConsoleOutputIsCapped: a config that logs in a loop prints its first 64 KiB and
// no more.
func TestConsoleOutputIsCapped(t *testing.T) {
	dir := t.TempDir()
	script := "for (let i = 0; i < 100000; i++) console.log(\"line \" + i);\nexport default { components: { api: { kind: \"process\", secrets: [] } } };\n"
	if err := os.WriteFile(filepath.Join(dir, "kazzle.config.ts"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	if _, err := Load(context.Background(), dir, Options{Stderr: &stderr}); err != nil {
		t.Fatal(err)
	}
	if got := stderr.Len(); got != maxConsoleOutput || !strings.HasPrefix(stderr.String(), "line 0\nline 1\n") {
		t.Errorf("printed %d bytes starting %.20q, want the first %d", got, stderr.String(), maxConsoleOutput)
	}
}
