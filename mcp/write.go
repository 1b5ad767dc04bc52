package mcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
)

// create_secret and update_secret take where each value comes from, never the value:
// the server makes it (generate), a person types it into a page of the server (user), a
// command kazzle mcp runs prints it (command), or it is a template of references. Only
// the fields that are not secret (a login's url and username, a git host and path) may
// be given as they are (literal). The results give ids, references and lengths.

// valueSource says where one field's value comes from: exactly one of its members.
type valueSource struct {
	Generate *generateSource `json:"generate,omitempty" jsonschema:"the server makes the value with a CSPRNG"`
	User     *userSource     `json:"user,omitempty" jsonschema:"a person types the value into a page of the kazzle server, which kazzle mcp opens or links to"`
	Command  *commandSource  `json:"command,omitempty" jsonschema:"the standard output of a command kazzle mcp runs (as run_command does), one trailing newline removed"`
	Template *string         `json:"template,omitempty" jsonschema:"a text with references, e.g. postgres://${secret.<id>.username}:${secret.<id>.password}@db:5432/app, stored as it is so that it follows rotations"`
	Literal  *string         `json:"literal,omitempty" jsonschema:"the value itself, for fields that are not secret only: a login's url and username, a git secret's host and path"`
}

type generateSource struct {
	Length   int    `json:"length,omitempty" jsonschema:"characters of output, 16 to 1024; default 32"`
	Alphabet string `json:"alphabet,omitempty" jsonschema:"hex, base64url (the default), alnum, or password (letters, digits and !#%+-.:=@_~, at least one of each class)"`
	Format   string `json:"format,omitempty" jsonschema:"uuid: a random UUID, in place of length and alphabet"`
}

type userSource struct {
	Message string `json:"message,omitempty" jsonschema:"what to tell the person, shown on the page as your words (at most 500 characters); never ask for anything but the value of this secret"`
}

type commandSource struct {
	Argv           []string `json:"argv" jsonschema:"the program and its arguments, run without a shell; may hold references, substituted as run_command does"`
	TimeoutSeconds int      `json:"timeout_seconds,omitempty" jsonschema:"the time limit, 60 by default, at most 600"`
}

type createSecretInput struct {
	Name        string                 `json:"name" jsonschema:"the secret's name: an environment variable name such as STRIPE_SECRET_KEY"`
	Collection  string                 `json:"collection,omitempty" jsonschema:"the collection's slug; default: kazzle mcp's"`
	Environment string                 `json:"environment,omitempty" jsonschema:"an environment slug; empty: untagged, part of every environment"`
	Type        string                 `json:"type,omitempty" jsonschema:"string (the default), login, git or totp"`
	Note        string                 `json:"note,omitempty" jsonschema:"what the secret is for; never a value"`
	Hosts       []string               `json:"hosts,omitempty" jsonschema:"the hosts its values may be sent to: host, host:port, *.domain, http://localhost:port; absent: anywhere"`
	Source      *valueSource           `json:"source,omitempty" jsonschema:"where the value comes from, for a string (value) or totp (seed) secret"`
	Fields      map[string]valueSource `json:"fields,omitempty" jsonschema:"where each field comes from, for a login (username, password, url) or git (host, username, password, path) secret"`
}

type updateSecretInput struct {
	Secret      string                 `json:"secret" jsonschema:"the secret's id, or its name (then collection and environment say where to look)"`
	Collection  string                 `json:"collection,omitempty" jsonschema:"for a name: the collection; default: kazzle mcp's"`
	Environment string                 `json:"environment,omitempty" jsonschema:"for a name: the environment whose secret of that name is meant"`
	Note        *string                `json:"note,omitempty" jsonschema:"a new note; absent: kept"`
	Hosts       []string               `json:"hosts,omitempty" jsonschema:"new hosts, each within the current ones: they may only narrow; absent: kept"`
	Source      *valueSource           `json:"source,omitempty" jsonschema:"where the new value comes from, for a string or totp secret"`
	Fields      map[string]valueSource `json:"fields,omitempty" jsonschema:"where each changed field comes from, for a login or git secret; the others stay"`
}

