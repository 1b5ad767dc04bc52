package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

// One-time entries.

const insertEntrySQL = `INSERT INTO entries (` + rows.EntryInsertCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`

func (s *Store) CreateEntry(ctx context.Context, e vault.Entry, maxPending int, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx pgx.Tx) error {
		// Creations by one key, through any replica, take turns here until they commit,
		// so that two cannot both count one place left.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('kazzle entries ' || $1, 0))`, e.CreatedByKeyID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM entries WHERE created_by_key = $1 AND state IN ('pending', 'claimed') AND expires_at > $2`,
			e.CreatedByKeyID, rows.Nanos(e.CreatedAt)).Scan(&n); err != nil {
			return err
		}
		if n >= maxPending {
			return vault.ErrLimit
		}
		_, err := tx.Exec(ctx, insertEntrySQL, rows.EntryArgs(e)...)
		return err
	}), "entry for "+e.Name)
}

func (s *Store) Entry(ctx context.Context, spaceID, id string) (vault.Entry, error) {
	e, err := rows.ScanEntry(s.pool.QueryRow(ctx, `SELECT `+rows.EntryCols+` FROM entries WHERE space_id = $1 AND id = $2`, spaceID, id))
	return e, mapErr(err, "entry "+secret.Excerpt(id))
}

func (s *Store) Entries(ctx context.Context, spaceID string, at time.Time) ([]vault.Entry, error) {
	return queryAll(ctx, s, rows.ScanEntry, `SELECT `+rows.EntryCols+` FROM entries
		WHERE space_id = $1 AND state IN ('pending', 'claimed') AND expires_at > $2 ORDER BY created_at, id`, spaceID, rows.Nanos(at))
}

func (s *Store) ClaimEntry(ctx context.Context, spaceID, id string, at, staleBefore time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE entries SET state = 'claimed', claimed_at = $1
		WHERE space_id = $2 AND id = $3 AND expires_at > $1 AND (state = 'pending' OR (state = 'claimed' AND claimed_at < $4))`,
		rows.Nanos(at), spaceID, id, rows.Nanos(staleBefore))
	return expectOne(tag, err, fmt.Errorf("entry %s is not pending: %w", secret.Excerpt(id), vault.ErrConflict))
}

func (s *Store) ReleaseEntry(ctx context.Context, spaceID, id string) error {
	_, err := s.pool.Exec(ctx, `UPDATE entries SET state = 'pending', claimed_at = 0 WHERE space_id = $1 AND id = $2 AND state = 'claimed'`, spaceID, id)
	return err
}

func (s *Store) FinishEntry(ctx context.Context, e vault.Entry, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE entries SET state = 'done', secret_id = $1, version = $2, done_by = $3, done_at = $4
			WHERE space_id = $5 AND id = $6 AND state = 'claimed'`, e.SecretID, e.Version, e.DoneBy, rows.Nanos(e.DoneAt), e.SpaceID, e.ID)
		return expectOne(tag, err, fmt.Errorf("entry %s is not being filled: %w", secret.Excerpt(e.ID), vault.ErrConflict))
	})
}

func (s *Store) CancelEntry(ctx context.Context, spaceID, id string, staleBefore time.Time, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE entries SET state = 'cancelled'
			WHERE space_id = $1 AND id = $2 AND (state = 'pending' OR (state = 'claimed' AND claimed_at < $3))`, spaceID, id, rows.Nanos(staleBefore))
		return expectOne(tag, err, fmt.Errorf("entry %s is not pending: %w", secret.Excerpt(id), vault.ErrConflict))
	})
}

func (s *Store) PruneEntries(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM entries WHERE expires_at < $1`, rows.Nanos(before))
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
