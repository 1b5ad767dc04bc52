package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// The admin web UI under /ui/: server-rendered pages, no script, every asset embedded.
// It is a client of the API in this process: each page makes the API calls its
// session's key may make, so authorization, masking and auditing are the API's own.
//
// The session cookie holds a session id (HttpOnly, SameSite=Strict, Secure and __Host-
// when browsers reach the server over HTTPS, directly or through a TLS-terminating proxy
// the configuration names), never the API key: browsers send cookies to every port of a
// host, so another service on the host may see the cookie or plant one. The vault keeps
// only the id's hash with the key's id, so replicas share sessions; signing out deletes
// the session there, and every request looks the key up afresh, so revoking the key ends
// its sessions. Each sign-in makes a new id and ignores any cookie sent with it, so a
// planted id never becomes the person's session. The UI's API calls carry the session's
// key record, not the key, which the server does not have. A form's CSRF token is a hash
// of the session id, so an attacker who cannot read the cookie cannot make one.

//go:embed ui
var uiFiles embed.FS

// uiCSP allows nothing but this origin's stylesheet and forms that post to it.
const uiCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// uiTemplates are parsed once, on first use: a kazzle run never needs them.
var uiTemplates = sync.OnceValues(func() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(uiFiles, "ui/layout.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(uiFiles, "ui/page_*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(uiFiles, p)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(strings.TrimPrefix(p, "ui/page_"), ".html")] = t
	}
	return out, nil
})

// uiPage is what every page's template gets.
type uiPage struct {
	Title    string
	Key      *api.APIKey // who is signed in; nil on the sign-in page
	CanWrite bool
	IsAdmin  bool
	CSRF     string
	Error    string
	Data     any
}

// uiSession is a signed-in request: its session id, the principal of its key, the API
// client acting as it, and its page.
type uiSession struct {
	client *api.Client
	id     string
	p      *principal
	page   uiPage
}

func (s *Server) uiRoutes() {
	s.mux.HandleFunc("GET /ui/{$}", s.ui(s.uiHome))
	s.mux.HandleFunc("GET /ui/signin", s.uiSignInForm)
	s.mux.HandleFunc("POST /ui/signin", s.uiSignIn)
	s.mux.HandleFunc("POST /ui/signout", s.ui(s.uiSignOut))
	s.mux.HandleFunc("GET /ui/style.css", s.uiStyle)
	s.mux.HandleFunc("GET /ui/collections/{collection}", s.ui(s.uiSecrets))
	s.mux.HandleFunc("GET /ui/collections/{collection}/new", s.ui(s.uiNewSecretForm))
	s.mux.HandleFunc("POST /ui/collections/{collection}/new", s.ui(s.uiNewSecret))
	s.mux.HandleFunc("GET /ui/secrets/{id}/edit", s.ui(s.uiEditSecretForm))
	s.mux.HandleFunc("POST /ui/secrets/{id}/edit", s.ui(s.uiEditSecret))
	s.mux.HandleFunc("GET /ui/secrets/{id}/delete", s.ui(s.uiDeleteSecretForm))
	s.mux.HandleFunc("POST /ui/secrets/{id}/delete", s.ui(s.uiDeleteSecret))
	s.mux.HandleFunc("GET /ui/secrets/{id}/versions", s.ui(s.uiVersions))
	s.mux.HandleFunc("GET /ui/audit", s.ui(s.uiAudit))
	s.mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		s.uiHeaders(w, r)
		http.NotFound(w, r)
	})
}

// uiHeaders are the security headers of every UI response.
func (s *Server) uiHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", uiCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // no-referrer would make form posts say Origin: null
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if s.secureContext(r) {
		h.Set("Strict-Transport-Security", "max-age=63072000")
	}
}

func (s *Server) sessionCookieName(r *http.Request) string {
	if s.secureContext(r) {
		return "__Host-kazzle_session"
	}
	return "kazzle_session"
}

// csrfToken is the form token of a session: only who holds the session id can compute
// it, and it is worth nothing with another session.
func csrfToken(sessionID string) string {
	sum := sha256.Sum256([]byte("kazzle ui csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// uiHandler is a page of a signed-in person.
type uiHandler func(w http.ResponseWriter, r *http.Request, sess *uiSession) error

// ui wraps a page: it requires a session (else it sends the browser to sign in), checks
// the CSRF token and Origin of every POST, and renders errors as pages.
func (s *Server) ui(h uiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.uiHeaders(w, r)
		r.Body = http.MaxBytesReader(w, r.Body, s.opts.MaxBody)
		c, err := r.Cookie(s.sessionCookieName(r))
		if err != nil || c.Value == "" {
			http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
			return
		}
		key, err := s.v.SessionKey(r.Context(), c.Value)
		if err != nil {
			if !errors.Is(err, vault.ErrUnauthenticated) {
				s.uiError(w, r, nil, err)
				return
			}
			s.clearSession(w, r)
			http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
			return
		}
		p := &principal{key: key, actor: vault.Actor{KeyID: key.ID, Name: key.Name, ClientAddr: clientAddr(r)}}
		// The client's bearer token is a stand-in: inProcess replaces it with p.
		client, err := api.NewClient("http://127.0.0.1", "ui-session", &http.Client{Transport: inProcess{s: s, from: r, p: p}})
		if err != nil {
			s.uiError(w, r, nil, err)
			return
		}
		k := api.APIKey{ID: key.ID, Name: key.Name, Role: string(key.Role)}
		sess := &uiSession{client: client, id: c.Value, p: p, page: uiPage{Key: &k, CSRF: csrfToken(c.Value),
			CanWrite: key.Role == vault.RoleWrite || key.Role == vault.RoleAdmin,
			IsAdmin:  key.Role == vault.RoleAdmin && key.CollectionID == ""}}
		if r.Method == http.MethodPost {
			if err := s.checkForm(r, sess); err != nil {
				s.uiError(w, r, sess, err)
				return
			}
		}
		if err := h(w, r, sess); err != nil {
			s.uiError(w, r, sess, err)
		}
	}
}

var errForgedForm = &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden, Message: "this form did not come from this page (bad or missing CSRF token, or another origin): reload the page and try again"}

// checkForm refuses a POST that did not come from one of this origin's pages: the
// browser must not say it came from elsewhere (Sec-Fetch-Site, else Origin against
// Host, which hold behind a TLS-terminating proxy too), and it must carry the session's
// CSRF token.
func (s *Server) checkForm(r *http.Request, sess *uiSession) error {
	if s.origins.Check(r) != nil {
		return errForgedForm
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.page.CSRF)) != 1 {
		s.v.Record(r.Context(), vault.Actor{KeyID: sess.page.Key.ID, Name: sess.page.Key.Name, ClientAddr: clientAddr(r)}, "",
			"ui "+auditRequest(r), vault.OutcomeDenied, vault.AuditTarget{Reason: "bad CSRF token"})
		return errForgedForm
	}
	// The API client would turn invalid UTF-8 into U+FFFD, storing what was not sent.
	for name, values := range r.PostForm {
		for _, v := range values {
			if !utf8.ValidString(v) {
				return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: fmt.Sprintf("the form field %s is not valid UTF-8 text; a binary value belongs base64-encoded", strconv.Quote(truncateUTF8(name, maxQuotedKey)))}
			}
		}
	}
	return nil
}

