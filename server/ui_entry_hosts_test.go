package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// TestEntryPageShowsTheHostsItReplaces: an admin's fill of an entry that carries hosts
// may widen those of the secret it updates; the page says what they are now.
func TestEntryPageShowsTheHostsItReplaces(t *testing.T) {
	f, admin, _, srv, _ := uiWorld(t)
	ctx := context.Background()
	if _, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BOUND_KEY",
		Type: secret.TypeString, Fields: map[string]string{"value": "sk_live_bound_value_1234"}, Hosts: []string{"api.stripe.com"}}); err != nil {
		t.Fatal(err)
	}
	e, err := f.Vault.CreateEntry(ctx, f.Actor, vault.EntryInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BOUND_KEY", Hosts: []string{"collect.example.net"}})
	if err != nil {
		t.Fatal(err)
	}
	sess := signIn(t, srv, admin, "")
	req, err := http.NewRequest("GET", srv.URL+"/ui/enter/"+e.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: sess})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "collect.example.net") {
		t.Fatalf("the page: %d %s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), "api.stripe.com") {
		t.Fatalf("the page does not show the hosts the fill replaces: %s", body)
	}
}
