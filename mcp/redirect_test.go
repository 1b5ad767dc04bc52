package mcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestHTTPRequestDoesNotFollowARedirectWithSubstitutedSecrets: an https URL that
// redirects to plain http gets the 3xx back as it is, with its Location redacted, and
// the http listener never sees the substituted secret.
func TestHTTPRequestDoesNotFollowARedirectWithSubstitutedSecrets(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.Header.Get("Authorization"))
				mu.Unlock()
			}))
			defer plain.Close()
			tlsServer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				// A redirect that echoes the credential into the new URL's query.
				http.Redirect(w, r, plain.URL+"/collect?token="+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), status)
			}))
			defer tlsServer.Close()
			tl := newTools(Options{Client: fakeVault(t, ref, value), HTTPClient: tlsServer.Client()})
			_, out, err := tl.httpRequest(context.Background(), nil, httpRequestInput{
				Method: "POST", URL: tlsServer.URL + "/api", Body: "{}",
				Headers: map[string]string{"Authorization": "Bearer " + ref},
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != status {
				t.Errorf("status = %d, want the redirect's %d as it is", out.Status, status)
			}
			if want := plain.URL + "/collect?token=" + ref; out.Headers["Location"] != want {
				t.Errorf("Location = %q, want %q", out.Headers["Location"], want)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 0 {
				t.Fatalf("the plain-http listener got %d requests", len(got))
			}
		})
	}
}

// TestHTTPRequestFollowsARedirectToTheSameOriginOnly: a redirect to another path of the
// same origin is followed, with the substituted header; one to another port of the same
// host is not.
func TestHTTPRequestFollowsARedirectToTheSameOriginOnly(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	var mu sync.Mutex
	var otherPort []string
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		otherPort = append(otherPort, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer other.Close()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/start":
			http.Redirect(w, r, "/final", http.StatusFound)
		case "/elsewhere":
			http.Redirect(w, r, other.URL+"/final", http.StatusTemporaryRedirect)
		case "/final":
			if r.Header.Get("Authorization") != "Bearer "+value {
				http.Error(w, "no credential", http.StatusUnauthorized)
				return
			}
			w.Write([]byte("ok " + r.Header.Get("Authorization")))
		}
	}))
	defer srv.Close()
	tl := newTools(Options{Client: fakeVault(t, ref, value), HTTPClient: srv.Client()})
	headers := map[string]string{"Authorization": "Bearer " + ref}
	_, out, err := tl.httpRequest(context.Background(), nil, httpRequestInput{URL: srv.URL + "/start", Headers: headers})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != http.StatusOK || out.Body != "ok Bearer "+ref {
		t.Errorf("same origin: status %d, body %q; want 200 with the credential scrubbed", out.Status, out.Body)
	}
	_, out, err = tl.httpRequest(context.Background(), nil, httpRequestInput{URL: srv.URL + "/elsewhere", Headers: headers})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != http.StatusTemporaryRedirect {
		t.Errorf("another port: status %d, want the 307 as it is", out.Status)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(otherPort) != 0 {
		t.Errorf("the server on another port got %d requests", len(otherPort))
	}
}
