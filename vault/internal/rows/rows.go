// Package rows holds how the SQL stores of the vault encode values in rows, so the
// SQLite and PostgreSQL stores store the same things the same way.
package rows

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// Nanos is t as Unix nanoseconds; the zero time is 0.
func Nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Time is the UTC time of Unix nanoseconds n; 0 is the zero time.
func Time(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// Nullable is s, or NULL when s is empty: for optional references to other rows.
func Nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// AuditArgs are the values of one audit_events row: space_id, time, actor_key_id,
// actor_name, client_addr, action, target (JSON) and outcome.
func AuditArgs(ev vault.AuditEvent) []any {
	return []any{ev.SpaceID, Nanos(ev.Time), ev.ActorKeyID, ev.ActorName, ev.ClientAddr, ev.Action,
		string(ev.Target.AppendJSON(make([]byte, 0, ev.Target.JSONSize()))), ev.Outcome}
}

// Scanner is a row: *sql.Row, *sql.Rows, pgx.Row and pgx.Rows all are.
type Scanner interface{ Scan(...any) error }

// The column lists the scanners below read, the same in both stores' schemas.
const (
	// SpaceCols are a space as space_names records it, live or deleted.
	SpaceCols       = `space_id, name, created_at, deleted_at`
	CollectionCols  = `id, space_id, slug, name, created_at, generation`
	EnvironmentCols = `id, space_id, collection_id, slug, created_at`
	// SecretCols are a secret's current metadata, from secrets s.
	SecretCols = `s.id, s.space_id, s.collection_id, coalesce(s.environment_id, ''), s.name, s.type, s.note, s.version, s.created_at, s.created_by, s.updated_at, s.updated_by, s.hosts`
	// VersionCols are one version of a secret: the secret's identity with the version's
	// own type, note and time, from secrets s JOIN secret_versions v.
	VersionCols = `s.id, s.space_id, s.collection_id, coalesce(s.environment_id, ''), s.name, v.type, v.note, v.version, s.created_at, s.created_by, v.created_at, v.created_by, v.hosts`
	// OperatorKeyCols are an operator key in APIKeyCols' shape: no space, no limits.
	OperatorKeyCols = `id, '', name, 'operator', prefix, hash, '', '', 0, created_at, last_used_at, revoked_at`
	APIKeyCols      = `id, space_id, name, role, prefix, hash, coalesce(collection_id, ''), coalesce(environment_id, ''), expires_at, created_at, last_used_at, revoked_at`
	AuditCols       = `id, space_id, time, actor_key_id, actor_name, client_addr, action, target, outcome`
	// SessionCols are an admin UI session and its API key, from ui_sessions u JOIN api_keys k.
	SessionCols = `u.hash, u.key_id, u.created_at, u.expires_at, k.id, k.space_id, k.name, k.role, k.prefix, k.hash,
		coalesce(k.collection_id, ''), coalesce(k.environment_id, ''), k.expires_at, k.created_at, k.last_used_at, k.revoked_at`
)

// ScanSpace reads SpaceCols.
func ScanSpace(sc Scanner) (vault.Space, error) {
	var sp vault.Space
	var created int64
	var deleted int64
	err := sc.Scan(&sp.ID, &sp.Name, &created, &deleted)
	sp.CreatedAt, sp.DeletedAt = Time(created), Time(deleted)
	return sp, err
}

// ScanCollection reads CollectionCols.
func ScanCollection(sc Scanner) (vault.Collection, error) {
	var c vault.Collection
	var created int64
	err := sc.Scan(&c.ID, &c.SpaceID, &c.Slug, &c.Name, &created, &c.Generation)
	c.CreatedAt = Time(created)
	return c, err
}

// ScanEnvironment reads EnvironmentCols.
func ScanEnvironment(sc Scanner) (vault.Environment, error) {
	var e vault.Environment
	var created int64
	err := sc.Scan(&e.ID, &e.SpaceID, &e.CollectionID, &e.Slug, &created)
	e.CreatedAt = Time(created)
	return e, err
}

// ScanMeta reads SecretCols or VersionCols, then the extra columns into extra.
func ScanMeta(sc Scanner, extra ...any) (vault.SecretMeta, error) {
	var m vault.SecretMeta
	var typ string
	var created, updated int64
	var hosts string
	dest := append([]any{&m.ID, &m.SpaceID, &m.CollectionID, &m.EnvironmentID, &m.Name, &typ, &m.Note, &m.Version, &created, &m.CreatedBy, &updated, &m.UpdatedBy, &hosts}, extra...)
	err := sc.Scan(dest...)
	m.Type, m.CreatedAt, m.UpdatedAt, m.Hosts = secret.Type(typ), Time(created), Time(updated), ScanHosts(hosts)
	return m, err
}

// Hosts is the hosts column of h: its normal entries joined by commas, which no entry
// holds; ” for unbound.
func Hosts(h secret.Hosts) string { return h.String() }

// ScanHosts reads a hosts column. An entry that is not in normal form allows nothing
// (secret.Hosts.Allows), so a damaged row fails closed.
func ScanHosts(s string) secret.Hosts {
	if s == "" {
		return nil
	}
	return secret.Hosts(strings.Split(s, ","))
}

// ScanAPIKey reads APIKeyCols.
func ScanAPIKey(sc Scanner) (vault.APIKey, error) {
	var k vault.APIKey
	var role string
	var expires, created, used, revoked int64
	err := sc.Scan(&k.ID, &k.SpaceID, &k.Name, &role, &k.Prefix, &k.Hash, &k.CollectionID, &k.EnvironmentID, &expires, &created, &used, &revoked)
	k.Role = vault.Role(role)
	k.ExpiresAt, k.CreatedAt, k.LastUsedAt, k.RevokedAt = Time(expires), Time(created), Time(used), Time(revoked)
	return k, err
}

// ScanSession reads SessionCols.
func ScanSession(sc Scanner) (vault.Session, vault.APIKey, error) {
	var s vault.Session
	var created, expires int64
	k, err := ScanAPIKey(prefixed{sc, []any{&s.Hash, &s.KeyID, &created, &expires}})
	s.CreatedAt, s.ExpiresAt = Time(created), Time(expires)
	return s, k, err
}

// prefixed is a Scanner that reads its first columns into before, the rest as asked.
type prefixed struct {
	sc     Scanner
	before []any
}

func (p prefixed) Scan(dest ...any) error { return p.sc.Scan(append(p.before, dest...)...) }

// ScanAuditEvent reads AuditCols.
func ScanAuditEvent(sc Scanner) (vault.AuditEvent, error) {
	var ev vault.AuditEvent
	var at int64
	var target string
	if err := sc.Scan(&ev.ID, &ev.SpaceID, &at, &ev.ActorKeyID, &ev.ActorName, &ev.ClientAddr, &ev.Action, &target, &ev.Outcome); err != nil {
		return ev, err
	}
	ev.Time = Time(at)
	return ev, json.Unmarshal([]byte(target), &ev.Target)
}

// SecretsWithFields gathers rows of SecretCols followed by field and sealed, ordered by
// secret, into one SealedSecret per secret.
func SecretsWithFields(next func() bool, sc Scanner, out []vault.SealedSecret) ([]vault.SealedSecret, error) {
	for next() {
		var field string
		var sealed []byte
		m, err := ScanMeta(sc, &field, &sealed)
		if err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != m.ID {
			out = append(out, vault.SealedSecret{SecretMeta: m, Fields: map[string][]byte{}})
		}
		out[len(out)-1].Fields[field] = sealed
	}
	return out, nil
}

// AuditQuery is the SELECT of the audit events q asks for, newest first, with the
// placeholders that param makes for the n-th argument (? for SQLite, $n for PostgreSQL).
func AuditQuery(q vault.AuditQuery, param func(n int) string) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, cond+param(len(args)))
	}
	if q.SpaceID != "" || q.Server {
		add("space_id = ", q.SpaceID)
	}
	if !q.Since.IsZero() {
		add("time >= ", Nanos(q.Since))
	}
	if !q.Until.IsZero() {
		add("time < ", Nanos(q.Until))
	}
	if q.Action != "" {
		add("action = ", q.Action)
	}
	if q.ActorKeyID != "" {
		add("actor_key_id = ", q.ActorKeyID)
	}
	query := `SELECT ` + AuditCols + ` FROM audit_events`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit)
	return query + " ORDER BY id DESC LIMIT " + param(len(args)), args
}

