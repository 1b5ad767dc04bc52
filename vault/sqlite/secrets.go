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

// bumpGeneration marks a collection's secrets as changed, inside the change's transaction.
func bumpGeneration(ctx context.Context, tx *sql.Tx, collectionID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE collections SET generation = generation + 1 WHERE id = ?`, collectionID)
	return err
}

func insertVersion(ctx context.Context, tx *sql.Tx, s vault.SealedSecret) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO secret_versions (secret_id, version, type, note, created_at, created_by, hosts) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.Version, string(s.Type), s.Note, rows.Nanos(s.UpdatedAt), s.UpdatedBy, rows.Hosts(s.Hosts)); err != nil {
		return err
	}
	for field, sealed := range s.Fields {
		if _, err := tx.ExecContext(ctx, `INSERT INTO secret_fields (secret_id, version, field, sealed) VALUES (?, ?, ?, ?)`,
			s.ID, s.Version, field, sealed); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) CreateSecret(ctx context.Context, sec vault.SealedSecret, ev vault.AuditEvent) error {
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO secrets (id, space_id, collection_id, environment_id, name, type, note, version, created_at, created_by, updated_at, updated_by, hosts)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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

func (s *Store) UpdateSecret(ctx context.Context, sec vault.SealedSecret, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE secrets SET note = ?, version = ?, updated_at = ?, updated_by = ?, hosts = ?
			WHERE space_id = ? AND id = ? AND version = ?`,
			sec.Note, sec.Version, rows.Nanos(sec.UpdatedAt), sec.UpdatedBy, rows.Hosts(sec.Hosts), sec.SpaceID, sec.ID, sec.Version-1)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return staleOrMissing(ctx, tx, sec.SpaceID, sec.ID, sec.Version-1)
		}
		if err := bumpGeneration(ctx, tx, sec.CollectionID); err != nil {
			return err
		}
		return insertVersion(ctx, tx, sec)
	})
}

// staleOrMissing explains why a versioned write matched no row.
func staleOrMissing(ctx context.Context, tx *sql.Tx, spaceID, id string, expected int) error {
	var cur int
	err := tx.QueryRowContext(ctx, `SELECT version FROM secrets WHERE space_id = ? AND id = ?`, spaceID, id).Scan(&cur)
	if err != nil {
		return mapErr(err, "secret "+secret.Excerpt(id))
	}
	return fmt.Errorf("secret %s is at version %d, not %d: %w", id, cur, expected, vault.ErrConflict)
}

func (s *Store) DeleteSecret(ctx context.Context, spaceID, id string, version int, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE collections SET generation = generation + 1
			WHERE id = (SELECT collection_id FROM secrets WHERE space_id = ? AND id = ? AND version = ?)`, spaceID, id, version)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE space_id = ? AND id = ? AND version = ?`, spaceID, id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return staleOrMissing(ctx, tx, spaceID, id, version)
		}
		return nil
	})
}

// loadFields reads the sealed fields of one version.
func (s *Store) loadFields(ctx context.Context, id string, version int) (map[string][]byte, error) {
	rs, err := s.query(ctx, `SELECT field, sealed FROM secret_fields WHERE secret_id = ? AND version = ?`, id, version)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	fields := map[string][]byte{}
	for rs.Next() {
		var f string
		var b []byte
		if err := rs.Scan(&f, &b); err != nil {
			return nil, err
		}
		fields[f] = b
	}
	return fields, rs.Err()
}

func (s *Store) Secret(ctx context.Context, spaceID, id string) (vault.SealedSecret, error) {
	m, err := rows.ScanMeta(s.queryRow(ctx, `SELECT `+rows.SecretCols+` FROM secrets s WHERE s.space_id = ? AND s.id = ?`, spaceID, id))
	if err != nil {
		return vault.SealedSecret{}, mapErr(err, "secret "+secret.Excerpt(id))
	}
	fields, err := s.loadFields(ctx, id, m.Version)
	return vault.SealedSecret{SecretMeta: m, Fields: fields}, err
}

func (s *Store) SecretVersion(ctx context.Context, spaceID, id string, version int) (vault.SealedSecret, error) {
	m, err := rows.ScanMeta(s.queryRow(ctx, `SELECT `+rows.VersionCols+` FROM secrets s JOIN secret_versions v ON v.secret_id = s.id
		WHERE s.space_id = ? AND s.id = ? AND v.version = ?`, spaceID, id, version))
	if err != nil {
		return vault.SealedSecret{}, mapErr(err, fmt.Sprintf("secret %s version %d", secret.Excerpt(id), version))
	}
	fields, err := s.loadFields(ctx, id, version)
	return vault.SealedSecret{SecretMeta: m, Fields: fields}, err
}

func (s *Store) SecretVersions(ctx context.Context, spaceID, id string) ([]vault.SecretMeta, error) {
	out, err := queryAll(ctx, s, func(sc rows.Scanner) (vault.SecretMeta, error) { return rows.ScanMeta(sc) },
		`SELECT `+rows.VersionCols+` FROM secrets s JOIN secret_versions v ON v.secret_id = s.id
		WHERE s.space_id = ? AND s.id = ? ORDER BY v.version DESC`, spaceID, id)
	if err == nil && len(out) == 0 {
		err = notFound("secret %s", id)
	}
	return out, err
}

func (s *Store) Secrets(ctx context.Context, q vault.SecretQuery) ([]vault.SealedSecret, error) {
	where := `s.space_id = ? AND s.collection_id = ?`
	args := []any{q.SpaceID, q.CollectionID}
	if q.ForEnvironment != "" {
		where += ` AND (s.environment_id IS NULL OR s.environment_id = ?)`
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
	rs, err := s.query(ctx, `SELECT `+rows.SecretCols+`, f.field, f.sealed FROM secrets s
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
	return mapErr(s.change(ctx, ev, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (id, space_id, name, role, prefix, hash, collection_id, environment_id, expires_at, created_at, last_used_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.SpaceID, k.Name, string(k.Role), k.Prefix, k.Hash, rows.Nullable(k.CollectionID), rows.Nullable(k.EnvironmentID),
			rows.Nanos(k.ExpiresAt), rows.Nanos(k.CreatedAt), rows.Nanos(k.LastUsedAt), rows.Nanos(k.RevokedAt))
		return err
	}), "API key "+k.Name)
}

func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (vault.APIKey, error) {
	k, err := rows.ScanAPIKey(s.queryRow(ctx, `SELECT `+rows.APIKeyCols+` FROM api_keys WHERE hash = ?
		UNION ALL SELECT `+rows.OperatorKeyCols+` FROM operator_keys WHERE hash = ?`, hash, hash))
	return k, mapErr(err, "API key")
}

func (s *Store) APIKeys(ctx context.Context, spaceID string) ([]vault.APIKey, error) {
	return queryAll(ctx, s, rows.ScanAPIKey, `SELECT `+rows.APIKeyCols+` FROM api_keys WHERE space_id = ? ORDER BY created_at, id`, spaceID)
}

func (s *Store) RevokeAPIKey(ctx context.Context, spaceID, id string, at time.Time, ev vault.AuditEvent) error {
	return s.change(ctx, ev, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE space_id = ? AND id = ? AND revoked_at = 0`, rows.Nanos(at), spaceID, id)
		if err := expectOne(res, err, notFound("active API key %s", id)); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM ui_sessions WHERE key_id = ?`, id)
		return err
	})
}

func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := s.w.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, rows.Nanos(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	_, err = s.w.ExecContext(ctx, `UPDATE operator_keys SET last_used_at = ? WHERE id = ?`, rows.Nanos(at), id)
	return err
}
