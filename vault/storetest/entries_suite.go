package storetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kazzle/kazzle/vault"
)

// Actors of the entry tests: the key that asks, and the person's key that answers.
var (
	asker  = vault.Actor{KeyID: "key-asker", Name: "assistant", ClientAddr: "127.0.0.1", Role: vault.RoleWrite}
	person = vault.Actor{KeyID: "key-person", Name: "alice", ClientAddr: "127.0.0.1", Role: vault.RoleWrite}
)

const entryValue = "sk_live_entered_by_a_person_42"

// testEntryLifecycle: an entry is made pending with the defaults, listed, filled once
// as the person's key (a new secret), and is then done, with the secret it made; a
// second fill is refused, and each step is audited.
func testEntryLifecycle(t *testing.T, f *Fixture) {
	ctx := context.Background()
	e, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Environment: "dev",
		Name: "STRIPE_KEY", Message: "Paste the live key from the Stripe dashboard.\nThanks!"})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.ID) < 22 || e.Type != "string" || strings.Join(e.Fields, ",") != "value" || !e.ExpiresAt.Equal(f.Clock.Now().Add(vault.EntryLifetime)) ||
		e.CreatedBy != "assistant" || e.Status(f.Clock.Now()) != vault.EntryPending {
		t.Fatalf("new entry %+v", e)
	}
	got, err := f.Vault.Entry(ctx, f.Space.ID, e.ID)
	if err != nil || got.Name != "STRIPE_KEY" || got.EnvironmentID != f.Dev.ID || got.Message != e.Message || got.State != vault.EntryPending {
		t.Fatalf("Entry = %+v, %v", got, err)
	}
	list, err := f.Vault.Entries(ctx, f.Space.ID)
	if err != nil || len(list) != 1 || list[0].ID != e.ID {
		t.Fatalf("Entries = %+v, %v", list, err)
	}
	for what, id := range map[string]string{"an unknown id": strings.Repeat("A", len(e.ID)), "a malformed id": "../" + e.ID, "an empty id": ""} {
		_, err := f.Vault.Entry(ctx, f.Space.ID, id)
		wantErr(t, err, vault.ErrNotFound, what)
	}

	done, err := f.Vault.FillEntry(ctx, person, f.Space.ID, e.ID, map[string]string{"value": entryValue})
	if err != nil {
		t.Fatal(err)
	}
	if done.State != vault.EntryDone || done.SecretID == "" || done.Version != 1 || done.DoneBy != "alice" {
		t.Fatalf("filled entry %+v", done)
	}
	sec, err := f.Vault.Secret(ctx, f.Space.ID, done.SecretID, 0)
	if err != nil || sec.Fields["value"] != entryValue || sec.CreatedBy != "alice" || sec.EnvironmentID != f.Dev.ID {
		t.Fatalf("the stored secret: %+v, %v", sec.SecretMeta, err)
	}
	again, err := f.Vault.WaitEntry(ctx, f.Space.ID, e.ID, time.Second)
	if err != nil || again.Status(f.Clock.Now()) != vault.EntryDone || again.SecretID != done.SecretID {
		t.Fatalf("WaitEntry after the fill = %+v, %v", again, err)
	}
	_, err = f.Vault.FillEntry(ctx, person, f.Space.ID, e.ID, map[string]string{"value": "another-value-99"})
	wantErr(t, err, vault.ErrConflict, "a second fill")
	if list, _ := f.Vault.Entries(ctx, f.Space.ID); len(list) != 0 {
		t.Fatalf("a done entry is still listed: %+v", list)
	}
	err = f.Vault.CancelEntry(ctx, asker, f.Space.ID, e.ID)
	wantErr(t, err, vault.ErrConflict, "cancelling a done entry")

	events, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range events {
		if ev.Target.Entry == e.ID || ev.Target.SecretID == done.SecretID {
			actions = append(actions, ev.ActorName+":"+ev.Action)
		}
	}
	if strings.Join(actions, " ") != "alice:entry.fill alice:secret.create assistant:entry.create" {
		t.Fatalf("audit trail of the entry: %v", actions)
	}
}

