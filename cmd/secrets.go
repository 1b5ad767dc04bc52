package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
)

func (c *cli) secretsCommand() *cobra.Command {
	return c.group("secrets", "list, export, import, set, get, delete, diff secrets; history and rollback",
		"Secrets live in a collection; each is untagged (part of every environment) or tagged to\n"+
			"one environment, which then has it instead of the untagged one of the same name.",
		"  kazzle secrets list --collection app --env dev\n  kazzle secrets set API_TOKEN --collection app < token.txt\n  kazzle secrets get API_TOKEN --reveal",
		c.secretsListCommand(), c.secretsExportCommand(), c.secretsImportCommand(), c.secretsSetCommand(), c.secretsGetCommand(),
		c.secretsDeleteCommand(), c.secretsHistoryCommand(), c.secretsRollbackCommand(), c.secretsCheckCommand(),
		c.secretsRequestCommand(), c.secretsEnterCommand(), c.secretsDiffCommand())
}

func (c *cli) printJSON(v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (c *cli) secretsListCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:   "list [--collection=NAME] [--env=ENV] [--json]",
		Short: "list the secrets of a collection, their values masked",
		Long: "Lists the secrets of a collection, with their masked previews, the hosts they may be sent to\n" +
			"and their ids. With --env, the secrets that environment has: its own and the untagged ones.",
		Example: "  kazzle secrets list --collection app\n  kazzle secrets list --collection app --env prod --json",
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return c.secretsList(cmd.Context(), &co) },
	}
	c.apiFlags(cmd, &co, true)
	return cmd
}

func (c *cli) secretsList(ctx context.Context, co *common) error {
	if err := c.needCollection(ctx, co); err != nil {
		return err
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	secrets, err := client.Secrets(ctx, co.collection, co.env)
	if err != nil {
		return err
	}
	if co.json {
		return c.printJSON(api.SecretList{Secrets: secrets})
	}
	t := newTable(c.stdout, "NAME", "TYPE", "ENV", "PREVIEW", "HOSTS", "UPDATED", "ID")
	for _, s := range secrets {
		env := s.Environment
		if env == "" {
			env = "(all)"
		}
		t.row(s.Name, s.Type, env, preview(s), showHosts(s.Hosts), s.UpdatedAt.Local().Format("2006-01-02 15:04"), s.ID)
	}
	return t.flush()
}

// showHosts is a secret's hosts as the CLI prints them: as --hosts takes them, or
// (any) for an unbound secret.
func showHosts(hosts []string) string {
	if len(hosts) == 0 {
		return "(any)"
	}
	return printable(strings.Join(hosts, ","))
}

// hostsFlag is the entries of a --hosts flag: comma-separated, "" for none (which
// clears a secret's hosts). They are checked here, before any value is asked for.
func hostsFlag(v string) ([]string, error) {
	entries := []string{}
	if strings.TrimSpace(v) != "" {
		for _, e := range strings.Split(v, ",") {
			entries = append(entries, strings.TrimSpace(e))
		}
	}
	if _, err := secret.ParseHosts(entries); err != nil {
		return nil, usagef("--hosts: %v", err)
	}
	return entries, nil
}

// preview shows a secret's masked fields on one line.
func preview(s api.Secret) string {
	if v, ok := s.Fields[secret.FieldValue]; ok && len(s.Fields) == 1 {
		return v
	}
	keys := make([]string, 0, len(s.Fields))
	for k := range s.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + s.Fields[k]
	}
	return strings.Join(parts, " ")
}

