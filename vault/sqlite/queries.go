package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/kazzle/kazzle/vault"
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
	_, err := ex.ExecContext(ctx, auditArgs(ev)...)
	return err
}

// auditArgs are the values of one audit_events row, in insertAuditSQL's order.
func auditArgs(ev vault.AuditEvent) []any {
	return []any{ev.SpaceID, ts(ev.Time), ev.ActorKeyID, ev.ActorName, ev.ClientAddr, ev.Action, string(ev.Target.AppendJSON(make([]byte, 0, ev.Target.JSONSize()))), ev.Outcome}
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

func notFound(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, vault.ErrNotFound)...)
}

// Spaces and their keys.

func (s *Store) CreateSpace(ctx context.Context, sp vault.Space, key vault.WrappedKey, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO spaces (id, name, created_at) VALUES (?, ?, ?)`, sp.ID, sp.Name, ts(sp.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO space_keys (space_id, key_id, wrapped, updated_at) VALUES (?, ?, ?, ?)`, sp.ID, key.KeyID, key.Blob, ts(sp.CreatedAt))
		return err
	}), "space "+sp.Name)
}

func (s *Store) Space(ctx context.Context, id string) (vault.Space, error) {
	var sp vault.Space
	var created int64
	err := s.queryRow(ctx, `SELECT id, name, created_at FROM spaces WHERE id = ?`, id).Scan(&sp.ID, &sp.Name, &created)
	sp.CreatedAt = fromTS(created)
	return sp, mapErr(err, "space "+id)
}

func (s *Store) Spaces(ctx context.Context) ([]vault.Space, error) {
	rows, err := s.query(ctx, `SELECT id, name, created_at FROM spaces ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []vault.Space
	for rows.Next() {
		var sp vault.Space
		var created int64
		if err := rows.Scan(&sp.ID, &sp.Name, &created); err != nil {
			return nil, err
		}
		sp.CreatedAt = fromTS(created)
		out = append(out, sp)
	}
	return out, rows.Err()
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
		_, err = tx.ExecContext(ctx, `UPDATE space_keys SET key_id = ?, wrapped = ?, updated_at = ? WHERE space_id = ?`, new.KeyID, new.Blob, ts(ev.Time), spaceID)
		return err
	})
}

// Collections and environments.

func (s *Store) CreateCollection(ctx context.Context, c vault.Collection, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO collections (id, space_id, slug, name, created_at) VALUES (?, ?, ?, ?, ?)`,
			c.ID, c.SpaceID, c.Slug, c.Name, ts(c.CreatedAt))
		return err
	}), "collection "+c.Slug)
}

const collectionCols = `id, space_id, slug, name, created_at, generation`

func scanCollection(sc interface{ Scan(...any) error }) (vault.Collection, error) {
	var c vault.Collection
	var created int64
	err := sc.Scan(&c.ID, &c.SpaceID, &c.Slug, &c.Name, &created, &c.Generation)
	c.CreatedAt = fromTS(created)
	return c, err
}

func (s *Store) Collection(ctx context.Context, spaceID, idOrSlug string) (vault.Collection, error) {
	c, err := scanCollection(s.queryRow(ctx, `SELECT `+collectionCols+` FROM collections WHERE space_id = ? AND (id = ? OR slug = ?)`, spaceID, idOrSlug, idOrSlug))
	return c, mapErr(err, "collection "+idOrSlug)
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
		return c, e, mapErr(err, "collection "+collection)
	}
	c.CreatedAt = fromTS(cCreated)
	if env != "" {
		if e.ID == "" {
			return c, e, notFound("environment %s of %s", env, c.Slug)
		}
		e.SpaceID, e.CollectionID, e.CreatedAt = c.SpaceID, c.ID, fromTS(eCreated)
	}
	return c, e, nil
}

func (s *Store) Collections(ctx context.Context, spaceID string) ([]vault.Collection, error) {
	return queryAll(ctx, s, scanCollection, `SELECT `+collectionCols+` FROM collections WHERE space_id = ? ORDER BY slug`, spaceID)
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
			e.ID, e.SpaceID, e.CollectionID, e.Slug, ts(e.CreatedAt))
		return err
	}), "environment "+e.Slug)
}

const environmentCols = `id, space_id, collection_id, slug, created_at`

func scanEnvironment(sc interface{ Scan(...any) error }) (vault.Environment, error) {
	var e vault.Environment
	var created int64
	err := sc.Scan(&e.ID, &e.SpaceID, &e.CollectionID, &e.Slug, &created)
	e.CreatedAt = fromTS(created)
	return e, err
}

func (s *Store) Environment(ctx context.Context, spaceID, collectionID, idOrSlug string) (vault.Environment, error) {
	e, err := scanEnvironment(s.queryRow(ctx, `SELECT `+environmentCols+` FROM environments
		WHERE space_id = ? AND collection_id = ? AND (id = ? OR slug = ?)`, spaceID, collectionID, idOrSlug, idOrSlug))
	return e, mapErr(err, "environment "+idOrSlug)
}

func (s *Store) Environments(ctx context.Context, spaceID, collectionID string) ([]vault.Environment, error) {
	return queryAll(ctx, s, scanEnvironment, `SELECT `+environmentCols+` FROM environments WHERE space_id = ? AND collection_id = ? ORDER BY slug`, spaceID, collectionID)
}

func (s *Store) DeleteEnvironment(ctx context.Context, spaceID, id string, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE collections SET generation = generation + 1
			WHERE id = (SELECT collection_id FROM environments WHERE space_id = ? AND id = ?)`, spaceID, id)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM environments WHERE space_id = ? AND id = ?`, spaceID, id)
		return expectOne(res, err, notFound("environment %s", id))
	})
}

func queryAll[T any](ctx context.Context, s *Store, scan func(interface{ Scan(...any) error }) (T, error), query string, args ...any) ([]T, error) {
	rows, err := s.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Audit.

func (s *Store) Audit(ctx context.Context, q vault.AuditQuery) ([]vault.AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where = append(where, cond); args = append(args, arg) }
	if q.SpaceID != "" {
		add("space_id = ?", q.SpaceID)
	}
	if !q.Since.IsZero() {
		add("time >= ?", ts(q.Since))
	}
	if !q.Until.IsZero() {
		add("time < ?", ts(q.Until))
	}
	if q.Action != "" {
		add("action = ?", q.Action)
	}
	if q.ActorKeyID != "" {
		add("actor_key_id = ?", q.ActorKeyID)
	}
	query := `SELECT id, space_id, time, actor_key_id, actor_name, client_addr, action, target, outcome FROM audit_events`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	return queryAll(ctx, s, func(sc interface{ Scan(...any) error }) (vault.AuditEvent, error) {
		var ev vault.AuditEvent
		var at int64
		var target string
		if err := sc.Scan(&ev.ID, &ev.SpaceID, &at, &ev.ActorKeyID, &ev.ActorName, &ev.ClientAddr, &ev.Action, &target, &ev.Outcome); err != nil {
			return ev, err
		}
		ev.Time = fromTS(at)
		return ev, json.Unmarshal([]byte(target), &ev.Target)
	}, query, args...)
}

func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM audit_events WHERE time < ?`, ts(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
