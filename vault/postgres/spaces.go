package postgres

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

func (s *Store) AllSpaces(ctx context.Context) ([]vault.Space, error) {
	return queryAll(ctx, s, rows.ScanSpace, `SELECT `+rows.SpaceCols+` FROM space_names ORDER BY created_at, space_id`)
}

func (s *Store) SpaceByName(ctx context.Context, name string) (vault.Space, error) {
	sp, err := rows.ScanSpace(s.pool.QueryRow(ctx, `SELECT `+rows.SpaceCols+` FROM space_names WHERE name = $1`, name))
	return sp, mapErr(err, "space "+secret.Excerpt(name))
}

func (s *Store) DeleteSpace(ctx context.Context, id string, at time.Time, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE space_names SET deleted_at = $1 WHERE space_id = $2 AND deleted_at = 0`, rows.Nanos(at), id)
		if err := expectOne(tag, err, notFound("space %s", id)); err != nil {
			return err
		}
		// Its data key, collections, environments, secrets with their versions, API
		// keys with their sessions, and one-time entries go with it (ON DELETE CASCADE).
		// A write into the space that runs meanwhile waits for this row and then fails
		// its foreign key: nothing is left behind in a deleted space.
		tag, err = tx.Exec(ctx, `DELETE FROM spaces WHERE id = $1`, id)
		return expectOne(tag, err, notFound("space %s", id))
	})
}

func (s *Store) CreateOperatorKey(ctx context.Context, k vault.APIKey, revokeOthers bool, ev vault.AuditEvent) error {
	return mapErr(s.tx(ctx, func(tx pgx.Tx) error {
		if revokeOthers {
			// The lock conflicts with itself and with every insert: an operator key
			// made by a transaction racing this one is either revoked here or made
			// after it, so racing rotations leave one key, not one each.
			if _, err := tx.Exec(ctx, `LOCK TABLE operator_keys IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				return err
			}
			rs, err := tx.Query(ctx, `UPDATE operator_keys SET revoked_at = $1 WHERE revoked_at = 0 RETURNING id`, rows.Nanos(k.CreatedAt))
			if err != nil {
				return err
			}
			ids, err := pgx.CollectRows(rs, pgx.RowTo[string])
			if err != nil {
				return err
			}
			slices.Sort(ids)
			ev.Target.RevokedKeys = ids
		}
		if _, err := tx.Exec(ctx, `INSERT INTO operator_keys (id, name, prefix, hash, created_at, last_used_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, k.ID, k.Name, k.Prefix, k.Hash, rows.Nanos(k.CreatedAt), rows.Nanos(k.LastUsedAt), rows.Nanos(k.RevokedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, insertAuditSQL, rows.AuditArgs(ev)...)
		return err
	}), "operator key "+k.Name)
}
