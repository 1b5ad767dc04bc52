package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/storetest"
)

func apiError(t *testing.T, body []byte) *api.Error {
	t.Helper()
	var eb api.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error == nil {
		t.Fatalf("error body %s is not {\"error\":{\"code\",\"message\"}}", body)
	}
	return eb.Error
}

// TestRollbackObeysTheReferenceRule: a key limited to dev cannot roll a dev secret back
// to a version, written by an admin, that refers to prod, and so cannot read prod
// through it. The admin, who may read prod, can.
func TestRollbackObeysTheReferenceRule(t *testing.T) {
	w := newWorld(t)
	admin, dev := w.tokens["admin"], w.tokens["write-app-dev"]
	path := "/v1/secrets/" + w.ids["DEV_TOKEN"]
	status, body := w.do(t, admin, "PUT", path, api.UpdateSecretRequest{Version: 1, Fields: map[string]string{"value": "${secret." + w.ids["PROD_TOKEN"] + ".value}"}})
	if status != 200 {
		t.Fatalf("admin's reference to prod: %d %s", status, body)
	}
	if status, body = w.do(t, admin, "PUT", path, api.UpdateSecretRequest{Version: 2, Fields: map[string]string{"value": "dev-again-value"}}); status != 200 {
		t.Fatalf("admin's update: %d %s", status, body)
	}

	status, body = w.do(t, dev, "POST", path+"/rollback", api.RollbackRequest{To: 2, Version: 3})
	if status != 403 || apiError(t, body).Code != api.CodeForbidden || !strings.Contains(string(body), w.ids["PROD_TOKEN"]) {
		t.Fatalf("a dev key rolled back to a reference to prod: %d %s", status, body)
	}
	if v := w.version(t, "DEV_TOKEN"); v != 3 {
		t.Fatalf("the refused rollback made version %d", v)
	}
	status, body = w.do(t, dev, "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev"})
	if status != 200 || strings.Contains(string(body), "prod-token-value-456") {
		t.Fatalf("the dev key read prod: %d %s", status, body)
	}
	if status, body = w.do(t, admin, "POST", path+"/rollback", api.RollbackRequest{To: 2, Version: 3}); status != 200 {
		t.Fatalf("the admin's rollback: %d %s", status, body)
	}
}

// TestExpansionPastTheCap: a write whose references would expand a field past 64 KiB is
// refused with 400, naming the field and the limit; rows already past the cap fail the
// resolve, reveal or templates call that would expand them with 422, and nothing else.
func TestExpansionPastTheCap(t *testing.T) {
	w := newWorld(t)
	admin := w.tokens["admin"]
	ctx := context.Background()
	half := w.Put(t, "dev", "HALF", strings.Repeat("h", resolver.MaxExpandedField/2))
	ref := "${secret." + half.ID + ".value}"
	status, body := w.do(t, admin, "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "dev", Name: "PAST", Fields: map[string]string{"value": ref + ref + "!"}})
	if e := apiError(t, body); status != 400 || e.Code != api.CodeInvalid || !strings.Contains(e.Message, `PAST field "value"`) || !strings.Contains(e.Message, "65536") {
		t.Fatalf("a write past the cap: %d %s", status, body)
	}
	status, body = w.do(t, admin, "PUT", "/v1/secrets/"+w.ids["DEV_TOKEN"], api.UpdateSecretRequest{Version: 1, Fields: map[string]string{"value": strings.Repeat(ref, 3)}})
	if status != 400 || w.version(t, "DEV_TOKEN") != 1 {
		t.Fatalf("an update past the cap: %d %s", status, body)
	}

	bomb, err := storetest.PlantExpansionBomb(ctx, w.Vault, w.Actor, w.Space.ID, "my-saas", "prod", 3)
	if err != nil {
		t.Fatal(err)
	}
	top := bomb[len(bomb)-1]
	for _, tc := range []struct {
		desc, method, path string
		body               any
	}{
		{"resolve", "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "prod"}},
		{"reveal", "POST", "/v1/secrets/" + top.ID + "/reveal", nil},
		{"templates", "POST", "/v1/templates", api.TemplatesRequest{Templates: []string{"echo ${secret." + top.ID + ".value}"}}},
		{"templates past the total", "POST", "/v1/templates", api.TemplatesRequest{Templates: []string{strings.Repeat("${secret."+bomb[0].ID+".value}", 17)}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			status, body := w.do(t, admin, tc.method, tc.path, tc.body)
			if e := apiError(t, body); status != 422 || e.Code != api.CodeExpansionTooLarge || !strings.Contains(e.Message, "bytes") {
				t.Fatalf("%d %s, want 422 %s", status, body, api.CodeExpansionTooLarge)
			}
		})
	}
	// The other environments of the collection still resolve.
	if status, body := w.do(t, admin, "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev"}); status != 200 {
		t.Fatalf("resolving dev beside the bomb: %d %s", status, body)
	}
}

// TestSmallInputHoles: each is refused with 400, stating the rule, and changes nothing.
func TestSmallInputHoles(t *testing.T) {
	w := newWorld(t)
	admin := w.tokens["admin"]
	shared := "/v1/secrets/" + w.ids["SHARED"]
	longNote := strings.Repeat("n", secret.MaxNoteSize+1)
	for _, tc := range []struct {
		desc, method, path string
		body               any
		msg                string
	}{
		{"rollback to version 0", "POST", shared + "/rollback", api.RollbackRequest{To: 0, Version: 1}, "versions start at 1"},
		{"rollback to version -1", "POST", shared + "/rollback", api.RollbackRequest{To: -1, Version: 1}, "versions start at 1"},
		{"a note past 4 KiB", "PUT", shared, api.UpdateSecretRequest{Version: 1, Note: &longNote}, "the limit is 4096"},
		{"a new secret's note past 4 KiB", "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "NOTED", Note: longNote, Fields: map[string]string{"value": "v"}}, "the limit is 4096"},
		{"a negative totp period", "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "OTP", Type: "totp", Fields: map[string]string{"seed": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=-30"}}, "from 1 to 3600"},
		{"a totp period over an hour", "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "OTP", Type: "totp", Fields: map[string]string{"seed": "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=3601"}}, "from 1 to 3600"},
		{"a NUL byte", "PUT", shared, api.UpdateSecretRequest{Version: 1, Fields: map[string]string{"value": "nul-\x00-value"}}, "base64"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			status, body := w.do(t, admin, tc.method, tc.path, tc.body)
			if e := apiError(t, body); status != 400 || e.Code != api.CodeInvalid || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("%d %s, want 400 and %q", status, body, tc.msg)
			}
		})
	}
	secrets, err := w.Store.Secrets(context.Background(), vault.SecretQuery{SpaceID: w.Space.ID, CollectionID: w.Coll.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 3 || w.version(t, "SHARED") != 1 {
		t.Fatalf("refused input changed the vault: %d secrets, SHARED at version %d", len(secrets), w.version(t, "SHARED"))
	}
}
