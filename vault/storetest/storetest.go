// Package storetest is the test suite every vault.Store implementation must pass. The
// SQLite and PostgreSQL back ends both run it: the same tests, not copies.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/localkms"
)

// Opener returns a new, empty store; the suite closes it.
type Opener func(t *testing.T) vault.Store

// Fixture is a vault over a fresh store with one space, collection and dev/prod environments.
type Fixture struct {
	Vault *vault.Vault
	Store vault.Store
	Space vault.Space
	Coll  vault.Collection
	Dev   vault.Environment
	Prod  vault.Environment
	Actor vault.Actor
	Clock *Clock
}

// Clock is a settable clock for the vault under test.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// NewFixture builds a Fixture over a store from open, wrapping keys with a local root key.
func NewFixture(t testing.TB, store vault.Store, o vault.Options) *Fixture {
	t.Helper()
	ctx := context.Background()
	w, err := localkms.Open(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	clock := &Clock{t: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	if o.Now == nil {
		o.Now = clock.Now
	}
	f := &Fixture{Vault: vault.New(store, w, o), Store: store, Actor: vault.Actor{KeyID: "key-1", Name: "tester", ClientAddr: "127.0.0.1"}, Clock: clock}
	if f.Space, err = f.Vault.CreateSpace(ctx, f.Actor, "acme"); err != nil {
		t.Fatal(err)
	}
	if f.Coll, err = f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "my-saas", "My SaaS"); err != nil {
		t.Fatal(err)
	}
	if f.Dev, err = f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev"); err != nil {
		t.Fatal(err)
	}
	if f.Prod, err = f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, f.Coll.ID, "prod"); err != nil {
		t.Fatal(err)
	}
	return f
}

// Put creates a string secret and fails the test on error.
func (f *Fixture) Put(t testing.TB, env, name, value string) vault.SecretMeta {
	t.Helper()
	m, err := f.Vault.CreateSecret(context.Background(), f.Actor, vault.SecretInput{
		SpaceID: f.Space.ID, Collection: f.Coll.Slug, Environment: env, Name: name, Fields: map[string]string{"value": value},
	})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return m
}

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(*testing.T, *Fixture)
	}{
		{"CollectionsAndEnvironments", testCollectionsAndEnvironments},
		{"SecretLifecycle", testSecretLifecycle},
		{"UntaggedAndTagged", testUntaggedAndTagged},
		{"ReferencesCheckedOnWrite", testReferencesCheckedOnWrite},
		{"InvalidInputChangesNothing", testInvalidInputChangesNothing},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"APIKeys", testAPIKeys},
		{"AuditTrail", testAuditTrail},
		{"SpacesAreIsolated", testSpacesAreIsolated},
		{"KeyCache", testKeyCache},
		{"CachedReadsAreNeverStale", testCachedReadsAreNeverStale},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := open(t)
			t.Cleanup(func() { store.Close() })
			tc.fn(t, NewFixture(t, store, vault.Options{}))
		})
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}