// testEntryUpdatesTheSecret: an entry for a secret that exists makes a new version of
// it, keeping the fields not asked for; its hosts obey the rules of the person's key.
func testEntryUpdatesTheSecret(t *testing.T, f *Fixture) {
	ctx := context.Background()
	m, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Environment: "prod", Name: "DB", Type: "login",
		Fields: map[string]string{"username": "app", "password": "old-password-1"}, Hosts: []string{"*.db.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	wide, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.ID, Environment: f.Prod.ID,
		Name: "DB", Type: "login", Fields: []string{"password"}, Hosts: []string{"*.example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.FillEntry(ctx, person, f.Space.ID, wide.ID, map[string]string{"password": "new-password-2"})
	wantErr(t, err, vault.ErrForbidden, "an entry that widens hosts, filled by a write key")
	if e, _ := f.Vault.Entry(ctx, f.Space.ID, wide.ID); e.State != vault.EntryPending {
		t.Fatalf("a refused fill left the entry %s", e.State)
	}
	narrow, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.ID, Environment: "prod",
		Name: "DB", Type: "login", Fields: []string{"password"}, Hosts: []string{"pg.db.example.com"}, Note: "rotated"})
	if err != nil {
		t.Fatal(err)
	}
	done, err := f.Vault.FillEntry(ctx, person, f.Space.ID, narrow.ID, map[string]string{"password": "new-password-2"})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	if err != nil || done.SecretID != m.ID || done.Version != 2 || sec.Fields["username"] != "app" || sec.Fields["password"] != "new-password-2" ||
		sec.Hosts.String() != "pg.db.example.com" || sec.Note != "rotated" {
		t.Fatalf("after the fill: entry %+v, secret %+v, %v", done, sec.SecretMeta, err)
	}
	mismatch, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.ID, Environment: "prod", Name: "DB"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Vault.FillEntry(ctx, person, f.Space.ID, mismatch.ID, map[string]string{"value": "a-string-value-3"})
	wantErr(t, err, vault.ErrInvalid, "a string entry for a login secret")
}

// testEntriesExpireAndCancel: past its expiry an entry is expired and refuses a value,
// as a cancelled one does; the lifetime asked for is bounded.
func testEntriesExpireAndCancel(t *testing.T, f *Fixture) {
	ctx := context.Background()
	short, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	long, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "B", Lifetime: vault.MaxEntryLifetime})
	if err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(vault.EntryLifetime)
	e, err := f.Vault.Entry(ctx, f.Space.ID, short.ID)
	if err != nil || e.Status(f.Clock.Now()) != vault.EntryExpired {
		t.Fatalf("an entry at its expiry: %s, %v", e.Status(f.Clock.Now()), err)
	}
	_, err = f.Vault.FillEntry(ctx, person, f.Space.ID, short.ID, map[string]string{"value": entryValue})
	wantErr(t, err, vault.ErrConflict, "filling an expired entry")
	if err := f.Store.ClaimEntry(ctx, f.Space.ID, short.ID, f.Clock.Now(), f.Clock.Now()); !errors.Is(err, vault.ErrConflict) {
		t.Fatalf("the store claimed an expired entry: %v", err)
	}
	if list, _ := f.Vault.Entries(ctx, f.Space.ID); len(list) != 1 || list[0].ID != long.ID {
		t.Fatalf("Entries lists %+v, want the one not expired", list)
	}
	if err := f.Vault.CancelEntry(ctx, asker, f.Space.ID, long.ID); err != nil {
		t.Fatal(err)
	}
	e, _ = f.Vault.Entry(ctx, f.Space.ID, long.ID)
	if e.Status(f.Clock.Now()) != vault.EntryCancelled {
		t.Fatalf("a cancelled entry is %s", e.Status(f.Clock.Now()))
	}
	_, err = f.Vault.FillEntry(ctx, person, f.Space.ID, long.ID, map[string]string{"value": entryValue})
	wantErr(t, err, vault.ErrConflict, "filling a cancelled entry")
	for _, d := range []time.Duration{time.Second, vault.MaxEntryLifetime + time.Second, -time.Minute} {
		_, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "C", Lifetime: d})
		wantErr(t, err, vault.ErrInvalid, "a lifetime of "+d.String())
	}
	// A day after they ended, entries are pruned by the next creation.
	f.Clock.Advance(vault.MaxEntryLifetime + 25*time.Hour)
	if _, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "D"}); err != nil {
		t.Fatal(err)
	}
	_, err = f.Store.Entry(ctx, f.Space.ID, short.ID)
	wantErr(t, err, vault.ErrNotFound, "an entry a day past its expiry")
}

