package localkms

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreatesKeyFileWithMode0600(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "root.key")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("root key mode %04o, want 0600", perm)
	}
	key, wrapped, err := w.GenerateDataKey(ctx, "space-a")
	if err != nil {
		t.Fatal(err)
	}
	// Reopening reads the same root key: the same id, and old wrapped keys unwrap.
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id1, err := w.KeyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := again.KeyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if id1 != id2 || !strings.HasPrefix(id1, "local:") {
		t.Fatalf("key ids %q and %q", id1, id2)
	}
	got, err := again.UnwrapDataKey(ctx, "space-a", wrapped)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap after reopen: %v", err)
	}
	if _, err := again.UnwrapDataKey(ctx, "space-b", wrapped); err == nil {
		t.Fatal("a data key unwrapped for another space")
	}
	other, err := Open(filepath.Join(t.TempDir(), "other.key"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.UnwrapDataKey(ctx, "space-a", wrapped); err == nil || !strings.Contains(err.Error(), "is wrapped by local:") {
		t.Fatalf("another root key: err = %v", err)
	}
}

func TestRefusesKeyFileOthersCanRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	if _, err := Open(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("mode 0644: err = %v, want a refusal that says to chmod 600", err)
	}
}

func TestRefusesDamagedKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(path, []byte("c2hvcnQ=\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "not 32 base64-encoded bytes") {
		t.Fatalf("short key: err = %v", err)
	}
}
