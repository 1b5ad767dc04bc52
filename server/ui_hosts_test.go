package server

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// TestUIHosts: the add form binds a secret, the list and versions pages show its
// hosts, and the edit form keeps the rules: a write key may narrow but not widen or
// clear them, an admin key may.
func TestUIHosts(t *testing.T) {
	f, admin, _, srv, _ := uiWorld(t)
	ctx := context.Background()
	_, writer, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "writer", Role: vault.RoleWrite})
	if err != nil {
		t.Fatal(err)
	}
	post := func(sess, path string, form url.Values) (int, string) {
		t.Helper()
		form.Set("csrf", csrfToken(sess))
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: sess})
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get := func(sess, path string) string {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: sess})
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	hostsOf := func(id string) secret.Hosts {
		t.Helper()
		s, err := f.Vault.Secret(ctx, f.Space.ID, id, 0)
		if err != nil {
			t.Fatal(err)
		}
		return s.Hosts
	}

	w := signIn(t, srv, writer, "")
	status, body := post(w, "/ui/collections/my-saas/new", url.Values{"type": {"string"}, "name": {"STRIPE_KEY"}, "field_value": {"sk_test_value_1"}, "hosts": {"*.stripe.com, api.stripe.com"}})
	if status != http.StatusSeeOther {
		t.Fatalf("add: %d %s", status, body)
	}
	status, body = post(w, "/ui/collections/my-saas/new", url.Values{"type": {"string"}, "name": {"BAD"}, "field_value": {"v"}, "hosts": {"*.com"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "public suffix") || !strings.Contains(body, `value="*.com"`) {
		t.Fatalf("add with *.com: %d %s", status, body)
	}
	list, err := f.Vault.List(ctx, f.Space.ID, "my-saas", "")
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	id := list[0].ID
	if page := get(w, "/ui/collections/my-saas"); !strings.Contains(page, `<td class="hosts"><code>*.stripe.com</code>, <code>api.stripe.com</code></td>`) {
		t.Fatalf("list page shows no hosts:\n%s", page)
	}
	if page := get(w, "/ui/secrets/"+id+"/edit"); !strings.Contains(page, `name="hosts" value="*.stripe.com, api.stripe.com"`) {
		t.Fatalf("edit form does not show the hosts:\n%s", page)
	}

	edit := func(sess string, version, hosts string) (int, string) {
		return post(sess, "/ui/secrets/"+id+"/edit", url.Values{"version": {version}, "field_value": {"sk_test_value_2"}, "hosts": {hosts}})
	}
	if status, body := edit(w, "1", "api.stripe.com"); status != http.StatusSeeOther {
		t.Fatalf("narrowing as a writer: %d %s", status, body)
	}
	for _, wider := range []string{"*.stripe.com", ""} {
		status, body := edit(w, "2", wider)
		if status != http.StatusForbidden || !strings.Contains(body, "widening a secret&#39;s hosts needs an admin key") {
			t.Fatalf("widening to %q as a writer: %d %s", wider, status, body)
		}
	}
	if h := hostsOf(id); !slices.Equal(h, secret.Hosts{"api.stripe.com"}) {
		t.Fatalf("hosts after refusals: %v", h)
	}
	a := signIn(t, srv, admin, "")
	if status, body := edit(a, "2", ""); status != http.StatusSeeOther {
		t.Fatalf("clearing as an admin: %d %s", status, body)
	}
	if h := hostsOf(id); h != nil {
		t.Fatalf("hosts after clearing: %v", h)
	}
	if page := get(a, "/ui/secrets/"+id+"/versions"); !strings.Contains(page, "<code>api.stripe.com</code>") || !strings.Contains(page, "anywhere") {
		t.Fatalf("versions page does not show hosts:\n%s", page)
	}
}
