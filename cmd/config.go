package cmd

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
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
		c.configSubcommand("check", "evaluate the configuration, report every problem and declared secrets missing from the vault",
			"Evaluates kazzle.config.ts (or kazzle.hcl) and reports every problem; exits 1 when there is one.\n"+
				"With an API key, it also reports each secret a component declares that the vault does not\n"+
				"have for --env, or for every environment of the collection without --env.",
			"  kazzle config check --env dev\n  kazzle config check --dir services/api"),
		c.configSubcommand("print", "show each component's kind, secrets and targets",
			"Evaluates the configuration and shows each component's kind, the secrets it uses and where\n"+
				"they go (a UI build, Lambda, ECS, SSM).",
			"  kazzle config print --env prod\n  kazzle config print --json"))
}

func (c *cli) configSubcommand(sub, short, long, example string) *cobra.Command {
	var co common
	var dir string
	var asJSON bool
	use := sub + " [--env=ENV] [--dir=DIR]"
	if sub == "print" {
		use += " [--json]"
	}
	cmd := &cobra.Command{Use: use, Short: short, Long: long, Example: example, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.configCmd(cmd.Context(), sub, co, dir, asJSON) }}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&co.env, "env", c.getenv("KAZZLE_ENV"), "environment slug the config sees as { env } (KAZZLE_ENV)")
	fs.StringVar(&dir, "dir", ".", "the folder to find the project configuration from: it or its nearest parent")
	if sub == "print" {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}
	if sub == "check" {
		fs.StringVar(&co.collection, "collection", c.getenv("KAZZLE_COLLECTION"), "the collection to check the declared secrets in (default: the config's) (KAZZLE_COLLECTION)")
		fs.StringVar(&co.server, "server", envOr(c.getenv, "KAZZLE_SERVER", DefaultServer), "vault server URL (KAZZLE_SERVER)")
	}
	return cmd
}

func (c *cli) configCmd(ctx context.Context, sub string, co common, dir string, asJSON bool) error {
	p, err := config.Load(ctx, dir, config.Options{Env: co.env, Stderr: c.stderr})
	if err != nil {
		return err
	}
	if sub == "check" {
		names := p.ComponentNames()
		fmt.Fprintf(c.stderr, "kazzle: %s is valid: %d %s (%s)\n", p.File, len(names), plural(len(names), "component", "components"), strings.Join(names, ", "))
		return c.checkDeclared(ctx, p, co, dir)
	}
	if asJSON {
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

// checkDeclared reports the secrets p's components declare that the vault does not have
// for co.env, or for each environment of the collection when co.env is empty, each
// environment seeing the config evaluated for it. Without an API key or a collection
// there is nothing to check against, which a hint says.
func (c *cli) checkDeclared(ctx context.Context, p config.Project, co common, dir string) error {
	key, err := c.apiKey("")
	if err != nil {
		return err
	}
	if co.collection == "" {
		co.collection = p.Collection
	}
	switch {
	case key.value == "" && key.oidc == nil:
		c.hintf("with an API key (KAZZLE_API_KEY), config check also reports declared secrets missing from the vault")
		return nil
	case co.collection == "":
		c.hintf("with a collection (--collection, or collection in %s), config check also reports declared secrets missing from the vault", p.File)
		return nil
	}
	client, err := c.clientWith(&co, key)
	if err != nil {
		return err
	}
	envs := []string{co.env}
	if co.env == "" {
		list, err := client.Environments(ctx, co.collection)
		if err != nil {
			return fmt.Errorf("list the environments of %s: %w", co.collection, err)
		}
		envs = envs[:0]
		for _, e := range list {
			envs = append(envs, e.Slug)
		}
		if len(envs) == 0 {
			c.hintf("%s has no environment yet, so no declared secret was checked: kazzle envs create SLUG --collection %s", co.collection, co.collection)
			return nil
		}
	}
	missing := 0
	for _, env := range envs {
		ep := p
		if env != co.env {
			if ep, err = config.Load(ctx, dir, config.Options{Env: env, Stderr: io.Discard}); err != nil {
				return fmt.Errorf("evaluate the config for %s: %w", env, err)
			}
		}
		stored, err := client.Secrets(ctx, co.collection, env)
		if err != nil {
			return fmt.Errorf("list the secrets of %s/%s: %w", co.collection, env, err)
		}
		has := map[string]bool{}
		for _, s := range stored {
			if s.Environment == "" || s.Environment == env {
				has[s.Name] = true
			}
		}
		declaredBy := map[string][]string{}
		for _, name := range ep.ComponentNames() {
			for _, s := range ep.Components[name].Secrets {
				if !has[s] {
					declaredBy[s] = append(declaredBy[s], name)
				}
			}
		}
		for _, s := range slices.Sorted(maps.Keys(declaredBy)) {
			c.errorf("%s/%s has no secret %s, which %s %s", co.collection, env, s, strings.Join(declaredBy[s], " and "), plural(len(declaredBy[s]), "declares", "declare"))
			missing++
		}
		if len(declaredBy) > 0 {
			c.hintf("set each with: kazzle secrets set NAME --collection %s --env %s", co.collection, env)
		} else {
			fmt.Fprintf(c.stderr, "kazzle: %s/%s has every declared secret\n", co.collection, env)
		}
	}
	if missing > 0 {
		return &exitStatus{code: exitError}
	}
	return nil
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
