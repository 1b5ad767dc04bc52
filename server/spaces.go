package server

import (
	"net/http"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// The operator's routes. An operator key manages spaces and reads the server trail; it
// reaches nothing inside a space, and no key of a space reaches these routes.
func (s *Server) spaceRoutes() {
	s.handleOperator("GET /v1/spaces", s.listSpaces)
	s.handleOperator("POST /v1/spaces", s.createSpace)
	s.handleOperator("DELETE /v1/spaces/{name}", s.deleteSpace)
	s.handleOperator("GET /v1/server/audit", s.serverAudit)
}

// errOperatorInSpace refuses an operator key on a route of a space.
var errOperatorInSpace = forbidden("an operator key manages spaces (kazzle spaces) and reaches nothing inside one: use a key of the space; kazzle server recover-admin --space NAME makes an admin key where the server runs")

// handleOperator routes a request that only an operator key may make. A key of a space
// is refused before the handler runs, so it learns nothing of the names in the path.
func (s *Server) handleOperator(pattern string, h handler) {
	s.serve(pattern, func(w http.ResponseWriter, r *http.Request, p *principal) error {
		if p.key.Role != vault.RoleOperator {
			return forbidden("this needs an operator key; key %s belongs to a space (kazzle server recover-admin --operator makes an operator key where the server runs)", p.key.Name)
		}
		return h(w, r, p)
	})
}

func toSpace(sp vault.Space) api.Space {
	out := api.Space{ID: sp.ID, Name: sp.Name, CreatedAt: sp.CreatedAt}
	if !sp.DeletedAt.IsZero() {
		out.DeletedAt = &sp.DeletedAt
	}
	return out
}

// listSpaces lists the live spaces, oldest first; ?deleted=true adds the deleted ones,
// whose names stay taken.
func (s *Server) listSpaces(w http.ResponseWriter, r *http.Request, p *principal) error {
	withDeleted := false
	switch r.URL.Query().Get("deleted") {
	case "", "false":
	case "true":
		withDeleted = true
	default:
		return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "deleted must be true or false"}
	}
	spaces, err := s.v.AllSpaces(r.Context())
	if err != nil {
		return err
	}
	out := api.SpaceList{Spaces: []api.Space{}}
	for _, sp := range spaces {
		if withDeleted || sp.DeletedAt.IsZero() {
			out.Spaces = append(out.Spaces, toSpace(sp))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createSpace(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req api.CreateSpaceRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	sp, token, err := s.v.CreateSpaceWithAdmin(r.Context(), p.actor, req.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.CreateSpaceResponse{Space: toSpace(sp), AdminKey: token})
}

func (s *Server) deleteSpace(w http.ResponseWriter, r *http.Request, p *principal) error {
	if _, err := s.v.DeleteSpace(r.Context(), p.actor, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serverAudit is the server trail: operator actions and refusals of requests without a
// valid key, with the filters of GET /v1/audit.
func (s *Server) serverAudit(w http.ResponseWriter, r *http.Request, p *principal) error {
	aq, err := auditQuery(r)
	if err != nil {
		return err
	}
	events, err := s.v.ServerAudit(r.Context(), aq)
	if err != nil {
		return err
	}
	return writeAudit(w, events)
}
