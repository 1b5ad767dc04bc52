package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

// Two spaces on one server, acme (A) and globex (B), made alike: the same collection
// slug my-saas with environments dev and prod, a collection and an environment only
// each has, secrets of every type, a reference, a pending entry and keys of each role.
// Every name, value and note of a space carries its marker, so that a response that
// holds anything of B can be told.

// spaceKinds are the kinds of secret each space holds, with the field a reference to
// each names.
var spaceKinds = []struct{ kind, field string }{
	{"string", "value"}, {"login", "password"}, {"git", "password"}, {"totp", "seed"}, {"reference", "value"}, {"only", "value"},
}

// spaceRoles are the keys each space has: admin, write and read of the whole space, and
// a write key limited to my-saas/dev.
var spaceRoles = []string{"admin", "write", "read", "limited"}

type isoSpace struct {
	name    string // acme or globex
	marker  string // ACME or GLOBEX: in every name of the space
	space   vault.Space
	only    string // the slug of the collection only this space has
	stage   string // the slug of the environment of my-saas only this space has
	gitHost string // the host of its git secret only it has
	tokens  map[string]string
	keyIDs  map[string]string
	secrets map[string]string // kind → id
	names   map[string]string // kind → name
	entry   string            // a pending entry's id
	ids     []string          // the ids of its collections and environments
	// onlyID and stageID are the ids of only and stage; devID that of my-saas's dev.
	onlyID, stageID, devID string
	values                 []string // every plaintext value it holds
	keyNames               []string
	// observer is an admin key of the space and observerID its id, for snapshots.
	observer, observerID string
}

type isoWorld struct {
	f    *storetest.Fixture
	srv  *httptest.Server
	api  *Server
	a, b *isoSpace
}

// newIsoWorld is the two spaces over a fresh SQLite store.
func newIsoWorld(t *testing.T) *isoWorld {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	return newIsoWorldOn(t, store)
}

// newIsoWorldOn is the two spaces over store, which it closes when the test ends.
func newIsoWorldOn(t *testing.T, store vault.Store) *isoWorld {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() { store.Close() })
	f := storetest.NewFixture(t, store, vault.Options{})
	w := &isoWorld{f: f}
	w.api = New(f.Vault, Options{LoopbackOnly: true, Now: f.Clock.Now})
	w.srv = httptest.NewServer(w.api)
	t.Cleanup(w.srv.Close)

	globex, err := f.Vault.CreateSpace(ctx, vault.Actor{Name: "operator"}, "globex")
	if err != nil {
		t.Fatal(err)
	}
	// my-saas with dev and prod, as the fixture made them in acme.
	if _, err := f.Vault.CreateCollection(ctx, f.Actor, globex.ID, "my-saas", "Globex SaaS"); err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"dev", "prod"} {
		if _, err := f.Vault.CreateEnvironment(ctx, f.Actor, globex.ID, "my-saas", env); err != nil {
			t.Fatal(err)
		}
	}
	w.a = fillSpace(t, f, f.Space, "acme", "ACME", "a")
	w.b = fillSpace(t, f, globex, "globex", "GLOBEX", "b")
	// A collection and an environment of B that the tests have A create in its own space.
	extra, err := f.Vault.CreateCollection(ctx, f.Actor, globex.ID, "b-extra", "Globex extra")
	if err != nil {
		t.Fatal(err)
	}
	extraEnv, err := f.Vault.CreateEnvironment(ctx, f.Actor, globex.ID, "my-saas", "b-extra-env")
	if err != nil {
		t.Fatal(err)
	}
	w.b.ids = append(w.b.ids, extra.ID, extraEnv.ID)
	// The key B's snapshots are taken with, which no request of A names.
	k, tok, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: globex.ID, Name: "globex-observer", Role: vault.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	w.b.observer, w.b.observerID = tok, k.ID
	w.b.keyNames = append(w.b.keyNames, k.Name)
	return w
}

