// Package api is the wire contract of kazzle: the request and response types of the HTTP
// API under /v1/, its error codes, the Go client, and the reports the CLI prints with
// --json. Every JSON body the server sends or the CLI prints is a type of this package,
// used on both sides, so the two cannot drift apart.
//
// A [Client] speaks it: [Client.Resolve] is what `kazzle run` asks for, [Client.Templates]
// what `kazzle mcp` substitutes through; an error from the server is an [*Error] with one
// of the Code constants.
package api

import (
	"encoding/json"
	"fmt"
	"time"
)

// Error codes, with the HTTP status each goes with.
const (
	CodeInvalid         = "invalid_request"   // 400
	CodeUnauthenticated = "unauthenticated"   // 401
	CodeForbidden       = "forbidden"         // 403
	CodeNotFound        = "not_found"         // 404
	CodeConflict        = "conflict"          // 409
	CodeTooLarge        = "request_too_large" // 413
	CodeTooMany         = "too_many"          // 429: a cap on what a key may have at once
	// CodeExpansionTooLarge: stored references expand past the size limit, so the read
	// fails; a write that would do so is refused as CodeInvalid instead.
	CodeExpansionTooLarge = "expansion_too_large" // 422
	// CodeReservedName: a stored secret exports a variable no secret may set, so the
	// read fails; a write that would store one is refused as CodeInvalid instead.
	CodeReservedName = "reserved_name" // 422
	CodeInternal     = "internal"      // 500
	// CodeUnavailable: something the server depends on, such as an identity-token
	// issuer, cannot be reached now; the message says when it tries again.
	CodeUnavailable = "unavailable" // 503
)

// Error is an API error, sent as {"error":{"code":…,"message":…}}. Messages never hold a
// secret value.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// ErrorBody is the JSON body of an error response.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// Collection is a group of secrets.
type Collection struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// CollectionList lists collections.
type CollectionList struct {
	Collections []Collection `json:"collections"`
}

// CreateCollectionRequest creates a collection.
type CreateCollectionRequest struct {
	Slug string `json:"slug"`
	Name string `json:"name,omitempty"`
}

// Environment is a bucket of a collection.
type Environment struct {
	ID        string    `json:"id"`
	Slug      string    `json:"slug"`
	CreatedAt time.Time `json:"created_at"`
}

// EnvironmentList lists the environments of a collection.
type EnvironmentList struct {
	Environments []Environment `json:"environments"`
}

// CreateEnvironmentRequest creates an environment in the collection of the URL.
type CreateEnvironmentRequest struct {
	Slug string `json:"slug"`
}

// RenameEnvironmentRequest gives the environment of the URL a new slug.
type RenameEnvironmentRequest struct {
	Slug string `json:"slug"`
}

// DiffRequest asks how two environments of the collection of the URL differ.
type DiffRequest struct {
	Environments []string `json:"environments"`
}

// DiffName is a secret name as two environments see it.
type DiffName struct {
	Name string `json:"name"`
	// In lists the environments that see a secret of this name: both, or one.
	In []string `json:"in"`
	// Equal, for a name both see, says whether it resolves to the same values in both.
	Equal *bool `json:"equal,omitempty"`
	// Shared says that both see the same untagged secret.
	Shared bool `json:"shared,omitempty"`
}

// DiffResponse compares two environments name by name. It holds names and booleans
// only: never a value, nor a hash of one.
type DiffResponse struct {
	Collection   string     `json:"collection"`
	Environments []string   `json:"environments"`
	Names        []DiffName `json:"names"`
}

// Secret is a secret's metadata with its fields: masked previews, unless revealed.
type Secret struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Type        string `json:"type"`
	Collection  string `json:"collection"`
	Environment string `json:"environment,omitempty"`
	Note        string `json:"note,omitempty"`
	// Hosts are the hosts the secret's values may be sent to (see CreateSecretRequest);
	// absent: anywhere.
	Hosts     []string          `json:"hosts,omitempty"`
	Version   int               `json:"version"`
	Fields    map[string]string `json:"fields,omitempty"`
	Masked    bool              `json:"masked"`
	CreatedAt time.Time         `json:"created_at"`
	CreatedBy string            `json:"created_by"`
	UpdatedAt time.Time         `json:"updated_at"`
	UpdatedBy string            `json:"updated_by"`
	// Generated, in the answer to a write that asked for generated values, gives the
	// length in characters of each: never the value, nor a preview of it.
	Generated map[string]int `json:"generated,omitempty"`
}

// Generate asks the server to make a field's value with a CSPRNG: Length characters
// (16 to 1024) of Alphabet (hex, base64url, alnum, or password: letters, digits and
// !#%+-.:=@_~, at least one lower and upper case letter, digit and symbol), or, alone,
// Format "uuid" (a random UUID).
type Generate struct {
	Length   int    `json:"length,omitempty"`
	Alphabet string `json:"alphabet,omitempty"`
	Format   string `json:"format,omitempty"`
}

