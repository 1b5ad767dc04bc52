package cmd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
)

func (c *cli) collectionsCommand() *cobra.Command {
	return listByDefault(c.group("collections", "list, create and delete collections",
		"A collection holds the secrets and environments of a project. kazzle collections alone lists them.",
		"  kazzle collections list\n  kazzle collections create shop --name \"Shop\"",
		c.collectionsListCommand(), c.collectionsCreateCommand(), c.collectionsDeleteCommand()))
}

func (c *cli) collectionsListCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:     "list [--json]",
		Short:   "list the collections this key can see",
		Long:    "Lists the collections this key can see: slug, display name and creation time.",
		Example: "  kazzle collections list\n  kazzle collections list --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			client, err := c.client(&co)
			if err != nil {
				return err
			}
			colls, err := client.Collections(cmd.Context())
			if err != nil {
				return err
			}
			if co.json {
				return c.printJSON(api.CollectionList{Collections: colls})
			}
			t := newTable(c.stdout, "SLUG", "NAME", "CREATED")
			for _, col := range colls {
				t.row(col.Slug, col.Name, col.CreatedAt.Local().Format(time.DateTime))
			}
			return t.flush()
		},
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().BoolVar(&co.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) collectionsCreateCommand() *cobra.Command {
	var co common
	var name string
	cmd := &cobra.Command{
		Use:     "create SLUG [--name=NAME]",
		Short:   "create a collection",
		Long:    "Creates a collection. Its slug (lowercase letters, digits and dashes) names it in every command.",
		Example: "  kazzle collections create shop\n  kazzle collections create shop --name \"Shop (web and API)\"",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			client, err := c.client(&co)
			if err != nil {
				return err
			}
			col, err := client.CreateCollection(cmd.Context(), api.CreateCollectionRequest{Slug: args[0], Name: name})
			if err != nil {
				return err
			}
			fmt.Fprintln(c.stderr, printablef("kazzle: created collection %s", col.Slug))
			return nil
		},
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().StringVar(&name, "name", "", "display name")
	return cmd
}

func (c *cli) collectionsDeleteCommand() *cobra.Command {
	var co common
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete SLUG [--yes]",
		Short: "delete a collection with its environments and secrets",
		Long: "Deletes a collection with its environments and every version of its secrets, for good. On a\n" +
			"terminal kazzle asks you to type its slug; without one, --yes is required.",
		Example: "  kazzle collections delete old-shop\n  kazzle collections delete old-shop --yes",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.collectionsDelete(cmd.Context(), &co, yes, args[0])
		},
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking (required without a terminal)")
	cmd.ValidArgsFunction = c.completeWith(&co, collectionNames)
	return cmd
}

func (c *cli) collectionsDelete(ctx context.Context, co *common, yes bool, slug string) error {
	ask, err := c.mayDelete(yes, "collections delete", "a collection with its environments and every version of its secrets")
	if err != nil {
		return err
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	what := fmt.Sprintf("This deletes the collection %s with all its environments and secrets, every version of them; it cannot be undone.", slug)
	if err := c.confirmDeletion(ask, what, slug); err != nil {
		return err
	}
	if err := client.DeleteCollection(ctx, slug); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "kazzle: deleted collection %s with its environments and secrets\n", slug)
	return nil
}

func (c *cli) envsCommand() *cobra.Command {
	return listByDefault(c.group("envs", "list, create, rename and delete environments of a collection",
		"Each collection has its environments (dev, staging, prod…). kazzle envs alone lists them.",
		"  kazzle envs list --collection shop\n  kazzle envs create staging --collection shop\n  kazzle envs rename stage staging --collection shop",
		c.envsListCommand(), c.envsCreateCommand(), c.envsRenameCommand(), c.envsDeleteCommand()))
}

