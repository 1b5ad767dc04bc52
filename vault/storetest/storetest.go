// Package storetest is the test suite every vault.Store implementation must pass. The
// SQLite and PostgreSQL back ends both run it: the same tests, not copies.
package storetest

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

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
	// Wrapper wraps the data keys of Vault's spaces.
	Wrapper vault.KeyWrapper
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
	f := &Fixture{Vault: vault.New(store, w, o), Store: store, Wrapper: w, Actor: vault.Actor{KeyID: "key-1", Name: "tester", ClientAddr: "127.0.0.1"}, Clock: clock}
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
		{"ExpansionIsCapped", testExpansionIsCapped},
		{"ReadsNameEverySecretReferencesRead", testReadsNameEverySecretReferencesRead},
		{"InputLimits", testInputLimits},
		{"SessionsHoldNoKeyAndEndServerSide", testSessionsHoldNoKeyAndEndServerSide},
		{"SessionsExpireAndArePruned", testSessionsExpireAndArePruned},
		{"SessionsPerKeyAreCapped", testSessionsPerKeyAreCapped},
		{"ExpiredKeysArePruned", testExpiredKeysArePruned},
		{"HostsAreStoredPerVersion", testHostsAreStoredPerVersion},
		{"WideningHostsNeedsAnAdmin", testWideningHostsNeedsAnAdmin},
		{"BindingIsInheritedThroughReferences", testBindingIsInheritedThroughReferences},
		{"EntryLifecycle", testEntryLifecycle},
		{"EntryUpdatesTheSecret", testEntryUpdatesTheSecret},
		{"EntriesExpireAndCancel", testEntriesExpireAndCancel},
		{"ACancelWaitsForAFillUnderWay", testACancelWaitsForAFillUnderWay},
		{"EntryInputIsChecked", testEntryInputIsChecked},
		{"PendingEntriesPerKeyAreCapped", testPendingEntriesPerKeyAreCapped},
		{"OneFillWins", testOneFillWins},
		{"WaitEndsWhenTheEntryIsFilled", testWaitEndsWhenTheEntryIsFilled},
		{"DeletingAnEnvironmentWithLimitedKeys", testDeletingAnEnvironmentWithLimitedKeys},
		{"RenamingAnEnvironment", testRenamingAnEnvironment},
		{"SpaceNamesAreSlugsNeverReused", testSpaceNamesAreSlugsNeverReused},
		{"DeletingASpaceRemovesEverythingOfIt", testDeletingASpaceRemovesEverythingOfIt},
		{"SpacesAreCapped", testSpacesAreCapped},
		{"SpaceNamesAreCapped", testSpaceNamesAreCapped},
		{"ConcurrentCreatesOfOneNameMakeOneSpace", testConcurrentCreatesOfOneNameMakeOneSpace},
		{"TheSpaceCapHoldsUnderConcurrentCreates", testTheSpaceCapHoldsUnderConcurrentCreates},
		{"OperatorKeysAndRecovery", testOperatorKeysAndRecovery},
		{"RacingOperatorKeyRotationsLeaveOne", testRacingOperatorKeyRotationsLeaveOne},
		{"DiffComparesInsideTheVault", testDiffComparesInsideTheVault},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := open(t)
			t.Cleanup(func() { store.Close() })
			tc.fn(t, NewFixture(t, store, vault.Options{}))
		})
	}
	t.Run("FirstStartCreatesOneSpace", func(t *testing.T) {
		store := open(t)
		t.Cleanup(func() { store.Close() })
		testFirstStartCreatesOneSpace(t, store)
	})
}

// testFirstStartCreatesOneSpace bootstraps an empty store from several goroutines at
// once: one creates the space and its admin key, the others find it there.
func testFirstStartCreatesOneSpace(t *testing.T, store vault.Store) {
	w, err := localkms.Open(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(store, w, vault.Options{})
	var wg sync.WaitGroup
	var created sync.Map
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, token, ok, err := v.Bootstrap(context.Background(), "default")
			if err != nil {
				t.Error(err)
			}
			if ok {
				created.Store(i, token)
			}
		}()
	}
	wg.Wait()
	n := 0
	created.Range(func(_, _ any) bool { n++; return true })
	spaces, err := store.Spaces(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || len(spaces) != 1 {
		t.Fatalf("%d bootstraps created a space and %d spaces exist, want 1 and 1", n, len(spaces))
	}
}

func wantErr(t *testing.T, err, target error, what string) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
}
