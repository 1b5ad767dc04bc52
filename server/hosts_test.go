package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
)

// TestHostsOverTheAPI: hosts are set on create, shown on reads, narrowed by a write key,
// widened or cleared only by an admin key, refused when invalid without repeating more
// than an excerpt, and every resolved or substituted value carries its binding.
func TestHostsOverTheAPI(t *testing.T) {
	w := newWorld(t)
	write, admin := w.tokens["write"], w.tokens["admin"]
	status, body := w.do(t, write, "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "STRIPE_KEY",
		Fields: map[string]string{"value": "sk_test_value_1"}, Hosts: []string{"*.Stripe.com", "api.stripe.com."}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created api.Secret
	if err := json.Unmarshal(body, &created); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(created.Hosts, []string{"*.stripe.com", "api.stripe.com"}) {
		t.Fatalf("created hosts %v", created.Hosts)
	}
	status, body = w.do(t, write, "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "AUTH_HEADER",
		Fields: map[string]string{"value": "Bearer ${secret." + created.ID + ".value}"}})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}

	hosts := func(h ...string) *[]string { h = append([]string{}, h...); return &h }
	update := func(token string, version int, h *[]string) (int, string) {
		status, body := w.do(t, token, "PUT", "/v1/secrets/"+created.ID, api.UpdateSecretRequest{Version: version, Hosts: h})
		return status, string(body)
	}
	if status, body := update(write, 1, hosts("*.com")); status != 400 || !strings.Contains(body, `hosts entry 1 \"*.com\"`) || !strings.Contains(body, "public suffix") {
		t.Fatalf("invalid hosts: %d %s", status, body)
	}
	if status, body := update(write, 1, hosts("a.stripe.com sk_live_secret")); status != 400 || strings.Contains(body, "sk_live") {
		t.Fatalf("invalid hosts with a value after it: %d %s", status, body)
	}
	if status, body := update(write, 1, hosts("api.stripe.com")); status != 200 {
		t.Fatalf("narrowing as write: %d %s", status, body)
	}
	if status, body := update(write, 2, hosts("*.stripe.com")); status != 403 || !strings.Contains(body, "widening a secret's hosts needs an admin key") {
		t.Fatalf("widening as write: %d %s", status, body)
	}
	if status, body := update(write, 2, hosts()); status != 403 {
		t.Fatalf("clearing as write: %d %s", status, body)
	}
	if status, body := update(admin, 2, hosts("*.stripe.com")); status != 200 {
		t.Fatalf("widening as admin: %d %s", status, body)
	}
	// An update that leaves hosts out keeps them.
	status, body = w.do(t, write, "PUT", "/v1/secrets/"+created.ID, api.UpdateSecretRequest{Version: 3, Fields: map[string]string{"value": "sk_test_value_2"}})
	if status != 200 || !strings.Contains(string(body), `"hosts":["*.stripe.com"]`) {
		t.Fatalf("update without hosts: %d %s", status, body)
	}

	status, body = w.do(t, w.tokens["read"], "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev", Names: []string{"AUTH_HEADER", "STRIPE_KEY", "SHARED"}})
	if status != 200 {
		t.Fatalf("resolve: %d %s", status, body)
	}
	var res api.ResolveResponse
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range res.Vars {
		b, _ := json.Marshal(v.Hosts)
		got[v.Name] = string(b)
	}
	want := map[string]string{"AUTH_HEADER": `[["*.stripe.com"]]`, "STRIPE_KEY": `[["*.stripe.com"]]`, "SHARED": "null"}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("resolve %s: hosts %s, want %s", name, got[name], w)
		}
	}
	if strings.Count(string(body), `"hosts"`) != 2 {
		t.Errorf("an unbound value carries hosts: %s", body)
	}

	status, body = w.do(t, w.tokens["read"], "POST", "/v1/templates", api.TemplatesRequest{Templates: []string{"${secret." + created.ID + ".value}"}})
	if status != 200 || !strings.Contains(string(body), `"hosts":[["*.stripe.com"]]`) {
		t.Fatalf("templates: %d %s", status, body)
	}

	status, body = w.do(t, admin, "GET", "/v1/secrets/"+created.ID+"/versions", nil)
	if status != 200 || !strings.Contains(string(body), `"hosts":["api.stripe.com"]`) {
		t.Fatalf("versions: %d %s", status, body)
	}
	status, body = w.do(t, w.tokens["read"], "GET", "/v1/collections/my-saas/secrets", nil)
	if status != 200 || strings.Count(string(body), `"hosts":["*.stripe.com"]`) != 1 {
		t.Fatalf("list: %d %s", status, body)
	}
}