func (c *cli) envsListCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:     "list [--collection=NAME] [--json]",
		Short:   "list the environments of a collection",
		Long:    "Lists the environments of a collection, one slug a line.",
		Example: "  kazzle envs list --collection shop",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := c.needCollection(ctx, &co); err != nil {
				return err
			}
			client, err := c.client(&co)
			if err != nil {
				return err
			}
			envs, err := client.Environments(ctx, co.collection)
			if err != nil {
				return err
			}
			if co.json {
				return c.printJSON(api.EnvironmentList{Environments: envs})
			}
			for _, e := range envs {
				fmt.Fprintln(c.stdout, printable(e.Slug))
			}
			return nil
		},
	}
	c.collectionFlags(cmd, &co)
	cmd.Flags().BoolVar(&co.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) envsCreateCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:     "create SLUG [--collection=NAME]",
		Short:   "create an environment in a collection",
		Long:    "Creates an environment in a collection. Its slug (lowercase letters, digits and dashes) is what --env takes.",
		Example: "  kazzle envs create staging --collection shop",
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := c.needCollection(ctx, &co); err != nil {
				return err
			}
			client, err := c.client(&co)
			if err != nil {
				return err
			}
			e, err := client.CreateEnvironment(ctx, co.collection, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stderr, "kazzle: created environment %s/%s\n", co.collection, e.Slug)
			return nil
		},
	}
	c.collectionFlags(cmd, &co)
	return cmd
}

// collectionFlags defines --server and --collection, for commands about one collection
// and none of its environments.
func (c *cli) collectionFlags(cmd *cobra.Command, co *common) {
	c.serverFlag(cmd, co)
	cmd.Flags().StringVar(&co.collection, "collection", c.getenv("KAZZLE_COLLECTION"), "collection slug (KAZZLE_COLLECTION)")
	cmd.RegisterFlagCompletionFunc("collection", c.completeWith(co, collectionNames))
	c.hintNotFound(cmd, co)
}

func (c *cli) keysCommand() *cobra.Command {
	return listByDefault(c.group("keys", "create, list and revoke API keys",
		"API keys are how people, CI jobs and programs reach the vault: each has a role (admin, write\n"+
			"or read), may be limited to a collection or one of its environments, and may expire.\n"+
			"Managing them needs an admin key without limits. kazzle keys alone lists them.",
		"  kazzle keys list\n  kazzle keys create --name ci --role read --collection shop --env prod --expires 90d\n  kazzle keys revoke ci",
		c.keysListCommand(), c.keysCreateCommand(), c.keysRevokeCommand()))
}

func (c *cli) keysListCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:     "list [--json]",
		Short:   "list the API keys of the space, never the keys themselves",
		Long:    "Lists the API keys of the space: id, name, role, limits, prefix, last use and state.",
		Example: "  kazzle keys list\n  kazzle keys list --json",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return c.keysList(cmd.Context(), &co) },
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().BoolVar(&co.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) keysList(ctx context.Context, co *common) error {
	client, err := c.client(co)
	if err != nil {
		return err
	}
	keys, err := client.Keys(ctx)
	if err != nil {
		return err
	}
	if co.json {
		return c.printJSON(api.APIKeyList{Keys: keys})
	}
	t := newTable(c.stdout, "ID", "NAME", "ROLE", "LIMITS", "PREFIX", "LAST USED", "STATE")
	for _, k := range keys {
		limits := strings.Trim(k.Collection+"/"+k.Environment, "/")
		if limits == "" {
			limits = "-"
		}
		used, state := "never", "active"
		if k.LastUsedAt != nil {
			used = k.LastUsedAt.Local().Format(time.DateTime)
		}
		switch {
		case k.RevokedAt != nil:
			state = "revoked"
		case k.ExpiresAt != nil && time.Now().After(*k.ExpiresAt):
			state = "expired"
		}
		t.row(k.ID, k.Name, k.Role, limits, k.Prefix+"…", used, state)
	}
	return t.flush()
}

// keyCreateOptions are the flags of kazzle keys create. --collection and --env are the
// limits of the new key, so they take no default: a KAZZLE_COLLECTION or KAZZLE_ENV
// exported for everyday work, or the project's collection, must neither limit a key made
// for someone else nor look as if it did.
type keyCreateOptions struct {
	common
	name, role   string
	expires      time.Duration
	unrestricted bool
}

