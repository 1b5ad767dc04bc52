package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

func operatorKey(t *testing.T, w *world) string {
	t.Helper()
	_, token, err := w.Vault.CreateOperatorKey(context.Background(), vault.Actor{Name: "recover-admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func decodeAs[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// TestAnOperatorKeyReachesNothingOfASpace: every kind of route of a space refuses an
// operator key with 403, saying why, and the refusal is in the server trail.
func TestAnOperatorKeyReachesNothingOfASpace(t *testing.T) {
	w := newWorld(t)
	op := operatorKey(t, w)
	secret := "/v1/secrets/" + w.ids["DEV_TOKEN"]
	for _, rq := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/collections", nil},
		{"POST", "/v1/collections", api.CreateCollectionRequest{Slug: "mine"}},
		{"GET", "/v1/collections/my-saas/secrets", nil},
		{"GET", "/v1/collections/my-saas/environments", nil},
		{"DELETE", "/v1/collections/my-saas", nil},
		{"POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev"}},
		{"GET", secret, nil},
		{"POST", secret + "/reveal", nil},
		{"DELETE", secret + "?version=1", nil},
		{"POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "X", Fields: map[string]string{"value": "v"}}},
		{"GET", "/v1/keys", nil},
		{"POST", "/v1/keys", api.CreateAPIKeyRequest{Name: "mine", Role: "admin"}},
		{"GET", "/v1/audit", nil},
		{"GET", "/v1/entries", nil},
		{"GET", "/v1/whoami", nil},
	} {
		status, body := w.do(t, op, rq.method, rq.path, rq.body)
		if status != http.StatusForbidden || !strings.Contains(string(body), "an operator key manages spaces") {
			t.Errorf("%s %s with an operator key: %d %s, want 403 saying an operator key manages spaces", rq.method, rq.path, status, body)
		}
	}
	if s, err := w.Store.Secret(context.Background(), w.Space.ID, w.ids["DEV_TOKEN"]); err != nil || s.Version != 1 {
		t.Fatalf("the secret after the operator's requests: %v", err)
	}
	if keys, _ := w.Store.APIKeys(context.Background(), w.Space.ID); len(keys) != len(w.tokens)-1 { // other-space-admin is globex's
		t.Fatalf("the space has %d keys after the operator's requests, want %d", len(keys), len(w.tokens)-1)
	}
	events, err := w.Vault.ServerAudit(context.Background(), vault.AuditQuery{Action: "request POST /v1/keys"})
	if err != nil || len(events) != 1 || events[0].Outcome != vault.OutcomeDenied {
		t.Fatalf("the refusal in the server trail: %+v, %v", events, err)
	}
}

// TestAKeyOfASpaceIsRefusedTheOperatorRoutes: before a name in the path is looked up,
// so an existing and an unknown space's name get the same answer.
func TestAKeyOfASpaceIsRefusedTheOperatorRoutes(t *testing.T) {
	w := newWorld(t)
	var bodies []string
	for _, rq := range []struct{ method, path string }{
		{"GET", "/v1/spaces"},
		{"POST", "/v1/spaces"},
		{"DELETE", "/v1/spaces/globex"},
		{"DELETE", "/v1/spaces/no-such-space"},
		{"GET", "/v1/server/audit"},
	} {
		var body any
		if rq.method == "POST" {
			body = api.CreateSpaceRequest{Name: "initech"}
		}
		status, data := w.do(t, w.tokens["admin"], rq.method, rq.path, body)
		if status != http.StatusForbidden || !strings.Contains(string(data), "this needs an operator key") {
			t.Errorf("%s %s with a space's admin key: %d %s, want 403", rq.method, rq.path, status, data)
		}
		if strings.HasPrefix(rq.path, "/v1/spaces/") {
			bodies = append(bodies, string(data))
		}
	}
	if bodies[0] != bodies[1] {
		t.Errorf("deleting an existing and an unknown space answer differently:\n%s\n%s", bodies[0], bodies[1])
	}
	spaces, err := w.Store.Spaces(context.Background())
	if err != nil || len(spaces) != 2 {
		t.Fatalf("spaces after the refusals: %d, %v; want acme and globex", len(spaces), err)
	}
	if _, err := w.Store.SpaceByName(context.Background(), "initech"); err == nil {
		t.Fatal("a space key created a space")
	}
}

// TestTheOperatorCreatesListsAndDeletesSpaces: a new space comes with a first admin key
// that works in it alone; a deleted space's keys stop at once and its name stays taken;
// each action is in the server trail and in no space's.
func TestTheOperatorCreatesListsAndDeletesSpaces(t *testing.T) {
	w := newWorld(t)
	op := operatorKey(t, w)

	status, body := w.do(t, op, "POST", "/v1/spaces", api.CreateSpaceRequest{Name: "initech"})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	created := decodeAs[api.CreateSpaceResponse](t, body)
	if created.Name != "initech" || created.ID == "" || !strings.HasPrefix(created.AdminKey, vault.APIKeyPrefix) {
		t.Fatalf("create answered %+v", created.Space)
	}
	admin := created.AdminKey
	if status, body := w.do(t, admin, "POST", "/v1/collections", api.CreateCollectionRequest{Slug: "app"}); status != http.StatusCreated {
		t.Fatalf("the new space's admin key creates a collection: %d %s", status, body)
	}
	status, body = w.do(t, admin, "GET", "/v1/collections", nil)
	if colls := decodeAs[api.CollectionList](t, body); status != http.StatusOK || len(colls.Collections) != 1 || colls.Collections[0].Slug != "app" {
		t.Fatalf("the new space's collections: %d %s, want app alone", status, body)
	}
	if status, _ := w.do(t, admin, "GET", "/v1/secrets/"+w.ids["DEV_TOKEN"], nil); status != http.StatusNotFound {
		t.Fatalf("the new space's key reads acme's secret: %d", status)
	}

	for _, bad := range []string{`{"name":"Init Tech"}`, `{"name":""}`, `{"name":"` + strings.Repeat("a", 64) + `"}`, `{"name":"x","extra":1}`, `{`} {
		if status, body := w.do(t, op, "POST", "/v1/spaces", bad); status != http.StatusBadRequest {
			t.Errorf("create %s: %d %s, want 400", bad, status, body)
		}
	}
	if status, body := w.do(t, op, "POST", "/v1/spaces", api.CreateSpaceRequest{Name: "globex"}); status != http.StatusConflict {
		t.Fatalf("create a taken name: %d %s, want 409", status, body)
	}

	if status, body := w.do(t, op, "DELETE", "/v1/spaces/initech", nil); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", status, body)
	}
	if status, _ := w.do(t, admin, "GET", "/v1/collections", nil); status != http.StatusUnauthorized {
		t.Fatalf("the deleted space's admin key: %d, want 401", status)
	}
	status, body = w.do(t, op, "POST", "/v1/spaces", api.CreateSpaceRequest{Name: "initech"})
	if status != http.StatusConflict || !strings.Contains(string(body), "never reused") {
		t.Fatalf("reusing a deleted space's name: %d %s, want 409 saying names are never reused", status, body)
	}
	if status, _ := w.do(t, op, "DELETE", "/v1/spaces/initech", nil); status != http.StatusNotFound {
		t.Fatalf("deleting a deleted space: %d, want 404", status)
	}

	names := func(query string) string {
		status, body := w.do(t, op, "GET", "/v1/spaces"+query, nil)
		if status != http.StatusOK {
			t.Fatalf("list%s: %d %s", query, status, body)
		}
		var out []string
		for _, s := range decodeAs[api.SpaceList](t, body).Spaces {
			if s.DeletedAt != nil {
				out = append(out, s.Name+"(deleted)")
			} else {
				out = append(out, s.Name)
			}
		}
		return strings.Join(out, " ")
	}
	if got := names(""); got != "acme globex" {
		t.Fatalf("list = %s, want acme globex", got)
	}
	if got := names("?deleted=true"); got != "acme globex initech(deleted)" {
		t.Fatalf("list ?deleted=true = %s", got)
	}

	status, body = w.do(t, op, "GET", "/v1/server/audit?limit=10", nil)
	if status != http.StatusOK {
		t.Fatalf("server audit: %d %s", status, body)
	}
	var actions []string
	for _, ev := range decodeAs[api.AuditList](t, body).Events {
		if ev.Outcome == vault.OutcomeOK {
			actions = append(actions, ev.Action+" "+string(ev.Target))
		}
	}
	has := func(action string) bool {
		for _, a := range actions {
			if strings.HasPrefix(a, action+" ") && strings.Contains(a, `"space":"initech","space_id":"`+created.ID+`"`) {
				return true
			}
		}
		return false
	}
	if !has("space.create") || !has("space.delete") {
		t.Fatalf("server trail:\n%s\nwant the creation and deletion of initech", strings.Join(actions, "\n"))
	}
	status, body = w.do(t, w.tokens["admin"], "GET", "/v1/audit?action=space.delete", nil)
	if status != http.StatusOK || len(decodeAs[api.AuditList](t, body).Events) != 0 {
		t.Fatalf("a space's trail shows the operator's actions: %d %s", status, body)
	}
}

// TestAnOperatorKeyCannotSignInToTheUI: the admin UI shows a space, and an operator key
// has none; the sign-in is refused with a reason and starts no session.
func TestAnOperatorKeyCannotSignInToTheUI(t *testing.T) {
	w := newWorld(t)
	op := operatorKey(t, w)
	req, err := http.NewRequest("POST", w.srv.URL+"/ui/signin", strings.NewReader(url.Values{"key": {op}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in with an operator key: %d, want 403", resp.StatusCode)
	}
	for _, c := range resp.Cookies() {
		if c.Value != "" {
			t.Fatalf("sign-in with an operator key set cookie %s", c.Name)
		}
	}
	events, err := w.Vault.ServerAudit(context.Background(), vault.AuditQuery{Action: "ui.signin"})
	if err != nil || len(events) != 1 || events[0].Outcome != vault.OutcomeDenied {
		t.Fatalf("the refused sign-in in the server trail: %+v, %v", events, err)
	}
}
