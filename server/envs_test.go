package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// TestRefusedReferenceListsWhereTheNameIs: a name the written secret does not see is
// refused with the environments (or "untagged") where a secret of that name is, those
// the key may read only.
func TestRefusedReferenceListsWhereTheNameIs(t *testing.T) {
	w := newWorld(t)
	for _, tc := range []struct {
		key, env, ref, want, not string
	}{
		{"admin", "dev", "PROD_TOKEN", "there is one in prod: refer to it by id", ""},
		{"admin", "", "DEV_TOKEN", "there is one in dev: refer to it by id", ""},
		// A key limited to dev learns nothing of prod.
		{"write-app-dev", "dev", "PROD_TOKEN", "refer to a secret elsewhere by id", "prod"},
		{"admin", "dev", "NOPE", "refer to a secret elsewhere by id", "there is one"},
	} {
		status, body := w.do(t, w.tokens[tc.key], "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: tc.env, Name: "X",
			Fields: map[string]string{"value": "${secret." + tc.ref + ".value}"}})
		if status != 400 || !strings.Contains(string(body), tc.want) || (tc.not != "" && strings.Contains(string(body), tc.not)) {
			t.Errorf("%s writing in %q a reference to %s: %d %s", tc.key, tc.env, tc.ref, status, body)
		}
	}
}

// TestDeleteEnvironment: refused while a key is limited to it, naming how many; with
// revoke_keys the key goes too and stops working; only an admin key not limited to one
// environment may delete one.
func TestDeleteEnvironment(t *testing.T) {
	w := newWorld(t)
	for key, want := range map[string]int{"read-app": 403, "write": 403, "write-app-dev": 403} {
		if status, body := w.do(t, w.tokens[key], "DELETE", "/v1/collections/my-saas/environments/dev", nil); status != want {
			t.Errorf("%s deleting dev: %d %s", key, status, body)
		}
	}
	status, body := w.do(t, w.tokens["admin"], "DELETE", "/v1/collections/my-saas/environments/dev", nil)
	if status != 409 || !strings.Contains(string(body), "1 active API key is limited to it") || !strings.Contains(string(body), "--revoke-keys") {
		t.Fatalf("deleting dev with a key limited to it: %d %s", status, body)
	}
	if status, _ := w.do(t, w.tokens["write-app-dev"], "GET", "/v1/collections/my-saas/secrets?environment=dev", nil); status != 200 {
		t.Fatalf("the refused deletion cut off the key: %d", status)
	}
	if status, body := w.do(t, w.tokens["admin"], "DELETE", "/v1/collections/my-saas/environments/dev?revoke_keys=maybe", nil); status != 400 {
		t.Errorf("revoke_keys=maybe: %d %s", status, body)
	}
	if status, body := w.do(t, w.tokens["admin"], "DELETE", "/v1/collections/my-saas/environments/dev?revoke_keys=true", nil); status != 204 {
		t.Fatalf("deleting dev with its keys: %d %s", status, body)
	}
	if status, _ := w.do(t, w.tokens["write-app-dev"], "GET", "/v1/collections/my-saas/secrets", nil); status != 401 {
		t.Errorf("a key limited to a deleted environment: %d, want 401", status)
	}
	if _, err := w.Store.Secret(context.Background(), w.Space.ID, w.ids["DEV_TOKEN"]); err == nil {
		t.Error("a secret tagged with the deleted environment is still there")
	}
	if status, body := w.do(t, w.tokens["admin"], "DELETE", "/v1/collections/my-saas/environments/dev", nil); status != 404 {
		t.Errorf("deleting it again: %d %s", status, body)
	}
}

