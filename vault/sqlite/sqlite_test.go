package sqlite_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

func openTemp(t *testing.T) vault.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreSuite(t *testing.T) { storetest.Run(t, openTemp) }

func TestOneProcessServesTheDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kazzle.db")
	first, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlite.Open(ctx, path); err == nil || !strings.Contains(err.Error(), "in use by another kazzle process") {
		t.Fatalf("a second open while the first holds the database: err = %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestTheDatabaseIsHeldWhateverPathNamesIt: a path through a symbolic link to the file
// or to its folder, as a configuration may name it, finds the database in use too.
func TestTheDatabaseIsHeldWhateverPathNamesIt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "kazzle.db")
	first, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := os.Symlink(path, filepath.Join(dir, "link.db")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "data"), filepath.Join(dir, "linked")); err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{filepath.Join(dir, "link.db"), filepath.Join(dir, "linked", "kazzle.db"), filepath.Join(dir, "data", ".", "kazzle.db")} {
		s, err := sqlite.Open(ctx, other)
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, sqlite.ErrInUse) {
			t.Errorf("open through %s while the database is held: err = %v, want it in use", other, err)
		}
	}
}
