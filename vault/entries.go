package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kazzle/kazzle/secret"
)

// A one-time entry asks a person for a secret's value without the asker ever seeing it:
// a key makes the entry (what secret, which fields, a message), a person signed in with
// a key that may write there types the value into the entry's page, and the vault stores
// it as that person's key. The entry's id is in the page's URL: 192 random bits, so it
// cannot be guessed, but not a credential, since the page needs a sign-in too. Entries
// live in the store, so every replica sees them and a wait on one works through any.
const (
	// EntryLifetime is how long an entry waits for its value unless asked otherwise.
	EntryLifetime = 15 * time.Minute
	// MinEntryLifetime and MaxEntryLifetime bound the lifetime an entry may ask for.
	MinEntryLifetime = time.Minute
	MaxEntryLifetime = 7 * 24 * time.Hour
	// MaxPendingEntries caps the entries one key has waiting at once.
	MaxPendingEntries = 20
	// MaxEntryMessage caps an entry's message, in characters.
	MaxEntryMessage = 500
	// MaxEntryWait caps how long one request waits for an entry.
	MaxEntryWait = 60 * time.Second

	entryIDBytes = 24
	// entryClaimHold is how long a fill holds its entry: one whose server stopped in the
	// middle of the write is open again after it.
	entryClaimHold = time.Minute
	// entryKept is how long an entry that is no longer pending stays, for its status.
	entryKept = 24 * time.Hour
	// entryPoll is how often a wait reads the entry again.
	entryPoll = 250 * time.Millisecond
)

// ErrLimit means a cap on how many of something a key may have was reached.
var ErrLimit = errors.New("limit reached")

// EntryState is where an entry stands.
type EntryState string

// The states of an entry. A claimed entry is being filled; it reads as pending. An
// entry is expired when it is pending past its expiry: the store never writes that.
const (
	EntryPending   EntryState = "pending"
	EntryClaimed   EntryState = "claimed"
	EntryDone      EntryState = "done"
	EntryCancelled EntryState = "cancelled"
	EntryExpired   EntryState = "expired"
)

// Entry is a stored one-time entry.
type Entry struct {
	ID            string
	SpaceID       string
	CollectionID  string
	EnvironmentID string
	// Name, Type, Note and Hosts are those of the secret the entry makes or updates.
	Name  string
	Type  secret.Type
	Note  string
	Hosts secret.Hosts
	// Fields are the fields the entry asks for.
	Fields []string
	// Message is the asker's words to the person, shown as untrusted text.
	Message string
	// CreatedByKeyID and CreatedBy are the key that asked, by id and by name.
	CreatedByKeyID string
	CreatedBy      string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	State          EntryState
	ClaimedAt      time.Time
	// SecretID, Version, DoneBy and DoneAt say, once it is done, what it stored, and who.
	SecretID string
	Version  int
	DoneBy   string
	DoneAt   time.Time
}

// Status is the entry's state at now: pending, done, cancelled or expired.
func (e Entry) Status(now time.Time) EntryState {
	switch e.State {
	case EntryDone, EntryCancelled:
		return e.State
	}
	if !now.Before(e.ExpiresAt) {
		return EntryExpired
	}
	return EntryPending
}

// EntryInput is a new entry.
type EntryInput struct {
	SpaceID string
	// Collection is an id or slug; Environment too, or "" for an untagged secret.
	Collection  string
	Environment string
	Name        string
	Type        secret.Type // default string
	// Fields are the fields asked for; none asks for the type's required fields.
	Fields  []string
	Message string
	Note    string
	Hosts   []string
	// Lifetime is how long the entry waits; 0 is EntryLifetime.
	Lifetime time.Duration
}

