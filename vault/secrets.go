package vault

import (
	"cmp"
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
)

// SecretInput is a new secret.
type SecretInput struct {
	SpaceID string
	// Collection is an id or slug; Environment too, or "" for an untagged secret.
	Collection  string
	Environment string
	Name        string
	Type        secret.Type // default string
	Note        string
	Fields      map[string]string
	// Hosts are the entries of the hosts the secret may be sent to (secret.ParseHosts);
	// none leaves it unbound.
	Hosts []string
	// Generate names fields whose values the vault makes (secret.NewValue); a field is
	// in Fields or in Generate, not both.
	Generate map[string]secret.Generate
}

// SecretUpdate changes a secret and makes a new version of it.
type SecretUpdate struct {
	SpaceID string
	ID      string
	// Version is the version the update replaces; if the secret has moved on since,
	// the update fails with ErrConflict and changes nothing.
	Version int
	// Fields replaces all fields; nil keeps them.
	Fields map[string]string
	// Note replaces the note; nil keeps it.
	Note *string
	// Hosts replaces the entries of the hosts the secret may be sent to; nil keeps them,
	// an empty list clears them (unbound). Widening or clearing needs an admin actor.
	Hosts *[]string
	// Generate names fields whose values the vault makes, in place of those of Fields,
	// or, when Fields is nil, of the current version, whose other fields stay: a
	// rotation keeps a login's username. A field is in Fields or in Generate, not both.
	Generate map[string]secret.Generate
	// Merge, with Fields, sets those fields over the current version's instead of
	// replacing them all.
	Merge bool
}

// generate fills fields with a new value for each field of gen, after checking every
// spec, so that a refused one makes nothing. It returns the fields generated, sorted.
func generate(fields map[string]string, gen map[string]secret.Generate) ([]string, error) {
	names := slices.Sorted(maps.Keys(gen))
	for _, f := range names {
		if _, ok := fields[f]; ok {
			return nil, fmt.Errorf("%w field %q: it is given a value and asked to be generated; choose one", ErrInvalid, secret.Excerpt(f))
		}
		if err := gen[f].Validate(); err != nil {
			return nil, fmt.Errorf("field %q: %w", secret.Excerpt(f), err)
		}
	}
	for _, f := range names {
		v, err := secret.NewValue(gen[f])
		if err != nil {
			return nil, err
		}
		fields[f] = v
	}
	return names, nil
}

// sealAll seals every field of s under the space's data key.
func sealAll(aead cipher.AEAD, meta SecretMeta, fields map[string]string) (SealedSecret, error) {
	out := SealedSecret{SecretMeta: meta, Fields: make(map[string][]byte, len(fields))}
	for f, val := range fields {
		sealed, err := sealField(aead, meta.SpaceID, meta.ID, meta.Version, f, []byte(val))
		if err != nil {
			return SealedSecret{}, err
		}
		out.Fields[f] = sealed
	}
	return out, nil
}

// open decrypts the fields of a sealed secret.
func (v *Vault) open(ctx context.Context, ss SealedSecret) (Secret, error) {
	aead, err := v.aead(ctx, ss.SpaceID)
	if err != nil {
		return Secret{}, err
	}
	return openWith(aead, ss)
}

func openWith(aead cipher.AEAD, ss SealedSecret) (Secret, error) {
	out := Secret{SecretMeta: ss.SecretMeta, Fields: make(map[string]string, len(ss.Fields))}
	var o opener
	for f, sealed := range ss.Fields {
		plain, err := o.open(aead, ss.SpaceID, ss.ID, ss.Version, f, sealed)
		if err != nil {
			return Secret{}, fmt.Errorf("open field %s of secret %s (%s) version %d: %w", f, ss.Name, ss.ID, ss.Version, err)
		}
		out.Fields[f] = string(plain)
	}
	return out, nil
}

func (s Secret) forResolver() secret.Secret {
	return secret.Secret{ID: s.ID, Name: s.Name, Type: s.Type, Env: s.EnvironmentID, Hosts: s.Hosts, Fields: secret.FieldsOf(s.Fields)}
}