func testCollectionsAndEnvironments(t *testing.T, f *Fixture) {
	ctx := context.Background()
	_, err := f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "my-saas", "")
	wantErr(t, err, vault.ErrExists, "duplicate collection slug")
	_, err = f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev")
	wantErr(t, err, vault.ErrExists, "duplicate environment slug")
	_, err = f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, "no-such", "dev")
	wantErr(t, err, vault.ErrNotFound, "environment of an unknown collection")
	_, err = f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "Bad_Slug", "")
	wantErr(t, err, vault.ErrInvalid, "invalid slug")

	other, err := f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	otherDev, err := f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, other.ID, "dev")
	if err != nil {
		t.Fatalf("the same environment slug in another collection: %v", err)
	}
	c, e, err := f.Store.CollectionAndEnvironment(ctx, f.Space.ID, "other", "dev")
	if err != nil || c.ID != other.ID || e.ID != otherDev.ID || e.CollectionID != other.ID {
		t.Fatalf("CollectionAndEnvironment(other, dev) = %+v, %+v, %v", c, e, err)
	}
	_, _, err = f.Store.CollectionAndEnvironment(ctx, f.Space.ID, "other", "prod")
	wantErr(t, err, vault.ErrNotFound, "an environment of another collection")
	_, _, err = f.Store.CollectionAndEnvironment(ctx, f.Space.ID, "other", f.Prod.ID)
	wantErr(t, err, vault.ErrNotFound, "another collection's environment by id")
	colls, err := f.Store.Collections(ctx, f.Space.ID)
	if err != nil || len(colls) != 2 || colls[0].Slug != "my-saas" || colls[1].Slug != "other" {
		t.Fatalf("Collections = %+v, %v", colls, err)
	}
	envs, err := f.Store.Environments(ctx, f.Space.ID, f.Coll.ID)
	if err != nil || len(envs) != 2 || envs[0].Slug != "dev" || envs[1].Slug != "prod" {
		t.Fatalf("Environments = %+v, %v", envs, err)
	}
	// Deleting an environment deletes the secrets tagged with it, not the untagged ones.
	f.Put(t, "dev", "DEV_ONLY", "x")
	f.Put(t, "", "SHARED", "y")
	if err := f.Vault.DeleteEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev"); err != nil {
		t.Fatal(err)
	}
	left, err := f.Store.Secrets(ctx, vault.SecretQuery{SpaceID: f.Space.ID, CollectionID: f.Coll.ID})
	if err != nil || len(left) != 1 || left[0].Name != "SHARED" {
		t.Fatalf("after deleting dev: %+v, %v", left, err)
	}
	if err := f.Vault.DeleteCollection(ctx, f.Actor, f.Space.ID, "my-saas"); err != nil {
		t.Fatal(err)
	}
	_, err = f.Store.Collection(ctx, f.Space.ID, "my-saas")
	wantErr(t, err, vault.ErrNotFound, "deleted collection")
}

func testSecretLifecycle(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{
		SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Name: "DB", Type: resolver.TypeLogin, Note: "primary",
		Fields: map[string]string{"username": "app", "password": "pw-1", "url": ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.EnvironmentID != f.Dev.ID || m.CreatedBy != "tester" {
		t.Fatalf("created %+v", m)
	}
	_, err = f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Name: "DB", Type: resolver.TypeString, Fields: map[string]string{"value": "x"}})
	wantErr(t, err, vault.ErrExists, "same name in the same environment")
	if _, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "DB", Fields: map[string]string{"value": "x"}}); err != nil {
		t.Fatalf("same name untagged: %v", err)
	}

	f.Clock.Advance(time.Minute)
	m2, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Fields: map[string]string{"username": "app", "password": "pw-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Version != 2 || !m2.UpdatedAt.After(m2.CreatedAt) {
		t.Fatalf("updated %+v", m2)
	}
	_, err = f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Fields: map[string]string{"username": "app", "password": "pw-x"}})
	wantErr(t, err, vault.ErrConflict, "update of a stale version")

	note := "rotated"
	if _, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 2, Note: &note}); err != nil {
		t.Fatal(err)
	}
	cur, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	if err != nil || cur.Version != 3 || cur.Note != "rotated" || cur.Fields["password"] != "pw-2" {
		t.Fatalf("note-only update: %+v, %v", cur, err)
	}
	old, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 1)
	if err != nil || old.Fields["password"] != "pw-1" || old.Note != "primary" || len(old.Fields) != 2 {
		t.Fatalf("version 1: %+v, %v", old.SecretMeta, err)
	}
	hist, err := f.Vault.History(ctx, f.Space.ID, m.ID)
	if err != nil || len(hist) != 3 || hist[0].Version != 3 || hist[2].Version != 1 {
		t.Fatalf("history: %+v, %v", hist, err)
	}
	rb, err := f.Vault.Rollback(ctx, f.Actor, f.Space.ID, m.ID, 1, 3)
	if err != nil || rb.Version != 4 {
		t.Fatalf("rollback: %+v, %v", rb, err)
	}
	cur, _ = f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	if cur.Fields["password"] != "pw-1" || cur.Note != "primary" {
		t.Fatalf("after rollback to 1: note %q", cur.Note)
	}
	_, err = f.Vault.Rollback(ctx, f.Actor, f.Space.ID, m.ID, 1, 3)
	wantErr(t, err, vault.ErrConflict, "rollback of a stale version")

	wantErr(t, f.Vault.DeleteSecret(ctx, f.Actor, f.Space.ID, m.ID, 3), vault.ErrConflict, "delete of a stale version")
	if err := f.Vault.DeleteSecret(ctx, f.Actor, f.Space.ID, m.ID, 4); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	wantErr(t, err, vault.ErrNotFound, "deleted secret")
	_, err = f.Vault.History(ctx, f.Space.ID, m.ID)
	wantErr(t, err, vault.ErrNotFound, "history of a deleted secret")
}

