package storetest

import (
	"context"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/vault"
)

// testSpaceNamesAreSlugsNeverReused: a space's name follows the slug rules, is unique,
// and stays taken after the space is deleted.
func testSpaceNamesAreSlugsNeverReused(t *testing.T, f *Fixture) {
	ctx := context.Background()
	before, err := f.Store.AllSpaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "Acme", "-acme", "acme team", "acme_1", strings.Repeat("a", 64)} {
		_, err := f.Vault.CreateSpace(ctx, f.Actor, name)
		wantErr(t, err, vault.ErrInvalid, "space name "+name)
	}
	longest := strings.Repeat("a", 63)
	if _, err := f.Vault.CreateSpace(ctx, f.Actor, longest); err != nil {
		t.Fatalf("a 63-character name: %v", err)
	}
	_, err = f.Vault.CreateSpace(ctx, f.Actor, f.Space.Name)
	wantErr(t, err, vault.ErrExists, "a live space's name")

	gone, token, err := f.Vault.CreateSpaceWithAdmin(ctx, f.Actor, "globex")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.Authenticate(ctx, token); err != nil {
		t.Fatalf("the first admin key of a new space: %v", err)
	}
	if _, err := f.Vault.DeleteSpace(ctx, f.Actor, "globex"); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.CreateSpace(ctx, f.Actor, "globex")
	wantErr(t, err, vault.ErrExists, "a deleted space's name")
	_, err = f.Vault.DeleteSpace(ctx, f.Actor, "globex")
	wantErr(t, err, vault.ErrNotFound, "deleting a deleted space")
	_, err = f.Vault.DeleteSpace(ctx, f.Actor, "initech")
	wantErr(t, err, vault.ErrNotFound, "deleting an unknown space")

	live, err := f.Store.Spaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	all, err := f.Store.AllSpaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 2 || len(all) != len(before)+2 {
		t.Fatalf("%d live spaces and %d in all, want 2 (acme and the 63-character one) and %d", len(live), len(all), len(before)+2)
	}
	var listed vault.Space
	for _, s := range all {
		if s.ID == gone.ID {
			listed = s
		} else if !s.DeletedAt.IsZero() {
			t.Fatalf("live space %s is listed as deleted", s.Name)
		}
	}
	if listed.Name != "globex" || !listed.DeletedAt.Equal(f.Clock.Now()) {
		t.Fatalf("the deleted space is listed as %+v, want its name and the time of deletion", listed)
	}
	if _, err := f.Store.Space(ctx, gone.ID); err == nil {
		t.Fatal("Space finds a deleted space")
	}
}

