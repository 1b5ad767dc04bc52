package postgres

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kazzle/kazzle/internal/pgtest"
	"github.com/kazzle/kazzle/vault"
)

// TestSpacesMadeBeforeUniqueNamesMigrate: a database from before space names were
// unique opens; its first space keeps its key and gets the first start's name when it
// had none, and a name held twice stays with the older space.
func TestSpacesMadeBeforeUniqueNamesMigrate(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	token := vault.APIKeyPrefix + strings.Repeat("a", 43)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range append(migrations[:4:4],
		`INSERT INTO spaces VALUES ('first', '', 1), ('twin-a', 'team', 2), ('twin-b', 'team', 3)`,
		`INSERT INTO api_keys VALUES ('k', 'first', 'admin', 'admin', 'kzl_aaaa', '\x`+hex.EncodeToString(vault.HashAPIKey(token))+`', NULL, NULL, 0, 1, 0, 0)`,
		`CREATE TABLE kazzle_schema (version INTEGER NOT NULL)`,
		`INSERT INTO kazzle_schema VALUES (4)`,
	) {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	conn.Close(ctx)

	st, err := Open(ctx, url)
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
