package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// PlantExpansionBomb leaves in a collection rows whose references expand far past
// resolver.MaxExpandedField, as a row written before the cap existed does, or one that
// references a secret that grew afterwards. It writes LEAF = "x" tagged env, then levels
// LEVEL1…LEVELn of 16 references each to the level below, then grows LEAF to the size
// limit: every write passes the write check, yet LEVEL1 expands to 1 MiB and LEVELn to
// 64 KiB × 16^n. It returns the secrets from LEAF to the top level.
func PlantExpansionBomb(ctx context.Context, v *vault.Vault, actor vault.Actor, spaceID, collection, env string, levels int) ([]vault.SecretMeta, error) {
	put := func(name, value string) (vault.SecretMeta, error) {
		return v.CreateSecret(ctx, actor, vault.SecretInput{SpaceID: spaceID, Collection: collection, Environment: env, Name: name, Fields: map[string]string{"value": value}})
	}
	leaf, err := put("LEAF", "x")
	if err != nil {
		return nil, err
	}
	out := []vault.SecretMeta{leaf}
	for level := 1; level <= levels; level++ {
		m, err := put(fmt.Sprintf("LEVEL%d", level), strings.Repeat(fmt.Sprintf("${secret.%s.value}", out[level-1].ID), 16))
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if _, err := v.UpdateSecret(ctx, actor, vault.SecretUpdate{SpaceID: spaceID, ID: leaf.ID, Version: 1,
		Fields: map[string]string{"value": strings.Repeat("x", secret.MaxFieldSize)}}); err != nil {
		return nil, err
	}
	return out, nil
}

// wantAbsent fails the test if the collection holds a secret of one of names.
func wantAbsent(t *testing.T, f *Fixture, names ...string) {
	t.Helper()
	rows, err := f.Store.Secrets(context.Background(), vault.SecretQuery{SpaceID: f.Space.ID, CollectionID: f.Coll.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if slices.Contains(names, r.Name) {
			t.Fatalf("refused secret %s was stored", r.Name)
		}
	}
}

func refTo(m vault.SecretMeta) string { return "${secret." + m.ID + ".value}" }

func wantTooLarge(t *testing.T, err error, invalid bool, what string) {
	t.Helper()
	if !errors.Is(err, resolver.ErrExpansionTooLarge) || errors.Is(err, vault.ErrInvalid) != invalid {
		t.Fatalf("%s: err = %v, want an expansion past the limit (invalid input: %v)", what, err, invalid)
	}
}

// testExpansionIsCapped: a write whose references would expand past the cap is refused
// and changes nothing; rows past the cap that are already stored fail the reads that
// would expand them, without being built.
func testExpansionIsCapped(t *testing.T, f *Fixture) {
	ctx := context.Background()
	half := f.Put(t, "", "HALF", strings.Repeat("h", resolver.MaxExpandedField/2))
	if _, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "AT_LIMIT",
		Fields: map[string]string{"value": refTo(half) + refTo(half)}}); err != nil {
		t.Fatalf("a field that expands to exactly the limit: %v", err)
	}
	_, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "PAST_LIMIT",
		Fields: map[string]string{"value": refTo(half) + refTo(half) + "!"}})
	wantTooLarge(t, err, true, "create past the limit")
	if msg := err.Error(); !strings.Contains(msg, `PAST_LIMIT field "value"`) || !strings.Contains(msg, "65536") {
		t.Fatalf("the refusal %q names neither the field nor the limit", msg)
	}

	small := f.Put(t, "", "SMALL", "s")
	user := f.Put(t, "", "USES_SMALL", refTo(small)+refTo(small))
	_, err = f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: user.ID, Version: 1,
		Fields: map[string]string{"value": strings.Repeat(refTo(half), 3)}})
	wantTooLarge(t, err, true, "update past the limit")
	if _, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: user.ID, Version: 1, Fields: map[string]string{"value": "plain"}}); err != nil {
		t.Fatal(err)
	}
	// SMALL grows: version 1 of USES_SMALL would now expand to twice the limit.
	if _, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: small.ID, Version: 1,
		Fields: map[string]string{"value": strings.Repeat("s", secret.MaxFieldSize)}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Rollback(ctx, f.Actor, f.Space.ID, user.ID, 1, 2)
	wantTooLarge(t, err, true, "rollback to a version past the limit")
	if cur, err := f.Vault.Secret(ctx, f.Space.ID, user.ID, 0); err != nil || cur.Version != 2 || cur.Fields["value"] != "plain" {
		t.Fatalf("a refused rollback changed the secret: version %d, %v", cur.Version, err)
	}
	wantAbsent(t, f, "PAST_LIMIT")

	// Rows past the cap: each read that would expand them fails, as a read, not as input.
	bomb, err := PlantExpansionBomb(ctx, f.Vault, f.Actor, f.Space.ID, "my-saas", "prod", 3)
	if err != nil {
		t.Fatal(err)
	}
	top := bomb[len(bomb)-1]
	_, err = f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "prod"})
	wantTooLarge(t, err, false, "resolve")
	if !strings.Contains(err.Error(), "LEVEL1.value") {
		t.Fatalf("the resolve error %q does not name the field past the limit", err)
	}
	_, err = f.Vault.Reveal(ctx, f.Actor, f.Space.ID, top.ID, 0, true)
	wantTooLarge(t, err, false, "reveal with references expanded")
	if s, err := f.Vault.Reveal(ctx, f.Actor, f.Space.ID, top.ID, 0, false); err != nil || !strings.HasPrefix(s.Fields["value"], "${secret.") {
		t.Fatalf("reveal without expansion: %v", err)
	}
	_, _, err = f.Vault.ExpandTemplates(ctx, f.Actor, f.Space.ID, []string{"run " + refTo(top)})
	wantTooLarge(t, err, false, "a template naming the bomb")
	// Seventeen copies of a 64 KiB value in templates pass what one request may expand.
	_, _, err = f.Vault.ExpandTemplates(ctx, f.Actor, f.Space.ID, []string{strings.Repeat(refTo(bomb[0]), 9), strings.Repeat(refTo(bomb[0]), 8)})
	wantTooLarge(t, err, false, "templates past the total")
	// The rest of the environment still resolves.
	if vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "prod", Names: []string{"LEAF", "AT_LIMIT"}}); err != nil || len(vars) != 2 {
		t.Fatalf("resolving what is under the limit: %d vars, %v", len(vars), err)
	}
}

