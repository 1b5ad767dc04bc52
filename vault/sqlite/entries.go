package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

// One-time entries. Writes go through the one write connection, so the count of a key's
// pending entries and the insert after it cannot interleave with another creation.

const insertEntrySQL = `INSERT INTO entries (` + rows.EntryInsertCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func (s *Store) CreateEntry(ctx context.Context, e vault.Entry, maxPending int, ev vault.AuditEvent) error {
	return mapErr(s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM entries WHERE created_by_key = ? AND state IN ('pending', 'claimed') AND expires_at > ?`,
			e.CreatedByKeyID, rows.Nanos(e.CreatedAt)).Scan(&n); err != nil {
			return err
		}
		if n >= maxPending {
			return vault.ErrLimit
		}
		if _, err := tx.ExecContext(ctx, insertEntrySQL, rows.EntryArgs(e)...); err != nil {
			return err
		}
		return insertAudit(ctx, txExec{tx}, ev)
	}), "entry for "+e.Name)
}

func (s *Store) Entry(ctx context.Context, spaceID, id string) (vault.Entry, error) {
	e, err := rows.ScanEntry(s.queryRow(ctx, `SELECT `+rows.EntryCols+` FROM entries WHERE space_id = ? AND id = ?`, spaceID, id))
	return e, mapErr(err, "entry "+secret.Excerpt(id))
}

func (s *Store) Entries(ctx context.Context, spaceID string, at time.Time) ([]vault.Entry, error) {
	return queryAll(ctx, s, rows.ScanEntry, `SELECT `+rows.EntryCols+` FROM entries
		WHERE space_id = ? AND state IN ('pending', 'claimed') AND expires_at > ? ORDER BY created_at, id`, spaceID, rows.Nanos(at))
}

func (s *Store) ClaimEntry(ctx context.Context, spaceID, id string, at, staleBefore time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE entries SET state = 'claimed', claimed_at = ?
		WHERE space_id = ? AND id = ? AND expires_at > ? AND (state = 'pending' OR (state = 'claimed' AND claimed_at < ?))`,
		rows.Nanos(at), spaceID, id, rows.Nanos(at), rows.Nanos(staleBefore))
	return expectOne(res, err, fmt.Errorf("entry %s is not pending: %w", secret.Excerpt(id), vault.ErrConflict))
}

func (s *Store) ReleaseEntry(ctx context.Context, spaceID, id string) error {
	_, err := s.w.ExecContext(ctx, `UPDATE entries SET state = 'pending', claimed_at = 0 WHERE space_id = ? AND id = ? AND state = 'claimed'`, spaceID, id)
	return err
}

func (s *Store) FinishEntry(ctx context.Context, e vault.Entry, ev vault.AuditEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE entries SET state = 'done', secret_id = ?, version = ?, done_by = ?, done_at = ?
			WHERE space_id = ? AND id = ? AND state = 'claimed'`, e.SecretID, e.Version, e.DoneBy, rows.Nanos(e.DoneAt), e.SpaceID, e.ID)
		if err := expectOne(res, err, fmt.Errorf("entry %s is not being filled: %w", secret.Excerpt(e.ID), vault.ErrConflict)); err != nil {
			return err
		}
		return insertAudit(ctx, txExec{tx}, ev)
	})
}

func (s *Store) CancelEntry(ctx context.Context, spaceID, id string, staleBefore time.Time, ev vault.AuditEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE entries SET state = 'cancelled'
			WHERE space_id = ? AND id = ? AND (state = 'pending' OR (state = 'claimed' AND claimed_at < ?))`, spaceID, id, rows.Nanos(staleBefore))
		if err := expectOne(res, err, fmt.Errorf("entry %s is not pending: %w", secret.Excerpt(id), vault.ErrConflict)); err != nil {
			return err
		}
		return insertAudit(ctx, txExec{tx}, ev)
	})
}

func (s *Store) PruneEntries(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.w.ExecContext(ctx, `DELETE FROM entries WHERE expires_at < ?`, rows.Nanos(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
