package vault_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/storetest"
)

// TestRollbackObeysTodaysRulesForAWrite: a version stored before a rule existed (a NUL
// byte, a field past the size limit) does not come back through a rollback, and a
// stored field past the expansion cap fails the read that would return it.
func TestRollbackObeysTodaysRulesForAWrite(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, t.TempDir())
	defer store.Close()
	f := storetest.NewFixture(t, store, vault.Options{})
	m := f.Put(t, "dev", "OLD", "ok")
	for _, old := range []string{"nul-\x00-value", strings.Repeat("x", secret.MaxFieldSize+1)} {
		planted, err := f.Vault.WriteUncheckedVersion(ctx, f.Actor, f.Space.ID, m.ID, map[string]string{"value": old})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"})
		if len(old) > resolver.MaxExpandedField && !errors.Is(err, resolver.ErrExpansionTooLarge) {
			t.Fatalf("resolving a stored field past the cap: err = %v", err)
		}
		cur, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: planted.Version, Fields: map[string]string{"value": "fine"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Vault.Rollback(ctx, f.Actor, f.Space.ID, m.ID, planted.Version, cur.Version)
		if !errors.Is(err, vault.ErrInvalid) {
			t.Fatalf("rollback to a version past today's rules: err = %v", err)
		}
		if got, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 0); err != nil || got.Version != cur.Version || got.Fields["value"] != "fine" {
			t.Fatalf("the refused rollback changed the secret: version %d, %v", got.Version, err)
		}
	}
}
