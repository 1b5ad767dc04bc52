package sqlite

import (
	"context"
	"database/sql"
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

func (s *Store) CreateOperatorKey(ctx context.Context, k vault.APIKey, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO operator_keys (id, name, prefix, hash, created_at, last_used_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, k.ID, k.Name, k.Prefix, k.Hash, rows.Nanos(k.CreatedAt), rows.Nanos(k.LastUsedAt), rows.Nanos(k.RevokedAt))
		return err
	}), "operator key "+k.Name)
}