// source looks secrets up by id within one space for reference expansion, preferring the
// ones the caller already opened.
func (v *Vault) source(ctx context.Context, spaceID string, known map[string]secret.Secret) resolver.Source {
	return resolver.SourceFunc(func(id string) (secret.Secret, error) {
		if s, ok := known[id]; ok {
			return s, nil
		}
		ss, err := v.store.Secret(ctx, spaceID, id)
		if errors.Is(err, ErrNotFound) {
			return secret.Secret{}, fmt.Errorf("secret %s: %w", id, resolver.ErrUnknownSecret)
		}
		if err != nil {
			return secret.Secret{}, err
		}
		s, err := v.open(ctx, ss)
		if err != nil {
			return secret.Secret{}, err
		}
		known[id] = s.forResolver()
		return known[id], nil
	})
}

// viewSource is source for a resolve: secrets of the view come from what the resolve
// already opened.
func (v *Vault) viewSource(ctx context.Context, spaceID string, plan *viewPlan, opened []secret.Secret) resolver.Source {
	var others resolver.Source
	return resolver.SourceFunc(func(id string) (secret.Secret, error) {
		if i, ok := plan.byID[id]; ok {
			return opened[i], nil
		}
		if others == nil {
			others = v.source(ctx, spaceID, map[string]secret.Secret{})
		}
		return others.Secret(id)
	})
}

// checkReferences expands every field of s as it is about to be saved, so that a
// reference to an unknown secret or field, one that closes a cycle, or references that
// expand past resolver.MaxExpandedField are refused before anything changes.
func (v *Vault) checkReferences(ctx context.Context, s Secret) error {
	hasRefs := false
	for _, val := range s.Fields {
		hasRefs = hasRefs || secret.HasReferences(val)
	}
	if !hasRefs {
		return nil
	}
	e := resolver.NewExpander(v.source(ctx, s.SpaceID, map[string]secret.Secret{s.ID: s.forResolver()}), v.now())
	fields := slices.Sorted(maps.Keys(s.Fields))
	if s.Type == secret.TypeTOTP {
		// A seed made of references must expand to one that gives a code.
		fields = append(fields, secret.FieldCode)
	}
	for _, f := range fields {
		if _, err := e.Field(s.forResolver(), f); err != nil {
			return fmt.Errorf("%w secret %s field %q: %w", ErrInvalid, s.Name, f, err)
		}
	}
	return nil
}

func (v *Vault) collectionAndEnv(ctx context.Context, spaceID, collection, env string) (Collection, Environment, error) {
	return v.store.CollectionAndEnvironment(ctx, spaceID, collection, env)
}

// CreateSecret validates and stores version 1 of a new secret.
func (v *Vault) CreateSecret(ctx context.Context, actor Actor, in SecretInput) (SecretMeta, error) {
	if in.Type == "" {
		in.Type = secret.TypeString
	}
	if err := secret.ValidateName(in.Name); err != nil {
		return SecretMeta{}, err
	}
	if err := secret.ValidateExports(in.Name, in.Type); err != nil {
		return SecretMeta{}, err
	}
	var generated []string
	if len(in.Generate) > 0 {
		fields := maps.Clone(in.Fields)
		if fields == nil {
			fields = map[string]string{}
		}
		var err error
		if generated, err = generate(fields, in.Generate); err != nil {
			return SecretMeta{}, fmt.Errorf("secret %s: %w", in.Name, err)
		}
		in.Fields = fields
	}
	if err := secret.ValidateFields(in.Type, in.Fields); err != nil {
		return SecretMeta{}, fmt.Errorf("secret %s: %w", in.Name, err)
	}
	if err := secret.ValidateNote(in.Note); err != nil {
		return SecretMeta{}, fmt.Errorf("secret %s: %w", in.Name, err)
	}
	hosts, err := secret.ParseHosts(in.Hosts)
	if err != nil {
		return SecretMeta{}, fmt.Errorf("secret %s: %w", in.Name, err)
	}
	c, e, err := v.collectionAndEnv(ctx, in.SpaceID, in.Collection, in.Environment)
	if err != nil {
		return SecretMeta{}, err
	}
	now := v.now()
	meta := SecretMeta{
		ID: uuid.NewString(), SpaceID: in.SpaceID, CollectionID: c.ID, EnvironmentID: e.ID,
		Name: in.Name, Type: in.Type, Note: in.Note, Hosts: hosts, Version: 1,
		CreatedAt: now, CreatedBy: actor.Name, UpdatedAt: now, UpdatedBy: actor.Name,
	}
	fields := dropEmpty(in.Fields)
	if err := v.checkReferences(ctx, Secret{SecretMeta: meta, Fields: fields}); err != nil {
		return SecretMeta{}, err
	}
	aead, err := v.aead(ctx, in.SpaceID)
	if err != nil {
		return SecretMeta{}, err
	}
	sealed, err := sealAll(aead, meta, fields)
	if err != nil {
		return SecretMeta{}, err
	}
	target := secretTarget(c, e, meta)
	target.Hosts = hostsChange(nil, hosts)
	target.Generated = generated
	ev := v.event(actor, in.SpaceID, "secret.create", target)
	if err := v.store.CreateSecret(ctx, sealed, ev); err != nil {
		return SecretMeta{}, fmt.Errorf("create secret %s: %w", in.Name, err)
	}
	return meta, nil
}

