package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestUIFormsMustBeValidUTF8: a form value that is not valid UTF-8, which the API call
// behind the form would turn into U+FFFD, is refused and nothing is stored.
func TestUIFormsMustBeValidUTF8(t *testing.T) {
	f, admin, _, srv, _ := uiWorld(t)
	sess := signIn(t, srv, admin, "")
	body := "csrf=" + csrfToken(sess) + "&type=string&name=BINARY&field_value=abc%FFdef"
	req, err := http.NewRequest("POST", srv.URL+"/ui/collections/my-saas/new", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: sess})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	list, err := f.Vault.List(context.Background(), f.Space.ID, "my-saas", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == "BINARY" {
			t.Fatal("a form value that is not UTF-8 was stored")
		}
	}
}
