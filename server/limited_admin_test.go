package server_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// TestCollectionLimitedAdminsStayInTheirCollection: an admin key limited to a collection,
// or to an environment of it, cannot create collections, cannot delete, list or reach
// the environments of another collection (which it is told does not exist), cannot
// make keys (so none broader than itself) and cannot read the audit trail, which covers
// every collection.
func TestCollectionLimitedAdminsStayInTheirCollection(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for name, env := range map[string]string{"admin-app": "", "admin-app-dev": "dev"} {
		_, tok, err := w.Vault.CreateAPIKey(ctx, w.Actor, vault.NewAPIKey{SpaceID: w.Space.ID, Name: name, Role: vault.RoleAdmin, Collection: "my-saas", Environment: env})
		if err != nil {
			t.Fatal(err)
		}
		w.tokens[name] = tok
	}
	for _, key := range []string{"admin-app", "admin-app-dev"} {
		tok := w.tokens[key]
		for _, tc := range []struct {
			desc, method, path string
			body               any
			want               int
		}{
			{"create a collection", "POST", "/v1/collections", api.CreateCollectionRequest{Slug: "new-" + key}, 403},
			{"delete another collection", "DELETE", "/v1/collections/other", nil, 404},
			{"list another collection's environments", "GET", "/v1/collections/other/environments", nil, 404},
			{"create an environment in another collection", "POST", "/v1/collections/other/environments", api.CreateEnvironmentRequest{Slug: "staging"}, 404},
			{"list another collection's secrets", "GET", "/v1/collections/other/secrets", nil, 404},
			{"create an unrestricted key", "POST", "/v1/keys", api.CreateAPIKeyRequest{Name: "escalated", Role: "admin"}, 403},
			{"create a key of its own collection", "POST", "/v1/keys", api.CreateAPIKeyRequest{Name: "same", Role: "read", Collection: "my-saas"}, 403},
			{"list keys", "GET", "/v1/keys", nil, 403},
			{"read the audit trail", "GET", "/v1/audit", nil, 403},
		} {
			t.Run(key+"/"+tc.desc, func(t *testing.T) {
				if status, body := w.do(t, tok, tc.method, tc.path, tc.body); status != tc.want {
					t.Fatalf("status %d, want %d: %s", status, tc.want, body)
				}
			})
		}
		t.Run(key+"/lists only its collection", func(t *testing.T) {
			status, body := w.do(t, tok, "GET", "/v1/collections", nil)
			var out struct{ Collections []api.Collection }
			if status != 200 || json.Unmarshal(body, &out) != nil || len(out.Collections) != 1 || out.Collections[0].Slug != "my-saas" {
				t.Fatalf("%d %s; want my-saas alone", status, body)
			}
		})
	}
	colls, err := w.Store.Collections(ctx, w.Space.ID)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := w.Vault.APIKeys(ctx, w.Space.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(colls) != 2 {
		t.Fatalf("%d collections after the refusals, want my-saas and other", len(colls))
	}
	for _, k := range keys {
		if k.Name == "escalated" || k.Name == "same" {
			t.Fatalf("a limited admin made key %s", k.Name)
		}
	}
	// An unrestricted admin still may.
	if status, body := w.do(t, w.tokens["admin"], "POST", "/v1/collections", api.CreateCollectionRequest{Slug: "new-by-admin"}); status != 201 {
		t.Fatalf("an unrestricted admin creating a collection: %d %s", status, body)
	}
}
