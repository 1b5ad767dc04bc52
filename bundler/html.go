package bundler

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// page is an index.html entry, handled as Vite handles one: its module script is the
// bundle's entry, pointed at the hashed bundle after the build, with the CSS linked and
// %VITE_X% (any import.meta.env key) replaced.
type page struct {
	html   string
	script [2]int // the src attribute value's offsets in html
	entry  string // the script's module, relative to the project folder, slash-separated
}

// The patterns are compiled on first use: every kazzle command links this package.
var (
	scriptTag = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<script\b([^>]*)>\s*</script>`) })
	attr      = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)\b(type|src)\s*=\s*("[^"]*"|'[^']*')`) })
)

// readEntry returns the esbuild entry point for entry: the module itself, or the one
// module script of an index.html, read from the project.
func readEntry(proj *projectDir, entry string) (string, *page, error) {
	if !strings.HasSuffix(entry, ".html") {
		return "./" + filepath.ToSlash(entry), nil, nil
	}
	b, err := proj.root.ReadFile(filepath.FromSlash(entry))
	if err != nil {
		return "", nil, err
	}
	p := &page{html: string(b)}
	found := 0
	for _, tag := range scriptTag().FindAllStringSubmatchIndex(p.html, -1) {
		attrs := p.html[tag[2]:tag[3]]
		var isModule bool
		var src [2]int
		for _, a := range attr().FindAllStringSubmatchIndex(attrs, -1) {
			name, value := strings.ToLower(attrs[a[2]:a[3]]), attrs[a[4]+1:a[5]-1]
			switch name {
			case "type":
				isModule = value == "module"
			case "src":
				src = [2]int{tag[2] + a[4] + 1, tag[2] + a[5] - 1}
			}
		}
		if !isModule || src[1] == 0 {
			continue
		}
		found++
		p.script = src
		// "/src/main.tsx" and "src/main.tsx" both name a file under Vite's root, the
		// page's folder.
		p.entry = path.Join(path.Dir(filepath.ToSlash(entry)), p.html[src[0]:src[1]])
	}
	if found != 1 {
		return "", nil, fmt.Errorf("%s has %d module scripts with a src; kazzle build needs exactly one, such as <script type=\"module\" src=\"/src/main.tsx\"></script>", entry, found)
	}
	return "./" + p.entry, p, nil
}

// render returns the page for the built bundle: the script pointed at the hashed entry
// chunk, its CSS linked in the head, and %KEY% replaced for every import.meta.env key.
func (p *page) render(o Options, metafile, dir, outDir string) ([]byte, error) {
	var meta struct {
		Outputs map[string]struct {
			EntryPoint string `json:"entryPoint"`
			CSSBundle  string `json:"cssBundle"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(metafile), &meta); err != nil {
		return nil, err
	}
	var js, css string
	for out, info := range meta.Outputs {
		if info.EntryPoint == p.entry {
			js, css = out, info.CSSBundle
		}
	}
	if js == "" {
		return nil, fmt.Errorf("the build has no output for %s", p.entry)
	}
	url := func(out string) (string, error) {
		rel, err := filepath.Rel(outDir, filepath.Join(dir, filepath.FromSlash(out)))
		if err != nil {
			return "", err
		}
		return urlJoin(o.Base, filepath.ToSlash(rel)), nil
	}
	jsURL, err := url(js)
	if err != nil {
		return nil, err
	}
	html := p.html[:p.script[0]] + jsURL + p.html[p.script[1]:]
	if css != "" {
		cssURL, err := url(css)
		if err != nil {
			return nil, err
		}
		link := fmt.Sprintf(`<link rel="stylesheet" crossorigin href="%s">`, cssURL)
		if i := strings.Index(strings.ToLower(html), "</head>"); i >= 0 {
			html = html[:i] + "  " + link + "\n" + html[i:]
		} else {
			html = link + "\n" + html
		}
	}
	return []byte(replaceEnv(html, o)), nil
}

// replaceEnv replaces %KEY% for each import.meta.env key, as Vite does in HTML.
func replaceEnv(html string, o Options) string {
	env := envValues(o)
	pairs := make([]string, 0, 2*len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		pairs = append(pairs, "%"+k+"%", fmt.Sprint(env[k]))
	}
	return strings.NewReplacer(pairs...).Replace(html)
}
