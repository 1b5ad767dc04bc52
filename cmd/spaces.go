package cmd

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
)

// The spaces commands take an operator key in KAZZLE_API_KEY: it manages spaces and
// reaches nothing inside one.

func (c *cli) spacesCommand() *cobra.Command {
	return listByDefault(c.group("spaces", "list, create and delete the server's spaces (operator key)",
		"Each space is a tenant with its own data key, collections and keys; nothing crosses spaces.\n"+
			"These commands need an operator key in KAZZLE_API_KEY (kazzle server recover-admin\n"+
			"--operator makes one where the server runs). kazzle spaces alone lists them.",
		"  kazzle spaces list\n  kazzle spaces create acme\n  kazzle spaces delete acme --yes",
		c.spacesListCommand(), c.spacesCreateCommand(), c.spacesDeleteCommand(), c.spacesAuditCommand()))
}

func (c *cli) spacesListCommand() *cobra.Command {
	var co common
	var deleted bool
	cmd := &cobra.Command{
		Use:   "list [--deleted] [--json]",
		Short: "list the server's spaces",
		Long: "Lists the server's live spaces, oldest first: name, id and creation time. --deleted adds\n" +
			"the deleted ones, whose names stay taken: a name is never used again.",
		Example: "  kazzle spaces list\n  kazzle spaces list --deleted --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.client(&co)
			if err != nil {
				return err
			}
			spaces, err := client.Spaces(cmd.Context(), deleted)
			if err != nil {
				return err
			}
			if co.json {
				return c.printJSON(api.SpaceList{Spaces: spaces})
			}
			t := newTable(c.stdout, "NAME", "ID", "CREATED", "DELETED")
			for _, s := range spaces {
				gone := ""
				if s.DeletedAt != nil {
					gone = s.DeletedAt.Local().Format(time.DateTime)
				}
				t.row(s.Name, s.ID, s.CreatedAt.Local().Format(time.DateTime), gone)
			}
			return t.flush()
		},
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().BoolVar(&deleted, "deleted", false, "list the deleted spaces too")
	cmd.Flags().BoolVar(&co.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) spacesCreateCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:   "create NAME [--json]",
		Short: "create a space and print its first admin key",
		Long: "Creates a space with its own data key, and prints its first admin key once on stdout:\n" +
			"hand it to the space's administrator. NAME is lowercase letters, digits and dashes (at\n" +
			"most 63), and a name that any space ever had, deleted ones included, is refused.",
		Example: "  kazzle spaces create acme\n  kazzle spaces create acme --json",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.client(&co)
			if err != nil {
				return err
			}
			created, err := client.CreateSpace(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if co.json {
				return c.printJSON(created)
			}
			fmt.Fprintln(c.stderr, printablef("kazzle: created space %s (%s); its first admin key is shown this once:", created.Name, created.ID))
			fmt.Fprintln(c.stdout, created.AdminKey)
			return nil
		},
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().BoolVar(&co.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) spacesDeleteCommand() *cobra.Command {
	var co common
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME [--yes]",
		Short: "delete a space with everything in it",
		Long: "Deletes a space with everything in it, for good: its collections, environments, secrets\n" +
			"and their versions, API keys (they stop working at once), sessions, one-time entries and\n" +
			"its data key. Its name is never used again. On a terminal kazzle asks you to type the\n" +
			"name; without one, --yes is required.",
		Example: "  kazzle spaces delete acme\n  kazzle spaces delete acme --yes",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.spacesDelete(cmd.Context(), &co, yes, args[0])
		},
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking (required without a terminal)")
	return cmd
}

func (c *cli) spacesDelete(ctx context.Context, co *common, yes bool, name string) error {
	ask, err := c.mayDelete(yes, "spaces delete", "a space with everything in it")
	if err != nil {
		return err
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	what := printablef("This deletes the space %s with all its collections, secrets, versions and keys; it cannot be undone, and the name is never used again.", name)
	if err := c.confirmDeletion(ask, what, printable(name)); err != nil {
		return err
	}
	if err := client.DeleteSpace(ctx, name); err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, printablef("kazzle: deleted space %s with everything in it; its keys no longer work", name))
	return nil
}

func (c *cli) spacesAuditCommand() *cobra.Command {
	var co common
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "audit [--since=7d] [--action=ACTION] [--limit=N] [--json]",
		Short: "read the server trail",
		Long: "Prints the server trail, newest first: the events of no space, such as spaces created\n" +
			"and deleted, operator keys made by recover-admin, and refusals of requests without a\n" +
			"valid key. Each space's own events are in its trail (kazzle audit, with its admin key).",
		Example: "  kazzle spaces audit --since 7d\n  kazzle spaces audit --action space.delete --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.client(&co)
			if err != nil {
				return err
			}
			q := api.AuditQuery{Action: o.action, Limit: o.limit}
			if o.since > 0 {
				q.Since = time.Now().Add(-o.since)
			}
			events, err := client.ServerAudit(cmd.Context(), q)
			if err != nil {
				return err
			}
			return c.printAudit(co.json, events)
		},
	}
	c.serverFlag(cmd, &co)
	fs := cmd.Flags()
	fs.Var(durationFlag{&o.since}, "since", "only events of this last period, such as 7d or 24h")
	fs.StringVar(&o.action, "action", "", "only this action, such as space.create")
	fs.IntVar(&o.limit, "limit", 50, "at most this many events")
	fs.BoolVar(&co.json, "json", false, "print JSON")
	return cmd
}