func (c *cli) secretsExportCommand() *cobra.Command {
	var co common
	var format string
	var only []string
	cmd := &cobra.Command{
		Use:   "export --env=ENV [--collection=NAME] [--format=dotenv|shell|docker|github|json|yaml] [--only=NAME,…]",
		Short: "print an environment's secrets as variables, in plaintext",
		Long: "Prints the variables of an environment, references expanded, in a format that its readers\n" +
			"read back exactly; a value that one of them would not is refused, by name, and nothing is\n" +
			"printed. The values are in plaintext, and the read is audited.\n\n" +
			"  dotenv  python-dotenv 1.x, node's dotenv and node --env-file alike; a value holding both\n" +
			"          kinds of quote, ${NAME}, two backslashes in a row or a carriage return is refused\n" +
			"  shell   set -a; . FILE (or eval) in sh, bash and zsh; every value\n" +
			"  docker  docker run --env-file: one line each, no quote processing; a multi-line value,\n" +
			"          or one in quotes, is refused\n" +
			"  github  lines for $GITHUB_ENV; a multi-line value between random delimiters\n" +
			"  json    an object of names and values; every value\n" +
			"  yaml    a mapping of names and double-quoted values; every value",
		Example: "  kazzle secrets export --collection app --env dev > .env\n" +
			"  eval \"$(kazzle secrets export --env dev --format shell)\"\n" +
			"  kazzle secrets export --env prod --format docker > prod.env && docker run --env-file prod.env app\n" +
			"  kazzle secrets export --env ci --format github >> \"$GITHUB_ENV\"",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.secretsExport(cmd.Context(), &co, format, only) },
	}
	c.apiFlags(cmd, &co, true)
	cmd.Flags().StringVar(&format, "format", "dotenv", exportFormatHelp)
	cmd.Flags().StringSliceVar(&only, "only", nil, "export only these secrets (names)")
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(exportFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (c *cli) secretsExport(ctx context.Context, co *common, format string, only []string) error {
	if err := c.needCollection(ctx, co); err != nil {
		return err
	}
	if co.env == "" {
		return usagef("no environment: pass --env=NAME or set KAZZLE_ENV")
	}
	if co.json {
		format = "json"
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	vars, err := client.Resolve(ctx, api.ResolveRequest{Collection: co.collection, Environment: co.env, Names: only})
	if err != nil {
		return err
	}
	return writeExport(c.stdout, format, vars)
}

// findSecret finds a secret by id, or by name in the collection: the one tagged with the
// environment if there is one, else the untagged one.
func (c *cli) findSecret(ctx context.Context, client *api.Client, co *common, nameOrID string) (api.Secret, error) {
	if secret.IsUUID(nameOrID) {
		return client.Secret(ctx, nameOrID)
	}
	if err := c.needCollection(ctx, co); err != nil {
		return api.Secret{}, err
	}
	secrets, err := client.Secrets(ctx, co.collection, co.env)
	if err != nil {
		return api.Secret{}, err
	}
	var untagged *api.Secret
	var tagged []string
	for i, s := range secrets {
		if s.Name != nameOrID {
			continue
		}
		if co.env != "" && s.Environment == co.env {
			return s, nil
		}
		if s.Environment == "" {
			untagged = &secrets[i]
		} else {
			tagged = append(tagged, s.Environment)
		}
	}
	if untagged != nil {
		return *untagged, nil
	}
	if co.env == "" && len(tagged) > 0 {
		sort.Strings(tagged)
		return api.Secret{}, &usageError{
			msg:  printablef("%s in %s is tagged to environments (%s) and none is given", secret.Excerpt(nameOrID), co.collection, strings.Join(tagged, ", ")),
			hint: printablef("pass --env=%s, or set KAZZLE_ENV", tagged[0]),
		}
	}
	where := co.collection
	if co.env != "" {
		where += "/" + co.env
	}
	return api.Secret{}, withHint(fmt.Errorf("no secret named %s in %s", secret.Excerpt(nameOrID), where), "kazzle secrets list --collection=%s shows the names", co.collection)
}

// oneSecret finds the secret of a command that acts on one, NAME|ID.
func (c *cli) oneSecret(ctx context.Context, co *common, nameOrID string) (*api.Client, api.Secret, error) {
	client, err := c.client(co)
	if err != nil {
		return nil, api.Secret{}, err
	}
	s, err := c.findSecret(ctx, client, co, nameOrID)
	return client, s, err
}

// secretCommand is a command that acts on one secret, NAME|ID: the API flags, and the
// names of the collection's secrets to complete.
func (c *cli) secretCommand(cmd *cobra.Command, co *common, json bool) *cobra.Command {
	cmd.Args = exactArgs(1)
	cmd.ValidArgsFunction = c.completeSecret(co)
	c.apiFlags(cmd, co, json)
	return cmd
}

// setOptions are the flags of kazzle secrets set.
type setOptions struct {
	common
	typ, note, hosts  string
	generate          []string
	noteSet, hostsSet bool // given, even as ""
}

func (c *cli) secretsSetCommand() *cobra.Command {
	var o setOptions
	cmd := &cobra.Command{
		Use:   "set NAME [--env=ENV] [--type=T] [--note=…] [--hosts=…] [--generate=…] < value",
		Short: "create or update a secret; the value comes from stdin, a prompt or the server",
		Long: "The value comes from stdin (a JSON object of fields for login and git; for totp,\n" +
			"the base32 seed, an otpauth:// URI, or a JSON object), or from a prompt without echo\n" +
			"on a terminal. A string's value may be empty. With --hosts and nothing on stdin,\n" +
			"an existing secret keeps its value and only its hosts change. With --generate,\n" +
			"the server makes the value and nothing is read: only its length is printed; an\n" +
			"existing secret keeps its other fields.",
		Example: "  kazzle secrets set DATABASE_URL --collection app --env dev < url.txt\n" +
			"  kazzle secrets set WEBHOOK_SECRET --generate base64url:32\n" +
			"  printf %s \"$TOKEN\" | kazzle secrets set API_TOKEN --hosts api.example.com\n" +
			"  echo '{\"host\":\"github.com\",\"username\":\"bot\",\"password\":\"…\"}' | kazzle secrets set GIT_BOT --type git\n" +
			"  printf %s \"$SEED\" | kazzle secrets set GITHUB_2FA --type totp",
		RunE: func(cmd *cobra.Command, args []string) error {
			o.noteSet, o.hostsSet = cmd.Flags().Changed("note"), cmd.Flags().Changed("hosts")
			return c.secretsSet(cmd.Context(), &o, args[0])
		},
	}
	c.secretCommand(cmd, &o.common, false)
	fs := cmd.Flags()
	fs.StringVar(&o.typ, "type", "string", "string, login, git or totp")
	fs.StringVar(&o.note, "note", "", "a note kept with the secret")
	fs.StringVar(&o.hosts, "hosts", "", "the hosts the secret may be sent to, comma-separated: host, host:port, *.domain,\nhttp://localhost:port; \"\" unbinds it (needs an admin key), as does widening them")
	fs.StringArrayVar(&o.generate, "generate", nil, "[FIELD=]ALPHABET:LENGTH or [FIELD=]uuid: the server makes the value (alphabets hex,\nbase64url, alnum, password; 16 to 1024 characters); FIELD defaults to value, or a\nlogin's or git secret's password; repeat for several fields")
	cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"string", "login", "git", "totp"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (c *cli) secretsSet(ctx context.Context, o *setOptions, name string) error {
	co, typ, note, hostsText := &o.common, &o.typ, &o.note, &o.hosts
	if err := secret.ValidateName(name); err != nil {
		return usagef("%v", err)
	}
	if !secret.Type(*typ).Valid() {
		return usagef("unknown type %q: use string, login, git or totp", *typ)
	}
	if err := secret.ValidateExports(name, secret.Type(*typ)); err != nil {
		return usagef("%v", err)
	}
	var hosts *[]string
	if o.hostsSet {
		entries, err := hostsFlag(*hostsText)
		if err != nil {
			return err
		}
		hosts = &entries
	}
	gen, err := generateFlag(o.generate, secret.Type(*typ))
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
	var fields map[string]string
	if gen == nil {
		if fields, err = c.readFields(name, secret.Type(*typ), hosts != nil); err != nil {
			return err
		}
	}
	existing, err := client.Secrets(ctx, co.collection, co.env)
	if err != nil {
		return err
	}
	for _, s := range existing {
		if s.Name == name && s.Environment == co.env {
			if s.Type != *typ {
				return usagef("%s is a %s secret; delete it first to make it a %s secret", name, s.Type, *typ)
			}
			req := api.UpdateSecretRequest{Version: s.Version, Fields: fields, Hosts: hosts, Generate: gen}
			if o.noteSet {
				req.Note = note
			}
			updated, err := client.UpdateSecret(ctx, s.ID, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stderr, "kazzle: updated %s (version %d)%s\n", name, updated.Version, generatedLengths(updated.Generated))
			fmt.Fprintln(c.stdout, updated.ID)
			return nil
		}
	}
	if fields == nil && gen == nil {
		return usagef("no value on stdin for the new secret %s: pipe it in, or run on a terminal to be asked", name)
	}
	req := api.CreateSecretRequest{Collection: co.collection, Environment: co.env, Name: name, Type: *typ, Note: *note, Fields: fields, Generate: gen}
	if hosts != nil {
		req.Hosts = *hosts
	}
	created, err := client.CreateSecret(ctx, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "kazzle: created %s%s\n", name, generatedLengths(created.Generated))
	fmt.Fprintln(c.stdout, created.ID)
	return nil
}

// generateFlag reads the --generate flags: [FIELD=]SPEC each, FIELD defaulting to the
// one secret field of typ (a string's value, a login's or git secret's password).
func generateFlag(flags []string, typ secret.Type) (map[string]api.Generate, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := map[string]api.Generate{}
	for _, f := range flags {
		field, spec, ok := strings.Cut(f, "=")
		if !ok {
			spec, field = f, secret.FieldValue
			if typ == secret.TypeLogin || typ == secret.TypeGit {
				field = secret.FieldPassword
			}
		}
		g, err := secret.ParseGenerate(spec)
		if err != nil {
			return nil, usagef("--generate: %v", strings.TrimPrefix(err.Error(), "invalid "))
		}
		if !typ.HasField(field) || typ.Computed() == field {
			req, opt := typ.StoredFields()
			return nil, usagef("--generate: a %s secret has no field %q (fields: %s)", typ, field, strings.Join(append(req, opt...), ", "))
		}
		if _, dup := out[field]; dup {
			return nil, usagef("--generate: field %s is named twice", field)
		}
		out[field] = api.Generate{Length: g.Length, Alphabet: g.Alphabet, Format: g.Format}
	}
	return out, nil
}

// generatedLengths says how long each generated value is: all a person learns of it.
func generatedLengths(gen map[string]int) string {
	if len(gen) == 0 {
		return ""
	}
	parts := make([]string, 0, len(gen))
	for _, f := range slices.Sorted(maps.Keys(gen)) {
		parts = append(parts, fmt.Sprintf("%s of %d characters", f, gen[f]))
	}
	return ", generated " + strings.Join(parts, ", ")
}

// readFields reads a secret's fields from stdin, or asks for them without echo on a
// terminal. A single-line value loses its trailing newline (echo adds one); a multi-line
// value, such as a PEM key, is kept byte for byte. With keep, nothing on stdin gives nil
// fields: an update that keeps them.
func (c *cli) readFields(name string, typ secret.Type, keep bool) (map[string]string, error) {
	if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fields, err := c.promptFields(f, name, typ)
		if err == nil && keep && !slices.ContainsFunc(slices.Collect(maps.Values(fields)), func(v string) bool { return v != "" }) {
			return nil, nil
		}
		return fields, err
	}
	data, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read the value from stdin: %w", err)
	}
	if keep && len(data) == 0 {
		return nil, nil
	}
	// encoding/json would send bytes that are not UTF-8 as U+FFFD without a word, so
	// what the server would store is checked here, before anything is sent.
	if err := secret.ValidateValue(string(data)); err != nil {
		return nil, usagef("the value on stdin: %v", err)
	}
	if typ == secret.TypeString {
		v := string(data)
		if t := strings.TrimSuffix(strings.TrimSuffix(v, "\n"), "\r"); !strings.Contains(t, "\n") {
			v = t
		}
		if v == "" {
			c.warnf("the value of %s is empty", name)
		}
		return map[string]string{secret.FieldValue: v}, nil
	}
	text := strings.TrimSpace(string(data))
	if typ == secret.TypeTOTP && !strings.HasPrefix(text, "{") {
		// The seed as authenticator apps show it, or the otpauth:// URI of its QR code.
		if _, err := secret.ParseSeed(text); err != nil {
			return nil, usagef("the seed on stdin: %v", err)
		}
		return map[string]string{secret.FieldSeed: text}, nil
	}
	var fields map[string]string
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&fields); err != nil {
		return nil, usagef("%s", fieldsOnStdin(typ))
	}
	return fields, checkValues(fields)
}

