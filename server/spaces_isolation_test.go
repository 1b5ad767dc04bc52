package server

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/internal/pgtest"
	"github.com/kazzle/kazzle/vault/postgres"
)

// probe is what a request aims at: B's objects, or objects no space has.
type probe struct {
	Coll, Env      string // a collection slug and an environment slug of it
	Secret, Field  string // a secret id and one of its fields
	Name           string // a secret name
	Key            string // an API key id
	Entry          string // an entry id
	Host           string // a git host
	NewColl        string // a collection slug to create
	NewEnv         string // an environment slug to create
	shared, create bool
}

// pairs are the names of p that differ from those of q, longest first, for replacing one
// by the other.
func (p probe) pairs(q probe) [][2]string {
	var out [][2]string
	for _, f := range [][2]string{{p.Coll, q.Coll}, {p.Env, q.Env}, {p.Secret, q.Secret}, {p.Name, q.Name}, {p.Key, q.Key},
		{p.Entry, q.Entry}, {p.Host, q.Host}, {p.NewColl, q.NewColl}, {p.NewEnv, q.NewEnv}} {
		if f[0] != f[1] {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return cmp.Compare(len(b[0]), len(a[0])) })
	return out
}

// isoReq is a request of a case: aimed by its probe, or plain (no probe: it must
// answer with A's data only).
type isoReq struct {
	method, path string
	body         any
	plain        bool
}

type routeCase struct {
	pattern string
	// destructive cases do not run with probes whose collection A has too: they would
	// rightly change A.
	destructive bool
	reqs        func(w *isoWorld, n probe) []isoReq
}

func aimed(method, path string, body any) isoReq {
	return isoReq{method: method, path: path, body: body}
}
func plain(method, path string, body any) isoReq {
	return isoReq{method: method, path: path, body: body, plain: true}
}
func ref(id, field string) string { return "${secret." + id + "." + field + "}" }

