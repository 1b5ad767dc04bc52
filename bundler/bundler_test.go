package bundler

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/internal/testenv"
)

// project writes files (slash-separated names) into a new project folder.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// node runs an ES module file with node and returns what it prints, loading imports of
// "/…" from dist as a browser would from the site root. Without node it skips, except
// under CI, where it fails.
func node(t *testing.T, dist, script string) string {
	t.Helper()
	bin := testenv.LookPath(t, "it runs the bundles", "node")
	register, err := filepath.Abs("testdata/node/register.mjs")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--import", register, script)
	cmd.Env = append(os.Environ(), "DIST="+dist)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, out)
	}
	return string(out)
}

// Secrets of the environment in these tests: one declared VITE_ value, an undeclared
// VITE_ one and a server-side one, which must not reach the bundle.
var (
	declared   = Secret{"VITE_DECLARED", "pk_test_declared_4242"}
	undeclared = Secret{"VITE_OTHER", "vite-other-value-9137"}
	serverSide = Secret{"DATABASE_URL", "postgres://app:s3cr3t-pw@db:5432/app"}
)

const envProbe = `
const all = import.meta.env;
const { VITE_DECLARED: destructured, ...rest } = import.meta.env;
const key = ["VITE", "DECLARED"].join("_");
export const probe = {
  direct: import.meta.env.VITE_DECLARED,
  bracket: import.meta.env["VITE_DECLARED"],
  computed: all[key],
  destructured,
  restKeys: Object.keys(rest).sort(),
  wholeKeys: Object.keys(all).sort(),
  undeclared: typeof import.meta.env.NOT_DECLARED,
  undeclaredVite: typeof import.meta.env.VITE_OTHER,
  databaseURL: typeof (all as Record<string, unknown>)["DATABASE_URL"],
  mode: import.meta.env.MODE,
  dev: import.meta.env.DEV,
  prod: import.meta.env.PROD,
  ssr: import.meta.env.SSR,
  base: import.meta.env.BASE_URL,
  nodeEnv: process.env.NODE_ENV,
  hot: typeof import.meta.hot,
};
`

// TestImportMetaEnv: every way of reading import.meta.env gives the declared values and
// Vite's keys, an undeclared read is undefined, and no other secret is in any file.
func TestImportMetaEnv(t *testing.T) {
	dir := project(t, map[string]string{
		"src/main.ts":  "import { probe } from \"./probe\";\nconst lazy = () => import(\"./lazy\");\n(globalThis as any).__probe = probe;\n(globalThis as any).__lazy = lazy;\n",
		"src/probe.ts": envProbe,
		"src/lazy.ts":  "export const later = import.meta.env.VITE_DECLARED.length;\n",
		"src/env.d.ts": "interface ImportMetaEnv { readonly VITE_DECLARED: string }\ninterface ImportMeta { readonly env: ImportMetaEnv; readonly hot?: unknown }\ndeclare const process: { env: { NODE_ENV: string } };\n",
	})
	res, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Mode: "staging",
		Inline: []Secret{declared}, Others: []Secret{undeclared, serverSide}})
	if err != nil {
		t.Fatal(err)
	}
	var entry string
	chunks, maps := 0, 0
	hashed := regexp.MustCompile(`^assets/[A-Za-z0-9_-]+-[A-Z0-9]{8}\.js$`)
	for _, f := range res.Files {
		switch {
		case strings.HasPrefix(f.Path, "assets/main-") && strings.HasSuffix(f.Path, ".js"):
			entry = f.Path
		case strings.HasSuffix(f.Path, ".map"):
			maps++
		}
		if strings.HasSuffix(f.Path, ".js") {
			chunks++
			if !hashed.MatchString(f.Path) {
				t.Errorf("%s is not a content-hashed name", f.Path)
			}
		}
	}
	if entry == "" || chunks < 2 || maps != chunks {
		t.Fatalf("want an entry, a lazy chunk and a source map each; got %+v", res.Files)
	}
	runner := filepath.Join(dir, "run.mjs")
	if err := os.WriteFile(runner, []byte("await import('./dist/"+entry+"');\nconsole.log(JSON.stringify(globalThis.__probe));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(node(t, filepath.Join(dir, "dist"), runner)), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"direct": declared.Value, "bracket": declared.Value, "computed": declared.Value, "destructured": declared.Value,
		"restKeys":   []any{"BASE_URL", "DEV", "MODE", "PROD", "SSR"},
		"wholeKeys":  []any{"BASE_URL", "DEV", "MODE", "PROD", "SSR", "VITE_DECLARED"},
		"undeclared": "undefined", "undeclaredVite": "undefined", "databaseURL": "undefined",
		"mode": "staging", "dev": false, "prod": true, "ssr": false, "base": "/", "nodeEnv": "production", "hot": "undefined",
	}
	gotJSON, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(gotJSON) != string(wantJSON) {
		t.Errorf("import.meta.env in the bundle:\n got %s\nwant %s", gotJSON, wantJSON)
	}
	for _, f := range res.Files {
		data, err := os.ReadFile(filepath.Join(dir, "dist", f.Path))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []Secret{undeclared, serverSide} {
			if strings.Contains(string(data), s.Value) {
				t.Errorf("%s holds the value of %s", f.Path, s.Name)
			}
		}
	}
}

