package vault_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/localkms"
	"github.com/kazzle/kazzle/vault/storetest"
)

// unwrapCounter counts unwraps on the way to a real wrapper.
type unwrapCounter struct {
	vault.KeyWrapper
	mu      sync.Mutex
	unwraps int
}

func (c *unwrapCounter) UnwrapDataKey(ctx context.Context, spaceID string, w vault.WrappedKey) ([]byte, error) {
	c.mu.Lock()
	c.unwraps++
	c.mu.Unlock()
	return c.KeyWrapper.UnwrapDataKey(ctx, spaceID, w)
}

func (c *unwrapCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unwraps
}

// A full data-key cache makes room by dropping the key used least recently, so a space in
// constant use keeps its key however long ago it was first unwrapped.
func TestAFullDataKeyCacheEvictsTheLeastRecentlyUsedSpace(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, t.TempDir())
	defer store.Close()
	f := storetest.NewFixture(t, store, vault.Options{})
	w, err := localkms.Open(filepath.Join(t.TempDir(), "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	// Three spaces, each with one secret, all under w.
	secrets := map[string]string{} // space name → secret id
	spaces := map[string]string{}  // space name → space id
	for _, name := range []string{"a", "b", "c"} {
		s, err := f.Vault.CreateSpace(ctx, f.Actor, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Vault.CreateCollection(ctx, f.Actor, s.ID, "app", ""); err != nil {
			t.Fatal(err)
		}
		m, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: s.ID, Collection: "app", Name: "S", Fields: map[string]string{"value": "v-" + name}})
		if err != nil {
			t.Fatal(err)
		}
		spaces[name], secrets[name] = s.ID, m.ID
	}
	if _, err := f.Vault.Rewrap(ctx, f.Actor, w); err != nil {
		t.Fatal(err)
	}
	counter := &unwrapCounter{KeyWrapper: w}
	cold := vault.New(store, counter, vault.Options{Now: f.Clock.Now, KeyCache: vault.KeyCacheOptions{MaxKeys: 2}})
	read := func(name string) {
		t.Helper()
		s, err := cold.Secret(ctx, spaces[name], secrets[name], 0)
		if err != nil || s.Fields["value"] != "v-"+name {
			t.Fatalf("read in space %s: %v", name, err)
		}
	}
	read("a")
	read("b")
	read("a") // a is now the most recently used
	read("c") // the cache is full: b goes
	if got := counter.count(); got != 3 {
		t.Fatalf("%d unwraps for three spaces, want 3", got)
	}
	read("a")
	if got := counter.count(); got != 3 {
		t.Fatalf("the space used most recently lost its key when the cache filled (%d unwraps, want 3)", got)
	}
	read("b")
	if got := counter.count(); got != 4 {
		t.Fatalf("the space used least recently kept its key past the bound (%d unwraps, want 4)", got)
	}
}
