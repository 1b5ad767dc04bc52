package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

const insertAuditSQL = `INSERT INTO audit_events (space_id, time, actor_key_id, actor_name, client_addr, action, target, outcome)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// execer is a transaction, or a prepared statement bound to one.
type execer interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
}

// txExec runs insertAuditSQL in tx, parsing it afresh: for the odd event of a change.
type txExec struct{ tx *sql.Tx }

func (t txExec) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return t.tx.ExecContext(ctx, insertAuditSQL, args...)
}

func insertAudit(ctx context.Context, ex execer, ev vault.AuditEvent) error {
	_, err := ex.ExecContext(ctx, rows.AuditArgs(ev)...)
	return err
}

// change runs the statements of fn and the audit event in one transaction, and then
// retires the in-memory lookups (whether or not it committed: that is only a reload).
func (s *Store) change(ctx context.Context, ev vault.AuditEvent, fn func(*sql.Tx) error) error {
	defer s.lookups.writes.Add(1)
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return insertAudit(ctx, txExec{tx}, ev)
	})
}

// expectOne turns "no row changed" into err.
func expectOne(res sql.Result, err error, notFound error) error {
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
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

// Spaces and their keys.

func (s *Store) CreateSpace(ctx context.Context, sp vault.Space, key vault.WrappedKey, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO space_names (name, space_id, created_at) VALUES (?, ?, ?)`, sp.Name, sp.ID, rows.Nanos(sp.CreatedAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO spaces (id, name, created_at) VALUES (?, ?, ?)`, sp.ID, sp.Name, rows.Nanos(sp.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO space_keys (space_id, key_id, wrapped, updated_at) VALUES (?, ?, ?, ?)`, sp.ID, key.KeyID, key.Blob, rows.Nanos(sp.CreatedAt))
		return err
	}), "space "+sp.Name)
}

func (s *Store) Space(ctx context.Context, id string) (vault.Space, error) {
	sp, err := rows.ScanSpace(s.queryRow(ctx, `SELECT `+rows.SpaceCols+` FROM space_names WHERE space_id = ? AND deleted_at = 0`, id))
	return sp, mapErr(err, "space "+secret.Excerpt(id))
}

func (s *Store) Spaces(ctx context.Context) ([]vault.Space, error) {
	return queryAll(ctx, s, rows.ScanSpace, `SELECT `+rows.SpaceCols+` FROM space_names WHERE deleted_at = 0 ORDER BY created_at, space_id`)
}

func (s *Store) SpaceKey(ctx context.Context, spaceID string) (vault.WrappedKey, error) {
	var k vault.WrappedKey
	err := s.queryRow(ctx, `SELECT key_id, wrapped FROM space_keys WHERE space_id = ?`, spaceID).Scan(&k.KeyID, &k.Blob)
	return k, mapErr(err, "data key of space "+spaceID)
}

func (s *Store) ReplaceSpaceKey(ctx context.Context, spaceID string, old, new vault.WrappedKey, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx *sql.Tx) error {
		var cur vault.WrappedKey
		err := tx.QueryRowContext(ctx, `SELECT key_id, wrapped FROM space_keys WHERE space_id = ?`, spaceID).Scan(&cur.KeyID, &cur.Blob)
		if err != nil {
			return mapErr(err, "data key of space "+spaceID)
		}
		if cur.KeyID != old.KeyID || subtle.ConstantTimeCompare(cur.Blob, old.Blob) != 1 {
			return fmt.Errorf("data key of space %s: %w", spaceID, vault.ErrConflict)
		}
		_, err = tx.ExecContext(ctx, `UPDATE space_keys SET key_id = ?, wrapped = ?, updated_at = ? WHERE space_id = ?`, new.KeyID, new.Blob, rows.Nanos(ev.Time), spaceID)
		return err
	})
}

// Collections and environments.

func (s *Store) CreateCollection(ctx context.Context, c vault.Collection, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO collections (id, space_id, slug, name, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, c.SpaceID, c.Slug, c.Name, rows.Nanos(c.CreatedAt))
		return err
	}), "collection "+c.Slug)
}

func (s *Store) Collection(ctx context.Context, spaceID, idOrSlug string) (vault.Collection, error) {
	c, err := rows.ScanCollection(s.queryRow(ctx, `SELECT `+rows.CollectionCols+` FROM collections WHERE space_id = ? AND (id = ? OR slug = ?)`, spaceID, idOrSlug, idOrSlug))
	return c, mapErr(err, "collection "+secret.Excerpt(idOrSlug))
}

