package config

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// ConfigFiles are the names Load looks for in a project folder, in this order.
var ConfigFiles = []string{"kazzle.config.ts", "kazzle.config.mts", "kazzle.config.js", "kazzle.config.mjs", "kazzle.hcl"}

// ErrNoConfig means the folder has none of ConfigFiles.
var ErrNoConfig = errors.New("no kazzle.config.ts or kazzle.hcl")

// Options tune Load. The zero value is the default.
type Options struct {
	// Env is the environment slug a config sees as { env } (TypeScript) or env (HCL).
	Env string
	// Timeout stops a TypeScript config that runs longer (default 2 s).
	Timeout time.Duration
	// MemoryLimit stops a TypeScript config that uses more memory (default 512 MiB).
	MemoryLimit int64
	// MaxCallStack caps the config's call stack depth (default 2,000 frames).
	MaxCallStack int
	// Stderr receives what the config writes with console.log; nil discards it.
	Stderr io.Writer
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.MemoryLimit <= 0 {
		o.MemoryLimit = 512 << 20
	}
	if o.MaxCallStack <= 0 {
		o.MaxCallStack = 2000
	}
	return o
}

// Find returns the configuration file of the project in dir, relative to dir; it looks
// in dir only.
func Find(dir string) (string, error) { return systemLocator().find(dir) }

// Load reads the project configuration found from dir (see Locate): kazzle.config.ts (or .mts, .js, .mjs),
// bundled with esbuild and evaluated in goja with no file system, network, process or
// timers, under Options' time and memory limits; or kazzle.hcl. The result is decoded
// strictly and validated. A problem with the configuration is an *Error listing every
// problem found, located by file, line and column where that can be known.
func Load(ctx context.Context, dir string, o Options) (Project, error) {
	o = o.withDefaults()
	projectDir, file, err := Locate(dir)
	if err != nil {
		return Project{}, err
	}
	// Messages name files as seen from where the command runs.
	shown := func(name string) string { return filepath.Join(projectDir, name) }
	if filepath.Clean(projectDir) == filepath.Clean(dir) {
		shown = func(name string) string { return name }
	}
	if dir, err = filepath.Abs(projectDir); err != nil {
		return Project{}, err
	}
	var p Project
	var msgs []Message
	var inputs []string // the TypeScript config's files, to locate messages in
	if strings.HasSuffix(file, ".hcl") {
		p, msgs, err = loadHCL(dir, file, o.Env)
		if err != nil {
			return Project{}, err
		}
	} else {
		var script string
		script, inputs, err = bundle(dir, file)
		if err != nil {
			return Project{}, err
		}
		value, msg, err := evaluate(ctx, evalRequest{
			Script: script, ScriptName: file, Env: o.Env,
			Timeout: o.Timeout, MemoryLimit: o.MemoryLimit, MaxStack: o.MaxCallStack,
		}, o.Stderr)
		if err != nil {
			return Project{}, err
		}
		if msg != nil {
			if msg.Path != "" { // a value that is not data: locate it by its key
				key := msg.Path[strings.LastIndex(msg.Path, ".")+1:]
				msg.find, msg.findKey = strings.SplitN(key, "[", 2)[0], true
			}
			msgs = []Message{*msg}
		} else if p, msgs = decodeTree(value); len(msgs) == 0 {
			msgs = p.validate()
		}
	}
	p.File, p.Dir = shown(file), projectDir
	if len(msgs) > 0 {
		var sources map[string][]byte
		if inputs != nil {
			sources = readSources(dir, inputs)
		}
		for i := range msgs {
			if msgs[i].File == "" {
				msgs[i].File = file
			}
			if msgs[i].Line == 0 && sources != nil {
				locateInSources(&msgs[i], sources)
			}
			msgs[i].File = shown(msgs[i].File)
		}
		return Project{}, errorOf(msgs...)
	}
	for name, c := range p.Components {
		if c.Kind == KindUI && c.OutDir == "" {
			c.OutDir = "dist"
			p.Components[name] = c
		}
	}
	return p, nil
}

// readSources reads the project files a bundle was made from, for locating messages.
func readSources(dir string, inputs []string) map[string][]byte {
	out := make(map[string][]byte, len(inputs))
	for _, in := range inputs {
		if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(in))); err == nil {
			out[filepath.FromSlash(in)] = b
		}
	}
	return out
}

// locateInSources points m at the one place in the sources that holds what it is
// about: the literal of a string value, or an object key. When there are several (or
// none, as for a value the config computed), m keeps only its path: a guess would mislead.
func locateInSources(m *Message, sources map[string][]byte) {
	var re *regexp.Regexp
	switch {
	case m.findKey && m.find != "":
		re = regexp.MustCompile(`(?:^|[\s{,])["']?(` + regexp.QuoteMeta(m.find) + `)["']?\s*:`)
	case m.find != "":
		q := regexp.QuoteMeta(m.find)
		re = regexp.MustCompile(`"` + q + `"|'` + q + `'|` + "`" + q + "`")
	default:
		return
	}
	var hitFile string
	var hitAt, hits int
	for name, src := range sources {
		for _, loc := range re.FindAllSubmatchIndex(src, 2) {
			hits++
			hitFile = name
			hitAt = loc[0] // a string value: its opening quote, as esbuild points at literals
			if m.findKey {
				hitAt = loc[2] // a key: the name itself
			}
		}
	}
	if hits != 1 {
		return
	}
	src := sources[hitFile]
	m.File = hitFile
	m.Line = bytes.Count(src[:hitAt], []byte("\n")) + 1
	m.Column = hitAt - (bytes.LastIndexByte(src[:hitAt], '\n') + 1) + 1
}
