package server

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

func (s *Server) routes() {
	s.handle("GET /v1/collections", s.listCollections)
	s.handle("POST /v1/collections", s.createCollection)
	s.handle("DELETE /v1/collections/{collection}", s.deleteCollection)
	s.handle("GET /v1/collections/{collection}/environments", s.listEnvironments)
	s.handle("POST /v1/collections/{collection}/environments", s.createEnvironment)
	s.handle("DELETE /v1/collections/{collection}/environments/{environment}", s.deleteEnvironment)
	s.handle("PATCH /v1/collections/{collection}/environments/{environment}", s.renameEnvironment)
	s.handle("POST /v1/collections/{collection}/diff", s.diff)
	s.handle("GET /v1/collections/{collection}/secrets", s.listSecrets)
	s.handle("POST /v1/collections/{collection}/check", s.checkCollection)
	s.handle("POST /v1/secrets", s.createSecret)
	s.handle("GET /v1/secrets/{id}", s.getSecret)
	s.handle("PUT /v1/secrets/{id}", s.updateSecret)
	s.handle("DELETE /v1/secrets/{id}", s.deleteSecret)
	s.handle("POST /v1/secrets/{id}/reveal", s.revealSecret)
	s.handle("GET /v1/secrets/{id}/versions", s.history)
	s.handle("POST /v1/secrets/{id}/rollback", s.rollback)
	s.handle("POST /v1/secrets/{id}/totp", s.totp)
	s.handle("POST /v1/resolve", s.resolve)
	s.handle("POST /v1/templates", s.templates)
	s.handle("POST /v1/git/credential", s.gitCredential)
	s.handle("GET /v1/keys", s.listKeys)
	s.handle("POST /v1/keys", s.createKey)
	s.handle("DELETE /v1/keys/{id}", s.revokeKey)
	s.handle("GET /v1/audit", s.listAudit)
	s.entryRoutes()
	s.handle("GET /v1/whoami", s.whoami)
	s.spaceRoutes()
	s.mux.HandleFunc("GET /v1/health", s.health)
	s.oidcRoutes()
	s.uiRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &api.Error{Status: http.StatusNotFound, Code: api.CodeNotFound, Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
}

func toCollection(c vault.Collection) api.Collection {
	return api.Collection{ID: c.ID, Slug: c.Slug, Name: c.Name, CreatedAt: c.CreatedAt}
}

func (s *Server) listCollections(w http.ResponseWriter, r *http.Request, p *principal) error {
	colls, err := s.v.Store().Collections(r.Context(), p.key.SpaceID)
	if err != nil {
		return err
	}
	out := api.CollectionList{Collections: []api.Collection{}}
	for _, c := range colls {
		if p.reach(c.ID, "", false) == nil {
			out.Collections = append(out.Collections, toCollection(c))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createCollection(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.CreateCollectionRequest](r, p, vault.RoleAdmin)
	if err != nil {
		return err
	}
	// A key limited to a collection administers that collection, not the space: a new
	// collection would be one it is not limited to.
	if p.key.CollectionID != "" {
		return forbidden("key %s is limited to one collection; creating a collection needs an unrestricted admin key", p.key.Name)
	}
	c, err := s.v.CreateCollection(r.Context(), p.actor, p.key.SpaceID, req.Slug, req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toCollection(c))
}

// collection finds the collection of the URL and checks the key may reach it; one it
// may not reach is answered as missing.
func (s *Server) collection(r *http.Request, p *principal, writing bool) (vault.Collection, error) {
	name := r.PathValue("collection")
	c, err := s.v.Store().Collection(r.Context(), p.key.SpaceID, name)
	if err != nil {
		return c, err
	}
	return c, hideAs(p.reach(c.ID, "", writing && p.key.EnvironmentID == ""), notFound("collection %s", name))
}

func (s *Server) deleteCollection(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := p.need(vault.RoleAdmin); err != nil {
		return err
	}
	c, err := s.collection(r, p, true)
	if err != nil {
		return err
	}
	if p.key.EnvironmentID != "" {
		return forbidden("key %s is limited to one environment", p.key.Name)
	}
	if err := s.v.DeleteCollection(r.Context(), p.actor, p.key.SpaceID, c.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listEnvironments(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.collection(r, p, false)
	if err != nil {
		return err
	}
	envs, err := s.v.Store().Environments(r.Context(), p.key.SpaceID, c.ID)
	if err != nil {
		return err
	}
	out := api.EnvironmentList{Environments: []api.Environment{}}
	for _, e := range envs {
		if p.reach(c.ID, e.ID, false) == nil {
			out.Environments = append(out.Environments, api.Environment{ID: e.ID, Slug: e.Slug, CreatedAt: e.CreatedAt})
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createEnvironment(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.CreateEnvironmentRequest](r, p, vault.RoleAdmin)
	if err != nil {
		return err
	}
	c, err := s.collection(r, p, true)
	if err != nil {
		return err
	}
	if p.key.EnvironmentID != "" {
		return forbidden("key %s is limited to one environment", p.key.Name)
	}
	e, err := s.v.CreateEnvironment(r.Context(), p.actor, p.key.SpaceID, c.ID, req.Slug)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.Environment{ID: e.ID, Slug: e.Slug, CreatedAt: e.CreatedAt})
}

// target finds a collection and, when env is set, an environment of it (ids or slugs),
// and checks that the key may reach them; what it may not reach is answered as missing.
// The collection is checked before the environment is looked up, so that whether an
// environment exists tells nothing about a collection out of reach.
func (s *Server) target(r *http.Request, p *principal, collection, env string, writing bool) (collID, envID string, err error) {
	c, err := s.v.Store().Collection(r.Context(), p.key.SpaceID, collection)
	if err != nil {
		return "", "", err
	}
	if err := p.reach(c.ID, "", false); err != nil {
		return "", "", hideAs(err, notFound("collection %s", collection))
	}
	if env != "" {
		e, err := s.v.Store().Environment(r.Context(), p.key.SpaceID, c.ID, env)
		if err != nil {
			return "", "", err
		}
		envID = e.ID
	}
	return c.ID, envID, hideAs(p.reach(c.ID, envID, writing), notFound("environment %s", env))
}

// toSecret names a secret's collection and environment for the wire.
func (s *Server) toSecret(r *http.Request, sec vault.Secret, masked bool) (api.Secret, error) {
	c, e, err := s.v.Store().CollectionAndEnvironment(r.Context(), sec.SpaceID, sec.CollectionID, sec.EnvironmentID)
	if err != nil {
		return api.Secret{}, err
	}
	return wire(sec, c.Slug, e.Slug, masked), nil
}

// writeMeta answers a change with the secret's new metadata (no fields).
func (s *Server) writeMeta(w http.ResponseWriter, r *http.Request, status int, meta vault.SecretMeta) error {
	out, err := s.toSecret(r, vault.Secret{SecretMeta: meta}, true)
	if err != nil {
		return err
	}
	return writeJSON(w, status, out)
}

// wire is a secret as the API shows it, with its collection and environment slugs.
func wire(sec vault.Secret, collection, env string, masked bool) api.Secret {
	return api.Secret{ID: sec.ID, Name: sec.Name, Type: string(sec.Type), Collection: collection, Environment: env, Note: sec.Note,
		Hosts: sec.Hosts, Version: sec.Version, Fields: sec.Fields, Masked: masked, CreatedAt: sec.CreatedAt, CreatedBy: sec.CreatedBy, UpdatedAt: sec.UpdatedAt, UpdatedBy: sec.UpdatedBy}
}

func (s *Server) listSecrets(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.collection(r, p, false)
	if err != nil {
		return err
	}
	env := r.URL.Query().Get("environment")
	if env == "" && p.key.EnvironmentID != "" {
		env = p.key.EnvironmentID
	}
	if env != "" {
		e, err := s.v.Store().Environment(r.Context(), p.key.SpaceID, c.ID, env)
		if err != nil {
			return err
		}
		if err := p.reach(c.ID, e.ID, false); err != nil {
			return hideAs(err, notFound("environment %s", env))
		}
	}
	secrets, err := s.v.List(r.Context(), p.key.SpaceID, c.ID, env)
	if err != nil {
		return err
	}
	slugs, err := s.envSlugs(r, p, c.ID)
	if err != nil {
		return err
	}
	out := api.SecretList{Secrets: make([]api.Secret, 0, len(secrets))}
	for _, sec := range secrets {
		out.Secrets = append(out.Secrets, wire(sec, c.Slug, slugs[sec.EnvironmentID], true))
	}
	return writeJSON(w, http.StatusOK, out)
}

// envSlugs maps the ids of a collection's environments to their slugs: one lookup serves
// every secret of a list.
func (s *Server) envSlugs(r *http.Request, p *principal, collectionID string) (map[string]string, error) {
	envs, err := s.v.Store().Environments(r.Context(), p.key.SpaceID, collectionID)
	if err != nil {
		return nil, err
	}
	slugs := make(map[string]string, len(envs))
	for _, e := range envs {
		slugs[e.ID] = e.Slug
	}
	return slugs, nil
}

// secretFor returns the metadata of the secret of the URL after checking that the key
// may reach it; one it may not reach is answered as missing. It decrypts nothing: the
// caller's vault call reads what it needs.
func (s *Server) secretFor(r *http.Request, p *principal, writing bool) (vault.SecretMeta, error) {
	id := r.PathValue("id")
	sealed, err := s.v.Store().Secret(r.Context(), p.key.SpaceID, id)
	if err != nil {
		return vault.SecretMeta{}, err
	}
	return sealed.SecretMeta, hideAs(p.reach(sealed.CollectionID, sealed.EnvironmentID, writing), notFound("secret %s", id))
}

func (s *Server) getSecret(w http.ResponseWriter, r *http.Request, p *principal) error {
	meta, err := s.secretFor(r, p, false)
	if err != nil {
		return err
	}
	sec, err := s.v.Secret(r.Context(), p.key.SpaceID, meta.ID, 0)
	if err != nil {
		return err
	}
	out, err := s.toSecret(r, sec.Masked(), true)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createSecret(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.CreateSecretRequest](r, p, vault.RoleWrite)
	if err != nil {
		return err
	}
	collID, envID, err := s.target(r, p, req.Collection, req.Environment, true)
	if err != nil {
		return err
	}
	if req.Fields, err = s.referencesByName(r, p, collID, envID, req.Fields); err != nil {
		return err
	}
	if err := s.mayReference(r, p, req.Fields); err != nil {
		return err
	}
	gen, err := generateSpecs(req.Generate)
	if err != nil {
		return err
	}
	meta, err := s.v.CreateSecret(r.Context(), p.actor, vault.SecretInput{SpaceID: p.key.SpaceID, Collection: collID, Environment: envID,
		Name: req.Name, Type: secret.Type(req.Type), Note: req.Note, Fields: req.Fields, Hosts: req.Hosts, Generate: gen})
	if err != nil {
		return err
	}
	return s.writeWrite(w, r, http.StatusCreated, meta, gen)
}

// generateSpecs checks the generate map of a write and makes it the vault's.
func generateSpecs(in map[string]api.Generate) (map[string]secret.Generate, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make(map[string]secret.Generate, len(in))
	for f, g := range in {
		sg := secret.Generate{Length: g.Length, Alphabet: g.Alphabet, Format: g.Format}
		if err := sg.Validate(); err != nil {
			return nil, fmt.Errorf("generate field %q: %w", secret.Excerpt(f), err)
		}
		out[f] = sg
	}
	return out, nil
}

// writeWrite answers a write with the secret's new metadata and the length of each
// value it generated.
func (s *Server) writeWrite(w http.ResponseWriter, r *http.Request, status int, meta vault.SecretMeta, gen map[string]secret.Generate) error {
	out, err := s.toSecret(r, vault.Secret{SecretMeta: meta}, true)
	if err != nil {
		return err
	}
	if len(gen) > 0 {
		out.Generated = make(map[string]int, len(gen))
		for f, g := range gen {
			out.Generated[f] = g.Len()
		}
	}
	return writeJSON(w, status, out)
}

// referencesByName stores ${secret.NAME.field} in fields as ${secret.<id>.field}: NAME is
// the secret of that name in the collection that the secret being written sees, the one
// tagged with its environment, else the untagged one. A name no secret there has is an
// error that says to refer by id.
func (s *Server) referencesByName(r *http.Request, p *principal, collID, envID string, fields map[string]string) (map[string]string, error) {
	var inColl []vault.SealedSecret
	lookup := func(name string) (string, error) {
		if inColl == nil {
			var err error
			if inColl, err = s.v.Store().Secrets(r.Context(), vault.SecretQuery{SpaceID: p.key.SpaceID, CollectionID: collID, ForEnvironment: envID}); err != nil {
				return "", err
			}
		}
		found := ""
		for _, sec := range inColl {
			if sec.Name == name && (sec.EnvironmentID == envID || (sec.EnvironmentID == "" && found == "")) {
				found = sec.ID
			}
		}
		if found == "" {
			return "", s.noSuchReference(r, p, collID, name)
		}
		return found, nil
	}
	var out map[string]string
	for f, val := range fields {
		v, err := secret.ReferencesByName(val, lookup)
		if err != nil {
			return nil, err
		}
		if v != val && out == nil {
			out = maps.Clone(fields)
		}
		if out != nil {
			out[f] = v
		}
	}
	if out == nil {
		return fields, nil
	}
	return out, nil
}

// noSuchReference refuses a reference to name that the written secret does not see,
// listing where in the collection a secret of that name is: the environments, or
// "untagged", that the key may read, so that it learns no name it could not list.
func (s *Server) noSuchReference(r *http.Request, p *principal, collID, name string) error {
	msg := fmt.Sprintf("a reference to %s: no secret of that name in this collection and environment (or untagged)", name)
	all, err := s.v.Store().Secrets(r.Context(), vault.SecretQuery{SpaceID: p.key.SpaceID, CollectionID: collID})
	if err != nil {
		return err
	}
	slugs, err := s.envSlugs(r, p, collID)
	if err != nil {
		return err
	}
	var where []string
	for _, sec := range all {
		if sec.Name != name || p.reach(collID, sec.EnvironmentID, false) != nil {
			continue
		}
		if sec.EnvironmentID == "" {
			where = append(where, "untagged")
		} else {
			where = append(where, slugs[sec.EnvironmentID])
		}
	}
	if len(where) == 0 {
		msg += "; refer to a secret elsewhere by id, ${secret.<uuid>.<field>}"
	} else {
		slices.Sort(where)
		msg += fmt.Sprintf("; there is one in %s: refer to it by id, ${secret.<uuid>.<field>}", strings.Join(where, ", "))
	}
	return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: msg}
}

// mayReference requires that the writer may read every secret its fields refer to:
// otherwise a reference would let a key read what it may not.
func (s *Server) mayReference(r *http.Request, p *principal, fields map[string]string) error {
	for _, val := range fields {
		refs, err := secret.References(val)
		if err != nil {
			return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: err.Error()}
		}
		for _, ref := range refs {
			target, err := s.v.Store().Secret(r.Context(), p.key.SpaceID, ref.ID)
			if err != nil {
				continue // the vault reports unknown references with their names
			}
			if err := p.reach(target.CollectionID, target.EnvironmentID, false); err != nil {
				return forbidden("a reference to secret %s, which key %s may not read", ref.ID, p.key.Name)
			}
		}
	}
	return nil
}

func (s *Server) updateSecret(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.UpdateSecretRequest](r, p, vault.RoleWrite)
	if err != nil {
		return err
	}
	sec, err := s.secretFor(r, p, true)
	if err != nil {
		return err
	}
	if req.Fields, err = s.referencesByName(r, p, sec.CollectionID, sec.EnvironmentID, req.Fields); err != nil {
		return err
	}
	if err := s.mayReference(r, p, req.Fields); err != nil {
		return err
	}
	gen, err := generateSpecs(req.Generate)
	if err != nil {
		return err
	}
	meta, err := s.v.UpdateSecret(r.Context(), p.actor, vault.SecretUpdate{SpaceID: p.key.SpaceID, ID: sec.ID, Version: req.Version, Fields: req.Fields, Note: req.Note, Hosts: req.Hosts, Generate: gen, Merge: req.Merge})
	if err != nil {
		return err
	}
	return s.writeWrite(w, r, http.StatusOK, meta, gen)
}

func (s *Server) deleteSecret(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := p.need(vault.RoleWrite); err != nil {
		return err
	}
	version, err := strconv.Atoi(r.URL.Query().Get("version"))
	if err != nil || version < 1 {
		return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "say which version you delete: ?version=N (the current one)"}
	}
	sec, err := s.secretFor(r, p, true)
	if err != nil {
		return err
	}
	if err := s.v.DeleteSecret(r.Context(), p.actor, p.key.SpaceID, sec.ID, version); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) revealSecret(w http.ResponseWriter, r *http.Request, p *principal) error {
	sec, err := s.secretFor(r, p, false)
	if err != nil {
		return err
	}
	revealed, err := s.v.Reveal(r.Context(), p.actor, p.key.SpaceID, sec.ID, 0, true)
	if err != nil {
		return err
	}
	out, err := s.toSecret(r, revealed, false)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) resolve(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.ResolveRequest](r, p, vault.RoleRead)
	if err != nil {
		return err
	}
	// A collection out of reach is answered as missing before its environment is looked
	// up: the vault would otherwise say whether the environment exists.
	if p.key.CollectionID != "" {
		if c, err := s.v.Store().Collection(r.Context(), p.key.SpaceID, req.Collection); err == nil {
			if err := p.reach(c.ID, "", false); err != nil {
				return hideAs(err, notFound("collection %s", req.Collection))
			}
		}
	}
	allow := func(c vault.Collection, e vault.Environment) error {
		if p.key.EnvironmentID != "" && e.ID == "" {
			return forbidden("key %s is limited to one environment: name it", p.key.Name)
		}
		return hideAs(p.reach(c.ID, e.ID, false), notFound("environment %s of %s", req.Environment, c.Slug))
	}
	vreq := vault.ResolveRequest{SpaceID: p.key.SpaceID, Collection: req.Collection, Environment: req.Environment, Names: req.Names, Allow: allow}
	if req.Scan {
		vars, scan, err := s.v.ResolveForScan(r.Context(), p.actor, vreq)
		if err != nil {
			return err
		}
		return writeResolve(w, vars, scan)
	}
	vars, err := s.v.Resolve(r.Context(), p.actor, vreq)
	if err != nil {
		return err
	}
	return writeResolve(w, vars, nil)
}
