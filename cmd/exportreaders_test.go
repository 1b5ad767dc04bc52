package cmd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/internal/testenv"
)

// exportCorpus holds values that are hard to carry through a file, and the formats
// that must refuse each: every other format must give it back exactly to every one of
// its readers.
var exportCorpus = []struct {
	name, value string
	refusedBy   []string
}{
	{"PLAIN", "sk_live_51H8abcDEF", nil},
	{"EMPTY", "", nil},
	{"SINGLE_QUOTE", "it's", nil},
	{"DOUBLE_QUOTE", `say "hi"`, nil},
	{"BOTH_QUOTES", `it's "all"`, []string{"dotenv"}},
	{"DOLLAR", "$HOME and $(whoami) and `id` and $", nil},
	{"DOLLAR_QUOTE", "it's $HOME", nil},
	{"BRACES", "${PATH} and ${X:-default}", []string{"dotenv"}},
	{"BRACES_UNCLOSED", "${not closed and ${a:b}", nil},
	{"BACKSLASH", `C:\path\to\thing \n not a newline`, nil},
	{"BACKSLASHES", `a\\b`, []string{"dotenv"}},
	{"BACKSLASH_END", `ends\`, []string{"dotenv"}},
	{"BACKSLASH_QUOTE", `it's a\b`, []string{"dotenv"}},
	{"HASH", "value # not a comment", nil},
	{"HASH_START", "#starts with a hash", nil},
	{"SPACES", "  leading and trailing spaces  ", nil},
	{"TABS", "\ttab\tinside\t", nil},
	{"EQUALS", "a=b==c", nil},
	{"BACKTICKS", "`quoted`", nil},
	{"QUOTED_SINGLE", "'quoted'", []string{"docker"}},
	{"QUOTED_DOUBLE", `"quoted"`, []string{"docker"}},
	{"CRLF", "line one\r\nline two", []string{"dotenv", "docker"}},
	{"CR_END", "ends with\r", []string{"dotenv", "docker", "github"}},
	{"NEWLINES", "line one\nline two\n\n", []string{"docker"}},
	{"PEM", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nK2=v+/abc==\n-----END PRIVATE KEY-----\n", []string{"docker"}},
	{"QUOTE_LINES", "it's\nX='y'\n'z", []string{"docker"}},
	{"UNICODE", "ключ 🔑 ü — ￼ 中文", nil},
	{"EXPORT_LIKE", "export FOO=bar", nil},
	{"DELIMITER_LIKE", "EOF\nghadelimiter_\nEOF", []string{"docker"}},
}

func corpusVars() []api.Var {
	vars := make([]api.Var, len(exportCorpus))
	for i, c := range exportCorpus {
		vars[i] = api.Var{Name: c.name, Value: c.value}
	}
	return vars
}

// TestExportReadBackByTheRealReaders writes the corpus in each format and reads each
// file back with the programs that read that format: sh, bash and zsh; python-dotenv,
// node's dotenv 16 and 17 and node --env-file; docker's and GitHub's rules, ported; JSON.
func TestExportReadBackByTheRealReaders(t *testing.T) {
	readers := map[string][]struct {
		name string
		read func(t *testing.T, file string, names []string) map[string]string
	}{
		"shell": {
			{"sh", shellReader("sh")}, {"bash", shellReader("bash")}, {"zsh", shellReader("zsh")},
		},
		"dotenv": {
			{"python-dotenv", readPythonDotenv},
			{"node dotenv 16", nodeDotenvReader("dotenv16")},
			{"node dotenv 17", nodeDotenvReader("dotenv17")},
			{"node --env-file", readNodeEnvFile},
			{"kazzle secrets import", func(t *testing.T, file string, _ []string) map[string]string {
				_, values := parseDotenv(readFile(t, file))
				return values
			}},
		},
		"docker": {
			{"docker/cli env-file", dockerReader(false)},
			{"docker/cli env-file, quotes trimmed", dockerReader(true)},
		},
		"github": {{"GitHub runner", readGitHubEnv}},
		"json": {{"encoding/json", func(t *testing.T, file string, _ []string) map[string]string {
			var out map[string]string
			if err := json.Unmarshal([]byte(readFile(t, file)), &out); err != nil {
				t.Fatal(err)
			}
			return out
		}}},
		"yaml": {{"YAML double-quoted scalars", readYAMLScalars}},
	}
	for _, format := range exportFormats {
		t.Run(format, func(t *testing.T) {
			var accepted []api.Var
			for _, c := range exportCorpus {
				var buf bytes.Buffer
				err := writeExport(&buf, format, []api.Var{{Name: c.name, Value: c.value}})
				refused := slices.Contains(c.refusedBy, format)
				switch {
				case refused && err == nil:
					t.Errorf("%s: written as %q, want it refused", c.name, buf.String())
				case refused:
					var r *exportRefused
					if !errors.As(err, &r) || r.name != c.name {
						t.Errorf("%s: refused with %v, want an error naming it", c.name, err)
					}
					if strings.Contains(err.Error(), c.value) && c.value != "" {
						t.Errorf("%s: the refusal holds the value: %v", c.name, err)
					}
				case err != nil:
					t.Errorf("%s: %v", c.name, err)
				default:
					accepted = append(accepted, api.Var{Name: c.name, Value: c.value})
				}
			}
			// A refusal writes nothing at all.
			var all bytes.Buffer
			if err := writeExport(&all, format, corpusVars()); (err != nil) != (len(accepted) < len(exportCorpus)) || (err != nil && all.Len() > 0) {
				t.Errorf("the whole corpus: %v, %d bytes written", err, all.Len())
			}
			var file bytes.Buffer
			if err := writeExport(&file, format, accepted); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "exported")
			if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			names := make([]string, len(accepted))
			for i, v := range accepted {
				names[i] = v.Name
			}
			for _, r := range readers[format] {
				t.Run(r.name, func(t *testing.T) {
					got := r.read(t, path, names)
					for _, v := range accepted {
						if g, ok := got[v.Name]; !ok || g != v.Value {
							t.Errorf("%s read back %q (present: %v), want %q", v.Name, g, ok, v.Value)
						}
					}
				})
			}
		})
	}
}

// TestExportImportRoundTrip: what export writes as dotenv or JSON, import reads back
// exactly; the corpus values dotenv refuses go through JSON.
func TestExportImportRoundTrip(t *testing.T) {
	for _, format := range []string{"dotenv", "json"} {
		var accepted []api.Var
		for _, v := range corpusVars() {
			if writeExport(new(bytes.Buffer), format, []api.Var{v}) == nil {
				accepted = append(accepted, v)
			}
		}
		var file bytes.Buffer
		if err := writeExport(&file, format, accepted); err != nil {
			t.Fatal(err)
		}
		entries, err := readImport(file.Bytes())
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if len(entries) != len(accepted) {
			t.Fatalf("%s: %d entries read, want %d", format, len(entries), len(accepted))
		}
		got := map[string]string{}
		for _, e := range entries {
			got[e.name] = e.value
		}
		for _, v := range accepted {
			if g, ok := got[v.Name]; !ok || g != v.Value {
				t.Errorf("%s: %s read back as %q, want %q", format, v.Name, g, v.Value)
			}
		}
		if format == "json" && len(accepted) != len(exportCorpus) {
			t.Errorf("json refused some of the corpus")
		}
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// printVars is a shell script that prints each named variable as JSON-free records:
// the name, a NUL, the value, a NUL.
const printVars = `for n in $NAMES; do eval "v=\${$n-unset:$n}"; printf '%s\0%s\0' "$n" "$v"; done`

func shellReader(shell string) func(*testing.T, string, []string) map[string]string {
	return func(t *testing.T, file string, names []string) map[string]string {
		bin := testenv.LookPath(t, "the shell format is read back by "+shell+" (.ci/run installs it)", shell)
		loop := printVars
		if shell == "zsh" {
			loop = "setopt SH_WORD_SPLIT; " + loop // zsh splits $NAMES only when told; the file is read before
		}
		cmd := exec.Command(bin, "-c", "set -a; . \"$1\"; set +a; "+loop, shell, file)
		cmd.Env = []string{"NAMES=" + strings.Join(names, " "), "PATH=" + os.Getenv("PATH")}
		return runReader(t, cmd, nulRecords)
	}
}

func nulRecords(out []byte) (map[string]string, error) {
	parts := strings.Split(string(out), "\x00")
	if len(parts)%2 != 1 {
		return nil, fmt.Errorf("odd output %q", out)
	}
	m := map[string]string{}
	for i := 0; i+1 < len(parts); i += 2 {
		m[parts[i]] = parts[i+1]
	}
	return m, nil
}

func jsonObject(out []byte) (map[string]string, error) {
	var m map[string]string
	err := json.Unmarshal(out, &m)
	return m, err
}

// runReader runs a reader, which must succeed without a word on stderr (python-dotenv
// warns there about lines it cannot parse), and decodes its output.
func runReader(t *testing.T, cmd *exec.Cmd, decode func([]byte) (map[string]string, error)) map[string]string {
	t.Helper()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("%s: %v\n%s", cmd.Args[0], err, stderr.String())
	}
	m, err := decode(out)
	if err != nil {
		t.Fatalf("%s: %v", cmd.Args[0], err)
	}
	return m
}

func readPythonDotenv(t *testing.T, file string, _ []string) map[string]string {
	python := testenv.LookPath(t, "python-dotenv reads the dotenv format back (pip install python-dotenv)", "python3")
	if exec.Command(python, "-c", "import dotenv").Run() != nil {
		testenv.Missing(t, "python-dotenv", "the dotenv format is read back by it: pip install python-dotenv")
	}
	// dotenv_values interpolates ${NAME}, as load_dotenv does by default.
	cmd := exec.Command(python, "-c", "import dotenv, json, sys; print(json.dumps(dotenv.dotenv_values(sys.argv[1])))", file)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	return runReader(t, cmd, jsonObject)
}

// dotenvFixture returns fixtures/dotenv with node's dotenv installed, running npm ci
// there first if need be.
func dotenvFixture(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../fixtures/dotenv")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "dotenv17")); err == nil {
		return dir
	}
	npm := testenv.LookPath(t, "it installs node's dotenv to read the dotenv format back", "npm")
	cmd := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in fixtures/dotenv: %v\n%s", err, out)
	}
	return dir
}