// fieldsOnStdin says what a secret of type typ (not a string) reads from stdin.
func fieldsOnStdin(typ secret.Type) string {
	req, opt := typ.StoredFields()
	fields := "fields: " + strings.Join(req, ", ")
	if len(opt) > 0 {
		fields += "; optional: " + strings.Join(opt, ", ")
	}
	if typ == secret.TypeTOTP {
		return "a totp secret reads its seed from stdin: base32 (as authenticator apps show it), an otpauth://totp/ URI, or a JSON object of fields (" + fields + ")"
	}
	return fmt.Sprintf("a %s secret reads a JSON object of fields from stdin (%s)", typ, fields)
}

// checkValues refuses, before they are sent, fields an environment variable cannot
// carry, such as a NUL byte written as \u0000 in JSON.
func checkValues(fields map[string]string) error {
	for _, f := range slices.Sorted(maps.Keys(fields)) {
		if err := secret.ValidateValue(fields[f]); err != nil {
			return usagef("field %q: %v", f, err)
		}
	}
	return nil
}

func (c *cli) promptFields(tty *os.File, name string, typ secret.Type) (map[string]string, error) {
	req, opt := typ.StoredFields()
	return c.promptFor(tty, name, append(req, opt...), len(req))
}

// promptFor asks for each of fields without echo; those past the first required are
// optional.
func (c *cli) promptFor(tty *os.File, name string, asked []string, required int) (map[string]string, error) {
	fields := map[string]string{}
	for _, f := range asked {
		optional := ""
		if len(fields) >= required {
			optional = " (optional)"
		}
		fmt.Fprintf(c.stderr, "%s %s%s: ", name, f, optional)
		v, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		fields[f] = string(v)
	}
	return fields, checkValues(fields)
}

