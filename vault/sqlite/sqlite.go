// Package sqlite is the embedded Store of the vault, on modernc.org/sqlite (pure Go).
//
// The database runs in WAL mode with foreign keys on. Writes go through a single
// connection, so they queue in Go rather than fail with SQLITE_BUSY; reads use a pool of
// read-only connections that WAL lets run beside the writer. synchronous=FULL: an
// acknowledged write survives a crash of the process and of the machine.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/groupcommit"
)

// Store is the SQLite implementation of vault.Store.
type Store struct {
	w *sql.DB // one connection: every write
	r *sql.DB // read-only pool

	audit *groupcommit.Committer[[]any] // see AppendAudit

	stmts       sync.Map // query text → *sql.Stmt on the read pool
	auditInsert *sql.Stmt
	lookups     lookupCache
	lock        *os.File
	exclusive   sync.Mutex // see Exclusively
}

var _ vault.Store = (*Store)(nil)

// Open opens (creating it when missing, with mode 0600 in a 0700 folder) the database at
// path and applies pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create folder for %s: %w", path, err)
	}
	lock, err := lockFile(path)
	if err != nil {
		return nil, err
	}
	s, err := open(ctx, path)
	if err != nil {
		lock.Close()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

func open(ctx context.Context, path string) (*Store, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	f.Close()
	dsn := func(extra ...string) string {
		q := url.Values{}
		q.Add("_pragma", "foreign_keys(1)")
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "synchronous(FULL)")
		for _, p := range extra {
			q.Add("_pragma", p)
		}
		return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	}
	w, err := sql.Open("sqlite", dsn("journal_mode(WAL)"))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	s := &Store{w: w}
	s.lookups.entries = newLookupCache()
	if err := s.migrate(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("query_only(1)"))
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	r.SetMaxIdleConns(max(4, runtime.GOMAXPROCS(0)))
	s.r = r
	if s.auditInsert, err = w.PrepareContext(ctx, insertAuditSQL); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	s.audit = groupcommit.New(auditBatch, s.commitAudit)
	return s, nil
}

// readStmt returns the read pool's prepared statement for query, preparing it once:
// parsing SQL was a sixth of a resolve's CPU time.
func (s *Store) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// query runs a read query through a prepared statement.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.readStmt(ctx, query)
	if err != nil {
		// A Row carrying the error: database/sql offers no other way to make one.
		return s.r.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// Ping checks that the database answers a query, for the server's health endpoint.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Close closes the database, after the audit events being committed.
func (s *Store) Close() error {
	s.audit.Close()
	s.stmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
	s.auditInsert.Close()
	return errors.Join(s.r.Close(), s.w.Close(), s.lock.Close())
}

func (s *Store) migrate(ctx context.Context) error {
	var have int
	if err := s.w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return err
	}
	if have > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this kazzle knows (%d): upgrade kazzle", have, len(migrations))
	}
	for v := have; v < len(migrations); v++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// tx runs fn in a write transaction.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// mapErr turns SQLite's constraint errors into the vault's sentinels.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return fmt.Errorf("%s: %w", what, vault.ErrExists)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return fmt.Errorf("%s: what it belongs to does not exist: %w", what, vault.ErrNotFound)
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, vault.ErrNotFound)
	}
	return err
}

// Exclusively runs fn under the store's mutex: this process is the only one on the
// database (see lockFile), so that is enough.
func (s *Store) Exclusively(ctx context.Context, fn func(context.Context) error) error {
	s.exclusive.Lock()
	defer s.exclusive.Unlock()
	return fn(ctx)
}
