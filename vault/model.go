// Package vault is kazzle's encrypted store: the model of spaces, collections,
// environments, secrets and their versions, API keys and the audit trail; envelope
// encryption of every field under a per-space data key; and the Store interface that the
// SQLite and PostgreSQL back ends implement.
//
// A [Store] only ever sees sealed fields and wrapped keys. The [Vault] type is where
// plaintext exists: it seals and opens fields, checks input, and records an audit event
// for every change (in the change's own transaction) and every read of plaintext.
//
// Where to start: [Vault.Resolve] opens one environment of a collection and hands its
// view to [github.com/kazzle/kazzle/resolver.Expander]; [Vault.CreateSecret],
// [Vault.UpdateSecret] and [Vault.Rollback] are the writes, each checked with the rules
// of [secret.ValidateFields]; [Vault.Authenticate] turns an API key into an [Actor]; a
// [KeyWrapper] (localkms, awskms) wraps each space's data key.
package vault

import (
	"errors"
	"fmt"
	"time"

	"github.com/kazzle/kazzle/secret"
)

// Errors that callers branch on; each is wrapped with what it is about.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	// ErrConflict means an update named a version that is no longer the current one.
	ErrConflict = errors.New("conflict: changed since it was read")
	// ErrInvalid marks input that breaks a rule; it is secret.ErrInvalid, so one check covers both.
	ErrInvalid = secret.ErrInvalid
	// ErrForbidden means the caller's role does not allow the change.
	ErrForbidden = errors.New("forbidden")
	// ErrUnauthenticated means an API key is unknown, revoked or expired.
	ErrUnauthenticated = errors.New("API key is unknown, revoked or expired")
)

// LimitedKeysError refuses to delete an environment that active API keys are limited to:
// whatever uses them would lose its environment without a word. Revoking them is a
// decision of its own.
type LimitedKeysError struct {
	// Environment and Collection are slugs; the store leaves them for the vault to fill.
	Environment, Collection string
	// Keys counts the active keys limited to the environment that were not to be revoked.
	Keys int
}

func (e *LimitedKeysError) Error() string {
	keys := "API keys are"
	if e.Keys == 1 {
		keys = "API key is"
	}
	return fmt.Sprintf("environment %s of %s: %d active %s limited to it; revoke them first, or delete it with its keys revoked", e.Environment, e.Collection, e.Keys, keys)
}

// Space is a tenant with its own data key. Nothing crosses spaces. Its name is unique
// among every space the server ever held: a deleted space leaves its name behind
// (DeletedAt set), so a name never comes to mean another tenant.
type Space struct {
	ID        string
	Name      string
	CreatedAt time.Time
	DeletedAt time.Time // zero: live
}

// Collection is a named group of secrets in a space.
type Collection struct {
	ID        string
	SpaceID   string
	Slug      string
	Name      string
	CreatedAt time.Time
	// Generation changes whenever one of the collection's secrets is created, changed or
	// deleted (environment deletions included), in the same transaction as the change.
	Generation int64
}

// Environment is a bucket inside a collection, such as dev or prod.
type Environment struct {
	ID           string
	SpaceID      string
	CollectionID string
	Slug         string
	CreatedAt    time.Time
}

// SecretMeta is everything about one version of a secret but its fields.
type SecretMeta struct {
	ID           string
	SpaceID      string
	CollectionID string
	// EnvironmentID is "" for an untagged secret, which belongs to every environment.
	EnvironmentID string
	Name          string
	Type          secret.Type
	Note          string
	// Hosts are the hosts the secret's values may be sent to; nil: anywhere. They are
	// metadata, stored in plaintext with each version.
	Hosts     secret.Hosts
	Version   int
	CreatedAt time.Time
	CreatedBy string
	UpdatedAt time.Time
	UpdatedBy string
}

// Secret is a secret with its plaintext fields. Only Vault produces one.
type Secret struct {
	SecretMeta
	Fields map[string]string
}

// SealedSecret is a secret as a Store keeps it: each field sealed under the space's data key.
type SealedSecret struct {
	SecretMeta
	Fields map[string][]byte
}

// Role is what an API key may do.
type Role string

