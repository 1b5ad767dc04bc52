package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

func testCollectionsAndEnvironments(t *testing.T, f *Fixture) {
	ctx := context.Background()
	_, err := f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "my-saas", "")
	wantErr(t, err, vault.ErrExists, "duplicate collection slug")
	_, err = f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev")
	wantErr(t, err, vault.ErrExists, "duplicate environment slug")
	_, err = f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, "no-such", "dev")
	wantErr(t, err, vault.ErrNotFound, "environment of an unknown collection")
	_, err = f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "Bad_Slug", "")
	wantErr(t, err, vault.ErrInvalid, "invalid slug")

	other, err := f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "other", "")
	if err != nil {
		t.Fatal(err)
	}
	otherDev, err := f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, other.ID, "dev")
	if err != nil {
		t.Fatalf("the same environment slug in another collection: %v", err)
	}
	c, e, err := f.Store.CollectionAndEnvironment(ctx, f.Space.ID, "other", "dev")
	if err != nil || c.ID != other.ID || e.ID != otherDev.ID || e.CollectionID != other.ID {
		t.Fatalf("CollectionAndEnvironment(other, dev) = %+v, %+v, %v", c, e, err)
	}
	_, _, err = f.Store.CollectionAndEnvironment(ctx, f.Space.ID, "other", "prod")
	wantErr(t, err, vault.ErrNotFound, "an environment of another collection")
	_, _, err = f.Store.CollectionAndEnvironment(ctx, f.Space.ID, "other", f.Prod.ID)
	wantErr(t, err, vault.ErrNotFound, "another collection's environment by id")
	colls, err := f.Store.Collections(ctx, f.Space.ID)
	if err != nil || len(colls) != 2 || colls[0].Slug != "my-saas" || colls[1].Slug != "other" {
		t.Fatalf("Collections = %+v, %v", colls, err)
	}
	envs, err := f.Store.Environments(ctx, f.Space.ID, f.Coll.ID)
	if err != nil || len(envs) != 2 || envs[0].Slug != "dev" || envs[1].Slug != "prod" {
		t.Fatalf("Environments = %+v, %v", envs, err)
	}
	// Deleting an environment deletes the secrets tagged with it, not the untagged ones.
	f.Put(t, "dev", "DEV_ONLY", "x")
	f.Put(t, "", "SHARED", "y")
	if err := f.Vault.DeleteEnvironment(ctx, f.Actor, f.Space.ID, "my-saas", "dev", false); err != nil {
		t.Fatal(err)
	}
	left, err := f.Store.Secrets(ctx, vault.SecretQuery{SpaceID: f.Space.ID, CollectionID: f.Coll.ID})
	if err != nil || len(left) != 1 || left[0].Name != "SHARED" {
		t.Fatalf("after deleting dev: %+v, %v", left, err)
	}
	if err := f.Vault.DeleteCollection(ctx, f.Actor, f.Space.ID, "my-saas"); err != nil {
		t.Fatal(err)
	}
	_, err = f.Store.Collection(ctx, f.Space.ID, "my-saas")
	wantErr(t, err, vault.ErrNotFound, "deleted collection")
}

func testSecretLifecycle(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{
		SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Name: "DB", Type: secret.TypeLogin, Note: "primary",
		Fields: map[string]string{"username": "app", "password": "pw-1", "url": ""},
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 1 || m.EnvironmentID != f.Dev.ID || m.CreatedBy != "tester" {
		t.Fatalf("created %+v", m)
	}
	_, err = f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Name: "DB", Type: secret.TypeString, Fields: map[string]string{"value": "x"}})
	wantErr(t, err, vault.ErrExists, "same name in the same environment")
	if _, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "DB", Fields: map[string]string{"value": "x"}}); err != nil {
		t.Fatalf("same name untagged: %v", err)
	}

	f.Clock.Advance(time.Minute)
	m2, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Fields: map[string]string{"username": "app", "password": "pw-2"}})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Version != 2 || !m2.UpdatedAt.After(m2.CreatedAt) {
		t.Fatalf("updated %+v", m2)
	}
	_, err = f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Fields: map[string]string{"username": "app", "password": "pw-x"}})
	wantErr(t, err, vault.ErrConflict, "update of a stale version")

	note := "rotated"
	if _, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 2, Note: &note}); err != nil {
		t.Fatal(err)
	}
	cur, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	if err != nil || cur.Version != 3 || cur.Note != "rotated" || cur.Fields["password"] != "pw-2" {
		t.Fatalf("note-only update: %+v, %v", cur, err)
	}
	old, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 1)
	if err != nil || old.Fields["password"] != "pw-1" || old.Note != "primary" || len(old.Fields) != 2 {
		t.Fatalf("version 1: %+v, %v", old.SecretMeta, err)
	}
	hist, err := f.Vault.History(ctx, f.Space.ID, m.ID)
	if err != nil || len(hist) != 3 || hist[0].Version != 3 || hist[2].Version != 1 {
		t.Fatalf("history: %+v, %v", hist, err)
	}
	rb, err := f.Vault.Rollback(ctx, f.Actor, f.Space.ID, m.ID, 1, 3)
	if err != nil || rb.Version != 4 {
		t.Fatalf("rollback: %+v, %v", rb, err)
	}
	cur, err = f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Fields["password"] != "pw-1" || cur.Note != "primary" {
		t.Fatalf("after rollback to 1: note %q", cur.Note)
	}
	_, err = f.Vault.Rollback(ctx, f.Actor, f.Space.ID, m.ID, 1, 3)
	wantErr(t, err, vault.ErrConflict, "rollback of a stale version")

	wantErr(t, f.Vault.DeleteSecret(ctx, f.Actor, f.Space.ID, m.ID, 3), vault.ErrConflict, "delete of a stale version")
	if err := f.Vault.DeleteSecret(ctx, f.Actor, f.Space.ID, m.ID, 4); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	wantErr(t, err, vault.ErrNotFound, "deleted secret")
	_, err = f.Vault.History(ctx, f.Space.ID, m.ID)
	wantErr(t, err, vault.ErrNotFound, "history of a deleted secret")
}