func testUntaggedAndTagged(t *testing.T, f *Fixture) {
	ctx := context.Background()
	f.Put(t, "", "API_URL", "https://api.example.com")
	f.Put(t, "prod", "API_URL", "https://api.prod.example.com")
	f.Put(t, "", "LOG_LEVEL", "info")
	f.Put(t, "dev", "DEBUG", "1")
	env := func(e string) map[string]string {
		vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: e})
		if err != nil {
			t.Fatalf("resolve %s: %v", e, err)
		}
		out := map[string]string{}
		for _, v := range vars {
			out[v.Name] = v.Value
		}
		return out
	}
	dev, prod := env("dev"), env("prod")
	if dev["API_URL"] != "https://api.example.com" || dev["LOG_LEVEL"] != "info" || dev["DEBUG"] != "1" || len(dev) != 3 {
		t.Errorf("dev = %v", dev)
	}
	if prod["API_URL"] != "https://api.prod.example.com" || prod["LOG_LEVEL"] != "info" || len(prod) != 2 {
		t.Errorf("prod = %v", prod)
	}
	vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Names: []string{"DEBUG"}})
	if err != nil || len(vars) != 1 || vars[0].Name != "DEBUG" {
		t.Errorf("resolve only DEBUG: %+v, %v", vars, err)
	}
	_, err = f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "prod", Names: []string{"DEBUG"}})
	wantErr(t, err, vault.ErrNotFound, "a name not in the environment")
	_, err = f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "staging"})
	wantErr(t, err, vault.ErrNotFound, "an environment that was never created")
}

func testReferencesCheckedOnWrite(t *testing.T, f *Fixture) {
	ctx := context.Background()
	user := f.Put(t, "", "DB_USER", "app")
	pass := f.Put(t, "", "DB_PASS", "pw")
	url := f.Put(t, "dev", "DATABASE_URL", fmt.Sprintf("postgres://${secret.%s.value}:${secret.%s.value}@db/app", user.ID, pass.ID))
	vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Names: []string{"DATABASE_URL"}})
	if err != nil || len(vars) != 1 || vars[0].Value != "postgres://app:pw@db/app" {
		t.Fatalf("resolve reference: %+v, %v", vars, err)
	}
	// Pointing DB_PASS back at DATABASE_URL would close a cycle: refused, and nothing changes.
	_, err = f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: pass.ID, Version: 1,
		Fields: map[string]string{"value": fmt.Sprintf("${secret.%s.value}", url.ID)}})
	var cycle *resolver.CycleError
	if !errors.As(err, &cycle) || !errors.Is(err, vault.ErrInvalid) {
		t.Fatalf("cycle: err = %v", err)
	}
	if got, _ := f.Vault.Secret(ctx, f.Space.ID, pass.ID, 0); got.Version != 1 || got.Fields["value"] != "pw" {
		t.Fatalf("a refused update changed the secret: version %d", got.Version)
	}
	unknown := "00000000-0000-4000-8000-000000000000"
	_, err = f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "DANGLING", Fields: map[string]string{"value": "${secret." + unknown + ".value}"}})
	wantErr(t, err, resolver.ErrUnknownSecret, "reference to an unknown secret")
	_, err = f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BAD_FIELD", Fields: map[string]string{"value": "${secret." + user.ID + ".password}"}})
	wantErr(t, err, resolver.ErrUnknownField, "reference to an unknown field")
	_, err = f.Vault.DeleteSecret(ctx, f.Actor, f.Space.ID, user.ID, 1), nil
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"})
	wantErr(t, err, resolver.ErrUnknownSecret, "resolving after the referenced secret was deleted")
}

