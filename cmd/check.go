package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
)

// secretsCheck lists the stored secrets that a write would refuse now: of one collection,
// or, when none is named anywhere, of every collection the key can see. It exits 1 when
// it finds any, so a CI job can run it.
func (c *cli) secretsCheckCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:   "check [--collection=NAME] [--json]",
		Short: "list the stored secrets that break a rule writes enforce",
		Long: "Lists the stored secrets that break a rule writes enforce: reserved variable\n" +
			"names, values that are not UTF-8 text or hold NUL bytes, fields past their\n" +
			"size limits, and references that do not expand. Without a collection, every\n" +
			"collection the key can see is checked. Exits 1 when any secret breaks a rule.",
		Example: "  kazzle secrets check\n  kazzle secrets check --collection app --json",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return c.secretsCheck(cmd.Context(), co) },
	}
	c.apiFlags(cmd, &co, true)
	return cmd
}

func (c *cli) secretsCheck(ctx context.Context, co common) error {
	client, err := c.client(&co)
	if err != nil {
		return err
	}
	collections := []string{co.collection}
	if co.collection == "" {
		if err := c.needCollection(ctx, &co); err == nil {
			collections = []string{co.collection}
		} else {
			all, err := client.Collections(ctx)
			if err != nil {
				return err
			}
			collections = collections[:0]
			for _, coll := range all {
				collections = append(collections, coll.Slug)
			}
		}
	}
	problems := []api.Problem{}
	for _, coll := range collections {
		found, err := client.Check(ctx, coll)
		if err != nil {
			return fmt.Errorf("check %s: %w", coll, err)
		}
		problems = append(problems, found...)
	}
	if co.json {
		if err := c.printJSON(api.CheckResponse{Problems: problems}); err != nil {
			return err
		}
	} else if len(problems) == 0 {
		fmt.Fprintf(c.stdout, "no problems in %d collection(s)\n", len(collections))
	} else {
		t := newTable(c.stdout, "COLLECTION", "NAME", "ENV", "RULE", "ID", "PROBLEM")
		for _, p := range problems {
			env := p.Environment
			if env == "" {
				env = "(all)"
			}
			t.row(p.Collection, p.Name, env, p.Rule, p.SecretID, p.Message)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return &exitStatus{code: exitError}
	}
	return nil
}
