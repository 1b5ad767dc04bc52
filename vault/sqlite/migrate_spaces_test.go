package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/vault"
)

// TestSpacesMadeBeforeUniqueNamesMigrate: a database from before space names were
// unique opens; its first space keeps its key and gets the first start's name when it
// had none, and a name held twice stays with the older space.
func TestSpacesMadeBeforeUniqueNamesMigrate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "kazzle.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations[:5] {
		if _, err := db.Exec(m); err != nil {
			t.Fatal(err)
		}
	}
	token := vault.APIKeyPrefix + strings.Repeat("a", 43)
	for _, q := range []string{
		`INSERT INTO spaces VALUES ('first', '', 1), ('twin-a', 'team', 2), ('twin-b', 'team', 3)`,
		`INSERT INTO api_keys VALUES ('k', 'first', 'admin', 'admin', 'kzl_aaaa', ?, NULL, NULL, 0, 1, 0, 0)`,
		`PRAGMA user_version = 5`,
	} {
		var args []any
		if strings.Contains(q, "?") {
			args = append(args, vault.HashAPIKey(token))
		}
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	k, err := vault.New(st, nil, vault.Options{}).Authenticate(ctx, token)
	if err != nil || k.SpaceID != "first" || k.Role != vault.RoleAdmin {
		t.Fatalf("the first space's admin key after the migration: %+v, %v", k, err)
	}
	for name, id := range map[string]string{"default": "first", "team": "twin-a", "space-twin-b": "twin-b"} {
		sp, err := st.SpaceByName(ctx, name)
		if err != nil || sp.ID != id || !sp.DeletedAt.IsZero() {
			t.Errorf("SpaceByName(%s) = %+v, %v; want live space %s", name, sp, err, id)
		}
	}
	spaces, err := st.Spaces(ctx)
	if err != nil || len(spaces) != 3 {
		t.Fatalf("Spaces = %+v, %v; want the 3 spaces", spaces, err)
	}
}