// routeCases has a case for every route of the API. Each aims the route at B's
// objects, which A's keys must find answered as missing, and asks plain questions
// whose answers must hold A's data only.
var routeCases = []routeCase{
	{pattern: "GET /v1/collections", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{plain("GET", "/v1/collections", nil)}
	}},
	{pattern: "POST /v1/collections", reqs: func(w *isoWorld, n probe) []isoReq {
		if !n.create {
			return nil
		}
		return []isoReq{aimed("POST", "/v1/collections", api.CreateCollectionRequest{Slug: n.NewColl})}
	}},
	{pattern: "DELETE /v1/collections/{collection}", destructive: true, reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("DELETE", "/v1/collections/"+n.Coll, nil)}
	}},
	{pattern: "GET /v1/collections/{collection}/environments", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("GET", "/v1/collections/"+n.Coll+"/environments", nil), plain("GET", "/v1/collections/my-saas/environments", nil)}
	}},
	{pattern: "POST /v1/collections/{collection}/environments", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("POST", "/v1/collections/"+n.Coll+"/environments", api.CreateEnvironmentRequest{Slug: n.NewEnv})}
	}},
	{pattern: "DELETE /v1/collections/{collection}/environments/{environment}", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("DELETE", "/v1/collections/"+n.Coll+"/environments/"+n.Env+"?revoke_keys=true", nil)}
	}},
	{pattern: "PATCH /v1/collections/{collection}/environments/{environment}", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("PATCH", "/v1/collections/"+n.Coll+"/environments/"+n.Env, api.RenameEnvironmentRequest{Slug: "renamed"})}
	}},
	{pattern: "POST /v1/collections/{collection}/diff", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{
			aimed("POST", "/v1/collections/"+n.Coll+"/diff", api.DiffRequest{Environments: []string{n.Env, "dev"}}),
			aimed("POST", "/v1/collections/"+n.Coll+"/diff", api.DiffRequest{Environments: []string{"dev", "prod"}}),
			plain("POST", "/v1/collections/my-saas/diff", api.DiffRequest{Environments: []string{"dev", "prod"}}),
		}
	}},
	{pattern: "GET /v1/collections/{collection}/secrets", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{
			aimed("GET", "/v1/collections/"+n.Coll+"/secrets", nil),
			aimed("GET", "/v1/collections/"+n.Coll+"/secrets?environment="+n.Env, nil),
			plain("GET", "/v1/collections/my-saas/secrets", nil),
			plain("GET", "/v1/collections/my-saas/secrets?environment=dev", nil),
		}
	}},
	{pattern: "POST /v1/collections/{collection}/check", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("POST", "/v1/collections/"+n.Coll+"/check", nil), plain("POST", "/v1/collections/my-saas/check", nil)}
	}},
	{pattern: "POST /v1/secrets", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{
			aimed("POST", "/v1/secrets", api.CreateSecretRequest{Collection: n.Coll, Environment: n.Env, Name: "PROBE", Fields: map[string]string{"value": "probe-value-0001"}}),
			aimed("POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "dev", Name: "PROBE_REF", Fields: map[string]string{"value": ref(n.Secret, n.Field)}}),
			aimed("POST", "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "dev", Name: "PROBE_NAME", Fields: map[string]string{"value": ref(n.Name, n.Field)}}),
		}
	}},
	{pattern: "GET /v1/secrets/{id}", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("GET", "/v1/secrets/"+n.Secret, nil)}
	}},
	{pattern: "PUT /v1/secrets/{id}", reqs: func(w *isoWorld, n probe) []isoReq {
		own := w.a.secrets["string"]
		return []isoReq{
			aimed("PUT", "/v1/secrets/"+n.Secret, api.UpdateSecretRequest{Version: 1, Fields: map[string]string{n.Field: "probe-value-0002"}, Merge: true}),
			aimed("PUT", "/v1/secrets/"+own, api.UpdateSecretRequest{Version: w.version(own), Fields: map[string]string{"value": ref(n.Secret, n.Field)}}),
		}
	}},
	{pattern: "DELETE /v1/secrets/{id}", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("DELETE", "/v1/secrets/"+n.Secret+"?version=1", nil)}
	}},
	{pattern: "POST /v1/secrets/{id}/reveal", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("POST", "/v1/secrets/"+n.Secret+"/reveal", nil)}
	}},
	{pattern: "GET /v1/secrets/{id}/versions", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("GET", "/v1/secrets/"+n.Secret+"/versions", nil)}
	}},
	{pattern: "POST /v1/secrets/{id}/rollback", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("POST", "/v1/secrets/"+n.Secret+"/rollback", api.RollbackRequest{To: 1, Version: 1})}
	}},
	{pattern: "POST /v1/secrets/{id}/totp", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("POST", "/v1/secrets/"+n.Secret+"/totp", nil)}
	}},
	{pattern: "POST /v1/resolve", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{
			aimed("POST", "/v1/resolve", api.ResolveRequest{Collection: n.Coll, Environment: n.Env}),
			aimed("POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev", Names: []string{n.Name}}),
			plain("POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev"}),
			plain("POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "prod", Scan: true}),
		}
	}},
	{pattern: "POST /v1/templates", reqs: func(w *isoWorld, n probe) []isoReq {
		own := ref(w.a.secrets["string"], "value")
		return []isoReq{
			aimed("POST", "/v1/templates", api.TemplatesRequest{Templates: []string{ref(n.Secret, n.Field)}}),
			aimed("POST", "/v1/templates", api.TemplatesRequest{Templates: []string{own, "x-" + ref(n.Secret, n.Field)}}),
			plain("POST", "/v1/templates", api.TemplatesRequest{Templates: []string{own}}),
		}
	}},
	{pattern: "POST /v1/git/credential", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{
			aimed("POST", "/v1/git/credential", api.GitCredentialRequest{Protocol: "https", Host: n.Host, Path: "org/repo"}),
			plain("POST", "/v1/git/credential", api.GitCredentialRequest{Protocol: "https", Host: "git.shared.example", Path: "org/repo"}),
		}
	}},
	{pattern: "GET /v1/keys", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{plain("GET", "/v1/keys", nil)}
	}},
	{pattern: "POST /v1/keys", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("POST", "/v1/keys", api.CreateAPIKeyRequest{Name: "probe-key", Role: "read", Collection: n.Coll, Environment: n.Env})}
	}},
	{pattern: "DELETE /v1/keys/{id}", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("DELETE", "/v1/keys/"+n.Key, nil)}
	}},
	{pattern: "GET /v1/audit", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("GET", "/v1/audit?actor="+n.Key, nil), plain("GET", "/v1/audit?limit=10000", nil)}
	}},
	{pattern: "POST /v1/entries", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("POST", "/v1/entries", api.CreateEntryRequest{Collection: n.Coll, Environment: n.Env, Name: "PROBE_ENTRY"})}
	}},
	{pattern: "GET /v1/entries", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{plain("GET", "/v1/entries", nil)}
	}},
	{pattern: "GET /v1/entries/{id}", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("GET", "/v1/entries/"+n.Entry, nil), aimed("GET", "/v1/entries/"+n.Entry+"?wait=1", nil)}
	}},
	{pattern: "POST /v1/entries/{id}/fill", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{
			aimed("POST", "/v1/entries/"+n.Entry+"/fill", api.FillEntryRequest{Fields: map[string]string{"value": "probe-value-0003"}}),
			aimed("POST", "/v1/entries/"+w.a.entry+"/fill", api.FillEntryRequest{Fields: map[string]string{"value": ref(n.Secret, n.Field)}}),
		}
	}},
	{pattern: "DELETE /v1/entries/{id}", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{aimed("DELETE", "/v1/entries/"+n.Entry, nil)}
	}},
	{pattern: "GET /v1/whoami", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{plain("GET", "/v1/whoami", nil)}
	}},
	// The operator's routes refuse every key of a space before looking at a name: A's
	// keys list nothing, create nothing, and do not delete B (checkUnchanged).
	{pattern: "GET /v1/spaces", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{plain("GET", "/v1/spaces?deleted=true", nil)}
	}},
	{pattern: "POST /v1/spaces", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{plain("POST", "/v1/spaces", api.CreateSpaceRequest{Name: w.b.space.Name})}
	}},
	{pattern: "DELETE /v1/spaces/{name}", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{plain("DELETE", "/v1/spaces/"+w.b.space.Name, nil), aimed("DELETE", "/v1/spaces/"+n.Coll, nil)}
	}},
	{pattern: "GET /v1/server/audit", reqs: func(w *isoWorld, n probe) []isoReq {
		return []isoReq{plain("GET", "/v1/server/audit?limit=10000", nil)}
	}},
}

