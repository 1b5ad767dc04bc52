package bundler

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestOnlyARunnableModuleScriptIsTheEntry: index.html is read as a browser reads it, so
// a module script that a browser would not run is not the entry, and one written in any
// valid spelling is.
func TestOnlyARunnableModuleScriptIsTheEntry(t *testing.T) {
	const real = `<script type="module" src="/src/main.ts"></script>`
	const decoy = `<script type="module" src="/src/decoy.ts"></script>`
	for _, tc := range []struct {
		name, html string
		none       bool // the page has no module script to build
	}{
		{"commented out", "<!-- " + decoy + " -->\n" + real, false},
		{"commented out alone", "<!--" + decoy + "-->", true},
		{"in an attribute's text", `<div title='` + decoy + `'></div>` + real, false},
		{"in a noscript", "<noscript>" + decoy + "</noscript>" + real, false},
		{"in a template", "<template><p>" + decoy + "</p></template>" + real, false},
		{"in a textarea", "<textarea>" + decoy + "</textarea>" + real, false},
		{"in an svg", "<svg>" + decoy + "</svg>" + real, false},
		{"in another script's body", "<script>var s = '" + decoy + "';</script>" + real, false},
		{"inline module", `<script type="module" src="/src/decoy.ts">console.log(1)</script>` + real, false},
		{"not a module", `<script src="/src/decoy.ts"></script>` + real, false},
		{"unquoted, upper case", `<SCRIPT TYPE=module SRC=/src/main.ts></SCRIPT>`, false},
		{"single quotes", `<script type='module' src='/src/main.ts'></script>`, false},
		{"src first, type in capitals", `<script src="/src/main.ts" type=" MODULE "></script>`, false},
		{"spaces around the equals", "<script type = \"module\"\n\tsrc =\t'/src/main.ts' ></script>", false},
		{"the first of a repeated src", `<script type="module" src="/src/main.ts" src="/src/decoy.ts"></script>`, false},
		{"entity-escaped src", `<script type="module" src="&#x2F;src&sol;main&period;ts"></script>`, false},
		{"entity-escaped type", `<script type="&#109;odule" src="/src/main.ts"></script>`, false},
		{"self-closing", `<script type="module" src="/src/main.ts" /></script>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := project(t, map[string]string{
				"index.html":   tc.html,
				"src/main.ts":  "console.log(\"the real entry\");\n",
				"src/decoy.ts": "console.log(\"the decoy\");\n",
			})
			_, err := Build(context.Background(), Options{Dir: dir, Entry: "index.html", OutDir: "dist"})
			if tc.none {
				if err == nil || !strings.Contains(err.Error(), "has 0 module scripts") {
					t.Fatalf("err = %v, want no module script found", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			js, err := filepath.Glob(filepath.Join(dir, "dist", "assets", "*.js"))
			if err != nil {
				t.Fatal(err)
			}
			if len(js) != 1 {
				t.Fatalf("want one bundle, got %v", js)
			}
			b, err := os.ReadFile(js[0])
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), "the real entry") || strings.Contains(string(b), "the decoy") {
				t.Errorf("the bundle is not of src/main.ts alone:\n%s", b)
			}
			page, err := os.ReadFile(filepath.Join(dir, "dist", "index.html"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(page), "/assets/"+filepath.Base(js[0])) {
				t.Errorf("index.html does not point at the bundle:\n%s", page)
			}
		})
	}
}

// TestIndexHTMLSpelledAnyWay: an index.html whose script is written unquoted, in capitals
// and with character references, beside a commented-out script and a commented-out
// </head>, builds; the real script points at the bundle and the comments stay as written.
func TestIndexHTMLSpelledAnyWay(t *testing.T) {
	const comment = `<!-- <script type="module" src="/src/old.ts"></script> </head> -->`
	dir := project(t, map[string]string{
		"web/index.html":    "<!doctype html>\n<HTML>\n<HEAD>\n  " + comment + "\n  <title>%MODE%</title>\n</HEAD>\n<body>\n  <SCRIPT TYPE=Module SRC=&#x2F;src/main&period;ts></SCRIPT>\n</body>\n</HTML>\n",
		"web/src/main.ts":   "import \"./style.css\";\nconsole.log(1);\n",
		"web/src/style.css": "body { color: rebeccapurple; }\n",
	})
	if _, err := Build(context.Background(), Options{Dir: dir, Entry: "web/index.html", OutDir: "web/dist", Mode: "prod"}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "web/dist/index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`<SCRIPT TYPE=Module SRC="/assets/main-[A-Z0-9]{8}\.js"></SCRIPT>`),
		regexp.MustCompile(regexp.QuoteMeta(comment) + `\n  <title>prod</title>\n  <link rel="stylesheet" crossorigin href="/assets/main-[A-Z0-9]{8}\.css">\n</HEAD>`),
	} {
		if !want.MatchString(html) {
			t.Errorf("index.html does not match %s:\n%s", want, html)
		}
	}
}

// TestModuleScriptOutsideTheProject: a script src that climbs out of the project is
// refused, not bundled.
func TestModuleScriptOutsideTheProject(t *testing.T) {
	dir := project(t, map[string]string{"index.html": `<script type="module" src="../../etc/main.ts"></script>`})
	_, err := Build(context.Background(), Options{Dir: dir, Entry: "index.html", OutDir: "dist"})
	if err == nil || !strings.Contains(err.Error(), "leads outside the project folder") {
		t.Fatalf("err = %v, want a refusal of a src outside the project", err)
	}
}

// FuzzAttrSpansAgreeWithTheTokenizer: the attribute values attrSpans locates in a start
// tag's raw text are the very values the tokenizer decodes, however the tag is written.
func FuzzAttrSpansAgreeWithTheTokenizer(f *testing.F) {
	for _, seed := range []string{
		`<script type="module" src="/src/main.ts"></script>`,
		`<SCRIPT TYPE=module SRC=/src/main.ts>`,
		"<script type = 'module'\n src=\t\"a&amp;b\" src=x>",
		`<script =x src=/a/ / type=module/>`,
		`<script src="unterminated`,
		`<a b c=d e= f=>`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		z := html.NewTokenizer(strings.NewReader(doc))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			raw := []byte(string(z.Raw()))
			spans := attrSpans(raw)
			for more := true; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				if len(k) == 0 {
					continue
				}
				s, ok := spans[string(k)]
				if !ok {
					t.Fatalf("%q: attrSpans lacks %q", raw, k)
				}
				if got := html.UnescapeString(string(raw[s.value[0]:s.value[1]])); got != string(v) {
					t.Fatalf("%q: %s is %q at its span, the tokenizer says %q", raw, k, got, v)
				}
			}
		}
	})
}
