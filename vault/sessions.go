package vault

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// A session is a sign-in to the admin UI. Its id is what the browser's cookie holds: 256
// random bits, base64url, made anew at every sign-in and never the API key. The store
// keeps only the id's SHA-256 hash, with the id of the key signed in with, so every
// replica on the database sees the same sessions, a copied database holds no usable id,
// and the key is looked up afresh on every request: revoking or expiring the key ends
// its sessions at once.
const (
	// SessionLifetime is how long a session lasts from its sign-in.
	SessionLifetime = 12 * time.Hour
	// MaxSessionsPerKey caps the live sessions of one API key: a sign-in past it ends
	// the oldest, so a key cannot fill the store by signing in again and again.
	MaxSessionsPerKey = 16
	// sessionIDBytes is the randomness of a session id: 256 bits.
	sessionIDBytes = 32
)

// sessionIDLen is the length of a session id in unpadded base64url.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(sessionIDBytes)

// Session is a stored admin UI session: the hash of its id, never the id itself.
type Session struct {
	Hash      []byte
	KeyID     string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// HashSessionID is how a session id is stored and looked up. Ids carry 256 random bits,
// so a fast hash is enough.
func HashSessionID(id string) []byte {
	h := sha256.Sum256([]byte("kazzle ui session\x00" + id))
	return h[:]
}

// StartSession signs key in to the admin UI: it stores a new session, records the
// sign-in as event action in the same transaction, and returns the session id, which
// is given to the browser and never stored. It prunes expired sessions first, so the
// sessions table holds at most the live ones plus those expired since the last sign-in.
func (v *Vault) StartSession(ctx context.Context, actor Actor, key APIKey, action string) (string, Session, error) {
	now := v.now()
	if _, err := v.store.PruneSessions(ctx, now); err != nil {
		return "", Session{}, fmt.Errorf("prune expired sessions: %w", err)
	}
	raw := make([]byte, sessionIDBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", Session{}, fmt.Errorf("generate session id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	s := Session{Hash: HashSessionID(id), KeyID: key.ID, CreatedAt: now, ExpiresAt: now.Add(SessionLifetime)}
	if err := v.store.CreateSession(ctx, s, MaxSessionsPerKey, v.event(actor, key.SpaceID, action, AuditTarget{KeyID: key.ID})); err != nil {
		return "", Session{}, fmt.Errorf("store session of key %s: %w", key.ID, err)
	}
	return id, s, nil
}

// SessionKey returns the active API key a session was started with, or an error
// wrapping ErrUnauthenticated when the id is malformed or unknown, the session has
// expired or been ended, or its key is revoked or expired. A session found dead is
// deleted. The error never holds the id.
func (v *Vault) SessionKey(ctx context.Context, id string) (APIKey, error) {
	if len(id) != sessionIDLen {
		return APIKey{}, fmt.Errorf("malformed session id (want %d base64url characters): %w", sessionIDLen, ErrUnauthenticated)
	}
	if _, err := base64.RawURLEncoding.DecodeString(id); err != nil {
		return APIKey{}, fmt.Errorf("malformed session id (want %d base64url characters): %w", sessionIDLen, ErrUnauthenticated)
	}
	hash := HashSessionID(id)
	s, k, err := v.store.SessionByHash(ctx, hash)
	if errors.Is(err, ErrNotFound) {
		return APIKey{}, fmt.Errorf("unknown or ended session: %w", ErrUnauthenticated)
	}
	if err != nil {
		return APIKey{}, err
	}
	now := v.now()
	var dead error
	switch {
	case !now.Before(s.ExpiresAt):
		dead = fmt.Errorf("session expired: %w", ErrUnauthenticated)
	case !k.RevokedAt.IsZero():
		dead = fmt.Errorf("key %s (%s) of the session was revoked: %w", k.ID, k.Name, ErrUnauthenticated)
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		dead = fmt.Errorf("key %s (%s) of the session expired: %w", k.ID, k.Name, ErrUnauthenticated)
	}
	if dead != nil {
		if err := v.store.DeleteSession(ctx, hash, nil); err != nil {
			v.log.Warn("deleting a dead session", "key", k.ID, "err", err)
		}
		return k, dead
	}
	if now.Sub(k.LastUsedAt) >= touchEvery {
		if err := v.store.TouchAPIKey(ctx, k.ID, now); err != nil {
			v.log.Warn("recording API key use", "key", k.ID, "err", err)
		}
		k.LastUsedAt = now
	}
	return k, nil
}

// EndSession deletes a session, recording event action in the same transaction: its id
// stops working at once, in every replica, wherever a copy of the cookie is. Ending a
// session that is unknown or already ended is not an error.
func (v *Vault) EndSession(ctx context.Context, actor Actor, spaceID, id, action string) error {
	ev := v.event(actor, spaceID, action, AuditTarget{KeyID: actor.KeyID})
	return v.store.DeleteSession(ctx, HashSessionID(id), &ev)
}
