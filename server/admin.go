package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) toAPIKey(r *http.Request, k vault.APIKey) api.APIKey {
	out := api.APIKey{ID: k.ID, Name: k.Name, Role: string(k.Role), Prefix: k.Prefix, CreatedAt: k.CreatedAt,
		ExpiresAt: optTime(k.ExpiresAt), LastUsedAt: optTime(k.LastUsedAt), RevokedAt: optTime(k.RevokedAt)}
	if k.CollectionID != "" {
		if c, err := s.v.Store().Collection(r.Context(), k.SpaceID, k.CollectionID); err == nil {
			out.Collection = c.Slug
			if k.EnvironmentID != "" {
				if e, err := s.v.Store().Environment(r.Context(), k.SpaceID, c.ID, k.EnvironmentID); err == nil {
					out.Environment = e.Slug
				}
			}
		}
	}
	return out
}

// Keys and the audit trail are an admin's business, and only an unrestricted admin's: a
// key limited to one collection must not mint keys for the others.
func needSpaceAdmin(p *principal) error {
	if err := p.need(vault.RoleAdmin); err != nil {
		return err
	}
	if p.key.CollectionID != "" {
		return forbidden("key %s is limited to one collection; keys and the audit trail need an unrestricted admin key", p.key.Name)
	}
	return nil
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := needSpaceAdmin(p); err != nil {
		return err
	}
	keys, err := s.v.APIKeys(r.Context(), p.key.SpaceID)
	if err != nil {
		return err
	}
	out := api.APIKeyList{Keys: []api.APIKey{}}
	for _, k := range keys {
		out.Keys = append(out.Keys, s.toAPIKey(r, k))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	req, err := request[api.CreateAPIKeyRequest](r, p, vault.RoleAdmin)
	if err != nil {
		return err
	}
	if err := needSpaceAdmin(p); err != nil {
		return err
	}
	// The prefix marks keys exchanged for identity tokens, which are deleted once
	// expired and whose names the audit trail reads as a CI job's subject.
	if strings.HasPrefix(req.Name, ExchangedKeyPrefix) {
		return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid,
			Message: fmt.Sprintf("key names starting with %q are kept for keys exchanged for identity tokens; choose another name", ExchangedKeyPrefix)}
	}
	in := vault.NewAPIKey{SpaceID: p.key.SpaceID, Name: req.Name, Role: vault.Role(req.Role), Collection: req.Collection, Environment: req.Environment}
	if req.ExpiresAt != nil {
		in.ExpiresAt = *req.ExpiresAt
	}
	k, token, err := s.v.CreateAPIKey(r.Context(), p.actor, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.CreateAPIKeyResponse{APIKey: s.toAPIKey(r, k), Key: token})
}

// whoami is the calling key as GET /v1/keys lists it: any key may read its own name,
// role, limits and expiry, and no other's.
func (s *Server) whoami(w http.ResponseWriter, r *http.Request, p *principal) error {
	return writeJSON(w, http.StatusOK, s.toAPIKey(r, p.key))
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := needSpaceAdmin(p); err != nil {
		return err
	}
	if err := s.v.RevokeAPIKey(r.Context(), p.actor, p.key.SpaceID, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p *principal) error {
	if err := needSpaceAdmin(p); err != nil {
		return err
	}
	aq, err := auditQuery(r)
	if err != nil {
		return err
	}
	aq.SpaceID = p.key.SpaceID
	events, err := s.v.Audit(r.Context(), aq)
	if err != nil {
		return err
	}
	return writeAudit(w, events)
}

// auditQuery reads the filters of an audit trail request: action, actor, since, until
// (RFC 3339) and limit (1 to 10000).
func auditQuery(r *http.Request) (vault.AuditQuery, error) {
	q := r.URL.Query()
	aq := vault.AuditQuery{Action: q.Get("action"), ActorKeyID: q.Get("actor")}
	for name, dst := range map[string]*time.Time{"since": &aq.Since, "until": &aq.Until} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return aq, &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: name + " must be an RFC 3339 time, like 2026-11-23T10:00:00Z"}
			}
			*dst = t
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return aq, &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "limit must be 1 to 10000"}
		}
		aq.Limit = n
	}
	return aq, nil
}

func writeAudit(w http.ResponseWriter, events []vault.AuditEvent) error {
	out := api.AuditList{Events: []api.AuditEvent{}}
	for _, ev := range events {
		target, _ := json.Marshal(ev.Target)
		out.Events = append(out.Events, api.AuditEvent{ID: ev.ID, Time: ev.Time, ActorKeyID: ev.ActorKeyID, ActorName: ev.ActorName,
			ClientAddr: ev.ClientAddr, Action: ev.Action, Target: target, Outcome: ev.Outcome})
	}
	return writeJSON(w, http.StatusOK, out)
}
