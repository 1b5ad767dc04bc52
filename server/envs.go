package server

import (
	"net/http"
	"strconv"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// deleteEnvironment deletes an environment of the URL's collection; ?revoke_keys=true
// revokes the active keys limited to it in the same transaction, without which they
// make it refuse. Like creating one, it is the collection's business: a key limited to
// one environment may not.
func (s *Server) deleteEnvironment(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := p.need(vault.RoleAdmin); err != nil {
		return err
	}
	revoke := false
	if q := r.URL.Query().Get("revoke_keys"); q != "" {
		var err error
		if revoke, err = strconv.ParseBool(q); err != nil {
			return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "revoke_keys is true or false"}
		}
	}
	c, err := s.collection(r, p, true)
	if err != nil {
		return err
	}
	if p.key.EnvironmentID != "" {
		return forbidden("key %s is limited to one environment", p.key.Name)
	}
	if err := s.v.DeleteEnvironment(r.Context(), p.actor, p.key.SpaceID, c.ID, r.PathValue("environment"), revoke); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// renameEnvironment gives an environment of the URL's collection a new slug.
func (s *Server) renameEnvironment(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.RenameEnvironmentRequest](r, p, vault.RoleAdmin)
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
	e, err := s.v.RenameEnvironment(r.Context(), p.actor, p.key.SpaceID, c.ID, r.PathValue("environment"), req.Slug)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Environment{ID: e.ID, Slug: e.Slug, CreatedAt: e.CreatedAt})
}

// diff compares two environments of the URL's collection in the vault. It needs read on
// both; one the key may not read is answered as missing.
func (s *Server) diff(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.DiffRequest](r, p, vault.RoleRead)
	if err != nil {
		return err
	}
	if len(req.Environments) != 2 {
		return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: `name two environments: {"environments":["dev","prod"]}`}
	}
	c, err := s.collection(r, p, false)
	if err != nil {
		return err
	}
	asked := func(e vault.Environment) string {
		for _, a := range req.Environments {
			if a == e.ID || a == e.Slug {
				return a
			}
		}
		return e.Slug
	}
	allow := func(c vault.Collection, e vault.Environment) error {
		return hideAs(p.reach(c.ID, e.ID, false), notFound("environment %s of %s", asked(e), c.Slug))
	}
	d, err := s.v.Diff(r.Context(), p.actor, vault.DiffRequest{SpaceID: p.key.SpaceID, Collection: c.ID,
		Environments: [2]string{req.Environments[0], req.Environments[1]}, Allow: allow})
	if err != nil {
		return err
	}
	out := api.DiffResponse{Collection: d.Collection, Environments: d.Environments[:], Names: make([]api.DiffName, 0, len(d.Names))}
	for _, n := range d.Names {
		dn := api.DiffName{Name: n.Name, In: []string{}, Shared: n.Shared}
		for i, in := range n.In {
			if in {
				dn.In = append(dn.In, d.Environments[i])
			}
		}
		if n.In[0] && n.In[1] {
			equal := n.Equal
			dn.Equal = &equal
		}
		out.Names = append(out.Names, dn)
	}
	return writeJSON(w, http.StatusOK, out)
}
