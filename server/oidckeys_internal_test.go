package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestIssuerFetchLimits: an answer of exactly the limit is read, one byte more is
// refused; a redirect is followed on the same host and refused to another.
func TestIssuerFetchLimits(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) }))
	defer other.Close()
	const limit = 1 << 10
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/at":
			fmt.Fprintf(w, `{"x":"%s"}`, strings.Repeat("a", limit-8))
		case "/past":
			fmt.Fprintf(w, `{"x":"%s"}`, strings.Repeat("a", limit-7))
		case "/same":
			http.Redirect(w, r, "/at", http.StatusFound)
		case "/elsewhere":
			http.Redirect(w, r, other.URL+"/", http.StatusFound)
		}
	}))
	defer srv.Close()
	c := issuerClient(nil)
	var v map[string]any
	ctx := context.Background()
	if err := getJSON(ctx, c, srv.URL+"/at", limit, &v); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if err := getJSON(ctx, c, srv.URL+"/past", limit, &v); err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Fatalf("past the limit: %v", err)
	}
	if err := getJSON(ctx, c, srv.URL+"/same", limit, &v); err != nil {
		t.Fatalf("a redirect on the same host: %v", err)
	}
	if err := getJSON(ctx, c, srv.URL+"/elsewhere", limit, &v); err == nil || !strings.Contains(err.Error(), "redirect to another host") {
		t.Fatalf("a redirect to another host: %v", err)
	}
	if c.Timeout != issuerTimeout || issuerClient(&http.Client{Timeout: time.Hour}).Timeout != issuerTimeout {
		t.Fatal("the timeout is not capped")
	}
}

// TestKeySetReadsAtMostMaxKeys: keys past maxJWKSKeys are not read, and keys of types
// the server does not verify with are skipped.
func TestKeySetReadsAtMostMaxKeys(t *testing.T) {
	for _, n := range []int{maxJWKSKeys, maxJWKSKeys + 1} {
		var keys []any
		keys = append(keys, map[string]string{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"})
		for i := range n - 1 {
			priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, jose.JSONWebKey{Key: priv.Public(), KeyID: fmt.Sprint("k", i)})
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"keys": keys})
		}))
		ks := &keySet{url: srv.URL, client: issuerClient(nil), now: time.Now}
		if err := ks.refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		want := n - 1
		if n > maxJWKSKeys {
			want = maxJWKSKeys - 1
		}
		if len(ks.keys) != want {
			t.Errorf("%d keys published (one HMAC): %d read, want %d", n, len(ks.keys), want)
		}
	}
}

// TestDiscoveryIsChecked: the document must name the configured issuer exactly, and a
// key set URL that is https (or http on loopback, as a local issuer's).
func TestDiscoveryIsChecked(t *testing.T) {
	var doc map[string]string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(doc) }))
	defer srv.Close()
	for _, tc := range []struct {
		desc, issuer, jwks, want string
	}{
		{"good", srv.URL, srv.URL + "/jwks", ""},
		{"another issuer", srv.URL + "/other", srv.URL + "/jwks", "names issuer"},
		{"trailing slash", srv.URL + "/", srv.URL + "/jwks", "names issuer"},
		{"plain http elsewhere", srv.URL, "http://keys.example.com/jwks", "is not an https URL"},
		{"no key set", srv.URL, "", "is not an https URL"},
		{"another scheme", srv.URL, "file:///etc/passwd", "is not an https URL"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			doc = map[string]string{"issuer": tc.issuer, "jwks_uri": tc.jwks}
			got, err := discover(context.Background(), issuerClient(nil), srv.URL)
			if tc.want == "" {
				if err != nil || got != tc.jwks {
					t.Fatalf("%q, %v", got, err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestDiscoveryOfAnHTTPSIssuerNeedsHTTPS: an https issuer's document cannot name a
// plain http key set, not even on loopback, where it would reach the server's own host.
func TestDiscoveryOfAnHTTPSIssuerNeedsHTTPS(t *testing.T) {
	var srv *httptest.Server
	jwks := "http://127.0.0.1:2379/v2/keys"
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": jwks})
	}))
	defer srv.Close()
	if _, err := discover(context.Background(), issuerClient(srv.Client()), srv.URL); err == nil || !strings.Contains(err.Error(), "is not an https URL") {
		t.Fatalf("http key set on loopback for an https issuer: %v", err)
	}
	jwks = srv.URL + "/jwks"
	if got, err := discover(context.Background(), issuerClient(srv.Client()), srv.URL); err != nil || got != jwks {
		t.Fatalf("https key set: %q, %v", got, err)
	}
}
