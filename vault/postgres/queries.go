package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/internal/groupcommit"
	"github.com/kazzle/kazzle/vault/internal/rows"
)

const insertAuditSQL = `INSERT INTO audit_events (space_id, time, actor_key_id, actor_name, client_addr, action, target, outcome)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// auditBatch bounds the group commit of audit events, as in the SQLite store.
var auditBatch = groupcommit.Options{Max: 512, Linger: 250 * time.Microsecond}

// AppendAudit records an event and returns once it is committed. Events appended at the
// same time share one transaction: one round trip and one WAL flush per batch.
func (s *Store) AppendAudit(ctx context.Context, ev vault.AuditEvent) error {
	return s.audit.Append(ctx, rows.AuditArgs(ev))
}

// commitAudit writes a batch of audit rows in one transaction.
func (s *Store) commitAudit(batch [][]any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.tx(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		for _, args := range batch {
			b.Queue(insertAuditSQL, args...)
		}
		return tx.SendBatch(ctx, b).Close()
	})
}

// Spaces and their keys.

func (s *Store) CreateSpace(ctx context.Context, sp vault.Space, key vault.WrappedKey, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO space_names (name, space_id, created_at) VALUES ($1, $2, $3)`, sp.Name, sp.ID, rows.Nanos(sp.CreatedAt)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO spaces (id, name, created_at) VALUES ($1, $2, $3)`, sp.ID, sp.Name, rows.Nanos(sp.CreatedAt)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO space_keys (space_id, key_id, wrapped, updated_at) VALUES ($1, $2, $3, $4)`, sp.ID, key.KeyID, key.Blob, rows.Nanos(sp.CreatedAt))
		return err
	}), "space "+sp.Name)
}

func (s *Store) Space(ctx context.Context, id string) (vault.Space, error) {
	sp, err := rows.ScanSpace(s.pool.QueryRow(ctx, `SELECT `+rows.SpaceCols+` FROM space_names WHERE space_id = $1 AND deleted_at = 0`, id))
	return sp, mapErr(err, "space "+secret.Excerpt(id))
}

func (s *Store) Spaces(ctx context.Context) ([]vault.Space, error) {
	return queryAll(ctx, s, rows.ScanSpace, `SELECT `+rows.SpaceCols+` FROM space_names WHERE deleted_at = 0 ORDER BY created_at, space_id`)
}

func (s *Store) SpaceKey(ctx context.Context, spaceID string) (vault.WrappedKey, error) {
	var k vault.WrappedKey
	err := s.pool.QueryRow(ctx, `SELECT key_id, wrapped FROM space_keys WHERE space_id = $1`, spaceID).Scan(&k.KeyID, &k.Blob)
	return k, mapErr(err, "data key of space "+spaceID)
}

func (s *Store) ReplaceSpaceKey(ctx context.Context, spaceID string, old, new vault.WrappedKey, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		var cur vault.WrappedKey
		// FOR UPDATE: two replicas re-wrapping at once serialize here, and the second
		// finds the key changed.
		err := tx.QueryRow(ctx, `SELECT key_id, wrapped FROM space_keys WHERE space_id = $1 FOR UPDATE`, spaceID).Scan(&cur.KeyID, &cur.Blob)
		if err != nil {
			return mapErr(err, "data key of space "+spaceID)
		}
		if cur.KeyID != old.KeyID || subtle.ConstantTimeCompare(cur.Blob, old.Blob) != 1 {
			return fmt.Errorf("data key of space %s: %w", spaceID, vault.ErrConflict)
		}
		_, err = tx.Exec(ctx, `UPDATE space_keys SET key_id = $1, wrapped = $2, updated_at = $3 WHERE space_id = $4`, new.KeyID, new.Blob, rows.Nanos(ev.Time), spaceID)
		return err
	})
}

// Collections and environments.

