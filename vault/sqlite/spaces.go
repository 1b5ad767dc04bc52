package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

func (s *Store) AllSpaces(ctx context.Context) ([]vault.Space, error) {
	return queryAll(ctx, s, rows.ScanSpace, `SELECT `+rows.SpaceCols+` FROM space_names ORDER BY created_at, space_id`)
}

func (s *Store) SpaceByName(ctx context.Context, name string) (vault.Space, error) {
	sp, err := rows.ScanSpace(s.queryRow(ctx, `SELECT `+rows.SpaceCols+` FROM space_names WHERE name = ?`, name))
	return sp, mapErr(err, "space "+secret.Excerpt(name))
}

func (s *Store) DeleteSpace(ctx context.Context, id string, at time.Time, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE space_names SET deleted_at = ? WHERE space_id = ? AND deleted_at = 0`, rows.Nanos(at), id)
		if err := expectOne(res, err, notFound("space %s", id)); err != nil {
			return err
		}
		// Its data key, collections, environments, secrets with their versions, API
		// keys with their sessions, and one-time entries go with it (ON DELETE CASCADE).
		res, err = tx.ExecContext(ctx, `DELETE FROM spaces WHERE id = ?`, id)
		return expectOne(res, err, notFound("space %s", id))
	})
}

func (s *Store) CreateOperatorKey(ctx context.Context, k vault.APIKey, revokeOthers bool, ev vault.AuditEvent) error {
	return mapErr(s.tx(ctx, func(tx *sql.Tx) error {
		defer s.lookups.writes.Add(1)
		if revokeOthers {
			rs, err := tx.QueryContext(ctx, `UPDATE operator_keys SET revoked_at = ? WHERE revoked_at = 0 RETURNING id`, rows.Nanos(k.CreatedAt))
			if err != nil {
				return err
			}
			ids, err := rows.Collect(rs.Next, rs, func(sc rows.Scanner) (string, error) {
				var id string
				return id, sc.Scan(&id)
			})
			if err := errors.Join(err, rs.Err(), rs.Close()); err != nil {
				return err
			}
			slices.Sort(ids)
			ev.Target.RevokedKeys = ids
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO operator_keys (id, name, prefix, hash, created_at, last_used_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, k.ID, k.Name, k.Prefix, k.Hash, rows.Nanos(k.CreatedAt), rows.Nanos(k.LastUsedAt), rows.Nanos(k.RevokedAt)); err != nil {
			return err
		}
		return insertAudit(ctx, txExec{tx}, ev)
	}), "operator key "+k.Name)
}
