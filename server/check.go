package server

import (
	"net/http"

	"github.com/kazzle/kazzle/api"
)

// checkCollection reports the stored secrets of a collection that a write would refuse
// now. A key limited to one environment hears only of the secrets it may read.
func (s *Server) checkCollection(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.collection(r, p, false)
	if err != nil {
		return err
	}
	problems, err := s.v.Check(r.Context(), p.actor, p.key.SpaceID, c.ID)
	if err != nil {
		return err
	}
	slugs, err := s.envSlugs(r, p, c.ID)
	if err != nil {
		return err
	}
	out := api.CheckResponse{Problems: []api.Problem{}}
	for _, pr := range problems {
		if p.reach(c.ID, pr.Secret.EnvironmentID, false) != nil {
			continue
		}
		out.Problems = append(out.Problems, api.Problem{SecretID: pr.Secret.ID, Name: pr.Secret.Name, Collection: c.Slug,
			Environment: slugs[pr.Secret.EnvironmentID], Version: pr.Secret.Version, Rule: pr.Rule, Message: pr.Message})
	}
	return writeJSON(w, http.StatusOK, out)
}
