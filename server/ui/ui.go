// Package ui is kazzle's admin web UI under /ui/: server-rendered pages, no script, every
// asset embedded. It is a client of the API in its process: each page makes the API calls
// its session's key may make, so authorization, masking and auditing are the API's own.
//
// Package server mounts it at /ui/ and implements API, the interface through which the UI
// asks the API for what it shows and changes. The arrow goes from server to ui and never
// back: no package but cmd imports server, so ui declares what it needs (API) and imports
// only vault, for its sessions, api, for the wire types and the client it calls the API
// with, and secret, for the fields of each type of secret.
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
package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// API is what the UI asks of the API server it runs in. Whatever a page shows or changes
// goes through it, so the API decides, masks and audits as it does for any client.
type API interface {
	// ServeAs serves r, a request to the API's /v1/ routes, as a request made with key:
	// it is authorized, masked and audited as that key's. r carries the address of the
	// browser's request for the audit trail, and its Host for the loopback check.
	ServeAs(w http.ResponseWriter, r *http.Request, key vault.APIKey)
	// SignIn returns the key of token, for a sign-in at r. A token that is not a valid
	// key is refused, and audited as the API audits a request without a valid key; an
	// operator key, which has no space to show, with an error wrapping vault.ErrForbidden.
	SignIn(r *http.Request, token string) (vault.APIKey, error)
	// MayChange refuses a form at r that key could not send, as the API would refuse the
	// post and with the same audit event: a read-only key, or one that may not change
	// the secret of r's {id} path value, when it has one.
	MayChange(r *http.Request, key vault.APIKey) error
	// Error is err as the API would answer it: its status and a message that names ids
	// and names, never values.
	Error(err error) *api.Error
}

// Options configure the UI.
type Options struct {
	// MaxBody caps request bodies in bytes, as the API's.
	MaxBody int64
	// BehindTLSProxy says that browsers reach the server only through a proxy that
	// terminates TLS: the session cookie is then Secure and __Host- and pages send HSTS
	// although requests arrive in plain HTTP.
	BehindTLSProxy bool
	Logger         *slog.Logger
}

// UI serves the admin pages under /ui/.
type UI struct {
	v       *vault.Vault
	api     API
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	origins *http.CrossOriginProtection
	// patterns are those of the pages, as routes registered them.
	patterns []string
}

// New returns the UI over v, asking a for what its pages show and change.
func New(v *vault.Vault, a API, o Options) *UI {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	u := &UI{v: v, api: a, opts: o, log: o.Logger, mux: http.NewServeMux(), origins: http.NewCrossOriginProtection()}
	u.routes()
	return u
}

// ServeHTTP serves a request under /ui/.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mux.ServeHTTP(w, r)
}

//go:embed *.html style.css
var uiFiles embed.FS

// CSP, the Content-Security-Policy of every page, allows nothing but this origin's
// stylesheet and forms that post to it.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

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
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(uiFiles, "layout.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(uiFiles, "page_*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(uiFiles, p)
		if err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(strings.TrimPrefix(p, "page_"), ".html")] = t
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
	// Next is where the sign-in form sends the browser after it: an entry's page.
	Next string
}

// uiSession is a signed-in request: its session id, its key and the actor it audits
// as, the API client acting as the key, and its page.
type uiSession struct {
	client *api.Client
	id     string
	key    vault.APIKey
	actor  vault.Actor
	page   uiPage
}

// route registers a page's handler and records its pattern.
func (u *UI) route(pattern string, h http.HandlerFunc) {
	u.patterns = append(u.patterns, pattern)
	u.mux.HandleFunc(pattern, h)
}

// Patterns are the patterns of the UI's routes, for tests that must walk every page.
func (u *UI) Patterns() []string { return slices.Clone(u.patterns) }

func (u *UI) routes() {
	u.route("GET /ui/{$}", u.ui(u.uiHome))
	u.route("GET /ui/signin", u.uiSignInForm)
	u.route("POST /ui/signin", u.uiSignIn)
	u.route("POST /ui/signout", u.ui(u.uiSignOut))
	u.route("GET /ui/style.css", u.uiStyle)
	u.route("GET /ui/collections/{collection}", u.ui(u.uiSecrets))
	u.route("GET /ui/collections/{collection}/new", u.ui(u.uiNewSecretForm))
	u.route("POST /ui/collections/{collection}/new", u.ui(u.uiNewSecret))
	u.route("GET /ui/secrets/{id}/edit", u.ui(u.uiEditSecretForm))
	u.route("POST /ui/secrets/{id}/edit", u.ui(u.uiEditSecret))
	u.route("GET /ui/secrets/{id}/delete", u.ui(u.uiDeleteSecretForm))
	u.route("POST /ui/secrets/{id}/delete", u.ui(u.uiDeleteSecret))
	u.route("GET /ui/secrets/{id}/versions", u.ui(u.uiVersions))
	u.route("GET /ui/audit", u.ui(u.uiAudit))
	u.route("GET /ui/enter/{id}", u.ui(u.uiEnterForm))
	u.route("POST /ui/enter/{id}", u.ui(u.uiEnter))
	u.route("GET /ui/entries", u.ui(u.uiEntries))
	u.route("POST /ui/entries/{id}/cancel", u.ui(u.uiCancelEntry))
	u.route("/ui/", func(w http.ResponseWriter, r *http.Request) {
		u.uiHeaders(w, r)
		http.NotFound(w, r)
	})
}

// uiHeaders are the security headers of every UI response.
func (u *UI) uiHeaders(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin") // no-referrer would make form posts say Origin: null
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	if u.secureContext(r) {
		h.Set("Strict-Transport-Security", "max-age=63072000")
	}
}

// secureContext says whether browsers reach this server over HTTPS: directly, or through
// a TLS-terminating proxy the operator configured.
func (u *UI) secureContext(r *http.Request) bool {
	return r.TLS != nil || u.opts.BehindTLSProxy
}

func (u *UI) render(w http.ResponseWriter, status int, name string, page uiPage) error {
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
func (u *UI) uiError(w http.ResponseWriter, r *http.Request, sess *uiSession, err error) {
	ae := u.api.Error(err)
	if ae.Status >= 500 {
		u.log.Error("ui request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	page := uiPage{Title: "Error"}
	if sess != nil {
		page = sess.page
		page.Title = "Error"
	}
	page.Error = ae.Message
	if rerr := u.render(w, ae.Status, "error", page); rerr != nil {
		http.Error(w, ae.Message, ae.Status)
	}
}

func (u *UI) uiStyle(w http.ResponseWriter, r *http.Request) {
	u.uiHeaders(w, r)
	css, err := uiFiles.ReadFile("style.css")
	if err != nil {
		http.Error(w, "no stylesheet", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Write(css)
}