func secretTarget(c Collection, e Environment, m SecretMeta) AuditTarget {
	return AuditTarget{CollectionID: c.ID, Collection: c.Slug, EnvironmentID: e.ID, Environment: e.Slug, SecretID: m.ID, Secret: m.Name, Version: m.Version}
}

// addReferenced names in t every secret that e followed a reference to, other than
// those asked reports the read named already: their plaintext went into the values, so
// the read's audit event names them, by name in Secrets and by id in Referenced (a name
// alone is ambiguous across environments and collections).
func addReferenced(t *AuditTarget, e *resolver.Expander, asked func(id string) bool) {
	read := e.Read()
	ids := make([]string, 0, len(read))
	for id := range read {
		if !asked(id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	slices.SortFunc(ids, func(a, b string) int { return cmp.Or(strings.Compare(read[a], read[b]), strings.Compare(a, b)) })
	// Clip: Secrets may be a cached slice that others read; appending must copy it.
	t.Secrets = slices.Clip(t.Secrets)
	for _, id := range ids {
		t.Secrets = append(t.Secrets, read[id])
	}
	t.Referenced = ids
}

// dropEmpty leaves out empty optional fields, so "not set" has one representation. A
// string's value is kept even empty: it is set, to "".
func dropEmpty(fields map[string]string) map[string]string {
	out := make(map[string]string, len(fields))
	for f, val := range fields {
		if val != "" || f == secret.FieldValue {
			out[f] = val
		}
	}
	return out
}

// UpdateSecret stores a new version of a secret, provided u.Version is still current.
func (v *Vault) UpdateSecret(ctx context.Context, actor Actor, u SecretUpdate) (SecretMeta, error) {
	cur, err := v.Secret(ctx, u.SpaceID, u.ID, 0)
	if err != nil {
		return SecretMeta{}, err
	}
	if cur.Version != u.Version {
		return SecretMeta{}, fmt.Errorf("update secret %s: version %d is not current (it is %d): %w", cur.Name, u.Version, cur.Version, ErrConflict)
	}
	fields := cur.Fields
	next := u.Fields
	if next != nil && u.Merge {
		next = maps.Clone(cur.Fields)
		maps.Copy(next, u.Fields)
	}
	var generated []string
	if len(u.Generate) > 0 {
		if next == nil {
			next = maps.Clone(cur.Fields)
			for f := range u.Generate {
				delete(next, f)
			}
		} else {
			next = maps.Clone(next)
		}
		if generated, err = generate(next, u.Generate); err != nil {
			return SecretMeta{}, fmt.Errorf("secret %s: %w", cur.Name, err)
		}
	}
	if next != nil {
		if err := secret.ValidateFields(cur.Type, next); err != nil {
			return SecretMeta{}, fmt.Errorf("secret %s: %w", cur.Name, err)
		}
		fields = dropEmpty(next)
	}
	note := cur.Note
	if u.Note != nil {
		if err := secret.ValidateNote(*u.Note); err != nil {
			return SecretMeta{}, fmt.Errorf("secret %s: %w", cur.Name, err)
		}
		note = *u.Note
	}
	hosts := cur.Hosts
	if u.Hosts != nil {
		if hosts, err = secret.ParseHosts(*u.Hosts); err != nil {
			return SecretMeta{}, fmt.Errorf("secret %s: %w", cur.Name, err)
		}
		if !hosts.Within(cur.Hosts) && actor.Role != RoleAdmin {
			return SecretMeta{}, fmt.Errorf("secret %s: widening a secret's hosts needs an admin key; key %s is %s (%w)",
				cur.Name, actor.Name, cmp.Or(string(actor.Role), "no role"), ErrForbidden)
		}
	}
	return v.writeVersion(ctx, actor, cur.SecretMeta, fields, note, hosts, versionChange{hosts: hostsChange(cur.Hosts, hosts), generated: generated}, "secret.update")
}

// versionChange is what the audit event of a new version says beyond the version: how
// its hosts moved, and which fields the vault generated.
type versionChange struct {
	hosts     string
	generated []string
}

// hostsChange names, for the audit trail, how hosts moved from cur to next: "" when
// they did not.
func hostsChange(cur, next secret.Hosts) string {
	narrower, wider := next.Within(cur), cur.Within(next)
	switch {
	case narrower && wider:
		return ""
	case cur == nil:
		return "set"
	case next == nil:
		return "cleared"
	case narrower:
		return "narrowed"
	}
	return "widened"
}

// writeVersion stores fields as the version after cur; change is what its audit event says.
func (v *Vault) writeVersion(ctx context.Context, actor Actor, cur SecretMeta, fields map[string]string, note string, hosts secret.Hosts, change versionChange, action string) (SecretMeta, error) {
	// A secret stored under a name refused since keeps it only until it is moved: a
	// new version would keep it alive.
	if err := secret.ValidateExports(cur.Name, cur.Type); err != nil {
		return SecretMeta{}, err
	}
	meta := cur
	meta.Version = cur.Version + 1
	meta.Note, meta.Hosts = note, hosts
	meta.UpdatedAt, meta.UpdatedBy = v.now(), actor.Name
	if err := v.checkReferences(ctx, Secret{SecretMeta: meta, Fields: fields}); err != nil {
		return SecretMeta{}, err
	}
	return v.storeVersion(ctx, actor, meta, fields, change, action)
}

// storeVersion seals fields as version meta.Version and stores it with its audit event.
func (v *Vault) storeVersion(ctx context.Context, actor Actor, meta SecretMeta, fields map[string]string, change versionChange, action string) (SecretMeta, error) {
	aead, err := v.aead(ctx, meta.SpaceID)
	if err != nil {
		return SecretMeta{}, err
	}
	sealed, err := sealAll(aead, meta, fields)
	if err != nil {
		return SecretMeta{}, err
	}
	c, e, err := v.targetOf(ctx, meta)
	if err != nil {
		return SecretMeta{}, err
	}
	target := secretTarget(c, e, meta)
	target.Hosts, target.Generated = change.hosts, change.generated
	if err := v.store.UpdateSecret(ctx, sealed, v.event(actor, meta.SpaceID, action, target)); err != nil {
		return SecretMeta{}, fmt.Errorf("update secret %s: %w", meta.Name, err)
	}
	return meta, nil
}

func (v *Vault) targetOf(ctx context.Context, m SecretMeta) (Collection, Environment, error) {
	return v.collectionAndEnv(ctx, m.SpaceID, m.CollectionID, m.EnvironmentID)
}

// Rollback makes the fields of an earlier version the newest version; expect is the
// version it replaces, as for UpdateSecret.
func (v *Vault) Rollback(ctx context.Context, actor Actor, spaceID, id string, to, expect int) (SecretMeta, error) {
	if to < 1 {
		return SecretMeta{}, fmt.Errorf("%w version to roll back to: %d; versions start at 1 (see the secret's history)", ErrInvalid, to)
	}
	old, err := v.Secret(ctx, spaceID, id, to)
	if err != nil {
		return SecretMeta{}, err
	}
	cur, err := v.store.Secret(ctx, spaceID, id)
	if err != nil {
		return SecretMeta{}, err
	}
	if cur.Version != expect {
		return SecretMeta{}, fmt.Errorf("roll back secret %s: version %d is not current (it is %d): %w", cur.Name, expect, cur.Version, ErrConflict)
	}
	// The old fields are written again, so they obey today's rules for a write: a
	// version stored before a rule existed does not come back past it.
	if err := secret.ValidateFields(old.Type, old.Fields); err != nil {
		return SecretMeta{}, fmt.Errorf("roll back secret %s to version %d: %w", cur.Name, to, err)
	}
	if err := secret.ValidateNote(old.Note); err != nil {
		return SecretMeta{}, fmt.Errorf("roll back secret %s to version %d: %w", cur.Name, to, err)
	}
	// Hosts never come back wider than they are now, whoever rolls back: the old ones
	// return only when they are within the current ones.
	hosts, change := old.Hosts, hostsChange(cur.Hosts, old.Hosts)
	if !old.Hosts.Within(cur.Hosts) {
		hosts, change = cur.Hosts, "kept"
	}
	return v.writeVersion(ctx, actor, cur.SecretMeta, old.Fields, old.Note, hosts, versionChange{hosts: change}, "secret.rollback")
}

// DeleteSecret deletes a secret and all its versions, provided version is still current.
func (v *Vault) DeleteSecret(ctx context.Context, actor Actor, spaceID, id string, version int) error {
	cur, err := v.store.Secret(ctx, spaceID, id)
	if err != nil {
		return err
	}
	c, e, err := v.targetOf(ctx, cur.SecretMeta)
	if err != nil {
		return err
	}
	return v.store.DeleteSecret(ctx, spaceID, id, version, v.event(actor, spaceID, "secret.delete", secretTarget(c, e, cur.SecretMeta)))
}

// Secret returns a version of a secret (0: the current one) with its stored fields in
// plaintext, references unexpanded. It records no audit event: it is for the vault's own
// use and for callers that audit the read themselves; see Reveal.
func (v *Vault) Secret(ctx context.Context, spaceID, id string, version int) (Secret, error) {
	var ss SealedSecret
	var err error
	if version == 0 {
		ss, err = v.store.Secret(ctx, spaceID, id)
	} else {
		ss, err = v.store.SecretVersion(ctx, spaceID, id, version)
	}
	if err != nil {
		return Secret{}, err
	}
	return v.open(ctx, ss)
}

// Reveal returns a version of a secret (0: current) in plaintext and records the read.
// With expand, references are substituted and a totp secret gains its current code.
func (v *Vault) Reveal(ctx context.Context, actor Actor, spaceID, id string, version int, expand bool) (Secret, error) {
	s, err := v.Secret(ctx, spaceID, id, version)
	if err != nil {
		return Secret{}, err
	}
	var e *resolver.Expander
	if expand {
		e = resolver.NewExpander(v.source(ctx, spaceID, map[string]secret.Secret{s.ID: s.forResolver()}), v.now())
		fields := make(map[string]string, len(s.Fields)+1)
		for f := range s.Fields {
			if fields[f], err = e.Field(s.forResolver(), f); err != nil {
				return Secret{}, err
			}
		}
		if s.Type == secret.TypeTOTP {
			if fields[secret.FieldCode], err = e.Field(s.forResolver(), secret.FieldCode); err != nil {
				return Secret{}, err
			}
		}
		s.Fields = fields
	}
	c, env, err := v.targetOf(ctx, s.SecretMeta)
	if err != nil {
		return Secret{}, err
	}
	target := secretTarget(c, env, s.SecretMeta)
	if e != nil {
		addReferenced(&target, e, func(id string) bool { return id == s.ID })
	}
	if err := v.store.AppendAudit(ctx, v.event(actor, spaceID, "secret.reveal", target)); err != nil {
		return Secret{}, err
	}
	return s, nil
}

// History lists the versions of a secret, newest first.
func (v *Vault) History(ctx context.Context, spaceID, id string) ([]SecretMeta, error) {
	return v.store.SecretVersions(ctx, spaceID, id)
}

// ResolveRequest names an environment of a collection to resolve.
type ResolveRequest struct {
	SpaceID string
	// Collection and Environment are ids or slugs; an empty Environment resolves the
	// untagged secrets alone.
	Collection  string
	Environment string
	// Names, when set, keeps only these secrets (by secret name).
	Names []string
	// Allow, when set, is asked whether the caller may read the collection and
	// environment (zero when none was named) once they are found; its error is returned.
	Allow func(Collection, Environment) error
}

// Resolve returns the environment variables of an environment: untagged and tagged
// secrets merged, references expanded, TOTP codes computed. It records the read.
func (v *Vault) Resolve(ctx context.Context, actor Actor, req ResolveRequest) ([]resolver.Var, error) {
	vars, _, err := v.resolve(ctx, actor, req, false)
	return vars, err
}

// ResolveForScan is Resolve that also returns what a leak scan of output built with the
// variables must look for (see resolver.Expander.ScanValues): every stored field of the
// secrets resolved and every field their references read. It records one read, which
// names every secret those values came from.
func (v *Vault) ResolveForScan(ctx context.Context, actor Actor, req ResolveRequest) (vars, scan []resolver.Var, err error) {
	return v.resolve(ctx, actor, req, true)
}

// maxOpened caps the plaintext one resolve opens: four times what it may return
// (resolver.MaxExpandedTotal), room for TOTP seeds and references, which are stored
// longer than what they give; an environment past it would not resolve anyway.
const maxOpened = 4 * resolver.MaxExpandedTotal

func (v *Vault) resolve(ctx context.Context, actor Actor, req ResolveRequest, forScan bool) (vars, scan []resolver.Var, err error) {
	r, err := v.resolveEnv(ctx, req, forScan, v.now())
	if err != nil {
		return nil, nil, err
	}
	if err := v.store.AppendAudit(ctx, v.event(actor, req.SpaceID, "secrets.resolve", r.target)); err != nil {
		return nil, nil, err
	}
	return r.vars, r.scan, nil
}

// resolvedEnv is an environment resolved, with the audit target that records the read.
type resolvedEnv struct {
	vars, scan []resolver.Var
	// view is the secrets resolved, as stored (references unexpanded).
	view   []secret.Secret
	target AuditTarget
}

// resolveEnv resolves an environment at now, recording nothing: the caller audits the
// read with the target it returns.
func (v *Vault) resolveEnv(ctx context.Context, req ResolveRequest, forScan bool, now time.Time) (resolvedEnv, error) {
	var r resolvedEnv
	c, e, err := v.collectionAndEnv(ctx, req.SpaceID, req.Collection, req.Environment)
	if err != nil {
		return r, err
	}
	if req.Allow != nil {
		if err := req.Allow(c, e); err != nil {
			return r, err
		}
	}
	env, err := v.environment(ctx, c, e.ID)
	if err != nil {
		return r, err
	}
	aead, err := v.aead(ctx, req.SpaceID)
	if err != nil {
		return r, err
	}
	// Only the secrets asked for are opened, within maxOpened bytes; one that a
	// reference names outside them is looked up by the source.
	plan := &env.view
	if len(req.Names) > 0 {
		only, err := env.only(req.Names)
		if err != nil {
			return r, fmt.Errorf("resolve %s/%s: %w", c.Slug, e.Slug, err)
		}
		plan = &only
	}
	if plan.plainSize > maxOpened {
		return r, fmt.Errorf("resolve %s/%s: its secrets hold %d bytes, more than the %d one resolve opens; ask for fewer by name, or split the environment: %w",
			c.Slug, e.Slug, plan.plainSize, maxOpened, resolver.ErrExpansionTooLarge)
	}
	if r.view, err = plan.open(aead); err != nil {
		return r, err
	}
	ex := resolver.NewExpander(v.viewSource(ctx, req.SpaceID, plan, r.view), now)
	if r.vars, err = ex.Resolve(r.view); err != nil {
		return r, fmt.Errorf("resolve %s/%s: %w", c.Slug, e.Slug, err)
	}
	if forScan {
		if r.scan, err = ex.ScanValues(r.view); err != nil {
			return r, fmt.Errorf("resolve %s/%s for a leak scan: %w", c.Slug, e.Slug, err)
		}
	}
	r.target = AuditTarget{CollectionID: c.ID, Collection: c.Slug, EnvironmentID: e.ID, Environment: e.Slug, Vars: len(r.vars), Secrets: plan.names}
	asked := func(id string) bool { _, ok := plan.byID[id]; return ok }
	addReferenced(&r.target, ex, asked)
	return r, nil
}

// List returns the current versions of a collection's secrets with masked previews of
// their fields: all of them, or with env set, the untagged ones and those tagged env.
// Masking needs the plaintext, but none leaves the vault, so no audit event is recorded.
func (v *Vault) List(ctx context.Context, spaceID, collection, env string) ([]Secret, error) {
	c, e, err := v.collectionAndEnv(ctx, spaceID, collection, env)
	if err != nil {
		return nil, err
	}
	cached, err := v.environment(ctx, c, e.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Secret, 0, len(cached.rows))
	for _, ss := range cached.rows {
		s, err := v.open(ctx, ss)
		if err != nil {
			return nil, err
		}
		out = append(out, s.Masked())
	}
	return out, nil
}

// Masked returns s with every field replaced by its masked preview.
func (s Secret) Masked() Secret {
	masked := make(map[string]string, len(s.Fields))
	for f, val := range s.Fields {
		masked[f] = secret.MaskField(f, val)
	}
	s.Fields = masked
	return s
}
