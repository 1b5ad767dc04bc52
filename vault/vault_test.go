package vault_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

func openStore(t testing.TB, dir string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// plaintexts are distinctive values the test writes and then hunts for.
var plaintexts = []string{
	"sk_live_PLAINTEXT_4eC39HqLyjWDarjt",
	"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n",
	"pässwörd-ünïcødé-🔑-PLAINTEXT",
	"old-version-PLAINTEXT-value-0001",
	"JBSWY3DPEHPK3PXPPLAINTEXTSEEDAB", // a totp seed
}

func TestNoPlaintextInDatabaseFilesErrorsOrLogs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store := openStore(t, dir)
	defer store.Close()
	var logs bytes.Buffer
	f := storetest.NewFixture(t, store, vault.Options{Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	var errs []error
	keep := func(_ any, err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	pem := f.Put(t, "dev", "TLS_KEY", plaintexts[1])
	api := f.Put(t, "", "STRIPE_SECRET_KEY", plaintexts[3])
	keep(f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: api.ID, Version: 1, Fields: map[string]string{"value": plaintexts[0]}}))
	login, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "DB", Type: secret.TypeLogin,
		Fields: map[string]string{"username": "app", "password": plaintexts[2]}})
	if err != nil {
		t.Fatal(err)
	}
	keep(f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "OTP", Type: secret.TypeTOTP,
		Fields: map[string]string{"seed": plaintexts[4]}}))
	keep(f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "DSN",
		Fields: map[string]string{"value": "x:${secret." + login.ID + ".password}"}}))

	// Operations that fail, with values in their input: their errors must not echo them.
	keep(f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BAD NAME", Fields: map[string]string{"value": plaintexts[0]}}))
	keep(f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "STRIPE_SECRET_KEY", Fields: map[string]string{"value": plaintexts[0]}}))
	keep(f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BAD_REF", Fields: map[string]string{"value": plaintexts[0] + "${secret.00000000-0000-4000-8000-000000000000.value}"}}))
	keep(f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BAD_SYNTAX", Fields: map[string]string{"value": plaintexts[0] + "${secret.x"}}))
	keep(f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BAD_SEED", Type: secret.TypeTOTP, Fields: map[string]string{"seed": "otpauth://totp/x?secret=" + plaintexts[0] + "%zz"}}))
	keep(f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BAD_UTF8", Fields: map[string]string{"value": plaintexts[0] + "\xff"}}))
	keep(f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: pem.ID, Version: 7, Fields: map[string]string{"value": plaintexts[0]}}))
	keep(f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: login.ID, Version: 1, Fields: map[string]string{"username": plaintexts[0]}}))
	if len(errs) != 8 {
		t.Fatalf("%d of the 8 bad operations failed: %v", len(errs), errs)
	}
	// Reads of plaintext work, and leave only audit events (no values) behind.
	vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"})
	if err != nil || len(vars) != 6 {
		t.Fatalf("resolve: %d vars, %v", len(vars), err)
	}
	if _, err := f.Vault.Reveal(ctx, f.Actor, f.Space.ID, api.ID, 1, false); err != nil {
		t.Fatal(err)
	}

	files, err := filepath.Glob(filepath.Join(dir, "kazzle.db*"))
	if err != nil {
		t.Fatal(err)
	}
	sawWAL := false
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sawWAL = sawWAL || (filepath.Ext(path) == ".db-wal" && len(data) > 0)
		for i, p := range plaintexts {
			if bytes.Contains(data, []byte(p)) {
				t.Errorf("%s holds plaintext %d", filepath.Base(path), i)
			}
		}
	}
	if !sawWAL {
		t.Errorf("no WAL content was checked (files: %v)", files)
	}
	for _, err := range errs {
		for i, p := range plaintexts {
			if bytes.Contains([]byte(err.Error()), []byte(p)) {
				t.Errorf("error %q holds plaintext %d", err, i)
			}
		}
	}
	if logs.Len() == 0 {
		t.Error("the vault logged nothing; the log check checked nothing")
	}
	for i, p := range plaintexts {
		if bytes.Contains(logs.Bytes(), []byte(p)) {
			t.Errorf("log holds plaintext %d", i)
		}
	}
}

