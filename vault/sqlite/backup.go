package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
)

// readOnly opens the database at path for reading alone, without the store's lock: the
// server may hold it. WAL lets these reads run beside its writes.
func readOnly(path string) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// SchemaVersion is the schema version this kazzle migrates a database to when it opens
// it; Inspect refuses a newer one.
func SchemaVersion() int { return len(migrations) }

// Inspect reports the schema version of the database at path, without changing it,
// and refuses one newer than this kazzle knows. A database that does not exist yet is
// version 0: the server creates it.
func Inspect(ctx context.Context, path string) (version int, err error) {
	db, err := readOnly(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	if version > len(migrations) {
		return version, fmt.Errorf("%s: database schema version %d is newer than this kazzle knows (%d): upgrade kazzle", path, version, len(migrations))
	}
	return version, nil
}

// Backup writes a consistent copy of the database at path to out with VACUUM INTO: one
// read transaction, so it runs while the server serves, and it holds every write
// committed before it began. The copy is created with mode 0600 and must not exist yet.
// It holds what the database holds, sealed fields and wrapped data keys, never the root
// key that unwraps them.
func Backup(ctx context.Context, path, out string) error {
	db, err := readOnly(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	// VACUUM INTO writes into an empty file that exists, keeping its mode: 0600 from the start.
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create the backup: %w", err)
	}
	f.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(out)
		}
	}()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", out); err != nil {
		return fmt.Errorf("back up %s: %w", path, err)
	}
	if err := checkCopy(ctx, out); err != nil {
		return fmt.Errorf("the backup %s does not read back: %w", out, err)
	}
	f, err = os.OpenFile(out, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = errors.Join(f.Chmod(0o600), f.Sync(), f.Close())
	done = err == nil
	return err
}

// checkCopy runs SQLite's integrity check on a backup.
func checkCopy(ctx context.Context, path string) error {
	db, err := readOnly(path)
	if err != nil {
		return err
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("integrity check: %s", result)
	}
	return nil
}
