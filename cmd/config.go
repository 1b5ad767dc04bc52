package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/kazzle/kazzle/config"
)

// configCmd is `kazzle config check|print`: it evaluates the project configuration
// (kazzle.config.ts with esbuild and goja, or kazzle.hcl) without any server.
func (c *cli) configCmd(ctx context.Context, args []string) error {
	fs := c.flags("config", nil)
	env := fs.String("env", c.getenv("KAZZLE_ENV"), "environment slug the config sees as { env } (KAZZLE_ENV)")
	dir := fs.String("dir", ".", "the project folder")
	asJSON := fs.Bool("json", false, "print JSON (print)")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "Usage: kazzle config check|print [--env=ENV] [--dir=DIR] [--json]\n\ncheck evaluates kazzle.config.ts (or kazzle.hcl) and reports every problem; print shows\neach component's kind, secrets and targets.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	sub := fs.Arg(0)
	if fs.NArg() != 1 || (sub != "check" && sub != "print") {
		return usagef("usage: kazzle config check|print [--env=ENV] [--dir=DIR] [--json]")
	}
	p, err := config.Load(ctx, *dir, config.Options{Env: *env, Stderr: c.stderr})
	if err != nil {
		return err
	}
	if sub == "check" {
		names := p.ComponentNames()
		fmt.Fprintf(c.stderr, "kazzle: %s is valid: %d %s (%s)\n", p.File, len(names), plural(len(names), "component", "components"), strings.Join(names, ", "))
		return nil
	}
	if *asJSON {
		return c.printJSON(p)
	}
	if p.Collection != "" {
		fmt.Fprintf(c.stdout, "collection: %s\n\n", printable(p.Collection))
	}
	t := newTable(c.stdout, "COMPONENT", "KIND", "SECRETS", "TARGETS")
	for _, name := range p.ComponentNames() {
		comp := p.Components[name]
		secrets := strings.Join(comp.Secrets, ", ")
		if secrets == "" {
			secrets = "-"
		}
		t.row(name, string(comp.Kind), secrets, targets(comp))
	}
	return t.flush()
}

// targets describes where a component's secrets go.
func targets(comp config.Component) string {
	if comp.Kind == config.KindUI {
		return "build " + comp.Entry + " → " + comp.OutDir
	}
	var out []string
	if comp.Deploy != nil && comp.Deploy.AWS != nil {
		a := comp.Deploy.AWS
		if a.Lambda != nil {
			out = append(out, "lambda "+a.Lambda.FunctionName)
		}
		if a.ECS != nil {
			out = append(out, "ecs "+a.ECS.Cluster+"/"+a.ECS.Service+"/"+a.ECS.Container)
		}
		if a.SSM != nil {
			out = append(out, "ssm "+a.SSM.Path)
		}
	}
	if len(out) == 0 {
		return "run only"
	}
	return strings.Join(out, ", ")
}

// initCmd is `kazzle init`: a starter kazzle.config.ts and kazzle-env.d.ts.
func (c *cli) initCmd(_ context.Context, args []string) error {
	fs := c.flags("init", nil)
	collection := fs.String("collection", "", "the project's collection (default: the folder's name as a slug)")
	dir := fs.String("dir", ".", "the project folder")
	typesOnly := fs.Bool("types", false, "only (re)write "+config.TypesFile)
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "Usage: kazzle init [--collection=SLUG] [--dir=DIR] [--types]\n\nWrites a starter kazzle.config.ts and "+config.TypesFile+", which lets editors and tsc\ncheck it.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("usage: kazzle init [--collection=SLUG] [--dir=DIR] [--types]")
	}
	wrote, err := config.Init(*dir, *collection, *typesOnly)
	if err != nil {
		return err
	}
	for _, f := range wrote {
		fmt.Fprintf(c.stderr, "kazzle: wrote %s\n", f)
	}
	if !*typesOnly {
		c.hintf("list the secrets each component uses, then check it with: kazzle config print --env=dev")
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
