package config

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
)

// kazzleModule is the virtual module `kazzle` that configs import defineConfig from.
// defineConfig only returns its argument: it exists for the types (see init.go).
const kazzleModule = `export function defineConfig(config) { return config; }
export default { defineConfig };
`

// bundleGlobal is the variable the IIFE bundle assigns the config module's exports to.
const bundleGlobal = "__kazzleConfig"

// bundle compiles the TypeScript or JavaScript config at file (relative to dir) and the
// project files it imports into one script for goja: ES2017 (which goja runs), with an
// inline source map so runtime errors point into the original files. Any import that
// is not a relative file of the project or "kazzle", that has an import attribute other
// than type "json", or that is not a module or JSON file is refused with its location.
func bundle(dir, file string) (script string, inputs []string, err error) {
	// Files are inside the project when their real paths are in its real folder, so the
	// bundle is made from that folder, whose paths esbuild's resolver gives.
	dir, err = filepath.EvalSymlinks(dir)
	if err != nil {
		return "", nil, fmt.Errorf("project folder: %w", err)
	}
	res := api.Build(api.BuildOptions{
		AbsWorkingDir: dir,
		EntryPoints:   []string{"./" + filepath.ToSlash(file)},
		Bundle:        true,
		Write:         false,
		Format:        api.FormatIIFE,
		GlobalName:    bundleGlobal,
		Target:        api.ES2017,
		Platform:      api.PlatformNeutral,
		Sourcemap:     api.SourceMapInline,
		Outfile:       "kazzle.config.js",
		LogLevel:      api.LogLevelSilent,
		// Two keys of the same name in an object literal: the first is silently lost.
		LogOverride: map[string]api.LogLevel{"duplicate-object-key": api.LogLevelError},
		Plugins:     []api.Plugin{importGuard(dir)},
		Loader:      configLoaders(),
		Metafile:    true,
		// No tsconfig.json is read: its "extends" could name any file on the machine,
		// and esbuild would parse it and quote it in an error. A config needs none.
		TsconfigRaw: "{}",
	})
	if len(res.Errors) > 0 {
		msgs := make([]Message, 0, len(res.Errors))
		for _, e := range res.Errors {
			msgs = append(msgs, esbuildMessage(e))
		}
		return "", nil, errorOf(msgs...)
	}
	if len(res.OutputFiles) != 1 {
		return "", nil, fmt.Errorf("bundle %s: esbuild wrote %d files, want 1", file, len(res.OutputFiles))
	}
	var meta struct {
		Inputs map[string]json.RawMessage `json:"inputs"`
	}
	if err := json.Unmarshal([]byte(res.Metafile), &meta); err != nil {
		return "", nil, fmt.Errorf("bundle %s: read esbuild's metafile: %w", file, err)
	}
	for in := range meta.Inputs {
		if !strings.Contains(in, ":") { // namespaced inputs, such as kazzle:kazzle, are not files
			inputs = append(inputs, in)
		}
	}
	return string(res.OutputFiles[0].Contents), inputs, nil
}

func esbuildMessage(e api.Message) Message {
	m := Message{Text: e.Text}
	if e.Location != nil {
		m.File, m.Line, m.Column = filepath.FromSlash(e.Location.File), e.Location.Line, e.Location.Column+1
	}
	return m
}

