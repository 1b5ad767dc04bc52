package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/server"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

type world struct {
	*storetest.Fixture
	srv    *httptest.Server
	api    *server.Server
	ids    map[string]string // secret name → id
	tokens map[string]string // key name → token
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := storetest.NewFixture(t, store, vault.Options{})
	w := &world{Fixture: f, ids: map[string]string{}, tokens: map[string]string{}}
	w.api = server.New(f.Vault, server.Options{LoopbackOnly: true, Now: f.Clock.Now})
	w.srv = httptest.NewServer(w.api)
	t.Cleanup(w.srv.Close)

	other, err := f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, other.ID, "dev"); err != nil {
		t.Fatal(err)
	}
	w.ids["DEV_TOKEN"] = f.Put(t, "dev", "DEV_TOKEN", "dev-token-value-123").ID
	w.ids["PROD_TOKEN"] = f.Put(t, "prod", "PROD_TOKEN", "prod-token-value-456").ID
	w.ids["SHARED"] = f.Put(t, "", "SHARED", "shared-value-789").ID
	m, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "other", Environment: "dev", Name: "OTHER_TOKEN", Fields: map[string]string{"value": "other-value-000"}})
	if err != nil {
		t.Fatal(err)
	}
	w.ids["OTHER_TOKEN"] = m.ID

	key := func(spaceID, name string, role vault.Role, coll, env string, expires time.Time) string {
		_, tok, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: spaceID, Name: name, Role: role, Collection: coll, Environment: env, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[name] = tok
		f.Clock.Advance(time.Second) // keys list in the order they were made
		return tok
	}
	key(f.Space.ID, "admin", vault.RoleAdmin, "", "", time.Time{})
	key(f.Space.ID, "write", vault.RoleWrite, "", "", time.Time{})
	key(f.Space.ID, "read", vault.RoleRead, "", "", time.Time{})
	key(f.Space.ID, "read-app", vault.RoleRead, "my-saas", "", time.Time{})
	key(f.Space.ID, "write-app-dev", vault.RoleWrite, "my-saas", "dev", time.Time{})
	key(f.Space.ID, "expired", vault.RoleAdmin, "", "", f.Clock.Now().Add(time.Minute))
	key(f.Space.ID, "revoked", vault.RoleAdmin, "", "", time.Time{})
	revoked, err := f.Vault.Authenticate(ctx, w.tokens["revoked"])
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Vault.RevokeAPIKey(ctx, f.Actor, f.Space.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}

	spaceB, err := f.Vault.CreateSpace(ctx, f.Actor, "globex")
	if err != nil {
		t.Fatal(err)
	}
	collB, err := f.Vault.CreateCollection(ctx, f.Actor, spaceB.ID, "my-saas", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.CreateEnvironment(ctx, f.Actor, spaceB.ID, collB.ID, "dev"); err != nil {
		t.Fatal(err)
	}
	mb, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: spaceB.ID, Collection: "my-saas", Name: "B_SECRET", Fields: map[string]string{"value": "globex-value"}})
	if err != nil {
		t.Fatal(err)
	}
	w.ids["B_SECRET"] = mb.ID
	key(spaceB.ID, "other-space-admin", vault.RoleAdmin, "", "", time.Time{})
	f.Clock.Advance(2 * time.Minute) // "expired" expires
	return w
}

func (w *world) do(t *testing.T, token, method, path string, body any) (int, []byte) {
	t.Helper()
	status, _, data := w.send(t, token, method, path, body)
	return status, data
}

func (w *world) version(t *testing.T, name string) int {
	s, err := w.Store.Secret(context.Background(), w.Space.ID, w.ids[name])
	if err != nil {
		t.Fatal(err)
	}
	return s.Version
}

