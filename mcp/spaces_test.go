package mcp_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/mcp"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/server"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

// otherSpace is B, the space kazzle mcp's key does not belong to: its secrets of every
// type by kind, the field a reference to each names, an entry, and every value it holds.
type otherSpace struct {
	space   vault.Space
	secrets map[string]string // kind → id
	fields  map[string]string // kind → a field of it
	names   map[string]string // kind → name
	entry   string
	values  []string
}

// twoSpaces is a server on loopback over a vault with acme (A), whose write key
// kazzle mcp gets, and globex (B), which has a secret of each type, one of them named as
// one of A's (API_TOKEN in my-saas/dev), a collection only it has and a pending entry.
func twoSpaces(t *testing.T) (f *storetest.Fixture, url, aKey, aToken string, b *otherSpace) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f = storetest.NewFixture(t, store, vault.Options{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	aToken = f.Put(t, "dev", "API_TOKEN", "acme-token-value-0001").ID
	_, aKey, err = f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "acme-assistant", Role: vault.RoleWrite})
	must(err)

	b = &otherSpace{secrets: map[string]string{}, fields: map[string]string{}, names: map[string]string{}}
	actor := vault.Actor{Name: "globex-setup"}
	b.space, err = f.Vault.CreateSpace(ctx, actor, "globex")
	must(err)
	for _, coll := range []string{"my-saas", "b-only"} {
		_, err := f.Vault.CreateCollection(ctx, actor, b.space.ID, coll, "")
		must(err)
		_, err = f.Vault.CreateEnvironment(ctx, actor, b.space.ID, coll, "dev")
		must(err)
	}
	put := func(kind, name, coll string, typ secret.Type, field string, fields map[string]string) {
		m, err := f.Vault.CreateSecret(ctx, actor, vault.SecretInput{SpaceID: b.space.ID, Collection: coll, Environment: "dev", Name: name, Type: typ, Fields: fields})
		must(err)
		b.secrets[kind], b.fields[kind], b.names[kind] = m.ID, field, name
		for _, v := range fields {
			b.values = append(b.values, v)
		}
	}
	put("string", "API_TOKEN", "my-saas", secret.TypeString, "value", map[string]string{"value": "globex-token-value-0001"})
	put("login", "GLOBEX_LOGIN", "my-saas", secret.TypeLogin, "password", map[string]string{"username": "globex-login-user", "password": "globex-login-password-0002"})
	put("git", "GLOBEX_GIT", "my-saas", secret.TypeGit, "password", map[string]string{"host": "git.globex.example", "username": "globex-git-user", "password": "globex-git-password-0003"})
	put("totp", "GLOBEX_TOTP", "my-saas", secret.TypeTOTP, "seed", map[string]string{"seed": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"})
	put("only", "GLOBEX_ONLY", "b-only", secret.TypeString, "value", map[string]string{"value": "globex-only-value-0004"})
	e, err := f.Vault.CreateEntry(ctx, actor, vault.EntryInput{SpaceID: b.space.ID, Collection: "my-saas", Environment: "dev", Name: "GLOBEX_ENTRY", Message: "globex entry message"})
	must(err)
	b.entry = e.ID

	srv := httptest.NewServer(server.New(f.Vault, server.Options{LoopbackOnly: true, Now: f.Clock.Now}))
	t.Cleanup(srv.Close)
	return f, srv.URL, aKey, aToken, b
}

// markers are what of B no result may hold: its values and their masked previews, ids,
// names and the entry.
func (b *otherSpace) markers() []string {
	m := []string{"globex", "GLOBEX", b.space.ID, b.entry}
	for _, v := range b.values {
		m = append(m, v)
		if preview := secret.Mask(v); preview != "****" {
			m = append(m, preview)
		}
	}
	for kind, id := range b.secrets {
		m = append(m, id)
		if kind != "string" {
			m = append(m, b.names[kind])
		}
	}
	return m
}

// state is B as its store holds it: every secret's version and sealed fields, the
// secrets of each collection, its entries and its audit trail.
func (b *otherSpace) state(t *testing.T, f *storetest.Fixture) string {
	t.Helper()
	ctx := context.Background()
	var out strings.Builder
	for _, kind := range slices.Sorted(func(yield func(string) bool) {
		for k := range b.secrets {
			if !yield(k) {
				return
			}
		}
	}) {
		s, err := f.Store.Secret(ctx, b.space.ID, b.secrets[kind])
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(s)
		fmt.Fprintf(&out, "%s %s\n", kind, data)
	}
	colls, err := f.Store.Collections(ctx, b.space.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range colls {
		secrets, err := f.Store.Secrets(ctx, vault.SecretQuery{SpaceID: b.space.ID, CollectionID: c.ID})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "%s: %d secrets\n", c.Slug, len(secrets))
	}
	entries, err := f.Store.Entries(ctx, b.space.ID, f.Clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(entries)
	out.Write(data)
	events, err := f.Vault.Audit(ctx, vault.AuditQuery{SpaceID: b.space.ID, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&out, "\n%d audit events", len(events))
	return out.String()
}

// TestMCPOfOneSpaceReachesNothingOfAnother: kazzle mcp with a key of A lists only A's
// secrets; and describe_secret, run_command and http_request (references in argv, env,
// stdin, URL, headers and body), create_secret and update_secret (aimed at B's ids,
// names and collection, or with templates and commands of B's references) and
// await_entry (B's entry) fail exactly as for ids and names that exist nowhere, without
// substituting anything, sending a request or running a command; and B is unchanged.
func TestMCPOfOneSpaceReachesNothingOfAnother(t *testing.T) {
	f, url, aKey, aToken, b := twoSpaces(t)
	client, err := api.NewClient(url, aKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var reached []string
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.Method+" "+r.URL.String())
		mu.Unlock()
	}))
	t.Cleanup(echo.Close)
	ran := filepath.Join(t.TempDir(), "ran")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	st, ct := sdk.NewInMemoryTransports()
	if _, err := mcp.New(mcp.Options{Client: client, APIKey: aKey, Collection: "my-saas", Environment: "dev", Environ: []string{"PATH=/usr/bin:/bin"}, ServerURL: url}).Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	session, err := sdk.NewClient(&sdk.Implementation{Name: "kazzle-test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { session.Close() })
	call := func(t *testing.T, tool string, args map[string]any) (bool, string) {
		t.Helper()
		res, err := session.CallTool(ctx, &sdk.CallToolParams{Name: tool, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		whole, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return res.IsError, string(whole)
	}
	markers := b.markers()
	before := b.state(t, f)

	// A's own listings hold A's secrets, and nothing of B.
	for _, args := range []map[string]any{{}, {"environment": ""}, {"collection": "my-saas", "environment": "dev"}} {
		isErr, out := call(t, "list_secrets", args)
		if isErr || !strings.Contains(out, aToken) {
			t.Errorf("list_secrets %v does not list A's API_TOKEN: %s", args, out)
		}
		if found := leaksIn(out, markers, ""); len(found) > 0 {
			t.Errorf("list_secrets %v holds B's %q", args, found)
		}
	}
	if isErr, out := call(t, "describe_secret", map[string]any{"secret": "API_TOKEN"}); isErr || !strings.Contains(out, aToken) || len(leaksIn(out, markers, "")) > 0 {
		t.Errorf("describe_secret API_TOKEN, a name both spaces have, is not A's alone: %s", out)
	}

	// Each call aimed at B, and its twin aimed at nothing: the same refusal, B's names
	// for the twin's.
	ownRef := "${secret." + aToken + ".value}"
	calls := []struct {
		tool string
		args func(a aim) map[string]any
	}{
		{"list_secrets", func(a aim) map[string]any { return map[string]any{"collection": a.coll} }},
		{"describe_secret", func(a aim) map[string]any { return map[string]any{"secret": a.id} }},
		{"describe_secret", func(a aim) map[string]any { return map[string]any{"secret": a.name} }},
		{"describe_secret", func(a aim) map[string]any { return map[string]any{"secret": a.name, "collection": a.coll} }},
		{"run_command", func(a aim) map[string]any {
			return map[string]any{"argv": []string{"touch", ran, a.ref()}}
		}},
		{"run_command", func(a aim) map[string]any {
			return map[string]any{"argv": []string{"touch", ran}, "env": map[string]string{"OWN": ownRef, "OTHER": a.ref()}}
		}},
		{"run_command", func(a aim) map[string]any {
			return map[string]any{"command": "touch " + ran, "stdin": ownRef + a.ref()}
		}},
		{"http_request", func(a aim) map[string]any {
			return map[string]any{"url": echo.URL + "/", "headers": map[string]string{"Authorization": "Bearer " + a.ref()}}
		}},
		{"http_request", func(a aim) map[string]any {
			return map[string]any{"method": "POST", "url": echo.URL + "/?own=" + ownRef, "body": a.ref()}
		}},
		{"create_secret", func(a aim) map[string]any {
			return map[string]any{"name": "PROBE_TEMPLATE", "source": map[string]any{"template": "x-" + a.ref()}}
		}},
		{"create_secret", func(a aim) map[string]any {
			return map[string]any{"name": "PROBE_COMMAND", "source": map[string]any{"command": map[string]any{"argv": []string{"echo", a.ref()}}}}
		}},
		{"create_secret", func(a aim) map[string]any {
			return map[string]any{"name": "PROBE_ELSEWHERE", "collection": a.coll, "environment": "dev", "source": map[string]any{"generate": map[string]any{}}}
		}},
		{"update_secret", func(a aim) map[string]any {
			return map[string]any{"secret": a.id, "source": map[string]any{"generate": map[string]any{}}}
		}},
		{"update_secret", func(a aim) map[string]any {
			return map[string]any{"secret": a.name, "source": map[string]any{"generate": map[string]any{}}}
		}},
		{"update_secret", func(a aim) map[string]any {
			return map[string]any{"secret": aToken, "source": map[string]any{"template": a.ref()}}
		}},
		{"await_entry", func(a aim) map[string]any { return map[string]any{"entry": a.entry, "wait_seconds": 1} }},
	}
	n := 0
	for _, kind := range []string{"string", "login", "git", "totp", "only"} {
		name := b.names[kind]
		if kind == "string" {
			name = b.names["only"] // A has an API_TOKEN of its own
		}
		at := aim{id: b.secrets[kind], field: b.fields[kind], name: name, coll: "b-only", entry: b.entry}
		twin := aim{id: uuid.NewString(), field: b.fields[kind], name: "ABSENT_NAME", coll: "absent-coll", entry: randomEntryID()}
		for _, c := range calls {
			n++
			t.Run(kind+"/"+c.tool, func(t *testing.T) {
				isErr, out := call(t, c.tool, c.args(at))
				twErr, twOut := call(t, c.tool, c.args(twin))
				if !isErr || !twErr {
					t.Fatalf("aimed at B: error %v; at nothing: error %v\n%s\n%s", isErr, twErr, out, twOut)
				}
				replaced := out
				for _, p := range [][2]string{{at.id, twin.id}, {at.name, twin.name}, {at.coll, twin.coll}, {at.entry, twin.entry}} {
					replaced = strings.ReplaceAll(replaced, p[0], p[1])
				}
				if replaced != twOut {
					t.Errorf("aimed at B, %s answers otherwise than aimed at nothing:\n%s\n%s", c.tool, out, twOut)
				}
				args, _ := json.Marshal(c.args(at))
				if found := leaksIn(out, markers, string(args)); len(found) > 0 {
					t.Errorf("%s holds B's %q: %s", c.tool, found, out)
				}
			})
		}
	}
	mu.Lock()
	if len(reached) > 0 {
		t.Errorf("http_request sent requests although a reference did not resolve: %q", reached)
	}
	mu.Unlock()
	if _, err := os.Stat(ran); err == nil {
		t.Error("run_command ran a command although a reference did not resolve")
	}
	if after := b.state(t, f); after != before {
		t.Errorf("B changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	t.Logf("%d calls aimed at B, each with its twin", n)
}

// aim is what a call names: a secret by id and field, a secret name, a collection and
// an entry.
type aim struct{ id, field, name, coll, entry string }

func (a aim) ref() string { return "${secret." + a.id + "." + a.field + "}" }

func randomEntryID() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// leaksIn names the markers in text that sent, what the call itself named, does not hold.
func leaksIn(text string, markers []string, sent string) []string {
	var found []string
	for _, m := range markers {
		if strings.Contains(text, m) && !strings.Contains(sent, m) {
			found = append(found, m)
		}
	}
	return found
}
