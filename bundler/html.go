package bundler

import (
	"encoding/json"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// page is an index.html entry, handled as Vite handles one: its module script is the
// bundle's entry, pointed at the hashed bundle after the build, with the CSS linked and
// %VITE_X% (any import.meta.env key) replaced.
type page struct {
	html    string
	script  [2]int // the src attribute value's offsets in html, quotes included
	headEnd int    // the offset of the </head> tag in html, or -1
	entry   string // the script's module, relative to the project folder, slash-separated
}

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
	p, found, err := parsePage(b)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", entry, err)
	}
	if found != 1 {
		return "", nil, fmt.Errorf("%s has %d module scripts with a src; kazzle build needs exactly one, such as <script type=\"module\" src=\"/src/main.tsx\"></script>", entry, found)
	}
	// "/src/main.tsx" and "src/main.tsx" both name a file under Vite's root, the page's
	// folder; one that climbs out of the project is not a source of it.
	p.entry = path.Join(path.Dir(filepath.ToSlash(entry)), p.entry)
	if p.entry == ".." || strings.HasPrefix(p.entry, "../") {
		return "", nil, fmt.Errorf("%s: the module script's src leads outside the project folder: point it at a module of the project, such as /src/main.tsx", entry)
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
	edits := []edit{{p.script[0], p.script[1], `"` + html.EscapeString(jsURL) + `"`}}
	if css != "" {
		cssURL, err := url(css)
		if err != nil {
			return nil, err
		}
		link := fmt.Sprintf(`<link rel="stylesheet" crossorigin href="%s">`, html.EscapeString(cssURL))
		if p.headEnd >= 0 {
			edits = append(edits, edit{p.headEnd, p.headEnd, "  " + link + "\n"})
		} else {
			edits = append(edits, edit{0, 0, link + "\n"})
		}
	}
	return []byte(replaceEnv(apply(p.html, edits), o)), nil
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