// testSpacesAreCapped: past MaxSpaces live spaces a creation is refused and changes
// nothing; a deletion makes room again.
func testSpacesAreCapped(t *testing.T, f *Fixture) {
	ctx := context.Background()
	v := vault.New(f.Store, f.Wrapper, vault.Options{MaxSpaces: 3, Now: f.Clock.Now})
	for _, name := range []string{"b", "c"} { // with acme, 3: at the cap
		if _, err := v.CreateSpace(ctx, f.Actor, name); err != nil {
			t.Fatalf("space %s of 3: %v", name, err)
		}
	}
	_, err := v.CreateSpace(ctx, f.Actor, "d")
	wantErr(t, err, vault.ErrLimit, "a fourth space")
	if _, err := f.Store.SpaceByName(ctx, "d"); err == nil {
		t.Fatal("a refused space took its name")
	}
	if _, err := v.DeleteSpace(ctx, f.Actor, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.CreateSpace(ctx, f.Actor, "d"); err != nil {
		t.Fatalf("a space after a deletion made room: %v", err)
	}
}

// testSpaceNamesAreCapped: the names of deleted spaces stay taken, so past
// MaxSpaceNames spaces ever held a creation is refused even with room among the live
// ones, and changes nothing.
func testSpaceNamesAreCapped(t *testing.T, f *Fixture) {
	ctx := context.Background()
	v := vault.New(f.Store, f.Wrapper, vault.Options{MaxSpaceNames: 4, Now: f.Clock.Now})
	for _, name := range []string{"b", "c", "d"} { // with acme, 4 names: at the cap
		if _, err := v.CreateSpace(ctx, f.Actor, name); err != nil {
			t.Fatalf("space %s, name 4 at most: %v", name, err)
		}
		if _, err := v.DeleteSpace(ctx, f.Actor, name); err != nil {
			t.Fatal(err)
		}
	}
	_, err := v.CreateSpace(ctx, f.Actor, "e")
	wantErr(t, err, vault.ErrLimit, "a fifth name with one live space")
	if !strings.Contains(err.Error(), "deleted ones included") {
		t.Fatalf("the refusal does not say deleted spaces count: %v", err)
	}
	if all, err := f.Store.AllSpaces(ctx); err != nil || len(all) != 4 {
		t.Fatalf("names after the refusal: %d, %v; want 4", len(all), err)
	}
}

// testDeletingASpaceRemovesEverythingOfIt: a deletion takes every row of the space, its
// keys stop working at once (cached ones too), and another space keeps all it has.
func testDeletingASpaceRemovesEverythingOfIt(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m := f.Put(t, "dev", "TOKEN", "t-1")
	if _, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1,
		Fields: map[string]string{"value": "t-2"}}); err != nil {
		t.Fatal(err)
	}
	key, token, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "ci", Role: vault.RoleRead, Collection: f.Coll.Slug, Environment: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.Authenticate(ctx, token); err != nil { // now in the auth cache
		t.Fatal(err)
	}
	session, _, err := f.Vault.StartSession(ctx, f.Actor, key, "ui.signin")
	if err != nil {
		t.Fatal(err)
	}
	entry, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Environment: "dev", Name: "LATER"})
	if err != nil {
		t.Fatal(err)
	}

	other, otherToken, err := f.Vault.CreateSpaceWithAdmin(ctx, f.Actor, "other-team")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.CreateCollection(ctx, f.Actor, other.ID, f.Coll.Slug, ""); err != nil {
		t.Fatal(err)
	}
	kept, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: other.ID, Collection: f.Coll.Slug, Name: "TOKEN", Fields: map[string]string{"value": "theirs"}})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := f.Vault.DeleteSpace(ctx, f.Actor, f.Space.Name); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Authenticate(ctx, token)
	wantErr(t, err, vault.ErrUnauthenticated, "a key of the deleted space, cached before")
	_, err = f.Vault.SessionKey(ctx, session)
	wantErr(t, err, vault.ErrUnauthenticated, "a session of the deleted space")
	_, err = f.Store.Collection(ctx, f.Space.ID, f.Coll.ID)
	wantErr(t, err, vault.ErrNotFound, "a collection of the deleted space")
	_, err = f.Store.Environment(ctx, f.Space.ID, f.Coll.ID, f.Dev.ID)
	wantErr(t, err, vault.ErrNotFound, "an environment of the deleted space")
	_, err = f.Store.Secret(ctx, f.Space.ID, m.ID)
	wantErr(t, err, vault.ErrNotFound, "a secret of the deleted space")
	_, err = f.Store.SecretVersion(ctx, f.Space.ID, m.ID, 1)
	wantErr(t, err, vault.ErrNotFound, "an old version of a secret of the deleted space")
	_, err = f.Store.SpaceKey(ctx, f.Space.ID)
	wantErr(t, err, vault.ErrNotFound, "the wrapped data key of the deleted space")
	_, err = f.Store.Entry(ctx, f.Space.ID, entry.ID)
	wantErr(t, err, vault.ErrNotFound, "an entry of the deleted space")
	if keys, err := f.Store.APIKeys(ctx, f.Space.ID); err != nil || len(keys) != 0 {
		t.Fatalf("API keys of the deleted space: %d, %v", len(keys), err)
	}
	if colls, err := f.Store.Collections(ctx, f.Space.ID); err != nil || len(colls) != 0 {
		t.Fatalf("collections of the deleted space: %d, %v", len(colls), err)
	}
	_, err = f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "late", "")
	wantErr(t, err, vault.ErrNotFound, "a collection created in the deleted space")

	if _, err := f.Vault.Authenticate(ctx, otherToken); err != nil {
		t.Fatalf("the other space's key: %v", err)
	}
	s, err := f.Vault.Secret(ctx, other.ID, kept.ID, 0)
	if err != nil || s.Fields["value"] != "theirs" {
		t.Fatalf("the other space's secret after the deletion: %v", err)
	}

	trail, err := f.Vault.ServerAudit(ctx, vault.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) == 0 || trail[0].Action != vault.ActionSpaceDelete || trail[0].SpaceID != "" ||
		trail[0].Target.SpaceID != f.Space.ID || trail[0].Target.SpaceName != f.Space.Name || trail[0].ActorName != f.Actor.Name {
		t.Fatalf("newest event of the server trail: %+v", trail)
	}
}

