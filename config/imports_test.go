package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretValue is what the files outside the project hold: no error may show it.
const secretValue = "root-key-8f3a61c2e9"

// writeFiles writes files (slash-separated names) into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestConfigImportsCannotFollowSymlinksOut: a file the config imports is inside the
// project only if its real path is: an import through a symlink that points outside,
// at a folder or a file, is refused where it is written, and nothing of the file
// reaches the error.
func TestConfigImportsCannotFollowSymlinksOut(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{
		"vault/root.ts":   `export default "` + secretValue + `";`,
		"vault/root.json": `{ "key": "` + secretValue + `" }`,
		"etc/shadow.ts":   `export default "` + secretValue + `";`,
	})
	for _, tc := range []struct {
		name, link, target, config string
		wantAt                     string
	}{
		{"a folder link", "root", outside, `import key from "./root/vault/root.ts";`, "kazzle.config.ts:1:17: "},
		{"a file link", "key.ts", filepath.Join(outside, "vault", "root.ts"), `import key from "./key.ts";`, "kazzle.config.ts:1:17: "},
		{"JSON through a folder link", "root", outside, `import key from "./root/vault/root.json" with { type: "json" };`, "kazzle.config.ts:1:17: "},
		{"a link to the file system root", "root", "/", `import key from "./root` + filepath.ToSlash(outside) + `/etc/shadow.ts";`, "kazzle.config.ts:1:17: "},
		{"from an imported file", "root", outside, `import key from "./lib/key";`, "lib/key.ts:1:25: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{
				"kazzle.config.ts": tc.config + "\nexport default { collection: String(key), components: {} };\n",
				"lib/key.ts":       `export { default } from "../root/vault/root.ts";` + "\n",
			})
			if err := os.Symlink(tc.target, filepath.Join(dir, tc.link)); err != nil {
				t.Fatal(err)
			}
			p, err := Load(context.Background(), dir, Options{})
			if err == nil {
				t.Fatalf("loaded %+v, want a refusal", p)
			}
			msg := err.Error()
			if !strings.Contains(msg, "leaves the project folder through a symlink") || !strings.HasPrefix(msg, tc.wantAt) {
				t.Errorf("err = %v, want a refusal at %s", err, tc.wantAt)
			}
			if strings.Contains(msg, secretValue) {
				t.Error("the error holds what the file outside the project holds")
			}
		})
	}
}

// TestConfigItselfThroughASymlinkOutIsRefused: the configuration file is read as the
// files it imports are.
func TestConfigItselfThroughASymlinkOutIsRefused(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"shared.ts": "export default { collection: \"shop\", components: {} };\n"})
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "shared.ts"), filepath.Join(dir, "kazzle.config.ts")); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "leaves the project folder through a symlink") {
		t.Fatalf("err = %v, want a refusal of the config outside the project", err)
	}
}

// TestConfigImportsThroughSymlinksInsideTheProject: a symlink that stays in the project,
// or a project folder that is itself reached through a symlink, imports as before.
func TestConfigImportsThroughSymlinksInsideTheProject(t *testing.T) {
	real := t.TempDir()
	writeFiles(t, real, map[string]string{
		"kazzle.config.ts": "import shared from \"./lib\";\nexport default shared;\n",
		"shared/index.ts":  "export default { collection: \"shop\", components: { api: { kind: \"process\", secrets: [\"DATABASE_URL\"] } } };\n",
	})
	if err := os.Symlink("shared", filepath.Join(real, "lib")); err != nil {
		t.Fatal(err)
	}
	via := filepath.Join(t.TempDir(), "project")
	if err := os.Symlink(real, via); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{real, via} {
		p, err := Load(context.Background(), dir, Options{})
		if err != nil || p.Collection != "shop" {
			t.Errorf("load %s: %+v, %v", dir, p, err)
		}
	}
}

// TestConfigReadsNoTSConfig: a tsconfig.json in the project (or above it) is not read,
// so its "extends" cannot make esbuild parse a file outside the project and quote it,
// and its options cannot change how the config compiles.
func TestConfigReadsNoTSConfig(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"secret.txt": secretValue + "\n", "base.json": `{"compilerOptions": {"jsx": "nope"}}`})
	for _, tsconfig := range []string{
		`{"extends": "` + filepath.ToSlash(filepath.Join(outside, "secret.txt")) + `"}`,
		`{"extends": "` + filepath.ToSlash(filepath.Join(outside, "base.json")) + `"}`,
		`{ not json at all ` + secretValue,
	} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"tsconfig.json":    tsconfig,
			"kazzle.config.ts": "export default { collection: \"app\", components: { api: { kind: \"process\", secrets: [\"A\"] } } };\n",
		})
		p, err := Load(context.Background(), dir, Options{})
		if err != nil {
			if strings.Contains(err.Error(), secretValue) {
				t.Fatalf("the error quotes a file outside the project: %v", err)
			}
			t.Fatalf("a tsconfig.json stopped the config: %v", err)
		}
		if p.Collection != "app" {
			t.Fatalf("collection = %q", p.Collection)
		}
	}
}

// TestConfigReadsNoSourceMapOutsideTheProject: a file of the config that names a source
// map (//# sourceMappingURL=…) does not make esbuild read it, nor the sources it names,
// wherever they are; and a file past MaxConfigFile is refused before it is read whole.
func TestConfigReadsNoSourceMapOutsideTheProject(t *testing.T) {
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{
		"secret.txt": secretValue + "\n",
		"x.map":      `{"version":3,"sources":["` + filepath.ToSlash(filepath.Join(outside, "secret.txt")) + `"],"names":[],"mappings":"AAAA"}`,
	})
	mapURL := filepath.ToSlash(filepath.Join(outside, "x.map"))
	for _, comment := range []string{"//# sourceMappingURL=" + mapURL, "//@ sourceMappingURL=" + mapURL, "/*# sourceMappingURL=" + mapURL + " */"} {
		dir := t.TempDir()
		writeFiles(t, dir, map[string]string{
			"lib.js":           "export function boom() { throw new Error(\"boom\"); }\n" + comment + "\n",
			"kazzle.config.ts": "import { boom } from \"./lib.js\";\nboom();\nexport default {};\n",
		})
		js, _, err := bundle(dir, "kazzle.config.ts")
		if err != nil {
			t.Fatalf("%s: %v", comment, err)
		}
		if strings.Contains(js, secretValue) || strings.Contains(js, "secret.txt") {
			t.Fatalf("%s: the bundle holds what the source map outside the project names", comment)
		}
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"big.json":         `{"a": "` + strings.Repeat("x", MaxConfigFile) + `"}`,
		"kazzle.config.ts": "import big from \"./big.json\";\nexport default { collection: big.a, components: {} };\n",
	})
	if _, err := Load(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "1048576") {
		t.Fatalf("a file past the limit: err = %v", err)
	}
}
