package sqlite

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/kazzle/kazzle/vault"
)

// lookupCache answers CollectionAndEnvironment from memory. It is exact because this
// process is the only one using the database (see lockFile): every write goes through
// this Store, and each committed write bumps writes, which retires every entry. An entry
// is labelled with the count read before its query, so a write that lands while the
// query runs retires it too. Resolves then read nothing from SQLite in the steady state,
// which spares them contending with the writer for the WAL index.
type lookupCache struct {
	writes  atomic.Int64
	mu      sync.Mutex
	entries map[lookupKey]lookupEntry
}

type lookupKey struct{ space, collection, env string }

type lookupEntry struct {
	writes int64
	c      vault.Collection
	e      vault.Environment
}

const maxLookupEntries = 4096

// CollectionAndEnvironment finds a collection and one of its environments, from memory
// when no write has happened since they were read.
func (s *Store) CollectionAndEnvironment(ctx context.Context, spaceID, collection, env string) (vault.Collection, vault.Environment, error) {
	key := lookupKey{spaceID, collection, env}
	seen := s.lookups.writes.Load()
	s.lookups.mu.Lock()
	e, ok := s.lookups.entries[key]
	s.lookups.mu.Unlock()
	if ok && e.writes == seen {
		return e.c, e.e, nil
	}
	c, en, err := s.collectionAndEnvironment(ctx, spaceID, collection, env)
	if err != nil {
		return c, en, err
	}
	s.lookups.mu.Lock()
	if s.lookups.entries == nil || len(s.lookups.entries) >= maxLookupEntries {
		s.lookups.entries = make(map[lookupKey]lookupEntry)
	}
	s.lookups.entries[key] = lookupEntry{writes: seen, c: c, e: en}
	s.lookups.mu.Unlock()
	return c, en, nil
}
