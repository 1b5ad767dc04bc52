// Package mcp is kazzle's Model Context Protocol server: tools with which an AI assistant
// works with the vault through references, ${secret.<id>.<field>}, and never sees a
// plaintext value. list_secrets and describe_secret show metadata and masked previews;
// run_command and http_request substitute references at execution (the server does it,
// with the API key's permissions, and audits it) and pass every result through a
// redactor for every value the call used, in the encodings a result is likely to carry.
// A command never holds a value bound to hosts: it gets a placeholder, and runs with a
// proxy (package proxy) made for the call that puts the value in place of the
// placeholder only in requests to those hosts.
package mcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/redact"
	"github.com/kazzle/kazzle/secret"
)

// Options configure the server.
type Options struct {
	Client *api.Client
	// APIKey is the key Client uses: it is scrubbed from every result too.
	APIKey string
	// Collection and Environment are the defaults of tools that take them.
	Collection, Environment string
	// Environ is the environment kazzle mcp runs in; commands get only its harmless
	// variables (PATH, HOME, locale, …), never KAZZLE_API_KEY or secrets it may hold.
	Environ []string
	// HTTPClient makes http_request's requests; default: one with no client timeout
	// (each call has its own). Its copy follows a redirect only to the same origin: a
	// request may carry substituted secrets, which must reach only the origin the
	// assistant named, so any other 3xx comes back as it is, Location included
	// (scrubbed like every header).
	HTTPClient *http.Client
	// MaxOutput bounds each of stdout, stderr and a response body; default 256 KiB.
	MaxOutput int
	Version   string
	// Now is the clock of the values' refreshes; default time.Now.
	Now func() time.Time
	// Strict refuses, in run_command and http_request, every secret not bound to hosts.
	Strict bool
	// Warnings about how kazzle mcp runs, each added to the instructions the assistant gets.
	Warnings []string
	// ServerURL is the kazzle server's address, of which an entry's link is a page.
	ServerURL string
	// OpenURL opens an entry's page in the browser of the person at this machine; nil
	// never does.
	OpenURL func(url string) error
	// Declaring lists the components of the project's config that declare a secret of
	// the collection; nil or none: no project here.
	Declaring func(ctx context.Context, collection, name string) []string
}

