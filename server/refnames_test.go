package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
)

// TestReferencesByNameAreStoredAsIDs: ${secret.NAME.field} names the secret the written
// one sees (tagged with its environment, else untagged) and is stored as the id form; a
// name it does not see is refused, so a name cannot reach across environments.
func TestReferencesByNameAreStoredAsIDs(t *testing.T) {
	w := newWorld(t)
	dev := w.tokens["write-app-dev"]
	status, body := w.do(t, dev, "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "dev", Name: "AUTH",
		Fields: map[string]string{"value": "Bearer ${secret.DEV_TOKEN.value} ${secret.SHARED.value} $${secret.DEV_TOKEN.value}"}})
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	var created api.Secret
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	id := created.ID
	stored, err := w.Vault.Secret(context.Background(), w.Space.ID, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := "Bearer ${secret." + w.ids["DEV_TOKEN"] + ".value} ${secret." + w.ids["SHARED"] + ".value} $${secret.DEV_TOKEN.value}"
	if got := stored.Fields["value"]; got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	for _, tc := range []struct{ env, value string }{
		{"dev", "${secret.PROD_TOKEN.value}"},  // another environment's
		{"", "${secret.DEV_TOKEN.value}"},      // an untagged secret sees untagged names only
		{"dev", "${secret.OTHER_TOKEN.value}"}, // another collection's
	} {
		status, body := w.do(t, w.tokens["admin"], "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: tc.env, Name: "X", Fields: map[string]string{"value": tc.value}})
		if status != 400 || !strings.Contains(string(body), "no secret of that name") {
			t.Errorf("%q in %q: %d %s", tc.value, tc.env, status, body)
		}
	}
}
