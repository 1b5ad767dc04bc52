package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// enteredByHand is what the person types into the entry's page; no response but the
// asker's resolve may hold it.
const enteredByHand = "sk_live_51EnteredByHandInTheBrowser9"

// postEntry posts the entry form of id as the browser would, with a session cookie, the
// session's CSRF token and an Origin.
func postEntry(t *testing.T, srv *httptest.Server, id, session, origin, value string) int {
	t.Helper()
	form := url.Values{"csrf": {csrfToken(session)}, "field_value": {value}}
	req, err := http.NewRequest("POST", srv.URL+"/ui/enter/"+id, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: session})
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestEntryPageInABrowser: an entry made through the API is filled in headless
// Chromium by a person who signs in on its page; the asker's wait reports it done and a
// resolve gets the value. The page refuses a second value, a key without write access,
// an expired entry, a cross-origin post and an API key as the value.
func TestEntryPageInABrowser(t *testing.T) {
	chrome := chromium(t)
	f, admin, reader, srv, log := uiWorld(t)
	ctx := context.Background()
	_, assistantToken, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: "assistant", Role: vault.RoleWrite})
	if err != nil {
		t.Fatal(err)
	}
	asker, err := api.NewClient(srv.URL, assistantToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	ask := func(name string) api.Entry {
		t.Helper()
		e, err := asker.CreateEntry(ctx, api.CreateEntryRequest{Collection: "my-saas", Environment: "prod", Name: name,
			Message: "Paste the live key from https://dashboard.stripe.com <b>now</b>"})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	b := browser(t, chrome)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, step := range steps {
			sctx, cancel := context.WithTimeout(b, 15*time.Second)
			err := chromedp.Do(sctx, step)
			cancel()
			if err != nil {
				page, _ := chromedp.Run(b, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
				t.Fatalf("%s, step %d: %v\nthe page: %s", what, i+1, err, page)
			}
		}
	}
	eval := func(js string) string {
		t.Helper()
		v, err := chromedp.Run(b, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	forms := func() string { return eval(`String(document.querySelectorAll("#enter").length)`) }
	signInAs := func(key string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(chromedp.WaitVisible(css(`#key`)), chromedp.SendKeys(css(`#key`), key), chromedp.Submit(css(`#key`)))
	}

	// The person opens the link, signs in, and lands back on the entry.
	e := ask("STRIPE_KEY")
	do("open the entry and sign in", chromedp.Navigate(srv.URL+e.Path), signInAs(admin), chromedp.WaitVisible(css(`#field_value`)))
	if got := eval(`location.pathname`); got != e.Path {
		t.Fatalf("after the sign-in the browser is at %s, want the entry", got)
	}
	if who, msg := eval(`document.querySelector(".asker").innerText`), eval(`document.querySelector("blockquote.untrusted").innerText`); who != "assistant" ||
		msg != "Paste the live key from https://dashboard.stripe.com <b>now</b>" || eval(`String(document.querySelectorAll("blockquote.untrusted a, blockquote.untrusted b").length)`) != "0" {
		t.Fatalf("the page shows the asker %q and the message %q, want them as plain text", who, msg)
	}
	if typ := eval(`document.querySelector("#field_value").type`); typ != "password" {
		t.Fatalf("the value input is a %s input", typ)
	}

	// An API key typed by mistake is refused, and the entry stays open.
	do("type an API key", chromedp.SendKeys(css(`#field_value`), admin), chromedp.Submit(css(`#field_value`)), chromedp.WaitVisible(css(`p.error`)))
	if msg := eval(`document.querySelector("p.error").innerText`); !strings.Contains(msg, "API key") || strings.Contains(eval(`document.documentElement.outerHTML`), admin) {
		t.Fatalf("the refusal of an API key: %q, or the page holds the key", msg)
	}
	do("type the value", chromedp.SendKeys(css(`#field_value`), enteredByHand), chromedp.Submit(css(`#field_value`)), chromedp.WaitVisible(css(`p.done`)))

	// The asker learns it is done, with a reference; a resolve gets the value.
	done, err := asker.WaitEntry(ctx, e.ID, 5*time.Second)
	if err != nil || done.Status != api.EntryDone || done.DoneBy != "alice" || len(done.References) != 1 {
		t.Fatalf("the asker's wait: %+v, %v", done, err)
	}
	vars, err := asker.Resolve(ctx, api.ResolveRequest{Collection: "my-saas", Environment: "prod", Names: []string{"STRIPE_KEY"}})
	if err != nil || len(vars) != 1 || vars[0].Value != enteredByHand || vars[0].SecretID != done.SecretID {
		t.Fatalf("resolve after the entry: %d vars, %v", len(vars), err)
	}

	// A second value: the page says it is done and has no form; a post is refused.
	do("open the entry again", chromedp.Navigate(srv.URL+e.Path), chromedp.WaitVisible(css(`p.error`)))
	if forms() != "0" || !strings.Contains(eval(`document.querySelector("p.error").innerText`), "filled already") {
		t.Fatal("a done entry still offers its form")
	}
	adminSess := signIn(t, srv, admin, "")
	if status := postEntry(t, srv, e.ID, adminSess, srv.URL, "second-value-from-a-post"); status != http.StatusConflict {
		t.Fatalf("a second post: %d, want 409", status)
	}
	if h, _ := f.Vault.History(ctx, f.Space.ID, done.SecretID); len(h) != 1 {
		t.Fatalf("the secret has %d versions after a second post, want 1", len(h))
	}

	// The page's headers.
	req, _ := http.NewRequest("GET", srv.URL+e.Path, nil)
	req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: adminSess})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Referrer-Policy") != "no-referrer" || resp.Header.Get("Content-Security-Policy") != uiCSP {
		t.Fatalf("entry page headers: %v", resp.Header)
	}

	// A cross-origin post, with the session's cookie and token, is refused.
	crossed := ask("CROSSED")

	// The list of pending entries shows who asked for what, and cancels one.
	cancelled := ask("CANCELLED")
	do("list the entries", chromedp.Navigate(srv.URL+"/ui/entries"), chromedp.WaitVisible(css(`tr[data-entry="`+cancelled.ID+`"]`)))
	if row := eval(`document.querySelector('tr[data-entry="` + cancelled.ID + `"]').innerText`); !strings.Contains(row, "CANCELLED") ||
		!strings.Contains(row, "my-saas/prod") || !strings.Contains(row, "assistant") || eval(`String(document.querySelectorAll('tr[data-entry="`+e.ID+`"]').length)`) != "0" {
		t.Fatalf("the entries page shows %q, or lists a done entry", row)
	}
	// The page after the cancel lists pending entries only: the row goes once it is done.
	do("cancel an entry", chromedp.Click(css(`tr[data-entry="`+cancelled.ID+`"] button.cancel`)), chromedp.WaitNotPresent(css(`tr[data-entry="`+cancelled.ID+`"]`)))
	if got, _ := asker.Entry(ctx, cancelled.ID); got.Status != api.EntryCancelled {
		t.Fatalf("after cancelling in the UI the entry is %s", got.Status)
	}
	if status := postEntry(t, srv, crossed.ID, adminSess, "https://evil.example", "cross-origin-value-1"); status != http.StatusForbidden {
		t.Fatalf("a cross-origin post: %d, want 403", status)
	}
	if got, _ := asker.Entry(ctx, crossed.ID); got.Status != api.EntryPending {
		t.Fatalf("after a cross-origin post the entry is %s", got.Status)
	}

	// A key without write access sees no entry.
	readable := ask("READ_ONLY")
	do("sign in with a read key", chromedp.Click(css(`.signout button`)), chromedp.WaitVisible(css(`#key`)), chromedp.Navigate(srv.URL+readable.Path), signInAs(reader), chromedp.WaitVisible(css(`p.error`)))
	if forms() != "0" || !strings.Contains(eval(`document.body.innerText`), "not found") {
		t.Fatalf("a read key's view of an entry: %s", eval(`document.body.innerText`))
	}
	if status := postEntry(t, srv, readable.ID, signIn(t, srv, reader, ""), srv.URL, "read-key-value-1"); status != http.StatusNotFound && status != http.StatusForbidden {
		t.Fatalf("a read key's post: %d", status)
	}

	// Past its time the entry refuses a value.
	late := ask("LATE")
	f.Clock.Advance(vault.EntryLifetime + time.Minute)
	do("open an expired entry", chromedp.Click(css(`.signout button`)), chromedp.WaitVisible(css(`#key`)), chromedp.Navigate(srv.URL+late.Path), signInAs(admin), chromedp.WaitVisible(css(`p.error`)))
	if forms() != "0" || !strings.Contains(eval(`document.querySelector("p.error").innerText`), "expired") {
		t.Fatal("an expired entry still offers its form")
	}
	if status := postEntry(t, srv, late.ID, signIn(t, srv, admin, ""), srv.URL, "late-value-1"); status != http.StatusConflict {
		t.Fatalf("a post to an expired entry: %d, want 409", status)
	}
	// Only the asker's resolve carries the value; no page, and no other answer.
	log.mu.Lock()
	kept := log.responses[:0]
	for _, resp := range log.responses {
		if !strings.HasPrefix(resp, "POST /v1/resolve\n") {
			kept = append(kept, resp)
		}
	}
	log.responses = kept
	log.mu.Unlock()
	log.check(t, enteredByHand, admin, "second-value-from-a-post", "cross-origin-value-1", "read-key-value-1", "late-value-1")
}