// Serve runs the server over r and w (stdin and stdout for kazzle mcp) until the client
// disconnects or ctx ends.
func Serve(ctx context.Context, o Options, r io.Reader, w io.Writer) error {
	return New(o).Run(ctx, &sdk.IOTransport{Reader: io.NopCloser(r), Writer: nopWriteCloser{w}})
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// New returns the MCP server with kazzle's tools.
func New(o Options) *sdk.Server {
	t := newTools(o)
	s := sdk.NewServer(&sdk.Implementation{Name: "kazzle", Title: "kazzle secrets", Version: o.Version}, &sdk.ServerOptions{
		Instructions: "kazzle keeps secrets in a vault. You never see their values: refer to a secret's field as " +
			"${secret.<id>.<field>} (list_secrets gives each field's reference) in the arguments of run_command and " +
			"http_request, and kazzle substitutes the value when it runs the call. Values in results come back as their references." +
			strings.Join(append([]string{""}, o.Warnings...), "\n\nWarning: "), // "" without warnings
	})
	sdk.AddTool(s, &sdk.Tool{
		Name: "list_secrets",
		Description: "List the secrets of a collection (and environment): names, ids, types, masked previews of their fields, " +
			"and for each field the reference ${secret.<id>.<field>} to use in run_command and http_request.",
	}, t.listSecrets)
	sdk.AddTool(s, &sdk.Tool{
		Name:        "describe_secret",
		Description: "Describe one secret, by id or name: its type, environment, note, version, times, masked previews and field references.",
	}, t.describeSecret)
	sdk.AddTool(s, &sdk.Tool{
		Name: "run_command",
		Description: "Run a command and return its exit code, stdout and stderr. Give argv (no shell) or command (a /bin/sh line). " +
			"${secret.<id>.<field>} anywhere in argv, command, cwd, env values or stdin is replaced by the secret's value, or, for a secret " +
			"bound to hosts, by a placeholder: the command runs with HTTPS_PROXY set to a proxy of kazzle's that puts the value in place " +
			"of the placeholder only in HTTPS requests to those hosts (curl, Python and Go use it as they are; Node needs 22.21 or later, " +
			"which NODE_USE_ENV_PROXY=1, set too, turns on). A request carrying a placeholder elsewhere is refused with 403, listed in refused. " +
			"Any secret value or placeholder in the output comes back as its reference. The command gets PATH, HOME and the locale, not kazzle's environment.",
	}, t.runCommand)
	sdk.AddTool(s, &sdk.Tool{
		Name: "http_request",
		Description: "Send an HTTP request and return the status, headers and body. ${secret.<id>.<field>} anywhere in the URL, " +
			"header values or body is replaced by the secret's value (e.g. \"Authorization\": \"Bearer ${secret.<id>.value}\"); " +
			"any secret value in the response comes back as its reference. A redirect is followed only to the same origin " +
			"(scheme, host and port); any other 3xx comes back with its Location header, to request again if that address " +
			"should get the secrets.",
	}, t.httpRequest)
	addWriteTools(s, t)
	return s
}

type tools struct {
	o       Options
	scrub   *scrubber
	entries *entries
}

// newTools fills in o's defaults.
func newTools(o Options) *tools {
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{}
	}
	o.HTTPClient = sameOriginRedirects(o.HTTPClient)
	if o.MaxOutput == 0 {
		o.MaxOutput = 256 << 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var fixed []redact.Replacement
	if o.APIKey != "" {
		fixed = redact.ScrubReplacements(o.APIKey, "[kazzle API key]")
	}
	t := &tools{o: o, scrub: newScrubber(o.Client, o.Now, fixed), entries: newEntries()}
	t.scrub.name(o.Collection, o.Environment) // the first scope: never past the limit
	return t
}

type listSecretsInput struct {
	Collection  string `json:"collection,omitempty" jsonschema:"the collection's slug; default: the collection kazzle mcp was started with"`
	Environment string `json:"environment,omitempty" jsonschema:"an environment slug: its own secrets and the untagged ones; empty: every secret of the collection"`
}

// secretInfo is what the tools tell of a secret: no value, only masked previews.
type secretInfo struct {
	Name        string            `json:"name"`
	ID          string            `json:"id"`
	Type        string            `json:"type"`
	Environment string            `json:"environment" jsonschema:"the environment it belongs to; empty: untagged, part of every environment"`
	Preview     map[string]string `json:"preview" jsonschema:"each stored field, masked"`
	References  map[string]string `json:"references" jsonschema:"each field's reference, to use in run_command and http_request"`
	Unscrubbed  []string          `json:"unscrubbed,omitempty" jsonschema:"fields whose values are under 8 characters: results are not scrubbed of them (they would turn up by chance), so a command that prints one shows it"`
	Hosts       []string          `json:"hosts,omitempty" jsonschema:"the hosts its values may be sent to (host, host:port, *.domain, http://localhost:port); absent: unbound, anywhere"`
	UpdatedAt   time.Time         `json:"updated_at"`
	UpdatedBy   string            `json:"updated_by"`
}

type listSecretsOutput struct {
	Collection  string       `json:"collection"`
	Environment string       `json:"environment,omitempty"`
	Secrets     []secretInfo `json:"secrets"`
}

func info(s api.Secret) secretInfo {
	si := secretInfo{Name: s.Name, ID: s.ID, Type: s.Type, Environment: s.Environment, Preview: map[string]string{},
		References: map[string]string{}, Hosts: s.Hosts, UpdatedAt: s.UpdatedAt, UpdatedBy: s.UpdatedBy}
	if !s.Masked {
		return si // never show what is not a masked preview
	}
	for f, v := range s.Fields {
		si.Preview[f] = v
	}
	for _, f := range fieldsOf(secret.Type(s.Type), s.Fields) {
		si.References[f] = secret.Ref{ID: s.ID, Field: f}.String()
	}
	return si
}

// fieldsOf lists the fields a secret of type t can be referred to by: the stored ones
// and the computed ones (a totp secret's code, a git secret's url).
func fieldsOf(t secret.Type, stored map[string]string) []string {
	var fields []string
	for f := range stored {
		fields = append(fields, f)
	}
	for _, f := range []string{secret.FieldCode, secret.FieldURL} {
		if t.HasField(f) && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	slices.Sort(fields)
	return fields
}

// where is the collection and environment a call names, with kazzle mcp's defaults:
// the default environment belongs to the default collection, so it applies only when the
// call names no collection either.
func (t *tools) where(collection, env string) (string, string, error) {
	if collection == "" {
		collection = t.o.Collection
		if env == "" {
			env = t.o.Environment
		}
	}
	if collection == "" {
		return "", "", errors.New("no collection: pass collection (kazzle mcp was started without --collection)")
	}
	return collection, env, nil
}

func (t *tools) listSecrets(ctx context.Context, _ *sdk.CallToolRequest, in listSecretsInput) (*sdk.CallToolResult, listSecretsOutput, error) {
	coll, env, err := t.where(in.Collection, in.Environment)
	if err != nil {
		return nil, listSecretsOutput{}, err
	}
	secrets, err := t.o.Client.Secrets(ctx, coll, env)
	if err != nil {
		return nil, listSecretsOutput{}, fmt.Errorf("list %s: %w", coll, err)
	}
	short, err := t.named(ctx, coll, env)
	if err != nil {
		return nil, listSecretsOutput{}, err
	}
	out := listSecretsOutput{Collection: coll, Environment: env, Secrets: []secretInfo{}}
	for _, s := range secrets {
		si := info(s)
		si.Unscrubbed = short[s.ID]
		out.Secrets = append(out.Secrets, si)
	}
	return nil, out, nil
}

type describeSecretInput struct {
	Secret      string `json:"secret" jsonschema:"the secret's id, or its name (then collection and environment say where to look)"`
	Collection  string `json:"collection,omitempty" jsonschema:"for a name: the collection; default: kazzle mcp's"`
	Environment string `json:"environment,omitempty" jsonschema:"for a name: the environment whose secret of that name is meant"`
}

type describeSecretOutput struct {
	secretInfo
	Collection string    `json:"collection"`
	Note       string    `json:"note,omitempty"`
	Version    int       `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	CreatedBy  string    `json:"created_by"`
}

func (t *tools) describeSecret(ctx context.Context, _ *sdk.CallToolRequest, in describeSecretInput) (*sdk.CallToolResult, describeSecretOutput, error) {
	var s api.Secret
	var err error
	if secret.IsUUID(in.Secret) {
		s, err = t.o.Client.Secret(ctx, in.Secret)
	} else {
		s, err = t.byName(ctx, in)
	}
	if err != nil {
		return nil, describeSecretOutput{}, err
	}
	short, err := t.named(ctx, s.Collection, s.Environment)
	if err != nil {
		return nil, describeSecretOutput{}, err
	}
	si := info(s)
	si.Unscrubbed = short[s.ID]
	return nil, describeSecretOutput{secretInfo: si, Collection: s.Collection, Note: s.Note, Version: s.Version,
		CreatedAt: s.CreatedAt, CreatedBy: s.CreatedBy}, nil
}

// named adds the collection and environment a call named to what the session scrubs
// for, reads their values if they are not fresh, and returns the fields too short to
// scrub, by secret id.
func (t *tools) named(ctx context.Context, coll, env string) (map[string][]string, error) {
	if err := t.scrub.name(coll, env); err != nil {
		return nil, err
	}
	if _, err := t.scrub.replacerFor(ctx); err != nil {
		return nil, err
	}
	return t.scrub.shortFields(scope{coll, env}), nil
}

// byName finds the secret a name means in an environment: the tagged one, or else
// the untagged one, as resolution does.
func (t *tools) byName(ctx context.Context, in describeSecretInput) (api.Secret, error) {
	coll, env, err := t.where(in.Collection, in.Environment)
	if err != nil {
		return api.Secret{}, err
	}
	secrets, err := t.o.Client.Secrets(ctx, coll, env)
	if err != nil {
		return api.Secret{}, fmt.Errorf("list %s: %w", coll, err)
	}
	var found []api.Secret
	for _, s := range secrets {
		if s.Name == in.Secret {
			found = append(found, s)
		}
	}
	switch {
	case len(found) == 0:
		return api.Secret{}, fmt.Errorf("no secret named %q in %s: list_secrets shows the names", secret.Excerpt(in.Secret), strings.TrimSuffix(coll+"/"+env, "/"))
	case len(found) == 1:
		return found[0], nil
	case env != "":
		for _, s := range found {
			if s.Environment == env {
				return s, nil
			}
		}
	}
	return api.Secret{}, fmt.Errorf("%q names %d secrets in %s (one per environment): pass environment, or the id", in.Secret, len(found), coll)
}
