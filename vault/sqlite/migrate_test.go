package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsStoredBeforeHostsAreUnbound: a database made before secrets had hosts
// opens, and its secrets and their versions read as unbound.
func TestSecretsStoredBeforeHostsAreUnbound(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kazzle.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:3] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`INSERT INTO spaces VALUES ('sp', 'acme', 1)`,
		`INSERT INTO collections (id, space_id, slug, name, created_at) VALUES ('c', 'sp', 'app', 'App', 1)`,
		`INSERT INTO secrets VALUES ('s', 'sp', 'c', NULL, 'OLD', 'string', '', 1, 1, 'me', 1, 'me')`,
		`INSERT INTO secret_versions VALUES ('s', 1, 'string', '', 1, 'me')`,
		`PRAGMA user_version = 3`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s, err := st.Secret(ctx, "sp", "s")
	if err != nil || s.Hosts != nil {
		t.Fatalf("Secret = %+v, %v; want it unbound", s.SecretMeta, err)
	}
	vs, err := st.SecretVersions(ctx, "sp", "s")
	if err != nil || len(vs) != 1 || vs[0].Hosts != nil {
		t.Fatalf("SecretVersions = %+v, %v; want one unbound version", vs, err)
	}
}

// TestNewerSchemaIsRefused: a kazzle older than its database refuses to open it, and to
// report it as fine, rather than write to tables it does not know; the database is left
// as it was, for the newer kazzle or a restore.
func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kazzle.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	newer := len(migrations) + 1
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}

	want := fmt.Sprintf("database schema version %d is newer than this kazzle knows (%d): upgrade kazzle", newer, len(migrations))
	if st, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), want) {
		if err == nil {
			st.Close()
		}
		t.Fatalf("Open = %v, want %q", err, want)
	}
	if _, err := Inspect(ctx, path); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Inspect = %v, want %q", err, want)
	}
	var have int
	if err := db.QueryRow("PRAGMA user_version").Scan(&have); err != nil || have != newer {
		t.Fatalf("user_version = %d, %v after the refusals; want %d", have, err, newer)
	}
}