func testInvalidInputChangesNothing(t *testing.T, f *Fixture) {
	ctx := context.Background()
	before, _ := f.Store.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 1000})
	for _, in := range []vault.SecretInput{
		{Name: "1BAD", Fields: map[string]string{"value": "x"}},
		{Name: "OK", Type: "ssh", Fields: map[string]string{"value": "x"}},
		{Name: "OK", Fields: map[string]string{"value": "x", "extra": "y"}},
		{Name: "OK", Fields: map[string]string{"value": strings.Repeat("x", resolver.MaxFieldSize+1)}},
		{Name: "OK", Environment: "staging", Fields: map[string]string{"value": "x"}},
		{Name: "OK", Type: resolver.TypeTOTP, Fields: map[string]string{"seed": "not base32!"}},
	} {
		in.SpaceID, in.Collection = f.Space.ID, "my-saas"
		if _, err := f.Vault.CreateSecret(ctx, f.Actor, in); err == nil {
			t.Errorf("CreateSecret(%s, %s) succeeded", in.Name, in.Type)
		}
	}
	secrets, _ := f.Store.Secrets(ctx, vault.SecretQuery{SpaceID: f.Space.ID, CollectionID: f.Coll.ID})
	after, _ := f.Store.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 1000})
	if len(secrets) != 0 || len(after) != len(before) {
		t.Fatalf("refused input left %d secrets and %d audit events", len(secrets), len(after)-len(before))
	}
}

// testConcurrentUpdates: many writers race on one secret. Every accepted update becomes
// its own version, none is lost, and the losers get ErrConflict.
func testConcurrentUpdates(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m := f.Put(t, "", "COUNTER", "start")
	const writers, each = 8, 6
	var mu sync.Mutex
	accepted := map[int]string{} // version → value written
	conflicts := 0
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				cur, err := f.Store.Secret(ctx, f.Space.ID, m.ID)
				if err != nil {
					t.Error(err)
					return
				}
				val := fmt.Sprintf("w%d-i%d", w, i)
				got, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: cur.Version, Fields: map[string]string{"value": val}})
				mu.Lock()
				switch {
				case err == nil:
					if prev, dup := accepted[got.Version]; dup {
						t.Errorf("version %d accepted twice (%s and %s)", got.Version, prev, val)
					}
					accepted[got.Version] = val
					i++
				case errors.Is(err, vault.ErrConflict):
					conflicts++
				default:
					t.Error(err)
					mu.Unlock()
					return
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(accepted) != writers*each {
		t.Fatalf("%d updates accepted, want %d", len(accepted), writers*each)
	}
	hist, err := f.Vault.History(ctx, f.Space.ID, m.ID)
	if err != nil || len(hist) != 1+writers*each {
		t.Fatalf("history has %d versions, want %d (%v)", len(hist), 1+writers*each, err)
	}
	for v, want := range accepted {
		got, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, v)
		if err != nil || got.Fields["value"] != want {
			t.Fatalf("version %d holds %q, want %q (%v)", v, got.Fields["value"], want, err)
		}
	}
	t.Logf("%d accepted updates, %d conflicts", len(accepted), conflicts)

	// All writers from the same version: exactly one wins.
	cur, _ := f.Store.Secret(ctx, f.Space.ID, m.ID)
	var wins, losses int
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: cur.Version, Fields: map[string]string{"value": fmt.Sprint(w)}})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if errors.Is(err, vault.ErrConflict) {
				losses++
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || losses != writers-1 {
		t.Fatalf("racing from one version: %d wins and %d conflicts, want 1 and %d", wins, losses, writers-1)
	}
}

