// Package ghaction tests the repository's GitHub Action (action.yml at the root): its
// metadata as actionlint reads it, and its two bash steps run on this machine against a
// fake release server.
package ghaction

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"go.yaml.in/yaml/v4"

	"github.com/kazzle/kazzle/internal/testenv"
)

const actionFile = "../../action.yml"

type action struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Inputs      map[string]struct {
		Required bool    `yaml:"required"`
		Default  *string `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			Name  string            `yaml:"name"`
			ID    string            `yaml:"id"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) action {
	t.Helper()
	data, err := os.ReadFile(actionFile)
	if err != nil {
		t.Fatal(err)
	}
	var a action
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// TestActionMetadata: a composite action with the documented inputs, whose scripts never
// hold an expression: an input reaches a script as an environment variable only, so its
// text cannot become shell code (script injection).
func TestActionMetadata(t *testing.T) {
	a := readAction(t)
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Fatalf("name %q, description %q, runs.using %q: want a named, described composite action", a.Name, a.Description, a.Runs.Using)
	}
	for name, want := range map[string]struct {
		required bool
		def      string
	}{"version": {false, "latest"}, "server": {true, ""}, "command": {true, ""}, "oidc-provider": {false, ""}} {
		in, ok := a.Inputs[name]
		switch {
		case !ok:
			t.Errorf("input %s is missing", name)
		case in.Required != want.required:
			t.Errorf("input %s: required = %v, want %v", name, in.Required, want.required)
		case !want.required && (in.Default == nil || *in.Default != want.def):
			t.Errorf("input %s: default = %v, want %q", name, in.Default, want.def)
		}
	}
	if len(a.Inputs) != 4 {
		t.Errorf("%d inputs, want the 4 documented ones", len(a.Inputs))
	}
	if len(a.Runs.Steps) != 2 {
		t.Fatalf("%d steps, want install and run", len(a.Runs.Steps))
	}
	for _, s := range a.Runs.Steps {
		if s.Shell != "bash" || s.Run == "" {
			t.Errorf("step %q: shell %q; want a bash script", s.Name, s.Shell)
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into its script: pass it through env", s.Name)
		}
		if out, err := exec.Command("bash", "-n", "-c", s.Run).CombinedOutput(); err != nil {
			t.Errorf("step %q is not valid bash: %v\n%s", s.Name, err, out)
		}
	}
}

// TestActionlintChecksAWorkflowAgainstTheAction: actionlint reads action.yml as a local
// action and holds a workflow to its inputs.
func TestActionlintChecksAWorkflowAgainstTheAction(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	proj, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	workflow := func(with string) []byte {
		return []byte(`on: push
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
    steps:
      - uses: ./
        with:
` + with)
	}
	lint := func(content []byte) []*actionlint.Error {
		l, err := actionlint.NewLinter(&bytes.Buffer{}, &actionlint.LinterOptions{WorkingDir: root})
		if err != nil {
			t.Fatal(err)
		}
		errs, err := l.Lint(filepath.Join(root, ".github", "workflows", "deploy.yml"), content, proj)
		if err != nil {
			t.Fatal(err)
		}
		return errs
	}
	if errs := lint(workflow("          server: https://vault.example.com\n          command: secrets list\n          oidc-provider: github\n")); len(errs) != 0 {
		t.Fatalf("actionlint refused a good use of the action: %v", errs)
	}
	errs := lint(workflow("          server: https://vault.example.com\n          commands: secrets list\n"))
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Message)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, `missing input "command"`) || !strings.Contains(all, `input "commands" is not defined`) {
		t.Fatalf("actionlint did not check the inputs against action.yml:\n%s", all)
	}
}

// step returns the script of the action's step with the given id or name.
func step(t *testing.T, name string) string {
	for _, s := range readAction(t).Runs.Steps {
		if s.ID == name || s.Name == name {
			return s.Run
		}
	}
	t.Fatalf("no step %s in action.yml", name)
	return ""
}

