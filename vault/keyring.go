package vault

import (
	"context"
	"crypto/cipher"
	"fmt"
	"sync"
	"time"

	"github.com/kazzle/kazzle/vault/internal/cache"
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
	// MaxKeys caps how many spaces' keys are held at once (default 10,000); when full, the
	// least recently used key goes.
	MaxKeys int
}

// defaultKeyTTL bounds how long a data key stays in memory after one KMS call: long enough
// that a steady workload costs a KMS call per space every few minutes, short enough that
// a root key disabled in KMS stops this process within minutes.
const defaultKeyTTL = 10 * time.Minute

// defaultMaxKeys bounds the unwrapped keys held: one AES-GCM instance (well under 1 KiB)
// per space, so 10,000 spaces cost a few MiB, and a deployment with more spaces than that
// in steady use pays one KMS call per space per eviction, not an outage.
const defaultMaxKeys = 10000

// keyring caches the AES-GCM instance of each space's data key for a bounded time, so a
// steady workload makes one KMS call per space per TTL rather than one per request.
// Concurrent misses for one space share a single unwrap.
type keyring struct {
	keys *cache.Loader[cipher.AEAD]

	mu      sync.Mutex
	wrapper KeyWrapper
}

func newKeyring(w KeyWrapper, o KeyCacheOptions, now func() time.Time) *keyring {
	if o.TTL <= 0 {
		o.TTL = defaultKeyTTL
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = defaultMaxKeys
	}
	return &keyring{keys: cache.NewLoader[cipher.AEAD](o.MaxKeys, o.TTL, now), wrapper: w}
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

// cached returns the cipher of a space's data key if the cache holds it.
func (k *keyring) cached(spaceID string) (cipher.AEAD, bool) { return k.keys.Get(spaceID) }

// aead returns the cipher of a space's data key, unwrapping the key that load returns
// when the cache has none (or an expired one).
func (k *keyring) aead(ctx context.Context, spaceID string, load func(context.Context) (WrappedKey, error)) (cipher.AEAD, error) {
	return k.keys.Load(ctx, spaceID, func(ctx context.Context) (cipher.AEAD, error) {
		return unwrap(ctx, k.keyWrapper(), spaceID, load)
	})
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
	k.keys.Add(spaceID, aead)
	return nil
}