// TestRenameEnvironment: a new slug, keys limited to it keep working; admin only.
func TestRenameEnvironment(t *testing.T) {
	w := newWorld(t)
	for key, want := range map[string]int{"read-app": 403, "write-app-dev": 403} {
		if status, body := w.do(t, w.tokens[key], "PATCH", "/v1/collections/my-saas/environments/dev", api.RenameEnvironmentRequest{Slug: "development"}); status != want {
			t.Errorf("%s renaming dev: %d %s", key, status, body)
		}
	}
	if status, body := w.do(t, w.tokens["admin"], "PATCH", "/v1/collections/my-saas/environments/dev", api.RenameEnvironmentRequest{Slug: "prod"}); status != 409 {
		t.Errorf("renaming to a taken slug: %d %s", status, body)
	}
	status, body := w.do(t, w.tokens["admin"], "PATCH", "/v1/collections/my-saas/environments/dev", api.RenameEnvironmentRequest{Slug: "development"})
	var e api.Environment
	if status != 200 || json.Unmarshal(body, &e) != nil || e.Slug != "development" || e.ID != w.Dev.ID {
		t.Fatalf("rename: %d %s", status, body)
	}
	status, body = w.do(t, w.tokens["write-app-dev"], "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "development"})
	if status != 200 || !strings.Contains(string(body), "dev-token-value-123") {
		t.Errorf("the key limited to the renamed environment: %d %s", status, body)
	}
}

// TestDiff: booleans only, read on both environments needed, one out of reach answered
// as missing; two read events.
func TestDiff(t *testing.T) {
	w := newWorld(t)
	w.Put(t, "dev", "PROD_TOKEN", "prod-token-value-456")
	status, body := w.do(t, w.tokens["read-app"], "POST", "/v1/collections/my-saas/diff", api.DiffRequest{Environments: []string{"dev", "prod"}})
	if status != 200 {
		t.Fatalf("diff: %d %s", status, body)
	}
	for _, v := range []string{"value-123", "value-456", "value-789"} {
		if strings.Contains(string(body), v) {
			t.Fatalf("a value in the diff: %s", body)
		}
	}
	var d api.DiffResponse
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, n := range d.Names {
		eq := "-"
		if n.Equal != nil {
			eq = map[bool]string{true: "equal", false: "differ"}[*n.Equal]
		}
		got[n.Name] = strings.Join(n.In, "+") + " " + eq
	}
	want := map[string]string{"DEV_TOKEN": "dev -", "PROD_TOKEN": "dev+prod equal", "SHARED": "dev+prod equal"}
	if len(got) != len(want) {
		t.Errorf("diff %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	status, body = w.do(t, w.tokens["write-app-dev"], "POST", "/v1/collections/my-saas/diff", api.DiffRequest{Environments: []string{"dev", "prod"}})
	if status != 404 || !strings.Contains(string(body), "environment prod of my-saas: not found") {
		t.Errorf("a key limited to dev diffing prod: %d %s", status, body)
	}
	status, body = w.do(t, w.tokens["write-app-dev"], "POST", "/v1/collections/my-saas/diff", api.DiffRequest{Environments: []string{"dev", "nope"}})
	if status != 404 || !strings.Contains(string(body), "environment nope of my-saas: not found") {
		t.Errorf("diffing a missing environment: %d %s", status, body)
	}
	if status, body := w.do(t, w.tokens["read-app"], "POST", "/v1/collections/my-saas/diff", api.DiffRequest{Environments: []string{"dev"}}); status != 400 {
		t.Errorf("one environment: %d %s", status, body)
	}
	if status, _ := w.do(t, w.tokens["read-app"], "POST", "/v1/collections/other/diff", api.DiffRequest{Environments: []string{"dev", "prod"}}); status != 404 {
		t.Errorf("a collection out of reach: %d", status)
	}
	evs, err := w.Vault.Audit(context.Background(), vault.AuditQuery{SpaceID: w.Space.ID, Action: "secrets.diff"})
	if err != nil || len(evs) != 2 || evs[0].ActorName != "read-app" {
		t.Fatalf("secrets.diff events: %+v, %v", evs, err)
	}
}