type writeOutput struct {
	Status      string            `json:"status" jsonschema:"stored; pending: a person has yet to enter the value on the page of entry (call await_entry); declined, expired or cancelled: the entry stored nothing"`
	ID          string            `json:"id,omitempty"`
	Name        string            `json:"name"`
	Collection  string            `json:"collection"`
	Environment string            `json:"environment,omitempty"`
	Type        string            `json:"type"`
	Version     int               `json:"version,omitempty"`
	References  map[string]string `json:"references,omitempty" jsonschema:"each field's reference, to use in run_command, http_request, templates and the project's config"`
	Lengths     map[string]int    `json:"lengths,omitempty" jsonschema:"the length in characters of each value made by generate, a command or a person: never the value"`
	Hosts       []string          `json:"hosts,omitempty"`
	Stderr      map[string]string `json:"stderr,omitempty" jsonschema:"by field, what its command wrote to stderr, scrubbed of the value"`
	Entry       string            `json:"entry,omitempty" jsonschema:"the id of the one-time entry a person fills"`
	Link        string            `json:"link,omitempty" jsonschema:"the page of the entry, which asks for a sign-in with a key that may write the secret"`
	ExpiresAt   *time.Time        `json:"expires_at,omitempty"`
	DeclaredBy  []string          `json:"declared_by,omitempty" jsonschema:"the components of the project's config that declare this secret"`
	Next        string            `json:"next,omitempty" jsonschema:"what to do now"`
}

// literalFields are the fields that are not secret, by type: a literal may set them.
var literalFields = map[secret.Type][]string{
	secret.TypeLogin: {secret.FieldURL, secret.FieldUsername},
	secret.TypeGit:   {secret.FieldHost, secret.FieldPath},
}

// maxCommandValue bounds a command's output that is stored: a field's limit.
const maxCommandValue = secret.MaxFieldSize

// writePlan is what the sources of a write come to.
type writePlan struct {
	fields   map[string]string // literals, templates, commands' outputs
	generate map[string]api.Generate
	user     []string // fields a person enters
	message  string
	lengths  map[string]int
	stderr   map[string]string
}

// sourcesOf maps the input's source or fields to the fields of type typ.
func sourcesOf(typ secret.Type, single *valueSource, fields map[string]valueSource, update bool) (map[string]valueSource, error) {
	required, optional := typ.StoredFields()
	all := append(slices.Clone(required), optional...)
	switch {
	case single != nil && len(fields) > 0:
		return nil, errors.New("give source or fields, not both")
	case single != nil:
		if len(all) != 1 {
			return nil, fmt.Errorf("a %s secret has several fields (%s): give fields, with a source for each", typ, strings.Join(all, ", "))
		}
		return map[string]valueSource{all[0]: *single}, nil
	case len(fields) == 0:
		if update {
			return nil, nil
		}
		return nil, errors.New("give source (for a string or totp secret) or fields (for a login or git secret): where each value comes from")
	}
	for f := range fields {
		if !slices.Contains(all, f) {
			return nil, fmt.Errorf("a %s secret has no field %q (fields: %s)", typ, secret.Excerpt(f), strings.Join(all, ", "))
		}
	}
	return fields, nil
}

// plan checks each source and runs the commands. A command's output joins what the
// session scrubs before anything else happens.
func (t *tools) plan(ctx context.Context, typ secret.Type, sources map[string]valueSource) (*writePlan, error) {
	p := &writePlan{fields: map[string]string{}, generate: map[string]api.Generate{}, lengths: map[string]int{}, stderr: map[string]string{}}
	var messages []string
	for _, f := range slices.Sorted(maps.Keys(sources)) {
		src := sources[f]
		n := 0
		for _, set := range []bool{src.Generate != nil, src.User != nil, src.Command != nil, src.Template != nil, src.Literal != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return nil, fmt.Errorf("field %s: give exactly one of generate, user, command, template or literal", f)
		}
		switch {
		case src.Generate != nil:
			g := api.Generate{Length: src.Generate.Length, Alphabet: src.Generate.Alphabet, Format: src.Generate.Format}
			if g.Format == "" {
				g.Length = cmpOr(g.Length, 32)
				g.Alphabet = cmpOr(g.Alphabet, "base64url")
			}
			p.generate[f] = g
		case src.User != nil:
			p.user = append(p.user, f)
			if m := strings.TrimSpace(src.User.Message); m != "" && !slices.Contains(messages, m) {
				messages = append(messages, m)
			}
		case src.Literal != nil:
			if !slices.Contains(literalFields[typ], f) {
				return nil, fmt.Errorf("field %s holds a secret: a literal may set only %s; use generate, user, command or template", f, literalsOf(typ))
			}
			p.fields[f] = *src.Literal
		case src.Template != nil:
			parts, err := secret.ParseTemplate(*src.Template)
			if err != nil {
				return nil, fmt.Errorf("field %s: the template is malformed: %w", f, err)
			}
			if !slices.ContainsFunc(parts, func(pt secret.Part) bool { return pt.Ref != nil }) && !slices.Contains(literalFields[typ], f) {
				return nil, fmt.Errorf("field %s: the template has no reference; a value of a secret field comes from generate, user or command", f)
			}
			p.fields[f] = *src.Template
		case src.Command != nil:
			out, stderr, err := t.runSource(ctx, f, *src.Command)
			if err != nil {
				return nil, err
			}
			p.fields[f], p.lengths[f] = out, len([]rune(out))
			if stderr != "" {
				p.stderr[f] = stderr
			}
		}
	}
	p.message = strings.Join(messages, "\n")
	return p, nil
}

