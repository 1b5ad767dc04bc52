package vault

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/kazzle/kazzle/secret"
)

// Options configure a Vault. The zero value is usable.
type Options struct {
	KeyCache KeyCacheOptions
	// Now is the clock (time.Now by default); tests move it.
	Now func() time.Time
	// Logger receives operational events (never a value); nil discards them.
	Logger *slog.Logger
	// MaxSpaces caps the live spaces of the server (DefaultMaxSpaces when 0).
	MaxSpaces int
	// MaxSpaceNames caps the spaces the server ever held, live and deleted
	// (DefaultMaxSpaceNames when 0).
	MaxSpaceNames int
}

// DefaultMaxSpaces caps the live spaces of a server: each holds a data key in memory
// when in use and a row per space in every list of them; deleting a space frees its
// place (its name stays taken).
const DefaultMaxSpaces = 10000

// DefaultMaxSpaceNames caps the spaces a server ever held: a deleted space keeps its
// name, a row each in the list of spaces, so that it never comes to mean another tenant,
// and creating and deleting spaces in a loop must not grow that list without end. It is
// ten times the live spaces' cap, a few MiB of names.
const DefaultMaxSpaceNames = 10 * DefaultMaxSpaces

// Vault is the encrypted store as its callers see it: plaintext in, plaintext out, sealed
// in the Store. It is safe for concurrent use.
type Vault struct {
	store  Store
	keys   *keyring
	sealed *sealedCache
	// checking holds a token while a Check runs: one at a time, since each opens a
	// whole collection, one secret after another.
	checking  chan struct{}
	auth      authCache
	maxSpaces int
	maxNames  int
	now       func() time.Time
	log       *slog.Logger
}

// New returns a Vault over store whose data keys are wrapped by w.
func New(store Store, w KeyWrapper, o Options) *Vault {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	utc := func() time.Time { return now().UTC() }
	if o.MaxSpaces <= 0 {
		o.MaxSpaces = DefaultMaxSpaces
	}
	if o.MaxSpaceNames <= 0 {
		o.MaxSpaceNames = DefaultMaxSpaceNames
	}
	return &Vault{store: store, keys: newKeyring(w, o.KeyCache, now), sealed: newSealedCache(), auth: newAuthCache(utc), maxSpaces: o.MaxSpaces, maxNames: o.MaxSpaceNames,
		now: utc, log: log, checking: make(chan struct{}, 1)}
}

// Now is the vault's clock, in UTC: what entries and sessions expire by.
func (v *Vault) Now() time.Time { return v.now() }

// Store returns the underlying store, for reads that need no plaintext.
func (v *Vault) Store() Store { return v.store }

func (v *Vault) event(actor Actor, spaceID, action string, target AuditTarget) AuditEvent {
	return AuditEvent{
		SpaceID: spaceID, Time: v.now(), ActorKeyID: actor.KeyID, ActorName: actor.Name,
		ClientAddr: actor.ClientAddr, Action: action, Target: target, Outcome: OutcomeOK,
	}
}

// aead returns the cipher of a space's data key, from the cache when it can.
func (v *Vault) aead(ctx context.Context, spaceID string) (cipher.AEAD, error) {
	if aead, ok := v.keys.cached(spaceID); ok {
		return aead, nil // a hit builds no load function: the resolve path allocates nothing here
	}
	return v.keys.aead(ctx, spaceID, func(ctx context.Context) (WrappedKey, error) {
		v.log.Debug("unwrapping data key", "space", spaceID)
		return v.store.SpaceKey(ctx, spaceID)
	})
}

// CreateSpace creates a space with a new data key from the key wrapper. Its name is a
// slug that no space, live or deleted, has had; the event goes to the server trail.
func (v *Vault) CreateSpace(ctx context.Context, actor Actor, name string) (s Space, err error) {
	// One creation at a time, across replicas too: the count of spaces it checks the
	// cap against stays true until its own is written.
	err = v.store.Exclusively(ctx, func(ctx context.Context) error {
		s, err = v.createSpace(ctx, actor, name)
		return err
	})
	return s, err
}

