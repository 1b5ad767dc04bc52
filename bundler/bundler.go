// Package bundler builds the UI components of a project with esbuild's Go API, the way
// Vite builds them, inlining only the declared VITE_ values, and scans every output file
// for the values of the environment's other secrets before anything is written.
//
// [Build] takes [Options] and returns a [Result] whose warnings, like a [*BuildError]'s
// errors, are located [config.Message]s; a leak is a [*LeakError] naming the secret and
// the file, never the value.
package bundler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/kazzle/kazzle/config"
)

// Secret is a resolved secret value: an environment variable name and its plaintext.
type Secret struct {
	Name  string
	Value string
}

// Options describe one build of a UI component.
type Options struct {
	// Dir is the project folder; Entry (a module or an index.html) and OutDir are
	// relative to it.
	Dir    string
	Entry  string
	OutDir string
	// Mode is import.meta.env.MODE: the environment slug.
	Mode string
	// Inline are the values import.meta.env exposes: the component's declared VITE_
	// secrets. A name without the VITE_ prefix is refused.
	Inline []Secret
	// Others are the environment's other secret values: none may appear in the output.
	Others []Secret
	// NodeEnv is NODE_ENV as the build sees it; "" means "production". As in Vite, PROD
	// (and minification and source maps) follow NODE_ENV == "production", DEV the opposite.
	NodeEnv string
	// Base is import.meta.env.BASE_URL and the prefix of asset URLs; default "/".
	Base string
	// ReportCompressedSize fills in each file's gzipped size, as Vite's build report
	// shows it (its build.reportCompressedSize); source maps are left out, as in Vite.
	ReportCompressedSize bool
}

// File is one output file, its path relative to OutDir.
type File struct {
	Path string `json:"path"`
	Size int    `json:"size"`
	// Gzip is the gzipped size, with Options.ReportCompressedSize, or 0.
	Gzip int `json:"gzip,omitempty"`
}

// Result is a finished build.
type Result struct {
	OutDir string `json:"outDir"`
	Files  []File `json:"files"`
	// Warnings are esbuild's warnings about the sources, located as its errors are.
	// Build returns them with an error too, once esbuild has run, so that a refused
	// build still shows what esbuild warned about.
	Warnings []config.Message `json:"warnings,omitempty"`
}

// LeakError means an output file holds the value of a secret that is not an inlined
// VITE_ value. It names the secret and the file, never the value.
type LeakError struct {
	Secret string
	File   string
	// Source is the source, in File's sourcesContent, whose text holds the value, when
	// File is a source map and the value is there.
	Source string
	// SameAs names an inlined secret whose value is this one or holds it, if there is
	// one: inlining it put the other secret in the bundle too.
	SameAs string
}

func (e *LeakError) Error() string {
	where := e.File
	if e.Source != "" {
		where += fmt.Sprintf(" (the text of the source %s)", e.Source)
	}
	msg := fmt.Sprintf("the value of %s appears in %s: only VITE_ values may reach a UI bundle; the output was removed", e.Secret, where)
	if e.SameAs != "" {
		msg += fmt.Sprintf(" (the inlined value of %s holds it, and whatever a VITE_ value holds is public: give them different values, or stop referring to it)", e.SameAs)
	}
	return msg
}

// ErrNotVite means a secret to inline is not a VITE_ secret.
var ErrNotVite = errors.New("only VITE_ secrets can be inlined into a UI bundle")

// viteTargets are Vite 8's default browser targets ('baseline-widely-available').
var viteTargets = []api.Engine{
	{Name: api.EngineChrome, Version: "111"},
	{Name: api.EngineEdge, Version: "111"},
	{Name: api.EngineFirefox, Version: "114"},
	{Name: api.EngineSafari, Version: "16.4"},
}

