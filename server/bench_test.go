package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/server"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

// BenchmarkResolveHTTP resolves a 50-secret environment over HTTP on loopback from
// parallel keep-alive clients, audit on: the server's hot path, in process.
func BenchmarkResolveHTTP(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "kazzle.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	f := storetest.NewFixture(b, store, vault.Options{})
	for i := 0; i < 50; i++ {
		env := ""
		if i%2 == 0 {
			env = "dev"
		}
		f.Put(b, env, fmt.Sprintf("SECRET_%02d", i), fmt.Sprintf("value-%02d-%s", i, strings.Repeat("x", 40)))
	}
	_, token, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "bench", Role: vault.RoleRead})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(server.New(f.Vault, server.Options{}))
	defer srv.Close()
	body := []byte(`{"collection":"my-saas","environment":"dev"}`)
	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		for pb.Next() {
			req, err := http.NewRequest("POST", srv.URL+"/v1/resolve", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}