// createSpace is CreateSpace within Exclusively.
func (v *Vault) createSpace(ctx context.Context, actor Actor, name string) (Space, error) {
	if err := secret.ValidateSlug("space", name); err != nil {
		return Space{}, err
	}
	all, err := v.store.AllSpaces(ctx)
	if err != nil {
		return Space{}, err
	}
	live := 0
	for _, s := range all {
		if s.DeletedAt.IsZero() {
			live++
		}
	}
	if live >= v.maxSpaces {
		return Space{}, fmt.Errorf("space %s: the server holds %d spaces, its most; delete one first: %w", name, live, ErrLimit)
	}
	if len(all) >= v.maxNames {
		return Space{}, fmt.Errorf("space %s: the server has held %d spaces, deleted ones included, its most (a deleted space keeps its name so that it never means another tenant): use a live space instead: %w", name, len(all), ErrLimit)
	}
	s := Space{ID: uuid.NewString(), Name: name, CreatedAt: v.now()}
	key, wrapped, err := v.keys.keyWrapper().GenerateDataKey(ctx, s.ID)
	if err != nil {
		return Space{}, fmt.Errorf("generate data key for space %s: %w", s.ID, err)
	}
	defer clear(key)
	ev := v.event(actor, "", "space.create", AuditTarget{SpaceID: s.ID, SpaceName: name, WrappingKeyID: wrapped.KeyID})
	if err := v.store.CreateSpace(ctx, s, wrapped, ev); err != nil {
		if errors.Is(err, ErrExists) {
			return Space{}, fmt.Errorf("space %s: the name is taken, by a live space or a deleted one (names are never reused): %w", name, ErrExists)
		}
		return Space{}, fmt.Errorf("create space: %w", err)
	}
	if err := v.keys.put(s.ID, key); err != nil {
		return Space{}, err
	}
	v.log.Info("space created", "space", s.ID, "wrapping_key", wrapped.KeyID)
	return s, nil
}

// CreateCollection creates a collection in a space.
func (v *Vault) CreateCollection(ctx context.Context, actor Actor, spaceID, slug, name string) (Collection, error) {
	if err := secret.ValidateSlug("collection", slug); err != nil {
		return Collection{}, err
	}
	if name == "" {
		name = slug
	}
	c := Collection{ID: uuid.NewString(), SpaceID: spaceID, Slug: slug, Name: name, CreatedAt: v.now()}
	ev := v.event(actor, spaceID, "collection.create", AuditTarget{CollectionID: c.ID, Collection: slug})
	if err := v.store.CreateCollection(ctx, c, ev); err != nil {
		return Collection{}, fmt.Errorf("create collection %s: %w", slug, err)
	}
	return c, nil
}

// DeleteCollection deletes a collection with all its environments and secrets.
func (v *Vault) DeleteCollection(ctx context.Context, actor Actor, spaceID, collection string) error {
	c, err := v.store.Collection(ctx, spaceID, collection)
	if err != nil {
		return err
	}
	ev := v.event(actor, spaceID, "collection.delete", AuditTarget{CollectionID: c.ID, Collection: c.Slug})
	return v.store.DeleteCollection(ctx, spaceID, c.ID, ev)
}

// CreateEnvironment creates an environment in a collection (given by id or slug).
func (v *Vault) CreateEnvironment(ctx context.Context, actor Actor, spaceID, collection, slug string) (Environment, error) {
	if err := secret.ValidateSlug("environment", slug); err != nil {
		return Environment{}, err
	}
	c, err := v.store.Collection(ctx, spaceID, collection)
	if err != nil {
		return Environment{}, err
	}
	e := Environment{ID: uuid.NewString(), SpaceID: spaceID, CollectionID: c.ID, Slug: slug, CreatedAt: v.now()}
	ev := v.event(actor, spaceID, "environment.create", AuditTarget{CollectionID: c.ID, Collection: c.Slug, EnvironmentID: e.ID, Environment: slug})
	if err := v.store.CreateEnvironment(ctx, e, ev); err != nil {
		return Environment{}, fmt.Errorf("create environment %s of %s: %w", slug, c.Slug, err)
	}
	return e, nil
}

// DeleteEnvironment deletes an environment with the secrets tagged with it, every version
// of them, and its one-time entries. Active API keys limited to it make it refuse with a
// *LimitedKeysError, unless revokeKeys: then they are revoked and deleted with it, in
// the same transaction, and the audit event names them.
func (v *Vault) DeleteEnvironment(ctx context.Context, actor Actor, spaceID, collection, env string, revokeKeys bool) error {
	c, err := v.store.Collection(ctx, spaceID, collection)
	if err != nil {
		return err
	}
	e, err := v.store.Environment(ctx, spaceID, c.ID, env)
	if err != nil {
		return err
	}
	at := v.now()
	target := AuditTarget{CollectionID: c.ID, Collection: c.Slug, EnvironmentID: e.ID, Environment: e.Slug}
	if revokeKeys {
		keys, err := v.store.APIKeys(ctx, spaceID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.EnvironmentID == e.ID && k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || k.ExpiresAt.After(at)) {
				target.RevokedKeys = append(target.RevokedKeys, k.ID)
			}
		}
	}
	err = v.store.DeleteEnvironment(ctx, spaceID, e.ID, target.RevokedKeys, at, v.event(actor, spaceID, "environment.delete", target))
	for _, id := range target.RevokedKeys {
		v.auth.forget(id)
	}
	var limited *LimitedKeysError
	if errors.As(err, &limited) {
		limited.Environment, limited.Collection = e.Slug, c.Slug
	}
	return err
}

