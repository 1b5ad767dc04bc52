package server_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// TestOutOfReachLooksLikeMissing: a key limited to a collection, or to an environment,
// gets the same answer for a collection, environment or secret beyond its reach as for
// one that does not exist, so it cannot probe names; each such refusal is audited.
func TestOutOfReachLooksLikeMissing(t *testing.T) {
	w := newWorld(t)
	const missingID = "00000000-0000-4000-8000-000000000000"
	type probe struct {
		method, path string
		body         any
	}
	for _, tc := range []struct {
		key, desc       string
		hidden, missing probe
		name, absent    string // what the answers name: the hidden thing and the missing one
	}{
		{"read-app", "another collection's environments", probe{"GET", "/v1/collections/other/environments", nil}, probe{"GET", "/v1/collections/nope0/environments", nil}, "other", "nope0"},
		{"read-app", "another collection's secrets", probe{"GET", "/v1/collections/other/secrets", nil}, probe{"GET", "/v1/collections/nope0/secrets", nil}, "other", "nope0"},
		{"read-app", "a check of another collection", probe{"POST", "/v1/collections/other/check", nil}, probe{"POST", "/v1/collections/nope0/check", nil}, "other", "nope0"},
		{"read-app", "resolving another collection", probe{"POST", "/v1/resolve", api.ResolveRequest{Collection: "other", Environment: "dev"}}, probe{"POST", "/v1/resolve", api.ResolveRequest{Collection: "nope0", Environment: "dev"}}, "other", "nope0"},
		{"read-app", "resolving a missing environment of another collection", probe{"POST", "/v1/resolve", api.ResolveRequest{Collection: "other", Environment: "qa"}}, probe{"POST", "/v1/resolve", api.ResolveRequest{Collection: "nope0", Environment: "qa"}}, "other", "nope0"},
		{"read-app", "a secret of another collection", probe{"GET", "/v1/secrets/" + w.ids["OTHER_TOKEN"], nil}, probe{"GET", "/v1/secrets/" + missingID, nil}, w.ids["OTHER_TOKEN"], missingID},
		{"read-app", "the versions of a secret of another collection", probe{"GET", "/v1/secrets/" + w.ids["OTHER_TOKEN"] + "/versions", nil}, probe{"GET", "/v1/secrets/" + missingID + "/versions", nil}, w.ids["OTHER_TOKEN"], missingID},
		{"read-app", "a template naming a secret of another collection", probe{"POST", "/v1/templates", api.TemplatesRequest{Templates: []string{"${secret." + w.ids["OTHER_TOKEN"] + ".value}"}}}, probe{"POST", "/v1/templates", api.TemplatesRequest{Templates: []string{"${secret." + missingID + ".value}"}}}, w.ids["OTHER_TOKEN"], missingID},
		{"write-app-dev", "creating a secret in another collection", probe{"POST", "/v1/secrets", api.CreateSecretRequest{Collection: "other", Environment: "dev", Name: "X", Fields: map[string]string{"value": "v"}}}, probe{"POST", "/v1/secrets", api.CreateSecretRequest{Collection: "nope0", Environment: "dev", Name: "X", Fields: map[string]string{"value": "v"}}}, "other", "nope0"},
		{"write-app-dev", "creating a secret in another environment", probe{"POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "prod", Name: "X", Fields: map[string]string{"value": "v"}}}, probe{"POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "qa00", Name: "X", Fields: map[string]string{"value": "v"}}}, "prod", "qa00"},
		{"write-app-dev", "another environment's secrets", probe{"GET", "/v1/collections/my-saas/secrets?environment=prod", nil}, probe{"GET", "/v1/collections/my-saas/secrets?environment=qa00", nil}, "prod", "qa00"},
		{"write-app-dev", "resolving another environment", probe{"POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "prod"}}, probe{"POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "qa00"}}, "prod", "qa00"},
		{"write-app-dev", "a secret of another environment", probe{"GET", "/v1/secrets/" + w.ids["PROD_TOKEN"], nil}, probe{"GET", "/v1/secrets/" + missingID, nil}, w.ids["PROD_TOKEN"], missingID},
	} {
		t.Run(tc.key+"/"+tc.desc, func(t *testing.T) {
			before := deniedEvents(t, w)
			hs, hb := w.do(t, w.tokens[tc.key], tc.hidden.method, tc.hidden.path, tc.hidden.body)
			ms, mb := w.do(t, w.tokens[tc.key], tc.missing.method, tc.missing.path, tc.missing.body)
			if hs != ms || hs == 200 || !bytes.Equal(bytes.ReplaceAll(hb, []byte(tc.name), []byte(tc.absent)), mb) {
				t.Fatalf("beyond reach: %d %s\nmissing: %d %s", hs, hb, ms, mb)
			}
			after := deniedEvents(t, w)
			if len(after) != len(before)+1 || !strings.Contains(after[0].Target.Reason, "is limited to another") || after[0].ActorName != tc.key {
				t.Fatalf("%d denied events recorded for the probe and its missing twin, want 1 naming the restriction: %+v", len(after)-len(before), after[0])
			}
		})
	}
}

func deniedEvents(t *testing.T, w *world) []vault.AuditEvent {
	t.Helper()
	evs, err := w.Vault.Audit(context.Background(), vault.AuditQuery{SpaceID: w.Space.ID, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var out []vault.AuditEvent
	for _, ev := range evs {
		if ev.Outcome == vault.OutcomeDenied {
			out = append(out, ev)
		}
	}
	return out
}