func (c *cli) secretsGetCommand() *cobra.Command {
	var co common
	var reveal bool
	var field string
	cmd := &cobra.Command{
		Use:   "get NAME|ID [--env=ENV] [--reveal] [--field=F]",
		Short: "show a secret's fields, masked unless --reveal",
		Long: "Shows a secret's fields, masked; --reveal prints the plaintext, byte for byte, and is\n" +
			"audited. A name finds the secret tagged to --env, else the untagged one.",
		Example: "  kazzle secrets get DATABASE_URL --env dev\n  kazzle secrets get GIT_BOT --reveal --field password",
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.secretsGet(cmd.Context(), &co, reveal, field, args[0])
		},
	}
	c.secretCommand(cmd, &co, true)
	cmd.Flags().BoolVar(&reveal, "reveal", false, "print the plaintext (audited); references expanded")
	cmd.Flags().StringVar(&field, "field", "", "print only this field")
	return cmd
}

func (c *cli) secretsGet(ctx context.Context, co *common, reveal bool, field string, nameOrID string) error {
	client, s, err := c.oneSecret(ctx, co, nameOrID)
	if err != nil {
		return err
	}
	if reveal {
		if s, err = client.Reveal(ctx, s.ID); err != nil {
			return err
		}
	}
	if field != "" {
		v, ok := s.Fields[field]
		if !ok {
			return usagef("%s has no field %q", s.Name, field)
		}
		s.Fields = map[string]string{field: v}
	}
	if co.json {
		return c.printJSON(s)
	}
	// A revealed value is data, printed byte for byte to be piped; a masked one is a
	// line for a person.
	show := printable
	if reveal {
		show = func(v string) string { return v }
	}
	if len(s.Fields) == 1 {
		for _, v := range s.Fields {
			fmt.Fprintln(c.stdout, show(v))
		}
		return nil
	}
	keys := make([]string, 0, len(s.Fields))
	for k := range s.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(c.stdout, "%s: %s\n", printable(k), show(s.Fields[k]))
	}
	return nil
}

