package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

func (s *Server) history(w http.ResponseWriter, r *http.Request, p *principal) error {
	sec, err := s.secretFor(r, p, false)
	if err != nil {
		return err
	}
	versions, err := s.v.History(r.Context(), p.key.SpaceID, sec.ID)
	if err != nil {
		return err
	}
	out := api.VersionList{Versions: []api.Version{}}
	for _, m := range versions {
		out.Versions = append(out.Versions, api.Version{Version: m.Version, Type: string(m.Type), Note: m.Note, Hosts: m.Hosts, CreatedAt: m.UpdatedAt, CreatedBy: m.UpdatedBy})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) rollback(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.RollbackRequest](r, p, vault.RoleWrite)
	if err != nil {
		return err
	}
	sec, err := s.secretFor(r, p, true)
	if err != nil {
		return err
	}
	// Restoring fields writes them again: the writer must be allowed to read every
	// secret they refer to, as for an update. (Versions below 1 the vault refuses.)
	if req.To >= 1 {
		old, err := s.v.Secret(r.Context(), p.key.SpaceID, sec.ID, req.To)
		if err != nil {
			return err
		}
		if err := s.mayReference(r, p, old.Fields); err != nil {
			return err
		}
	}
	meta, err := s.v.Rollback(r.Context(), p.actor, p.key.SpaceID, sec.ID, req.To, req.Version)
	if err != nil {
		return err
	}
	return s.writeMeta(w, r, http.StatusOK, meta)
}

func (s *Server) templates(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.TemplatesRequest](r, p, vault.RoleRead)
	if err != nil {
		return err
	}
	for _, t := range req.Templates {
		refs, err := secret.References(t)
		if err != nil {
			return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: err.Error()}
		}
		for _, ref := range refs {
			meta, err := s.v.Store().Secret(r.Context(), p.key.SpaceID, ref.ID)
			if errors.Is(err, vault.ErrNotFound) {
				return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "reference to an unknown secret: " + ref.String()}
			}
			if err != nil {
				return err
			}
			if err := p.reach(meta.CollectionID, meta.EnvironmentID, false); err != nil {
				return hideAs(err, &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "reference to an unknown secret: " + ref.String()})
			}
		}
	}
	values, used, err := s.v.ExpandTemplates(r.Context(), p.actor, p.key.SpaceID, req.Templates)
	if err != nil {
		return err
	}
	resp := api.TemplatesResponse{Values: values, Used: make([]api.UsedValue, 0, len(used))}
	for ref, v := range used {
		resp.Used = append(resp.Used, api.UsedValue{Ref: ref.String(), Value: v.Value, Hosts: bindingJSON(v.Hosts)})
	}
	slices.SortFunc(resp.Used, func(a, b api.UsedValue) int { return strings.Compare(a.Ref, b.Ref) })
	return writeJSON(w, http.StatusOK, resp)
}

func (s *Server) totp(w http.ResponseWriter, r *http.Request, p *principal) error {
	sec, err := s.secretFor(r, p, false)
	if err != nil {
		return err
	}
	code, validFor, err := s.v.TOTPCode(r.Context(), p.actor, p.key.SpaceID, sec.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.TOTPResponse{Code: code, ValidFor: validFor})
}

func (s *Server) gitCredential(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.GitCredentialRequest](r, p, vault.RoleRead)
	if err != nil {
		return err
	}
	if req.Host == "" {
		return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "host is required"}
	}
	if req.Protocol != "" && req.Protocol != "https" {
		return &api.Error{Status: http.StatusNotFound, Code: api.CodeNotFound, Message: "git secrets answer https only"}
	}
	if _, ok := secret.GitRepoPath(req.Path); !ok {
		return &api.Error{Status: http.StatusNotFound, Code: api.CodeNotFound, Message: "no credential for a repository path with an empty, \".\" or \"..\" segment, a backslash or a control character"}
	}
	sec, err := s.v.GitCredential(r.Context(), p.actor, vault.GitQuery{SpaceID: p.key.SpaceID, Host: req.Host, Path: req.Path,
		Allowed: func(m vault.SecretMeta) bool { return p.reach(m.CollectionID, m.EnvironmentID, false) == nil }})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.GitCredentialResponse{Username: sec.Fields[secret.FieldUsername], Password: sec.Fields[secret.FieldPassword], SecretID: sec.ID})
}