// TestAuthorizationMatrix: each role and restriction against each kind of request.
func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	type action struct {
		name string
		req  func(t *testing.T, token, keyName string) (int, []byte)
	}
	actions := []action{
		{"get dev secret", func(t *testing.T, tok, _ string) (int, []byte) {
			return w.do(t, tok, "GET", "/v1/secrets/"+w.ids["DEV_TOKEN"], nil)
		}},
		{"reveal prod secret", func(t *testing.T, tok, _ string) (int, []byte) {
			return w.do(t, tok, "POST", "/v1/secrets/"+w.ids["PROD_TOKEN"]+"/reveal", nil)
		}},
		{"resolve my-saas/dev", func(t *testing.T, tok, _ string) (int, []byte) {
			return w.do(t, tok, "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev"})
		}},
		{"resolve other/dev", func(t *testing.T, tok, _ string) (int, []byte) {
			return w.do(t, tok, "POST", "/v1/resolve", api.ResolveRequest{Collection: "other", Environment: "dev"})
		}},
		{"update dev secret", func(t *testing.T, tok, _ string) (int, []byte) {
			return w.do(t, tok, "PUT", "/v1/secrets/"+w.ids["DEV_TOKEN"], api.UpdateSecretRequest{Version: w.version(t, "DEV_TOKEN"), Fields: map[string]string{"value": "new-dev-value-1"}})
		}},
		{"update untagged secret", func(t *testing.T, tok, _ string) (int, []byte) {
			return w.do(t, tok, "PUT", "/v1/secrets/"+w.ids["SHARED"], api.UpdateSecretRequest{Version: w.version(t, "SHARED"), Fields: map[string]string{"value": "new-shared-value"}})
		}},
		{"create collection", func(t *testing.T, tok, key string) (int, []byte) {
			return w.do(t, tok, "POST", "/v1/collections", api.CreateCollectionRequest{Slug: "c-" + key})
		}},
		{"get other space's secret", func(t *testing.T, tok, _ string) (int, []byte) {
			return w.do(t, tok, "GET", "/v1/secrets/"+w.ids["B_SECRET"], nil)
		}},
	}
	matrix := map[string][]int{
		//                    get  reveal resolve other update untagged create otherspace
		"admin":             {200, 200, 200, 200, 200, 200, 201, 404},
		"write":             {200, 200, 200, 200, 200, 200, 403, 404},
		"read":              {200, 200, 200, 200, 403, 403, 403, 404},
		"read-app":          {200, 200, 200, 404, 403, 403, 403, 404},
		"write-app-dev":     {200, 404, 200, 404, 200, 403, 403, 404},
		"expired":           {401, 401, 401, 401, 401, 401, 401, 401},
		"revoked":           {401, 401, 401, 401, 401, 401, 401, 401},
		"":                  {401, 401, 401, 401, 401, 401, 401, 401},
		"other-space-admin": {404, 404, 200, 404, 404, 404, 201, 200}, // its own my-saas/dev
	}
	// What a limited key may not reach is answered as missing (404), and audited as a
	// refusal all the same; another space's secret is missing for every key.
	limited := map[string]bool{"read-app": true, "write-app-dev": true}
	refusals := 0
	for _, keyName := range []string{"admin", "write", "read", "read-app", "write-app-dev", "expired", "revoked", "", "other-space-admin"} {
		for i, a := range actions {
			label := keyName
			if label == "" {
				label = "no key"
			}
			t.Run(label+"/"+a.name, func(t *testing.T) {
				status, body := a.req(t, w.tokens[keyName], keyName)
				if want := matrix[keyName][i]; status != want {
					t.Fatalf("status %d, want %d: %s", status, want, body)
				}
				if status >= 400 {
					var eb api.ErrorBody
					if err := json.Unmarshal(body, &eb); err != nil || eb.Error == nil || eb.Error.Code == "" || eb.Error.Message == "" {
						t.Fatalf("error body %s is not {\"error\":{\"code\",\"message\"}}", body)
					}
				}
				if status == 401 || status == 403 || (status == 404 && limited[keyName] && a.name != "get other space's secret") {
					refusals++
				}
				for _, plain := range []string{"dev-token-value-123", "prod-token-value-456", "shared-value-789", "other-value-000", "globex-value"} {
					leak := bytes.Contains(body, []byte(plain))
					mayRead := status == 200 && (a.name == "reveal prod secret" || strings.HasPrefix(a.name, "resolve"))
					if leak && !mayRead {
						t.Fatalf("response holds a value: %s", body)
					}
					if leak && keyName == "other-space-admin" && plain != "globex-value" {
						t.Fatalf("another space's key read this space's value")
					}
				}
			})
		}
	}
	// Refusals without a valid key are counted, and their counts recorded when the
	// minute is over or the server stops.
	w.api.FlushAudit(context.Background(), true)
	denied, err := w.Vault.Audit(context.Background(), vault.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range denied {
		if ev.Outcome == vault.OutcomeDenied {
			n += max(ev.Target.Count, 1)
		}
	}
	if n != refusals {
		t.Fatalf("%d refusals, %d denied audit events", refusals, n)
	}
}

func TestResolveAndMaskedReads(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens["read-app"]
	status, body := w.do(t, tok, "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev"})
	var res api.ResolveResponse
	if status != 200 || json.Unmarshal(body, &res) != nil {
		t.Fatalf("resolve: %d %s", status, body)
	}
	got := map[string]string{}
	for _, v := range res.Vars {
		got[v.Name] = v.Value
	}
	if got["DEV_TOKEN"] != "dev-token-value-123" || got["SHARED"] != "shared-value-789" || len(got) != 2 {
		t.Fatalf("resolved %v", got)
	}
	status, body = w.do(t, tok, "GET", "/v1/collections/my-saas/secrets", nil)
	if status != 200 {
		t.Fatalf("list: %d %s", status, body)
	}
	for _, plain := range []string{"dev-token-value-123", "prod-token-value-456", "shared-value-789"} {
		if bytes.Contains(body, []byte(plain)) {
			t.Fatalf("a masked list holds a value")
		}
	}
	var list api.SecretList
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("list: %v: %s", err, body)
	}
	if len(list.Secrets) != 3 || !list.Secrets[0].Masked || list.Secrets[0].Fields["value"] != "dev-****-123" {
		t.Fatalf("list: %+v", list.Secrets)
	}
}