func (c *cli) secretsDeleteCommand() *cobra.Command {
	var co common
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete NAME|ID [--env=ENV] [--yes]",
		Short: "delete a secret with all its versions",
		Long: "Deletes a secret with every version of it, for good. On a terminal kazzle asks you to type\n" +
			"its name; without one, --yes is required.",
		Example: "  kazzle secrets delete OLD_TOKEN --collection app\n  kazzle secrets delete OLD_TOKEN --env dev --yes",
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.secretsDelete(cmd.Context(), &co, yes, args[0])
		},
	}
	c.secretCommand(cmd, &co, false)
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking (required without a terminal)")
	return cmd
}

func (c *cli) secretsDelete(ctx context.Context, co *common, yes bool, nameOrID string) error {
	ask, err := c.mayDelete(yes, "secrets delete", "a secret with all its versions")
	if err != nil {
		return err
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	s, err := c.findSecret(ctx, client, co, nameOrID)
	if err != nil {
		return err
	}
	where := s.Collection + "/" + s.Environment
	if s.Environment == "" {
		where = s.Collection + " (untagged: part of every environment)"
	}
	what := printablef("This deletes the secret %s of %s with all its versions (1 to %d); it cannot be undone.", s.Name, where, s.Version)
	if err := c.confirmDeletion(ask, what, s.Name); err != nil {
		return err
	}
	if err := client.DeleteSecret(ctx, s.ID, s.Version); err != nil {
		return err
	}
	fmt.Fprintln(c.stderr, printablef("kazzle: deleted %s (%s)", s.Name, s.ID))
	return nil
}

func (c *cli) secretsHistoryCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:     "history NAME|ID [--env=ENV] [--json]",
		Short:   "list the versions of a secret",
		Long:    "Lists the versions of a secret: when, by which key, its hosts and note. Values are not shown.",
		Example: "  kazzle secrets history DATABASE_URL --env prod",
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.secretsHistory(cmd.Context(), &co, args[0])
		},
	}
	return c.secretCommand(cmd, &co, true)
}

