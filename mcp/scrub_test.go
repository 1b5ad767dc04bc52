package mcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
)

// scopeVault serves one collection's environments and resolves, counting the resolves
// (each an audited read on a real server) and answering with value for the secret.
type scopeVault struct {
	mu       sync.Mutex
	value    string
	resolves []string // the environments resolved, in order
}

func (v *scopeVault) client(t *testing.T) *api.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.mu.Lock()
		defer v.mu.Unlock()
		switch r.URL.Path {
		case "/v1/collections/shop/environments":
			json.NewEncoder(w).Encode(api.EnvironmentList{Environments: []api.Environment{{Slug: "dev"}, {Slug: "prod"}}})
		case "/v1/resolve":
			var req api.ResolveRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Collection != "shop" || !req.Scan {
				http.Error(w, "unexpected", http.StatusBadRequest)
				return
			}
			v.resolves = append(v.resolves, req.Environment)
			json.NewEncoder(w).Encode(api.ResolveResponse{Scan: []api.Var{
				{Name: "TOKEN", Value: v.value, SecretID: "00000000-0000-4000-8000-000000000009", Field: "value"},
				{Name: "PORT", Value: "5432", SecretID: "00000000-0000-4000-8000-000000000008", Field: "value"},
			}})
		default:
			http.Error(w, "unexpected", http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := api.NewClient(srv.URL, "kzl_mcpTestKeyThatIsLongEnough000000000", nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAScopeIsReReadOnlyWhenStale: the values of a named collection are read once for
// every environment, kept for 30 seconds, then read again, and a value changed since
// is scrubbed.
func TestAScopeIsReReadOnlyWhenStale(t *testing.T) {
	v := &scopeVault{value: "first-value-0123456789"}
	now := time.Unix(1_800_000_000, 0)
	tl := newTools(Options{Client: v.client(t), Collection: "shop", Now: func() time.Time { return now }})
	ctx := context.Background()
	r, err := tl.scrub.replacerFor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Replace("x first-value-0123456789 y 5432"); got != "x ${secret.00000000-0000-4000-8000-000000000009.value} y 5432" {
		t.Errorf("scrubbed: %q (a value under 8 characters stays)", got)
	}
	if strings.Join(v.resolves, ",") != "dev,prod" {
		t.Fatalf("resolves = %q, want one per environment", v.resolves)
	}
	now = now.Add(scrubMaxAge - time.Second)
	if _, err := tl.scrub.replacerFor(ctx); err != nil {
		t.Fatal(err)
	}
	if len(v.resolves) != 2 {
		t.Fatalf("fresh values were read again: %q", v.resolves)
	}
	v.mu.Lock()
	v.value = "second-value-9876543210"
	v.mu.Unlock()
	now = now.Add(2 * time.Second)
	r, err = tl.scrub.replacerFor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.resolves) != 4 {
		t.Fatalf("stale values were not read again: %q", v.resolves)
	}
	if got := r.Replace("second-value-9876543210"); strings.Contains(got, "second") {
		t.Errorf("a value changed since the last read is not scrubbed: %q", got)
	}
}

// TestScopesAreBounded: a session scrubs for at most maxScopes collections and
// environments; a call naming one more is refused.
func TestScopesAreBounded(t *testing.T) {
	s := newScrubber(nil, time.Now, nil)
	for i := range maxScopes {
		if err := s.name("c", string(rune('a'+i))); err != nil {
			t.Fatalf("scope %d: %v", i, err)
		}
	}
	if err := s.name("c", "a"); err != nil {
		t.Errorf("naming a scope again: %v", err)
	}
	if err := s.name("c", "zz"); err == nil || !strings.Contains(err.Error(), "restart kazzle mcp") {
		t.Errorf("one scope past the limit: %v", err)
	}
}

// TestListSecretsMarksValuesTooShortToScrub: list_secrets says which fields a result
// is not scrubbed of.
func TestListSecretsMarksValuesTooShortToScrub(t *testing.T) {
	v := &scopeVault{value: "a-long-enough-value"}
	c := v.client(t)
	tl := newTools(Options{Client: c, Collection: "shop"})
	short, err := tl.named(context.Background(), "shop", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := short["00000000-0000-4000-8000-000000000008"]; len(got) != 1 || got[0] != "value" {
		t.Errorf("the 4-character value's fields: %q", got)
	}
	if got := short["00000000-0000-4000-8000-000000000009"]; got != nil {
		t.Errorf("a long value is marked: %q", got)
	}
}