// CreateSecretRequest creates a secret; Environment empty means untagged.
type CreateSecretRequest struct {
	Collection  string            `json:"collection"`
	Environment string            `json:"environment,omitempty"`
	Name        string            `json:"name"`
	Type        string            `json:"type,omitempty"`
	Note        string            `json:"note,omitempty"`
	Fields      map[string]string `json:"fields"`
	// Generate names fields whose values the server makes; a field is in Fields or in
	// Generate, not both.
	Generate map[string]Generate `json:"generate,omitempty"`
	// Hosts binds the secret to the hosts its values may be sent to: entries host,
	// host:port, *.suffix[:port], or http://loopback-host:port; absent or empty:
	// unbound. Invalid entries are refused with 400.
	Hosts []string `json:"hosts,omitempty"`
}

// UpdateSecretRequest makes a new version of a secret. Version is the version being
// replaced: a stale one is refused with 409 conflict.
type UpdateSecretRequest struct {
	Version int               `json:"version"`
	Fields  map[string]string `json:"fields,omitempty"`
	// Generate names fields whose values the server makes: in place of those of
	// Fields, or, when Fields is absent, of the current version, whose other fields
	// stay (a rotation). A field is in Fields or in Generate, not both.
	Generate map[string]Generate `json:"generate,omitempty"`
	// Merge sets Fields over the current version's fields instead of replacing them all.
	Merge bool    `json:"merge,omitempty"`
	Note  *string `json:"note,omitempty"`
	// Hosts replaces the secret's hosts: absent keeps them, [] clears them. Binding an
	// unbound secret or narrowing its hosts is a write; widening or clearing them needs
	// an admin key (else 403).
	Hosts *[]string `json:"hosts,omitempty"`
}

// SecretList is a list of secrets.
type SecretList struct {
	Secrets []Secret `json:"secrets"`
}

// ResolveRequest asks for the environment variables of an environment.
type ResolveRequest struct {
	Collection  string   `json:"collection"`
	Environment string   `json:"environment,omitempty"`
	Names       []string `json:"names,omitempty"`
	// Scan asks also for what a leak scan must look for, in ResolveResponse.Scan.
	Scan bool `json:"scan,omitempty"`
}

// Var is one resolved environment variable.
type Var struct {
	Name     string `json:"name"`
	Value    string `json:"value"`
	SecretID string `json:"secret_id"`
	Field    string `json:"field"`
	// Hosts is the value's binding: the hosts of each bound secret its expansion passed
	// through, itself and those its references reached. The value may be sent only to
	// a host every list allows; absent: unbound.
	Hosts [][]string `json:"hosts,omitempty"`
}

// ResolveResponse carries the resolved variables.
type ResolveResponse struct {
	Vars []Var `json:"vars"`
	// Scan, when the request asked for it, holds every stored field of the secrets
	// resolved (a totp seed, a git secret's host and path; not a computed totp code) and
	// every field their references read, each with its secret's name as Name: values a
	// build's output must not hold unless inlined. They are for matching, never to show.
	Scan []Var `json:"scan,omitempty"`
}

// Version is one version of a secret, without fields.
type Version struct {
	Version   int       `json:"version"`
	Type      string    `json:"type"`
	Note      string    `json:"note,omitempty"`
	Hosts     []string  `json:"hosts,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by"`
}

// VersionList lists versions, newest first.
type VersionList struct {
	Versions []Version `json:"versions"`
}

// RollbackRequest makes the fields of version To the newest version; Version is the
// version being replaced.
type RollbackRequest struct {
	To      int `json:"to"`
	Version int `json:"version"`
}

// Problem is a stored secret that a write would refuse now; Rule is one of
// reserved_name, value and reference. Message names fields and limits, never a value.
type Problem struct {
	SecretID    string `json:"secret_id"`
	Name        string `json:"name"`
	Collection  string `json:"collection"`
	Environment string `json:"environment,omitempty"`
	Version     int    `json:"version"`
	Rule        string `json:"rule"`
	Message     string `json:"message"`
}

// CheckResponse lists the problems of a collection's stored secrets.
type CheckResponse struct {
	Problems []Problem `json:"problems"`
}

// TemplatesRequest asks for ${secret.<id>.<field>} to be substituted in each template.
type TemplatesRequest struct {
	Templates []string `json:"templates"`
}

// TemplatesResponse holds the substituted templates, in order, and every reference
// the substitution followed, nested ones included, with its value: what a client must
// redact from whatever the substituted templates reach.
type TemplatesResponse struct {
	Values []string    `json:"values"`
	Used   []UsedValue `json:"used"`
}

