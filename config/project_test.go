package config

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kazzle/kazzle/internal/testenv"
)

// TestHCLFixtureMatchesTypeScript: fixtures/saas-hcl/kazzle.hcl decodes to exactly the
// Project that fixtures/saas/kazzle.config.ts evaluates to, in every environment.
func TestHCLFixtureMatchesTypeScript(t *testing.T) {
	for _, env := range []string{"dev", "prod"} {
		ts, err := Load(context.Background(), "../fixtures/saas", Options{Env: env})
		if err != nil {
			t.Fatal(err)
		}
		hcl, err := Load(context.Background(), "../fixtures/saas-hcl", Options{Env: env})
		if err != nil {
			t.Fatal(err)
		}
		if ts.File != "kazzle.config.ts" || hcl.File != "kazzle.hcl" {
			t.Errorf("files: %s, %s", ts.File, hcl.File)
		}
		ts.File, hcl.File, ts.Dir, hcl.Dir = "", "", "", ""
		if diff := cmp.Diff(ts, hcl); diff != "" {
			t.Errorf("env %s: kazzle.hcl differs from kazzle.config.ts (-ts +hcl):\n%s", env, diff)
		}
		if len(ts.Components) != 3 || ts.Components["api"].Deploy.AWS.Lambda.FunctionName != "my-saas-api-"+env {
			t.Errorf("env %s: unexpected project %+v", env, ts)
		}
	}
}

// tsc returns the TypeScript compiler of fixtures/saas, running `npm ci` there first if
// it is not installed. Without npm it skips, except under CI, where it fails.
func tsc(t *testing.T) string {
	t.Helper()
	fixture, err := filepath.Abs("../fixtures/saas")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(fixture, "node_modules", ".bin", "tsc")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	npm := testenv.LookPath(t, "it installs TypeScript to type-check the fixture with tsc", "npm")
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = fixture
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in fixtures/saas: %v\n%s", err, out)
	}
	return bin
}