// UnlistedKeys counts the keys not in listed: for stores, the active keys limited to an
// environment that its deletion was not told to revoke.
func UnlistedKeys(keys, listed []string) int {
	n := 0
	for _, k := range keys {
		if !slices.Contains(listed, k) {
			n++
		}
	}
	return n
}

// RenameEnvironment gives an environment a new slug. API keys limited to it, and its
// secrets, hold its id, so they keep working; what names it by slug (a --env flag, a
// project config) must say the new one.
func (v *Vault) RenameEnvironment(ctx context.Context, actor Actor, spaceID, collection, env, slug string) (Environment, error) {
	if err := secret.ValidateSlug("environment", slug); err != nil {
		return Environment{}, err
	}
	c, err := v.store.Collection(ctx, spaceID, collection)
	if err != nil {
		return Environment{}, err
	}
	e, err := v.store.Environment(ctx, spaceID, c.ID, env)
	if err != nil {
		return Environment{}, err
	}
	ev := v.event(actor, spaceID, "environment.rename", AuditTarget{CollectionID: c.ID, Collection: c.Slug, EnvironmentID: e.ID, Environment: slug, From: e.Slug})
	if err := v.store.RenameEnvironment(ctx, spaceID, e.ID, slug, ev); err != nil {
		return Environment{}, fmt.Errorf("rename environment %s of %s: %w", e.Slug, c.Slug, err)
	}
	e.Slug = slug
	return e, nil
}

// Rewrap wraps every space's data key under the key wrapper to, without touching a sealed
// field, and makes to the wrapper for new spaces. Keys already wrapped under to's key are
// left as they are, so a Rewrap that failed part way can simply be run again. It reports
// how many keys it moved.
func (v *Vault) Rewrap(ctx context.Context, actor Actor, to KeyWrapper) (int, error) {
	from := v.keys.keyWrapper()
	target, err := to.KeyID(ctx)
	if err != nil {
		return 0, fmt.Errorf("rewrap: name the new key: %w", err)
	}
	spaces, err := v.store.Spaces(ctx)
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, s := range spaces {
		old, err := v.store.SpaceKey(ctx, s.ID)
		if err != nil {
			return moved, err
		}
		if old.KeyID == target {
			continue
		}
		key, err := from.UnwrapDataKey(ctx, s.ID, old)
		if err != nil {
			return moved, fmt.Errorf("rewrap space %s: unwrap under %s: %w", s.ID, old.KeyID, err)
		}
		wrapped, err := to.WrapDataKey(ctx, s.ID, key)
		clear(key)
		if err != nil {
			return moved, fmt.Errorf("rewrap space %s: wrap: %w", s.ID, err)
		}
		ev := v.event(actor, s.ID, "space.rewrap", AuditTarget{SpaceName: s.Name, WrappingKeyID: wrapped.KeyID})
		if err := v.store.ReplaceSpaceKey(ctx, s.ID, old, wrapped, ev); err != nil {
			return moved, fmt.Errorf("rewrap space %s: %w", s.ID, err)
		}
		moved++
		v.log.Info("data key rewrapped", "space", s.ID, "from", old.KeyID, "to", wrapped.KeyID)
	}
	v.keys.setWrapper(to)
	return moved, nil
}

// Audit returns audit events, newest first.
func (v *Vault) Audit(ctx context.Context, q AuditQuery) ([]AuditEvent, error) {
	return v.store.Audit(ctx, q)
}

// Record appends an audit event for something outside the vault's own operations, such
// as a refused request.
func (v *Vault) Record(ctx context.Context, actor Actor, spaceID, action, outcome string, target AuditTarget) error {
	ev := v.event(actor, spaceID, action, target)
	ev.Outcome = outcome
	return v.store.AppendAudit(ctx, ev)
}

// PruneAudit deletes audit events older than the retention period.
func (v *Vault) PruneAudit(ctx context.Context, retention time.Duration) (int64, error) {
	if retention <= 0 {
		return 0, errors.New("audit retention must be positive")
	}
	return v.store.PruneAudit(ctx, v.now().Add(-retention))
}