func (w *isoWorld) version(id string) int {
	s, err := w.f.Store.Secret(context.Background(), w.a.space.ID, id)
	if err != nil {
		return 0
	}
	return s.Version
}

// probes aim at each of B's secrets (and keys, in turn), in B's own collection and
// environment, and in the collection slug both spaces have; each with its twin naming
// nothing that exists.
func (w *isoWorld) probes() [][2]probe {
	b := w.b
	var out [][2]probe
	for i, k := range spaceKinds {
		name := b.names[k.kind]
		if k.kind == "string" { // API_TOKEN: A has one too
			name = b.names["only"]
		}
		aim := probe{Coll: b.only, Env: b.stage, Secret: b.secrets[k.kind], Field: k.field, Name: name,
			Key: b.keyIDs[spaceRoles[i%len(spaceRoles)]], Entry: b.entry, Host: b.gitHost, NewColl: "b-extra", NewEnv: "b-extra-env", create: i == 0}
		none := probe{Coll: "absent-coll", Env: "absent-env", Secret: randomID(), Field: k.field, Name: "ABSENT_NAME",
			Key: randomID(), Entry: randomEntryID(), Host: "git.absent.example", NewColl: "absent-new", NewEnv: "absent-new-env", create: i == 0}
		out = append(out, [2]probe{aim, none})
	}
	// my-saas is A's too: B's environment of it, and B's secrets, must look missing there.
	aim, none := out[1][0], out[1][1]
	aim.Coll, none.Coll, aim.shared, none.shared, aim.create, none.create = "my-saas", "my-saas", true, true, false, false
	none.Secret, none.Key, none.Entry = randomID(), randomID(), randomEntryID()
	out = append(out, [2]probe{aim, none})
	// Collections and environments named by id: B's, and B's dev of my-saas, whose slug A
	// has too.
	aim, none = out[2][0], out[2][1]
	aim.Coll, aim.Env, none.Coll, none.Env, aim.create, none.create = b.onlyID, b.stageID, randomID(), randomID(), false, false
	none.Secret, none.Key, none.Entry = randomID(), randomID(), randomEntryID()
	out = append(out, [2]probe{aim, none})
	aim, none = out[3][0], out[3][1]
	aim.Coll, aim.Env, none.Coll, none.Env, aim.shared, none.shared, aim.create, none.create = "my-saas", b.devID, "my-saas", randomID(), true, true, false, false
	none.Secret, none.Key, none.Entry = randomID(), randomID(), randomEntryID()
	return append(out, [2]probe{aim, none})
}

