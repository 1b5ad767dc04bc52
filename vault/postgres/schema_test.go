package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/kazzle/kazzle/internal/pgtest"
)

// schemaVersion reads the version row of the database at url.
func schemaVersion(t *testing.T, url string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v int
	if err := conn.QueryRow(context.Background(), `SELECT version FROM kazzle_schema`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func execSQL(t *testing.T, url string, queries ...string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, q := range queries {
		if _, err := conn.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestOlderSchemaIsMigratedAtOpen: a database of the first schema version, with a
// space in it, is brought to this kazzle's version when a store opens it, and keeps
// what it held.
func TestOlderSchemaIsMigratedAtOpen(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	execSQL(t, url, `CREATE TABLE kazzle_schema (version INTEGER NOT NULL)`, `INSERT INTO kazzle_schema VALUES (1)`,
		migrations[0], `INSERT INTO spaces (id, name, created_at) VALUES ('sp', 'acme', 1)`)

	st, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := schemaVersion(t, url); got != len(migrations) {
		t.Fatalf("schema version %d after open, want %d", got, len(migrations))
	}
	sp, err := st.Space(ctx, "sp")
	if err != nil || sp.Name != "acme" {
		t.Fatalf("Space = %+v, %v; want the space stored before the migration", sp, err)
	}
}

// TestNewerSchemaIsRefused: a kazzle older than its database refuses to open it, and to
// report it as fine, rather than write to tables it does not know; the database is left
// as it was, for the newer kazzle or a restore.
func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := context.Background()
	url := pgtest.Database(t)
	st, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	newer := len(migrations) + 1
	execSQL(t, url, fmt.Sprintf(`UPDATE kazzle_schema SET version = %d`, newer))

	want := fmt.Sprintf("database schema version %d is newer than this kazzle knows (%d): upgrade kazzle", newer, len(migrations))
	if st, err := Open(ctx, url); err == nil || !strings.Contains(err.Error(), want) {
		if err == nil {
			st.Close()
		}
		t.Fatalf("Open = %v, want %q", err, want)
	}
	if _, err := Inspect(ctx, url); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Inspect = %v, want %q", err, want)
	}
	if got := schemaVersion(t, url); got != newer {
		t.Fatalf("schema version %d after the refusals, want %d", got, newer)
	}
}
