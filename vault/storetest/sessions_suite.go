package storetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"testing"
	"time"

	"github.com/kazzle/kazzle/vault"
)

// signIn starts a session of a new key with role, failing the test on error.
func signIn(t *testing.T, f *Fixture, in vault.NewAPIKey) (vault.APIKey, string, string) {
	t.Helper()
	ctx := context.Background()
	in.SpaceID = f.Space.ID
	k, token, err := f.Vault.CreateAPIKey(ctx, f.Actor, in)
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := f.Vault.StartSession(ctx, f.Actor, k, "ui.signin")
	if err != nil {
		t.Fatal(err)
	}
	return k, token, id
}

// testSessionsHoldNoKeyAndEndServerSide: a session id is 256 random bits in base64url,
// not the key; the store holds its hash alone; ending it, revoking or expiring its key,
// or its own expiry makes it refused, and dead sessions are deleted.
func testSessionsHoldNoKeyAndEndServerSide(t *testing.T, f *Fixture) {
	ctx := context.Background()
	k, token, id := signIn(t, f, vault.NewAPIKey{Name: "alice", Role: vault.RoleAdmin})
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) != 32 || id == token {
		t.Fatalf("session id of %d characters is not 256 bits of base64url, or is the key", len(id))
	}
	stored, sk, err := f.Store.SessionByHash(ctx, vault.HashSessionID(id))
	if err != nil || sk.ID != k.ID || bytes.Contains(stored.Hash, []byte(id)) || !stored.ExpiresAt.Equal(f.Clock.Now().Add(vault.SessionLifetime)) {
		t.Fatalf("stored session %+v of key %s, %v", stored, sk.ID, err)
	}
	got, err := f.Vault.SessionKey(ctx, id)
	if err != nil || got.ID != k.ID || got.Role != vault.RoleAdmin {
		t.Fatalf("SessionKey = %+v, %v", got, err)
	}
	other := "A"
	if id[len(id)-1] == 'A' {
		other = "B"
	}
	for what, bad := range map[string]string{"unknown id": id[:len(id)-1] + other, "short id": id[:20], "not base64url": id[:len(id)-1] + "+", "the API key": token} {
		if _, err := f.Vault.SessionKey(ctx, bad); !errors.Is(err, vault.ErrUnauthenticated) {
			t.Fatalf("%s: err = %v", what, err)
		}
	}

	// Ending it: refused at once, and an unknown id ends nothing and is no error.
	if err := f.Vault.EndSession(ctx, f.Actor, f.Space.ID, id, "ui.signout"); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.SessionKey(ctx, id)
	wantErr(t, err, vault.ErrUnauthenticated, "an ended session")
	if err := f.Vault.EndSession(ctx, f.Actor, f.Space.ID, id, "ui.signout"); err != nil {
		t.Fatalf("ending an ended session: %v", err)
	}

	// Revoking the key ends its sessions, and deletes them.
	id2, _, err := f.Vault.StartSession(ctx, f.Actor, k, "ui.signin")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Vault.RevokeAPIKey(ctx, f.Actor, f.Space.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.SessionKey(ctx, id2)
	wantErr(t, err, vault.ErrUnauthenticated, "a session of a revoked key")
	_, _, err = f.Store.SessionByHash(ctx, vault.HashSessionID(id2))
	wantErr(t, err, vault.ErrNotFound, "the session of a revoked key in the store")

	// A key that expires takes its sessions with it.
	_, _, id3 := signIn(t, f, vault.NewAPIKey{Name: "brief", Role: vault.RoleRead, ExpiresAt: f.Clock.Now().Add(time.Hour)})
	if _, err := f.Vault.SessionKey(ctx, id3); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(time.Hour)
	_, err = f.Vault.SessionKey(ctx, id3)
	wantErr(t, err, vault.ErrUnauthenticated, "a session of an expired key")
}

// testSessionsExpireAndArePruned: a session lasts SessionLifetime; an expired one is
// refused, and the next sign-in deletes every expired session.
func testSessionsExpireAndArePruned(t *testing.T, f *Fixture) {
	ctx := context.Background()
	k, _, id := signIn(t, f, vault.NewAPIKey{Name: "alice", Role: vault.RoleWrite})
	_, _, idle := signIn(t, f, vault.NewAPIKey{Name: "bob", Role: vault.RoleRead})
	f.Clock.Advance(vault.SessionLifetime - time.Second)
	if _, err := f.Vault.SessionKey(ctx, id); err != nil {
		t.Fatalf("a session a second before its expiry: %v", err)
	}
	f.Clock.Advance(time.Second)
	_, err := f.Vault.SessionKey(ctx, id)
	wantErr(t, err, vault.ErrUnauthenticated, "an expired session")
	if _, _, err := f.Store.SessionByHash(ctx, vault.HashSessionID(idle)); err != nil {
		t.Fatalf("an expired session no request asked for is there until a sign-in: %v", err)
	}
	if _, _, err := f.Vault.StartSession(ctx, f.Actor, k, "ui.signin"); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.Store.SessionByHash(ctx, vault.HashSessionID(idle))
	wantErr(t, err, vault.ErrNotFound, "an expired session after a sign-in")
}

