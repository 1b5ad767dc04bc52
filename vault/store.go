package vault

import (
	"context"
	"time"
)

// Store persists the vault: sealed fields, wrapped keys and metadata, never plaintext.
// Every method that changes data takes the audit event that records the change and
// writes both in one transaction, so no change goes unaudited and no audit event records
// a change that did not happen.
//
// Lookups return errors wrapping ErrNotFound; creations of a taken name or slug,
// ErrExists; an update or delete whose expected version is stale, ErrConflict.
type Store interface {
	// CreateSpace stores a new space with its wrapped data key.
	CreateSpace(ctx context.Context, s Space, key WrappedKey, ev AuditEvent) error
	// Space and Spaces find live spaces only.
	Space(ctx context.Context, id string) (Space, error)
	Spaces(ctx context.Context) ([]Space, error)
	// AllSpaces lists every space the store ever held, oldest first: the deleted ones
	// too, with DeletedAt set.
	AllSpaces(ctx context.Context) ([]Space, error)
	// SpaceByName finds a space by name, deleted or not.
	SpaceByName(ctx context.Context, name string) (Space, error)
	// DeleteSpace deletes a live space with everything in it (data key, collections,
	// environments, secrets and versions, API keys and their sessions, one-time entries)
	// and keeps its name, marked deleted at at, so that no new space takes it. Its audit
	// events stay, as audit events outlive what they name.
	DeleteSpace(ctx context.Context, id string, at time.Time, ev AuditEvent) error
	// SpaceKey returns a space's wrapped data key.
	SpaceKey(ctx context.Context, spaceID string) (WrappedKey, error)
	// ReplaceSpaceKey swaps a space's wrapped data key for the same key wrapped anew,
	// provided it is still old (ErrConflict otherwise).
	ReplaceSpaceKey(ctx context.Context, spaceID string, old, new WrappedKey, ev AuditEvent) error

	CreateCollection(ctx context.Context, c Collection, ev AuditEvent) error
	// Collection finds a collection of a space by id or slug.
	Collection(ctx context.Context, spaceID, idOrSlug string) (Collection, error)
	Collections(ctx context.Context, spaceID string) ([]Collection, error)
	// CollectionAndEnvironment finds a collection by id or slug and, when env is not
	// empty, one of its environments by id or slug, in one round trip.
	CollectionAndEnvironment(ctx context.Context, spaceID, collection, env string) (Collection, Environment, error)
	// DeleteCollection deletes a collection with its environments and secrets.
	DeleteCollection(ctx context.Context, spaceID, id string, ev AuditEvent) error

	CreateEnvironment(ctx context.Context, e Environment, ev AuditEvent) error
	// Environment finds an environment of a collection by id or slug.
	Environment(ctx context.Context, spaceID, collectionID, idOrSlug string) (Environment, error)
	Environments(ctx context.Context, spaceID, collectionID string) ([]Environment, error)
	// DeleteEnvironment deletes an environment with the secrets tagged with it (every
	// version) and the API keys and one-time entries limited to it. It first revokes, at
	// at, the active keys limited to it whose ids are in revoke; an active key (neither
	// revoked nor expired at at) limited to it and not in revoke makes it refuse with a
	// *LimitedKeysError and change nothing.
	DeleteEnvironment(ctx context.Context, spaceID, id string, revoke []string, at time.Time, ev AuditEvent) error
	// RenameEnvironment gives an environment a new slug; keys and secrets refer to it by
	// id, so they keep it. A slug taken in its collection is ErrExists.
	RenameEnvironment(ctx context.Context, spaceID, id, slug string, ev AuditEvent) error

	// CreateSecret stores version 1 of a new secret.
	CreateSecret(ctx context.Context, s SealedSecret, ev AuditEvent) error
	// UpdateSecret stores s as the next version: s.Version must be one more than the
	// current version, else ErrConflict.
	UpdateSecret(ctx context.Context, s SealedSecret, ev AuditEvent) error
	// DeleteSecret deletes a secret and its versions if its current version is version.
	DeleteSecret(ctx context.Context, spaceID, id string, version int, ev AuditEvent) error
	// Secret returns the current version of a secret with its sealed fields.
	Secret(ctx context.Context, spaceID, id string) (SealedSecret, error)
	// SecretVersion returns one version of a secret with its sealed fields.
	SecretVersion(ctx context.Context, spaceID, id string, version int) (SealedSecret, error)
	// SecretVersions lists the versions of a secret, newest first, without fields.
	SecretVersions(ctx context.Context, spaceID, id string) ([]SecretMeta, error)
	// Secrets lists the current versions of the secrets of a collection, sorted by name.
	// Callers must not modify what it returns: the vault shares it between requests.
	Secrets(ctx context.Context, q SecretQuery) ([]SealedSecret, error)

	CreateAPIKey(ctx context.Context, k APIKey, ev AuditEvent) error
	// CreateOperatorKey stores an operator key: one of no space, with RoleOperator. With
	// revokeOthers it first revokes, at k.CreatedAt, every other active operator key,
	// and names them in ev's RevokedKeys, in the same transaction.
	CreateOperatorKey(ctx context.Context, k APIKey, revokeOthers bool, ev AuditEvent) error
	// APIKeyByHash finds a key of a space or an operator key (SpaceID empty, Role
	// RoleOperator).
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	APIKeys(ctx context.Context, spaceID string) ([]APIKey, error)
	// RevokeAPIKey revokes a key and deletes its admin UI sessions.
	RevokeAPIKey(ctx context.Context, spaceID, id string, at time.Time, ev AuditEvent) error
	// TouchAPIKey records when a key was last used.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
	// PruneAPIKeys deletes the keys whose name starts with namePrefix and that expire
	// at or before before (never those without an expiry), with their sessions, and
	// reports how many.
	PruneAPIKeys(ctx context.Context, namePrefix string, before time.Time) (int64, error)

	// CreateSession stores an admin UI session with the sign-in's audit event, and ends
	// the oldest sessions of its key beyond the newest keep.
	CreateSession(ctx context.Context, s Session, keep int, ev AuditEvent) error
	// SessionByHash returns the session whose id hashes to hash, with its API key as
	// stored now (revoked or expired ones included: the caller decides).
	SessionByHash(ctx context.Context, hash []byte) (Session, APIKey, error)
	// DeleteSession deletes the session whose id hashes to hash, if there is one, and
	// records ev, when not nil, in the same transaction.
	DeleteSession(ctx context.Context, hash []byte, ev *AuditEvent) error
	// PruneSessions deletes the sessions that expire at or before before, and reports how many.
	PruneSessions(ctx context.Context, before time.Time) (int64, error)

	// CreateEntry stores a one-time entry with its audit event, unless the key that
	// made it (CreatedByKeyID) has maxPending entries pending or claimed that expire
	// after e.CreatedAt: then ErrLimit. Two creations at once cannot both pass the cap.
	CreateEntry(ctx context.Context, e Entry, maxPending int, ev AuditEvent) error
	// Entry returns an entry of a space.
	Entry(ctx context.Context, spaceID, id string) (Entry, error)
	// Entries lists the entries of a space, pending or claimed, that expire after at,
	// oldest first.
	Entries(ctx context.Context, spaceID string, at time.Time) ([]Entry, error)
	// ClaimEntry marks an entry that is pending and expires after at as being filled,
	// or takes over a claim made before staleBefore; else ErrConflict. Of fills at
	// once, one claims it.
	ClaimEntry(ctx context.Context, spaceID, id string, at, staleBefore time.Time) error
	// ReleaseEntry makes a claimed entry pending again, after a fill that failed.
	ReleaseEntry(ctx context.Context, spaceID, id string) error
	// FinishEntry marks a claimed entry done with e's SecretID, Version, DoneBy and
	// DoneAt, and records ev in the same transaction.
	FinishEntry(ctx context.Context, e Entry, ev AuditEvent) error
	// CancelEntry marks a pending entry, or one whose claim is older than staleBefore,
	// cancelled and records ev; an entry that is done, cancelled already or being
	// filled is ErrConflict.
	CancelEntry(ctx context.Context, spaceID, id string, staleBefore time.Time, ev AuditEvent) error
	// PruneEntries deletes the entries that expired before before, and reports how many.
	PruneEntries(ctx context.Context, before time.Time) (int64, error)

	// AppendAudit records an event that has no change of its own: a read of plaintext, a refusal.
	AppendAudit(ctx context.Context, ev AuditEvent) error
	// Audit returns events, newest first.
	Audit(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
	// PruneAudit deletes events older than before and reports how many.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)

	// Exclusively runs fn while no other call of Exclusively on the same database runs,
	// in this process or in another one (a replica): for what must happen once, such as
	// creating the first space and its admin key.
	Exclusively(ctx context.Context, fn func(context.Context) error) error

	Close() error
}

// Pinger is a Store that can say whether its database answers; both stores are.
type Pinger interface {
	Ping(ctx context.Context) error
}
