package storetest

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/localkms"
)

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
	other := "x" // a last character other than the key's own, or a key ending in x would pass (1 run in 62)
	if strings.HasSuffix(token, other) {
		other = "y"
	}
	_, err = f.Vault.Authenticate(ctx, token[:len(token)-1]+other)
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
	replica := vault.New(f.Store, w, vault.Options{Now: f.Clock.Now})
	if err := replica.RevokeAPIKey(ctx, f.Actor, f.Space.ID, k3.ID); err != nil {
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
	want := "secrets.resolve secret.reveal secret.create environment.create environment.create collection.create"
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
	byActor, err := f.Vault.Audit(ctx, vault.AuditQuery{ActorKeyID: "key-2"})
	if err != nil {
		t.Fatal(err)
	}
	byAction, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: "secret.create"})
	if err != nil {
		t.Fatal(err)
	}
	since, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Since: f.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	limited, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	denied, err := f.Vault.Audit(ctx, vault.AuditQuery{Action: "auth"})
	if err != nil {
		t.Fatal(err)
	}
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
	k1, err := f.Store.SpaceKey(ctx, f.Space.ID)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := f.Store.SpaceKey(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if string(k1.Blob) == string(k2.Blob) {
		t.Fatal("two spaces share a wrapped data key")
	}
	spaces, err := f.Store.Spaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
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
	if err := other.DeleteEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev", false); err != nil {
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
