// Package cache is the vault's one in-memory cache: a fixed number of entries, the least
// recently used evicted first when it is full, each entry optionally trusted only for a
// time measured by the caller's clock, and concurrent misses for one key sharing one load.
//
// It starts no goroutine and reads no clock of its own: a test that moves the vault's
// clock moves every expiry with it, and a cache dropped by its owner leaves nothing
// running.
package cache

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"
)

// Cache maps keys to values, holding at most its size. It is safe for concurrent use.
type Cache[K comparable, V any] struct {
	lru *lru.Cache[K, entry[V]]
	ttl time.Duration
	now func() time.Time
	// With weight set (NewWeighted), the entries' weights total at most maxWeight.
	weight    func(V) int64
	maxWeight int64
	total     atomic.Int64
}

type entry[V any] struct {
	v      V
	loaded time.Time
}

// New returns a cache of at most size entries. With ttl > 0 an entry is trusted until ttl
// has passed on now since it was added, and not at all once now reads earlier than when
// it was added (a clock set back); with ttl 0 entries never expire and now may be nil.
// size must be positive: the bounds are constants of the callers.
func New[K comparable, V any](size int, ttl time.Duration, now func() time.Time) *Cache[K, V] {
	l, err := lru.New[K, entry[V]](size)
	if err != nil {
		panic(fmt.Sprintf("cache: size %d: %v", size, err))
	}
	if ttl > 0 && now == nil {
		now = time.Now
	}
	return &Cache[K, V]{lru: l, ttl: ttl, now: now}
}

// NewWeighted returns a cache of at most size entries whose weights, as weight gives
// them (their size in bytes, say), total at most maxWeight: past it the least recently
// used entries go, and a value heavier than maxWeight on its own is not kept. Entries
// never expire.
func NewWeighted[K comparable, V any](size int, maxWeight int64, weight func(V) int64) *Cache[K, V] {
	c := &Cache[K, V]{weight: weight, maxWeight: maxWeight}
	l, err := lru.NewWithEvict(size, func(_ K, e entry[V]) { c.total.Add(-weight(e.v)) })
	if err != nil {
		panic(fmt.Sprintf("cache: size %d: %v", size, err))
	}
	c.lru = l
	return c
}

// Get returns the value of key, if present and not expired, and marks it recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	e, ok := c.lru.Get(key)
	if !ok || c.expired(e.loaded) {
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *Cache[K, V]) expired(loaded time.Time) bool {
	if c.ttl <= 0 {
		return false
	}
	now := c.now()
	return now.Before(loaded) || now.Sub(loaded) >= c.ttl
}

// Add sets the value of key, loaded now, evicting the least recently used entry when the
// cache is full.
func (c *Cache[K, V]) Add(key K, v V) {
	var loaded time.Time
	if c.ttl > 0 {
		loaded = c.now()
	}
	if c.weight == nil {
		c.lru.Add(key, entry[V]{v: v, loaded: loaded})
		return
	}
	c.lru.Remove(key) // its weight leaves the total through the eviction callback
	w := c.weight(v)
	if w > c.maxWeight {
		return
	}
	c.total.Add(w)
	c.lru.Add(key, entry[V]{v: v, loaded: loaded})
	for c.total.Load() > c.maxWeight {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// Remove drops key.
func (c *Cache[K, V]) Remove(key K) { c.lru.Remove(key) }

// RemoveFunc drops every entry whose value drop reports true. It visits every entry: it
// is for rare events (a revocation), not for a request's path.
func (c *Cache[K, V]) RemoveFunc(drop func(V) bool) {
	for _, k := range c.lru.Keys() {
		if e, ok := c.lru.Peek(k); ok && drop(e.v) {
			c.lru.Remove(k)
		}
	}
}

// Len is the number of entries held, expired ones included until they are evicted or
// replaced.
func (c *Cache[K, V]) Len() int { return c.lru.Len() }

// Loader is a Cache of string keys that fills itself: concurrent misses for one key share
// one call of the load function.
type Loader[V any] struct {
	*Cache[string, V]
	flight singleflight.Group
}

// NewLoader returns a Loader with New's size, ttl and clock.
func NewLoader[V any](size int, ttl time.Duration, now func() time.Time) *Loader[V] {
	return &Loader[V]{Cache: New[string, V](size, ttl, now)}
}

// Load returns the value of key from the cache, or from load on a miss. Callers that miss
// while a load of the same key is under way wait for it and share its result, each for no
// longer than its own ctx allows; the load runs with the ctx of the caller that started
// it. A value is cached only when load succeeds: an error reaches the callers that shared
// the load, and the next miss loads again.
func (l *Loader[V]) Load(ctx context.Context, key string, load func(context.Context) (V, error)) (V, error) {
	if v, ok := l.Get(key); ok {
		return v, nil
	}
	ch := l.flight.DoChan(key, func() (any, error) {
		// A load that finished between this caller's miss and its joining the flight
		// has filled the cache: use it rather than loading twice.
		if v, ok := l.Get(key); ok {
			return v, nil
		}
		v, err := load(ctx)
		if err != nil {
			return nil, err
		}
		l.Add(key, v)
		return v, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			var zero V
			return zero, r.Err
		}
		return r.Val.(V), nil
	case <-ctx.Done():
		select {
		case r := <-ch: // finished as ctx ended: the result is as good as ever
			if r.Err == nil {
				return r.Val.(V), nil
			}
		default:
		}
		var zero V
		return zero, ctx.Err()
	}
}