// testACancelWaitsForAFillUnderWay: an entry being filled cannot be cancelled, else
// the value would be stored while the entry says it stored nothing; a claim left by a
// server that stopped mid-fill no longer holds it.
func testACancelWaitsForAFillUnderWay(t *testing.T, f *Fixture) {
	ctx := context.Background()
	e, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "RACED"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Store.ClaimEntry(ctx, f.Space.ID, e.ID, f.Clock.Now(), f.Clock.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	err = f.Vault.CancelEntry(ctx, asker, f.Space.ID, e.ID)
	wantErr(t, err, vault.ErrConflict, "cancelling an entry being filled")
	f.Clock.Advance(2 * time.Minute)
	if err := f.Vault.CancelEntry(ctx, asker, f.Space.ID, e.ID); err != nil {
		t.Fatalf("cancelling an entry whose fill stopped: %v", err)
	}
	if got := mustEntry(t, f, e.ID); got.Status(f.Clock.Now()) != vault.EntryCancelled {
		t.Fatalf("the entry is %s", got.Status(f.Clock.Now()))
	}
}

// testEntryInputIsChecked: what an entry asks for and what is typed into it follow
// the rules, and a refused value leaves the entry pending and stores nothing.
func testEntryInputIsChecked(t *testing.T, f *Fixture) {
	ctx := context.Background()
	for what, in := range map[string]vault.EntryInput{
		"a long message":     {Name: "A", Message: strings.Repeat("é", vault.MaxEntryMessage+1)},
		"a control in it":    {Name: "A", Message: "look\x1b[2Jhere"},
		"a C1 control in it": {Name: "A", Message: "look\u009b2Jhere"},
		"a bidi override":    {Name: "A", Message: "paste it at \u202emoc.elpmaxe"},
		"a bidi isolate":     {Name: "A", Message: "paste it at \u2067moc.elpmaxe"},
		"an unknown field":   {Name: "A", Fields: []string{"token"}},
		"a field twice":      {Name: "A", Type: "login", Fields: []string{"password", "password"}},
		"an unknown type":    {Name: "A", Type: "card"},
		"a bad name":         {Name: "1A"},
		"bad hosts":          {Name: "A", Hosts: []string{"*.com"}},
		"a computed field":   {Name: "A", Type: "totp", Fields: []string{"code"}},
		"a reserved name":    {Name: "PATH"},
		"invalid UTF-8 text": {Name: "A", Message: "\xff"},
	} {
		in.SpaceID, in.Collection = f.Space.ID, f.Coll.Slug
		_, err := f.Vault.CreateEntry(ctx, asker, in)
		wantErr(t, err, vault.ErrInvalid, what)
	}
	if _, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "A", Message: strings.Repeat("é", vault.MaxEntryMessage)}); err != nil {
		t.Fatalf("a message of %d characters: %v", vault.MaxEntryMessage, err)
	}
	e, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "GH", Type: "login", Fields: []string{"username", "password", "url"}})
	if err != nil {
		t.Fatal(err)
	}
	key := "kzl_" + strings.Repeat("Ab3", 14) + "x"
	for what, values := range map[string]map[string]string{
		"an API key":              {"username": "u", "password": key},
		"an API key with a space": {"username": "u", "password": "  " + key},
		"a bearer API key":        {"username": "u", "password": "Bearer " + key},
		"a missing field":         {"username": "u"},
		"a field not asked for":   {"username": "u", "password": "p", "value": "v"},
	} {
		_, err := f.Vault.FillEntry(ctx, person, f.Space.ID, e.ID, values)
		wantErr(t, err, vault.ErrInvalid, what)
		if err != nil && strings.Contains(err.Error(), key) {
			t.Fatal("the refusal quotes the API key")
		}
	}
	done, err := f.Vault.FillEntry(ctx, person, f.Space.ID, e.ID, map[string]string{"username": "u", "password": "p-1"})
	if err != nil || done.State != vault.EntryDone {
		t.Fatalf("a fill without the optional url: %+v, %v", done, err)
	}
}

