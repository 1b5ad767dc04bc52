// Package server is kazzle's HTTP API under /v1/: bearer API keys, roles with collection
// and environment restrictions, JSON errors with proper status codes, request size
// limits, Host and Origin checks, and an audit event for every refusal (those of
// requests without a valid key counted per source and minute). The vault does the work;
// this package decides who may ask for it.
package server

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/server/ui"
	"github.com/kazzle/kazzle/vault"
)

// DefaultMaxBody caps request bodies: a secret has a few fields of at most 64 KiB.
const DefaultMaxBody = 1 << 20

// Limits on a request's head, refused before any other work: an API path is an id or two
// long, and a client sends a handful of short headers.
const (
	// MaxURLBytes caps the request target (path and query) as sent; a longer one is
	// refused with 414.
	MaxURLBytes = 8 << 10
	// MaxHeaderBytes caps the request line and headers together; net/http refuses a
	// longer head with 431 before it reaches the server (it allows 4 KiB of slack).
	MaxHeaderBytes = 64 << 10
)

// Options configure a Server.
type Options struct {
	// MaxBody caps request bodies in bytes (DefaultMaxBody when 0).
	MaxBody int64
	// LoopbackOnly refuses requests whose Host is not a loopback name: a dev server on
	// 127.0.0.1 must not answer a web page that rebinds its own DNS name to loopback.
	LoopbackOnly bool
	// BehindTLSProxy says that browsers reach this server only through a proxy that
	// terminates TLS, so the admin UI's session cookie is Secure and __Host- and its
	// pages send HSTS although the request reached the server in plain HTTP. The server
	// takes the operator's word for it, never a request header's.
	BehindTLSProxy bool
	Logger         *slog.Logger
	// Now is the clock of the audit trail's minute counts, of token exchanges' limits
	// and of identity tokens' expiry (time.Now when nil).
	Now func() time.Time
	// OIDC are the issuers whose identity tokens POST /v1/auth/oidc exchanges for
	// short-lived keys. Each is discovered on first use, not here: the server starts
	// whether they answer or not.
	OIDC []OIDCProvider
	// OIDCClient makes the requests to issuers (a default client when nil): tests
	// pass one that trusts their issuer's certificate. Its timeout is capped and its
	// redirects are followed on the same host alone.
	OIDCClient *http.Client
}

// Server serves the API.
type Server struct {
	v        *vault.Vault
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	now      func() time.Time
	origins  *http.CrossOriginProtection
	refusals refusals
	waits    entryWaits
	// patterns are those of the API routes, as handle registered them: tests walk every
	// route through them, so a new route cannot go untested.
	patterns []string
	ui       *ui.UI

	oidc      map[string]*oidcProvider
	oidcOrder []*oidcProvider
	oidcLimit exchangeLimit
	oidcLive  liveKeys
	pruneMu   sync.Mutex
	prunedAt  time.Time
}

// New returns a Server over v.
func New(v *vault.Vault, o Options) *Server {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := &Server{v: v, opts: o, log: o.Logger, mux: http.NewServeMux(), now: o.Now, origins: http.NewCrossOriginProtection(),
		oidc: map[string]*oidcProvider{}}
	client := issuerClient(o.OIDCClient)
	for _, p := range o.OIDC {
		op := &oidcProvider{OIDCProvider: p, client: client, now: o.Now}
		s.oidc[p.Name] = op
		s.oidcOrder = append(s.oidcOrder, op)
	}
	s.routes()
	return s
}

// HTTPServer is an http.Server for s with the limits on a request's head, timeouts
// that keep slow clients from holding connections, and TLSConfig's versions and suites.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		TLSConfig:         TLSConfig(),
		MaxHeaderBytes:    MaxHeaderBytes,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
}

// TLSConfig is the server side of TLS: version 1.2 or later and, for 1.2, only AEAD
// suites with forward secrecy (ECDHE with AES-GCM or ChaCha20-Poly1305). CBC suites
// are refused: their MAC-then-encrypt construction has a history of padding-oracle and
// timing attacks. TLS 1.3 has only AEAD suites and keeps Go's choice of them.
func TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		},
	}
}

// ServeHTTP checks the request's size, Host and origin, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if len(r.RequestURI) > MaxURLBytes {
		writeError(w, &api.Error{Status: http.StatusRequestURITooLong, Code: api.CodeTooLarge, Message: fmt.Sprintf("the request path and query are longer than %d bytes", MaxURLBytes)})
		return
	}
	if s.opts.LoopbackOnly && !isLoopbackHost(r.Host) {
		writeError(w, &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden, Message: "this server answers only loopback host names (127.0.0.1, localhost, [::1])"})
		return
	}
	// The admin UI checks the origin of its forms itself: a link from elsewhere to one
	// of its pages is a navigation like any other.
	if !strings.HasPrefix(r.URL.Path, "/ui/") && s.crossOrigin(r) != nil {
		writeError(w, &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden, Message: "cross-origin requests are refused"})
		return
	}
	s.mux.ServeHTTP(w, r)
}

