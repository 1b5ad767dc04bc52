package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// principal is an authenticated caller.
type principal struct {
	key   vault.APIKey
	actor vault.Actor
}

// sessionPrincipal is the context key of the principal of an admin UI session, set on
// the UI's in-process API calls alone.
type sessionPrincipal struct{}

// authenticate finds the caller: the admin UI session of an in-process call, else the
// bearer API key.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	if p, ok := r.Context().Value(sessionPrincipal{}).(*principal); ok {
		return p, nil
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return nil, &api.Error{Status: http.StatusUnauthorized, Code: api.CodeUnauthenticated, Message: "no API key: send Authorization: Bearer kzl_…"}
	}
	k, err := s.v.Authenticate(r.Context(), token)
	if err != nil {
		if k.ID != "" { // revoked or expired: the refusal is audited in the key's space
			return &principal{key: k, actor: vault.Actor{KeyID: k.ID, Name: k.Name, ClientAddr: clientAddr(r), Role: k.Role}}, err
		}
		return nil, err
	}
	return &principal{key: k, actor: vault.Actor{KeyID: k.ID, Name: k.Name, ClientAddr: clientAddr(r), Role: k.Role}}, nil
}

var roleRank = map[vault.Role]int{vault.RoleRead: 1, vault.RoleWrite: 2, vault.RoleAdmin: 3}

func forbidden(format string, args ...any) error {
	return &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden, Message: fmt.Sprintf(format, args...)}
}

// need requires at least role.
func (p *principal) need(role vault.Role) error {
	if roleRank[p.key.Role] < roleRank[role] {
		return forbidden("this needs a %s key; key %s is %s", role, p.key.Name, p.key.Role)
	}
	return nil
}

// outOfReach refuses a collection, environment or secret that the key's restrictions
// keep it from: the client gets what it would get were it missing (answer, else a bare
// 404), so a limited key cannot tell what exists beyond its reach by probing names. The
// audit trail records it as a refusal, with reason.
type outOfReach struct {
	reason string
	answer error
}

func (e *outOfReach) Error() string { return e.reason }

// hideAs makes err, when it is an outOfReach, answer as missing would: the error a
// lookup of the same thing that found nothing returns.
func hideAs(err, missing error) error {
	var o *outOfReach
	if errors.As(err, &o) && o.answer == nil {
		o.answer = missing
	}
	return err
}

// notFound is the error of a lookup of what that found nothing, as the stores word it.
func notFound(format string, args ...any) error {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = secret.Excerpt(s) // as the stores repeat what a caller looked up
		}
	}
	return fmt.Errorf(format+": %w", append(args, vault.ErrNotFound)...)
}

// reach checks the key's collection and environment restrictions for a collection and
// environment (envID "" for untagged secrets or a whole collection). A key limited to
// one environment may read untagged secrets, which are part of its environment, but not
// change them, since they are part of every other environment too: that refusal is a
// 403, as the key can see them. What lies beyond the key's restrictions is an outOfReach.
func (p *principal) reach(collectionID, envID string, writing bool) error {
	k := p.key
	if k.CollectionID != "" && k.CollectionID != collectionID {
		return &outOfReach{reason: fmt.Sprintf("key %s is limited to another collection", k.Name)}
	}
	if k.EnvironmentID == "" {
		return nil
	}
	if envID == "" {
		if writing {
			return forbidden("key %s is limited to one environment; untagged secrets belong to every environment", k.Name)
		}
		return nil
	}
	if envID != k.EnvironmentID {
		return &outOfReach{reason: fmt.Sprintf("key %s is limited to another environment", k.Name)}
	}
	return nil
}