// testPendingEntriesPerKeyAreCapped: a key has at most MaxPendingEntries pending, also
// when it asks for more at once; expired ones leave room, other keys have their own.
func testPendingEntriesPerKeyAreCapped(t *testing.T, f *Fixture) {
	ctx := context.Background()
	var made, capped atomic.Int32
	var wg sync.WaitGroup
	for range vault.MaxPendingEntries + 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "A"})
			switch {
			case err == nil:
				made.Add(1)
			case errors.Is(err, vault.ErrLimit):
				capped.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if made.Load() != vault.MaxPendingEntries || capped.Load() != 5 {
		t.Fatalf("%d made and %d refused, want %d and 5", made.Load(), capped.Load(), vault.MaxPendingEntries)
	}
	if _, err := f.Vault.CreateEntry(ctx, person, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "A"}); err != nil {
		t.Fatalf("another key: %v", err)
	}
	f.Clock.Advance(vault.EntryLifetime)
	if _, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "A"}); err != nil {
		t.Fatalf("after the others expired: %v", err)
	}
}

// testOneFillWins: of fills sent at once, one stores its value and the others are refused.
func testOneFillWins(t *testing.T, f *Fixture) {
	ctx := context.Background()
	e, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Environment: "dev", Name: "RACE"})
	if err != nil {
		t.Fatal(err)
	}
	var won, lost atomic.Int32
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.Vault.FillEntry(ctx, person, f.Space.ID, e.ID, map[string]string{"value": "racing-value-" + string(rune('a'+i))})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, vault.ErrConflict), errors.Is(err, vault.ErrExists):
				lost.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 || lost.Load() != 5 {
		t.Fatalf("%d fills stored a value and %d were refused, want 1 and 5", won.Load(), lost.Load())
	}
	history, err := f.Vault.History(ctx, f.Space.ID, mustEntry(t, f, e.ID).SecretID)
	if err != nil || len(history) != 1 {
		t.Fatalf("the secret has %d versions (%v), want 1", len(history), err)
	}
}

// testWaitEndsWhenTheEntryIsFilled: a wait returns once another caller fills the entry,
// and after its time with the entry still pending.
func testWaitEndsWhenTheEntryIsFilled(t *testing.T, f *Fixture) {
	ctx := context.Background()
	e, err := f.Vault.CreateEntry(ctx, asker, vault.EntryInput{SpaceID: f.Space.ID, Collection: f.Coll.Slug, Name: "WAITED"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := f.Vault.WaitEntry(ctx, f.Space.ID, e.ID, 300*time.Millisecond)
	if err != nil || got.Status(f.Clock.Now()) != vault.EntryPending || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("a wait on a pending entry: %s after %s, %v", got.Status(f.Clock.Now()), time.Since(start), err)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		if _, err := f.Vault.FillEntry(ctx, person, f.Space.ID, e.ID, map[string]string{"value": entryValue}); err != nil {
			t.Error(err)
		}
	}()
	start = time.Now()
	got, err = f.Vault.WaitEntry(ctx, f.Space.ID, e.ID, 10*time.Second)
	if err != nil || got.Status(f.Clock.Now()) != vault.EntryDone || time.Since(start) > 5*time.Second {
		t.Fatalf("a wait on an entry filled meanwhile: %s after %s, %v", got.Status(f.Clock.Now()), time.Since(start), err)
	}
}

func mustEntry(t *testing.T, f *Fixture, id string) vault.Entry {
	t.Helper()
	e, err := f.Vault.Entry(context.Background(), f.Space.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