// UsedValue is a reference, ${secret.<id>.<field>}, and its value.
type UsedValue struct {
	Ref   string `json:"ref"`
	Value string `json:"value"`
	// Hosts is the value's binding, as in Var.
	Hosts [][]string `json:"hosts,omitempty"`
}

// TOTPResponse is a TOTP code and how many seconds it stays valid.
type TOTPResponse struct {
	Code     string  `json:"code"`
	ValidFor float64 `json:"valid_for"`
}

// GitCredentialRequest asks for the credential of a git repository.
type GitCredentialRequest struct {
	Protocol string `json:"protocol,omitempty"`
	Host     string `json:"host"`
	Path     string `json:"path,omitempty"`
}

// GitCredentialResponse is the matching credential.
type GitCredentialResponse struct {
	Username string `json:"username"`
	Password string `json:"password"`
	SecretID string `json:"secret_id"`
}

// APIKey is an API key as listed: never the key itself.
type APIKey struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Prefix      string     `json:"prefix"`
	Collection  string     `json:"collection,omitempty"`
	Environment string     `json:"environment,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	LastUsedAt  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// CreateAPIKeyRequest creates an API key.
type CreateAPIKeyRequest struct {
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	Collection  string     `json:"collection,omitempty"`
	Environment string     `json:"environment,omitempty"`
	ExpiresAt   *time.Time `json:"expires_at,omitempty"`
}

// CreateAPIKeyResponse carries the new key; Key is shown this once.
type CreateAPIKeyResponse struct {
	APIKey
	Key string `json:"key"`
}

// APIKeyList lists keys.
type APIKeyList struct {
	Keys []APIKey `json:"keys"`
}

// AuditEvent is one entry of the audit trail.
type AuditEvent struct {
	ID         int64           `json:"id"`
	Time       time.Time       `json:"time"`
	ActorKeyID string          `json:"actor_key_id,omitempty"`
	ActorName  string          `json:"actor_name,omitempty"`
	ClientAddr string          `json:"client_addr,omitempty"`
	Action     string          `json:"action"`
	Target     json.RawMessage `json:"target"`
	Outcome    string          `json:"outcome"`
}

// AuditList lists audit events, newest first.
type AuditList struct {
	Events []AuditEvent `json:"events"`
}

// Entry states, as Entry.Status gives them.
const (
	EntryPending   = "pending"
	EntryDone      = "done"
	EntryExpired   = "expired"
	EntryCancelled = "cancelled"
)

// Entry is a one-time entry: a request that a person type a secret's value into a page
// of the server, so that whoever asked never sees it. The page is at Path on the
// server; it asks for a sign-in with a key that may write the secret there.
type Entry struct {
	ID     string `json:"id"`
	Path   string `json:"path"`
	Status string `json:"status"`
	// Name, Collection, Environment, Type, Note and Hosts are those of the secret the
	// entry makes, or of which it makes a new version.
	Name        string   `json:"name"`
	Collection  string   `json:"collection"`
	Environment string   `json:"environment,omitempty"`
	Type        string   `json:"type"`
	Note        string   `json:"note,omitempty"`
	Hosts       []string `json:"hosts,omitempty"`
	// Fields are the fields asked for.
	Fields []string `json:"fields"`
	// Message is the asker's text for the person: untrusted, shown as a quote.
	Message   string    `json:"message,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// SecretID, Version and References (${secret.<id>.<field>} of each field entered)
	// say what a done entry stored; DoneBy names the key it was entered with.
	SecretID   string     `json:"secret_id,omitempty"`
	Version    int        `json:"version,omitempty"`
	References []string   `json:"references,omitempty"`
	DoneBy     string     `json:"done_by,omitempty"`
	DoneAt     *time.Time `json:"done_at,omitempty"`
}

// CreateEntryRequest makes a one-time entry. Fields defaults to the type's required
// fields; ExpiresIn, in seconds, to 900 (15 minutes), at most 604800 (7 days). Message
// is at most 500 characters.
type CreateEntryRequest struct {
	Collection  string   `json:"collection"`
	Environment string   `json:"environment,omitempty"`
	Name        string   `json:"name"`
	Type        string   `json:"type,omitempty"`
	Fields      []string `json:"fields,omitempty"`
	Message     string   `json:"message,omitempty"`
	Note        string   `json:"note,omitempty"`
	Hosts       []string `json:"hosts,omitempty"`
	ExpiresIn   int      `json:"expires_in,omitempty"`
}

// FillEntryRequest gives the values of an entry's fields.
type FillEntryRequest struct {
	Fields map[string]string `json:"fields"`
}

// EntryList lists pending entries, oldest first.
type EntryList struct {
	Entries []Entry `json:"entries"`
}
