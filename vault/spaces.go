package vault

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Actions of the server trail, the audit events of no space.
const (
	ActionSpaceCreate        = "space.create"
	ActionSpaceDelete        = "space.delete"
	ActionOperatorKeyRecover = "operator.key.recover"
	ActionAdminKeyRecover    = "key.recover"
	recoveredAdminKeyName    = "recovered-admin"
	recoveredOperatorKeyName = "operator"
	firstAdminKeyName        = "admin"
)

// CreateSpaceWithAdmin creates a space and its first admin key, and returns the key,
// which is shown this once. The space's creation goes to the server trail, the key's to
// the new space's own.
func (v *Vault) CreateSpaceWithAdmin(ctx context.Context, actor Actor, name string) (Space, string, error) {
	s, err := v.CreateSpace(ctx, actor, name)
	if err != nil {
		return Space{}, "", err
	}
	_, token, err := v.CreateAPIKey(ctx, actor, NewAPIKey{SpaceID: s.ID, Name: firstAdminKeyName, Role: RoleAdmin})
	if err != nil {
		return Space{}, "", fmt.Errorf("space %s was created without its admin key (kazzle server recover-admin --space %s makes one): %w", name, name, err)
	}
	return s, token, nil
}

// SpaceByName finds a live space by name; a deleted one is ErrNotFound.
func (v *Vault) SpaceByName(ctx context.Context, name string) (Space, error) {
	s, err := v.store.SpaceByName(ctx, name)
	if err != nil {
		return Space{}, err
	}
	if !s.DeletedAt.IsZero() {
		return Space{}, fmt.Errorf("space %s was deleted: %w", name, ErrNotFound)
	}
	return s, nil
}

// AllSpaces lists every space the server ever held, oldest first; deleted ones have
// DeletedAt set.
func (v *Vault) AllSpaces(ctx context.Context) ([]Space, error) {
	return v.store.AllSpaces(ctx)
}

// DeleteSpace deletes a live space and everything in it, in one transaction, and keeps
// its name so that no new space takes it. Its API keys stop working at once through this
// Vault, and within KeyCacheTTL through others on the same database. The event goes to
// the server trail.
func (v *Vault) DeleteSpace(ctx context.Context, actor Actor, name string) (Space, error) {
	s, err := v.SpaceByName(ctx, name)
	if err != nil {
		return Space{}, err
	}
	at := v.now()
	ev := v.event(actor, "", ActionSpaceDelete, AuditTarget{SpaceID: s.ID, SpaceName: s.Name})
	err = v.store.DeleteSpace(ctx, s.ID, at, ev)
	// Forgotten whatever the outcome: at worst, keys that still work are read again.
	v.auth.forgetSpace(s.ID)
	v.keys.keys.Remove(s.ID)
	if err != nil {
		return Space{}, fmt.Errorf("delete space %s: %w", name, err)
	}
	s.DeletedAt = at
	v.log.Info("space deleted", "space", s.ID)
	return s, nil
}

// RecoverAdminKey makes a new admin key of a live space, for whoever runs the server
// and lost the space's admin keys, and returns it, shown this once. The space's other
// keys keep working. It requires the key wrapper to open the space's data key: a
// recovery is made where the server's storage and key wrapper both are, with the
// server's configuration. The event, in the space's trail, says how the key came to be.
func (v *Vault) RecoverAdminKey(ctx context.Context, actor Actor, spaceID string) (APIKey, string, error) {
	if _, err := v.store.Space(ctx, spaceID); err != nil {
		return APIKey{}, "", err
	}
	if err := v.opensDataKey(ctx, spaceID); err != nil {
		return APIKey{}, "", err
	}
	k, token, err := v.newKey(APIKey{SpaceID: spaceID, Name: recoveredAdminKeyName, Role: RoleAdmin})
	if err != nil {
		return APIKey{}, "", err
	}
	ev := v.event(actor, spaceID, ActionAdminKeyRecover, AuditTarget{KeyID: k.ID, Key: k.Name, Reason: "made by kazzle server recover-admin where the server's storage and key wrapper are"})
	if err := v.store.CreateAPIKey(ctx, k, ev); err != nil {
		return APIKey{}, "", fmt.Errorf("create API key %s: %w", k.Name, err)
	}
	return k, token, nil
}

// CreateOperatorKey makes a new operator key, which lives in no space, and returns it,
// shown this once. With revokeOthers, every other operator key is revoked with it, in
// one transaction: they stop working at once through this Vault, and within KeyCacheTTL
// through others. Like RecoverAdminKey, it requires the key wrapper to open a space's
// data key (the oldest live one's); with no live space there is none to open, and the
// key has nothing inside a space to reach. The event goes to the server trail and
// names the keys revoked.
func (v *Vault) CreateOperatorKey(ctx context.Context, actor Actor, revokeOthers bool) (APIKey, string, error) {
	spaces, err := v.store.Spaces(ctx)
	if err != nil {
		return APIKey{}, "", err
	}
	if len(spaces) > 0 {
		if err := v.opensDataKey(ctx, spaces[0].ID); err != nil {
			return APIKey{}, "", err
		}
	}
	k, token, err := v.newKey(APIKey{Name: recoveredOperatorKeyName, Role: RoleOperator})
	if err != nil {
		return APIKey{}, "", err
	}
	ev := v.event(actor, "", ActionOperatorKeyRecover, AuditTarget{KeyID: k.ID, Key: k.Name, Reason: "made by kazzle server recover-admin --operator where the server's storage and key wrapper are"})
	err = v.store.CreateOperatorKey(ctx, k, revokeOthers, ev)
	if revokeOthers {
		// Whatever the outcome: at worst, keys that still work are read again.
		v.auth.c.RemoveFunc(func(c APIKey) bool { return c.Role == RoleOperator })
	}
	if err != nil {
		return APIKey{}, "", fmt.Errorf("create operator key: %w", err)
	}
	return k, token, nil
}

// opensDataKey checks that the key wrapper unwraps the data key of a space.
func (v *Vault) opensDataKey(ctx context.Context, spaceID string) error {
	if _, err := v.aead(ctx, spaceID); err != nil {
		return fmt.Errorf("the key wrapper does not open the vault (is it the server's?): %w", err)
	}
	return nil
}

// newKey fills k's id, creation time, hash and prefix with a new token, and returns the token.
func (v *Vault) newKey(k APIKey) (APIKey, string, error) {
	token, err := newAPIKeyToken()
	if err != nil {
		return APIKey{}, "", fmt.Errorf("generate API key: %w", err)
	}
	k.ID, k.CreatedAt = uuid.NewString(), v.now()
	k.Hash = HashAPIKey(token)
	k.Prefix = token[:len(APIKeyPrefix)+4]
	return k, token, nil
}

// ServerAudit returns events of the server trail, newest first: operator actions and
// refusals of requests without a valid key.
func (v *Vault) ServerAudit(ctx context.Context, q AuditQuery) ([]AuditEvent, error) {
	if q.SpaceID != "" {
		return nil, errors.New("the server trail holds events of no space")
	}
	q.Server = true
	return v.store.Audit(ctx, q)
}