// TestDevFollowsNodeEnv: as in Vite, NODE_ENV=development makes DEV true (and the
// output unminified, without source maps).
func TestDevFollowsNodeEnv(t *testing.T) {
	dir := project(t, map[string]string{"src/main.ts": "(globalThis as any).__dev = [import.meta.env.DEV, import.meta.env.PROD, process.env.NODE_ENV];\n"})
	res, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Mode: "dev", NodeEnv: "development"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 {
		t.Fatalf("files %+v, want the entry alone", res.Files)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.mjs"), []byte("await import('./dist/"+res.Files[0].Path+"');\nconsole.log(JSON.stringify(globalThis.__dev));\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(node(t, filepath.Join(dir, "dist"), filepath.Join(dir, "run.mjs"))); got != `[true,false,"development"]` {
		t.Errorf("DEV, PROD, NODE_ENV = %s", got)
	}
}

// TestLeakScan: a secret's value written into the source, as it is or in an escaped
// spelling, or only in a comment that survives in the source map, fails the build,
// removes the output and names the secret and the file, never the value.
func TestLeakScan(t *testing.T) {
	unicodeSecret := Secret{"SIGNING_KEY", `kéy-"quoted"-🔑-0042`}
	for _, tc := range []struct {
		name, source, wantFile string
		secret                 Secret
	}{
		{"literal", `export const url = "` + serverSide.Value + `";` + "\nconsole.log(url);\n", "assets/main-", serverSide},
		{"escaped", `console.log(` + mustJSON(unicodeSecret.Value) + `);` + "\n", "assets/main-", unicodeSecret},
		{"comment only", "// TODO remove: " + serverSide.Value + "\nconsole.log(1);\n", ".map", serverSide},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := project(t, map[string]string{"src/main.ts": tc.source, "dist/old.js": "a previous build"})
			_, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Mode: "prod",
				Inline: []Secret{declared}, Others: []Secret{tc.secret}})
			var leak *LeakError
			if !errors.As(err, &leak) || leak.Secret != tc.secret.Name || !strings.Contains(leak.File, tc.wantFile) {
				t.Fatalf("err = %v, want a leak of %s in %s…", err, tc.secret.Name, tc.wantFile)
			}
			if strings.Contains(err.Error(), tc.secret.Value) {
				t.Error("the error holds the value")
			}
			if _, err := os.Stat(filepath.Join(dir, "dist")); !os.IsNotExist(err) {
				t.Error("the output folder is still there")
			}
		})
	}
}

func mustJSON(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TestIndexHTML: an index.html entry as Vite builds it: %VITE_X% replaced, the module
// script pointed at the hashed bundle, CSS linked.
func TestIndexHTML(t *testing.T) {
	dir := project(t, map[string]string{
		"web/index.html":    "<!doctype html>\n<html>\n<head>\n  <title>%VITE_DECLARED% (%MODE%)</title>\n</head>\n<body>\n  <div id=\"app\"></div>\n  <script type=\"module\" src=\"/src/main.ts\"></script>\n</body>\n</html>\n",
		"web/src/main.ts":   "import \"./style.css\";\nimport logo from \"./logo.svg\";\ndocument.getElementById(\"app\")!.innerHTML = `<img src=\"${logo}\">`;\n",
		"web/src/style.css": "body { color: rebeccapurple; }\n",
		"web/src/logo.svg":  "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n",
		"web/src/env.d.ts":  "declare module \"*.svg\" { const url: string; export default url; }\n",
	})
	res, err := Build(context.Background(), Options{Dir: dir, Entry: "web/index.html", OutDir: "web/dist", Mode: "prod", Base: "/app/", Inline: []Secret{declared}})
	if err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(dir, "web/dist/index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<title>" + declared.Value + " (prod)</title>",
		`<script type="module" src="/app/assets/main-`,
		`<link rel="stylesheet" crossorigin href="/app/assets/main-`,
	} {
		if !strings.Contains(string(html), want) {
			t.Errorf("index.html lacks %s:\n%s", want, html)
		}
	}
	var svg, css bool
	for _, f := range res.Files {
		svg = svg || regexp.MustCompile(`^assets/logo-[A-Z0-9]{8}\.svg$`).MatchString(f.Path)
		css = css || strings.HasSuffix(f.Path, ".css")
	}
	if !svg || !css {
		t.Errorf("want a hashed svg and the CSS among %+v", res.Files)
	}
}

// TestRefusals: a non-VITE secret to inline, or an outDir outside the project, builds
// nothing.
func TestRefusals(t *testing.T) {
	dir := project(t, map[string]string{"src/main.ts": "console.log(1);\n"})
	if _, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Inline: []Secret{serverSide}}); !errors.Is(err, ErrNotVite) {
		t.Errorf("inlining DATABASE_URL: %v", err)
	}
	if _, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "../elsewhere"}); err == nil {
		t.Error("an outDir outside the project was accepted")
	}
	if _, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "src"}); err == nil || !strings.Contains(err.Error(), "holds the entry") {
		t.Errorf("an outDir holding the sources: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "src", "main.ts")); err != nil {
		t.Errorf("a refused build touched the sources: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dist")); !os.IsNotExist(err) {
		t.Error("a refused build wrote output")
	}
}