// Collect scans every remaining row with scan.
func Collect[T any](next func() bool, sc Scanner, scan func(Scanner) (T, error)) ([]T, error) {
	var out []T
	for next() {
		v, err := scan(sc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// EntryCols are a one-time entry's columns as ScanEntry reads them.
const EntryCols = `id, space_id, collection_id, coalesce(environment_id, ''), name, type, note, hosts, fields, message,
	created_by_key, created_by, created_at, expires_at, state, claimed_at, secret_id, version, done_by, done_at`

// EntryInsertCols are the columns EntryArgs gives values for.
const EntryInsertCols = `id, space_id, collection_id, environment_id, name, type, note, hosts, fields, message,
	created_by_key, created_by, created_at, expires_at, state, claimed_at, secret_id, version, done_by, done_at`

// EntryArgs are the values of one entries row, in EntryInsertCols' order.
func EntryArgs(e vault.Entry) []any {
	return []any{e.ID, e.SpaceID, e.CollectionID, Nullable(e.EnvironmentID), e.Name, string(e.Type), e.Note, Hosts(e.Hosts),
		strings.Join(e.Fields, ","), e.Message, e.CreatedByKeyID, e.CreatedBy, Nanos(e.CreatedAt), Nanos(e.ExpiresAt),
		string(e.State), Nanos(e.ClaimedAt), e.SecretID, e.Version, e.DoneBy, Nanos(e.DoneAt)}
}

// ScanEntry reads EntryCols.
func ScanEntry(sc Scanner) (vault.Entry, error) {
	var e vault.Entry
	var typ, hosts, fields, state string
	var created, expires, claimed, done int64
	err := sc.Scan(&e.ID, &e.SpaceID, &e.CollectionID, &e.EnvironmentID, &e.Name, &typ, &e.Note, &hosts, &fields, &e.Message,
		&e.CreatedByKeyID, &e.CreatedBy, &created, &expires, &state, &claimed, &e.SecretID, &e.Version, &e.DoneBy, &done)
	e.Type, e.Hosts, e.State = secret.Type(typ), ScanHosts(hosts), vault.EntryState(state)
	if fields != "" {
		e.Fields = strings.Split(fields, ",")
	}
	e.CreatedAt, e.ExpiresAt, e.ClaimedAt, e.DoneAt = Time(created), Time(expires), Time(claimed), Time(done)
	return e, err
}