// testSessionsPerKeyAreCapped: a key keeps at most MaxSessionsPerKey live sessions; the
// sign-in past the cap ends the oldest, and no other key's.
func testSessionsPerKeyAreCapped(t *testing.T, f *Fixture) {
	ctx := context.Background()
	k, _, first := signIn(t, f, vault.NewAPIKey{Name: "alice", Role: vault.RoleAdmin})
	_, _, others := signIn(t, f, vault.NewAPIKey{Name: "bob", Role: vault.RoleAdmin})
	ids := []string{first}
	for len(ids) < vault.MaxSessionsPerKey {
		id, _, err := f.Vault.StartSession(ctx, f.Actor, k, "ui.signin")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		if _, err := f.Vault.SessionKey(ctx, id); err != nil {
			t.Fatalf("session %d of %d (at the cap): %v", i+1, len(ids), err)
		}
	}
	if _, _, err := f.Vault.StartSession(ctx, f.Actor, k, "ui.signin"); err != nil {
		t.Fatal(err)
	}
	_, err := f.Vault.SessionKey(ctx, first)
	wantErr(t, err, vault.ErrUnauthenticated, "the oldest session past the cap")
	for i, id := range ids[1:] {
		if _, err := f.Vault.SessionKey(ctx, id); err != nil {
			t.Fatalf("session %d past the cap: %v", i+2, err)
		}
	}
	if _, err := f.Vault.SessionKey(ctx, others); err != nil {
		t.Fatalf("another key's session: %v", err)
	}
}

// testExpiredKeysArePruned: a prune deletes the expired keys of its name prefix, in
// every space, with their sessions, and leaves the live ones, those without an expiry
// and those of other names, however expired.
func testExpiredKeysArePruned(t *testing.T, f *Fixture) {
	ctx := context.Background()
	now := f.Clock.Now()
	other, err := f.Vault.CreateSpace(ctx, f.Actor, "globex")
	if err != nil {
		t.Fatal(err)
	}
	mk := func(spaceID, name string, expires time.Time) vault.APIKey {
		k, _, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: spaceID, Name: name, Role: vault.RoleRead, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	gone := []vault.APIKey{mk(f.Space.ID, "oidc:github:a", now.Add(time.Minute)), mk(other.ID, "oidc:gitlab:b", now.Add(time.Minute))}
	live := mk(f.Space.ID, "oidc:github:c", now.Add(time.Hour))
	manual := mk(f.Space.ID, "ci-oidc:x", now.Add(time.Minute))
	forever := mk(f.Space.ID, "oidc:admin-made", time.Time{})
	_, _, sessionID := signIn(t, f, vault.NewAPIKey{Name: "oidc:github:s", Role: vault.RoleRead, ExpiresAt: now.Add(time.Minute)})

	if n, err := f.Vault.PruneExpiredKeys(ctx, "oidc:"); err != nil || n != 0 {
		t.Fatalf("prune before any expiry: %d, %v", n, err)
	}
	f.Clock.Advance(time.Minute)
	if n, err := f.Vault.PruneExpiredKeys(ctx, "oidc:"); err != nil || n != 3 {
		t.Fatalf("prune at the expiry: %d keys, %v; want 3", n, err)
	}
	left := map[string]bool{}
	for _, space := range []string{f.Space.ID, other.ID} {
		keys, err := f.Vault.APIKeys(ctx, space)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			left[k.Name] = true
		}
	}
	for _, k := range gone {
		if left[k.Name] {
			t.Errorf("expired key %s is still there", k.Name)
		}
	}
	for _, k := range []vault.APIKey{live, manual, forever} {
		if !left[k.Name] {
			t.Errorf("key %s was deleted", k.Name)
		}
	}
	_, _, err = f.Store.SessionByHash(ctx, vault.HashSessionID(sessionID))
	wantErr(t, err, vault.ErrNotFound, "the session of a pruned key")
	if _, err := f.Vault.PruneExpiredKeys(ctx, ""); err == nil {
		t.Fatal("a prune without a prefix passed")
	}
}