func TestBadInputIsA4xxAndChangesNothing(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens["admin"]
	before, err := w.Store.Secrets(context.Background(), vault.SecretQuery{SpaceID: w.Space.ID, CollectionID: w.Coll.ID})
	if err != nil {
		t.Fatal(err)
	}
	big := `{"collection":"my-saas","name":"BIG","fields":{"value":"` + strings.Repeat("x", server.DefaultMaxBody) + `"}}`
	for _, tc := range []struct {
		desc   string
		method string
		path   string
		body   string
		status int
		msg    string
	}{
		{"malformed JSON", "POST", "/v1/secrets", `{"collection":"my-saas",`, 400, "malformed JSON"},
		{"unknown field", "POST", "/v1/secrets", `{"collection":"my-saas","name":"X","fields":{"value":"v"},"valeu":"x"}`, 400, `unknown field "valeu"`},
		{"trailing data", "POST", "/v1/secrets", `{"collection":"my-saas","name":"X","fields":{"value":"v"}} {}`, 400, "data after the object"},
		{"wrong type", "POST", "/v1/secrets", `{"collection":"my-saas","name":"X","fields":{"value":42}}`, 400, "must be string"},
		{"oversized body", "POST", "/v1/secrets", big, 413, "larger than"},
		{"invalid name", "POST", "/v1/secrets", `{"collection":"my-saas","name":"BAD-NAME","fields":{"value":"v"}}`, 400, "secret name"},
		{"invalid slug", "POST", "/v1/collections", `{"slug":"Bad Slug"}`, 400, "collection slug"},
		{"reserved name", "POST", "/v1/secrets", `{"collection":"my-saas","name":"LD_PRELOAD","fields":{"value":"/tmp/x.so"}}`, 400, "LD_PRELOAD"},
		{"reserved name in lower case", "POST", "/v1/secrets", `{"collection":"my-saas","name":"https_proxy","fields":{"value":"http://evil"}}`, 400, "https_proxy"},
		{"reserved variable a login exports", "POST", "/v1/secrets", `{"collection":"my-saas","name":"KAZZLE","type":"login","fields":{"username":"u","password":"p"}}`, 400, "KAZZLE_USERNAME"},
		{"name with a value after =", "POST", "/v1/secrets", `{"collection":"my-saas","name":"KEY=sk_live_value","fields":{"value":"v"}}`, 400, "cannot hold ="},
		{"unknown reference", "POST", "/v1/secrets", `{"collection":"my-saas","name":"REF","fields":{"value":"${secret.00000000-0000-4000-8000-000000000000.value}"}}`, 400, "unknown secret"},
		{"reference cycle", "PUT", "/v1/secrets/" + w.ids["SHARED"], fmt.Sprintf(`{"version":1,"fields":{"value":"${secret.%s.value}"}}`, w.ids["SHARED"]), 400, "reference cycle"},
		{"stale version", "PUT", "/v1/secrets/" + w.ids["SHARED"], `{"version":7,"fields":{"value":"v"}}`, 409, "not current"},
		{"delete without version", "DELETE", "/v1/secrets/" + w.ids["SHARED"], "", 400, "?version=N"},
		{"unknown endpoint", "GET", "/v1/nope", "", 404, "no such endpoint"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			status, body := w.do(t, tok, tc.method, tc.path, tc.body)
			var eb api.ErrorBody
			if err := json.Unmarshal(body, &eb); err != nil {
				t.Fatalf("%d %s: not an error body: %v", status, body, err)
			}
			if status != tc.status || eb.Error == nil || !strings.Contains(eb.Error.Message, tc.msg) {
				t.Fatalf("%d %s; want %d and %q", status, body, tc.status, tc.msg)
			}
		})
	}
	after, err := w.Store.Secrets(context.Background(), vault.SecretQuery{SpaceID: w.Space.ID, CollectionID: w.Coll.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) || w.version(t, "SHARED") != 1 {
		t.Fatalf("bad input changed the vault: %d → %d secrets, SHARED at version %d", len(before), len(after), w.version(t, "SHARED"))
	}
}

func TestHostAndOriginChecks(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		host, origin string
		status       int
		fetchSite    string
	}{
		{"", "", 200, ""},
		{"evil.example:80", "", 403, ""},
		{"", "http://evil.example", 403, ""},
		{"", "", 403, "cross-site"},
		{"", "", 403, "same-site"},
		{"", "self", 200, "same-origin"},
		{"", "self", 200, ""},
	} {
		if tc.origin == "self" {
			tc.origin = w.srv.URL
		}
		req, err := http.NewRequest("GET", w.srv.URL+"/v1/collections", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+w.tokens["read"])
		if tc.host != "" {
			req.Host = tc.host
		}
		if tc.origin != "" {
			req.Header.Set("Origin", tc.origin)
		}
		if tc.fetchSite != "" {
			req.Header.Set("Sec-Fetch-Site", tc.fetchSite)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("Host %q Origin %q Sec-Fetch-Site %q: %d, want %d", tc.host, tc.origin, tc.fetchSite, resp.StatusCode, tc.status)
		}
	}
}
