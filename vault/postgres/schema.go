package postgres

// migrations are applied in order at open, all in one transaction; migrations[i] takes
// the schema from version i to i+1 (kazzle_schema.version). Never edit one that has
// shipped: add the next. The tables are those of the SQLite store, in PostgreSQL's types.
var migrations = []string{
	// 1: the vault.
	`
CREATE TABLE spaces (
	id         TEXT PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE TABLE space_keys (
	space_id   TEXT PRIMARY KEY REFERENCES spaces(id) ON DELETE CASCADE,
	key_id     TEXT NOT NULL,
	wrapped    BYTEA NOT NULL,
	updated_at BIGINT NOT NULL
);
CREATE TABLE collections (
	id         TEXT PRIMARY KEY,
	space_id   TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
	slug       TEXT NOT NULL,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	-- bumped by every secret change, in its transaction: readers cache sealed rows by it
	generation BIGINT NOT NULL DEFAULT 0,
	UNIQUE (space_id, slug)
);
CREATE TABLE environments (
	id            TEXT PRIMARY KEY,
	space_id      TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
	collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	slug          TEXT NOT NULL,
	created_at    BIGINT NOT NULL,
	UNIQUE (collection_id, slug)
);
CREATE TABLE secrets (
	id             TEXT PRIMARY KEY,
	space_id       TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
	collection_id  TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	environment_id TEXT REFERENCES environments(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	type           TEXT NOT NULL,
	note           TEXT NOT NULL,
	version        INTEGER NOT NULL,
	created_at     BIGINT NOT NULL,
	created_by     TEXT NOT NULL,
	updated_at     BIGINT NOT NULL,
	updated_by     TEXT NOT NULL
);
-- NULL environments are distinct in a UNIQUE constraint, so untagged names need the expression.
CREATE UNIQUE INDEX secrets_name ON secrets (collection_id, coalesce(environment_id, ''), name);
CREATE INDEX secrets_collection ON secrets (space_id, collection_id, name);
CREATE TABLE secret_versions (
	secret_id  TEXT NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
	version    INTEGER NOT NULL,
	type       TEXT NOT NULL,
	note       TEXT NOT NULL,
	created_at BIGINT NOT NULL,
	created_by TEXT NOT NULL,
	PRIMARY KEY (secret_id, version)
);
CREATE TABLE secret_fields (
	secret_id TEXT NOT NULL,
	version   INTEGER NOT NULL,
	field     TEXT NOT NULL,
	sealed    BYTEA NOT NULL,
	PRIMARY KEY (secret_id, version, field),
	FOREIGN KEY (secret_id, version) REFERENCES secret_versions(secret_id, version) ON DELETE CASCADE
);
CREATE TABLE api_keys (
	id             TEXT PRIMARY KEY,
	space_id       TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	role           TEXT NOT NULL,
	prefix         TEXT NOT NULL,
	hash           BYTEA NOT NULL UNIQUE,
	collection_id  TEXT REFERENCES collections(id) ON DELETE CASCADE,
	environment_id TEXT REFERENCES environments(id) ON DELETE CASCADE,
	expires_at     BIGINT NOT NULL,
	created_at     BIGINT NOT NULL,
	last_used_at   BIGINT NOT NULL,
	revoked_at     BIGINT NOT NULL
);
-- Audit events outlive what they name, so they hold no foreign keys.
CREATE TABLE audit_events (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	space_id     TEXT NOT NULL,
	time         BIGINT NOT NULL,
	actor_key_id TEXT NOT NULL,
	actor_name   TEXT NOT NULL,
	client_addr  TEXT NOT NULL,
	action       TEXT NOT NULL,
	target       TEXT NOT NULL,
	outcome      TEXT NOT NULL
);
CREATE INDEX audit_events_space_time ON audit_events (space_id, time);
`,
	// 2: admin UI sessions, by the SHA-256 hash of their id; seq orders a key's sessions
	// by age when times tie.
	`
CREATE TABLE ui_sessions (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	hash       BYTEA NOT NULL UNIQUE,
	key_id     TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
CREATE INDEX ui_sessions_key ON ui_sessions (key_id, seq);
CREATE INDEX ui_sessions_expires ON ui_sessions (expires_at);
`,
	// 3: the hosts a secret may be sent to, per version: comma-separated normal entries
	// (secret.Hosts), '' for unbound. Plaintext: they are metadata, not a value.
	`
ALTER TABLE secrets ADD COLUMN hosts TEXT NOT NULL DEFAULT '';
ALTER TABLE secret_versions ADD COLUMN hosts TEXT NOT NULL DEFAULT '';
`,
	// 4: one-time entries, by their random id (not a credential: their page needs a
	// sign-in). fields is comma-separated field names; hosts as in secrets; the creating
	// key and the secret filled are named without foreign keys, as they may go first.
	`
CREATE TABLE entries (
	id             TEXT PRIMARY KEY,
	space_id       TEXT NOT NULL REFERENCES spaces(id) ON DELETE CASCADE,
	collection_id  TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
	environment_id TEXT REFERENCES environments(id) ON DELETE CASCADE,
	name           TEXT NOT NULL,
	type           TEXT NOT NULL,
	note           TEXT NOT NULL,
	hosts          TEXT NOT NULL,
	fields         TEXT NOT NULL,
	message        TEXT NOT NULL,
	created_by_key TEXT NOT NULL,
	created_by     TEXT NOT NULL,
	created_at     BIGINT NOT NULL,
	expires_at     BIGINT NOT NULL,
	state          TEXT NOT NULL,
	claimed_at     BIGINT NOT NULL,
	secret_id      TEXT NOT NULL,
	version        INTEGER NOT NULL,
	done_by        TEXT NOT NULL,
	done_at        BIGINT NOT NULL
);
CREATE INDEX entries_key ON entries (created_by_key, state);
CREATE INDEX entries_space ON entries (space_id, created_at);
CREATE INDEX entries_expires ON entries (expires_at);
`,
	// 5: space names that are never reused, and operator keys.
	`
-- A space's name is unique among every space the server ever held: space_names keeps
-- the name of a deleted space (deleted_at set) after its spaces row and everything in
-- it are gone, so a name never comes to mean another tenant. Spaces made before had
-- no unique names: the one without a name gets the first start's, "default", and a
-- name taken by an earlier space becomes space-<id>.
UPDATE spaces SET name = 'default' WHERE name = '' AND NOT EXISTS (SELECT 1 FROM spaces WHERE name = 'default');
UPDATE spaces SET name = 'space-' || id WHERE name = '' OR EXISTS (SELECT 1 FROM spaces o
	WHERE o.name = spaces.name AND (o.created_at < spaces.created_at OR (o.created_at = spaces.created_at AND o.id < spaces.id)));
CREATE TABLE space_names (
	name       TEXT PRIMARY KEY,
	space_id   TEXT NOT NULL UNIQUE,
	created_at BIGINT NOT NULL,
	deleted_at BIGINT NOT NULL DEFAULT 0
);
INSERT INTO space_names (name, space_id, created_at) SELECT name, id, created_at FROM spaces;
-- Operator keys live in no space, so they are not api_keys rows (whose space_id and
-- sessions every space route relies on): they can reach nothing of a space by mistake.
CREATE TABLE operator_keys (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL,
	hash         BYTEA NOT NULL UNIQUE,
	created_at   BIGINT NOT NULL,
	last_used_at BIGINT NOT NULL,
	revoked_at   BIGINT NOT NULL
);
`,
}
