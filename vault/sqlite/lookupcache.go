package sqlite

import (
	"context"
	"sync/atomic"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/cache"
)

// lookupCache answers CollectionAndEnvironment from memory. It is exact because this
// process is the only one using the database (see lockFile): every write goes through
// this Store, and each committed write bumps writes, which retires every entry. An entry
// is labelled with the count read before its query, so a write that lands while the
// query runs retires it too. Resolves then read nothing from SQLite in the steady state,
// which spares them contending with the writer for the WAL index.
type lookupCache struct {
	writes  atomic.Int64
	entries *cache.Cache[lookupKey, lookupEntry]
}

type lookupKey struct{ space, collection, env string }

type lookupEntry struct {
	writes int64
	c      vault.Collection
	e      vault.Environment
}

// maxLookupEntries bounds the collection and environment pairs held: an entry is two small
// records, so this is a few MiB at most, and it covers every pair in use in all but the largest
// vaults. Past it the least recently used pair goes, costing it one query next time.
const maxLookupEntries = 4096

func newLookupCache() *cache.Cache[lookupKey, lookupEntry] {
	return cache.New[lookupKey, lookupEntry](maxLookupEntries, 0, nil)
}

// CollectionAndEnvironment finds a collection and one of its environments, from memory
// when no write has happened since they were read.
func (s *Store) CollectionAndEnvironment(ctx context.Context, spaceID, collection, env string) (vault.Collection, vault.Environment, error) {
	key := lookupKey{spaceID, collection, env}
	seen := s.lookups.writes.Load()
	e, ok := s.lookups.entries.Get(key)
	if ok && e.writes == seen {
		return e.c, e.e, nil
	}
	c, en, err := s.collectionAndEnvironment(ctx, spaceID, collection, env)
	if err != nil {
		return c, en, err
	}
	s.lookups.entries.Add(key, lookupEntry{writes: seen, c: c, e: en})
	return c, en, nil
}