// runStep runs a step's script with bash in a clean environment plus env.
func runStep(t *testing.T, script string, env map[string]string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func need(t *testing.T, tools ...string) {
	for _, tool := range tools {
		testenv.LookPath(t, "the action's steps run it, as GitHub's runners do", tool)
	}
}

// fakeKazzle stands for a released binary: it prints its version, then each argument on
// a line of its own.
const fakeKazzle = "#!/bin/sh\nif [ \"$1\" = version ]; then echo 'kazzle v1.2.3'; exit 0; fi\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n"

// TestTheActionInstallsOnlyAMatchingRelease runs the install step against a fake release
// server over https: a binary that matches SHA256SUMS is installed and put on the PATH;
// one that does not is refused and left nowhere.
func TestTheActionInstallsOnlyAMatchingRelease(t *testing.T) {
	need(t, "bash", "curl")
	sum := sha256.Sum256([]byte(fakeKazzle))
	good := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, version, sums string
		ok                  bool
		want                string
	}{
		{"matching sum", "v1.2.3", good + "  kazzle_linux_amd64\n" + strings.Repeat("0", 64) + "  kazzle_darwin_arm64\n", true, "kazzle v1.2.3"},
		{"latest, resolved to its tag", "latest", good + " *kazzle_linux_amd64\n", true, "kazzle v1.2.3"},
		{"a version without v", "1.2.3", good + "  kazzle_linux_amd64\n", true, "kazzle v1.2.3"},
		{"mismatched sum", "v1.2.3", strings.Repeat("ab", 32) + "  kazzle_linux_amd64\n", false, "does not match its SHA256SUMS"},
		{"no sum for the platform", "v1.2.3", good + "  kazzle_darwin_arm64\n", false, "has no single sum for kazzle_linux_amd64"},
		{"two sums for the platform", "v1.2.3", good + "  kazzle_linux_amd64\n" + good + "  kazzle_linux_amd64\n", false, "has no single sum"},
		{"a version that is not one", "v1.2.3/../../evil", good + "  kazzle_linux_amd64\n", false, "version must be a released kazzle version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/releases/latest":
					http.Redirect(w, r, "/releases/tag/v1.2.3", http.StatusFound)
				case "/releases/tag/v1.2.3":
					fmt.Fprint(w, "release page")
				case "/releases/download/v1.2.3/kazzle_linux_amd64":
					w.Write([]byte(fakeKazzle))
				case "/releases/download/v1.2.3/SHA256SUMS":
					fmt.Fprint(w, tc.sums)
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			dir := t.TempDir()
			ca := filepath.Join(dir, "ca.pem")
			if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
				t.Fatal(err)
			}
			ghPath, ghOutput := filepath.Join(dir, "github_path"), filepath.Join(dir, "github_output")
			for _, f := range []string{ghPath, ghOutput} {
				if err := os.WriteFile(f, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			temp := filepath.Join(dir, "runner_temp")
			if err := os.Mkdir(temp, 0o700); err != nil {
				t.Fatal(err)
			}
			out, err := runStep(t, step(t, "install"), map[string]string{
				"KAZZLE_VERSION": tc.version, "KAZZLE_RELEASES": srv.URL + "/releases", "CURL_CA_BUNDLE": ca,
				"RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_TEMP": temp, "GITHUB_PATH": ghPath, "GITHUB_OUTPUT": ghOutput,
			})
			if tc.ok != (err == nil) || !strings.Contains(out, tc.want) {
				t.Fatalf("install: err = %v, want ok = %v and output with %q:\n%s", err, tc.ok, tc.want, out)
			}
			path, _ := os.ReadFile(ghPath)
			output, _ := os.ReadFile(ghOutput)
			if !tc.ok {
				if len(path) != 0 || len(output) != 0 {
					t.Errorf("a refused release reached GITHUB_PATH %q or GITHUB_OUTPUT %q", path, output)
				}
				if bins, _ := filepath.Glob(filepath.Join(temp, "*", "bin", "kazzle")); len(bins) != 0 {
					t.Errorf("a refused release was installed: %v", bins)
				}
				return
			}
			bin := strings.TrimSpace(strings.TrimPrefix(string(output), "path="))
			if fi, err := os.Stat(bin); err != nil || fi.Mode().Perm() != 0o755 || filepath.Dir(bin) != strings.TrimSpace(string(path)) {
				t.Errorf("installed %q (%v), on the PATH %q", bin, err, path)
			}
		})
	}
}

// TestTheActionRunsTheCommandAsData: the command input is split into words as xargs
// splits them, and nothing in it is expanded or run; without a key or an identity token
// the step says which permission the job lacks.
func TestTheActionRunsTheCommandAsData(t *testing.T) {
	need(t, "bash", "xargs")
	dir := t.TempDir()
	bin := filepath.Join(dir, "kazzle")
	if err := os.WriteFile(bin, []byte(fakeKazzle), 0o755); err != nil {
		t.Fatal(err)
	}
	run := step(t, "Run kazzle")
	pwned := filepath.Join(dir, "pwned")
	for _, tc := range []struct {
		name, command string
		env           map[string]string
		ok            bool
		want          string
	}{
		{"words and quotes", `run --env prod -- sh -c 'echo "$X" && ./deploy.sh' "a b"`, nil, true,
			"[run]\n[--env]\n[prod]\n[--]\n[sh]\n[-c]\n[echo \"$X\" && ./deploy.sh]\n[a b]\n"},
		{"a leading kazzle", "kazzle secrets list", nil, true, "[secrets]\n[list]\n"},
		{"shell syntax stays text", "run -- echo $(touch " + pwned + ") `touch " + pwned + "` ; touch " + pwned, nil, true,
			"[run]\n[--]\n[echo]\n[$(touch]\n[" + pwned + ")]\n[`touch]\n[" + pwned + "`]\n[;]\n[touch]\n[" + pwned + "]\n"},
		{"an unmatched quote", `run -- echo "oops`, nil, false, "unmatched double quote"},
		{"an empty command", "  ", nil, false, "command is empty"},
		{"no identity token", "secrets list", map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": ""}, false,
			"this job gets no identity token: give it permissions: id-token: write"},
		{"a stored key instead", "secrets list", map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": "", "KAZZLE_API_KEY": "kzl_x"}, true, "[secrets]\n[list]\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"KAZZLE_BIN": bin, "KAZZLE_ACTION_COMMAND": tc.command, "RUNNER_TEMP": dir,
				"ACTIONS_ID_TOKEN_REQUEST_URL": "https://pipelines.example/idtoken?api-version=2.0"}
			for k, v := range tc.env {
				env[k] = v
			}
			out, err := runStep(t, run, env)
			if tc.ok != (err == nil) || tc.ok && out != tc.want || !tc.ok && !strings.Contains(out, tc.want) {
				t.Fatalf("err = %v, output:\n%s\nwant ok = %v and %q", err, out, tc.ok, tc.want)
			}
			if _, err := os.Stat(pwned); err == nil {
				t.Fatal("the command input was run by a shell")
			}
		})
	}
}
