package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

// Admin UI sessions.

func (s *Store) CreateSession(ctx context.Context, se vault.Session, keep int, ev vault.AuditEvent) error {
	return mapErr(s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ui_sessions (hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			se.Hash, se.KeyID, rows.Nanos(se.CreatedAt), rows.Nanos(se.ExpiresAt)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE key_id = ? AND seq NOT IN
			(SELECT seq FROM ui_sessions WHERE key_id = ? ORDER BY seq DESC LIMIT ?)`, se.KeyID, se.KeyID, keep); err != nil {
			return err
		}
		return insertAudit(ctx, txExec{tx}, ev)
	}), "session of API key "+se.KeyID)
}

func (s *Store) SessionByHash(ctx context.Context, hash []byte) (vault.Session, vault.APIKey, error) {
	se, k, err := rows.ScanSession(s.queryRow(ctx, `SELECT `+rows.SessionCols+` FROM ui_sessions u JOIN api_keys k ON k.id = u.key_id WHERE u.hash = ?`, hash))
	return se, k, mapErr(err, "session")
}

func (s *Store) DeleteSession(ctx context.Context, hash []byte, ev *vault.AuditEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE hash = ?`, hash); err != nil {
			return err
		}
		if ev == nil {
			return nil
		}
		return insertAudit(ctx, txExec{tx}, *ev)
	})
}

func (s *Store) PruneSessions(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM ui_sessions WHERE expires_at <= ?`, rows.Nanos(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (s *Store) PruneAPIKeys(ctx context.Context, namePrefix string, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM api_keys WHERE expires_at > 0 AND expires_at <= ? AND substr(name, 1, ?) = ?`,
		rows.Nanos(before), len([]rune(namePrefix)), namePrefix)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
