package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/kazzle/kazzle/api"
)

func (c *cli) collectionsCmd(ctx context.Context, args []string) error {
	var co common
	fs := c.flags("collections", &co)
	name := fs.String("name", "", "display name (create)")
	yes := fs.Bool("yes", false, "delete without asking (delete; required without a terminal)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var ask bool
	if fs.Arg(0) == "delete" && fs.NArg() == 2 {
		var err error
		if ask, err = c.mayDelete(*yes, "collections delete", "a collection with its environments and every version of its secrets"); err != nil {
			return err
		}
	}
	client, err := c.client(&co)
	if err != nil {
		return err
	}
	switch sub := fs.Arg(0); {
	case sub == "list" || sub == "":
		colls, err := client.Collections(ctx)
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
	case sub == "create" && fs.NArg() == 2:
		col, err := client.CreateCollection(ctx, api.CreateCollectionRequest{Slug: fs.Arg(1), Name: *name})
		if err != nil {
			return err
		}
		fmt.Fprintln(c.stderr, printablef("kazzle: created collection %s", col.Slug))
		return nil
	case sub == "delete" && fs.NArg() == 2:
		what := fmt.Sprintf("This deletes the collection %s with all its environments and secrets, every version of them; it cannot be undone.", fs.Arg(1))
		if err := c.confirmDeletion(ask, what, fs.Arg(1)); err != nil {
			return err
		}
		if err := client.DeleteCollection(ctx, fs.Arg(1)); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "kazzle: deleted collection %s with its environments and secrets\n", fs.Arg(1))
		return nil
	}
	return usagef("usage: kazzle collections list | create SLUG [--name=…] | delete SLUG [--yes]")
}

func (c *cli) envsCmd(ctx context.Context, args []string) error {
	var co common
	fs := c.flags("envs", &co)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := c.needCollection(ctx, &co); err != nil {
		return err
	}
	client, err := c.client(&co)
	if err != nil {
		return err
	}
	switch sub := fs.Arg(0); {
	case sub == "list" || sub == "":
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
	case sub == "create" && fs.NArg() == 2:
		e, err := client.CreateEnvironment(ctx, co.collection, fs.Arg(1))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "kazzle: created environment %s/%s\n", co.collection, e.Slug)
		return nil
	}
	return usagef("usage: kazzle envs list | create SLUG --collection=NAME")
}

// keyFlags are the flags of kazzle keys. --collection and --env are the limits of a new
// key, so they take no default: a KAZZLE_COLLECTION or KAZZLE_ENV exported for everyday
// work, or the project's collection, must neither limit a key made for someone else nor
// look as if it did.
func (c *cli) keyFlags(co *common) *pflag.FlagSet {
	fs := c.flags("keys", nil)
	fs.StringVar(&co.server, "server", envOr(c.getenv, "KAZZLE_SERVER", DefaultServer), "vault server URL (KAZZLE_SERVER)")
	fs.StringVar(&co.collection, "collection", "", "limit a new key to this collection (create; never taken from KAZZLE_COLLECTION)")
	fs.StringVar(&co.env, "env", "", "limit a new key to this environment of --collection (create; never taken from KAZZLE_ENV)")
	fs.BoolVar(&co.json, "json", false, "print JSON")
	return fs
}

