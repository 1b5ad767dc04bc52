package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
)

// TestAdminUIWorksBehindATLSProxy: behind a proxy that terminates TLS and forwards plain
// HTTP, a browser's forms go through (Sec-Fetch-Site, or Origin against the forwarded
// Host), the session cookie is Secure and __Host-, and pages send HSTS; a form from
// another origin is still refused.
func TestAdminUIWorksBehindATLSProxy(t *testing.T) {
	ctx := context.Background()
	f, admin, _, _, _ := uiWorld(t)
	backend := httptest.NewServer(New(f.Vault, Options{BehindTLSProxy: true}))
	t.Cleanup(backend.Close)
	target, err := url.Parse(backend.URL)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name        string
		keepHost    bool              // the proxy forwards the browser's Host, as most are set up to
		browser     map[string]string // what the browser says of the request's origin
		wantRefused bool
	}{
		{"a browser with Sec-Fetch-Site", true, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "self"}, false},
		{"an older browser with Origin only", true, map[string]string{"Origin": "self"}, false},
		{"a proxy that rewrites Host, a browser with Sec-Fetch-Site", false, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "self"}, false},
		{"a form from another site", true, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			proxy := httptest.NewTLSServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				if tc.keepHost {
					pr.Out.Host = pr.In.Host
				}
			}})
			t.Cleanup(proxy.Close)
			client := proxy.Client()
			client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			post := func(path string, form url.Values, cookie *http.Cookie) *http.Response {
				t.Helper()
				req, err := http.NewRequest("POST", proxy.URL+path, strings.NewReader(form.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for k, v := range tc.browser {
					if v == "self" {
						v = proxy.URL
					}
					req.Header.Set(k, v)
				}
				if cookie != nil {
					req.AddCookie(cookie)
				}
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}
			resp := post("/ui/signin", url.Values{"key": {admin}}, nil)
			if tc.wantRefused {
				if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
					t.Fatalf("a sign-in from another site: %d, %d cookies", resp.StatusCode, len(resp.Cookies()))
				}
				return
			}
			if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
				t.Fatalf("sign-in through the proxy: status %d, %d cookies", resp.StatusCode, len(resp.Cookies()))
			}
			c := resp.Cookies()[0]
			if c.Name != "__Host-kazzle_session" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
				t.Fatalf("session cookie behind a TLS proxy: %s", cookieAttrs(c))
			}
			if resp.Header.Get("Strict-Transport-Security") == "" {
				t.Fatal("no HSTS behind a TLS proxy")
			}
			form := url.Values{"csrf": {csrfToken(c.Value)}, "type": {"string"}, "name": {"PROXIED"}, "field_value": {firstValue}}
			if resp := post("/ui/collections/my-saas/new", form, c); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("adding a secret through the proxy: status %d", resp.StatusCode)
			}
			list, err := f.Vault.List(ctx, f.Space.ID, "my-saas", "")
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, s := range list {
				if s.Name == "PROXIED" { // the next case adds it again
					found = true
					if err := f.Vault.DeleteSecret(ctx, f.Actor, f.Space.ID, s.ID, s.Version); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !found {
				t.Fatal("the form through the proxy stored nothing")
			}
		})
	}
}

// TestForwardedProtoIsNotTrusted: a plain-HTTP server not configured as behind a TLS
// proxy ignores a request's X-Forwarded-Proto: its cookie is not Secure, it sends no
// HSTS; and a server behind one does not need the header.
func TestForwardedProtoIsNotTrusted(t *testing.T) {
	f, admin, _, _, _ := uiWorld(t)
	for _, behind := range []bool{false, true} {
		srv := httptest.NewServer(New(f.Vault, Options{BehindTLSProxy: behind}))
		t.Cleanup(srv.Close)
		req, err := http.NewRequest("POST", srv.URL+"/ui/signin", strings.NewReader(url.Values{"key": {admin}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if !behind {
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("Forwarded", "proto=https")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(resp.Cookies()) != 1 {
			t.Fatalf("behind %v: sign-in %d, %d cookies", behind, resp.StatusCode, len(resp.Cookies()))
		}
		c := resp.Cookies()[0]
		secure := c.Secure && c.Name == "__Host-kazzle_session" && resp.Header.Get("Strict-Transport-Security") != ""
		if secure != behind {
			t.Fatalf("behind a TLS proxy %v: cookie %s, HSTS %q", behind, cookieAttrs(c), resp.Header.Get("Strict-Transport-Security"))
		}
	}
}

// cookieAttrs describes a session cookie without its value, which is an API key.
func cookieAttrs(c *http.Cookie) string {
	return fmt.Sprintf("%s (Secure %v, HttpOnly %v, SameSite %v, Path %q)", c.Name, c.Secure, c.HttpOnly, c.SameSite, c.Path)
}
