package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/config"
)

// configCmd is `kazzle config check|print`: it evaluates the project configuration
// (kazzle.config.ts with esbuild and goja, or kazzle.hcl) without any server.
func (c *cli) configCommand() *cobra.Command {
	return c.group("config", "check or print the project's kazzle.config.ts (or kazzle.hcl)",
		"Evaluates the project configuration, kazzle.config.ts (or kazzle.hcl), without any server.",
		"  kazzle config check --env dev\n  kazzle config print --env prod --json",
		c.configSubcommand("check", "evaluate the configuration and report every problem",
			"Evaluates kazzle.config.ts (or kazzle.hcl) and reports every problem; exits 1 when there is one.",
			"  kazzle config check --env dev\n  kazzle config check --dir services/api"),
		c.configSubcommand("print", "show each component's kind, secrets and targets",
			"Evaluates the configuration and shows each component's kind, the secrets it uses and where\n"+
				"they go (a UI build, Lambda, ECS, SSM).",
			"  kazzle config print --env prod\n  kazzle config print --json"))
}

func (c *cli) configSubcommand(sub, short, long, example string) *cobra.Command {
	var env, dir string
	var asJSON bool
	use := sub + " [--env=ENV] [--dir=DIR]"
	if sub == "print" {
		use += " [--json]"
	}
	cmd := &cobra.Command{Use: use, Short: short, Long: long, Example: example, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.configCmd(cmd.Context(), sub, env, dir, asJSON) }}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&env, "env", c.getenv("KAZZLE_ENV"), "environment slug the config sees as { env } (KAZZLE_ENV)")
	fs.StringVar(&dir, "dir", ".", "the folder to find the project configuration from: it or its nearest parent")
	if sub == "print" {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}
	return cmd
}

func (c *cli) configCmd(ctx context.Context, sub, envName, dirName string, json bool) error {
	env, dir, asJSON := &envName, &dirName, &json
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
func (c *cli) initCommand() *cobra.Command {
	var collection, dir string
	var typesOnly bool
	cmd := &cobra.Command{
		Use:     "init [--collection=SLUG] [--dir=DIR] [--types]",
		Short:   "write a starter kazzle.config.ts and its type declarations",
		Long:    "Writes a starter kazzle.config.ts and " + config.TypesFile + ", which lets editors and tsc\ncheck it.",
		Example: "  kazzle init --collection shop\n  kazzle init --types",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.initCmd(cmd.Context(), &collection, &dir, &typesOnly)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&collection, "collection", "", "the project's collection (default: the folder's name as a slug)")
	fs.StringVar(&dir, "dir", ".", "the project folder")
	fs.BoolVar(&typesOnly, "types", false, "only (re)write "+config.TypesFile)
	return cmd
}

func (c *cli) initCmd(_ context.Context, collection, dir *string, typesOnly *bool) error {
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
