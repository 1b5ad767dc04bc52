package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
)

func (c *cli) envsDeleteCommand() *cobra.Command {
	var co common
	var yes, revokeKeys bool
	cmd := &cobra.Command{
		Use:   "delete SLUG [--collection=NAME] [--revoke-keys] [--yes]",
		Short: "delete an environment with the secrets tagged with it",
		Long: "Deletes an environment of a collection with the secrets tagged with it, every version of\n" +
			"them, and its one-time entries, for good; untagged secrets stay. While active API keys are\n" +
			"limited to the environment it is refused: revoke them (kazzle keys revoke) or pass\n" +
			"--revoke-keys, which revokes them in the same change: they go with the environment, and the\n" +
			"audit event names them. On a terminal kazzle asks you to type the slug; without one, --yes\n" +
			"is required.",
		Example: "  kazzle envs delete staging --collection shop\n  kazzle envs delete staging --collection shop --revoke-keys --yes",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.envsDelete(cmd.Context(), &co, yes, revokeKeys, args[0])
		},
	}
	c.collectionFlags(cmd, &co)
	cmd.Flags().BoolVar(&revokeKeys, "revoke-keys", false, "revoke the API keys limited to the environment with it")
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking (required without a terminal)")
	return cmd
}

func (c *cli) envsDelete(ctx context.Context, co *common, yes, revokeKeys bool, slug string) error {
	ask, err := c.mayDelete(yes, "envs delete", "an environment with every version of the secrets tagged with it")
	if err != nil {
		return err
	}
	if err := c.needCollection(ctx, co); err != nil {
		return err
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	// The server decides; asking it first spares typing a name for a refusal, and lets
	// the question name the keys that go. A key that cannot list keys asks plainly.
	limited := activeKeysLimitedTo(ctx, client, co.collection, slug)
	if len(limited) > 0 && !revokeKeys {
		return fmt.Errorf("%s limited to %s/%s (%s): revoke them (kazzle keys revoke ID) or pass --revoke-keys, which revokes them with it; nothing was changed",
			countKeys(len(limited)), co.collection, slug, strings.Join(limited, ", "))
	}
	what := printablef("This deletes the environment %s of %s with the secrets tagged with it, every version of them, and its one-time entries; untagged secrets stay. It cannot be undone.", slug, co.collection)
	if len(limited) > 0 {
		what += printablef("\nIt revokes the API keys limited to it: %s.", strings.Join(limited, ", "))
	}
	if err := c.confirmDeletion(ask, what, slug); err != nil {
		return err
	}
	if err := client.DeleteEnvironment(ctx, co.collection, slug, revokeKeys); err != nil {
		return err
	}
	msg := fmt.Sprintf("kazzle: deleted environment %s/%s with its secrets", co.collection, slug)
	if revokeKeys {
		msg += ", revoking the API keys limited to it"
	}
	fmt.Fprintln(c.stderr, printable(msg))
	return nil
}

// activeKeysLimitedTo names the active API keys limited to an environment, as far as the
// caller may list keys: none when it may not.
func activeKeysLimitedTo(ctx context.Context, client *api.Client, collection, env string) []string {
	keys, err := client.Keys(ctx)
	if err != nil {
		return nil
	}
	now := time.Now()
	var out []string
	for _, k := range keys {
		if k.Collection == collection && k.Environment == env && k.RevokedAt == nil && (k.ExpiresAt == nil || k.ExpiresAt.After(now)) {
			out = append(out, k.Name)
		}
	}
	return out
}

func countKeys(n int) string {
	if n == 1 {
		return "1 active API key is"
	}
	return fmt.Sprintf("%d active API keys are", n)
}

func (c *cli) envsRenameCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:   "rename OLD NEW [--collection=NAME]",
		Short: "give an environment a new slug",
		Long: "Renames an environment of a collection. Its secrets and the API keys limited to it hold its\n" +
			"id, so they keep working; what names it by slug (--env, KAZZLE_ENV, a project config, a\n" +
			"deploy script) must say the new one. The new slug follows the rules of envs create.",
		Example: "  kazzle envs rename stage staging --collection shop",
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := c.needCollection(ctx, &co); err != nil {
				return err
			}
			client, err := c.client(&co)
			if err != nil {
				return err
			}
			e, err := client.RenameEnvironment(ctx, co.collection, args[0], args[1])
			if err != nil {
				return err
			}
			fmt.Fprintln(c.stderr, printablef("kazzle: renamed environment %s/%s to %s; keys limited to it keep working, but --env, KAZZLE_ENV and project configs must say %s",
				co.collection, args[0], e.Slug, e.Slug))
			return nil
		},
	}
	c.collectionFlags(cmd, &co)
	return cmd
}