func (s *Store) CreateCollection(ctx context.Context, c vault.Collection, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO collections (id, space_id, slug, name, created_at) VALUES ($1, $2, $3, $4, $5)`,
			c.ID, c.SpaceID, c.Slug, c.Name, rows.Nanos(c.CreatedAt))
		return err
	}), "collection "+c.Slug)
}

func (s *Store) Collection(ctx context.Context, spaceID, idOrSlug string) (vault.Collection, error) {
	c, err := rows.ScanCollection(s.pool.QueryRow(ctx, `SELECT `+rows.CollectionCols+` FROM collections WHERE space_id = $1 AND (id = $2 OR slug = $2)`, spaceID, idOrSlug))
	return c, mapErr(err, "collection "+secret.Excerpt(idOrSlug))
}

func (s *Store) CollectionAndEnvironment(ctx context.Context, spaceID, collection, env string) (vault.Collection, vault.Environment, error) {
	var c vault.Collection
	var e vault.Environment
	var cCreated, eCreated int64
	err := s.pool.QueryRow(ctx, `SELECT c.id, c.space_id, c.slug, c.name, c.created_at, c.generation,
			coalesce(e.id, ''), coalesce(e.slug, ''), coalesce(e.created_at, 0)
		FROM collections c LEFT JOIN environments e ON e.collection_id = c.id AND (e.id = $1 OR e.slug = $1)
		WHERE c.space_id = $2 AND (c.id = $3 OR c.slug = $3)`, env, spaceID, collection).
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
	return queryAll(ctx, s, rows.ScanCollection, `SELECT `+rows.CollectionCols+` FROM collections WHERE space_id = $1 ORDER BY slug`, spaceID)
}

func (s *Store) DeleteCollection(ctx context.Context, spaceID, id string, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM collections WHERE space_id = $1 AND id = $2`, spaceID, id)
		return expectOne(tag, err, notFound("collection %s", id))
	})
}

func (s *Store) CreateEnvironment(ctx context.Context, e vault.Environment, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO environments (id, space_id, collection_id, slug, created_at) VALUES ($1, $2, $3, $4, $5)`,
			e.ID, e.SpaceID, e.CollectionID, e.Slug, rows.Nanos(e.CreatedAt))
		return err
	}), "environment "+e.Slug)
}

func (s *Store) Environment(ctx context.Context, spaceID, collectionID, idOrSlug string) (vault.Environment, error) {
	e, err := rows.ScanEnvironment(s.pool.QueryRow(ctx, `SELECT `+rows.EnvironmentCols+` FROM environments
		WHERE space_id = $1 AND collection_id = $2 AND (id = $3 OR slug = $3)`, spaceID, collectionID, idOrSlug))
	return e, mapErr(err, "environment "+secret.Excerpt(idOrSlug))
}

func (s *Store) Environments(ctx context.Context, spaceID, collectionID string) ([]vault.Environment, error) {
	return queryAll(ctx, s, rows.ScanEnvironment, `SELECT `+rows.EnvironmentCols+` FROM environments WHERE space_id = $1 AND collection_id = $2 ORDER BY slug`, spaceID, collectionID)
}

func (s *Store) DeleteEnvironment(ctx context.Context, spaceID, id string, revoke []string, at time.Time, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		// Locking the environment's row first holds off a key being limited to it (its
		// foreign key check shares that lock) between this count and the delete.
		var collID string
		err := tx.QueryRow(ctx, `SELECT collection_id FROM environments WHERE space_id = $1 AND id = $2 FOR UPDATE`, spaceID, id).Scan(&collID)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("environment %s", id)
		}
		if err != nil {
			return err
		}
		rs, err := tx.Query(ctx, `SELECT id FROM api_keys WHERE space_id = $1 AND environment_id = $2
			AND revoked_at = 0 AND (expires_at = 0 OR expires_at > $3)`, spaceID, id, rows.Nanos(at))
		if err != nil {
			return err
		}
		keys, err := pgx.CollectRows(rs, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if n := vault.UnlistedKeys(keys, revoke); n > 0 {
			return &vault.LimitedKeysError{Keys: n}
		}
		if err := bumpGeneration(ctx, tx, collID); err != nil {
			return err
		}
		// The keys limited to it, their sessions, its secrets with their versions and
		// its one-time entries go with it (ON DELETE CASCADE).
		tag, err := tx.Exec(ctx, `DELETE FROM environments WHERE space_id = $1 AND id = $2`, spaceID, id)
		return expectOne(tag, err, notFound("environment %s", id))
	})
}

func (s *Store) RenameEnvironment(ctx context.Context, spaceID, id, slug string, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE environments SET slug = $1 WHERE space_id = $2 AND id = $3`, slug, spaceID, id)
		return expectOne(tag, err, notFound("environment %s", id))
	}), "environment "+slug)
}

func queryAll[T any](ctx context.Context, s *Store, scan func(rows.Scanner) (T, error), query string, args ...any) ([]T, error) {
	rs, err := s.pool.Query(ctx, query, args...)
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
	query, args := rows.AuditQuery(q, func(n int) string { return fmt.Sprintf("$%d", n) })
	return queryAll(ctx, s, rows.ScanAuditEvent, query, args...)
}