func testAPIKeys(t *testing.T, f *Fixture) {
	ctx := context.Background()
	k, token, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "ci", Role: vault.RoleRead, Collection: "my-saas", Environment: "prod", ExpiresAt: f.Clock.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, "kzl_") || len(token) < 36 || strings.Trim(token[4:], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != "" {
		t.Fatalf("key %q is not kzl_ and base62", k.Prefix)
	}
	if k.CollectionID != f.Coll.ID || k.EnvironmentID != f.Prod.ID {
		t.Fatalf("restriction not stored: %+v", k)
	}
	keys, err := f.Vault.APIKeys(ctx, f.Space.ID)
	if err != nil || len(keys) != 1 {
		t.Fatalf("APIKeys = %d, %v", len(keys), err)
	}
	if strings.Contains(string(keys[0].Hash), token) || len(keys[0].Hash) != 32 {
		t.Fatal("the key is stored otherwise than as its hash")
	}
	got, err := f.Vault.Authenticate(ctx, token)
	if err != nil || got.ID != k.ID || got.Role != vault.RoleRead || got.LastUsedAt.IsZero() {
		t.Fatalf("Authenticate = %+v, %v", got, err)
	}
	_, err = f.Vault.Authenticate(ctx, token[:len(token)-1]+"x")
	wantErr(t, err, vault.ErrUnauthenticated, "unknown key")
	_, err = f.Vault.Authenticate(ctx, "not-a-key")
	wantErr(t, err, vault.ErrUnauthenticated, "malformed key")

	f.Clock.Advance(2 * time.Hour)
	_, err = f.Vault.Authenticate(ctx, token)
	wantErr(t, err, vault.ErrUnauthenticated, "expired key")

	_, token2, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "admin", Role: vault.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	k2, err := f.Vault.Authenticate(ctx, token2)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Vault.RevokeAPIKey(ctx, f.Actor, f.Space.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Authenticate(ctx, token2)
	wantErr(t, err, vault.ErrUnauthenticated, "revoked key")
	wantErr(t, f.Vault.RevokeAPIKey(ctx, f.Actor, f.Space.ID, k2.ID), vault.ErrNotFound, "revoking twice")

	// A revocation through another Vault on the same store (another server process)
	// takes effect here within KeyCacheTTL.
	_, token3, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "replica", Role: vault.RoleRead})
	if err != nil {
		t.Fatal(err)
	}
	k3, err := f.Vault.Authenticate(ctx, token3)
	if err != nil {
		t.Fatal(err)
	}
	w, err := localkms.Open(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	other := vault.New(f.Store, w, vault.Options{Now: f.Clock.Now})
	if err := other.RevokeAPIKey(ctx, f.Actor, f.Space.ID, k3.ID); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(vault.KeyCacheTTL)
	_, err = f.Vault.Authenticate(ctx, token3)
	wantErr(t, err, vault.ErrUnauthenticated, "a key revoked through another vault, KeyCacheTTL later")
	for _, bad := range []vault.NewAPIKey{
		{Name: "x", Role: "owner"},
		{Name: "", Role: vault.RoleRead},
		{Name: "x", Role: vault.RoleRead, Environment: "dev"},
		{Name: "x", Role: vault.RoleRead, ExpiresAt: f.Clock.Now().Add(-time.Minute)},
	} {
		bad.SpaceID = f.Space.ID
		_, _, err := f.Vault.CreateAPIKey(ctx, f.Actor, bad)
		wantErr(t, err, vault.ErrInvalid, fmt.Sprintf("CreateAPIKey(%+v)", bad))
	}
}

