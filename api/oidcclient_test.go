package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testIDToken = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2lnbmF0dXJl"

// TestExchangeOIDC: the exchange posts the provider and token without an API key and
// returns the key and its limits; a refusal is an *Error with the server's status.
func TestExchangeOIDC(t *testing.T) {
	expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/v1/auth/oidc" {
			t.Errorf("request %s %s, want POST /v1/auth/oidc", r.Method, r.URL.Path)
		}
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("the exchange sent Authorization %q", a)
		}
		var req OIDCExchangeRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			t.Errorf("decode the request: %v", err)
		}
		w.Header().Set("Content-Type", "application/json")
		if req.Provider != "github" || req.Token != testIDToken {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":{"code":"unauthenticated","message":"no rule of provider github matches the token"}}`))
			return
		}
		json.NewEncoder(w).Encode(OIDCExchangeResponse{Key: "kzl_exchanged0123456789abcdefghijklmnop", KeyID: "k1", Space: "acme",
			Role: "read", Collection: "my-saas", Environment: "prod", ExpiresAt: expires})
	}))
	defer srv.Close()

	got, err := ExchangeOIDC(context.Background(), srv.URL+"/", nil, OIDCExchangeRequest{Provider: "github", Token: testIDToken})
	if err != nil {
		t.Fatal(err)
	}
	want := OIDCExchangeResponse{Key: "kzl_exchanged0123456789abcdefghijklmnop", KeyID: "k1", Space: "acme", Role: "read",
		Collection: "my-saas", Environment: "prod", ExpiresAt: expires}
	if got != want {
		t.Errorf("exchange = %+v, want %+v", got, want)
	}

	_, err = ExchangeOIDC(context.Background(), srv.URL, nil, OIDCExchangeRequest{Provider: "gitlab", Token: testIDToken})
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || ae.Code != CodeUnauthenticated {
		t.Fatalf("refused exchange: err = %v, want a 401 *Error", err)
	}
	if strings.Contains(err.Error(), testIDToken) {
		t.Errorf("the error holds the token: %v", err)
	}
}

// TestOIDCProviders lists the providers without an API key.
func TestOIDCProviders(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "GET" || r.URL.Path != "/v1/auth/oidc/providers" || r.Header.Get("Authorization") != "" {
			t.Errorf("request %s %s with Authorization %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		w.Write([]byte(`{"providers":[{"name":"github","issuer":"https://token.actions.githubusercontent.com","audience":"https://vault.example.com"}]}`))
	}))
	defer srv.Close()
	got, err := OIDCProviders(context.Background(), srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (OIDCProvider{Name: "github", Issuer: "https://token.actions.githubusercontent.com", Audience: "https://vault.example.com"}) {
		t.Errorf("providers = %+v", got)
	}
}

// TestOIDCClientRefusals: plain http to another host is refused before any request, a
// redirect is not followed, and an answer past the limit is refused.
func TestOIDCClientRefusals(t *testing.T) {
	ctx := context.Background()
	req := OIDCExchangeRequest{Provider: "github", Token: testIDToken}

	t.Run("plain http to another host", func(t *testing.T) {
		_, err := ExchangeOIDC(ctx, "http://vault.example.com", nil, req)
		if err == nil || !strings.Contains(err.Error(), "use https://") {
			t.Fatalf("err = %v, want a refusal of plain http", err)
		}
		if _, err := OIDCProviders(ctx, "http://10.0.0.1:7878", nil); err == nil {
			t.Fatal("OIDCProviders accepted plain http to a non-loopback address")
		}
	})

	t.Run("redirect", func(t *testing.T) {
		plain := newPlainListener(t)
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, plain.URL+"/v1/auth/oidc", http.StatusTemporaryRedirect)
		}))
		defer srv.Close()
		_, err := ExchangeOIDC(ctx, srv.URL, srv.Client(), req)
		var re *RedirectError
		if !errors.As(err, &re) {
			t.Fatalf("err = %v, want a *RedirectError", err)
		}
		if _, err := OIDCProviders(ctx, srv.URL, srv.Client()); !errors.As(err, &re) {
			t.Fatalf("providers: err = %v, want a *RedirectError", err)
		}
		if n := len(plain.requests()); n != 0 {
			t.Fatalf("the redirect's target got %d requests", n)
		}
	})

	// An answer padded with spaces to size bytes.
	answer := func(size int) string {
		body := `{"providers":[]}`
		return body + strings.Repeat(" ", size-len(body))
	}
	for _, tc := range []struct {
		name string
		size int
		ok   bool
	}{
		{"answer at the limit", maxOIDCAnswer, true},
		{"answer past the limit", maxOIDCAnswer + 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(answer(tc.size)))
			}))
			defer srv.Close()
			_, err := OIDCProviders(ctx, srv.URL, nil)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tc.ok && (err == nil || !strings.Contains(err.Error(), "larger than 65536 bytes")):
				t.Fatalf("err = %v, want a refusal of the answer's size", err)
			}
		})
	}
}

// TestNewClientKeyFunc: the key comes from the function at each request, under the
// request's context, and its error is the request's.
func TestNewClientKeyFunc(t *testing.T) {
	l := newPlainListener(t)
	type ctxKey struct{}
	calls := 0
	c, err := NewClientKeyFunc(l.URL, func(ctx context.Context) (string, error) {
		calls++
		if ctx.Value(ctxKey{}) != "request" {
			t.Error("the key function did not get the request's context")
		}
		if calls == 2 {
			return "", errors.New("sign in: refused")
		}
		return "kzl_fromTheKeyFunc0123456789", nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.WithValue(context.Background(), ctxKey{}, "request")
	if _, err := c.Collections(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Collections(ctx); err == nil || err.Error() != "sign in: refused" {
		t.Fatalf("err = %v, want the key function's error", err)
	}
	if got := l.requests(); len(got) != 1 || got[0] != "Bearer kzl_fromTheKeyFunc0123456789" {
		t.Fatalf("the server got Authorization %q, want one request with the function's key", got)
	}
}
