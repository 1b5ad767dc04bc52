package vault

import (
	"context"
	"crypto/cipher"
	"fmt"
	"sync"
	"time"
)

// WrappedKey is a space's data key as a key-management service wrapped it.
type WrappedKey struct {
	// KeyID names the wrapping key, fully resolved (an ARN for AWS KMS), so the key that
	// can unwrap it is never in doubt.
	KeyID string
	Blob  []byte
}

// KeyWrapper generates and wraps data keys under a root key it never reveals: a local key
// file (vault/localkms) or AWS KMS (vault/awskms). spaceID is bound to every wrapped key,
// so a wrapped key copied to another space does not unwrap.
type KeyWrapper interface {
	// KeyID names the key that new wraps are made under, as WrappedKey.KeyID records it.
	KeyID(ctx context.Context) (string, error)
	// GenerateDataKey returns a new 256-bit data key and its wrapped form.
	GenerateDataKey(ctx context.Context, spaceID string) (plaintext []byte, wrapped WrappedKey, err error)
	// UnwrapDataKey recovers the data key from its wrapped form.
	UnwrapDataKey(ctx context.Context, spaceID string, wrapped WrappedKey) ([]byte, error)
	// WrapDataKey wraps an existing data key: how keys move to a new root key.
	WrapDataKey(ctx context.Context, spaceID string, plaintext []byte) (WrappedKey, error)
}

// KeyCacheOptions bound the in-memory cache of unwrapped data keys.
type KeyCacheOptions struct {
	// TTL is how long an unwrapped key is used before it is unwrapped again (default 10m).
	TTL time.Duration
	// MaxKeys caps how many spaces' keys are held at once (default 10,000).
	MaxKeys int
}

// keyring caches the AES-GCM instance of each space's data key for a bounded time, so a
// steady workload makes one KMS call per space per TTL rather than one per request.
// Concurrent misses for one space share a single unwrap.
type keyring struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	wrapper KeyWrapper
	entries map[string]*keyEntry
}

type keyEntry struct {
	ready   chan struct{} // closed when aead or err is set
	aead    cipher.AEAD
	err     error
	expires time.Time
}

func newKeyring(w KeyWrapper, o KeyCacheOptions, now func() time.Time) *keyring {
	if o.TTL <= 0 {
		o.TTL = 10 * time.Minute
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 10000
	}
	return &keyring{ttl: o.TTL, max: o.MaxKeys, now: now, wrapper: w, entries: make(map[string]*keyEntry)}
}

func (k *keyring) keyWrapper() KeyWrapper {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.wrapper
}

func (k *keyring) setWrapper(w KeyWrapper) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.wrapper = w
}

// aead returns the cipher of a space's data key, unwrapping the key that load returns
// when the cache has none (or an expired one).
func (k *keyring) aead(ctx context.Context, spaceID string, load func(context.Context) (WrappedKey, error)) (cipher.AEAD, error) {
	k.mu.Lock()
	e, ok := k.entries[spaceID]
	if ok {
		select {
		case <-e.ready:
			if e.err != nil || !k.now().Before(e.expires) {
				ok = false
			}
		default: // another goroutine is unwrapping; wait for it below
		}
	}
	if !ok {
		e = &keyEntry{ready: make(chan struct{})}
		k.evictLocked()
		k.entries[spaceID] = e
		w := k.wrapper
		k.mu.Unlock()
		e.aead, e.err = unwrap(ctx, w, spaceID, load)
		e.expires = k.now().Add(k.ttl)
		close(e.ready)
		if e.err != nil {
			return nil, e.err
		}
		return e.aead, nil
	}
	k.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if e.err != nil {
		return nil, e.err
	}
	return e.aead, nil
}

func unwrap(ctx context.Context, w KeyWrapper, spaceID string, load func(context.Context) (WrappedKey, error)) (cipher.AEAD, error) {
	wrapped, err := load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load data key of space %s: %w", spaceID, err)
	}
	key, err := w.UnwrapDataKey(ctx, spaceID, wrapped)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key of space %s: %w", spaceID, err)
	}
	defer clear(key)
	return newAEAD(key)
}

// put caches a data key the caller already has in plaintext (a space just created).
func (k *keyring) put(spaceID string, key []byte) error {
	aead, err := newAEAD(key)
	if err != nil {
		return err
	}
	e := &keyEntry{ready: make(chan struct{}), aead: aead, expires: k.now().Add(k.ttl)}
	close(e.ready)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.evictLocked()
	k.entries[spaceID] = e
	return nil
}

// evictLocked makes room for one entry: expired ones go first, then the soonest to expire.
func (k *keyring) evictLocked() {
	if len(k.entries) < k.max {
		return
	}
	now := k.now()
	var oldestID string
	var oldest time.Time
	for id, e := range k.entries {
		select {
		case <-e.ready:
		default:
			continue // in flight
		}
		if !now.Before(e.expires) {
			delete(k.entries, id)
			continue
		}
		if oldestID == "" || e.expires.Before(oldest) {
			oldestID, oldest = id, e.expires
		}
	}
	if len(k.entries) >= k.max && oldestID != "" {
		delete(k.entries, oldestID)
	}
}