func (s *Store) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM audit_events WHERE time < $1`, rows.Nanos(before))
	return tag.RowsAffected(), err
}

// Secrets.

// bumpGeneration marks a collection's secrets as changed, inside the change's transaction.
func bumpGeneration(ctx context.Context, tx pgx.Tx, collectionID string) error {
	_, err := tx.Exec(ctx, `UPDATE collections SET generation = generation + 1 WHERE id = $1`, collectionID)
	return err
}

func insertVersion(ctx context.Context, tx pgx.Tx, s vault.SealedSecret) error {
	batch := &pgx.Batch{}
	batch.Queue(`INSERT INTO secret_versions (secret_id, version, type, note, created_at, created_by, hosts) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		s.ID, s.Version, string(s.Type), s.Note, rows.Nanos(s.UpdatedAt), s.UpdatedBy, rows.Hosts(s.Hosts))
	for field, sealed := range s.Fields {
		batch.Queue(`INSERT INTO secret_fields (secret_id, version, field, sealed) VALUES ($1, $2, $3, $4)`, s.ID, s.Version, field, sealed)
	}
	return tx.SendBatch(ctx, batch).Close()
}

func (s *Store) CreateSecret(ctx context.Context, sec vault.SealedSecret, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO secrets (id, space_id, collection_id, environment_id, name, type, note, version, created_at, created_by, updated_at, updated_by, hosts)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			sec.ID, sec.SpaceID, sec.CollectionID, rows.Nullable(sec.EnvironmentID), sec.Name, string(sec.Type), sec.Note, sec.Version,
			rows.Nanos(sec.CreatedAt), sec.CreatedBy, rows.Nanos(sec.UpdatedAt), sec.UpdatedBy, rows.Hosts(sec.Hosts))
		if err != nil {
			return err
		}
		if err := bumpGeneration(ctx, tx, sec.CollectionID); err != nil {
			return err
		}
		return insertVersion(ctx, tx, sec)
	}), "secret "+sec.Name)
}

// UpdateSecret writes the next version if the current one is still the one before it.
// Under concurrent updates through several replicas, PostgreSQL's row lock makes the
// second UPDATE wait for the first and then re-check version: it matches no row, and the
// writer gets ErrConflict instead of overwriting.
func (s *Store) UpdateSecret(ctx context.Context, sec vault.SealedSecret, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE secrets SET note = $1, version = $2, updated_at = $3, updated_by = $4, hosts = $5
			WHERE space_id = $6 AND id = $7 AND version = $8`,
			sec.Note, sec.Version, rows.Nanos(sec.UpdatedAt), sec.UpdatedBy, rows.Hosts(sec.Hosts), sec.SpaceID, sec.ID, sec.Version-1)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return staleOrMissing(ctx, tx, sec.SpaceID, sec.ID, sec.Version-1)
		}
		if err := bumpGeneration(ctx, tx, sec.CollectionID); err != nil {
			return err
		}
		return insertVersion(ctx, tx, sec)
	})
}

// staleOrMissing explains why a versioned write matched no row.
func staleOrMissing(ctx context.Context, tx pgx.Tx, spaceID, id string, expected int) error {
	var cur int
	err := tx.QueryRow(ctx, `SELECT version FROM secrets WHERE space_id = $1 AND id = $2`, spaceID, id).Scan(&cur)
	if err != nil {
		return mapErr(err, "secret "+secret.Excerpt(id))
	}
	return fmt.Errorf("secret %s is at version %d, not %d: %w", id, cur, expected, vault.ErrConflict)
}

func (s *Store) DeleteSecret(ctx context.Context, spaceID, id string, version int, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE collections SET generation = generation + 1
			WHERE id = (SELECT collection_id FROM secrets WHERE space_id = $1 AND id = $2 AND version = $3)`, spaceID, id, version)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM secrets WHERE space_id = $1 AND id = $2 AND version = $3`, spaceID, id, version)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return staleOrMissing(ctx, tx, spaceID, id, version)
		}
		return nil
	})
}

// withFields reads a secret's metadata and the sealed fields of one of its versions,
// one row per field (a version always has at least one field).
func (s *Store) withFields(ctx context.Context, what, query string, args ...any) (vault.SealedSecret, error) {
	rs, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return vault.SealedSecret{}, err
	}
	defer rs.Close()
	out, err := rows.SecretsWithFields(rs.Next, rs, nil)
	if err == nil {
		err = rs.Err()
	}
	if err != nil {
		return vault.SealedSecret{}, err
	}
	if len(out) == 0 {
		return vault.SealedSecret{}, notFound("%s", what)
	}
	return out[0], nil
}

func (s *Store) Secret(ctx context.Context, spaceID, id string) (vault.SealedSecret, error) {
	return s.withFields(ctx, "secret "+id, `SELECT `+rows.SecretCols+`, f.field, f.sealed FROM secrets s
		JOIN secret_fields f ON f.secret_id = s.id AND f.version = s.version
		WHERE s.space_id = $1 AND s.id = $2`, spaceID, id)
}

func (s *Store) SecretVersion(ctx context.Context, spaceID, id string, version int) (vault.SealedSecret, error) {
	return s.withFields(ctx, fmt.Sprintf("secret %s version %d", id, version), `SELECT `+rows.VersionCols+`, f.field, f.sealed
		FROM secrets s JOIN secret_versions v ON v.secret_id = s.id
		JOIN secret_fields f ON f.secret_id = v.secret_id AND f.version = v.version
		WHERE s.space_id = $1 AND s.id = $2 AND v.version = $3`, spaceID, id, version)
}

func (s *Store) SecretVersions(ctx context.Context, spaceID, id string) ([]vault.SecretMeta, error) {
	out, err := queryAll(ctx, s, func(sc rows.Scanner) (vault.SecretMeta, error) { return rows.ScanMeta(sc) },
		`SELECT `+rows.VersionCols+` FROM secrets s JOIN secret_versions v ON v.secret_id = s.id
		WHERE s.space_id = $1 AND s.id = $2 ORDER BY v.version DESC`, spaceID, id)
	if err == nil && len(out) == 0 {
		err = notFound("secret %s", id)
	}
	return out, err
}

func (s *Store) Secrets(ctx context.Context, q vault.SecretQuery) ([]vault.SealedSecret, error) {
	where := `s.space_id = $1 AND s.collection_id = $2`
	args := []any{q.SpaceID, q.CollectionID}
	if q.ForEnvironment != "" {
		where += ` AND (s.environment_id IS NULL OR s.environment_id = $3)`
		args = append(args, q.ForEnvironment)
	}
	if !q.WithFields {
		metas, err := queryAll(ctx, s, func(sc rows.Scanner) (vault.SecretMeta, error) { return rows.ScanMeta(sc) },
			`SELECT `+rows.SecretCols+` FROM secrets s WHERE `+where+` ORDER BY s.name, s.id`, args...)
		out := make([]vault.SealedSecret, len(metas))
		for i, m := range metas {
			out[i].SecretMeta = m
		}
		return out, err
	}
	// One query for the secrets and the fields of their current versions.
	rs, err := s.pool.Query(ctx, `SELECT `+rows.SecretCols+`, f.field, f.sealed FROM secrets s
		JOIN secret_fields f ON f.secret_id = s.id AND f.version = s.version
		WHERE `+where+` ORDER BY s.name, s.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out, err := rows.SecretsWithFields(rs.Next, rs, nil)
	if err != nil {
		return nil, err
	}
	return out, rs.Err()
}