// CreateEntry stores a new entry asked for by actor, whose key may have at most
// MaxPendingEntries pending at once (ErrLimit past them).
func (v *Vault) CreateEntry(ctx context.Context, actor Actor, in EntryInput) (Entry, error) {
	if in.Type == "" {
		in.Type = secret.TypeString
	}
	if err := secret.ValidateName(in.Name); err != nil {
		return Entry{}, err
	}
	if !in.Type.Valid() {
		return Entry{}, fmt.Errorf("%w secret type %q: use one of string, login, git, totp", ErrInvalid, secret.Excerpt(string(in.Type)))
	}
	if err := secret.ValidateExports(in.Name, in.Type); err != nil {
		return Entry{}, err
	}
	fields, err := entryFields(in.Type, in.Fields)
	if err != nil {
		return Entry{}, err
	}
	if err := validateMessage(in.Message); err != nil {
		return Entry{}, err
	}
	if err := secret.ValidateNote(in.Note); err != nil {
		return Entry{}, err
	}
	hosts, err := secret.ParseHosts(in.Hosts)
	if err != nil {
		return Entry{}, err
	}
	lifetime := in.Lifetime
	if lifetime == 0 {
		lifetime = EntryLifetime
	}
	if lifetime < MinEntryLifetime || lifetime > MaxEntryLifetime {
		return Entry{}, fmt.Errorf("%w entry lifetime %s: it is %s to %s", ErrInvalid, lifetime, MinEntryLifetime, MaxEntryLifetime)
	}
	c, e, err := v.collectionAndEnv(ctx, in.SpaceID, in.Collection, in.Environment)
	if err != nil {
		return Entry{}, err
	}
	raw := make([]byte, entryIDBytes)
	if _, err := rand.Read(raw); err != nil {
		return Entry{}, fmt.Errorf("generate entry id: %w", err)
	}
	now := v.now()
	if _, err := v.store.PruneEntries(ctx, now.Add(-entryKept)); err != nil {
		return Entry{}, fmt.Errorf("prune old entries: %w", err)
	}
	entry := Entry{
		ID: base64.RawURLEncoding.EncodeToString(raw), SpaceID: in.SpaceID, CollectionID: c.ID, EnvironmentID: e.ID,
		Name: in.Name, Type: in.Type, Note: in.Note, Hosts: hosts, Fields: fields, Message: in.Message,
		CreatedByKeyID: actor.KeyID, CreatedBy: actor.Name, CreatedAt: now, ExpiresAt: now.Add(lifetime), State: EntryPending,
	}
	ev := v.event(actor, in.SpaceID, "entry.create", entryTarget(c, e, entry))
	if err := v.store.CreateEntry(ctx, entry, MaxPendingEntries, ev); err != nil {
		if errors.Is(err, ErrLimit) {
			return Entry{}, fmt.Errorf("key %s has %d entries waiting, the most it may: cancel one or wait for them (%w)", actor.Name, MaxPendingEntries, ErrLimit)
		}
		return Entry{}, fmt.Errorf("create entry for %s: %w", in.Name, err)
	}
	return entry, nil
}

func entryTarget(c Collection, e Environment, entry Entry) AuditTarget {
	return AuditTarget{CollectionID: c.ID, Collection: c.Slug, EnvironmentID: e.ID, Environment: e.Slug, Secret: entry.Name, SecretID: entry.SecretID, Version: entry.Version, Entry: entry.ID}
}

// entryFields checks the fields an entry asks for: stored fields of typ, each once;
// none means the type's required fields.
func entryFields(typ secret.Type, fields []string) ([]string, error) {
	required, optional := typ.StoredFields()
	if len(fields) == 0 {
		return slices.Clone(required), nil
	}
	all := append(slices.Clone(required), optional...)
	seen := map[string]bool{}
	for _, f := range fields {
		if !slices.Contains(all, f) {
			return nil, fmt.Errorf("%w %s secret: unknown field %q (fields: %s)", ErrInvalid, typ, secret.Excerpt(f), strings.Join(all, ", "))
		}
		if seen[f] {
			return nil, fmt.Errorf("%w field %q is asked for twice", ErrInvalid, f)
		}
		seen[f] = true
	}
	return slices.Clone(fields), nil
}

// validateMessage checks an entry's message: text of at most MaxEntryMessage characters.
func validateMessage(m string) error {
	if !utf8.ValidString(m) {
		return fmt.Errorf("%w message: not valid UTF-8 text", ErrInvalid)
	}
	if n := utf8.RuneCountInString(m); n > MaxEntryMessage {
		return fmt.Errorf("%w message: %d characters, the limit is %d", ErrInvalid, n, MaxEntryMessage)
	}
	for i, r := range m {
		if unicode.IsControl(r) && r != '\n' && r != '\t' || bidiControl(r) {
			return fmt.Errorf("%w message: a control character at byte %d; a message is text", ErrInvalid, i)
		}
	}
	return nil
}

