package cmd

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/vault/localkms"
	"github.com/kazzle/kazzle/vault/sqlite"
)

// TestServerCheckSaysWhenTheNextStartMigrates: before an upgrade, the new kazzle's
// server check says whether its first start will migrate the database, which the older
// kazzle then refuses, and migrates nothing itself; a database already at its version is
// reported as it is.
func TestServerCheckSaysWhenTheNextStartMigrates(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "data", "kazzle.db")
	keyPath := filepath.Join(dir, "data", "root.key")
	config := filepath.Join(dir, "kazzle-server.hcl")
	hcl := fmt.Sprintf("listener \"tcp\" {\n  address = \"127.0.0.1:0\"\n  tls_disable = true\n}\nstorage \"sqlite\" { path = %q }\nkms \"local\" { key_file = %q }\n",
		dbPath, keyPath)
	if err := os.WriteFile(config, []byte(hcl), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if _, err := localkms.Open(keyPath); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	current := sqlite.SchemaVersion()
	for _, tc := range []struct {
		name    string
		version int
		want    string
	}{
		{"older", current - 1, fmt.Sprintf("ok  storage   sqlite %s, schema version %d: the next start migrates it to %d, which older kazzles refuse (back it up first)\n", dbPath, current-1, current)},
		{"current", current, fmt.Sprintf("ok  storage   sqlite %s, schema version %d\n", dbPath, current)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", tc.version)); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, environ: func() []string { return nil }}
			if code := c.main(ctx, []string{"server", "check", "--config", config}); code != exitOK {
				t.Fatalf("server check: status %d\n%s%s", code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.want) {
				t.Errorf("server check printed:\n%s\nwant the line %q", stdout.String(), tc.want)
			}
			var have int
			if err := db.QueryRow("PRAGMA user_version").Scan(&have); err != nil || have != tc.version {
				t.Errorf("user_version = %d, %v after server check; want %d, unchanged", have, err, tc.version)
			}
		})
	}
}
