package config

import (
	"encoding/json"
	"fmt"
	"path/filepath"
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
// is not a relative file of the project or "kazzle" is refused with its location.
func bundle(dir, file string) (script string, inputs []string, err error) {
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
		Metafile:    true,
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
func importGuard(dir string) api.Plugin {
	return api.Plugin{Name: "kazzle", Setup: func(b api.PluginBuild) {
		b.OnResolve(api.OnResolveOptions{Filter: `.*`}, func(args api.OnResolveArgs) (api.OnResolveResult, error) {
			switch {
			case args.Kind == api.ResolveEntryPoint:
				return api.OnResolveResult{}, nil
			case args.Path == "kazzle":
				return api.OnResolveResult{Path: "kazzle", Namespace: "kazzle"}, nil
			case strings.HasPrefix(args.Path, "./") || strings.HasPrefix(args.Path, "../"):
				target := filepath.Join(args.ResolveDir, filepath.FromSlash(args.Path))
				if rel, err := filepath.Rel(dir, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
					return api.OnResolveResult{}, fmt.Errorf("import %q leaves the project folder: a config may import only files inside it", args.Path)
				}
				return api.OnResolveResult{}, nil
			case strings.HasPrefix(args.Path, "node:") || isNodeBuiltin(args.Path):
				return api.OnResolveResult{}, fmt.Errorf("import %q is not allowed: the config runs without file system, network or process access; it may import only relative files and \"kazzle\"", args.Path)
			default:
				return api.OnResolveResult{}, fmt.Errorf("import %q is not allowed: a config may import only relative files of the project (\"./…\") and \"kazzle\", not packages", args.Path)
			}
		})
		b.OnLoad(api.OnLoadOptions{Filter: `.*`, Namespace: "kazzle"}, func(api.OnLoadArgs) (api.OnLoadResult, error) {
			contents := kazzleModule
			return api.OnLoadResult{Contents: &contents, Loader: api.LoaderJS}, nil
		})
	}}
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
