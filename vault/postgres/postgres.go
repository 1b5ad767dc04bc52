// Package postgres is the PostgreSQL Store of the vault, on github.com/jackc/pgx/v5:
// the storage that lets several stateless server replicas serve one vault.
//
// Nothing lives only in one process's memory: every read goes to the database, so a
// write through one replica is seen by the next read through any other. Migrations are
// applied at open under an advisory lock, so replicas that start together apply each
// one once. Times are stored as Unix nanoseconds (BIGINT), as the SQLite store keeps
// them, so the two round-trip the same values.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/groupcommit"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

// Store is the PostgreSQL implementation of vault.Store.
type Store struct {
	pool      *pgxpool.Pool
	audit     *groupcommit.Committer[[]any] // see AppendAudit
	exclusive sync.Mutex                    // one connection per process waits for the advisory lock
}

var _ vault.Store = (*Store)(nil)

// migrationLock is the advisory lock key under which migrations run: any constant
// that no other application on the database uses ("kazzle" in ASCII).
const migrationLock = 0x6b617a7a6c65

// Open connects to the database at url (postgres://…), applies pending migrations and
// returns the store. The pool's size follows pgx's pool_max_conns parameter in url.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("migrate the postgres database: %w", err)
	}
	s.audit = groupcommit.New(auditBatch, s.commitAudit)
	return s, nil
}

// Ping checks that the database answers, for the server's health endpoint.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool, after the audit events being committed.
func (s *Store) Close() error {
	s.audit.Close()
	s.pool.Close()
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS kazzle_schema (version INTEGER NOT NULL)`); err != nil {
			return err
		}
		var have int
		err := tx.QueryRow(ctx, `SELECT version FROM kazzle_schema`).Scan(&have)
		if errors.Is(err, pgx.ErrNoRows) {
			_, err = tx.Exec(ctx, `INSERT INTO kazzle_schema (version) VALUES (0)`)
		}
		if err != nil {
			return err
		}
		if have > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this kazzle knows (%d): upgrade kazzle", have, len(migrations))
		}
		for v := have; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
		}
		_, err = tx.Exec(ctx, `UPDATE kazzle_schema SET version = $1`, len(migrations))
		return err
	})
}

// exclusiveLock is the advisory lock key of Exclusively ("kazzle1").
const exclusiveLock = 0x6b617a7a6c6531

// Exclusively runs fn while this session holds a PostgreSQL advisory lock, so one
// replica at a time runs it. The lock lives on a connection of its own, taken from the
// pool for the duration; fn's queries use other connections. Callers in this process
// queue on a mutex first, so that waiting for the lock holds one connection, not all.
func (s *Store) Exclusively(ctx context.Context, fn func(context.Context) error) error {
	s.exclusive.Lock()
	defer s.exclusive.Unlock()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, exclusiveLock); err != nil {
		return fmt.Errorf("take the advisory lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, exclusiveLock)
	return fn(ctx)
}

// tx runs fn in a transaction.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// change runs the statements of fn and the audit event in one transaction.
func (s *Store) change(ctx context.Context, ev vault.AuditEvent, fn func(pgx.Tx) error) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, insertAuditSQL, rows.AuditArgs(ev)...)
		return err
	})
}

// mapErr turns PostgreSQL's constraint errors into the vault's sentinels.
func mapErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%s: %w", what, vault.ErrExists)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%s: what it belongs to does not exist: %w", what, vault.ErrNotFound)
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, vault.ErrNotFound)
	}
	return err
}

// expectOne turns "no row changed" into err.
func expectOne(tag pgconn.CommandTag, err error, notFound error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return notFound
	}
	return nil
}

// notFound reports a lookup that found nothing; what it was looked up by came from a
// caller, so only its secret.Excerpt is repeated.
func notFound(format string, args ...any) error {
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = secret.Excerpt(s)
		}
	}
	return fmt.Errorf(format+": %w", append(args, vault.ErrNotFound)...)
}

// SchemaVersion is the schema version this kazzle migrates a database to when it opens
// it; Inspect refuses a newer one.
func SchemaVersion() int { return len(migrations) }

// Inspect connects to the database at url and reports its schema version, without
// changing it (0: kazzle has not used it yet), and refuses one newer than this kazzle knows.
func Inspect(ctx context.Context, url string) (version int, err error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return 0, fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('kazzle_schema') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	if !exists {
		return 0, nil
	}
	if err := conn.QueryRow(ctx, `SELECT version FROM kazzle_schema`).Scan(&version); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	if version > len(migrations) {
		return version, fmt.Errorf("database schema version %d is newer than this kazzle knows (%d): upgrade kazzle", version, len(migrations))
	}
	return version, nil
}