// A sealed field copied to another secret, version or field does not open.
func TestMovedCiphertextDoesNotOpen(t *testing.T) {
	ctx := context.Background()
	store := openStore(t, t.TempDir())
	defer store.Close()
	f := storetest.NewFixture(t, store, vault.Options{})
	a := f.Put(t, "", "A", "value-of-a")
	b := f.Put(t, "", "B", "value-of-b")
	if _, err := f.Vault.UpdateSecret(ctx, f.Actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: a.ID, Version: 1, Fields: map[string]string{"value": "a-v2"}}); err != nil {
		t.Fatal(err)
	}
	login, err := f.Vault.CreateSecret(ctx, f.Actor, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "L", Type: secret.TypeLogin,
		Fields: map[string]string{"username": "u", "password": "p"}})
	if err != nil {
		t.Fatal(err)
	}
	read := func(id string, version int) vault.SealedSecret {
		t.Helper()
		s, err := store.SecretVersion(ctx, f.Space.ID, id, version)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	sealedA1, sealedB, sealedL := read(a.ID, 1), read(b.ID, 1), read(login.ID, 1)

	write := func(s vault.SealedSecret) {
		t.Helper()
		if err := store.UpdateSecret(ctx, s, vault.AuditEvent{SpaceID: f.Space.ID, Action: "test.tamper"}); err != nil {
			t.Fatal(err)
		}
	}
	// To another secret: B's next version carries A's sealed value.
	tampered := sealedB
	tampered.Version = 2
	tampered.Fields = map[string][]byte{"value": sealedA1.Fields["value"]}
	write(tampered)
	// To another version: A's version 3 carries A's version 1 ciphertext.
	cur := read(a.ID, 2)
	cur.Version = 3
	cur.Fields = map[string][]byte{"value": sealedA1.Fields["value"]}
	write(cur)
	// To another field: L's username and password swapped.
	swapped := sealedL
	swapped.Version = 2
	swapped.Fields = map[string][]byte{"username": sealedL.Fields["password"], "password": sealedL.Fields["username"]}
	write(swapped)

	for _, tc := range []struct{ desc, id, name string }{{"another secret", b.ID, "B"}, {"another version", a.ID, "A"}, {"another field", login.ID, "L"}} {
		_, err := f.Vault.Secret(ctx, f.Space.ID, tc.id, 0)
		if !errors.Is(err, vault.ErrCiphertext) {
			t.Errorf("%s: err = %v, want ErrCiphertext", tc.desc, err)
			continue
		}
		t.Logf("%s: %v", tc.desc, err)
	}
	// The untouched versions still open.
	if s, err := f.Vault.Secret(ctx, f.Space.ID, a.ID, 2); err != nil || s.Fields["value"] != "a-v2" {
		t.Errorf("untouched version: %v", err)
	}
}

// BenchmarkResolve100 resolves a 100-secret environment from SQLite: query, decryption of
// every field (warm data-key cache), merge, reference expansion, and the audit write.
func BenchmarkResolve100(b *testing.B) {
	ctx := context.Background()
	store := openStore(b, b.TempDir())
	defer store.Close()
	f := storetest.NewFixture(b, store, vault.Options{})
	var first vault.SecretMeta
	for i := 0; i < 100; i++ {
		env := ""
		if i%3 == 0 {
			env = "dev"
		}
		val := fmt.Sprintf("value-%03d-%s", i, "0123456789abcdef0123456789abcdef")
		if i%10 == 5 {
			val = "prefix-${secret." + first.ID + ".value}"
		}
		m := f.Put(b, env, fmt.Sprintf("SECRET_%03d", i), val)
		if i == 0 {
			first = m
		}
	}
	req := vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas", Environment: "dev"}
	for b.Loop() {
		vars, err := f.Vault.Resolve(ctx, f.Actor, req)
		if err != nil || len(vars) != 100 {
			b.Fatalf("%d vars, %v", len(vars), err)
		}
	}
}