func testUntaggedAndTagged(t *testing.T, f *Fixture) {
	ctx := context.Background()
	f.Put(t, "", "API_URL", "https://api.example.com")
	f.Put(t, "prod", "API_URL", "https://api.prod.example.com")
	f.Put(t, "", "LOG_LEVEL", "info")
	f.Put(t, "dev", "DEBUG", "1")
	env := func(e string) map[string]string {
		vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: e})
		if err != nil {
			t.Fatalf("resolve %s: %v", e, err)
		}
		out := map[string]string{}
		for _, v := range vars {
			out[v.Name] = v.Value
		}
		return out
	}
	dev, prod := env("dev"), env("prod")
	if dev["API_URL"] != "https://api.example.com" || dev["LOG_LEVEL"] != "info" || dev["DEBUG"] != "1" || len(dev) != 3 {
		t.Errorf("dev = %v", dev)
	}
	if prod["API_URL"] != "https://api.prod.example.com" || prod["LOG_LEVEL"] != "info" || len(prod) != 2 {
		t.Errorf("prod = %v", prod)
	}
	vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Names: []string{"DEBUG"}})
	if err != nil || len(vars) != 1 || vars[0].Name != "DEBUG" {
		t.Errorf("resolve only DEBUG: %+v, %v", vars, err)
	}
	_, err = f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "prod", Names: []string{"DEBUG"}})
	wantErr(t, err, vault.ErrNotFound, "a name not in the environment")
	_, err = f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "staging"})
	wantErr(t, err, vault.ErrNotFound, "an environment that was never created")
}

func testReferencesCheckedOnWrite(t *testing.T, f *Fixture) {
	ctx := context.Background()
	user := f.Put(t, "", "DB_USER", "app")
	pass := f.Put(t, "", "DB_PASS", "pw")
	url := f.Put(t, "dev", "DATABASE_URL", fmt.Sprintf("postgres://${secret.%s.value}:${secret.%s.value}@db/app", user.ID, pass.ID))
	vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev", Names: []string{"DATABASE_URL"}})
	if err != nil || len(vars) != 1 || vars[0].Value != "postgres://app:pw@db/app" {
		t.Fatalf("resolve reference: %+v, %v", vars, err)
	}
	// The event names what was asked for, then the secrets the references read.
	if events, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Action: "secrets.resolve", Limit: 1}); err != nil || len(events) != 1 ||
		strings.Join(events[0].Target.Secrets, ",") != "DATABASE_URL,DB_PASS,DB_USER" {
		t.Fatalf("resolve event: %+v, %v", events, err)
	}
	// Pointing DB_PASS back at DATABASE_URL would close a cycle: refused, and nothing changes.
	_, err = f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: pass.ID, Version: 1,
		Fields: map[string]string{"value": fmt.Sprintf("${secret.%s.value}", url.ID)}})
	var cycle *resolver.CycleError
	if !errors.As(err, &cycle) || !errors.Is(err, vault.ErrInvalid) {
		t.Fatalf("cycle: err = %v", err)
	}
	if got, err := f.Vault.Secret(ctx, f.Space.ID, pass.ID, 0); err != nil || got.Version != 1 || got.Fields["value"] != "pw" {
		t.Fatalf("a refused update changed the secret: version %d, %v", got.Version, err)
	}
	unknown := "00000000-0000-4000-8000-000000000000"
	_, err = f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "DANGLING", Fields: map[string]string{"value": "${secret." + unknown + ".value}"}})
	wantErr(t, err, resolver.ErrUnknownSecret, "reference to an unknown secret")
	_, err = f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BAD_FIELD", Fields: map[string]string{"value": "${secret." + user.ID + ".password}"}})
	wantErr(t, err, resolver.ErrUnknownField, "reference to an unknown field")
	if err := f.Vault.DeleteSecret(ctx, f.Actor, f.Space.ID, user.ID, 1); err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"})
	wantErr(t, err, resolver.ErrUnknownSecret, "resolving after the referenced secret was deleted")
}