func literalsOf(typ secret.Type) string {
	if fs := literalFields[typ]; len(fs) > 0 {
		return strings.Join(fs, " and ") + " of a " + string(typ) + " secret"
	}
	return "a login's url and username, or a git secret's host and path"
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (t *tools) createSecret(ctx context.Context, req *sdk.CallToolRequest, in createSecretInput) (*sdk.CallToolResult, writeOutput, error) {
	if req.Params.RequestState != "" {
		return t.resume(ctx, req)
	}
	coll, env, err := t.where(in.Collection, in.Environment)
	if err != nil {
		return nil, writeOutput{}, err
	}
	if err := t.scrub.name(coll, env); err != nil {
		return nil, writeOutput{}, err
	}
	typ := secret.Type(cmpOr(in.Type, string(secret.TypeString)))
	if !typ.Valid() {
		return nil, writeOutput{}, fmt.Errorf("type %q: use string, login, git or totp", secret.Excerpt(in.Type))
	}
	if err := secret.ValidateName(in.Name); err != nil {
		return nil, writeOutput{}, err
	}
	sources, err := sourcesOf(typ, in.Source, in.Fields, false)
	if err != nil {
		return nil, writeOutput{}, err
	}
	if _, err := secret.ParseHosts(in.Hosts); err != nil {
		return nil, writeOutput{}, err
	}
	out := writeOutput{Name: in.Name, Collection: coll, Environment: env, Type: string(typ), Hosts: in.Hosts}
	if hasUser(sources) {
		// An entry of a name that exists makes a new version: refuse it here, as a create would.
		if existing, err := t.o.Client.Secrets(ctx, coll, env); err != nil {
			return nil, writeOutput{}, fmt.Errorf("list %s: %w", coll, err)
		} else if slices.ContainsFunc(existing, func(s api.Secret) bool { return s.Name == in.Name && s.Environment == env }) {
			return nil, writeOutput{}, fmt.Errorf("%s exists in %s: use update_secret", in.Name, strings.TrimSuffix(coll+"/"+env, "/"))
		}
	}
	p, err := t.plan(ctx, typ, sources)
	if err != nil {
		return nil, writeOutput{}, err
	}
	out.Stderr = nonEmpty(p.stderr)
	creq := api.CreateSecretRequest{Collection: coll, Environment: env, Name: in.Name, Type: string(typ), Note: in.Note, Hosts: in.Hosts,
		Fields: p.fields, Generate: p.generate}
	if len(p.user) > 0 && len(p.fields)+len(p.generate) == 0 {
		// The entry makes the secret.
		e, err := t.o.Client.CreateEntry(ctx, api.CreateEntryRequest{Collection: coll, Environment: env, Name: in.Name, Type: string(typ),
			Fields: p.user, Message: p.message, Note: in.Note, Hosts: in.Hosts})
		if err != nil {
			return nil, writeOutput{}, fmt.Errorf("create the entry: %w", err)
		}
		return t.askPerson(ctx, req, e, out)
	}
	// With fields of other sources, the secret is made now, the fields the person
	// enters holding random values nobody has until they do.
	required, _ := typ.StoredFields()
	for _, f := range p.user {
		if slices.Contains(required, f) {
			creq.Generate[f] = api.Generate{Length: 32, Alphabet: "base64url"}
		}
	}
	s, err := t.o.Client.CreateSecret(ctx, creq)
	if err != nil {
		return nil, writeOutput{}, fmt.Errorf("create %s: %w", in.Name, err)
	}
	t.stored(ctx, &out, s, p)
	if len(p.user) == 0 {
		return nil, out, nil
	}
	e, err := t.o.Client.CreateEntry(ctx, api.CreateEntryRequest{Collection: coll, Environment: env, Name: in.Name, Type: string(typ),
		Fields: p.user, Message: p.message})
	if err != nil {
		return nil, writeOutput{}, fmt.Errorf("%s is stored; the entry for %s could not be made: %w", in.Name, strings.Join(p.user, ", "), err)
	}
	return t.askPerson(ctx, req, e, out)
}

func (t *tools) updateSecret(ctx context.Context, req *sdk.CallToolRequest, in updateSecretInput) (*sdk.CallToolResult, writeOutput, error) {
	if req.Params.RequestState != "" {
		return t.resume(ctx, req)
	}
	var cur api.Secret
	var err error
	if secret.IsUUID(in.Secret) {
		cur, err = t.o.Client.Secret(ctx, in.Secret)
	} else {
		cur, err = t.byName(ctx, describeSecretInput{Secret: in.Secret, Collection: in.Collection, Environment: in.Environment})
	}
	if err != nil {
		return nil, writeOutput{}, err
	}
	if err := t.scrub.name(cur.Collection, cur.Environment); err != nil {
		return nil, writeOutput{}, err
	}
	typ := secret.Type(cur.Type)
	sources, err := sourcesOf(typ, in.Source, in.Fields, true)
	if err != nil {
		return nil, writeOutput{}, err
	}
	if in.Hosts != nil {
		if err := narrows(cur.Hosts, in.Hosts); err != nil {
			return nil, writeOutput{}, err
		}
	}
	if len(sources) == 0 && in.Hosts == nil && in.Note == nil {
		return nil, writeOutput{}, errors.New("nothing to change: give source, fields, hosts or note")
	}
	p, err := t.plan(ctx, typ, sources)
	if err != nil {
		return nil, writeOutput{}, err
	}
	out := writeOutput{ID: cur.ID, Name: cur.Name, Collection: cur.Collection, Environment: cur.Environment, Type: cur.Type, Hosts: cur.Hosts,
		Stderr: nonEmpty(p.stderr)}
	out.DeclaredBy, out.Next = t.rotation(ctx, cur.Name, cur.Collection, len(sources) > 0)
	if len(p.fields)+len(p.generate) > 0 || in.Hosts != nil || in.Note != nil {
		ureq := api.UpdateSecretRequest{Version: cur.Version, Note: in.Note, Generate: p.generate}
		if len(p.fields) > 0 {
			ureq.Fields, ureq.Merge = p.fields, true
		}
		if in.Hosts != nil {
			ureq.Hosts = &in.Hosts
		}
		s, err := t.o.Client.UpdateSecret(ctx, cur.ID, ureq)
		if err != nil {
			return nil, writeOutput{}, fmt.Errorf("update %s: %w", cur.Name, err)
		}
		t.stored(ctx, &out, s, p)
	} else {
		out.Version = cur.Version
		out.References = references(cur)
	}
	if len(p.user) == 0 {
		return nil, out, nil
	}
	e, err := t.o.Client.CreateEntry(ctx, api.CreateEntryRequest{Collection: cur.Collection, Environment: cur.Environment, Name: cur.Name,
		Type: cur.Type, Fields: p.user, Message: p.message})
	if err != nil {
		return nil, writeOutput{}, fmt.Errorf("create the entry: %w", err)
	}
	return t.askPerson(ctx, req, e, out)
}

// narrows refuses hosts that would widen cur: kazzle mcp only ever narrows a binding,
// whatever its key may do.
func narrows(cur, next []string) error {
	c, err := secret.ParseHosts(cur)
	if err != nil {
		return err
	}
	n, err := secret.ParseHosts(next)
	if err != nil {
		return err
	}
	if n == nil {
		return errors.New("hosts: an empty list unbinds the secret, which widens it; kazzle mcp only narrows hosts (an admin widens them with kazzle secrets set --hosts)")
	}
	if !n.Within(c) {
		return fmt.Errorf("hosts %s are not within the current %s: kazzle mcp only narrows hosts (an admin widens them with kazzle secrets set --hosts)", n, c)
	}
	return nil
}

// stored fills out from the secret a write answered with.
func (t *tools) stored(ctx context.Context, out *writeOutput, s api.Secret, p *writePlan) {
	out.Status, out.ID, out.Version, out.Hosts = "stored", s.ID, s.Version, s.Hosts
	if len(s.Fields) == 0 {
		// A write's answer may leave out the fields: their names come from a read.
		if cur, err := t.o.Client.Secret(ctx, s.ID); err == nil {
			s.Fields = cur.Fields
		}
	}
	out.References = references(s)
	for f, n := range s.Generated {
		if _, asked := p.generate[f]; asked {
			p.lengths[f] = n
		}
	}
	out.Lengths = nonEmpty(p.lengths)
	for f, v := range p.fields {
		if _, fromCommand := p.lengths[f]; fromCommand {
			t.scrub.learn(v, secret.Ref{ID: s.ID, Field: f}.String())
		}
	}
	// Values made now are read again before the next call's result is scrubbed.
	t.scrub.expire()
}

func references(s api.Secret) map[string]string {
	refs := map[string]string{}
	for _, f := range fieldsOf(secret.Type(s.Type), s.Fields) {
		refs[f] = secret.Ref{ID: s.ID, Field: f}.String()
	}
	return refs
}

func hasUser(sources map[string]valueSource) bool {
	for _, s := range sources {
		if s.User != nil {
			return true
		}
	}
	return false
}

func nonEmpty[M ~map[K]V, K comparable, V any](m M) M {
	if len(m) == 0 {
		return nil
	}
	return m
}

// addWriteTools adds create_secret, update_secret and await_entry.
func addWriteTools(s *sdk.Server, t *tools) {
	no, yes := false, true
	sources := " Each value comes from a source, never from you: {\"generate\": {\"length\": 32, \"alphabet\": \"base64url\"}} " +
		"(or {\"generate\": {\"format\": \"uuid\"}}) is made by the server; {\"user\": {\"message\": \"…\"}} asks the person to type it into a " +
		"page of the kazzle server (the client is asked to open it; else the result has the link, and await_entry waits for it); " +
		"{\"command\": {\"argv\": [\"…\"]}} stores a command's stdout (e.g. a cloud CLI that creates an access key; a non-zero exit, no output or " +
		"more than 64 KiB stores nothing); {\"template\": \"postgres://${secret.<id>.username}:${secret.<id>.password}@db/app\"} stores references that " +
		"follow rotations; {\"literal\": \"…\"} only for fields that are not secret (a login's url and username, a git host and path). " +
		"Give source for a string or totp secret, fields {\"<field>\": source} for a login or git secret. The result gives the id, the references " +
		"and the lengths of the values, never a value."
	sdk.AddTool(s, &sdk.Tool{
		Name:        "create_secret",
		Description: "Create a secret in the vault, with a key that may write there." + sources,
		Annotations: &sdk.ToolAnnotations{Title: "Create a secret", DestructiveHint: &no, OpenWorldHint: &yes},
	}, t.createSecret)
	sdk.AddTool(s, &sdk.Tool{
		Name: "update_secret",
		Description: "Make a new version of a secret: the fields given change, the others stay, and the id and references stay " +
			"(a rotation: {\"source\": {\"generate\": {…}}}). hosts may only narrow. The result names the components of the project's config " +
			"that declare the secret: run kazzle deploy --plan, and give a provider that checks the value the new one." + sources,
		Annotations: &sdk.ToolAnnotations{Title: "Update or rotate a secret", DestructiveHint: &yes, OpenWorldHint: &yes},
	}, t.updateSecret)
	sdk.AddTool(s, &sdk.Tool{
		Name: "await_entry",
		Description: "Wait, at most wait_seconds (60), for a person to enter the value a create_secret or update_secret with a user source " +
			"asked for, and return the secret's references once they have; status pending when they have not yet.",
		Annotations: &sdk.ToolAnnotations{Title: "Wait for a person's entry", ReadOnlyHint: true, IdempotentHint: true, DestructiveHint: &no, OpenWorldHint: &no},
	}, t.awaitEntry)
}