// importGuard lets a config import only "kazzle" and relative files inside the project:
// the config runs with no file system, network or process, so a package from npm or a
// Node built-in could not work, and a file outside the project is none of its business.
// A file is inside the project when its real path is, once every symlink is resolved:
// a link in the project to / or to a home folder does not open what it points at. Only
// modules and JSON are read, and no import attribute may make esbuild read a file as
// text or bytes: a config that could, could copy a key file into a UI component's base.
func importGuard(dir string) api.Plugin {
	return api.Plugin{Name: "kazzle", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `.*`}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
			if args.PluginData == (guardResolve{}) {
				return api.OnResolveResult{}, nil // the guard's own resolution, below
			}
			if err := checkAttributes(args.Path, args.With); err != nil {
				return api.OnResolveResult{}, err
			}
			switch {
			case args.Kind == api.ResolveEntryPoint:
				if !resolvesInside(b, dir, args) {
					return api.OnResolveResult{}, fmt.Errorf("%s leaves the project folder through a symlink: keep the configuration file in the project", strings.TrimPrefix(args.Path, "./"))
				}
				return api.OnResolveResult{}, nil
			case args.Path == "kazzle":
				return api.OnResolveResult{Path: "kazzle", Namespace: "kazzle"}, nil
			case strings.HasPrefix(args.Path, "./") || strings.HasPrefix(args.Path, "../"):
				if !inside(dir, filepath.Join(args.ResolveDir, filepath.FromSlash(args.Path))) {
					return api.OnResolveResult{}, fmt.Errorf("import %q leaves the project folder: a config may import only files inside it", args.Path)
				}
				if !resolvesInside(b, dir, args) {
					return api.OnResolveResult{}, fmt.Errorf("import %q leaves the project folder through a symlink: a config may import only files inside it", args.Path)
				}
				return api.OnResolveResult{}, nil
			case strings.HasPrefix(args.Path, "node:") || isNodeBuiltin(args.Path):
				return api.OnResolveResult{}, fmt.Errorf("import %q is not allowed: the config runs without file system, network or process access; it may import only relative files and \"kazzle\"", args.Path)
			default:
				return api.OnResolveResult{}, fmt.Errorf("import %q is not allowed: a config may import only relative files of the project (\"./…\") and \"kazzle\", not packages", args.Path)
			}
		})
		// Every file esbuild is about to read, the config itself included, is checked
		// again here; esbuild then reads it with configLoaders.
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "file"}, func(args api.OnLoadArgs) (api.OnLoadResult, error) {
			if err := checkLoad(dir, args); err != nil {
				return api.OnLoadResult{}, err
			}
			return loadConfigFile(args.Path)
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "kazzle"}, func(api.OnLoadArgs) (api.OnLoadResult, error) {
			contents := kazzleModule
			return api.OnLoadResult{Contents: &contents, Loader: api.LoaderJS}, nil
		})
	}}
}

// guardResolve marks the resolutions importGuard asks esbuild for.
type guardResolve struct{}

// resolvesInside says whether the file esbuild resolves args to ("./lib" may be
// lib/index.ts) is in dir once its symlinks are resolved. A path esbuild cannot resolve
// counts as inside: esbuild then says so where it is written.
func resolvesInside(b api.PluginBuild, dir string, args api.OnResolveArgs) bool {
	r := b.Resolve(args.Path, api.ResolveOptions{Kind: args.Kind, Importer: args.Importer, Namespace: args.Namespace,
		ResolveDir: args.ResolveDir, With: args.With, PluginData: guardResolve{}})
	if len(r.Errors) > 0 || r.Namespace != "file" {
		return true
	}
	real, err := filepath.EvalSymlinks(r.Path)
	return err == nil && inside(dir, real)
}

// inside says whether path is dir or in it.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// configExtensions are the files a config may import, as its error messages name them.
const configExtensions = ".ts, .tsx, .mts, .cts, .js, .mjs, .cjs and .json"

// importable says whether a config may import a file with extension ext.
func importable(ext string) bool {
	switch ext {
	case ".ts", ".tsx", ".mts", ".cts", ".js", ".mjs", ".cjs", ".json":
		return true
	}
	return false
}

// configLoaders is esbuild's loader map for a config bundle: esbuild adds its own
// defaults to the map it is given, so those a config may not use (text, CSS, JSX and
// files without an extension, which it would read as JavaScript) are turned off, and
// the modules keep esbuild's own loaders.
func configLoaders() map[string]api.Loader {
	return map[string]api.Loader{
		"": api.LoaderNone, ".txt": api.LoaderNone, ".css": api.LoaderNone, ".module.css": api.LoaderNone,
		".jsx": api.LoaderNone,
	}
}

// checkAttributes refuses every import attribute but type "json": type "text" or
// "bytes" would read any file whatever its extension.
func checkAttributes(path string, with map[string]string) error {
	for _, key := range slices.Sorted(maps.Keys(with)) {
		if key != "type" || with[key] != "json" {
			return fmt.Errorf("import %q with { %s: %q } is not allowed: a config may import modules, and JSON files with { type: \"json\" } or no attribute", path, key, with[key])
		}
	}
	return nil
}

