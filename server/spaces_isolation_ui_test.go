package server

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// uiDo sends a UI request with a session cookie (a POST from the server's own origin)
// and returns the status and the page, or where a redirect goes.
func (w *isoWorld) uiDo(t *testing.T, session string, r isoReq) (int, string) {
	t.Helper()
	var body io.Reader
	if form, ok := r.body.(url.Values); ok {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(r.method, w.srv.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", w.srv.URL)
	}
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: session})
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, "Location: " + loc + "\n" + string(page)
	}
	return resp.StatusCode, string(page)
}

// uiCase is what the pages of a UI route are asked; a form gets the session's CSRF
// token, so that its refusal is the page's own.
type uiCase struct {
	pattern string
	reqs    func(w *isoWorld, n probe, csrf string) []isoReq
}

func form(csrf string, kv ...string) url.Values {
	v := url.Values{"csrf": {csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

var uiCases = []uiCase{
	{"GET /ui/{$}", func(w *isoWorld, n probe, csrf string) []isoReq { return []isoReq{plain("GET", "/ui/", nil)} }},
	{"GET /ui/signin", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("GET", "/ui/signin?next="+url.QueryEscape("/ui/enter/"+n.Entry), nil)}
	}},
	// Signing in and out make and end sessions, which the table's requests need: the
	// test does both for each key after them (signInOut).
	{"POST /ui/signin", func(w *isoWorld, n probe, csrf string) []isoReq { return nil }},
	{"POST /ui/signout", func(w *isoWorld, n probe, csrf string) []isoReq { return nil }},
	{"GET /ui/style.css", func(w *isoWorld, n probe, csrf string) []isoReq { return []isoReq{plain("GET", "/ui/style.css", nil)} }},
	{"GET /ui/collections/{collection}", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{
			aimed("GET", "/ui/collections/"+n.Coll, nil),
			aimed("GET", "/ui/collections/"+n.Coll+"?env="+n.Env, nil),
			aimed("GET", "/ui/collections/my-saas?env="+n.Env, nil),
			plain("GET", "/ui/collections/my-saas", nil),
			plain("GET", "/ui/collections/my-saas?env=dev", nil),
		}
	}},
	{"GET /ui/collections/{collection}/new", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("GET", "/ui/collections/"+n.Coll+"/new?env="+n.Env, nil)}
	}},
	{"POST /ui/collections/{collection}/new", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{
			aimed("POST", "/ui/collections/"+n.Coll+"/new", form(csrf, "type", "string", "name", "PROBE", "environment", n.Env, "field_value", "probe-value-0004")),
			aimed("POST", "/ui/collections/my-saas/new", form(csrf, "type", "string", "name", "PROBE_REF", "environment", "dev", "field_value", ref(n.Secret, n.Field))),
		}
	}},
	{"GET /ui/secrets/{id}/edit", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("GET", "/ui/secrets/"+n.Secret+"/edit", nil)}
	}},
	{"POST /ui/secrets/{id}/edit", func(w *isoWorld, n probe, csrf string) []isoReq {
		own := w.a.secrets["string"]
		return []isoReq{
			aimed("POST", "/ui/secrets/"+n.Secret+"/edit", form(csrf, "version", "1", "field_"+n.Field, "probe-value-0005")),
			aimed("POST", "/ui/secrets/"+own+"/edit", form(csrf, "version", strconv.Itoa(w.version(own)), "field_value", ref(n.Secret, n.Field))),
		}
	}},
	{"GET /ui/secrets/{id}/delete", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("GET", "/ui/secrets/"+n.Secret+"/delete", nil)}
	}},
	{"POST /ui/secrets/{id}/delete", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("POST", "/ui/secrets/"+n.Secret+"/delete", form(csrf, "version", "1"))}
	}},
	{"GET /ui/secrets/{id}/versions", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("GET", "/ui/secrets/"+n.Secret+"/versions", nil)}
	}},
	{"GET /ui/audit", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{plain("GET", "/ui/audit?limit=10000", nil), plain("GET", "/ui/audit?action=secret.reveal", nil)}
	}},
	{"GET /ui/enter/{id}", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("GET", "/ui/enter/"+n.Entry, nil)}
	}},
	{"POST /ui/enter/{id}", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{
			aimed("POST", "/ui/enter/"+n.Entry, form(csrf, "field_value", "probe-value-0006")),
			aimed("POST", "/ui/enter/"+w.a.entry, form(csrf, "field_value", ref(n.Secret, n.Field))),
		}
	}},
	{"GET /ui/entries", func(w *isoWorld, n probe, csrf string) []isoReq { return []isoReq{plain("GET", "/ui/entries", nil)} }},
	{"POST /ui/entries/{id}/cancel", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("POST", "/ui/entries/"+n.Entry+"/cancel", form(csrf))}
	}},
	{"/ui/", func(w *isoWorld, n probe, csrf string) []isoReq {
		return []isoReq{aimed("GET", "/ui/secrets/"+n.Secret, nil), aimed("GET", "/ui/collections/"+n.Coll+"/secrets/"+n.Secret, nil)}
	}},
}