func testAuditTrail(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m := f.Put(t, "dev", "TOKEN", "t-1")
	f.Clock.Advance(time.Hour)
	if _, err := f.Vault.Reveal(ctx, vault.Actor{KeyID: "key-2", Name: "alice", ClientAddr: "10.0.0.9"}, f.Space.ID, m.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Vault.Record(ctx, vault.Actor{ClientAddr: "10.0.0.66"}, "", "auth", vault.OutcomeDenied, vault.AuditTarget{Reason: "unknown key"}); err != nil {
		t.Fatal(err)
	}
	all, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range all {
		actions = append(actions, ev.Action)
	}
	want := "secrets.resolve secret.reveal secret.create environment.create environment.create collection.create space.create"
	if strings.Join(actions, " ") != want {
		t.Fatalf("audit actions, newest first:\n got %s\nwant %s", strings.Join(actions, " "), want)
	}
	reveal := all[1]
	if reveal.ActorName != "alice" || reveal.ClientAddr != "10.0.0.9" || reveal.Target.Secret != "TOKEN" || reveal.Target.Environment != "dev" || reveal.Outcome != vault.OutcomeOK {
		t.Fatalf("reveal event: %+v", reveal)
	}
	if got := all[0].Target.Secrets; len(got) != 1 || got[0] != "TOKEN" {
		t.Fatalf("resolve event names %v", got)
	}
	byActor, _ := f.Vault.Audit(ctx, vault.AuditQuery{ActorKeyID: "key-2"})
	byAction, _ := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: "secret.create"})
	since, _ := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Since: f.Clock.Now()})
	limited, _ := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 2})
	denied, _ := f.Vault.Audit(ctx, vault.AuditQuery{Action: "auth"})
	if len(byActor) != 1 || len(byAction) != 1 || len(since) != 2 || len(limited) != 2 || len(denied) != 1 || denied[0].Outcome != vault.OutcomeDenied {
		t.Fatalf("filters: actor %d, action %d, since %d, limit %d, denied %d", len(byActor), len(byAction), len(since), len(limited), len(denied))
	}
	f.Clock.Advance(24 * time.Hour)
	n, err := f.Vault.PruneAudit(ctx, 24*time.Hour+30*time.Minute)
	if err != nil || n != 5 {
		t.Fatalf("prune removed %d (%v), want the 5 events older than the retention", n, err)
	}
}

func testSpacesAreIsolated(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m := f.Put(t, "", "MINE", "v")
	other, err := f.Vault.CreateSpace(ctx, f.Actor, "other-team")
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Secret(ctx, other.ID, m.ID, 0)
	wantErr(t, err, vault.ErrNotFound, "a secret read through another space")
	_, err = f.Vault.CreateEnvironment(ctx, f.Actor, other.ID, f.Coll.ID, "dev")
	wantErr(t, err, vault.ErrNotFound, "an environment in another space's collection")
	wantErr(t, f.Vault.DeleteSecret(ctx, f.Actor, other.ID, m.ID, 1), vault.ErrNotFound, "a delete through another space")
	k1, _ := f.Store.SpaceKey(ctx, f.Space.ID)
	k2, _ := f.Store.SpaceKey(ctx, other.ID)
	if string(k1.Blob) == string(k2.Blob) {
		t.Fatal("two spaces share a wrapped data key")
	}
	spaces, _ := f.Store.Spaces(ctx)
	names := []string{}
	for _, s := range spaces {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "acme,other-team" {
		t.Fatalf("spaces = %v", names)
	}
}

// countingWrapper counts unwraps on the way to a real wrapper.
type countingWrapper struct {
	vault.KeyWrapper
	mu      sync.Mutex
	unwraps int
}

func (c *countingWrapper) UnwrapDataKey(ctx context.Context, spaceID string, w vault.WrappedKey) ([]byte, error) {
	c.mu.Lock()
	c.unwraps++
	c.mu.Unlock()
	return c.KeyWrapper.UnwrapDataKey(ctx, spaceID, w)
}

func testKeyCache(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m := f.Put(t, "", "CACHED", "v")
	// A second vault over the same store starts cold; rewrapping to a counting wrapper
	// of the same root key lets it count.
	w, err := localkms.Open(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.Rewrap(ctx, f.Actor, w); err != nil {
		t.Fatal(err)
	}
	counter := &countingWrapper{KeyWrapper: w}
	cold := vault.New(f.Store, counter, vault.Options{Now: f.Clock.Now, KeyCache: vault.KeyCacheOptions{TTL: time.Minute}})
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s, err := cold.Secret(ctx, f.Space.ID, m.ID, 0); err != nil || s.Fields["value"] != "v" {
				t.Errorf("read: %v", err)
			}
		}()
	}
	wg.Wait()
	if counter.unwraps != 1 {
		t.Fatalf("50 concurrent cold reads made %d unwraps, want 1", counter.unwraps)
	}
	f.Clock.Advance(2 * time.Minute)
	if _, err := cold.Secret(ctx, f.Space.ID, m.ID, 0); err != nil {
		t.Fatal(err)
	}
	if counter.unwraps != 2 {
		t.Fatalf("a read after the TTL made %d unwraps in all, want 2", counter.unwraps)
	}
}