func (s *Store) collectionAndEnvironment(ctx context.Context, spaceID, collection, env string) (vault.Collection, vault.Environment, error) {
	var c vault.Collection
	var e vault.Environment
	var cCreated, eCreated int64
	err := s.queryRow(ctx, `SELECT c.id, c.space_id, c.slug, c.name, c.created_at, c.generation,
			coalesce(e.id, ''), coalesce(e.slug, ''), coalesce(e.created_at, 0)
		FROM collections c LEFT JOIN environments e ON e.collection_id = c.id AND (e.id = ? OR e.slug = ?)
		WHERE c.space_id = ? AND (c.id = ? OR c.slug = ?)`, env, env, spaceID, collection, collection).
		Scan(&c.ID, &c.SpaceID, &c.Slug, &c.Name, &cCreated, &c.Generation, &e.ID, &e.Slug, &eCreated)
	if err != nil {
		return c, e, mapErr(err, "collection "+secret.Excerpt(collection))
	}
	c.CreatedAt = rows.Time(cCreated)
	if env != "" {
		if e.ID == "" {
			return c, e, notFound("environment %s of %s", env, c.Slug)
		}
		e.SpaceID, e.CollectionID, e.CreatedAt = c.SpaceID, c.ID, rows.Time(eCreated)
	}
	return c, e, nil
}

func (s *Store) Collections(ctx context.Context, spaceID string) ([]vault.Collection, error) {
	return queryAll(ctx, s, rows.ScanCollection, `SELECT `+rows.CollectionCols+` FROM collections WHERE space_id = ? ORDER BY slug`, spaceID)
}

func (s *Store) DeleteCollection(ctx context.Context, spaceID, id string, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM collections WHERE space_id = ? AND id = ?`, spaceID, id)
		return expectOne(res, err, notFound("collection %s", id))
	})
}

func (s *Store) CreateEnvironment(ctx context.Context, e vault.Environment, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO environments (id, space_id, collection_id, slug, created_at) VALUES (?, ?, ?, ?, ?)`,
			e.ID, e.SpaceID, e.CollectionID, e.Slug, rows.Nanos(e.CreatedAt))
		return err
	}), "environment "+e.Slug)
}

func (s *Store) Environment(ctx context.Context, spaceID, collectionID, idOrSlug string) (vault.Environment, error) {
	e, err := rows.ScanEnvironment(s.queryRow(ctx, `SELECT `+rows.EnvironmentCols+` FROM environments
		WHERE space_id = ? AND collection_id = ? AND (id = ? OR slug = ?)`, spaceID, collectionID, idOrSlug, idOrSlug))
	return e, mapErr(err, "environment "+secret.Excerpt(idOrSlug))
}

func (s *Store) Environments(ctx context.Context, spaceID, collectionID string) ([]vault.Environment, error) {
	return queryAll(ctx, s, rows.ScanEnvironment, `SELECT `+rows.EnvironmentCols+` FROM environments WHERE space_id = ? AND collection_id = ? ORDER BY slug`, spaceID, collectionID)
}

func (s *Store) DeleteEnvironment(ctx context.Context, spaceID, id string, revoke []string, at time.Time, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx *sql.Tx) error {
		// One writer at a time: no key can be limited to the environment between this
		// count and the delete.
		rs, err := tx.QueryContext(ctx, `SELECT id FROM api_keys WHERE space_id = ? AND environment_id = ?
			AND revoked_at = 0 AND (expires_at = 0 OR expires_at > ?)`, spaceID, id, rows.Nanos(at))
		if err != nil {
			return err
		}
		var keys []string
		for rs.Next() {
			var k string
			if err := rs.Scan(&k); err != nil {
				rs.Close()
				return err
			}
			keys = append(keys, k)
		}
		if err := errors.Join(rs.Err(), rs.Close()); err != nil {
			return err
		}
		if n := vault.UnlistedKeys(keys, revoke); n > 0 {
			return &vault.LimitedKeysError{Keys: n}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE collections SET generation = generation + 1
			WHERE id = (SELECT collection_id FROM environments WHERE space_id = ? AND id = ?)`, spaceID, id); err != nil {
			return err
		}
		// The keys limited to it, their sessions, its secrets with their versions and
		// its one-time entries go with it (ON DELETE CASCADE).
		res, err := tx.ExecContext(ctx, `DELETE FROM environments WHERE space_id = ? AND id = ?`, spaceID, id)
		return expectOne(res, err, notFound("environment %s", id))
	})
}

func (s *Store) RenameEnvironment(ctx context.Context, spaceID, id, slug string, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE environments SET slug = ? WHERE space_id = ? AND id = ?`, slug, spaceID, id)
		return expectOne(res, err, notFound("environment %s", id))
	}), "environment "+slug)
}

func queryAll[T any](ctx context.Context, s *Store, scan func(rows.Scanner) (T, error), query string, args ...any) ([]T, error) {
	rs, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out, err := rows.Collect(rs.Next, rs, scan)
	if err != nil {
		return nil, err
	}
	return out, rs.Err()
}

// Audit.

func (s *Store) Audit(ctx context.Context, q vault.AuditQuery) ([]vault.AuditEvent, error) {
	query, args := rows.AuditQuery(q, func(int) string { return "?" })
	return queryAll(ctx, s, rows.ScanAuditEvent, query, args...)
}

func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM audit_events WHERE time < ?`, rows.Nanos(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
