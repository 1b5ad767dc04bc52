package mcp

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
)

// TestSecretInfoShowsHosts: list_secrets and describe_secret tell where a secret's
// values may go, and say nothing of hosts for an unbound one.
func TestSecretInfoShowsHosts(t *testing.T) {
	s := api.Secret{ID: "00000000-0000-4000-8000-000000000001", Name: "STRIPE_KEY", Type: "string",
		Fields: map[string]string{"value": "sk_l****live"}, Masked: true, Hosts: []string{"*.stripe.com", "api.stripe.com"}}
	b, err := json.Marshal(describeSecretOutput{secretInfo: info(s)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"hosts":["*.stripe.com","api.stripe.com"]`) {
		t.Fatalf("describe_secret = %s", b)
	}
	s.Hosts = nil
	if b, _ := json.Marshal(info(s)); strings.Contains(string(b), "hosts") {
		t.Fatalf("an unbound secret shows hosts: %s", b)
	}
}
