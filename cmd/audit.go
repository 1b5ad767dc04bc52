package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
)

func (c *cli) auditCommand() *cobra.Command {
	var co common
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "audit [--since=7d] [--action=ACTION] [--actor=NAME|ID] [--limit=N] [--json]",
		Short: "read the audit trail",
		Long: "Prints the audit trail, newest first: who (which key, from where) did what to which\n" +
			"secret, collection or key, and whether it was allowed. Reading it needs an admin key\n" +
			"without limits.",
		Example: "  kazzle audit --since 7d\n  kazzle audit --actor ci --action secrets.resolve --limit 20",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return c.auditCmd(cmd.Context(), &co, &o) },
	}
	c.serverFlag(cmd, &co)
	fs := cmd.Flags()
	fs.Var(durationFlag{&o.since}, "since", "only events of this last period, such as 7d or 24h")
	fs.StringVar(&o.action, "action", "", "only this action, such as secrets.resolve")
	fs.StringVar(&o.actor, "actor", "", "only events of this key: its name or id")
	fs.IntVar(&o.limit, "limit", 50, "at most this many events")
	fs.BoolVar(&co.json, "json", false, "print JSON")
	return cmd
}

type auditOptions struct {
	since         time.Duration
	action, actor string
	limit         int
}

func (c *cli) auditCmd(ctx context.Context, co *common, o *auditOptions) error {
	client, err := c.client(co)
	if err != nil {
		return err
	}
	actor := o.actor
	if actor != "" && !secret.IsUUID(actor) {
		// A key's name: its id, which is what the trail is indexed by.
		if actor, err = findAuditActor(ctx, client, actor); err != nil {
			return err
		}
	}
	q := api.AuditQuery{Action: o.action, Actor: actor, Limit: o.limit}
	if o.since > 0 {
		q.Since = time.Now().Add(-o.since)
	}
	events, err := client.Audit(ctx, q)
	if err != nil {
		return err
	}
	return c.printAudit(co.json, events)
}

// printAudit prints audit events as JSON or as a table.
func (c *cli) printAudit(asJSON bool, events []api.AuditEvent) error {
	if asJSON {
		return c.printJSON(api.AuditList{Events: events})
	}
	t := newTable(c.stdout, "TIME", "ACTOR", "FROM", "ACTION", "OUTCOME", "TARGET")
	for _, ev := range events {
		t.row(ev.Time.Local().Format(time.DateTime), ev.ActorName, ev.ClientAddr, ev.Action, ev.Outcome, describeTarget(ev.Target))
	}
	return t.flush()
}

// findAuditActor is the id of the key named name, revoked or not: the trail outlives
// the keys. Two keys of that name are an ambiguity to settle with an id.
func findAuditActor(ctx context.Context, client *api.Client, name string) (string, error) {
	keys, err := client.Keys(ctx)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, k := range keys {
		if k.Name == name {
			ids = append(ids, k.ID)
		}
	}
	switch len(ids) {
	case 0:
		return "", withHint(fmt.Errorf("--actor: no key named %s", secret.Excerpt(name)), "kazzle keys list shows the keys, their names and ids")
	case 1:
		return ids[0], nil
	}
	return "", withHint(fmt.Errorf("--actor: %d keys are named %s: %s", len(ids), secret.Excerpt(name), strings.Join(ids, ", ")), "pass the id of the one you mean")
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