// fillSpace gives a space its keys, collections, environments, secrets and entry; p is
// the prefix of the slugs only it has.
func fillSpace(t *testing.T, f *storetest.Fixture, sp vault.Space, name, marker, p string) *isoSpace {
	t.Helper()
	ctx := context.Background()
	lower := strings.ToLower(marker)
	s := &isoSpace{name: name, marker: marker, space: sp, only: p + "-only", stage: p + "-stage", gitHost: "git." + p + ".example",
		tokens: map[string]string{}, keyIDs: map[string]string{}, secrets: map[string]string{}, names: map[string]string{}}
	setup := vault.Actor{Name: lower + "-setup"}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	only, err := f.Vault.CreateCollection(ctx, setup, sp.ID, s.only, marker+" only")
	must(err)
	onlyDev, err := f.Vault.CreateEnvironment(ctx, setup, sp.ID, only.ID, "dev")
	must(err)
	stage, err := f.Vault.CreateEnvironment(ctx, setup, sp.ID, "my-saas", s.stage)
	must(err)
	coll, err := f.Store.Collection(ctx, sp.ID, "my-saas")
	must(err)
	s.ids = append(s.ids, only.ID, onlyDev.ID, stage.ID, coll.ID)
	s.onlyID, s.stageID = only.ID, stage.ID
	envs, err := f.Store.Environments(ctx, sp.ID, coll.ID)
	must(err)
	for _, e := range envs {
		s.ids = append(s.ids, e.ID)
		if e.Slug == "dev" {
			s.devID = e.ID
		}
	}
	for _, role := range spaceRoles {
		in := vault.NewAPIKey{SpaceID: sp.ID, Name: lower + "-" + role, Role: vault.Role(role)}
		if role == "limited" {
			in.Role, in.Collection, in.Environment = vault.RoleWrite, "my-saas", "dev"
		}
		k, tok, err := f.Vault.CreateAPIKey(ctx, setup, in)
		must(err)
		s.tokens[role], s.keyIDs[role] = tok, k.ID
		s.keyNames = append(s.keyNames, k.Name)
	}
	// A TOTP seed of its own: base32 of the marker.
	seed := strings.TrimRight(base32Of(marker+"-totp-seed"), "=")
	put := func(kind, coll, env string, typ secret.Type, fields map[string]string, hosts ...string) {
		t.Helper()
		nm := marker + "_" + strings.ToUpper(strings.ReplaceAll(kind, "-", "_"))
		if kind == "string" {
			nm = "API_TOKEN" // the same name in both spaces
		}
		m, err := f.Vault.CreateSecret(ctx, setup, vault.SecretInput{SpaceID: sp.ID, Collection: coll, Environment: env, Name: nm, Type: typ,
			Note: lower + " note of " + kind, Fields: fields, Hosts: hosts})
		must(err)
		s.secrets[kind], s.names[kind] = m.ID, nm
	}
	put("string", "my-saas", "dev", secret.TypeString, map[string]string{"value": lower + "-string-value-0001"})
	put("login", "my-saas", "", secret.TypeLogin, map[string]string{"username": lower + "-login-user", "password": lower + "-login-password-0002", "url": "https://login." + p + ".example/"})
	put("git", "my-saas", "", secret.TypeGit, map[string]string{"host": s.gitHost, "path": "org/repo", "username": lower + "-git-user", "password": lower + "-git-password-0003"})
	put("shared-git", "my-saas", "", secret.TypeGit, map[string]string{"host": "git.shared.example", "path": "org/repo", "username": lower + "-shared-git-user", "password": lower + "-shared-git-password-0004"})
	put("totp", "my-saas", "prod", secret.TypeTOTP, map[string]string{"seed": seed})
	put("reference", "my-saas", "dev", secret.TypeString, map[string]string{"value": lower + "-ref-prefix-${secret." + s.secrets["string"] + ".value}"})
	put("only", s.only, "dev", secret.TypeString, map[string]string{"value": lower + "-only-value-0005"})
	s.values = []string{lower + "-string-value-0001", lower + "-login-user", lower + "-login-password-0002", lower + "-git-user",
		lower + "-git-password-0003", lower + "-shared-git-user", lower + "-shared-git-password-0004", seed, lower + "-ref-prefix", lower + "-only-value-0005"}
	writer := vault.Actor{KeyID: s.keyIDs["write"], Name: lower + "-write"}
	e, err := f.Vault.CreateEntry(ctx, writer, vault.EntryInput{SpaceID: sp.ID, Collection: "my-saas", Environment: "dev", Name: marker + "_ENTRY",
		Message: lower + " entry message", Note: lower + " entry note"})
	must(err)
	s.entry = e.ID
	return s
}

func base32Of(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var out strings.Builder
	bits, n := 0, 0
	for _, c := range []byte(s) {
		bits, n = bits<<8|int(c), n+8
		for n >= 5 {
			out.WriteByte(alphabet[(bits>>(n-5))&31])
			n -= 5
		}
	}
	if n > 0 {
		out.WriteByte(alphabet[(bits<<(5-n))&31])
	}
	return out.String()
}

