package server

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/vault"
)

// signIn signs in through the sign-in form, sending cookie (a session id) when it is not
// empty, and returns the new session cookie's value.
func signIn(t *testing.T, srv *httptest.Server, key, cookie string) string {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+"/ui/signin", strings.NewReader(url.Values{"key": {key}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: cookie})
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "kazzle_session" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("sign-in answered %d without a session cookie", resp.StatusCode)
	return ""
}

// uiGet fetches a UI page with a session cookie, following no redirect.
func uiGet(t *testing.T, srv *httptest.Server, path, session string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: session})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(body)
}

// uiPost posts a form with a session cookie and the Origin of the server.
func uiPost(t *testing.T, srv *httptest.Server, path, session string, form url.Values) int {
	t.Helper()
	req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: session})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestUISessionCookieIsNotTheAPIKey: the cookie, which browsers also send to every other
// port of the host, holds a random session id of 256 bits, and no response carries the
// API key.
func TestUISessionCookieIsNotTheAPIKey(t *testing.T) {
	_, admin, _, srv, log := uiWorld(t)
	id := signIn(t, srv, admin, "")
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != 32 || strings.Contains(id, admin) || strings.Contains(admin, id) {
		t.Fatalf("the session cookie (%d characters) is not a 256-bit base64url id apart from the key", len(id))
	}
	if status, page := uiGet(t, srv, "/ui/", id); status != 200 || !strings.Contains(page, "alice (admin)") {
		t.Fatalf("the session does not sign alice in: %d", status)
	}
	log.check(t, admin)
}

// TestSignOutEndsTheSessionServerSide: after signing out, a copy of the cookie (the one
// another service on the host saw) no longer signs anyone in.
func TestSignOutEndsTheSessionServerSide(t *testing.T) {
	f, admin, _, srv, _ := uiWorld(t)
	id := signIn(t, srv, admin, "")
	if status, _ := uiGet(t, srv, "/ui/", id); status != 200 {
		t.Fatalf("signed in: status %d", status)
	}
	if status := uiPost(t, srv, "/ui/signout", id, url.Values{"csrf": {csrfToken(id)}}); status != http.StatusSeeOther {
		t.Fatalf("sign-out: status %d", status)
	}
	if status, where := uiGet(t, srv, "/ui/", id); status != http.StatusSeeOther || where != "/ui/signin" {
		t.Fatalf("the cookie replayed after sign-out: %d %s, want a redirect to sign in", status, where)
	}
	evs, err := f.Vault.Audit(context.Background(), vault.AuditQuery{SpaceID: f.Space.ID, Action: "ui.signout"})
	if err != nil || len(evs) != 1 || evs[0].ActorName != "alice" {
		t.Fatalf("the sign-out is not in the audit trail: %+v %v", evs, err)
	}
}