func (c *cli) secretsHistory(ctx context.Context, co *common, nameOrID string) error {
	client, s, err := c.oneSecret(ctx, co, nameOrID)
	if err != nil {
		return err
	}
	versions, err := client.History(ctx, s.ID)
	if err != nil {
		return err
	}
	if co.json {
		return c.printJSON(api.VersionList{Versions: versions})
	}
	t := newTable(c.stdout, "VERSION", "CREATED", "BY", "HOSTS", "NOTE")
	for _, v := range versions {
		t.row(strconv.Itoa(v.Version), v.CreatedAt.Local().Format(time.DateTime), v.CreatedBy, showHosts(v.Hosts), v.Note)
	}
	return t.flush()
}

func (c *cli) secretsRollbackCommand() *cobra.Command {
	var co common
	var to int
	cmd := &cobra.Command{
		Use:   "rollback NAME|ID --to=VERSION [--env=ENV]",
		Short: "make an older version's fields the newest version",
		Long: "Makes the fields of an older version the newest version of the secret; the versions in\n" +
			"between stay in its history.",
		Example: "  kazzle secrets history DATABASE_URL --env prod\n  kazzle secrets rollback DATABASE_URL --env prod --to 3",
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.secretsRollback(cmd.Context(), &co, to, args[0])
		},
	}
	c.secretCommand(cmd, &co, false)
	cmd.Flags().IntVar(&to, "to", 0, "the version whose fields become the newest version")
	return cmd
}

func (c *cli) secretsRollback(ctx context.Context, co *common, to int, nameOrID string) error {
	client, s, err := c.oneSecret(ctx, co, nameOrID)
	if err != nil {
		return err
	}
	if to < 1 {
		return usagef("usage: kazzle secrets rollback NAME|ID --to=VERSION")
	}
	out, err := client.Rollback(ctx, s.ID, api.RollbackRequest{To: to, Version: s.Version})
	if err != nil {
		var ae *api.Error
		if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
			env := ""
			if s.Environment != "" {
				env = " --env " + s.Environment
			}
			return withHint(err, "kazzle secrets history %s --collection %s%s lists the versions", s.Name, s.Collection, env)
		}
		return err
	}
	fmt.Fprintln(c.stderr, printablef("kazzle: %s is back to the fields of version %d, as version %d", s.Name, to, out.Version))
	return nil
}