// markers are the strings of B that no answer to A may hold: its values and their
// masked previews, names, notes, ids, slugs and hosts.
func (s *isoSpace) markers() []string {
	m := []string{s.marker, strings.ToLower(s.marker), strings.ToUpper(s.marker[:1]) + strings.ToLower(s.marker[1:]), s.space.ID, s.only, s.stage, s.gitHost, s.entry}
	for _, v := range s.values {
		m = append(m, v)
		if preview := secret.Mask(v); preview != "****" { // each value's starts with the space's marker
			m = append(m, preview)
		}
	}
	m = append(m, s.keyNames...)
	m = append(m, s.ids...)
	if s.observerID != "" {
		m = append(m, s.observerID)
	}
	for _, id := range s.keyIDs {
		m = append(m, id)
	}
	for kind, id := range s.secrets {
		m = append(m, id)
		if kind != "string" {
			m = append(m, s.names[kind])
		}
	}
	return m
}

// randomEntryID is shaped as an entry id and names none.
func randomEntryID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func randomID() string { return uuid.NewString() }

// call sends a request with a bearer key and returns the status and body.
func (w *isoWorld) call(t *testing.T, token, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(data)
}

// snapshot is all of a space that its observer key reads: collections, environments, secrets
// with their values and versions, keys and entries; and its audit trail apart.
func (w *isoWorld) snapshot(t *testing.T, s *isoSpace) (state string, audit []api.AuditEvent) {
	t.Helper()
	tok := s.observer
	var b strings.Builder
	get := func(method, path string, body any) string {
		t.Helper()
		status, out := w.call(t, tok, method, path, body)
		if status != http.StatusOK {
			t.Fatalf("snapshot of %s: %s %s: %d %s", s.name, method, path, status, out)
		}
		b.WriteString(method + " " + path + "\n" + out + "\n")
		return out
	}
	var colls api.CollectionList
	decodeInto(t, get("GET", "/v1/collections", nil), &colls)
	for _, c := range colls.Collections {
		get("GET", "/v1/collections/"+c.Slug+"/environments", nil)
		var secrets api.SecretList
		decodeInto(t, get("GET", "/v1/collections/"+c.Slug+"/secrets", nil), &secrets)
		for _, sec := range secrets.Secrets {
			get("POST", "/v1/secrets/"+sec.ID+"/reveal", nil)
			get("GET", "/v1/secrets/"+sec.ID+"/versions", nil)
		}
	}
	get("GET", "/v1/keys", nil)
	get("GET", "/v1/entries", nil)
	var list api.AuditList
	status, out := w.call(t, tok, "GET", "/v1/audit?limit=10000", nil)
	if status != http.StatusOK {
		t.Fatalf("audit of %s: %d %s", s.name, status, out)
	}
	decodeInto(t, out, &list)
	return b.String(), list.Events
}

func decodeInto(t *testing.T, data string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(data), v); err != nil {
		t.Fatalf("decode %.200s: %v", data, err)
	}
}

// checkUnchanged compares B with its snapshot: the same state, and an audit trail that
// only grew by the snapshots' own reads, made with its observer key.
func (w *isoWorld) checkUnchanged(t *testing.T, s *isoSpace, before string, beforeAudit []api.AuditEvent) {
	t.Helper()
	after, afterAudit := w.snapshot(t, s)
	if after != before {
		t.Errorf("%s changed:\nbefore:\n%s\nafter:\n%s", s.name, before, after)
	}
	seen := map[int64]bool{}
	for _, ev := range beforeAudit {
		seen[ev.ID] = true
	}
	for _, ev := range afterAudit {
		delete(seen, ev.ID)
	}
	if len(seen) > 0 {
		t.Errorf("%d audit events of %s went missing", len(seen), s.name)
	}
	old := map[int64]bool{}
	for _, ev := range beforeAudit {
		old[ev.ID] = true
	}
	for _, ev := range afterAudit {
		if !old[ev.ID] && (ev.ActorKeyID != s.observerID || ev.Outcome != vault.OutcomeOK) {
			t.Errorf("%s's audit trail holds an event of another: %+v", s.name, ev)
		}
	}
}

// leaks names the markers of B found in text, leaving out those in sent (what the
// request itself named).
func leaks(text string, markers []string, sent func(string) bool) []string {
	var found []string
	for _, m := range markers {
		if m != "" && strings.Contains(text, m) && !sent(m) {
			found = append(found, m)
		}
	}
	slices.Sort(found)
	return slices.Compact(found)
}