// TestRevokingAKeyEndsItsSessions: a session is as good as its key, on every replica,
// looked up on every request.
func TestRevokingAKeyEndsItsSessions(t *testing.T) {
	f, admin, reader, srv, _ := uiWorld(t)
	replica := httptest.NewServer(New(vault.New(f.Store, nil, vault.Options{Now: f.Clock.Now}), Options{LoopbackOnly: true}))
	t.Cleanup(replica.Close)
	id := signIn(t, srv, reader, "")
	if status, page := uiGet(t, replica, "/ui/", id); status != 200 || !strings.Contains(page, "auditor (read)") {
		t.Fatalf("a session started on one replica, on another: %d", status)
	}
	key, err := f.Vault.Authenticate(context.Background(), reader)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("DELETE", replica.URL+"/v1/keys/"+key.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	for name, s := range map[string]*httptest.Server{"the replica that revoked": replica, "the other replica": srv} {
		if status, where := uiGet(t, s, "/ui/", id); status != http.StatusSeeOther || where != "/ui/signin" {
			t.Fatalf("%s: the revoked key's session answers %d %s", name, status, where)
		}
	}
}

// TestSignInNeverAdoptsAPlantedSession: a sign-in makes a new session whatever cookie
// came with it, so a session id planted by another service on the host never becomes
// the person's; the planted one keeps its own key, and its CSRF token does not fit.
func TestSignInNeverAdoptsAPlantedSession(t *testing.T) {
	_, admin, reader, srv, _ := uiWorld(t)
	planted := signIn(t, srv, reader, "") // the planter's own session
	random := base64.RawURLEncoding.EncodeToString(make([]byte, 32))
	for name, cookie := range map[string]string{"the planter's session": planted, "an id of the planter's choosing": random} {
		t.Run(name, func(t *testing.T) {
			mine := signIn(t, srv, admin, cookie)
			if mine == cookie || mine == admin {
				t.Fatal("the sign-in kept the planted cookie, or put the key in it")
			}
			if _, page := uiGet(t, srv, "/ui/", mine); !strings.Contains(page, "alice (admin)") {
				t.Fatal("the new session is not alice's")
			}
			if status, page := uiGet(t, srv, "/ui/", cookie); status == 200 && strings.Contains(page, "alice") {
				t.Fatal("the planted id signs in as alice")
			}
			form := url.Values{"csrf": {csrfToken(cookie)}, "type": {"string"}, "name": {"PLANTED"}, "field_value": {firstValue}}
			if status := uiPost(t, srv, "/ui/collections/my-saas/new", mine, form); status != http.StatusForbidden {
				t.Fatalf("a form with the planted session's CSRF token: %d, want 403", status)
			}
		})
	}
}

// TestReadOnlyKeysCannotOpenChangeForms: the add, edit and delete forms answer 403 to a
// key whose posts they would be refused, and the refusals are audited; a key that may
// write gets them.
func TestReadOnlyKeysCannotOpenChangeForms(t *testing.T) {
	f, admin, reader, srv, _ := uiWorld(t)
	ctx := context.Background()
	id := f.Put(t, "", "SHARED", "shared-value-1234567").ID
	_, devWriter, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "dev-writer", Role: vault.RoleWrite, Collection: "my-saas", Environment: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	forms := []string{"/ui/collections/my-saas/new", "/ui/secrets/" + id + "/edit", "/ui/secrets/" + id + "/delete"}
	readerSess, devSess, adminSess := signIn(t, srv, reader, ""), signIn(t, srv, devWriter, ""), signIn(t, srv, admin, "")
	for _, path := range forms {
		if status, _ := uiGet(t, srv, path, readerSess); status != http.StatusForbidden {
			t.Errorf("a read-only key opening %s: %d, want 403", path, status)
		}
		if status, _ := uiGet(t, srv, path, adminSess); status != http.StatusOK {
			t.Errorf("an admin key opening %s: %d, want 200", path, status)
		}
	}
	// A key limited to dev may read the untagged secret but not change it.
	for _, path := range forms[1:] {
		if status, _ := uiGet(t, srv, path, devSess); status != http.StatusForbidden {
			t.Errorf("an environment-limited key opening %s of an untagged secret: %d, want 403", path, status)
		}
	}
	evs, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	denied := 0
	for _, ev := range evs {
		if ev.Outcome == vault.OutcomeDenied && strings.HasPrefix(ev.Action, "ui GET /ui/") {
			denied++
		}
	}
	if denied != len(forms)+len(forms)-1 {
		t.Fatalf("%d refusals of forms audited, want %d", denied, 2*len(forms)-1)
	}
}

// TestUIOutOfReachLooksLikeMissing: in the UI too, a collection-limited key gets the same
// page for another collection, or a secret of it, as for one that does not exist.
func TestUIOutOfReachLooksLikeMissing(t *testing.T) {
	f, _, _, srv, _ := uiWorld(t)
	ctx := context.Background()
	if _, err := f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "other", ""); err != nil {
		t.Fatal(err)
	}
	sec, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "other", Name: "OTHER", Fields: map[string]string{"value": "other-value-123456"}})
	if err != nil {
		t.Fatal(err)
	}
	_, limited, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "app", Role: vault.RoleWrite, Collection: "my-saas"})
	if err != nil {
		t.Fatal(err)
	}
	sess := signIn(t, srv, limited, "")
	const missingID = "00000000-0000-4000-8000-000000000000"
	for _, tc := range []struct{ hidden, missing, name, absent string }{
		{"/ui/collections/other", "/ui/collections/nope0", "other", "nope0"},
		{"/ui/collections/other/new", "/ui/collections/nope0/new", "other", "nope0"},
		{"/ui/secrets/" + sec.ID + "/versions", "/ui/secrets/" + missingID + "/versions", sec.ID, missingID},
		{"/ui/secrets/" + sec.ID + "/edit", "/ui/secrets/" + missingID + "/edit", sec.ID, missingID},
	} {
		hs, hp := uiGet(t, srv, tc.hidden, sess)
		ms, mp := uiGet(t, srv, tc.missing, sess)
		if hs != http.StatusNotFound || ms != hs || strings.ReplaceAll(hp, tc.name, tc.absent) != mp {
			t.Errorf("%s answers %d, %s answers %d, or their pages differ:\n%s\n%s", tc.hidden, hs, tc.missing, ms, hp, mp)
		}
	}
}