// bidiControl says whether r reorders the text around it: a message could make the
// page or a terminal show a host or an instruction other than the one it holds.
func bidiControl(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c
}

// validEntryID says whether id has the shape of an entry id, so that no lookup is made
// of what cannot be one.
func validEntryID(id string) bool {
	if len(id) != base64.RawURLEncoding.EncodedLen(entryIDBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil
}

// Entry returns an entry of a space.
func (v *Vault) Entry(ctx context.Context, spaceID, id string) (Entry, error) {
	if !validEntryID(id) {
		return Entry{}, fmt.Errorf("entry %s: %w", secret.Excerpt(id), ErrNotFound)
	}
	return v.store.Entry(ctx, spaceID, id)
}

// WaitEntry returns an entry once it is no longer pending, or as it is after wait (at
// most MaxEntryWait). It reads the store every entryPoll, so a fill through any replica
// ends it.
func (v *Vault) WaitEntry(ctx context.Context, spaceID, id string, wait time.Duration) (Entry, error) {
	wait = min(wait, MaxEntryWait)
	deadline := time.Now().Add(wait)
	for {
		e, err := v.Entry(ctx, spaceID, id)
		if err != nil || e.Status(v.now()) != EntryPending || !time.Now().Before(deadline) {
			return e, err
		}
		t := time.NewTimer(min(entryPoll, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return e, nil // the caller went away, or is out of time: the entry as it is
		case <-t.C:
		}
	}
}

// Entries lists a space's pending entries, oldest first.
func (v *Vault) Entries(ctx context.Context, spaceID string) ([]Entry, error) {
	return v.store.Entries(ctx, spaceID, v.now())
}

// CancelEntry cancels a pending entry: its page refuses a value from then on.
func (v *Vault) CancelEntry(ctx context.Context, actor Actor, spaceID, id string) error {
	e, err := v.Entry(ctx, spaceID, id)
	if err != nil {
		return err
	}
	if err := v.stillPending(e); err != nil {
		return err
	}
	c, env, err := v.collectionAndEnv(ctx, spaceID, e.CollectionID, e.EnvironmentID)
	if err != nil {
		return err
	}
	// A fill under way holds the entry: cancelling it then would leave its value stored
	// under an entry that says it stored nothing.
	err = v.store.CancelEntry(ctx, spaceID, id, v.now().Add(-entryClaimHold), v.event(actor, spaceID, "entry.cancel", entryTarget(c, env, e)))
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("entry for %s is being filled, or was just filled: %w", e.Name, ErrConflict)
	}
	return err
}

// stillPending refuses an entry that is done, cancelled or expired, with ErrConflict.
func (v *Vault) stillPending(e Entry) error {
	switch e.Status(v.now()) {
	case EntryDone:
		return fmt.Errorf("entry for %s was filled already, by %s: %w", e.Name, e.DoneBy, ErrConflict)
	case EntryCancelled:
		return fmt.Errorf("entry for %s was cancelled: %w", e.Name, ErrConflict)
	case EntryExpired:
		return fmt.Errorf("entry for %s expired at %s: ask for a new one (%w)", e.Name, e.ExpiresAt.Format(time.RFC3339), ErrConflict)
	}
	return nil
}

// apiKeyInText finds a kazzle API key in a value.
var apiKeyInText = regexp.MustCompile(APIKeyPrefix + `[0-9A-Za-z]{20,}`)

// LooksLikeAPIKey reports whether v is, or holds, a kazzle API key: one pasted into an
// entry by mistake would be stored where the asker's key can use it.
func LooksLikeAPIKey(v string) bool {
	return strings.HasPrefix(strings.TrimSpace(v), APIKeyPrefix) || apiKeyInText.MatchString(v)
}

// FillEntry stores the values typed into a pending entry as actor's write: a new secret,
// or a new version of the entry's secret if it exists (its other fields kept), with the
// entry's note and hosts when it has them, which obey the hosts rules of actor's key.
// The entry is then done; a second fill is refused, as one of an entry that expired or
// was cancelled (ErrConflict). The caller checks that actor may write there.
func (v *Vault) FillEntry(ctx context.Context, actor Actor, spaceID, id string, values map[string]string) (Entry, error) {
	e, err := v.Entry(ctx, spaceID, id)
	if err != nil {
		return Entry{}, err
	}
	if err := v.stillPending(e); err != nil {
		return Entry{}, err
	}
	fields, err := entryValues(e, values)
	if err != nil {
		return Entry{}, err
	}
	now := v.now()
	if err := v.store.ClaimEntry(ctx, spaceID, id, now, now.Add(-entryClaimHold)); err != nil {
		if errors.Is(err, ErrConflict) {
			return Entry{}, fmt.Errorf("entry for %s is being filled, or was just filled: %w", e.Name, ErrConflict)
		}
		return Entry{}, err
	}
	meta, err := v.writeEntry(ctx, actor, e, fields)
	if err != nil {
		if rerr := v.store.ReleaseEntry(context.WithoutCancel(ctx), spaceID, id); rerr != nil {
			v.log.Warn("releasing an entry after a failed fill", "entry", id, "err", rerr)
		}
		return Entry{}, err
	}
	e.State, e.SecretID, e.Version, e.DoneBy, e.DoneAt = EntryDone, meta.ID, meta.Version, actor.Name, v.now()
	c, env, err := v.collectionAndEnv(ctx, spaceID, e.CollectionID, e.EnvironmentID)
	if err != nil {
		return Entry{}, err
	}
	if err := v.store.FinishEntry(ctx, e, v.event(actor, spaceID, "entry.fill", entryTarget(c, env, e))); err != nil {
		return Entry{}, fmt.Errorf("entry for %s: the secret is stored, but the entry could not be marked done: %w", e.Name, err)
	}
	return e, nil
}

// entryValues checks the values typed into e: its fields and no others, the required
// ones of the type not empty, and no API key.
func entryValues(e Entry, values map[string]string) (map[string]string, error) {
	required, _ := e.Type.StoredFields()
	out := make(map[string]string, len(e.Fields))
	for _, f := range slices.Sorted(maps.Keys(values)) {
		if !slices.Contains(e.Fields, f) {
			return nil, fmt.Errorf("%w field %q: the entry asks for %s", ErrInvalid, secret.Excerpt(f), strings.Join(e.Fields, ", "))
		}
	}
	for _, f := range e.Fields {
		val := values[f]
		if val == "" && slices.Contains(required, f) {
			return nil, fmt.Errorf("%w field %q: enter a value", ErrInvalid, f)
		}
		if LooksLikeAPIKey(val) {
			return nil, fmt.Errorf("%w field %q: this is a kazzle API key, which is never stored as a secret; enter the value asked for", ErrInvalid, f)
		}
		if val != "" {
			out[f] = val
		}
	}
	return out, nil
}

// writeEntry stores an entry's values as actor: an update of the secret of its name in
// its collection and environment, or a new one.
func (v *Vault) writeEntry(ctx context.Context, actor Actor, e Entry, fields map[string]string) (SecretMeta, error) {
	existing, err := v.store.Secrets(ctx, SecretQuery{SpaceID: e.SpaceID, CollectionID: e.CollectionID, ForEnvironment: e.EnvironmentID})
	if err != nil {
		return SecretMeta{}, err
	}
	for _, s := range existing {
		if s.Name != e.Name || s.EnvironmentID != e.EnvironmentID {
			continue
		}
		if s.Type != e.Type {
			return SecretMeta{}, fmt.Errorf("%w secret %s is a %s secret, and the entry asks for a %s one", ErrInvalid, s.Name, s.Type, e.Type)
		}
		u := SecretUpdate{SpaceID: e.SpaceID, ID: s.ID, Version: s.Version, Fields: fields, Merge: true}
		if e.Note != "" {
			u.Note = &e.Note
		}
		if e.Hosts != nil {
			hosts := []string(e.Hosts)
			u.Hosts = &hosts
		}
		return v.UpdateSecret(ctx, actor, u)
	}
	return v.CreateSecret(ctx, actor, SecretInput{SpaceID: e.SpaceID, Collection: e.CollectionID, Environment: e.EnvironmentID,
		Name: e.Name, Type: e.Type, Note: e.Note, Fields: fields, Hosts: e.Hosts})
}
