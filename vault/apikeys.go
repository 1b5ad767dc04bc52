package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault/internal/cache"
)

// APIKeyPrefix starts every API key, so secret scanners can recognise a leaked one.
const APIKeyPrefix = "kzl_"

// apiKeyRandomChars is the number of random base62 characters after the prefix: 43
// characters carry 256 bits.
const apiKeyRandomChars = 43

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// touchEvery limits how often a key's last-used time is written: once a minute is enough
// to answer "is this key still used", and spares a write per request.
const touchEvery = time.Minute

// KeyCacheTTL bounds how long a verified API key is trusted without reading it again: a
// revocation made through another server process on the same database takes effect
// within this time. Revocations through this Vault take effect at once.
const KeyCacheTTL = time.Second

// maxCachedAPIKeys bounds the verified keys held: an entry is a few hundred bytes, so this
// is a few MiB at most, and it is far more keys than are in use within one KeyCacheTTL, so
// a steady workload never misses for want of room. Tokens that fail to verify are not
// cached, so guessing keys cannot fill it.
const maxCachedAPIKeys = 10000

// authCache holds recently verified keys by hash, each trusted for KeyCacheTTL on the
// vault's clock.
type authCache struct {
	c *cache.Cache[string, APIKey]
}

func newAuthCache(now func() time.Time) authCache {
	return authCache{c: cache.New[string, APIKey](maxCachedAPIKeys, KeyCacheTTL, now)}
}

func (a authCache) get(hash []byte) (APIKey, bool) { return a.c.Get(string(hash)) }

func (a authCache) put(k APIKey) { a.c.Add(string(k.Hash), k) }

// forget drops every cached entry of the key keyID, so its revocation holds at once here.
func (a authCache) forget(keyID string) {
	a.c.RemoveFunc(func(k APIKey) bool { return k.ID == keyID })
}

// forgetSpace drops the cached keys of a space, so its deletion holds at once here.
func (a authCache) forgetSpace(spaceID string) {
	a.c.RemoveFunc(func(k APIKey) bool { return k.SpaceID == spaceID })
}

// newAPIKeyToken returns kzl_ followed by 43 uniformly random base62 characters.
func newAPIKeyToken() (string, error) {
	var b strings.Builder
	b.WriteString(APIKeyPrefix)
	buf := make([]byte, 64)
	for b.Len() < len(APIKeyPrefix)+apiKeyRandomChars {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, c := range buf {
			// 248 = 4*62: rejecting larger bytes keeps every character equally likely.
			if c < 248 && b.Len() < len(APIKeyPrefix)+apiKeyRandomChars {
				b.WriteByte(base62[c%62])
			}
		}
	}
	return b.String(), nil
}

