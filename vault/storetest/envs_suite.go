package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// testDeletingAnEnvironmentWithLimitedKeys: active keys limited to an environment hold
// off its deletion, which then changes nothing; told to revoke them, the deletion takes
// them with it in one transaction, names them in its audit event, and they stop working
// at once. Revoked and expired keys do not count.
func testDeletingAnEnvironmentWithLimitedKeys(t *testing.T, f *Fixture) {
	ctx := context.Background()
	newKey := func(name, env string, expires time.Time) (vault.APIKey, string) {
		k, token, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: name, Role: vault.RoleRead, Collection: "my-saas", Environment: env, ExpiresAt: expires})
		if err != nil {
			t.Fatal(err)
		}
		return k, token
	}
	f.Put(t, "dev", "DEV_ONLY", "x")
	ci, ciToken := newKey("ci", "dev", time.Time{})
	_, _ = newKey("soon", "dev", f.Clock.Now().Add(time.Hour))
	revoked, _ := newKey("old", "dev", time.Time{})
	if err := f.Vault.RevokeAPIKey(ctx, f.Actor, f.Space.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	prodKey, prodToken := newKey("prod-ci", "prod", time.Time{})
	if _, err := f.Vault.Authenticate(ctx, ciToken); err != nil {
		t.Fatal(err)
	}

	err := f.Vault.DeleteEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev", false)
	var limited *vault.LimitedKeysError
	if !errors.As(err, &limited) || limited.Keys != 2 || limited.Environment != "dev" || limited.Collection != "my-saas" {
		t.Fatalf("deleting dev with two active keys limited to it: %v", err)
	}
	if _, err := f.Store.Environment(ctx, f.Space.ID, f.Coll.ID, "dev"); err != nil {
		t.Fatalf("a refused deletion deleted dev: %v", err)
	}

	// Expired keys do not count: past the hour, one key holds it off.
	f.Clock.Advance(2 * time.Hour)
	err = f.Vault.DeleteEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev", false)
	if !errors.As(err, &limited) || limited.Keys != 1 {
		t.Fatalf("with one active key left: %v", err)
	}

	if err := f.Vault.DeleteEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev", true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.Environment(ctx, f.Space.ID, f.Coll.ID, "dev"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("dev after its deletion: %v", err)
	}
	if _, err := f.Vault.Authenticate(ctx, ciToken); !errors.Is(err, vault.ErrUnauthenticated) {
		t.Fatalf("a key limited to a deleted environment still authenticates: %v", err)
	}
	if _, err := f.Vault.Authenticate(ctx, prodToken); err != nil {
		t.Fatalf("a key limited to another environment: %v", err)
	}
	keys, err := f.Store.APIKeys(ctx, f.Space.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.EnvironmentID == f.Dev.ID {
			t.Errorf("key %s outlived its environment", k.Name)
		}
	}
	if !slices.ContainsFunc(keys, func(k vault.APIKey) bool { return k.ID == prodKey.ID }) {
		t.Error("a key of another environment went too")
	}
	evs, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: "environment.delete"})
	if err != nil || len(evs) != 1 {
		t.Fatalf("environment.delete events: %d, %v", len(evs), err)
	}
	if got := evs[0].Target.RevokedKeys; !slices.Equal(got, []string{ci.ID}) {
		t.Errorf("the deletion names revoked keys %v, want [%s]", got, ci.ID)
	}
}

// testRenamingAnEnvironment: a new slug, the old one gone, secrets and keys limited to it
// kept (they hold its id); a taken slug or a bad one changes nothing; audited with both
// slugs.
func testRenamingAnEnvironment(t *testing.T, f *Fixture) {
	ctx := context.Background()
	f.Put(t, "dev", "TOKEN", "dev-token")
	_, token, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "dev-ci", Role: vault.RoleRead, Collection: "my-saas", Environment: "dev"})
	if err != nil {
		t.Fatal(err)
	}
	// Resolve once, so cached lookups of the old slug exist.
	if _, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.RenameEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev", "prod")
	wantErr(t, err, vault.ErrExists, "renaming to a taken slug")
	_, err = f.Vault.RenameEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev", "Dev Env")
	wantErr(t, err, secret.ErrInvalid, "renaming to a bad slug")
	_, err = f.Vault.RenameEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "nope", "x")
	wantErr(t, err, vault.ErrNotFound, "renaming a missing environment")

	e, err := f.Vault.RenameEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev", "development")
	if err != nil || e.ID != f.Dev.ID || e.Slug != "development" {
		t.Fatalf("rename: %+v, %v", e, err)
	}
	_, _, err = f.Store.CollectionAndEnvironment(ctx, f.Space.ID, "my-saas", "dev")
	wantErr(t, err, vault.ErrNotFound, "the old slug")
	vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "development"})
	if err != nil || len(vars) != 1 || vars[0].Value != "dev-token" {
		t.Fatalf("resolving the new slug: %+v, %v", vars, err)
	}
	k, err := f.Vault.Authenticate(ctx, token)
	if err != nil || k.EnvironmentID != f.Dev.ID {
		t.Fatalf("the key limited to the renamed environment: %+v, %v", k, err)
	}
	evs, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: "environment.rename"})
	if err != nil || len(evs) != 1 || evs[0].Target.From != "dev" || evs[0].Target.Environment != "development" || evs[0].Target.EnvironmentID != f.Dev.ID {
		t.Fatalf("environment.rename events: %+v, %v", evs, err)
	}
}

