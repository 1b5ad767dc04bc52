package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// TestGenerateOverTheAPI: a write may ask the server to make a field's value; the
// answer gives its length alone, the stored value has that length and alphabet, the
// audit event names the field generated, and an update that generates keeps the other
// fields of the secret.
func TestGenerateOverTheAPI(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	write := w.tokens["write"]
	status, body := w.do(t, write, "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "dev", Name: "WEBHOOK_SECRET",
		Generate: map[string]api.Generate{"value": {Length: 32, Alphabet: "base64url"}}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created api.Secret
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	if created.Generated["value"] != 32 || len(created.Fields) != 0 || created.Version != 1 {
		t.Fatalf("answer: generated %v, %d fields, version %d", created.Generated, len(created.Fields), created.Version)
	}
	stored, err := w.Vault.Secret(ctx, w.Space.ID, created.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	v := stored.Fields["value"]
	if len(v) != 32 || strings.Trim(v, secret.AlphabetChars("base64url")) != "" {
		t.Fatalf("stored a value of %d characters, or outside base64url", len(v))
	}
	if strings.Contains(string(body), v) {
		t.Fatal("the answer holds the value")
	}

	// A login's password rotates; its username stays.
	status, body = w.do(t, write, "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "dev", Name: "DB", Type: "login",
		Fields: map[string]string{"username": "app"}, Generate: map[string]api.Generate{"password": {Length: 24, Alphabet: "password"}}})
	if status != http.StatusCreated {
		t.Fatalf("create login: %d %s", status, body)
	}
	var login api.Secret
	json.Unmarshal(body, &login)
	first, _ := w.Vault.Secret(ctx, w.Space.ID, login.ID, 0)
	status, body = w.do(t, write, "PUT", "/v1/secrets/"+login.ID, api.UpdateSecretRequest{Version: 1, Generate: map[string]api.Generate{"password": {Format: "uuid"}}})
	if status != http.StatusOK {
		t.Fatalf("rotate: %d %s", status, body)
	}
	var rotated api.Secret
	json.Unmarshal(body, &rotated)
	second, _ := w.Vault.Secret(ctx, w.Space.ID, login.ID, 0)
	if rotated.Version != 2 || rotated.Generated["password"] != 36 || second.Fields["username"] != "app" ||
		!secret.IsUUID(second.Fields["password"]) || second.Fields["password"] == first.Fields["password"] {
		t.Fatalf("after the rotation: version %d, generated %v, username kept %v, a new uuid %v", rotated.Version, rotated.Generated,
			second.Fields["username"] == "app", secret.IsUUID(second.Fields["password"]))
	}
	events, err := w.Vault.Audit(ctx, vault.AuditQuery{SpaceID: w.Space.ID, Action: "secret.update"})
	if err != nil || len(events) == 0 || strings.Join(events[0].Target.Generated, ",") != "password" {
		t.Fatalf("the update's audit event: %+v, %v", events, err)
	}

	for what, req := range map[string]api.CreateSecretRequest{
		"too short":          {Generate: map[string]api.Generate{"value": {Length: 15, Alphabet: "hex"}}},
		"too long":           {Generate: map[string]api.Generate{"value": {Length: 1025, Alphabet: "hex"}}},
		"unknown alphabet":   {Generate: map[string]api.Generate{"value": {Length: 32, Alphabet: "base32"}}},
		"uuid with a length": {Generate: map[string]api.Generate{"value": {Length: 32, Format: "uuid"}}},
		"value and generate": {Fields: map[string]string{"value": "typed-value-1"}, Generate: map[string]api.Generate{"value": {Format: "uuid"}}},
		"unknown field":      {Generate: map[string]api.Generate{"token": {Format: "uuid"}}},
	} {
		req.Collection, req.Environment, req.Name = "my-saas", "dev", "REFUSED"
		if status, body := w.do(t, write, "POST", "/v1/secrets", req); status != http.StatusBadRequest || strings.Contains(string(body), "typed-value-1") {
			t.Errorf("%s: %d %s", what, status, body)
		}
	}
	if status, _ := w.do(t, w.tokens["read"], "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "READER",
		Generate: map[string]api.Generate{"value": {Format: "uuid"}}}); status != http.StatusForbidden {
		t.Fatalf("a read key generated a secret: %d", status)
	}
}
