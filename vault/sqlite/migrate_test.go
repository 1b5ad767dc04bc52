package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
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
