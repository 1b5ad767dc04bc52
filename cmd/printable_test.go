package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/config"
	"github.com/kazzle/kazzle/deployer"
)

// hostile holds what a key holder can get stored and shown to someone else: a line
// break that forges a row, a terminal title and screen clear, a C1 control sequence
// introducer, a bidi override and a zero-width space.
const hostile = "x\n2026-01-01 00:00:00  admin  secret.reveal  ok\r\x1b]0;pwned\x07\x1b[2J\u009b31m\u202egnp.exe\u200b\x7f\tcol"

// TestPrintedTablesEscapeControlAndFormatCharacters: whatever a server returns, the
// tables of audit, secrets list and history, keys list, collections list and secrets
// check print one line per row, with no character that a terminal would act on.
func TestPrintedTablesEscapeControlAndFormatCharacters(t *testing.T) {
	now := time.Now()
	mux := http.NewServeMux()
	answer := func(pattern string, v any) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) { json.NewEncoder(w).Encode(v) })
	}
	target, err := json.Marshal(map[string]string{"collection": "app", "reason": hostile})
	if err != nil {
		t.Fatal(err)
	}
	answer("GET /v1/audit", api.AuditList{Events: []api.AuditEvent{{Time: now, ActorName: hostile, ClientAddr: "127.0.0.1", Action: "request GET /v1/" + hostile, Outcome: "denied", Target: target}}})
	answer("GET /v1/collections/app/secrets", api.SecretList{Secrets: []api.Secret{
		{ID: fakeSecretID, Name: "API_URL", Type: "string", Collection: "app", Masked: true, Fields: map[string]string{"value": "ab\x1b[2J****\u202exy"}},
		{ID: fakeSecretID, Name: "LOGIN", Type: "login", Collection: "app", Masked: true, Fields: map[string]string{"username": hostile, "password": "****"}},
	}})
	answer("GET /v1/secrets/"+fakeSecretID, api.Secret{ID: fakeSecretID, Name: "API_URL", Type: "string", Collection: "app", Masked: true, Fields: map[string]string{"value": hostile}})
	answer("GET /v1/secrets/"+fakeSecretID+"/versions", api.VersionList{Versions: []api.Version{{Version: 1, CreatedAt: now, CreatedBy: hostile, Note: hostile}}})
	answer("GET /v1/keys", api.APIKeyList{Keys: []api.APIKey{{ID: fakeKeyID, Name: hostile, Role: "read", Collection: "app", Prefix: "kzl_ab"}}})
	answer("GET /v1/collections", map[string]any{"collections": []api.Collection{{Slug: "app", Name: hostile, CreatedAt: now}}})
	answer("POST /v1/collections/app/check", api.CheckResponse{Problems: []api.Problem{{SecretID: fakeSecretID, Name: "API_URL", Collection: "app", Rule: "value", Message: hostile}}})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	env := map[string]string{"KAZZLE_SERVER": srv.URL, "KAZZLE_API_KEY": "kzl_printableTestKey000000000000000000"}
	for _, tc := range []struct {
		args []string
		rows int // lines printed, the header included
	}{
		{[]string{"audit", "--limit", "5"}, 2},
		{[]string{"secrets", "list", "--collection", "app"}, 3},
		{[]string{"secrets", "get", fakeSecretID}, 1},
		{[]string{"secrets", "history", fakeSecretID}, 2},
		{[]string{"keys", "list"}, 2},
		{[]string{"collections", "list"}, 2},
		{[]string{"secrets", "check", "--collection", "app"}, 2},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			c := &cli{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] }}
			c.main(context.Background(), tc.args)
			out := stdout.String()
			if n := strings.Count(out, "\n"); n != tc.rows {
				t.Errorf("%d lines, want %d:\n%s\n%s", n, tc.rows, out, stderr.String())
			}
			for _, r := range strings.TrimSuffix(out, "\n") {
				if r != '\n' && (r < 0x20 || (r >= 0x7f && r <= 0x9f) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)) {
					t.Fatalf("the output holds %U:\n%q", r, out)
				}
			}
		})
	}
}

// TestPrintableEscapesOnlyWhatATerminalActsOn: text, accents and emoji stay as they are;
// control and format characters and bytes that are not UTF-8 become Go escapes.
func TestPrintableEscapesOnlyWhatATerminalActsOn(t *testing.T) {
	for in, want := range map[string]string{
		"sk-p****9789 café 日本 🔑":                     "sk-p****9789 café 日本 🔑",
		"a\nb\r\tc":                                  `a\nb\r\tc`,
		"\x1b]0;t\x07\x1b[2J\x7f":                    `\x1b]0;t\x07\x1b[2J\x7f`,
		"\u009b\u0085":                               `\u009b\u0085`,
		"\u202e\u2066\u2069\u200b\u200d\ufeff\u2028": `\u202e\u2066\u2069\u200b\u200d\ufeff\u2028`,
		"\xff\xfe":                                   `\xff\xfe`,
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDeployPlanEscapesWhatATargetHolds: a value someone else set on a deploy target
// is shown masked on one line of the plan, its control characters escaped.
func TestDeployPlanEscapesWhatATargetHolds(t *testing.T) {
	var stdout bytes.Buffer
	c := &cli{stdout: &stdout}
	plans := []deployer.ComponentPlan{{Component: "api", Targets: []deployer.TargetPlan{{Target: "aws.lambda api (us-east-1)",
		Changes: []deployer.Change{{Key: "A", Op: deployer.Update, Old: "ab\x1b[2J****\u202e\nforged", New: "****"}}}}}}
	c.printPlan(plans, nil, config.Project{})
	out := stdout.String()
	if strings.Count(out, "\n") != 3 || strings.ContainsAny(out, "\x1b\u202e") {
		t.Fatalf("the plan printed what the target holds raw:\n%q", out)
	}
}