// testDiffComparesInsideTheVault: names in one environment only, and for the others
// whether they resolve alike (through references too; a TOTP secret by its seed); two
// read events that name what each side opened; nothing in the answer or the events
// holds a value.
func testDiffComparesInsideTheVault(t *testing.T, f *Fixture) {
	ctx := context.Background()
	f.Put(t, "", "SHARED", "shared-value-71")
	f.Put(t, "dev", "SAME", "same-value-42")
	f.Put(t, "prod", "SAME", "same-value-42")
	f.Put(t, "dev", "DIFFERENT", "dev-value-13")
	f.Put(t, "prod", "DIFFERENT", "prod-value-99")
	f.Put(t, "dev", "DEV_ONLY", "dev-only-5")
	f.Put(t, "prod", "PROD_ONLY", "prod-only-6")
	target := f.Put(t, "prod", "TARGET", "target-value-8")
	f.Put(t, "dev", "VIA_REF", "target-value-8")
	if _, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "prod", Name: "VIA_REF",
		Fields: map[string]string{"value": "${secret." + target.ID + ".value}"}}); err != nil {
		t.Fatal(err)
	}
	for env, seed := range map[string]string{"dev": "JBSWY3DPEHPK3PXP", "prod": "GEZDGNBVGY3TQOJQ"} {
		if _, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Environment: env, Name: "OTP", Type: secret.TypeTOTP,
			Fields: map[string]string{"seed": seed}}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := f.Vault.Diff(ctx, f.Actor, vault.DiffRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environments: [2]string{"dev", f.Prod.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Environments != [2]string{"dev", "prod"} || d.Collection != "my-saas" {
		t.Errorf("diff of %s %v", d.Collection, d.Environments)
	}
	want := []vault.DiffName{
		{Name: "DEV_ONLY", In: [2]bool{true, false}},
		{Name: "DIFFERENT", In: [2]bool{true, true}},
		{Name: "OTP", In: [2]bool{true, true}},
		{Name: "PROD_ONLY", In: [2]bool{false, true}},
		{Name: "SAME", In: [2]bool{true, true}, Equal: true},
		{Name: "SHARED", In: [2]bool{true, true}, Equal: true, Shared: true},
		{Name: "TARGET", In: [2]bool{false, true}},
		{Name: "VIA_REF", In: [2]bool{true, true}, Equal: true},
	}
	if !slices.Equal(d.Names, want) {
		t.Errorf("diff names\n got %+v\nwant %+v", d.Names, want)
	}
	evs, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: "secrets.diff"})
	if err != nil || len(evs) != 2 {
		t.Fatalf("secrets.diff events: %d, %v", len(evs), err)
	}
	byEnv := map[string]vault.AuditTarget{}
	for _, ev := range evs {
		byEnv[ev.Target.Environment] = ev.Target
	}
	if !slices.Contains(byEnv["dev"].Secrets, "DEV_ONLY") || !slices.Contains(byEnv["prod"].Secrets, "PROD_ONLY") {
		t.Errorf("the read events do not name what each side opened: %+v", byEnv)
	}
	if !slices.Contains(byEnv["prod"].Referenced, target.ID) && !slices.Contains(byEnv["prod"].Secrets, "TARGET") {
		t.Errorf("the prod read does not name the referenced secret: %+v", byEnv["prod"])
	}
	out, _ := json.Marshal(struct {
		D   vault.Diff
		Evs []vault.AuditEvent
	}{d, evs})
	for _, v := range []string{"shared-value-71", "same-value-42", "dev-value-13", "prod-value-99", "target-value-8", "JBSWY3DPEHPK3PXP"} {
		if strings.Contains(string(out), v) {
			t.Errorf("a value is in the diff or its events")
		}
	}

	_, err = f.Vault.Diff(ctx, f.Actor, vault.DiffRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environments: [2]string{"dev", f.Dev.ID}})
	wantErr(t, err, vault.ErrInvalid, "the same environment twice")
	_, err = f.Vault.Diff(ctx, f.Actor, vault.DiffRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environments: [2]string{"dev", ""}})
	wantErr(t, err, vault.ErrInvalid, "one environment")
	refused := errors.New("refused")
	_, err = f.Vault.Diff(ctx, f.Actor, vault.DiffRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environments: [2]string{"dev", "prod"},
		Allow: func(_ vault.Collection, e vault.Environment) error {
			if e.Slug == "prod" {
				return refused
			}
			return nil
		}})
	if !errors.Is(err, refused) {
		t.Fatalf("a diff with one environment refused: %v", err)
	}
	if evs, _ := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: "secrets.diff"}); len(evs) != 2 {
		t.Errorf("refused diffs recorded reads: %d events", len(evs))
	}
}
