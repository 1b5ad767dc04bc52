package bundler

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// quoted is a value that esbuild prints in single quotes, escaping one of them: as JSON
// spells it, it is not in the output.
var quoted = Secret{"SESSION_SECRET", `p"w"d'x${y}Q9z`}

// TestLeakScanReadsStringsAsJavaScriptDoes: a secret in the bundle fails the build
// whichever quote and escapes esbuild prints it with: imported from a JSON file, or
// written in the source with escapes esbuild keeps or changes.
func TestLeakScanReadsStringsAsJavaScriptDoes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		files  map[string]string
		secret Secret
	}{
		{"imported from JSON", map[string]string{
			"src/main.ts":  "import cfg from './cfg.json';\nconsole.log(cfg.session);\n",
			"src/cfg.json": `{"session": ` + mustJSON(quoted.Value) + `}`,
		}, quoted},
		{"single-quoted", map[string]string{"src/main.ts": `console.log('p"w"d\'x${y}Q9z');` + "\n"}, quoted},
		{"template", map[string]string{"src/main.ts": "console.log(`p\"w\"d'x\\${y}Q9z`);\n"}, quoted},
		{"vertical tab and NUL", map[string]string{"src/main.ts": `console.log("tab\vnul\0end-4242");` + "\n"}, Secret{"CONTROL", "tab\vnul\x00end-4242"}},
		{"hex and code point escapes", map[string]string{"src/main.ts": `console.log("k\xe9y-\u{1F511}-\u0042\x43-0042");` + "\n"}, Secret{"SIGNING_KEY", "kéy-🔑-BC-0042"}},
		{"line continuation", map[string]string{"src/main.ts": "console.log(`first-half\\\nsecond-half`);\n"}, Secret{"JOINED", "first-halfsecond-half"}},
	} {
		for _, nodeEnv := range []string{"production", "development"} {
			t.Run(tc.name+"/"+nodeEnv, func(t *testing.T) {
				dir := project(t, tc.files)
				_, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", NodeEnv: nodeEnv, Others: []Secret{tc.secret}})
				var leak *LeakError
				if !errors.As(err, &leak) || leak.Secret != tc.secret.Name || !strings.HasSuffix(leak.File, ".js") {
					t.Fatalf("err = %v, want a leak of %s in the bundle", err, tc.secret.Name)
				}
				if strings.Contains(err.Error(), tc.secret.Value) {
					t.Error("the error holds the value")
				}
			})
		}
	}
}

// TestLeakScanReadsTheSourcesInSourceMaps: a value that only the source map's
// sourcesContent holds, written escaped in a string that minification drops or in a
// comment, fails the build and names the source.
func TestLeakScanReadsTheSourcesInSourceMaps(t *testing.T) {
	for _, tc := range []struct{ name, source string }{
		{"dead-code string", "if (import.meta.env.DEV) console.log('p\"w\"d\\'x${y}Q9z');\nconsole.log(1);\n"},
		{"comment", "// old: \"p\\\"w\\\"d'x${y}Q9z\"\nconsole.log(1);\n"},
		{"template in a comment", "/* `p\"w\"d'x\\${y}Q9z` */\nconsole.log(1);\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := project(t, map[string]string{"src/main.ts": tc.source})
			_, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Others: []Secret{quoted}})
			var leak *LeakError
			if !errors.As(err, &leak) || leak.Secret != quoted.Name || !strings.HasSuffix(leak.File, ".map") {
				t.Fatalf("err = %v, want a leak of %s in the source map", err, quoted.Name)
			}
			if !strings.Contains(err.Error(), "src/main.ts") {
				t.Errorf("the error %q does not name the source", err)
			}
			if strings.Contains(err.Error(), quoted.Value) {
				t.Error("the error holds the value")
			}
		})
	}
}

// TestUnescapeJS: each escape of a JavaScript string stands for what JavaScript reads.
func TestUnescapeJS(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`no escapes`, ""},
		{`\n\t\r\b\f\v`, "\n\t\r\b\f\v"},
		{`\0x\08\01\101\377\400`, "\x00x\x008\x01A\u00ff\x200"},
		{`\x41\xe9\xZZ`, "A\u00e9xZZ"},
		{`\u0041\u00E9\uD83D\uDE00\u{1F600}\u{41}`, "Aé😀😀A"},
		{`\uD83Dx\uDE00`, "\uFFFDx\uFFFD"},
		{`\'\"\` + "`" + `\$\{\\\/\a`, "'\"`${\\/a"},
		{"a\\\nb\\\r\nc\\\rd\\\u2028e\\\u2029f", "abcdef"},
		{`\é`, "é"},
		{`end\`, `end\`},
	} {
		got := unescapeJS([]byte(tc.in))
		if tc.want == "" && got != nil {
			t.Errorf("unescapeJS(%q) = %q, want nil", tc.in, got)
		} else if tc.want != "" && string(got) != tc.want {
			t.Errorf("unescapeJS(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
