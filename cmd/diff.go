package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
)

func (c *cli) secretsDiffCommand() *cobra.Command {
	var co common
	var envs []string
	cmd := &cobra.Command{
		Use:   "diff --env=A --env=B [--collection=NAME] [--json]",
		Short: "compare two environments: names in one only, values equal or not",
		Long: "Compares what two environments of a collection resolve to, name by name: the names only one\n" +
			"of them has, and for the others whether their values (references expanded) are equal. The\n" +
			"server compares them and answers yes or no: no value, nor a hash of one, leaves it. It needs\n" +
			"a key that may read both environments, and the audit trail records a read of each.",
		Example: "  kazzle secrets diff --env staging --env prod --collection shop\n  kazzle secrets diff --env dev --env prod --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return c.secretsDiff(cmd.Context(), &co, envs)
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&co.server, "server", envOr(c.getenv, "KAZZLE_SERVER", DefaultServer), "vault server URL (KAZZLE_SERVER)")
	fs.StringVar(&co.collection, "collection", c.getenv("KAZZLE_COLLECTION"), "collection slug (KAZZLE_COLLECTION)")
	fs.StringArrayVar(&envs, "env", nil, "an environment to compare; give it twice")
	fs.BoolVar(&co.json, "json", false, "print JSON")
	c.completeNames(cmd, &co)
	c.hintNotFound(cmd, &co)
	return cmd
}

func (c *cli) secretsDiff(ctx context.Context, co *common, envs []string) error {
	if len(envs) != 2 {
		return usagef("name two environments to compare: --env dev --env prod")
	}
	if err := c.needCollection(ctx, co); err != nil {
		return err
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	d, err := client.Diff(ctx, co.collection, envs)
	if err != nil {
		return err
	}
	if co.json {
		return c.printJSON(d)
	}
	t := newTable(c.stdout, "NAME", "STATUS")
	for _, n := range d.Names {
		status := ""
		switch {
		case n.Equal == nil && len(n.In) == 1:
			status = "only in " + n.In[0]
		case n.Equal != nil && *n.Equal && n.Shared:
			status = "same (untagged)"
		case n.Equal != nil && *n.Equal:
			status = "same"
		default:
			status = "differs"
		}
		t.row(n.Name, status)
	}
	if err := t.flush(); err != nil {
		return err
	}
	if len(d.Environments) == 2 {
		fmt.Fprintln(c.stderr, printablef("kazzle: compared %s and %s of %s on the server; no value left it", d.Environments[0], d.Environments[1], d.Collection))
	}
	return nil
}