// testReadsNameEverySecretReferencesRead: a resolve or reveal that expands references
// names, in its audit event, every secret whose plaintext went into its values, nested
// references and other environments included.
func testReadsNameEverySecretReferencesRead(t *testing.T, f *Fixture) {
	ctx := context.Background()
	prodPass := f.Put(t, "prod", "DB_PASS", "prod-pw")
	f.Put(t, "dev", "DB_PASS", "dev-pw") // same name, the one the references do not read
	user := f.Put(t, "", "DB_USER", "app")
	creds := f.Put(t, "", "CREDS", refTo(user)+":"+refTo(prodPass))
	url := f.Put(t, "dev", "DATABASE_URL", "postgres://"+refTo(creds)+"@db/app")

	lastEvent := func(action string) vault.AuditTarget {
		t.Helper()
		events, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: action, Limit: 1})
		if err != nil || len(events) != 1 {
			t.Fatalf("%s event: %v, %v", action, events, err)
		}
		return events[0].Target
	}
	check := func(what string, target vault.AuditTarget, names []string, referenced []string) {
		t.Helper()
		slices.Sort(referenced)
		got := slices.Clone(target.Referenced)
		slices.Sort(got)
		if !slices.Equal(target.Secrets, names) || !slices.Equal(got, referenced) {
			t.Fatalf("%s names secrets %v, referenced %v; want %v and %v", what, target.Secrets, target.Referenced, names, referenced)
		}
	}

	if _, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Names: []string{"DATABASE_URL"}}); err != nil {
		t.Fatal(err)
	}
	check("a resolve of DATABASE_URL", lastEvent("secrets.resolve"), []string{"DATABASE_URL", "CREDS", "DB_PASS", "DB_USER"}, []string{creds.ID, prodPass.ID, user.ID})

	// The whole of dev: CREDS and DB_USER are in the view, prod's DB_PASS is not.
	if _, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"}); err != nil {
		t.Fatal(err)
	}
	check("a resolve of dev", lastEvent("secrets.resolve"), []string{"CREDS", "DATABASE_URL", "DB_PASS", "DB_USER", "DB_PASS"}, []string{prodPass.ID})

	if _, err := f.Vault.Reveal(ctx, f.Actor, f.Space.ID, url.ID, 0, true); err != nil {
		t.Fatal(err)
	}
	reveal := lastEvent("secret.reveal")
	if reveal.Secret != "DATABASE_URL" {
		t.Fatalf("reveal event names %q", reveal.Secret)
	}
	check("a reveal of DATABASE_URL", reveal, []string{"CREDS", "DB_PASS", "DB_USER"}, []string{creds.ID, prodPass.ID, user.ID})

	// Without expansion, a reveal reads the stored field alone.
	if _, err := f.Vault.Reveal(ctx, f.Actor, f.Space.ID, url.ID, 0, false); err != nil {
		t.Fatal(err)
	}
	check("a reveal without expansion", lastEvent("secret.reveal"), nil, nil)

	// Templates name every secret they reach, by name and by id.
	if _, _, err := f.Vault.ExpandTemplates(ctx, f.Actor, f.Space.ID, []string{"u=" + refTo(url)}); err != nil {
		t.Fatal(err)
	}
	check("templates", lastEvent("templates.expand"), []string{"CREDS", "DATABASE_URL", "DB_PASS", "DB_USER"}, []string{url.ID, creds.ID, prodPass.ID, user.ID})
}