// crossOrigin refuses an API request a browser sent from another origin, whatever its
// method: the API serves scripts of no origin, not even reads. A request without
// Sec-Fetch-Site or Origin is not a browser's.
func (s *Server) crossOrigin(r *http.Request) error {
	if r.Header.Get("Sec-Fetch-Site") == "" && r.Header.Get("Origin") == "" {
		return nil
	}
	probe := *r
	probe.Method = http.MethodPost // CrossOriginProtection lets every GET through
	return s.origins.Check(&probe)
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// handler is an API handler for an authenticated caller; it returns an error to send.
type handler func(w http.ResponseWriter, r *http.Request, p *principal) error

// handle routes a request inside the caller's space. An operator key lives in no space
// and is refused here, before the handler looks at anything.
func (s *Server) handle(pattern string, h handler) {
	s.serve(pattern, func(w http.ResponseWriter, r *http.Request, p *principal) error {
		if p.key.Role == vault.RoleOperator {
			return errOperatorInSpace
		}
		return h(w, r, p)
	})
}

// serve routes a request of an authenticated caller to h, and records its pattern.
func (s *Server) serve(pattern string, h handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		p, err := s.authenticate(r)
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			s.fail(w, r, p, err)
		}
	})
}

// fail sends err as an API error and audits refusals: each one of a caller with a
// valid key, and those without one as refusals counts them.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, p *principal, err error) {
	ae := s.auditRefusal(r, p, "request "+auditRequest(r), err)
	if ae.Status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, ae)
}

// toAPIError maps vault, resolver and secret errors to statuses; their messages name ids and
// names, never values, so they can go to the client as they are.
func toAPIError(err error) *api.Error {
	var ae *api.Error
	var mbe *http.MaxBytesError
	var cycle *resolver.CycleError
	var hidden *outOfReach
	var limited *vault.LimitedKeysError
	switch {
	case errors.As(err, &hidden):
		if hidden.answer == nil {
			return &api.Error{Status: http.StatusNotFound, Code: api.CodeNotFound, Message: vault.ErrNotFound.Error()}
		}
		return toAPIError(hidden.answer)
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &limited):
		return &api.Error{Status: http.StatusConflict, Code: api.CodeConflict, Message: limited.Error() + " (kazzle keys revoke, or kazzle envs delete --revoke-keys)"}
	case errors.As(err, &mbe):
		return &api.Error{Status: http.StatusRequestEntityTooLarge, Code: api.CodeTooLarge, Message: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
	case errors.Is(err, vault.ErrUnauthenticated):
		return &api.Error{Status: http.StatusUnauthorized, Code: api.CodeUnauthenticated, Message: err.Error()}
	case errors.Is(err, vault.ErrInvalid), errors.As(err, &cycle), errors.Is(err, resolver.ErrUnknownSecret),
		errors.Is(err, resolver.ErrUnknownField), errors.Is(err, resolver.ErrTooDeep), errors.Is(err, secret.ErrSyntax):
		return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: err.Error()}
	case errors.Is(err, resolver.ErrExpansionTooLarge):
		// Past the invalid-input case: a write past the cap is bad input (400); here a
		// stored row is past it, and only this read fails.
		return &api.Error{Status: http.StatusUnprocessableEntity, Code: api.CodeExpansionTooLarge, Message: err.Error()}
	case errors.Is(err, secret.ErrReservedName):
		return &api.Error{Status: http.StatusUnprocessableEntity, Code: api.CodeReservedName, Message: err.Error()}
	case errors.Is(err, vault.ErrForbidden):
		return &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden, Message: err.Error()}
	case errors.Is(err, vault.ErrNotFound):
		return &api.Error{Status: http.StatusNotFound, Code: api.CodeNotFound, Message: err.Error()}
	case errors.Is(err, vault.ErrLimit):
		return &api.Error{Status: http.StatusTooManyRequests, Code: api.CodeTooMany, Message: err.Error()}
	case errors.Is(err, vault.ErrExists), errors.Is(err, vault.ErrConflict):
		return &api.Error{Status: http.StatusConflict, Code: api.CodeConflict, Message: err.Error()}
	}
	return &api.Error{Status: http.StatusInternalServerError, Code: api.CodeInternal, Message: "internal error; the server log has the details"}
}

func writeError(w http.ResponseWriter, ae *api.Error) {
	if ae.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="kazzle"`)
	}
	writeJSON(w, ae.Status, api.ErrorBody{Error: ae})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// request decodes the JSON body into a T and requires role: every handler that takes a
// body checks the caller's role first thing after.
func request[T any](r *http.Request, p *principal, role vault.Role) (T, error) {
	var req T
	if err := decode(r, &req); err != nil {
		return req, err
	}
	return req, p.need(role)
}

func clientAddr(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
