package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

// Admin UI sessions.

func (s *Store) CreateSession(ctx context.Context, se vault.Session, keep int, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO ui_sessions (hash, key_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
			se.Hash, se.KeyID, rows.Nanos(se.CreatedAt), rows.Nanos(se.ExpiresAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM ui_sessions WHERE key_id = $1 AND seq NOT IN
			(SELECT seq FROM ui_sessions WHERE key_id = $1 ORDER BY seq DESC LIMIT $2)`, se.KeyID, keep)
		return err
	}), "session of API key "+se.KeyID)
}

func (s *Store) SessionByHash(ctx context.Context, hash []byte) (vault.Session, vault.APIKey, error) {
	se, k, err := rows.ScanSession(s.pool.QueryRow(ctx, `SELECT `+rows.SessionCols+` FROM ui_sessions u JOIN api_keys k ON k.id = u.key_id WHERE u.hash = $1`, hash))
	return se, k, mapErr(err, "session")
}

func (s *Store) DeleteSession(ctx context.Context, hash []byte, ev *vault.AuditEvent) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM ui_sessions WHERE hash = $1`, hash); err != nil {
			return err
		}
		if ev == nil {
			return nil
		}
		_, err := tx.Exec(ctx, insertAuditSQL, rows.AuditArgs(*ev)...)
		return err
	})
}

func (s *Store) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM ui_sessions WHERE expires_at <= $1`, rows.Nanos(before))
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

func (s *Store) PruneAPIKeys(ctx context.Context, namePrefix string, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM api_keys WHERE expires_at > 0 AND expires_at <= $1 AND substr(name, 1, $2) = $3`,
		rows.Nanos(before), len([]rune(namePrefix)), namePrefix)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
