package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/server/ui"
	"github.com/kazzle/kazzle/vault"
)

// uiRoutes mounts the admin UI under /ui/. It asks the API through uiAPI, so that what
// its pages show and change is authorized, masked and audited here, as any client's
// request is.
func (s *Server) uiRoutes() {
	s.ui = ui.New(s.v, uiAPI{s}, ui.Options{MaxBody: s.opts.MaxBody, BehindTLSProxy: s.opts.BehindTLSProxy, Logger: s.log})
	s.mux.Handle("/ui/", s.ui)
}

// uiAPI is the API as the admin UI in this process calls it.
type uiAPI struct{ s *Server }

var _ ui.API = uiAPI{}

// principal is the caller a UI request acts as: key, from the browser's address.
func (a uiAPI) principal(r *http.Request, key vault.APIKey) *principal {
	return &principal{key: key, actor: vault.Actor{KeyID: key.ID, Name: key.Name, ClientAddr: clientAddr(r), Role: key.Role}}
}

// ServeAs serves r as key's request. The key travels in the request's context, which no
// request from outside the process can carry.
func (a uiAPI) ServeAs(w http.ResponseWriter, r *http.Request, key vault.APIKey) {
	a.s.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), sessionPrincipal{}, a.principal(r, key))))
}

// SignIn authenticates token; a refusal is audited in the key's space when the key is
// known, and counted per source as every refusal without a valid key is. An operator
// key is refused with vault.ErrForbidden, in the server trail.
func (a uiAPI) SignIn(r *http.Request, token string) (vault.APIKey, error) {
	key, err := a.s.v.Authenticate(r.Context(), token)
	actor := vault.Actor{KeyID: key.ID, Name: key.Name, ClientAddr: clientAddr(r), Role: key.Role}
	if err != nil {
		a.s.recordRefusal(r, actor, key.SpaceID, "ui.signin", vault.AuditTarget{Reason: "unknown, revoked or expired key"}, true)
		return key, err
	}
	// The admin UI shows a space; an operator key has none.
	if key.Role == vault.RoleOperator {
		a.s.recordRefusal(r, actor, "", "ui.signin", vault.AuditTarget{Reason: "an operator key cannot sign in to the admin UI"}, false)
		return vault.APIKey{}, fmt.Errorf("an operator key manages spaces with kazzle spaces and cannot sign in to the admin UI: sign in with a key of the space: %w", vault.ErrForbidden)
	}
	return key, nil
}

// MayChange requires a write key that may change the secret of r's {id}, if any, and
// audits a refusal as the API does.
func (a uiAPI) MayChange(r *http.Request, key vault.APIKey) error {
	p := a.principal(r, key)
	err := p.need(vault.RoleWrite)
	if err == nil && r.PathValue("id") != "" {
		_, err = a.s.secretFor(r, p, true)
	}
	if err != nil {
		return a.s.auditRefusal(r, p, "ui "+auditRequest(r), err)
	}
	return nil
}

// Error maps err as the API's responses do.
func (uiAPI) Error(err error) *api.Error { return toAPIError(err) }
