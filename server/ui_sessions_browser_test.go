package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// neighbour is another service on the same host, on another port: browsers send it the
// host's cookies, whatever port set them, and let it set cookies for the host.
type neighbour struct {
	mu   sync.Mutex
	seen string // the last session cookie it was sent
}

func (n *neighbour) serve(plant *string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/plant" {
			http.SetCookie(w, &http.Cookie{Name: "kazzle_session", Value: *plant, Path: "/"})
		}
		if c, err := r.Cookie("kazzle_session"); err == nil {
			n.mu.Lock()
			n.seen = c.Value
			n.mu.Unlock()
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<!doctype html><title>neighbour</title><p id=done>ok</p>"))
	})
}

func (n *neighbour) cookie() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.seen
}

// TestAdminUISessionsInABrowser: in Chromium, with another service on another port of
// the host, a planted session does not survive the person's sign-in, the cookie that
// service sees is not the key and stops working at sign-out, and revoking the key ends
// the session.
func TestAdminUISessionsInABrowser(t *testing.T) {
	chrome := chromium(t)
	f, admin, reader, srv, log := uiWorld(t)
	planted := signIn(t, srv, reader, "") // the planter's own session
	var n neighbour
	other := httptest.NewServer(n.serve(&planted))
	t.Cleanup(other.Close)
	b := browser(t, chrome)
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		for i, step := range steps {
			ctx, cancel := context.WithTimeout(b, 15*time.Second)
			err := chromedp.Do(ctx, step)
			cancel()
			if err != nil {
				page, _ := chromedp.Run(b, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
				t.Fatalf("%s, step %d: %v\nthe page: %s", what, i+1, err, page)
			}
		}
	}
	who := func() string {
		t.Helper()
		v, err := chromedp.Run(b, chromedp.Text(css(`.who`)))
		if err != nil {
			t.Fatalf("who is signed in: %v", err)
		}
		return strings.TrimSpace(v)
	}

	do("the neighbour plants its session", chromedp.Navigate(other.URL+"/plant"), chromedp.WaitVisible(css(`#done`)))
	do("sign in as alice",
		chromedp.Navigate(srv.URL+"/ui/signin"),
		chromedp.WaitVisible(css(`#key`)),
		chromedp.SendKeys(css(`#key`), admin),
		chromedp.Submit(css(`#key`)),
		chromedp.WaitVisible(css(`a.collection`)),
	)
	if got := who(); got != "alice (admin)" {
		t.Fatalf("signed in as %q after the planted session, want alice", got)
	}
	do("visit the neighbour", chromedp.Navigate(other.URL+"/"), chromedp.WaitVisible(css(`#done`)))
	seen := n.cookie()
	if seen == "" || seen == planted || strings.Contains(seen, admin) {
		t.Fatalf("the neighbour sees the planted session or the key (%d characters), want alice's new session id", len(seen))
	}
	if status, page := uiGet(t, srv, "/ui/", seen); status != 200 || !strings.Contains(page, "alice (admin)") {
		t.Fatalf("the cookie the neighbour saw is not alice's live session: %d", status)
	}

	do("sign out", chromedp.Navigate(srv.URL+"/ui/"), chromedp.WaitVisible(css(`.signout button`)),
		chromedp.Click(css(`.signout button`)), chromedp.WaitVisible(css(`#key`)))
	if status, where := uiGet(t, srv, "/ui/", seen); status != http.StatusSeeOther || where != "/ui/signin" {
		t.Fatalf("the neighbour's copy of the cookie after sign-out: %d %s, want a redirect to sign in", status, where)
	}

	do("sign in with the read-only key",
		chromedp.SendKeys(css(`#key`), reader),
		chromedp.Submit(css(`#key`)),
		chromedp.WaitVisible(css(`a.collection`)),
	)
	key, err := f.Vault.Authenticate(context.Background(), reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Vault.RevokeAPIKey(context.Background(), f.Actor, f.Space.ID, key.ID); err != nil {
		t.Fatal(err)
	}
	do("the revoked key's session is over", chromedp.Navigate(srv.URL+"/ui/collections/my-saas"), chromedp.WaitVisible(css(`#key`)))
	log.check(t, admin, reader)
}
