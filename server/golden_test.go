package server_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
)

var update = flag.Bool("update", false, "rewrite the golden bodies under testdata/golden")

// exchange is one request of the golden run and what to call it in the golden file.
type exchange struct {
	name   string
	token  string // key name in world.tokens; "" sends no key
	method string
	path   string
	body   any
}

// idPattern matches the ids the vault makes (UUIDs) and API key tokens and prefixes:
// they differ on every run, so the golden bodies name them by order of appearance.
var idPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|kzl_[A-Za-z0-9]+`)

// normaliser replaces each distinct id with <id-N> and each token with <token-N>, the
// same id with the same name everywhere in one run.
type normaliser map[string]string

func (n normaliser) apply(b []byte) []byte {
	return idPattern.ReplaceAllFunc(b, func(id []byte) []byte {
		if name, ok := n[string(id)]; ok {
			return []byte(name)
		}
		kind := "id"
		if bytes.HasPrefix(id, []byte("kzl_")) {
			kind = "token"
		}
		name := fmt.Sprintf("<%s-%d>", kind, len(n)+1)
		n[string(id)] = name
		return []byte(name)
	})
}

// TestAPIBodiesMatchTheGoldenFiles drives every route of the API through a real server
// and compares each answer's status, content type and body, ids normalised, with
// testdata/golden/api.txt: the wire format a client relies on must not change by
// accident. -update rewrites the file.
func TestAPIBodiesMatchTheGoldenFiles(t *testing.T) {
	w := newWorld(t)
	id := func(name string) string { return w.ids[name] }
	sec := func(name, rest string) string { return "/v1/secrets/" + id(name) + rest }
	steps := []exchange{
		{"collections list", "admin", "GET", "/v1/collections", nil},
		{"collections list, limited key", "read-app", "GET", "/v1/collections", nil},
		{"collections create", "admin", "POST", "/v1/collections", api.CreateCollectionRequest{Slug: "billing", Name: "Billing"}},
		{"collections create, exists", "admin", "POST", "/v1/collections", api.CreateCollectionRequest{Slug: "billing"}},
		{"environments list", "admin", "GET", "/v1/collections/my-saas/environments", nil},
		{"environments list, limited key", "write-app-dev", "GET", "/v1/collections/my-saas/environments", nil},
		{"environments create", "admin", "POST", "/v1/collections/billing/environments", api.CreateEnvironmentRequest{Slug: "staging"}},
		{"secrets list", "read", "GET", "/v1/collections/my-saas/secrets", nil},
		{"secrets list, one environment", "read", "GET", "/v1/collections/my-saas/secrets?environment=dev", nil},
		{"secrets list, empty", "read", "GET", "/v1/collections/billing/secrets", nil},
		{"secret create", "write", "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "dev", Name: "DB_URL", Note: "primary",
			Fields: map[string]string{"value": "postgres://app:${secret." + id("DEV_TOKEN") + ".value}@db/app"}}},
		{"secret create login", "write", "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "SMTP", Type: "login",
			Fields: map[string]string{"username": "mailer", "password": "smtp-pass-\"quoted\"\n<&>"}}},
		{"secret create totp", "write", "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "OTP", Type: "totp",
			Fields: map[string]string{"seed": "otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&issuer=Acme"}}},
		{"secret create git", "write", "POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Name: "APP_GIT", Type: "git",
			Fields: map[string]string{"host": "github.com", "path": "acme/app", "username": "acme-bot", "password": "ghp_goldenToken000000000000000000"}}},
		{"secret create, invalid", "write", "POST", "/v1/secrets", `{"collection":"my-saas","name":"bad name","fields":{"value":"x"}}`},
		{"secret get", "read", "GET", sec("DEV_TOKEN", ""), nil},
		{"secret get, missing", "read", "GET", "/v1/secrets/no-such-id", nil},
		{"secret get, out of reach", "read-app", "GET", sec("OTHER_TOKEN", ""), nil},
		{"secret reveal", "read", "POST", sec("DEV_TOKEN", "/reveal"), nil},
		{"secret update", "write", "PUT", sec("DEV_TOKEN", ""), api.UpdateSecretRequest{Version: 1, Fields: map[string]string{"value": "dev-token-value-v2"}}},
		{"secret update note", "write", "PUT", sec("DEV_TOKEN", ""), `{"version":2,"note":"rotated"}`},
		{"secret update, stale", "write", "PUT", sec("DEV_TOKEN", ""), api.UpdateSecretRequest{Version: 1, Fields: map[string]string{"value": "x"}}},
		{"secret update, read key", "read", "PUT", sec("DEV_TOKEN", ""), api.UpdateSecretRequest{Version: 3, Fields: map[string]string{"value": "x"}}},
		{"secret versions", "read", "GET", sec("DEV_TOKEN", "/versions"), nil},
		{"secret rollback", "write", "POST", sec("DEV_TOKEN", "/rollback"), api.RollbackRequest{To: 1, Version: 3}},
		{"secret delete, no version", "write", "DELETE", sec("PROD_TOKEN", ""), nil},
		{"secret delete", "write", "DELETE", sec("PROD_TOKEN", "?version=1"), nil},
		{"check", "read", "POST", "/v1/collections/my-saas/check", nil},
		{"resolve", "read", "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev"}},
		{"resolve some names", "read", "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev", Names: []string{"SHARED"}}},
		{"resolve for a scan", "read", "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev", Scan: true}},
		{"resolve, unknown environment", "read", "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "nope"}},
		{"templates", "read", "POST", "/v1/templates", api.TemplatesRequest{Templates: []string{"Bearer ${secret." + id("SHARED") + ".value}", "no reference"}}},
		{"templates, unknown reference", "read", "POST", "/v1/templates", api.TemplatesRequest{Templates: []string{"${secret.00000000-0000-4000-8000-000000000000.value}"}}},
		{"git credential", "read", "POST", "/v1/git/credential", api.GitCredentialRequest{Protocol: "https", Host: "github.com", Path: "acme/app/sub/x.git"}},
		{"git credential, none", "read", "POST", "/v1/git/credential", api.GitCredentialRequest{Host: "gitlab.com"}},
		{"keys create", "admin", "POST", "/v1/keys", api.CreateAPIKeyRequest{Name: "ci", Role: "read", Collection: "my-saas", Environment: "dev"}},
		{"keys list", "admin", "GET", "/v1/keys", nil},
		{"keys list, not admin", "read", "GET", "/v1/keys", nil},
		{"collection delete", "admin", "DELETE", "/v1/collections/billing", nil},
		{"audit", "admin", "GET", "/v1/audit?limit=25", nil},
		{"audit, bad limit", "admin", "GET", "/v1/audit?limit=0", nil},
		{"no key", "", "GET", "/v1/collections", nil},
		{"revoked key", "revoked", "GET", "/v1/collections", nil},
		{"unknown endpoint", "admin", "GET", "/v1/nothing-here", nil},
	}
	totpID := ""
	var got bytes.Buffer
	norm := normaliser{w.Space.ID: "<space>", w.Coll.ID: "<collection:my-saas>", w.Dev.ID: "<env:dev>", w.Prod.ID: "<env:prod>"}
	for name, secretID := range w.ids {
		norm[secretID] = "<secret:" + name + ">"
	}
	for name, token := range w.tokens {
		norm[token] = "<token:" + name + ">"
	}
	keyIDs := w.keyIDs(t)
	for name, keyID := range keyIDs {
		norm[keyID] = "<key:" + name + ">"
	}
	for _, ex := range steps {
		status, ctype, body := w.send(t, w.tokens[ex.token], ex.method, ex.path, ex.body)
		fmt.Fprintf(&got, "### %s: %s %s\n%d %s\n", ex.name, ex.method, norm.apply([]byte(ex.path)), status, ctype)
		got.Write(norm.apply(body))
		if len(body) > 0 && body[len(body)-1] != '\n' {
			got.WriteString("\n(no final newline)\n")
		}
		if ex.name == "secret create totp" {
			totpID = string(regexp.MustCompile(`"id":"([^"]+)"`).FindSubmatch(body)[1])
		}
	}
	for _, ex := range []exchange{
		{"totp", "read", "POST", "/v1/secrets/" + totpID + "/totp", nil},
		{"keys revoke", "admin", "DELETE", "/v1/keys/" + keyIDs["read-app"], nil},
	} {
		status, ctype, body := w.send(t, w.tokens[ex.token], ex.method, ex.path, ex.body)
		fmt.Fprintf(&got, "### %s: %s %s\n%d %s\n", ex.name, ex.method, norm.apply([]byte(ex.path)), status, ctype)
		got.Write(norm.apply(body))
	}
	compareGolden(t, filepath.Join("testdata", "golden", "api.txt"), got.Bytes())
}

// send makes a request of the world's server as token and returns the answer's status,
// content type and body.
func (w *world) send(t *testing.T, token, method, path string, body any) (int, string, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, w.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), data
}

// keyIDs maps the names of the space's keys to their ids.
func (w *world) keyIDs(t *testing.T) map[string]string {
	t.Helper()
	keys, err := w.Store.APIKeys(t.Context(), w.Space.ID)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, k := range keys {
		ids[k.Name] = k.ID
	}
	return ids
}

// compareGolden fails unless got is the content of the golden file at path; -update
// writes it instead.
func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s", path, i+1, g, w)
			}
		}
	}
}
