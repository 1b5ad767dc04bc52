package cmd

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/bundler"
	"github.com/kazzle/kazzle/config"
)

// buildCmd is `kazzle build [component…] --env=Y`: each UI component of the project is
// built with only its declared VITE_ values inlined, and its output scanned for every
// other secret value of the environment.
func (c *cli) buildCommand() *cobra.Command {
	var o buildOptions
	cmd := &cobra.Command{
		Use:   "build [component…] --env=ENV [--dir=DIR] [--gzip-sizes] [--json]",
		Short: "build the UI components, inlining only their VITE_ secrets",
		Long: "Builds the UI components of kazzle.config.ts (all, or those named) with only their\n" +
			"declared VITE_ secrets inlined, and checks the output for every other secret.",
		Example: "  kazzle build --env prod\n  kazzle build web --env dev --gzip-sizes",
		RunE:    func(cmd *cobra.Command, args []string) error { return c.buildCmd(cmd.Context(), &o, args) },
	}
	c.apiFlags(cmd, &o.common, true)
	cmd.Flags().StringVar(&o.dir, "dir", ".", "the folder to find the project configuration from: it or its nearest parent")
	cmd.Flags().BoolVar(&o.gzipSizes, "gzip-sizes", false, "also report each file's gzipped size, as Vite's build report does (gzip takes about a tenth of a build)")
	cmd.ValidArgsFunction = c.completeComponents(&o.dir, &o.common)
	return cmd
}

type buildOptions struct {
	common
	dir       string
	gzipSizes bool
}

func (c *cli) buildCmd(ctx context.Context, o *buildOptions, args []string) error {
	co, dir, gzipSizes := o.common, &o.dir, &o.gzipSizes
	if co.env == "" {
		return usagef("no environment: pass --env=NAME or set KAZZLE_ENV")
	}
	p, err := config.Load(ctx, *dir, config.Options{Env: co.env, Stderr: c.stderr})
	if err != nil {
		return err
	}
	// A build allocates a lot and then the process ends: collecting garbage on the way
	// is wasted work, as esbuild's own CLI knows (it turns the GC off for one entry).
	// The memory limit brings the collector back should a project be huge. (Not before
	// the config has run: its memory limit is measured on the heap.)
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(1 << 30)
	names, err := uiComponents(p, args)
	if err != nil {
		return err
	}
	client, err := c.projectClient(p, &co)
	if err != nil {
		return err
	}
	// The whole environment: the declared VITE_ values to inline, and every stored field
	// for the leak scan. Nothing of it is written anywhere but into the checked output.
	vars, scan, err := client.ResolveForScan(ctx, api.ResolveRequest{Collection: co.collection, Environment: co.env})
	if err != nil {
		return fmt.Errorf("resolve %s/%s: %w", co.collection, co.env, err)
	}
	built, err := c.buildUI(ctx, p, p.Dir, names, vars, scan, co, *gzipSizes)
	if err != nil {
		return err
	}
	if co.json {
		return c.printJSON(api.BuildReport{Components: built})
	}
	for _, b := range built {
		c.printSizes(p.Dir, b)
	}
	return nil
}

// buildUI builds the named UI components of p with the environment's vars: each
// inlines its declared values and is scanned for the scan values (every stored field)
// but its own. reportSizes adds the gzipped sizes that kazzle build prints.
func (c *cli) buildUI(ctx context.Context, p config.Project, dir string, names []string, vars, scan []api.Var, co common, reportSizes bool) ([]api.BuiltComponent, error) {
	var built []api.BuiltComponent
	for _, name := range names {
		comp := p.Components[name]
		var allow []string
		if comp.LeakScan != nil {
			allow = comp.LeakScan.Allow
		}
		inline, others, err := splitSecrets(name, comp.Secrets, allow, vars, scan, co)
		if err != nil {
			return nil, err
		}
		res, err := bundler.Build(ctx, bundler.Options{
			Dir: dir, Entry: comp.Entry, OutDir: comp.OutDir, Mode: co.env,
			Inline: inline, Others: others, NodeEnv: c.getenv("NODE_ENV"), Base: comp.Base,
			ReportCompressedSize: reportSizes,
		})
		// esbuild's warnings go to stderr whatever happened, and with --json into the
		// component's result too: a build that succeeds may still hold a bug they point at.
		for _, w := range res.Warnings {
			c.warnf("%s", w)
		}
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", name, err)
		}
		built = append(built, builtReport(name, res))
	}
	return built, nil
}

