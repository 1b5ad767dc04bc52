package cmd

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/spf13/cobra"
)

// requestOptions are the flags of kazzle secrets request.
type requestOptions struct {
	common
	typ, message, note, hosts, expires string
	fields                             []string
	wait, hostsSet                     bool
}

func (c *cli) secretsRequestCommand() *cobra.Command {
	var o requestOptions
	cmd := &cobra.Command{
		Use:   "request NAME [--env=ENV] [--type=T] [--message=…] [--expires=7d] [--wait]",
		Short: "ask someone who has a secret's value to enter it on a one-time page",
		Long: "Prints the link to a one-time page where a person signed in with a key that may\n" +
			"write the secret types its value; the value never passes through this command.\n" +
			"With --wait, waits for it and prints the secret's references.",
		Example: "  kazzle secrets request OPENAI_API_KEY --collection app --env dev --wait\n" +
			"  kazzle secrets request DB --type login --message 'the staging database' --expires 7d",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.hostsSet = cmd.Flags().Changed("hosts")
			return c.secretsRequest(cmd.Context(), &o, args[0])
		},
	}
	c.apiFlags(cmd, &o.common, true)
	fs := cmd.Flags()
	fs.StringVar(&o.typ, "type", "string", "string, login, git or totp")
	fs.StringSliceVar(&o.fields, "field", nil, "the fields asked for (default: the type's required fields)")
	fs.StringVar(&o.message, "message", "", "a message shown on the page, at most 500 characters")
	fs.StringVar(&o.note, "note", "", "a note kept with the secret")
	fs.StringVar(&o.hosts, "hosts", "", "the hosts the secret may be sent to, as secrets set --hosts takes them")
	fs.StringVar(&o.expires, "expires", "15m", "how long the entry waits: a duration (15m, 2h) or days (7d), at most 7d")
	fs.BoolVar(&o.wait, "wait", false, "wait until the value is entered, the entry expires or is cancelled")
	cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"string", "login", "git", "totp"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// secretsRequest asks, through a one-time entry, for a secret's value that someone else
// has: it prints the link to the entry's page and, with --wait, waits for it.
func (c *cli) secretsRequest(ctx context.Context, o *requestOptions, name string) error {
	co, typ, message, note, expires, wait := &o.common, &o.typ, &o.message, &o.note, &o.expires, &o.wait
	lifetime, err := parseDuration(*expires)
	if err != nil {
		return usagef("--expires: %v", err)
	}
	if lifetime < vault.MinEntryLifetime || lifetime > vault.MaxEntryLifetime {
		return usagef("--expires %s: an entry waits from 1 minute to 7 days", *expires)
	}
	req := api.CreateEntryRequest{Collection: co.collection, Environment: co.env, Name: name, Type: *typ, Fields: o.fields,
		Message: *message, Note: *note, ExpiresIn: int(lifetime / time.Second)}
	if o.hostsSet {
		if req.Hosts, err = hostsFlag(o.hosts); err != nil {
			return err
		}
	}
	if err := c.needCollection(ctx, co); err != nil {
		return err
	}
	req.Collection = co.collection
	client, err := c.client(co)
	if err != nil {
		return err
	}
	e, err := client.CreateEntry(ctx, req)
	if err != nil {
		return err
	}
	if co.json && !*wait {
		return c.printJSON(e)
	}
	if !co.json {
		fmt.Fprintln(c.stdout, strings.TrimSuffix(co.server, "/")+e.Path)
	}
	fmt.Fprintln(c.stderr, printablef("kazzle: the link above asks for %s (%s) until %s; who opens it signs in with a key that may write it", e.Name, strings.Join(e.Fields, ", "), e.ExpiresAt.Local().Format(time.DateTime)))
	if !*wait {
		return nil
	}
	fmt.Fprintln(c.stderr, "kazzle: waiting for the value (Ctrl-C stops waiting; the entry stays open)")
	for e.Status == api.EntryPending {
		if e, err = client.WaitEntry(ctx, e.ID, time.Until(e.ExpiresAt)+time.Second); err != nil {
			return err
		}
	}
	if co.json {
		return c.printJSON(e)
	}
	if e.Status != api.EntryDone {
		return fmt.Errorf("entry for %s %s: nothing was stored", e.Name, e.Status)
	}
	fmt.Fprintln(c.stderr, printablef("kazzle: %s was entered by %s (version %d)", e.Name, e.DoneBy, e.Version))
	for _, ref := range e.References {
		fmt.Fprintln(c.stdout, ref)
	}
	return nil
}