// TestTypesCheckTheFixtureWithTSC: tsc --noEmit accepts the fixture config against the
// declaration file kazzle init writes, and rejects configs that break its rules.
func TestTypesCheckTheFixtureWithTSC(t *testing.T) {
	committed, err := os.ReadFile("../fixtures/saas/" + TypesFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(committed) != string(Types()) {
		t.Fatalf("fixtures/saas/%s is not what kazzle init writes; run kazzle init --types there", TypesFile)
	}
	bin := tsc(t)
	dir := t.TempDir()
	for _, f := range []string{"kazzle.config.ts", "deploy/targets.ts", "tsconfig.json"} {
		b, err := os.ReadFile(filepath.Join("../fixtures/saas", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Init(dir, "", true); err != nil {
		t.Fatal(err)
	}
	check := func() (string, error) {
		cmd := exec.Command(bin, "--noEmit", "-p", ".")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := check(); err != nil {
		t.Fatalf("tsc rejects the fixture config: %v\n%s", err, out)
	}

	config := readFile(t, filepath.Join(dir, "kazzle.config.ts"))
	for _, tc := range []struct{ name, from, to, want string }{
		{"unknown key", `secrets: ["VITE_STRIPE`, `secretz: ["VITE_STRIPE`, "secretz"},
		{"non-VITE secret in a UI component", `"VITE_API_URL"]`, `"VITE_API_URL", "DATABASE_URL"]`, `"DATABASE_URL"`},
		{"unknown kind", `kind: "process"`, `kind: "cron"`, `"cron"`},
		{"missing functionName", "lambda: lambdaTarget(`my-saas-api-${env}`, env)", `lambda: { region: "us-east-1" }`, "functionName"},
	} {
		broken := strings.Replace(string(config), tc.from, tc.to, 1)
		if broken == string(config) {
			t.Fatalf("%s: the fixture no longer holds %q", tc.name, tc.from)
		}
		if err := os.WriteFile(filepath.Join(dir, "kazzle.config.ts"), []byte(broken), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := check()
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%s: tsc should reject it, mentioning %s; got %v:\n%s", tc.name, tc.want, err, out)
		}
	}
}

// TestInit: the starter config loads; a second init refuses and changes nothing.
func TestInit(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "My Shop_2")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	wrote, err := Init(dir, "", false)
	if err != nil || strings.Join(wrote, ",") != "kazzle.config.ts,"+TypesFile {
		t.Fatalf("init wrote %v, %v", wrote, err)
	}
	p, err := Load(context.Background(), dir, Options{Env: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Collection != "my-shop-2" || p.Components["app"].Kind != KindProcess {
		t.Errorf("starter project: %+v", p)
	}
	before := readFile(t, filepath.Join(dir, "kazzle.config.ts"))
	if err := os.WriteFile(filepath.Join(dir, TypesFile), []byte("stale"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Init(dir, "other", false); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second init: %v", err)
	}
	after := readFile(t, filepath.Join(dir, "kazzle.config.ts"))
	types := readFile(t, filepath.Join(dir, TypesFile))
	if string(after) != string(before) || string(types) != "stale" {
		t.Error("a refused init changed files")
	}
	if _, err := Init(dir, "", true); err != nil {
		t.Fatal(err)
	}
	if types := readFile(t, filepath.Join(dir, TypesFile)); string(types) != string(Types()) {
		t.Error("init --types did not rewrite the declarations")
	}
	if _, err := Init(t.TempDir(), "Not A Slug", false); err == nil {
		t.Error("init accepted an invalid collection")
	}
}

// FuzzDecodeTree: any JSON a config could evaluate to decodes without panicking; what
// decodes and validates cleanly survives a round trip through its own JSON.
func FuzzDecodeTree(f *testing.F) {
	for _, s := range []string{
		`{"components":{"api":{"kind":"process","secrets":["A"]}}}`,
		`{"collection":"x","components":{"web":{"kind":"ui","entry":"a.ts","secrets":["VITE_A"]}}}`,
		`{"components":{"a":{"kind":"process","secrets":[],"deploy":{"aws":{"lambda":{"functionName":"f"},"ecs":{"cluster":"c","service":"s","container":"k"},"ssm":{"path":"/p/"}}}}}}`,
		`{"components":{"a":{"secretz":1}}}`, `[]`, `null`, `{"components":null}`, `{"components":{"a":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		p, msgs := decodeTree(data)
		if len(msgs) > 0 {
			for _, m := range msgs {
				if m.Text == "" {
					t.Fatalf("a message without text: %+v", m)
				}
			}
			return
		}
		if msgs := p.validate(); len(msgs) > 0 {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, msgs := decodeTree(again)
		if len(msgs) > 0 {
			t.Fatalf("a valid project's own JSON does not decode: %v\n%s", errors.Join(errorOf(msgs...)), again)
		}
		if diff := cmp.Diff(p, q); diff != "" {
			t.Fatalf("round trip changed the project (-first +again):\n%s", diff)
		}
	})
}

// BenchmarkLoadFixture: bundling and evaluating fixtures/saas (target: under 20 ms).
func BenchmarkLoadFixture(b *testing.B) {
	for b.Loop() {
		if _, err := Load(context.Background(), "../fixtures/saas", Options{Env: "prod"}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadStopsWhenContextEnds: cancelling ctx stops a config that runs on, well before
// its own time limit. The context ends when the config says it runs, so that it is the
// running config that is stopped, not a Load that had not yet started it.
func TestLoadStopsWhenContextEnds(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "kazzle.config.ts"), []byte("console.log(\"running\");\nwhile (true) {}\nexport default {};\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	_, err := Load(ctx, dir, Options{Timeout: time.Minute, Stderr: writerFunc(func(p []byte) (int, error) {
		cancel()
		return len(p), nil
	})})
	if ctx.Err() == nil {
		t.Fatalf("Load = %v before the config ran", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Load = %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Fatalf("Load took %v after its context was cancelled", elapsed)
	}
}

// readFile returns the file's contents, or ends the test: a file a test compares must
// have been read, or two failed reads would compare equal.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
