package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/kazzle/kazzle/server"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/localkms"
	"github.com/kazzle/kazzle/vault/sqlite"
)

// A load balancer's probe needs no key and learns nothing but that the server and its
// database answer.
func TestHealthNeedsNoKeyAndSaysNothingElse(t *testing.T) {
	dir := t.TempDir()
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	wrapper, err := localkms.Open(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(vault.New(store, wrapper, vault.Options{}), server.Options{}))
	defer srv.Close()
	get := func() (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(srv.URL + "/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}
	if status, body, h := get(); status != http.StatusOK || body != "{\"status\":\"ok\"}\n" || h.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /v1/health: %d %q %v", status, body, h)
	}
	store.Close()
	if status, body, _ := get(); status != http.StatusServiceUnavailable || body != "{\"status\":\"unavailable\"}\n" {
		t.Fatalf("GET /v1/health with the database closed: %d %q", status, body)
	}
}