// entryID takes an entry's id, or the link to its page.
func entryID(arg string) string {
	if i := strings.LastIndex(arg, "/ui/enter/"); i >= 0 {
		arg = arg[i+len("/ui/enter/"):]
	}
	return strings.TrimRight(arg, "/")
}

func (c *cli) secretsEnterCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:   "enter ID|LINK",
		Short: "fill a one-time entry from a prompt without echo",
		Long: "Shows who asks for which secret, then reads each value from a prompt without\n" +
			"echo (without a terminal, from stdin as secrets set reads it) and stores it as\n" +
			"this key.",
		Example: "  kazzle secrets enter https://vault.example.com/ui/enter/3kq…",
		Args:    exactArgs(1),
		RunE:    func(cmd *cobra.Command, args []string) error { return c.secretsEnter(cmd.Context(), &co, args[0]) },
	}
	c.apiFlags(cmd, &co, false)
	return cmd
}

// secretsEnter fills an entry as the CLI's key: it shows what is asked and by whom, and
// reads each value from a prompt without echo (or, without a terminal, from stdin as
// secrets set reads it).
func (c *cli) secretsEnter(ctx context.Context, co *common, arg string) error {
	client, err := c.client(co)
	if err != nil {
		return err
	}
	e, err := client.Entry(ctx, entryID(arg))
	if err != nil {
		return err
	}
	where := e.Collection + "/" + e.Environment
	if e.Environment == "" {
		where = e.Collection + " (untagged)"
	}
	fmt.Fprintln(c.stderr, printablef("kazzle: %s asks for %s in %s, a %s secret: %s", e.CreatedBy, e.Name, where, e.Type, strings.Join(e.Fields, ", ")))
	if e.Message != "" {
		fmt.Fprintln(c.stderr, "kazzle: their message, unchecked:")
		for _, line := range strings.Split(e.Message, "\n") {
			fmt.Fprintln(c.stderr, "  > "+printable(line))
		}
	}
	if e.Status != api.EntryPending {
		return fmt.Errorf("entry for %s is %s: it takes no value", e.Name, e.Status)
	}
	if len(e.Hosts) > 0 {
		// The fill sets these hosts as this key's write: with an admin key it may widen
		// those the secret has now, which the person must see before typing.
		fmt.Fprintln(c.stderr, printablef("kazzle: it binds %s to the hosts %s", e.Name, strings.Join(e.Hosts, ", ")))
		if cur, ok := entrySecret(ctx, client, e); ok {
			now := "none: it may be sent anywhere"
			if len(cur.Hosts) > 0 {
				now = strings.Join(cur.Hosts, ", ")
			}
			fmt.Fprintln(c.stderr, printablef("kazzle: %s exists; its hosts now: %s", e.Name, now))
		}
	}
	typ := secret.Type(e.Type)
	required, _ := typ.StoredFields()
	var fields map[string]string
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		asked := slices.Clone(e.Fields)
		slices.SortStableFunc(asked, func(a, b string) int {
			return boolRank(!slices.Contains(required, a)) - boolRank(!slices.Contains(required, b))
		})
		n := 0
		for _, f := range asked {
			if slices.Contains(required, f) {
				n++
			}
		}
		if fields, err = c.promptFor(f, e.Name, asked, n); err != nil {
			return err
		}
	} else if fields, err = c.readFields(e.Name, typ, false); err != nil {
		return err
	}
	for f, v := range fields {
		if v == "" {
			delete(fields, f)
		} else if vault.LooksLikeAPIKey(v) {
			return usagef("the %s typed is a kazzle API key, which is never stored as a secret: nothing was sent", f)
		}
	}
	done, err := client.FillEntry(ctx, e.ID, fields)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, printablef("kazzle: stored %s (version %d) for %s", done.Name, done.Version, done.CreatedBy))
	fmt.Fprintln(c.stdout, done.SecretID)
	return nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// entrySecret is the secret an entry's fill would update, if it exists and this key
// may see it.
func entrySecret(ctx context.Context, client *api.Client, e api.Entry) (api.Secret, bool) {
	secrets, err := client.Secrets(ctx, e.Collection, e.Environment)
	if err != nil {
		return api.Secret{}, false
	}
	for _, s := range secrets {
		if s.Name == e.Name && s.Environment == e.Environment {
			return s, true
		}
	}
	return api.Secret{}, false
}