// HashAPIKey is how a key is stored and looked up. The keys carry 256 random bits, so a
// fast hash is enough: there is nothing to brute-force.
func HashAPIKey(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// NewAPIKey describes a key to create.
type NewAPIKey struct {
	SpaceID string
	Name    string
	Role    Role
	// Collection and Environment (ids or slugs) restrict the key when set.
	Collection  string
	Environment string
	ExpiresAt   time.Time
}

// CreateAPIKey creates an API key and returns it with the key itself, which is shown
// this once and never stored.
func (v *Vault) CreateAPIKey(ctx context.Context, actor Actor, in NewAPIKey) (APIKey, string, error) {
	if !in.Role.Valid() {
		return APIKey{}, "", fmt.Errorf("%w role %q: use admin, write or read", ErrInvalid, secret.Excerpt(string(in.Role)))
	}
	if in.Name == "" {
		return APIKey{}, "", fmt.Errorf("%w API key name: it is empty; name keys after who uses them (ci-deploy, alice)", ErrInvalid)
	}
	if in.Environment != "" && in.Collection == "" {
		return APIKey{}, "", fmt.Errorf("%w API key: an environment restriction needs a collection", ErrInvalid)
	}
	if !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(v.now()) {
		return APIKey{}, "", fmt.Errorf("%w API key: the expiry is in the past", ErrInvalid)
	}
	var target AuditTarget
	k := APIKey{ID: uuid.NewString(), SpaceID: in.SpaceID, Name: in.Name, Role: in.Role, ExpiresAt: in.ExpiresAt.UTC(), CreatedAt: v.now()}
	if in.Collection != "" {
		c, e, err := v.collectionAndEnv(ctx, in.SpaceID, in.Collection, in.Environment)
		if err != nil {
			return APIKey{}, "", err
		}
		k.CollectionID, k.EnvironmentID = c.ID, e.ID
		target.CollectionID, target.Collection, target.EnvironmentID, target.Environment = c.ID, c.Slug, e.ID, e.Slug
	}
	token, err := newAPIKeyToken()
	if err != nil {
		return APIKey{}, "", fmt.Errorf("generate API key: %w", err)
	}
	k.Hash = HashAPIKey(token)
	k.Prefix = token[:len(APIKeyPrefix)+4]
	target.KeyID, target.Key = k.ID, k.Name
	if err := v.store.CreateAPIKey(ctx, k, v.event(actor, in.SpaceID, "key.create", target)); err != nil {
		return APIKey{}, "", fmt.Errorf("create API key %s: %w", in.Name, err)
	}
	return k, token, nil
}

// Authenticate returns the active key that token is, or an error wrapping
// ErrUnauthenticated. It never says which of unknown, revoked or expired applies beyond
// what the caller may log: the reason is in the error text, the token is not.
func (v *Vault) Authenticate(ctx context.Context, token string) (APIKey, error) {
	if !strings.HasPrefix(token, APIKeyPrefix) || len(token) < len(APIKeyPrefix)+32 || len(token) > 256 {
		return APIKey{}, fmt.Errorf("malformed key (want %s followed by at least 32 characters): %w", APIKeyPrefix, ErrUnauthenticated)
	}
	now := v.now()
	hash := HashAPIKey(token)
	k, cached := v.auth.get(hash)
	if !cached {
		var err error
		k, err = v.store.APIKeyByHash(ctx, hash)
		if errors.Is(err, ErrNotFound) {
			return APIKey{}, fmt.Errorf("unknown key: %w", ErrUnauthenticated)
		}
		if err != nil {
			return APIKey{}, err
		}
		v.auth.put(k)
	}
	switch {
	case !k.RevokedAt.IsZero():
		return k, fmt.Errorf("key %s (%s) was revoked: %w", k.ID, k.Name, ErrUnauthenticated)
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return k, fmt.Errorf("key %s (%s) expired: %w", k.ID, k.Name, ErrUnauthenticated)
	}
	if now.Sub(k.LastUsedAt) >= touchEvery {
		if err := v.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			v.log.Warn("recording API key use", "key", k.ID, "err", err)
		}
		k.LastUsedAt = now
		v.auth.put(k)
	}
	return k, nil
}

// PruneExpiredKeys deletes the keys named with namePrefix that have expired, such as
// those exchanged for identity tokens, which are made by the thousand and useless once
// expired; their creation stays in the audit trail. It reports how many it deleted.
func (v *Vault) PruneExpiredKeys(ctx context.Context, namePrefix string) (int64, error) {
	if namePrefix == "" {
		return 0, fmt.Errorf("%w prune of expired keys: name a prefix, so that keys an admin made stay listed", ErrInvalid)
	}
	return v.store.PruneAPIKeys(ctx, namePrefix, v.now())
}

// APIKeys lists the keys of a space, hashes included (they reveal nothing).
func (v *Vault) APIKeys(ctx context.Context, spaceID string) ([]APIKey, error) {
	return v.store.APIKeys(ctx, spaceID)
}

// RevokeAPIKey revokes a key. It stops working at once through this Vault, and within
// KeyCacheTTL through others on the same database.
func (v *Vault) RevokeAPIKey(ctx context.Context, actor Actor, spaceID, id string) error {
	err := v.store.RevokeAPIKey(ctx, spaceID, id, v.now(), v.event(actor, spaceID, "key.revoke", AuditTarget{KeyID: id}))
	v.auth.forget(id)
	return err
}

// Bootstrap prepares an empty vault on its first start: it creates the first space and an
// admin API key, and returns the key, which is shown this once. On a vault that has a
// space already it does nothing and returns created false.
func (v *Vault) Bootstrap(ctx context.Context, spaceName string) (space Space, token string, created bool, err error) {
	// Replicas starting together on one empty database: one of them creates the space.
	err = v.store.Exclusively(ctx, func(ctx context.Context) error {
		// A server whose spaces were all deleted has had its first start.
		spaces, err := v.store.AllSpaces(ctx)
		if err != nil || len(spaces) > 0 {
			return err
		}
		actor := Actor{Name: "bootstrap"}
		if space, err = v.createSpace(ctx, actor, spaceName); err != nil {
			return err
		}
		_, token, err = v.CreateAPIKey(ctx, actor, NewAPIKey{SpaceID: space.ID, Name: "admin", Role: RoleAdmin})
		created = err == nil
		return err
	})
	if err != nil {
		return Space{}, "", false, err
	}
	return space, token, created, nil
}