// testOperatorKeysAndRecovery: an operator key authenticates with no space and the
// operator role, and is no key of any space; a recovered admin key joins a space's keys
// without ending the others. Each is in its trail.
func testOperatorKeysAndRecovery(t *testing.T, f *Fixture) {
	ctx := context.Background()
	op, opToken, err := f.Vault.CreateOperatorKey(ctx, vault.Actor{Name: "recover-admin"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(opToken, vault.APIKeyPrefix) {
		t.Fatal("an operator key does not start with the API key prefix")
	}
	got, err := f.Vault.Authenticate(ctx, opToken)
	if err != nil || got.ID != op.ID || got.Role != vault.RoleOperator || got.SpaceID != "" {
		t.Fatalf("Authenticate(operator key) = %+v, %v; want the operator role in no space", got, err)
	}
	f.Clock.Advance(2 * vault.KeyCacheTTL)
	if got, err := f.Vault.Authenticate(ctx, opToken); err != nil || got.Role != vault.RoleOperator {
		t.Fatalf("the operator key read again from the store: %+v, %v", got, err)
	}
	if keys, err := f.Store.APIKeys(ctx, ""); err != nil || len(keys) != 0 {
		t.Fatalf("keys of no space: %d, %v", len(keys), err)
	}

	_, oldToken, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "admin", Role: vault.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	rec, recToken, err := f.Vault.RecoverAdminKey(ctx, vault.Actor{Name: "recover-admin"}, f.Space.ID)
	if err != nil {
		t.Fatal(err)
	}
	for what, tok := range map[string]string{"the recovered key": recToken, "the key made before": oldToken} {
		k, err := f.Vault.Authenticate(ctx, tok)
		if err != nil || k.SpaceID != f.Space.ID || k.Role != vault.RoleAdmin {
			t.Fatalf("%s: %+v, %v", what, k, err)
		}
	}
	spaceTrail, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: vault.ActionAdminKeyRecover})
	if err != nil || len(spaceTrail) != 1 || spaceTrail[0].Target.KeyID != rec.ID || spaceTrail[0].ActorName != "recover-admin" {
		t.Fatalf("recovery in the space's trail: %+v, %v", spaceTrail, err)
	}
	serverTrail, err := f.Vault.ServerAudit(ctx, vault.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range serverTrail {
		if ev.SpaceID != "" {
			t.Fatalf("the server trail holds an event of space %s: %+v", ev.SpaceID, ev)
		}
		actions = append(actions, ev.Action)
	}
	if want := vault.ActionOperatorKeyRecover + " " + vault.ActionSpaceCreate; strings.Join(actions, " ") != want {
		t.Fatalf("server trail, newest first: %v, want %s", actions, want)
	}
	if serverTrail[0].Target.KeyID != op.ID {
		t.Fatalf("the operator key's event names key %s, want %s", serverTrail[0].Target.KeyID, op.ID)
	}

	// A new operator key that revokes the others: the old one stops at once, though
	// cached, and the event names it.
	newOp, newOpToken, err := f.Vault.CreateOperatorKey(ctx, vault.Actor{Name: "recover-admin"}, true)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Authenticate(ctx, opToken)
	wantErr(t, err, vault.ErrUnauthenticated, "an operator key revoked by a newer one")
	if k, err := f.Vault.Authenticate(ctx, newOpToken); err != nil || k.ID != newOp.ID {
		t.Fatalf("the new operator key: %+v, %v", k, err)
	}
	rotated, err := f.Vault.ServerAudit(ctx, vault.AuditQuery{Limit: 1})
	if err != nil || len(rotated) != 1 || rotated[0].Target.KeyID != newOp.ID || strings.Join(rotated[0].Target.RevokedKeys, ",") != op.ID {
		t.Fatalf("the event of the new operator key: %+v, %v; want it to name the revoked %s", rotated, err, op.ID)
	}
	opToken = newOpToken

	if _, err := f.Vault.DeleteSpace(ctx, f.Actor, f.Space.Name); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.Vault.RecoverAdminKey(ctx, f.Actor, f.Space.ID)
	wantErr(t, err, vault.ErrNotFound, "recovering a key of a deleted space")
	if _, err := f.Vault.Authenticate(ctx, opToken); err != nil {
		t.Fatalf("the operator key after a space's deletion: %v", err)
	}
}