// testCachedReadsAreNeverStale: the vault caches sealed rows by collection generation; a
// change through another vault on the same store (another process, in production) must
// show in the very next resolve, and every kind of change must move the generation.
func testCachedReadsAreNeverStale(t *testing.T, f *Fixture) {
	ctx := context.Background()
	w, err := localkms.Open(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.Rewrap(ctx, f.Actor, w); err != nil {
		t.Fatal(err)
	}
	other := vault.New(f.Store, w, vault.Options{Now: f.Clock.Now})
	resolve := func(v *vault.Vault) map[string]string {
		t.Helper()
		vars, err := v.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, v := range vars {
			out[v.Name] = v.Value
		}
		return out
	}
	gen := func() int64 {
		t.Helper()
		c, err := f.Store.Collection(ctx, f.Space.ID, f.Coll.ID)
		if err != nil {
			t.Fatal(err)
		}
		return c.Generation
	}
	g0 := gen()
	m := f.Put(t, "dev", "TOKEN", "one")
	g1 := gen()
	if g1 == g0 {
		t.Fatal("creating a secret did not move the generation")
	}
	if got := resolve(f.Vault)["TOKEN"]; got != "one" {
		t.Fatalf("TOKEN = %q, want one", got)
	}
	resolve(f.Vault) // cached now
	if gen() != g1 {
		t.Fatal("a read moved the generation")
	}
	if _, err := other.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Fields: map[string]string{"value": "two"}}); err != nil {
		t.Fatal(err)
	}
	if got := resolve(f.Vault)["TOKEN"]; got != "two" {
		t.Fatalf("after an update through another vault, TOKEN = %q, want two", got)
	}
	f.Put(t, "", "ADDED", "x")
	if got := resolve(f.Vault); got["ADDED"] != "x" {
		t.Fatalf("a new untagged secret is missing: %v", got)
	}
	if err := other.DeleteSecret(ctx, f.Actor, f.Space.ID, m.ID, 2); err != nil {
		t.Fatal(err)
	}
	if got := resolve(f.Vault); got["TOKEN"] != "" {
		t.Fatalf("a deleted secret still resolves: %v", got)
	}
	f.Put(t, "dev", "DEV_ONLY", "y")
	resolve(f.Vault)
	before := gen()
	if err := other.DeleteEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev"); err != nil {
		t.Fatal(err)
	}
	if gen() == before {
		t.Fatal("deleting an environment did not move the generation")
	}
	list, err := f.Vault.List(ctx, f.Space.ID, "my-saas", "")
	if err != nil || len(list) != 1 || list[0].Name != "ADDED" {
		t.Fatalf("after deleting dev, the list is %+v, %v", list, err)
	}
}