// Build bundles the component, scans the output for secret values, and only then
// replaces OutDir with it. On a leak it writes nothing, removes OutDir, and returns a
// *LeakError. OutDir is refused before anything is built when it is the project folder,
// lies outside it (through a symlink too), or holds the entry; writes and removals never
// leave the project folder, and a symlink in OutDir is removed, never followed.
// Sources esbuild cannot build give a *BuildError with each error's location; its
// warnings come in Result.Warnings, with or without an error.
func Build(ctx context.Context, o Options) (Result, error) {
	if o.Base == "" {
		o.Base = "/"
	}
	if !strings.HasSuffix(o.Base, "/") {
		o.Base += "/"
	}
	if o.NodeEnv == "" {
		o.NodeEnv = "production"
	}
	for _, s := range o.Inline {
		if !strings.HasPrefix(s.Name, "VITE_") {
			return Result{}, fmt.Errorf("%s: %w", s.Name, ErrNotVite)
		}
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return Result{}, err
	}
	proj, err := openProject(dir)
	if err != nil {
		return Result{}, err
	}
	defer proj.Close()
	outDir := filepath.Join(dir, filepath.FromSlash(o.OutDir))
	entry, page, err := readEntry(proj, o.Entry)
	if err != nil {
		return Result{}, err
	}
	// The build replaces outDir: it must not hold the sources, and every write and
	// removal below goes to where it really is.
	realOut, err := proj.checkOutDir(o.OutDir, []string{o.Entry, entry})
	if err != nil {
		return Result{}, err
	}
	production := o.NodeEnv == "production"
	opts := api.BuildOptions{
		AbsWorkingDir:   dir,
		EntryPoints:     []string{entry},
		Bundle:          true,
		Write:           false,
		Format:          api.FormatESModule,
		Splitting:       true,
		Outdir:          outDir,
		EntryNames:      "assets/[name]-[hash]",
		ChunkNames:      "assets/[name]-[hash]",
		AssetNames:      "assets/[name]-[hash]",
		PublicPath:      o.Base,
		Platform:        api.PlatformBrowser,
		Engines:         viteTargets,
		JSX:             api.JSXAutomatic,
		JSXImportSource: "react",
		Loader: map[string]api.Loader{
			".svg": api.LoaderFile, ".png": api.LoaderFile, ".jpg": api.LoaderFile, ".gif": api.LoaderFile,
			".webp": api.LoaderFile, ".woff": api.LoaderFile, ".woff2": api.LoaderFile,
		},
		Define:            defines(o),
		MinifyWhitespace:  production,
		MinifyIdentifiers: production,
		MinifySyntax:      production,
		Metafile:          true,
		LogLevel:          api.LogLevelSilent,
		Charset:           api.CharsetUTF8,
	}
	if production {
		opts.Sourcemap = api.SourceMapLinked
	}
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	res := api.Build(opts)
	warned := Result{Warnings: messages(dir, res.Warnings)}
	if len(res.Errors) > 0 {
		return warned, &BuildError{Entry: o.Entry, Messages: messages(dir, res.Errors)}
	}
	files := make(map[string][]byte, len(res.OutputFiles)+1)
	for _, f := range res.OutputFiles {
		rel, err := filepath.Rel(outDir, f.Path)
		if err != nil {
			return warned, err
		}
		files[filepath.ToSlash(rel)] = f.Contents
	}
	if page != nil {
		html, err := page.render(o, res.Metafile, dir, outDir)
		if err != nil {
			return warned, err
		}
		files["index.html"] = html
	}
	// Compressing for the report takes longer than the scan and the write together, so
	// it runs beside them; it only reads the output in memory.
	var gzipped map[string]int
	var sizing sync.WaitGroup
	if o.ReportCompressedSize {
		sizing.Go(func() { gzipped = gzipSizes(files) })
	}
	if leak := scan(files, o.Inline, o.Others); leak != nil {
		sizing.Wait()
		if err := proj.remove(realOut); err != nil {
			return warned, fmt.Errorf("%w (and removing it failed: %w)", leak, err)
		}
		return warned, leak
	}
	err = proj.replace(realOut, files)
	sizing.Wait()
	if err != nil {
		return warned, err
	}
	out := Result{OutDir: o.OutDir, Warnings: warned.Warnings}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		out.Files = append(out.Files, File{Path: name, Size: len(files[name]), Gzip: gzipped[name]})
	}
	return out, nil
}

// envValues are the keys of import.meta.env: Vite's own and each declared VITE_ value.
func envValues(o Options) map[string]any {
	production := o.NodeEnv == "production"
	env := map[string]any{
		"BASE_URL": o.Base,
		"MODE":     o.Mode,
		"DEV":      !production,
		"PROD":     production,
		"SSR":      false,
	}
	for _, s := range o.Inline {
		env[s.Name] = s.Value
	}
	return env
}

// defines are Vite's replacements: each key of envValues, and import.meta.env as a whole
// replaced by an object of only those keys, so that a read of an undeclared key is
// undefined and nothing else of the environment can leak.
func defines(o Options) map[string]string {
	env := envValues(o)
	d := map[string]string{
		"process.env.NODE_ENV": jsonOf(o.NodeEnv),
		"import.meta.hot":      "undefined",
		"import.meta.env":      jsonOf(env),
	}
	for k, v := range env {
		d["import.meta.env."+k] = jsonOf(v)
	}
	return d
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // strings, booleans and maps of them always encode
	}
	return string(b)
}

// urlJoin joins a base URL path and a file path.
func urlJoin(base, file string) string { return base + path.Clean(file) }