func (s *Server) render(w http.ResponseWriter, status int, name string, page uiPage) error {
	ts, err := uiTemplates()
	if err != nil {
		return err
	}
	t, ok := ts[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", page); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, err = w.Write(buf.Bytes())
	return err
}

// uiError shows an error page; API errors carry their status and message, which name
// ids and names, never values.
func (s *Server) uiError(w http.ResponseWriter, r *http.Request, sess *uiSession, err error) {
	ae := toAPIError(err)
	if ae.Status >= 500 {
		s.log.Error("ui request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	page := uiPage{Title: "Error"}
	if sess != nil {
		page = sess.page
		page.Title = "Error"
	}
	page.Error = ae.Message
	if rerr := s.render(w, ae.Status, "error", page); rerr != nil {
		http.Error(w, ae.Message, ae.Status)
	}
}

func (s *Server) uiStyle(w http.ResponseWriter, r *http.Request) {
	s.uiHeaders(w, r)
	css, err := uiFiles.ReadFile("ui/style.css")
	if err != nil {
		http.Error(w, "no stylesheet", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(css)
}

func (s *Server) uiSignInForm(w http.ResponseWriter, r *http.Request) {
	s.uiHeaders(w, r)
	if err := s.render(w, http.StatusOK, "signin", uiPage{Title: "Sign in"}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// uiSignIn checks the key and starts a new session: the cookie gets a new session id,
// whatever cookie the browser sent, so an id planted by another service on the host is
// never bound to the person's key.
func (s *Server) uiSignIn(w http.ResponseWriter, r *http.Request) {
	s.uiHeaders(w, r)
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if s.origins.Check(r) != nil {
		s.render(w, http.StatusForbidden, "signin", uiPage{Title: "Sign in", Error: errForgedForm.Message})
		return
	}
	token := strings.TrimSpace(r.PostFormValue("key"))
	key, err := s.v.Authenticate(r.Context(), token)
	actor := vault.Actor{KeyID: key.ID, Name: key.Name, ClientAddr: clientAddr(r)}
	if err != nil {
		s.recordRefusal(r, actor, key.SpaceID, "ui.signin", vault.AuditTarget{Reason: "unknown, revoked or expired key"}, true)
		s.render(w, http.StatusUnauthorized, "signin", uiPage{Title: "Sign in", Error: "that key is not valid (unknown, revoked or expired): kazzle keys create makes one"})
		return
	}
	id, _, err := s.v.StartSession(r.Context(), actor, key, "ui.signin")
	if err != nil {
		s.uiError(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookieName(r), Value: id, Path: "/", MaxAge: int(vault.SessionLifetime.Seconds()),
		HttpOnly: true, Secure: s.secureContext(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: s.sessionCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.secureContext(r), SameSite: http.SameSiteStrictMode})
}

// uiSignOut deletes the session in the vault, so a copy of the cookie stops working
// too, and forgets the cookie in the browser.
func (s *Server) uiSignOut(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	if err := s.v.EndSession(r.Context(), sess.p.actor, sess.p.key.SpaceID, sess.id, "ui.signout"); err != nil {
		return err
	}
	s.clearSession(w, r)
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
	return nil
}

// inProcess carries the UI's API calls to this server without a network hop, as if
// they came from the browser's own request: its address for the audit trail, its Host
// for the loopback check. They are made as the session's principal p, which travels in
// the request's context: no request from outside the process can carry one.
type inProcess struct {
	s    *Server
	from *http.Request
	p    *principal
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(context.WithValue(t.from.Context(), sessionPrincipal{}, t.p))
	req.Header.Del("Authorization")
	req.RemoteAddr, req.Host, req.TLS = t.from.RemoteAddr, t.from.Host, t.from.TLS
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	t.s.ServeHTTP(rec, req)
	return &http.Response{StatusCode: rec.status, Header: rec.header, Body: io.NopCloser(&rec.body), Request: req,
		ContentLength: int64(rec.body.Len()), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// recorder is the ResponseWriter of an in-process API call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}