// testInputLimits: a note past MaxNoteSize, a value holding a NUL byte and a rollback to
// a version below 1 are refused as invalid and change nothing.
func testInputLimits(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "NOTED",
		Note: strings.Repeat("n", secret.MaxNoteSize), Fields: map[string]string{"value": "v1"}})
	if err != nil {
		t.Fatalf("a note at the limit: %v", err)
	}
	long := strings.Repeat("n", secret.MaxNoteSize+1)
	_, err = f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "LONG_NOTE", Note: long, Fields: map[string]string{"value": "v"}})
	wantErr(t, err, vault.ErrInvalid, "create with a note past the limit")
	_, err = f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Note: &long})
	wantErr(t, err, vault.ErrInvalid, "update with a note past the limit")
	_, err = f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "NUL", Fields: map[string]string{"value": "a\x00b"}})
	wantErr(t, err, vault.ErrInvalid, "a value with a NUL byte")
	_, err = f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Fields: map[string]string{"value": "a\x00b"}})
	wantErr(t, err, vault.ErrInvalid, "an update to a value with a NUL byte")
	if _, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Fields: map[string]string{"value": "v2"}}); err != nil {
		t.Fatal(err)
	}
	for _, to := range []int{0, -1} {
		_, err = f.Vault.Rollback(ctx, f.Actor, f.Space.ID, m.ID, to, 2)
		wantErr(t, err, vault.ErrInvalid, fmt.Sprintf("rollback to version %d", to))
	}
	cur, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	if err != nil || cur.Version != 2 || cur.Fields["value"] != "v2" || len(cur.Note) != secret.MaxNoteSize {
		t.Fatalf("refused input changed NOTED: version %d, %v", cur.Version, err)
	}
	wantAbsent(t, f, "LONG_NOTE", "NUL")
}