// API keys.

func (s *Store) CreateAPIKey(ctx context.Context, k vault.APIKey, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO api_keys (id, space_id, name, role, prefix, hash, collection_id, environment_id, expires_at, created_at, last_used_at, revoked_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			k.ID, k.SpaceID, k.Name, string(k.Role), k.Prefix, k.Hash, rows.Nullable(k.CollectionID), rows.Nullable(k.EnvironmentID),
			rows.Nanos(k.ExpiresAt), rows.Nanos(k.CreatedAt), rows.Nanos(k.LastUsedAt), rows.Nanos(k.RevokedAt))
		return err
	}), "API key "+k.Name)
}

func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (vault.APIKey, error) {
	k, err := rows.ScanAPIKey(s.pool.QueryRow(ctx, `SELECT `+rows.APIKeyCols+` FROM api_keys WHERE hash = $1
		UNION ALL SELECT `+rows.OperatorKeyCols+` FROM operator_keys WHERE hash = $1`, hash))
	return k, mapErr(err, "API key")
}

func (s *Store) APIKeys(ctx context.Context, spaceID string) ([]vault.APIKey, error) {
	return queryAll(ctx, s, rows.ScanAPIKey, `SELECT `+rows.APIKeyCols+` FROM api_keys WHERE space_id = $1 ORDER BY created_at, id`, spaceID)
}

func (s *Store) RevokeAPIKey(ctx context.Context, spaceID, id string, at time.Time, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE space_id = $2 AND id = $3 AND revoked_at = 0`, rows.Nanos(at), spaceID, id)
		if err := expectOne(tag, err, notFound("active API key %s", id)); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM ui_sessions WHERE key_id = $1`, id)
		return err
	})
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, rows.Nanos(at), id)
	if err != nil || tag.RowsAffected() > 0 {
		return err
	}
	_, err = s.pool.Exec(ctx, `UPDATE operator_keys SET last_used_at = $1 WHERE id = $2`, rows.Nanos(at), id)
	return err
}
