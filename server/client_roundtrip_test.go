package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// recorder keeps the body of the last response that passed through it.
type recorder struct {
	mu   sync.Mutex
	last []byte
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.last = data
	r.mu.Unlock()
	resp.Body = io.NopCloser(bytes.NewReader(data))
	return resp, nil
}

func (r *recorder) body() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// strictly decodes what the server sent into a T, refusing any field T does not have,
// and checks that T encodes back to the same JSON: a field the server sends and the api
// type lacks, or one the type would add, fails the test.
func strictly[T any](t *testing.T, rec *recorder, what string) T {
	t.Helper()
	raw := rec.body()
	var v T
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: the server's body does not decode into %T: %v", what, v, err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var sent, decoded any
	if err := json.Unmarshal(raw, &sent); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(again, &decoded); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sent, decoded) {
		t.Fatalf("%s: %T does not carry the body as it was sent (%d bytes sent, %d encoded again)", what, v, len(raw), len(again))
	}
	return v
}

// same fails unless the client returned what the server sent.
func same(t *testing.T, what string, got, sent any) {
	t.Helper()
	if !reflect.DeepEqual(got, sent) {
		t.Fatalf("%s: the client returned something other than what the server sent", what)
	}
}

// TestTheClientGetsEveryFieldTheServerSends calls every method of api.Client against
// the real server and checks that each answer decodes, field for field, into its named
// api type and that the method returns what was sent.
func TestTheClientGetsEveryFieldTheServerSends(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rec := &recorder{}
	client := func(key string) *api.Client {
		c, err := api.NewClient(w.srv.URL, w.tokens[key], &http.Client{Transport: rec})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	admin, write := client("admin"), client("write")
	called := map[string]bool{}
	call := func(name string) { called[name] = true }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	call("CreateCollection")
	coll, err := admin.CreateCollection(ctx, api.CreateCollectionRequest{Slug: "billing", Name: "Billing"})
	must(err)
	same(t, "CreateCollection", coll, strictly[api.Collection](t, rec, "CreateCollection"))
	call("Collections")
	colls, err := admin.Collections(ctx)
	must(err)
	same(t, "Collections", colls, strictly[api.CollectionList](t, rec, "Collections").Collections)
	call("CreateEnvironment")
	env, err := admin.CreateEnvironment(ctx, "billing", "staging")
	must(err)
	same(t, "CreateEnvironment", env, strictly[api.Environment](t, rec, "CreateEnvironment"))
	call("Environments")
	envs, err := admin.Environments(ctx, "my-saas")
	must(err)
	same(t, "Environments", envs, strictly[api.EnvironmentList](t, rec, "Environments").Environments)

	call("CreateSecret")
	created, err := write.CreateSecret(ctx, api.CreateSecretRequest{Collection: "my-saas", Environment: "dev", Name: "DB_URL", Note: "primary",
		Fields: map[string]string{"value": "postgres://app:${secret." + w.ids["DEV_TOKEN"] + ".value}@db/app"}})
	must(err)
	same(t, "CreateSecret", created, strictly[api.Secret](t, rec, "CreateSecret"))
	otp, err := write.CreateSecret(ctx, api.CreateSecretRequest{Collection: "my-saas", Name: "OTP", Type: "totp",
		Fields: map[string]string{"seed": "otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&issuer=Acme"}})
	must(err)
	gitSecret, err := write.CreateSecret(ctx, api.CreateSecretRequest{Collection: "my-saas", Name: "APP_GIT", Type: "git",
		Fields: map[string]string{"host": "github.com", "path": "acme/app", "username": "acme-bot", "password": "ghp_roundTripToken0000000000000000"}})
	must(err)
	call("Secrets")
	list, err := admin.Secrets(ctx, "my-saas", "dev")
	must(err)
	same(t, "Secrets", list, strictly[api.SecretList](t, rec, "Secrets").Secrets)
	call("Secret")
	got, err := admin.Secret(ctx, created.ID)
	must(err)
	same(t, "Secret", got, strictly[api.Secret](t, rec, "Secret"))
	call("Reveal")
	revealed, err := admin.Reveal(ctx, created.ID)
	must(err)
	same(t, "Reveal", revealed, strictly[api.Secret](t, rec, "Reveal"))
	call("UpdateSecret")
	note := "rotated"
	updated, err := write.UpdateSecret(ctx, created.ID, api.UpdateSecretRequest{Version: 1, Fields: map[string]string{"value": "v2"}, Note: &note})
	must(err)
	same(t, "UpdateSecret", updated, strictly[api.Secret](t, rec, "UpdateSecret"))
	call("History")
	versions, err := admin.History(ctx, created.ID)
	must(err)
	same(t, "History", versions, strictly[api.VersionList](t, rec, "History").Versions)
	call("Rollback")
	rolled, err := write.Rollback(ctx, created.ID, api.RollbackRequest{To: 1, Version: 2})
	must(err)
	same(t, "Rollback", rolled, strictly[api.Secret](t, rec, "Rollback"))
	call("TOTP")
	code, err := admin.TOTP(ctx, otp.ID)
	must(err)
	same(t, "TOTP", code, strictly[api.TOTPResponse](t, rec, "TOTP"))

	call("Resolve")
	vars, err := admin.Resolve(ctx, api.ResolveRequest{Collection: "my-saas", Environment: "dev"})
	must(err)
	resolved := strictly[api.ResolveResponse](t, rec, "Resolve")
	same(t, "Resolve", vars, resolved.Vars)
	if resolved.Scan != nil {
		t.Fatalf("Resolve: %d scan values nobody asked for", len(resolved.Scan))
	}
	call("ResolveForScan")
	vars, scan, err := admin.ResolveForScan(ctx, api.ResolveRequest{Collection: "my-saas", Environment: "dev"})
	must(err)
	resolved = strictly[api.ResolveResponse](t, rec, "ResolveForScan")
	same(t, "ResolveForScan", vars, resolved.Vars)
	same(t, "ResolveForScan", scan, resolved.Scan)
	call("Check")
	problems, err := admin.Check(ctx, "my-saas")
	must(err)
	same(t, "Check", problems, strictly[api.CheckResponse](t, rec, "Check").Problems)
	call("Templates")
	expanded, err := admin.Templates(ctx, []string{"Bearer ${secret." + w.ids["SHARED"] + ".value}", "plain"})
	must(err)
	same(t, "Templates", expanded, strictly[api.TemplatesResponse](t, rec, "Templates"))
	call("GitCredential")
	cred, err := admin.GitCredential(ctx, api.GitCredentialRequest{Protocol: "https", Host: "github.com", Path: "acme/app/x.git"})
	must(err)
	same(t, "GitCredential", cred, strictly[api.GitCredentialResponse](t, rec, "GitCredential"))
	if cred.SecretID != gitSecret.ID {
		t.Fatalf("GitCredential: secret %s, want %s", cred.SecretID, gitSecret.ID)
	}

	call("CreateEntry")
	entry, err := write.CreateEntry(ctx, api.CreateEntryRequest{Collection: "my-saas", Environment: "dev", Name: "ENTERED", Type: "login",
		Message: "the bot's login", Note: "entered", Hosts: []string{"api.example.com"}, ExpiresIn: 3600})
	must(err)
	same(t, "CreateEntry", entry, strictly[api.Entry](t, rec, "CreateEntry"))
	call("Entries")
	entries, err := write.Entries(ctx)
	must(err)
	same(t, "Entries", entries, strictly[api.EntryList](t, rec, "Entries").Entries)
	call("Entry")
	pending, err := write.Entry(ctx, entry.ID)
	must(err)
	same(t, "Entry", pending, strictly[api.Entry](t, rec, "Entry"))
	call("FillEntry")
	filled, err := admin.FillEntry(ctx, entry.ID, map[string]string{"username": "bot", "password": "entered-password-1"})
	must(err)
	same(t, "FillEntry", filled, strictly[api.Entry](t, rec, "FillEntry"))
	call("WaitEntry")
	waited, err := write.WaitEntry(ctx, entry.ID, 5*time.Second)
	must(err)
	same(t, "WaitEntry", waited, strictly[api.Entry](t, rec, "WaitEntry"))
	if waited.Status != api.EntryDone || len(waited.References) != 2 || waited.DoneAt == nil {
		t.Fatalf("WaitEntry: %+v", waited)
	}
	call("CancelEntry")
	other, err := write.CreateEntry(ctx, api.CreateEntryRequest{Collection: "my-saas", Name: "CANCELLED"})
	must(err)
	must(write.CancelEntry(ctx, other.ID))

	call("CreateKey")
	key, err := admin.CreateKey(ctx, api.CreateAPIKeyRequest{Name: "ci", Role: "read", Collection: "my-saas", Environment: "dev"})
	must(err)
	same(t, "CreateKey", key, strictly[api.CreateAPIKeyResponse](t, rec, "CreateKey"))
	call("Keys")
	keys, err := admin.Keys(ctx)
	must(err)
	same(t, "Keys", keys, strictly[api.APIKeyList](t, rec, "Keys").Keys)
	call("Whoami")
	me, err := admin.Whoami(ctx)
	must(err)
	same(t, "Whoami", me, strictly[api.APIKey](t, rec, "Whoami"))
	call("RevokeKey")
	must(admin.RevokeKey(ctx, key.ID))
	call("Diff")
	diff, err := admin.Diff(ctx, "my-saas", []string{"dev", "prod"})
	must(err)
	same(t, "Diff", diff, strictly[api.DiffResponse](t, rec, "Diff"))
	call("RenameEnvironment")
	renamed, err := admin.RenameEnvironment(ctx, "billing", "staging", "stage")
	must(err)
	same(t, "RenameEnvironment", renamed, strictly[api.Environment](t, rec, "RenameEnvironment"))
	call("DeleteEnvironment")
	must(admin.DeleteEnvironment(ctx, "billing", "stage", false))
	call("DeleteSecret")
	must(write.DeleteSecret(ctx, created.ID, rolled.Version))
	call("DeleteCollection")
	must(admin.DeleteCollection(ctx, "billing"))
	call("Audit")
	events, err := admin.Audit(ctx, api.AuditQuery{Limit: 100})
	must(err)
	same(t, "Audit", events, strictly[api.AuditList](t, rec, "Audit").Events)

	_, opToken, err := w.Vault.CreateOperatorKey(ctx, vault.Actor{Name: "recover-admin"}, false)
	must(err)
	w.tokens["operator"] = opToken
	operator := client("operator")
	call("CreateSpace")
	space, err := operator.CreateSpace(ctx, "initech")
	must(err)
	same(t, "CreateSpace", space, strictly[api.CreateSpaceResponse](t, rec, "CreateSpace"))
	call("DeleteSpace")
	must(operator.DeleteSpace(ctx, "initech"))
	call("Spaces")
	spaces, err := operator.Spaces(ctx, true)
	must(err)
	same(t, "Spaces", spaces, strictly[api.SpaceList](t, rec, "Spaces").Spaces)
	if last := spaces[len(spaces)-1]; last.Name != "initech" || last.DeletedAt == nil {
		t.Fatalf("Spaces: the deleted space came back as %+v", last)
	}
	call("ServerAudit")
	serverEvents, err := operator.ServerAudit(ctx, api.AuditQuery{Limit: 100})
	must(err)
	same(t, "ServerAudit", serverEvents, strictly[api.AuditList](t, rec, "ServerAudit").Events)

	// Every answer above held something to lose.
	for what, n := range map[string]int{"collections": len(colls), "environments": len(envs), "secrets": len(list), "versions": len(versions),
		"vars": len(vars), "scan": len(scan), "used": len(expanded.Used), "keys": len(keys), "events": len(events), "entries": len(entries), "names": len(diff.Names),
		"spaces": len(spaces), "server events": len(serverEvents)} {
		if n == 0 {
			t.Errorf("no %s came back: the round trip of an empty list proves little", what)
		}
	}
	var methods []string
	for m := range reflect.TypeFor[*api.Client]().Methods() {
		if !called[m.Name] {
			methods = append(methods, m.Name)
		}
	}
	if len(methods) > 0 {
		slices.Sort(methods)
		t.Errorf("methods of api.Client this test does not call: %v", methods)
	}
}