// checkLoad allows esbuild to read the file args names only if its real path is inside
// the project's real folder dir, its name and real name end in one of configExtensions,
// and its import attributes are allowed.
func checkLoad(dir string, args api.OnLoadArgs) error {
	name := args.Path
	if rel, err := filepath.Rel(dir, args.Path); err == nil && inside(dir, args.Path) {
		name = filepath.ToSlash(rel)
	}
	if err := checkAttributes(name, args.With); err != nil {
		return err
	}
	real, err := filepath.EvalSymlinks(args.Path)
	if err != nil || !inside(dir, real) {
		return fmt.Errorf("%s is not inside the project folder once its symlinks are resolved: a config may import only files inside it", filepath.Base(name))
	}
	for _, p := range []string{args.Path, real} {
		if !importable(filepath.Ext(p)) {
			return fmt.Errorf("import of %s is not allowed: a config may import only %s files", name, configExtensions)
		}
	}
	if args.With["type"] == "json" && filepath.Ext(real) != ".json" {
		return fmt.Errorf("import of %s with { type: \"json\" } is not allowed: that attribute is for .json files", name)
	}
	return nil
}

// MaxConfigFile caps each file a config bundle reads: a configuration is a few
// kilobytes of code and data, not a place for large files.
const MaxConfigFile = 1 << 20

// loadConfigFile reads a file of the config bundle for esbuild, at most MaxConfigFile
// bytes, with its source-map comments made inert, so that esbuild reads nothing but
// the files the guard allowed.
func loadConfigFile(path string) (api.OnLoadResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return api.OnLoadResult{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxConfigFile+1))
	if err != nil {
		return api.OnLoadResult{}, err
	}
	if len(data) > MaxConfigFile {
		return api.OnLoadResult{}, fmt.Errorf("%s is larger than %d bytes, the limit of a file a config imports", filepath.Base(path), MaxConfigFile)
	}
	contents := inertSourceMapComments(string(data))
	loader := api.LoaderJS
	switch filepath.Ext(path) {
	case ".ts", ".mts", ".cts":
		loader = api.LoaderTS
	case ".tsx":
		loader = api.LoaderTSX
	case ".json":
		loader = api.LoaderJSON
	}
	return api.OnLoadResult{Contents: &contents, Loader: loader, ResolveDir: filepath.Dir(path)}, nil
}

// inertSourceMapComments renames the key of every comment that names a source map
// (//# sourceMappingURL=…, and the /*# and @ forms), which esbuild would otherwise
// read, from wherever on the machine the comment points, to map the bundle back.
func inertSourceMapComments(src string) string {
	const key = "sourceMappingURL="
	var b strings.Builder
	for {
		i := strings.Index(src, key)
		if i < 0 {
			b.WriteString(src)
			return b.String()
		}
		j := i
		for j > 0 && (src[j-1] == ' ' || src[j-1] == '\t') {
			j--
		}
		comment := j >= 3 && (src[j-1] == '#' || src[j-1] == '@') && (src[j-3:j-1] == "//" || src[j-3:j-1] == "/*")
		b.WriteString(src[:i])
		if comment {
			b.WriteString("sourceMappingURL-ignored=")
		} else {
			b.WriteString(key)
		}
		src = src[i+len(key):]
	}
}

// isNodeBuiltin says whether name (without "node:") is one of Node's modules, for a
// clearer refusal. (A switch: a map would be built at every start of the binary.)
func isNodeBuiltin(name string) bool {
	switch strings.SplitN(name, "/", 2)[0] {
	case "assert", "buffer", "child_process", "cluster", "crypto", "dgram", "dns", "events", "fs",
		"http", "http2", "https", "module", "net", "os", "path", "perf_hooks", "process", "querystring",
		"readline", "stream", "string_decoder", "timers", "tls", "tty", "url", "util", "v8", "vm",
		"worker_threads", "zlib":
		return true
	}
	return false
}