func (c *cli) keysCmd(ctx context.Context, args []string) error {
	var co common
	fs := c.keyFlags(&co)
	name := fs.String("name", "", "who or what uses the key (create)")
	role := fs.String("role", "read", "admin, write or read (create)")
	expires := fs.Duration("expires", 0, "lifetime, such as 720h (create; default: no expiry)")
	unrestricted := fs.Bool("unrestricted", false, "create a key for every collection of the space (create; instead of --collection)")
	yes := fs.Bool("yes", false, "revoke without asking (revoke; required without a terminal)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var ask bool
	if fs.Arg(0) == "revoke" && fs.NArg() == 2 {
		var err error
		ask, err = c.mayAsk(*yes, "kazzle keys revoke cuts off whatever uses the key for good", "pass --yes to revoke it")
		if err != nil {
			return err
		}
	}
	if fs.Arg(0) == "create" {
		// A key's reach is said out loud: no limits is a choice, never a default.
		switch {
		case *unrestricted && co.collection != "":
			return usagef("--unrestricted and --collection contradict each other: pass one")
		case co.env != "" && co.collection == "":
			return usagef("--env limits a key to an environment of a collection: pass --collection too")
		case !*unrestricted && co.collection == "":
			return usagef("a new key needs its limits: pass --collection=NAME (and --env=ENV) to limit it, or --unrestricted for a key to every collection of the space")
		}
	}
	client, err := c.client(&co)
	if err != nil {
		return err
	}
	switch sub := fs.Arg(0); {
	case sub == "list" || sub == "":
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
	case sub == "create" && fs.NArg() == 1:
		req := api.CreateAPIKeyRequest{Name: *name, Role: *role, Collection: co.collection, Environment: co.env}
		if *expires > 0 {
			t := time.Now().Add(*expires).UTC()
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
	case sub == "revoke" && fs.NArg() == 2:
		if ask {
			if err := c.confirmRevoke(ctx, client, fs.Arg(1)); err != nil {
				return err
			}
		}
		if err := client.RevokeKey(ctx, fs.Arg(1)); err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "kazzle: revoked key %s\n", fs.Arg(1))
		return nil
	}
	return usagef("usage: kazzle keys list | create --name=NAME --role=ROLE (--collection=C [--env=E] | --unrestricted) [--expires=720h] | revoke ID [--yes]")
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

func (c *cli) auditCmd(ctx context.Context, args []string) error {
	var co common
	fs := c.flags("audit", &co)
	since := fs.Duration("since", 0, "only events of this last period, such as 24h")
	action := fs.String("action", "", "only this action, such as secrets.resolve")
	actor := fs.String("actor", "", "only events of this key id")
	limit := fs.Int("limit", 50, "at most this many events")
	if err := parse(fs, args); err != nil {
		return err
	}
	client, err := c.client(&co)
	if err != nil {
		return err
	}
	q := api.AuditQuery{Action: *action, Actor: *actor, Limit: *limit}
	if *since > 0 {
		q.Since = time.Now().Add(-*since)
	}
	events, err := client.Audit(ctx, q)
	if err != nil {
		return err
	}
	if co.json {
		return c.printJSON(api.AuditList{Events: events})
	}
	t := newTable(c.stdout, "TIME", "ACTOR", "FROM", "ACTION", "OUTCOME", "TARGET")
	for _, ev := range events {
		t.row(ev.Time.Local().Format(time.DateTime), ev.ActorName, ev.ClientAddr, ev.Action, ev.Outcome, describeTarget(ev.Target))
	}
	return t.flush()
}

// describeTarget summarises an audit event's target for a table; --json has all of it.
func describeTarget(raw json.RawMessage) string {
	var t struct {
		Collection  string   `json:"collection"`
		Environment string   `json:"environment"`
		Secret      string   `json:"secret"`
		Version     int      `json:"version"`
		Hosts       string   `json:"hosts"`
		Secrets     []string `json:"secrets"`
		Key         string   `json:"key"`
		Space       string   `json:"space"`
		WrappingKey string   `json:"wrapping_key_id"`
		Reason      string   `json:"reason"`
	}
	if json.Unmarshal(raw, &t) != nil {
		return string(raw)
	}
	var parts []string
	if where := strings.Trim(t.Collection+"/"+t.Environment, "/"); where != "" {
		parts = append(parts, where)
	}
	if t.Secret != "" {
		s := t.Secret
		if t.Version > 0 {
			s += fmt.Sprintf(" v%d", t.Version)
		}
		if t.Hosts != "" {
			s += " hosts " + t.Hosts
		}
		parts = append(parts, s)
	}
	switch n := len(t.Secrets); {
	case n > 0 && n <= 4:
		parts = append(parts, strings.Join(t.Secrets, ","))
	case n > 4:
		parts = append(parts, fmt.Sprintf("%s,… (%d secrets)", strings.Join(t.Secrets[:3], ","), n))
	}
	for _, extra := range []string{t.Key, t.Space, t.WrappingKey, t.Reason} {
		if extra != "" {
			parts = append(parts, extra)
		}
	}
	return strings.Join(parts, " ")
}