// TestNoUISessionOfOneSpaceReachesAnother: signed in to the admin UI with each of A's
// keys, every page asked about B's collections, environments, secrets, entries and
// references (in the path, the query and forms with the session's valid CSRF token)
// answers as for names that exist nowhere, or with A's data alone; B's entry page shows
// nothing of the entry; and B is the same afterwards.
func TestNoUISessionOfOneSpaceReachesAnother(t *testing.T) {
	w := newIsoWorld(t)
	cases := map[string]uiCase{}
	for _, c := range uiCases {
		cases[c.pattern] = c
	}
	patterns := w.api.ui.Patterns()
	for _, p := range patterns {
		if _, ok := cases[p]; !ok {
			t.Errorf("UI route %s has no case in uiCases: add one that aims it at another space", p)
		}
	}
	for _, c := range uiCases {
		if !slices.Contains(patterns, c.pattern) {
			t.Errorf("uiCases has %s, which the UI does not register", c.pattern)
		}
	}
	before, beforeAudit := w.snapshot(t, w.b)
	markers := w.b.markers()
	sentEver := map[string]bool{}
	requests := 0
	send := func(t *testing.T, session string, r isoReq) (int, string, func(string) bool) {
		t.Helper()
		asked := r.path
		if f, ok := r.body.(url.Values); ok {
			asked += f.Encode()
			for _, vs := range f {
				asked += strings.Join(vs, "\n")
			}
		}
		for _, m := range markers {
			if strings.Contains(asked, m) || strings.Contains(asked, url.QueryEscape(m)) {
				sentEver[m] = true
			}
		}
		requests++
		status, out := w.uiDo(t, session, r)
		inRequest := func(m string) bool { return strings.Contains(asked, m) }
		if strings.HasPrefix(r.path, "/ui/audit") { // A's trail records what A asked
			inRequest = func(m string) bool { return sentEver[m] }
		}
		return status, out, inRequest
	}
	probes := w.probes()
	for _, role := range spaceRoles {
		session := signIn(t, w.srv, w.a.tokens[role], "")
		csrf := csrfToken(session)
		plainDone := map[string]bool{}
		for _, c := range uiCases {
			t.Run(role+"/"+c.pattern, func(t *testing.T) {
				for _, pr := range probes {
					aimedAt, twins := c.reqs(w, pr[0], csrf), []isoReq(nil)
					for i, r := range aimedAt {
						if r.plain {
							if id := r.method + r.path; !plainDone[id] {
								plainDone[id] = true
								status, out, sent := send(t, session, r)
								if found := leaks(out, markers, sent); len(found) > 0 {
									t.Errorf("%s %s answers %d with B's %q: %.300s", r.method, r.path, status, found, out)
								}
							}
							continue
						}
						status, out, sent := send(t, session, r)
						if twins == nil {
							twins = c.reqs(w, pr[1], csrf)
						}
						twStatus, twOut, _ := send(t, session, twins[i])
						w.compare(t, r, twins[i], pr, status, out, twStatus, twOut, markers, sent)
					}
				}
			})
		}
		t.Run(role+"/sign in and out", func(t *testing.T) { w.signInOut(t, role, session, csrf, probes[0], markers) })
	}
	w.checkUnchanged(t, w.b, before, beforeAudit)
	t.Logf("%d UI routes, %d probes, %d keys: %d requests", len(patterns), len(probes), len(spaceRoles), requests)
}

// signInOut signs in from B's entry's page, which leads back to that page as from an
// entry that does not exist (the page then shows nothing of it), and signs out.
func (w *isoWorld) signInOut(t *testing.T, role, session, csrf string, pr [2]probe, markers []string) {
	signin := func(n probe) isoReq {
		return isoReq{method: "POST", path: "/ui/signin", body: url.Values{"key": {w.a.tokens[role]}, "next": {"/ui/enter/" + n.Entry}}}
	}
	status, out := w.uiDo(t, "", signin(pr[0]))
	twStatus, twOut := w.uiDo(t, "", signin(pr[1]))
	if status != http.StatusSeeOther || !strings.Contains(out, "Location: /ui/enter/"+pr[0].Entry) {
		t.Errorf("sign-in from B's entry's page: %d %s", status, out)
	}
	w.compare(t, signin(pr[0]), signin(pr[1]), pr, status, out, twStatus, twOut, markers, func(m string) bool { return m == pr[0].Entry })
	signout := isoReq{method: "POST", path: "/ui/signout", body: url.Values{"csrf": {csrf}}}
	if status, out := w.uiDo(t, session, signout); status != http.StatusSeeOther || len(leaks(out, markers, func(string) bool { return false })) > 0 {
		t.Errorf("sign-out: %d %s", status, out)
	}
}