func (c *cli) keysCreateCommand() *cobra.Command {
	var o keyCreateOptions
	cmd := &cobra.Command{
		Use:   "create --name=NAME --role=ROLE (--collection=C [--env=E] | --unrestricted) [--expires=30d]",
		Short: "create an API key, shown this once",
		Long: "Creates an API key and prints it on stdout, this once. Its reach is said out loud: limit it to\n" +
			"a collection (and an environment of it) with --collection (and --env), or give it every\n" +
			"collection of the space with --unrestricted.",
		Example: "  kazzle keys create --name ci --role read --collection shop --env prod --expires 90d\n" +
			"  kazzle keys create --name ops --role admin --unrestricted",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.keysCreate(cmd.Context(), &o) },
	}
	c.serverFlag(cmd, &o.common)
	fs := cmd.Flags()
	fs.StringVar(&o.name, "name", "", "who or what uses the key")
	fs.StringVar(&o.role, "role", "read", "admin, write or read")
	fs.StringVar(&o.collection, "collection", "", "limit a new key to this collection (never taken from KAZZLE_COLLECTION)")
	fs.StringVar(&o.env, "env", "", "limit a new key to this environment of --collection (never taken from KAZZLE_ENV)")
	fs.BoolVar(&o.unrestricted, "unrestricted", false, "a key for every collection of the space (instead of --collection)")
	fs.Var(durationFlag{&o.expires}, "expires", "lifetime, such as 90d or 12h (default: no expiry)")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	c.completeNames(cmd, &o.common)
	cmd.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"admin", "write", "read"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (c *cli) keysCreate(ctx context.Context, o *keyCreateOptions) error {
	co := &o.common
	// A key's reach is said out loud: no limits is a choice, never a default.
	switch {
	case o.unrestricted && co.collection != "":
		return usagef("--unrestricted and --collection contradict each other: pass one")
	case co.env != "" && co.collection == "":
		return usagef("--env limits a key to an environment of a collection: pass --collection too")
	case !o.unrestricted && co.collection == "":
		return usagef("a new key needs its limits: pass --collection=NAME (and --env=ENV) to limit it, or --unrestricted for a key to every collection of the space")
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	req := api.CreateAPIKeyRequest{Name: o.name, Role: o.role, Collection: co.collection, Environment: co.env}
	if o.expires > 0 {
		t := time.Now().Add(o.expires).UTC()
		req.ExpiresAt = &t
	}
	k, err := client.CreateKey(ctx, req)
	if err != nil {
		return err
	}
	if co.json {
		return c.printJSON(k)
	}
	fmt.Fprintln(c.stderr, printablef("kazzle: created %s key %s (%s); it is shown this once:", k.Role, k.Name, k.ID))
	fmt.Fprintln(c.stdout, k.Key)
	return nil
}

func (c *cli) keysRevokeCommand() *cobra.Command {
	var co common
	var yes bool
	cmd := &cobra.Command{
		Use:   "revoke NAME|ID [--yes]",
		Short: "revoke an API key for good",
		Long: "Revokes an API key: whatever uses it loses access at once. On a terminal kazzle shows the key\n" +
			"and asks you to type its name; without one, --yes is required. A name must be that of one\n" +
			"key that is not revoked yet.",
		Example: "  kazzle keys revoke ci\n  kazzle keys revoke 0b4f5c1e-8a9d-4f5e-9c1a-2b3c4d5e6f70 --yes",
		Args:    exactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return c.keysRevoke(cmd.Context(), &co, yes, args[0]) },
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().BoolVar(&yes, "yes", false, "revoke without asking (required without a terminal)")
	cmd.ValidArgsFunction = c.completeWith(&co, func(ctx context.Context, client *api.Client) ([]string, error) {
		keys, err := client.Keys(ctx)
		var out []string
		for _, k := range keys {
			if k.RevokedAt == nil && k.Name != "" {
				out = append(out, k.Name)
			}
		}
		return out, err
	})
	return cmd
}

func (c *cli) keysRevoke(ctx context.Context, co *common, yes bool, nameOrID string) error {
	ask, err := c.mayAsk(yes, "kazzle keys revoke cuts off whatever uses the key for good", "pass --yes to revoke it")
	if err != nil {
		return err
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	id, err := findKey(ctx, client, nameOrID)
	if err != nil {
		return err
	}
	if ask {
		if err := c.confirmRevoke(ctx, client, id); err != nil {
			return err
		}
	}
	if err := client.RevokeKey(ctx, id); err != nil {
		return err
	}
	if id != nameOrID {
		fmt.Fprintln(c.stderr, printablef("kazzle: revoked key %s (%s)", nameOrID, id))
		return nil
	}
	fmt.Fprintf(c.stderr, "kazzle: revoked key %s\n", id)
	return nil
}

// findKey is the id of the key nameOrID names: an id as it is, else the one key of that
// name that is not revoked.
func findKey(ctx context.Context, client *api.Client, nameOrID string) (string, error) {
	if secret.IsUUID(nameOrID) {
		return nameOrID, nil
	}
	keys, err := client.Keys(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, k := range keys {
		if k.Name == nameOrID && k.RevokedAt == nil {
			ids = append(ids, k.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", withHint(fmt.Errorf("no key named %s that is not revoked", secret.Excerpt(nameOrID)), "kazzle keys list shows the keys, their names and ids")
	case 1:
		return ids[0], nil
	}
	return "", withHint(fmt.Errorf("%d keys are named %s: %s", len(ids), secret.Excerpt(nameOrID), strings.Join(ids, ", ")), "name the key by its id")
}

// confirmRevoke shows the key about to be revoked and has the person type its name (its
// id if it has none).
func (c *cli) confirmRevoke(ctx context.Context, client *api.Client, id string) error {
	keys, err := client.Keys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.ID != id {
			continue
		}
		name := k.Name
		if name == "" {
			name = k.ID
		}
		limits := strings.Trim(k.Collection+"/"+k.Environment, "/")
		if limits == "" {
			limits = "every collection"
		}
		what := printablef("This revokes the %s key %s (%s, %s): whatever uses it loses access at once, and it cannot be undone.", k.Role, k.Name, k.ID, limits)
		return c.confirmDeletion(true, what, printable(name))
	}
	return withHint(fmt.Errorf("no key with id %s", id), "kazzle keys list shows the keys and their ids")
}

func (c *cli) whoamiCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:   "whoami [--server=URL] [--json]",
		Short: "the API key in use: its name, role, limits, expiry and server",
		Long: "Shows which API key kazzle uses (KAZZLE_API_KEY_FILE or KAZZLE_API_KEY, or in CI the short-lived\n" +
			"key exchanged for the job's identity token) and what it may do: its name, role, the collection\n" +
			"and environment it is limited to, when it expires, and the server it was checked against. Any\n" +
			"key may read its own; an exchanged key itself is never shown.",
		Example: "  kazzle whoami\n  kazzle whoami --json",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return c.whoami(cmd.Context(), &co) },
	}
	c.serverFlag(cmd, &co)
	cmd.Flags().BoolVar(&co.json, "json", false, "print JSON")
	return cmd
}

func (c *cli) whoami(ctx context.Context, co *common) error {
	key, err := c.apiKey("")
	if err != nil {
		return err
	}
	client, err := c.clientWith(co, key)
	if err != nil {
		return err
	}
	k, err := client.Whoami(ctx)
	if err != nil {
		return err
	}
	from, provider := key.from, ""
	if key.oidc != nil {
		provider = key.oidc.provider
		from = fmt.Sprintf("OIDC: the identity token from %s, exchanged with provider %s", key.oidc.via, provider)
	}
	if co.json {
		return c.printJSON(struct {
			api.APIKey
			Server       string `json:"server"`
			KeyFrom      string `json:"key_from"`
			OIDCProvider string `json:"oidc_provider,omitempty"`
		}{k, co.server, key.from, provider})
	}
	limits := strings.Trim(k.Collection+"/"+k.Environment, "/")
	if limits == "" {
		limits = "none: every collection of the space"
	}
	expires := "never"
	if k.ExpiresAt != nil {
		expires = k.ExpiresAt.Local().Format(time.DateTime)
		if left := time.Until(*k.ExpiresAt); left > 0 {
			expires += fmt.Sprintf(" (in %s)", roundDays(left))
		} else {
			expires += " (expired)"
		}
	}
	if key.file != "" {
		from += " " + key.file
	}
	t := newTable(c.stdout)
	t.row("name:", k.Name)
	t.row("id:", k.ID)
	t.row("role:", k.Role)
	t.row("limits:", limits)
	t.row("expires:", expires)
	t.row("server:", co.server)
	t.row("key from:", from)
	return t.flush()
}

// roundDays writes a duration as people plan with it: days, else hours, else minutes.
func roundDays(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	}
	return fmt.Sprintf("%d minutes", int(d/time.Minute))
}