// The roles of an API key.
const (
	RoleAdmin Role = "admin"
	RoleWrite Role = "write"
	RoleRead  Role = "read"
	// RoleOperator is the role of an operator key: it lives in no space and manages
	// spaces (create, list, delete) and nothing inside one.
	RoleOperator Role = "operator"
)

// Valid reports whether r is a role a key of a space may have; RoleOperator is not.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleWrite || r == RoleRead }

// APIKey is a stored API key. The key itself is never stored, only its SHA-256 hash.
type APIKey struct {
	ID      string
	SpaceID string
	Name    string
	Role    Role
	// Prefix is the start of the key (kzl_ and 4 characters), to recognise it in a list.
	Prefix string
	Hash   []byte
	// CollectionID and EnvironmentID, when set, restrict the key to them.
	CollectionID  string
	EnvironmentID string
	ExpiresAt     time.Time // zero: never
	CreatedAt     time.Time
	LastUsedAt    time.Time // zero: never used
	RevokedAt     time.Time // zero: active
}

// Actor is who does something, as the audit trail records it.
type Actor struct {
	KeyID      string
	Name       string
	ClientAddr string
	// Role is the role of the actor's key, for the changes the vault decides by role
	// (widening a secret's hosts); the zero role may not make them.
	Role Role
}

// Audit outcomes.
const (
	OutcomeOK     = "ok"
	OutcomeDenied = "denied"
	OutcomeError  = "error"
)

// AuditEvent is one entry of the append-only audit trail. It names what was touched by id
// and name and never carries a value.
type AuditEvent struct {
	ID         int64
	SpaceID    string
	Time       time.Time
	ActorKeyID string
	ActorName  string
	ClientAddr string
	Action     string
	Target     AuditTarget
	Outcome    string
}

// AuditTarget is what an audit event is about. Unset parts are empty.
type AuditTarget struct {
	CollectionID  string `json:"collection_id,omitempty"`
	Collection    string `json:"collection,omitempty"`
	EnvironmentID string `json:"environment_id,omitempty"`
	Environment   string `json:"environment,omitempty"`
	SecretID      string `json:"secret_id,omitempty"`
	Secret        string `json:"secret,omitempty"`
	Version       int    `json:"version,omitempty"`
	// Hosts names how a change moved the secret's hosts: set (on an unbound secret),
	// narrowed, widened, cleared, or kept (a rollback that left wider old hosts behind).
	Hosts   string   `json:"hosts,omitempty"`
	Secrets []string `json:"secrets,omitempty"`
	// Referenced lists the ids of the secrets a read reached through references.
	Referenced    []string `json:"referenced,omitempty"`
	KeyID         string   `json:"key_id,omitempty"`
	Key           string   `json:"key,omitempty"`
	WrappingKeyID string   `json:"wrapping_key_id,omitempty"`
	SpaceName     string   `json:"space,omitempty"`
	// SpaceID names the space an event of the server trail is about.
	SpaceID string `json:"space_id,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Vars    int    `json:"vars,omitempty"`
	// Count is how many like events one row stands for, when they were counted rather
	// than recorded one by one (refusals of requests without a valid key).
	Count int `json:"count,omitempty"`
	// Generated names the fields of a write whose values the server made.
	Generated []string `json:"generated,omitempty"`
	// Entry is the id of the one-time entry an event is about, or that a write filled.
	Entry string `json:"entry,omitempty"`
	// From is the slug a rename replaced.
	From string `json:"from,omitempty"`
	// RevokedKeys are the ids of the API keys a change revoked with it (an environment
	// deleted with the keys limited to it).
	RevokedKeys []string `json:"revoked_keys,omitempty"`
}

// AuditQuery filters the audit trail. Zero fields do not filter.
type AuditQuery struct {
	SpaceID string
	// Server selects the server trail: the events of no space (operator actions,
	// refusals of requests without a valid key). SpaceID must then be empty.
	Server     bool
	Since      time.Time
	Until      time.Time
	Action     string
	ActorKeyID string
	// Limit caps the number of events, newest first; 0 means 100.
	Limit int
}

// SecretQuery selects the secrets of a collection.
type SecretQuery struct {
	SpaceID      string
	CollectionID string
	// ForEnvironment, when set, keeps untagged secrets and those tagged with this environment
	// id: what a resolve of that environment needs.
	ForEnvironment string
	// WithFields loads the sealed fields of each current version, not only the metadata.
	WithFields bool
}