// projectClient returns the API client of a command run on a loaded project, whose
// collection it takes when co names none (needCollection would load the config again).
func (c *cli) projectClient(p config.Project, co *common) (*api.Client, error) {
	if co.collection == "" {
		co.collection = p.Collection
	}
	if co.collection == "" {
		return nil, usagef("no collection: pass --collection=NAME, set KAZZLE_COLLECTION, or set collection in %s", p.File)
	}
	return c.client(co)
}

// uiComponents returns the UI components to build: those named, or all of them.
func uiComponents(p config.Project, named []string) ([]string, error) {
	if len(named) == 0 {
		for _, name := range p.ComponentNames() {
			if p.Components[name].Kind == config.KindUI {
				named = append(named, name)
			}
		}
		if len(named) == 0 {
			return nil, fmt.Errorf("%s declares no UI component (kind \"ui\") to build", p.File)
		}
		return named, nil
	}
	for _, name := range named {
		comp, ok := p.Components[name]
		switch {
		case !ok:
			return nil, fmt.Errorf("%s has no component %q; it has %s", p.File, name, strings.Join(p.ComponentNames(), ", "))
		case comp.Kind != config.KindUI:
			return nil, fmt.Errorf("component %s is a %s component: kazzle build builds UI components; kazzle deploy pushes secrets to process components", name, comp.Kind)
		}
	}
	return named, nil
}

// splitSecrets returns the component's declared values, which must all exist, and what
// the leak scan looks for: every scan value but the declared ones themselves, named by
// the variable that exports it or else as SECRET (a string's value) or SECRET.field. A field that a declared value
// only refers to is scanned for too: found, it is reported as held by that value.
//
// allow names secrets, or variables, the component's leakScan.allow leaves out of the scan.
func splitSecrets(component string, declared, allow []string, vars, scan []api.Var, co common) (inline, others []bundler.Secret, err error) {
	type field struct{ id, name string }
	exported := map[field]string{}
	inlined := map[field]bool{}
	for _, v := range vars {
		exported[field{v.SecretID, v.Field}] = v.Name
		if slices.Contains(declared, v.Name) {
			inline = append(inline, bundler.Secret{Name: v.Name, Value: v.Value})
			inlined[field{v.SecretID, v.Field}] = true
		}
	}
	for _, name := range declared {
		if !slices.ContainsFunc(inline, func(s bundler.Secret) bool { return s.Name == name }) {
			return nil, nil, withHint(fmt.Errorf("component %s declares %s, which %s/%s does not have", component, name, co.collection, co.env),
				"set it with: kazzle secrets set %s --collection %s --env %s", name, co.collection, co.env)
		}
	}
	for _, v := range scan {
		f := field{v.SecretID, v.Field}
		name := exported[f]
		if inlined[f] || slices.Contains(allow, v.Name) || (name != "" && slices.Contains(allow, name)) {
			continue
		}
		switch {
		case name != "":
		case v.Field == "value": // a string secret's one field
			name = v.Name
		default:
			name = v.Name + "." + v.Field
		}
		others = append(others, bundler.Secret{Name: name, Value: v.Value})
	}
	return inline, others, nil
}

// printSizes prints a component's output files with their sizes, and their gzipped
// sizes when the build measured them, as Vite does.
func (c *cli) printSizes(dir string, b api.BuiltComponent) {
	fmt.Fprintln(c.stdout, printablef("%s → %s", b.Component, filepath.ToSlash(filepath.Join(dir, b.OutDir))))
	gzipped := slices.ContainsFunc(b.Files, func(f api.BuiltFile) bool { return f.Gzip > 0 })
	t := newTable(c.stdout)
	row := func(cols ...string) { t.row(append([]string{""}, cols...)...) }
	if gzipped {
		row("FILE", "SIZE", "GZIP")
	} else {
		row("FILE", "SIZE")
	}
	for _, f := range b.Files {
		switch {
		case !gzipped:
			row(f.Path, kb(f.Size))
		case f.Gzip > 0:
			row(f.Path, kb(f.Size), kb(f.Gzip))
		default: // a source map
			row(f.Path, kb(f.Size), "-")
		}
	}
	t.flush()
}

func kb(n int) string { return fmt.Sprintf("%.2f kB", float64(n)/1000) }
