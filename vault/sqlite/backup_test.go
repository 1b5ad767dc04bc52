package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

// A backup is taken beside the open store, as beside a serving server, holds what was
// committed, is 0600, and opens as a store of its own.
func TestBackupWhileOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "kazzle.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	f := storetest.NewFixture(t, store, vault.Options{})
	m := f.Put(t, "dev", "TOKEN", "backed-up-value-1")
	if v, err := sqlite.Inspect(ctx, path); err != nil || v == 0 {
		t.Fatalf("Inspect of an open store: version %d, %v", v, err)
	}
	out := filepath.Join(dir, "backup.db")
	if err := sqlite.Backup(ctx, path, out); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup mode: %v %v", fi, err)
	}
	if err := sqlite.Backup(ctx, path, out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("a backup over an existing file: %v", err)
	}
	copyStore, err := sqlite.Open(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer copyStore.Close()
	sealed, err := copyStore.Secret(ctx, f.Space.ID, m.ID)
	if err != nil || sealed.Name != "TOKEN" {
		t.Fatalf("the backup's copy of TOKEN: %+v %v", sealed.SecretMeta, err)
	}
	if v, err := sqlite.Inspect(ctx, filepath.Join(dir, "missing.db")); err != nil || v != 0 {
		t.Fatalf("Inspect of a missing database: %d %v", v, err)
	}
}
