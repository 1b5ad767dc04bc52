package vault

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

// A full API-key cache makes room by dropping the key used least recently: the keys in use
// keep being served from memory, and one more key does not send every client back to the
// database at once.
func TestAFullAPIKeyCacheKeepsTheKeysInUse(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newAuthCache(func() time.Time { return now })
	key := func(i int) APIKey {
		h := sha256.Sum256(fmt.Appendf(nil, "token-%d", i))
		return APIKey{ID: fmt.Sprintf("key-%d", i), Hash: h[:]}
	}
	for i := range maxCachedAPIKeys {
		c.put(key(i))
	}
	if _, ok := c.get(key(0).Hash); !ok {
		t.Fatal("a key was dropped before the cache was full")
	}
	c.put(key(maxCachedAPIKeys)) // one past the bound: key 1 is the least recently used
	if k, ok := c.get(key(0).Hash); !ok || k.ID != "key-0" {
		t.Fatal("the key used most recently was dropped when the cache filled")
	}
	if k, ok := c.get(key(maxCachedAPIKeys).Hash); !ok || k.ID != fmt.Sprintf("key-%d", maxCachedAPIKeys) {
		t.Fatal("the newest key is not cached")
	}
	if _, ok := c.get(key(1).Hash); ok {
		t.Fatal("the key used least recently is still cached past the bound")
	}
	if got := c.c.Len(); got != maxCachedAPIKeys {
		t.Fatalf("%d keys cached, want the bound %d", got, maxCachedAPIKeys)
	}
}

// Revoking a key drops every cached entry of it and nothing else.
func TestARevokedKeyLeavesTheCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newAuthCache(func() time.Time { return now })
	a := APIKey{ID: "a", Hash: []byte("hash-a")}
	b := APIKey{ID: "b", Hash: []byte("hash-b")}
	c.put(a)
	c.put(b)
	c.forget("a")
	if _, ok := c.get(a.Hash); ok {
		t.Error("a revoked key is still cached")
	}
	if _, ok := c.get(b.Hash); !ok {
		t.Error("revoking one key dropped another")
	}
	// Trust lasts KeyCacheTTL on the vault's clock.
	now = now.Add(KeyCacheTTL)
	if _, ok := c.get(b.Hash); ok {
		t.Error("a key was trusted for KeyCacheTTL or longer")
	}
}