func testInvalidInputChangesNothing(t *testing.T, f *Fixture) {
	ctx := context.Background()
	before, err := f.Store.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []vault.SecretInput{
		{Name: "1BAD", Fields: map[string]string{"value": "x"}},
		{Name: "OK", Type: "ssh", Fields: map[string]string{"value": "x"}},
		{Name: "OK", Fields: map[string]string{"value": "x", "extra": "y"}},
		{Name: "OK", Fields: map[string]string{"value": strings.Repeat("x", secret.MaxFieldSize+1)}},
		{Name: "OK", Environment: "staging", Fields: map[string]string{"value": "x"}},
		{Name: "OK", Type: secret.TypeTOTP, Fields: map[string]string{"seed": "not base32!"}},
	} {
		in.SpaceID, in.Collection = f.Space.ID, "my-saas"
		if _, err := f.Vault.CreateSecret(ctx, f.Actor, in); err == nil {
			t.Errorf("CreateSecret(%s, %s) succeeded", in.Name, in.Type)
		}
	}
	secrets, err := f.Store.Secrets(ctx, vault.SecretQuery{SpaceID: f.Space.ID, CollectionID: f.Coll.ID})
	if err != nil {
		t.Fatal(err)
	}
	after, err := f.Store.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 0 || len(after) != len(before) {
		t.Fatalf("refused input left %d secrets and %d audit events", len(secrets), len(after)-len(before))
	}
}

// testConcurrentUpdates: many writers race on one secret. Every accepted update becomes
// its own version, none is lost, and the losers get ErrConflict.
func testConcurrentUpdates(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m := f.Put(t, "", "COUNTER", "start")
	const writers = 8
	RaceUpdates(t, []*vault.Vault{f.Vault}, f.Actor, f.Space.ID, m.ID, writers, 6)
	var mu sync.Mutex
	var wg sync.WaitGroup

	// All writers from the same version: exactly one wins.
	cur, err := f.Store.Secret(ctx, f.Space.ID, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var wins, losses int
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: cur.Version, Fields: map[string]string{"value": fmt.Sprint(w)}})
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if errors.Is(err, vault.ErrConflict) {
				losses++
			} else {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || losses != writers-1 {
		t.Fatalf("racing from one version: %d wins and %d conflicts, want 1 and %d", wins, losses, writers-1)
	}
}

// Race has writers goroutines each make each accepted updates through update, which
// reads the current version of one secret and writes val over it, returning the new
// version. An error for which conflict is true is counted and retried. Race fails the
// test on any other error and on a version accepted twice, and returns the value each
// accepted version was written with.
func Race(t *testing.T, writers, each int, update func(w int, val string) (int, error), conflict func(error) bool) (accepted map[int]string, conflicts int) {
	t.Helper()
	var mu sync.Mutex
	accepted = map[int]string{} // version → value written
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				val := fmt.Sprintf("w%d-i%d", w, i)
				version, err := update(w, val)
				mu.Lock()
				switch {
				case err == nil:
					if prev, dup := accepted[version]; dup {
						t.Errorf("version %d accepted twice (%s and %s)", version, prev, val)
					}
					accepted[version] = val
					i++
				case conflict(err):
					conflicts++
				default:
					t.Error(err)
					mu.Unlock()
					return
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return accepted, conflicts
}

// RaceUpdates races updates of one secret through the vaults in turn (several replicas
// of one database), with Race. It fails the test unless every accepted update is a
// version of its own, readable through every vault with the value written.
func RaceUpdates(t *testing.T, vaults []*vault.Vault, actor vault.Actor, spaceID, id string, writers, each int) {
	t.Helper()
	ctx := context.Background()
	start, err := vaults[0].Secret(ctx, spaceID, id, 0)
	if err != nil {
		t.Fatal(err)
	}
	accepted, conflicts := Race(t, writers, each, func(w int, val string) (int, error) {
		v := vaults[w%len(vaults)]
		cur, err := v.Secret(ctx, spaceID, id, 0)
		if err != nil {
			return 0, err
		}
		got, err := v.UpdateSecret(ctx, actor, vault.SecretUpdate{SpaceID: spaceID, ID: id, Version: cur.Version, Fields: map[string]string{"value": val}})
		return got.Version, err
	}, func(err error) bool { return errors.Is(err, vault.ErrConflict) })
	if len(accepted) != writers*each {
		t.Fatalf("%d updates accepted, want %d", len(accepted), writers*each)
	}
	for _, v := range vaults {
		hist, err := v.History(ctx, spaceID, id)
		if err != nil || len(hist) != start.Version+writers*each {
			t.Fatalf("history has %d versions, want %d (%v)", len(hist), start.Version+writers*each, err)
		}
		for version, want := range accepted {
			got, err := v.Secret(ctx, spaceID, id, version)
			if err != nil || got.Fields["value"] != want {
				t.Fatalf("version %d holds %q, want %q (%v)", version, got.Fields["value"], want, err)
			}
		}
	}
	t.Logf("%d accepted updates, %d conflicts", len(accepted), conflicts)
}
