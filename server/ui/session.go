package ui

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

func (u *UI) sessionCookieName(r *http.Request) string {
	if u.secureContext(r) {
		return "__Host-kazzle_session"
	}
	return "kazzle_session"
}

// CSRFToken is the form token of a session, which every form posted in it carries as
// csrf: only who holds the session id can compute it, and it is worth nothing with
// another session.
func CSRFToken(sessionID string) string {
	sum := sha256.Sum256([]byte("kazzle ui csrf\x00" + sessionID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// uiHandler is a page of a signed-in person.
type uiHandler func(w http.ResponseWriter, r *http.Request, sess *uiSession) error

// ui wraps a page: it requires a session (else it sends the browser to sign in), checks
// the CSRF token and Origin of every POST, and renders errors as pages.
func (u *UI) ui(h uiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u.uiHeaders(w, r)
		r.Body = http.MaxBytesReader(w, r.Body, u.opts.MaxBody)
		signin := "/ui/signin"
		if r.Method == http.MethodGet && entryPath.MatchString(r.URL.Path) {
			entryHeaders(w)
			signin += "?next=" + url.QueryEscape(r.URL.Path)
		}
		c, err := r.Cookie(u.sessionCookieName(r))
		if err != nil || c.Value == "" {
			http.Redirect(w, r, signin, http.StatusSeeOther)
			return
		}
		key, err := u.v.SessionKey(r.Context(), c.Value)
		if err != nil {
			if !errors.Is(err, vault.ErrUnauthenticated) {
				u.uiError(w, r, nil, err)
				return
			}
			u.clearSession(w, r)
			http.Redirect(w, r, signin, http.StatusSeeOther)
			return
		}
		// The client's bearer token is a stand-in: inProcess makes the calls as key.
		client, err := api.NewClient("http://127.0.0.1", "ui-session", &http.Client{Transport: inProcess{api: u.api, from: r, key: key}})
		if err != nil {
			u.uiError(w, r, nil, err)
			return
		}
		k := api.APIKey{ID: key.ID, Name: key.Name, Role: string(key.Role)}
		sess := &uiSession{client: client, id: c.Value, key: key, actor: vault.Actor{KeyID: key.ID, Name: key.Name, ClientAddr: clientAddr(r), Role: key.Role},
			page: uiPage{Key: &k, CSRF: CSRFToken(c.Value),
				CanWrite: key.Role == vault.RoleWrite || key.Role == vault.RoleAdmin,
				IsAdmin:  key.Role == vault.RoleAdmin && key.CollectionID == ""}}
		if r.Method == http.MethodPost {
			if err := u.checkForm(r, sess); err != nil {
				u.uiError(w, r, sess, err)
				return
			}
		}
		if err := h(w, r, sess); err != nil {
			u.uiError(w, r, sess, err)
		}
	}
}

var errForgedForm = &api.Error{Status: http.StatusForbidden, Code: api.CodeForbidden, Message: "this form did not come from this page (bad or missing CSRF token, or another origin): reload the page and try again"}

// checkForm refuses a POST that did not come from one of this origin's pages: the
// browser must not say it came from elsewhere (Sec-Fetch-Site, else Origin against
// Host, which hold behind a TLS-terminating proxy too), and it must carry the session's
// CSRF token.
func (u *UI) checkForm(r *http.Request, sess *uiSession) error {
	if u.origins.Check(r) != nil {
		return errForgedForm
	}
	if subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(sess.page.CSRF)) != 1 {
		u.v.Record(r.Context(), vault.Actor{KeyID: sess.page.Key.ID, Name: sess.page.Key.Name, ClientAddr: clientAddr(r)}, "",
			"ui "+r.Pattern, vault.OutcomeDenied, vault.AuditTarget{Reason: "bad CSRF token"})
		return errForgedForm
	}
	// The API client would turn invalid UTF-8 into U+FFFD, storing what was not sent.
	for name, values := range r.PostForm {
		for _, v := range values {
			if !utf8.ValidString(v) {
				return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: fmt.Sprintf("the form field %s is not valid UTF-8 text; a binary value belongs base64-encoded", strconv.Quote(secret.Excerpt(name)))}
			}
		}
	}
	return nil
}

func (u *UI) uiSignInForm(w http.ResponseWriter, r *http.Request) {
	u.uiHeaders(w, r)
	next := signInNext(r.URL.Query().Get("next"))
	if next != "/ui/" {
		entryHeaders(w)
	}
	if err := u.render(w, http.StatusOK, "signin", uiPage{Title: "Sign in", Next: next}); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// uiSignIn checks the key and starts a new session: the cookie gets a new session id,
// whatever cookie the browser sent, so an id planted by another service on the host is
// never bound to the person's key.
func (u *UI) uiSignIn(w http.ResponseWriter, r *http.Request) {
	u.uiHeaders(w, r)
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	next := signInNext(r.PostFormValue("next"))
	if u.origins.Check(r) != nil {
		u.render(w, http.StatusForbidden, "signin", uiPage{Title: "Sign in", Error: errForgedForm.Message, Next: next})
		return
	}
	token := strings.TrimSpace(r.PostFormValue("key"))
	key, err := u.api.SignIn(r, token)
	if errors.Is(err, vault.ErrForbidden) {
		u.render(w, http.StatusForbidden, "signin", uiPage{Title: "Sign in", Error: "an operator key manages spaces (kazzle spaces) and cannot sign in here: sign in with a key of the space", Next: next})
		return
	}
	if err != nil {
		u.render(w, http.StatusUnauthorized, "signin", uiPage{Title: "Sign in", Error: "that key is not valid (unknown, revoked or expired): kazzle keys create makes one", Next: next})
		return
	}
	actor := vault.Actor{KeyID: key.ID, Name: key.Name, ClientAddr: clientAddr(r), Role: key.Role}
	id, _, err := u.v.StartSession(r.Context(), actor, key, "ui.signin")
	if err != nil {
		u.uiError(w, r, nil, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: u.sessionCookieName(r), Value: id, Path: "/", MaxAge: int(vault.SessionLifetime.Seconds()),
		HttpOnly: true, Secure: u.secureContext(r), SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: u.sessionCookieName(r), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: u.secureContext(r), SameSite: http.SameSiteStrictMode})
}

// uiSignOut deletes the session in the vault, so a copy of the cookie stops working
// too, and forgets the cookie in the browser.
func (u *UI) uiSignOut(w http.ResponseWriter, r *http.Request, sess *uiSession) error {
	if err := u.v.EndSession(r.Context(), sess.actor, sess.key.SpaceID, sess.id, "ui.signout"); err != nil {
		return err
	}
	u.clearSession(w, r)
	http.Redirect(w, r, "/ui/signin", http.StatusSeeOther)
	return nil
}

func clientAddr(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}
