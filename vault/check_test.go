package vault_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/storetest"
)

// Rows that a write would refuse today, stored before the rule or grown past it since,
// are each reported once with their rule, and no value reaches a message.
func TestCheckReportsStoredSecretsThatBreakTodaysRules(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, t.TempDir())
	defer store.Close()
	f := storetest.NewFixture(t, store, vault.Options{})
	f.Put(t, "dev", "GOOD", "sk_live_fine_value_0001")
	nul := f.Put(t, "dev", "WITH_NUL", "ok")
	if _, err := f.Vault.WriteUncheckedVersion(ctx, f.Actor, f.Space.ID, nul.ID, map[string]string{"value": "secret-before\x00after"}); err != nil {
		t.Fatal(err)
	}
	bomb, err := storetest.PlantExpansionBomb(ctx, f.Vault, f.Actor, f.Space.ID, f.Coll.Slug, "prod", 2)
	if err != nil {
		t.Fatal(err)
	}

	problems, err := f.Vault.Check(ctx, f.Actor, f.Space.ID, f.Coll.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range problems {
		got[p.Secret.Name] = p.Rule
		if strings.Contains(p.Message, "secret-before") || strings.Contains(p.Message, "xxxxxxxx") {
			t.Errorf("%s: message %q holds a value", p.Secret.Name, p.Message)
		}
	}
	want := map[string]string{"WITH_NUL": vault.RuleValue, bomb[2].Name: vault.RuleExpansion}
	for name, rule := range want {
		if got[name] != rule {
			t.Errorf("%s: rule %q, want %q (all: %v)", name, got[name], rule, got)
		}
	}
	if _, reported := got["GOOD"]; reported {
		t.Errorf("GOOD was reported: %v", got)
	}
	// LEVEL1 expands to exactly 1 MiB of 16 leaves: past the field limit as well.
	if len(got) != 3 {
		t.Errorf("got %d problems, want 3: %v", len(got), got)
	}
	events, err := store.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 1})
	if err != nil || len(events) != 1 || events[0].Action != "secrets.check" {
		t.Fatalf("last audit event = %+v, %v; want secrets.check", events, err)
	}
}

// A TOTP seed made of references is checked as a seed once expanded, so a write cannot
// store one that fails every resolve of its environment.
func TestATOTPSeedReferenceMustExpandToASeed(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, t.TempDir())
	defer store.Close()
	f := storetest.NewFixture(t, store, vault.Options{})
	text := f.Put(t, "", "NOT_A_SEED", "not base32 at all!")
	seed := f.Put(t, "", "A_SEED", "JBSWY3DPEHPK3PXP")
	in := vault.SecretInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "OTP", Type: "totp"}
	in.Fields = map[string]string{"seed": "${secret." + text.ID + ".value}"}
	if _, err := f.Vault.CreateSecret(ctx, f.Actor, in); !errors.Is(err, vault.ErrInvalid) {
		t.Fatalf("a seed referencing text that is no seed: err = %v, want ErrInvalid", err)
	}
	in.Fields = map[string]string{"seed": "${secret." + seed.ID + ".value}"}
	if _, err := f.Vault.CreateSecret(ctx, f.Actor, in); err != nil {
		t.Fatalf("a seed referencing a seed: %v", err)
	}
}

// A secret stored under a name refused since cannot be given a new version: an update
// or a rollback would keep it alive. Check reports it.
func TestANewVersionOfAStoredReservedNameIsRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openStore(t, dir)
	defer store.Close()
	f := storetest.NewFixture(t, store, vault.Options{})
	m := f.Put(t, "dev", "APP_HOOK", "--require=/tmp/hook.js")
	if _, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Fields: map[string]string{"value": "v2"}}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE secrets SET name = 'NODE_OPTIONS' WHERE id = ?`, m.ID); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 2, Fields: map[string]string{"value": "v3"}})
	if !errors.Is(err, secret.ErrReservedName) {
		t.Fatalf("update: err = %v, want ErrReservedName", err)
	}
	if _, err := f.Vault.Rollback(ctx, f.Actor, f.Space.ID, m.ID, 1, 2); !errors.Is(err, secret.ErrReservedName) {
		t.Fatalf("rollback: err = %v, want ErrReservedName", err)
	}
	problems, err := f.Vault.Check(ctx, f.Actor, f.Space.ID, f.Coll.ID)
	if err != nil || len(problems) != 1 || problems[0].Rule != vault.RuleReservedName {
		t.Fatalf("check = %+v, %v; want NODE_OPTIONS as reserved_name", problems, err)
	}
}

// A resolve opens only what it was asked for, and never more than four times what it
// may return: a collection of large secrets costs a resolve of one small one nothing,
// and a resolve of them all is refused before they are opened.
func TestAResolveOpensOnlyWhatItWasAskedFor(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, t.TempDir())
	defer store.Close()
	f := storetest.NewFixture(t, store, vault.Options{})
	big := strings.Repeat("b", secret.MaxFieldSize)
	for i := 0; i < 4*resolver.MaxExpandedTotal/secret.MaxFieldSize+1; i++ {
		f.Put(t, "", "BIG_"+strconv.Itoa(i), big)
	}
	f.Put(t, "dev", "SMALL", "small-value")
	req := vault.ResolveRequest{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Environment: "dev", Names: []string{"SMALL"}}
	var vars []resolver.Var
	var err error
	vars, err = f.Vault.Resolve(ctx, f.Actor, req) // warms the caches
	if err != nil || len(vars) != 1 {
		t.Fatalf("resolve SMALL: %v, %v", vars, err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	vars, err = f.Vault.Resolve(ctx, f.Actor, req)
	runtime.ReadMemStats(&after)
	if err != nil || len(vars) != 1 || vars[0].Value != "small-value" {
		t.Fatalf("resolve SMALL: %v, %v", vars, err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > secret.MaxFieldSize {
		t.Errorf("resolving one small secret allocated %d bytes", n)
	}
	req.Names = nil
	if _, err := f.Vault.Resolve(ctx, f.Actor, req); !errors.Is(err, resolver.ErrExpansionTooLarge) {
		t.Fatalf("resolving 4 MiB of secrets: err = %v, want ErrExpansionTooLarge", err)
	}
}
