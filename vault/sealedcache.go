package vault

import (
	"context"
	"sync"

	"github.com/kazzle/kazzle/resolver"
)

// sealedCache keeps the sealed rows of recently resolved environments, so a steady stream
// of resolves reads the collection's row instead of every secret's row. It holds only
// ciphertext, and an entry is used only while the collection's generation, read from the
// store on every call, is the one it was loaded at: a change made through any process
// sharing the database is seen at once.
type sealedCache struct {
	mu      sync.Mutex
	entries map[sealedKey]sealedEntry
}

type sealedKey struct{ space, collection, env string }

type sealedEntry struct {
	generation int64
	rows       []SealedSecret
	// view lists the rows in the environment's view (resolver.ViewOrder), by name.
	view []int
}

// maxSealedEntries bounds the cache; when full it starts over, which costs one query per
// environment in use.
const maxSealedEntries = 4096

// secretsWithFields returns the sealed current versions of a collection's secrets (all,
// or those of an environment: untagged and tagged with it) and the indexes of the ones in
// the environment's view, from the cache when c's generation, as just read from the
// store, still matches. Callers must not modify what it returns.
func (v *Vault) secretsWithFields(ctx context.Context, c Collection, envID string) ([]SealedSecret, []int, error) {
	spaceID, collectionID, gen := c.SpaceID, c.ID, c.Generation
	key := sealedKey{spaceID, collectionID, envID}
	cache := &v.sealed
	cache.mu.Lock()
	e, ok := cache.entries[key]
	cache.mu.Unlock()
	if ok && e.generation == gen {
		return e.rows, e.view, nil
	}
	// gen was read before the rows: rows at least as new as gen are labelled gen, and
	// are used only while the store still says gen, so nothing stale is ever served.
	rows, err := v.store.Secrets(ctx, SecretQuery{SpaceID: spaceID, CollectionID: collectionID, ForEnvironment: envID, WithFields: true})
	if err != nil {
		return nil, nil, err
	}
	view := resolver.ViewOrder(len(rows), func(i int) (string, string) { return rows[i].Name, rows[i].EnvironmentID }, envID)
	cache.mu.Lock()
	if cache.entries == nil || len(cache.entries) >= maxSealedEntries {
		cache.entries = make(map[sealedKey]sealedEntry)
	}
	cache.entries[key] = sealedEntry{generation: gen, rows: rows, view: view}
	cache.mu.Unlock()
	return rows, view, nil
}