func nodeDotenvReader(pkg string) func(*testing.T, string, []string) map[string]string {
	return func(t *testing.T, file string, _ []string) map[string]string {
		node := testenv.LookPath(t, "node's dotenv reads the dotenv format back", "node")
		dir := dotenvFixture(t)
		cmd := exec.Command(node, "-e", `const fs = require("fs"); process.stdout.write(JSON.stringify(require("`+pkg+`").parse(fs.readFileSync(process.argv[1]))))`, file)
		cmd.Dir = dir
		return runReader(t, cmd, jsonObject)
	}
}

func readNodeEnvFile(t *testing.T, file string, names []string) map[string]string {
	node := testenv.LookPath(t, "node --env-file reads the dotenv format back", "node")
	cmd := exec.Command(node, "--env-file="+file, "-e", `const o = {}; for (const n of process.argv.slice(1)) if (n in process.env) o[n] = process.env[n]; process.stdout.write(JSON.stringify(o))`)
	cmd.Args = append(cmd.Args, names...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	return runReader(t, cmd, jsonObject)
}

// dockerReader reads an env file by docker/cli's rules (pkg/kvfile, which docker run
// --env-file uses): lines as bufio.Scanner splits them (at \n, a \r before it dropped,
// 64 KiB at most), valid UTF-8, a BOM dropped from the first, leading white space
// trimmed, blank and # lines skipped, KEY=VALUE cut at the first =, a key without
// white space, the value as it is; trimQuotes is the rule of newer releases, which
// strip one pair of matching quotes around a value.
func dockerReader(trimQuotes bool) func(*testing.T, string, []string) map[string]string {
	return func(t *testing.T, file string, _ []string) map[string]string {
		out := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(readFile(t, file)))
		for n := 1; sc.Scan(); n++ {
			b := sc.Bytes()
			if !utf8.Valid(b) {
				t.Fatalf("invalid utf8 bytes at line %d", n)
			}
			if n == 1 {
				b = bytes.TrimPrefix(b, []byte{0xEF, 0xBB, 0xBF})
			}
			line := strings.TrimLeftFunc(string(b), unicode.IsSpace)
			if line == "" || line[0] == '#' {
				continue
			}
			key, value, hasValue := strings.Cut(line, "=")
			if key == "" || strings.ContainsAny(key, " \t") {
				t.Fatalf("line %d: bad variable name", n)
			}
			if !hasValue {
				continue // looked up in docker's own environment
			}
			if trimQuotes && len(value) >= 2 && (value[0] == '\'' || value[0] == '"') && value[len(value)-1] == value[0] {
				value = value[1 : len(value)-1]
			}
			out[key] = value
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
}

// readGitHubEnv reads a $GITHUB_ENV file by the rules of GitHub's runner (on Linux):
// lines split at \n; NAME=VALUE when = comes before any <<; else NAME<<DELIMITER, and
// the value is the text up to the newline before a line that is exactly DELIMITER.
func readGitHubEnv(t *testing.T, file string, _ []string) map[string]string {
	text := readFile(t, file)
	out := map[string]string{}
	i := 0
	readLine := func() (string, bool) {
		if i >= len(text) {
			return "", false
		}
		start := i
		if lf := strings.IndexByte(text[i:], '\n'); lf >= 0 {
			i += lf + 1
			return text[start : i-1], true
		}
		i = len(text)
		return text[start:], true
	}
	for line, ok := readLine(); ok; line, ok = readLine() {
		if line == "" {
			continue
		}
		eq, here := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (here < 0 || eq < here):
			out[line[:eq]] = line[eq+1:]
		case here >= 0:
			name, delim := line[:here], line[here+2:]
			if name == "" || delim == "" {
				t.Fatalf("invalid heredoc line")
			}
			start, end := i, i
			for {
				l, ok := readLine()
				if !ok {
					t.Fatalf("matching delimiter not found")
				}
				if l == delim {
					break
				}
				end = i - 1
				if !strings.HasSuffix(text[:i], "\n") {
					t.Fatalf("EOF marker missing new line")
				}
			}
			out[name] = ""
			if end > start {
				out[name] = text[start:end]
			}
		default:
			t.Fatalf("invalid format")
		}
	}
	return out
}

func readYAMLScalars(t *testing.T, file string, _ []string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(readFile(t, file), "\n"), "\n") {
		name, q, ok := strings.Cut(line, ": ")
		var v string
		if !ok || json.Unmarshal([]byte(q), &v) != nil {
			t.Fatalf("line %q is not NAME: \"…\"", line)
		}
		out[name] = v
	}
	return out
}