// TestNoKeyOfOneSpaceReachesAnother: every route of the API, asked by each of A's keys
// about B's collections, environments, secrets of every type, keys, entries, git hosts
// and secret names (in paths, bodies, references and queries), answers exactly as it does
// for names that exist nowhere, or with A's data alone; and B is the same afterwards.
func TestNoKeyOfOneSpaceReachesAnother(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { noKeyOfOneSpaceReachesAnother(t, newIsoWorld(t)) })
	t.Run("postgres", func(t *testing.T) {
		store, err := postgres.Open(context.Background(), pgtest.Database(t))
		if err != nil {
			t.Fatal(err)
		}
		noKeyOfOneSpaceReachesAnother(t, newIsoWorldOn(t, store))
	})
}

func noKeyOfOneSpaceReachesAnother(t *testing.T, w *isoWorld) {
	cases := map[string]routeCase{}
	for _, c := range routeCases {
		cases[c.pattern] = c
	}
	patterns := w.api.patterns
	for _, p := range patterns {
		if _, ok := cases[p]; !ok {
			t.Errorf("route %s has no case in routeCases: add one that aims it at another space", p)
		}
	}
	for _, c := range routeCases {
		if !slices.Contains(patterns, c.pattern) {
			t.Errorf("routeCases has %s, which the server does not register", c.pattern)
		}
	}
	before, beforeAudit := w.snapshot(t, w.b)
	markers := w.b.markers()
	sentEver := map[string]bool{}
	requests := 0
	send := func(t *testing.T, token string, r isoReq) (int, string, func(string) bool) {
		t.Helper()
		body, _ := json.Marshal(r.body)
		asked := r.path + string(body)
		for _, m := range markers {
			if strings.Contains(asked, m) {
				sentEver[m] = true
			}
		}
		requests++
		status, out := w.call(t, token, r.method, r.path, r.body)
		inRequest := func(m string) bool { return strings.Contains(asked, m) }
		if strings.HasPrefix(r.path, "/v1/audit") { // A's trail records what A asked
			inRequest = func(m string) bool { return sentEver[m] }
		}
		return status, out, inRequest
	}
	probes := w.probes()
	for _, role := range spaceRoles {
		token := w.a.tokens[role]
		plainDone := map[string]bool{}
		for _, c := range routeCases {
			t.Run(role+"/"+c.pattern, func(t *testing.T) {
				for _, pr := range probes {
					if c.destructive && pr[0].shared {
						continue
					}
					aimedAt, twins := c.reqs(w, pr[0]), []isoReq(nil)
					for i, r := range aimedAt {
						if r.plain {
							body, _ := json.Marshal(r.body)
							if id := r.method + r.path + string(body); !plainDone[id] {
								plainDone[id] = true
								status, out, sent := send(t, token, r)
								if found := leaks(out, markers, sent); len(found) > 0 {
									t.Errorf("%s %s answers %d with B's %q: %.300s", r.method, r.path, status, found, out)
								}
							}
							continue
						}
						status, out, sent := send(t, token, r)
						if twins == nil {
							twins = c.reqs(w, pr[1])
						}
						tw := twins[i]
						twStatus, twOut, _ := send(t, token, tw)
						w.compare(t, r, tw, pr, status, out, twStatus, twOut, markers, sent)
					}
				}
			})
		}
	}
	w.checkUnchanged(t, w.b, before, beforeAudit)
	t.Logf("%d routes, %d probes, %d keys: %d requests", len(patterns), len(probes), len(spaceRoles), requests)
}

// compare requires the answer to a request aimed at B to be the one its twin, naming
// nothing that exists, got: the same error once B's names are replaced by the twin's,
// or, when both succeed (on A's own data), none of B's data.
func (w *isoWorld) compare(t *testing.T, r, tw isoReq, pr [2]probe, status int, out string, twStatus int, twOut string, markers []string, sent func(string) bool) {
	t.Helper()
	what := r.method + " " + r.path
	if status != twStatus {
		t.Errorf("%s answers %d, the same request about nothing %d:\n%s\n%s", what, status, twStatus, out, twOut)
		return
	}
	if status >= 400 {
		replaced := out
		for _, p := range pr[0].pairs(pr[1]) {
			replaced = strings.ReplaceAll(replaced, p[0], p[1])
		}
		if replaced != twOut {
			t.Errorf("%s answers otherwise than the same request about nothing:\n%s\n%s", what, out, twOut)
		}
	}
	if found := leaks(out, markers, sent); len(found) > 0 {
		t.Errorf("%s answers %d with B's %q: %.300s", what, status, found, out)
	}
}
