package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kazzle/kazzle/internal/testenv"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

// Values typed into the UI; no response may ever carry them.
const (
	firstValue  = "sk_live_51HxZ2pLq8R7tY0uVbrowser1"
	secondValue = "sk_live_99AbCdEfGhIjKlMnObrowser2"
)

// responseLog keeps every response the browser and the test's own requests got.
type responseLog struct {
	mu        sync.Mutex
	responses []string
}

func (l *responseLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		var head bytes.Buffer
		w.Header().Write(&head)
		l.mu.Lock()
		l.responses = append(l.responses, r.Method+" "+r.URL.String()+"\n"+head.String()+"\n"+rec.body.String())
		l.mu.Unlock()
	})
}

type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (t *teeWriter) Write(p []byte) (int, error) {
	t.body.Write(p)
	return t.ResponseWriter.Write(p)
}

func (l *responseLog) check(t *testing.T, values ...string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, resp := range l.responses {
		for _, v := range values {
			if strings.Contains(resp, v) {
				t.Fatalf("a response holds a saved value: %.200s", resp)
			}
		}
	}
}

// chromium finds the browser: Debian's chromium, as .ci/run installs it.
func chromium(t *testing.T) string {
	return testenv.LookPath(t, "the admin UI's browser tests drive it: apt-get install chromium (.ci/run does)", "chromium", "chromium-browser", "google-chrome")
}

func browser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// The first action starts the browser and ties it to its context: this one, so that
	// the shorter contexts of later steps do not close it when they end.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// artifactDir is where browser tests leave screenshots: KAZZLE_TEST_ARTIFACTS, which
// .ci/run sets, or a folder in the system's temporary folder.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("KAZZLE_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "kazzle-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// uiWorld is a server over a fresh vault, on loopback TCP, with an admin key and a
// read-only key, logging every response.
func uiWorld(t *testing.T) (f *storetest.Fixture, admin, reader string, srv *httptest.Server, log *responseLog) {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f = storetest.NewFixture(t, store, vault.Options{})
	for name, role := range map[string]vault.Role{"alice": vault.RoleAdmin, "auditor": vault.RoleRead} {
		_, token, err := f.Vault.CreateAPIKey(ctx, f.Actor, vault.NewAPIKey{SpaceID: f.Space.ID, Name: name, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		if role == vault.RoleAdmin {
			admin = token
		} else {
			reader = token
		}
	}
	log = &responseLog{}
	srv = httptest.NewServer(log.wrap(New(f.Vault, Options{LoopbackOnly: true})))
	t.Cleanup(srv.Close)
	return f, admin, reader, srv, log
}

func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func TestAdminUIInABrowser(t *testing.T) {
	chrome := chromium(t)
	f, admin, reader, srv, log := uiWorld(t)
	b := browser(t, chrome)

	row := `tr[data-secret="STRIPE_SECRET_KEY"]`
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
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(b, chromedp.Text(css(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(v)
	}
	html := func() string {
		t.Helper()
		v, err := chromedp.Run(b, chromedp.OuterHTML(css("html")))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	do("sign in and add a secret",
		chromedp.Navigate(srv.URL+"/ui/"),
		chromedp.WaitVisible(css(`#key`)),
		chromedp.SendKeys(css(`#key`), admin),
		chromedp.Submit(css(`#key`)),
		chromedp.WaitVisible(css(`a.collection`)),
		chromedp.Click(css(`a.collection[href="/ui/collections/my-saas"]`)),
		chromedp.WaitVisible(css(`#add-secret`)),
		chromedp.Click(css(`#add-secret`)),
		chromedp.WaitVisible(css(`#name`)),
		chromedp.SendKeys(css(`#name`), "STRIPE_SECRET_KEY"),
		chromedp.SetValue(css(`#environment`), "prod"),
		chromedp.SendKeys(css(`#field_value`), firstValue),
		chromedp.Submit(css(`#name`)),
		chromedp.WaitVisible(css(row)),
	)
	if masked := text(row + ` td.masked`); masked != "sk_l****ser1" {
		t.Fatalf("the secrets page shows %q, want the masked value", masked)
	}
	if strings.Contains(html(), firstValue) {
		t.Fatal("the DOM of the secrets page holds the value")
	}
	screenshot, err := chromedp.Run(b, chromedp.FullScreenshot(100)) // quality 100 makes a PNG
	if err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(artifactDir(t), "ui-secrets.png")
	if err := os.WriteFile(shot, screenshot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the secrets page: %s", shot)

	// Edit: the form is empty, and saving makes version 2.
	do("open the edit form", chromedp.Click(css(row+` a.edit`)), chromedp.WaitVisible(css(`#field_value`)))
	prefill, err := chromedp.Run(b, chromedp.Value(css(`#field_value`)))
	if err != nil || prefill != "" || strings.Contains(html(), firstValue) {
		t.Fatalf("the edit form is pre-filled (%q, %v) or holds the value", prefill, err)
	}
	do("edit", chromedp.SendKeys(css(`#field_value`), secondValue), chromedp.Submit(css(`#field_value`)), chromedp.WaitVisible(css(row)))
	if v, masked := text(row+` td:nth-child(5)`), text(row+` td.masked`); v != "2" || masked != "sk_l****ser2" {
		t.Fatalf("after the edit: version %q, masked %q", v, masked)
	}

	// The versions, then delete with confirmation.
	do("versions", chromedp.Click(css(row+` a[href$="/versions"]`)), chromedp.WaitVisible(css(`table.versions`)))
	if n := count("table.versions tbody tr"); n != 2 {
		t.Fatalf("%d versions listed, want 2", n)
	}
	do("delete", chromedp.Navigate(srv.URL+"/ui/collections/my-saas"), chromedp.WaitVisible(css(row)), chromedp.Click(css(row+` a.delete`)),
		chromedp.WaitVisible(css(`#confirm-delete`)), chromedp.Click(css(`#confirm-delete`)), chromedp.WaitVisible(css(`#add-secret`)))
	if strings.Contains(html(), "STRIPE_SECRET_KEY") {
		t.Fatal("the secret is still listed after its deletion")
	}

	// Each action is in the audit view, and none of them read a value.
	do("audit", chromedp.Navigate(srv.URL+"/ui/audit"), chromedp.WaitVisible(css(`table.audit`)))
	actions, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("table.audit tbody tr")].map(r => r.dataset.action)`))
	if err != nil {
		t.Fatal(err)
	}
	seen := strings.Join(actions, " ")
	for _, want := range []string{"ui.signin", "secret.create", "secret.update", "secret.delete"} {
		if !strings.Contains(seen, want) {
			t.Errorf("the audit view lacks %s: %s", want, seen)
		}
	}
	if strings.Contains(seen, "secret.reveal") {
		t.Error("the UI revealed a value")
	}

	// A read-only key: everything it may read, no controls.
	f.Put(t, "dev", "READABLE", "readable-value-1234567")
	do("sign in with a read-only key",
		chromedp.Click(css(`.signout button`)),
		chromedp.WaitVisible(css(`#key`)),
		chromedp.SendKeys(css(`#key`), reader),
		chromedp.Submit(css(`#key`)),
		chromedp.WaitVisible(css(`a.collection`)),
		chromedp.Navigate(srv.URL+"/ui/collections/my-saas"),
		chromedp.WaitVisible(css(`tr[data-secret="READABLE"]`)),
	)
	if n := count(`#add-secret, a.edit, a.delete, form[method=post]:not(.signout)`); n != 0 {
		t.Fatalf("a read-only key sees %d controls to change secrets", n)
	}
	if n := count(`nav a[href="/ui/audit"]`); n != 0 {
		t.Fatal("a read-only key is offered the audit trail")
	}
	log.check(t, firstValue, secondValue, "readable-value-1234567")
}

// TestForgedFormsAreRefused: a change needs the session's CSRF token, an origin of
// this server, and a key allowed to make it.
func TestForgedFormsAreRefused(t *testing.T) {
	ctx := context.Background()
	f, admin, reader, srv, log := uiWorld(t)
	adminSess, otherAdminSess, readerSess := signIn(t, srv, admin, ""), signIn(t, srv, admin, ""), signIn(t, srv, reader, "")

	post := func(token, csrf, origin string) int {
		form := url.Values{"csrf": {csrf}, "type": {"string"}, "name": {"FORGED"}, "field_value": {firstValue}}
		req, err := http.NewRequest("POST", srv.URL+"/ui/collections/my-saas/new", strings.NewReader(form.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: "kazzle_session", Value: token})
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tc := range []struct {
		name, token, csrf, origin string
		want                      int
	}{
		{"no CSRF token", adminSess, "", srv.URL, http.StatusForbidden},
		{"another session's token", adminSess, csrfToken(readerSess), srv.URL, http.StatusForbidden},
		{"the token of another session of the same key", adminSess, csrfToken(otherAdminSess), srv.URL, http.StatusForbidden},
		{"a token made from the key", adminSess, csrfToken(admin), srv.URL, http.StatusForbidden},
		{"another origin", adminSess, csrfToken(adminSess), "https://evil.example", http.StatusForbidden},
		{"a read-only key", readerSess, csrfToken(readerSess), srv.URL, http.StatusForbidden},
		{"the API key as the cookie", admin, csrfToken(admin), srv.URL, http.StatusSeeOther},
		{"no session", "", "", srv.URL, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := post(tc.token, tc.csrf, tc.origin); got != tc.want {
				t.Fatalf("status %d, want %d", got, tc.want)
			}
		})
	}
	list, err := f.Vault.List(ctx, f.Space.ID, "my-saas", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == "FORGED" {
			t.Fatal("a forged form created a secret")
		}
	}
	// The real form goes through.
	if got := post(adminSess, csrfToken(adminSess), srv.URL); got != http.StatusSeeOther {
		t.Fatalf("the admin's own form: status %d, want 303", got)
	}
	log.check(t, firstValue)
}

// TestSessionCookieUnderTLS: under TLS the session cookie is Secure and __Host-, and
// every page says HSTS.
func TestSessionCookieUnderTLS(t *testing.T) {
	f, admin, _, _, _ := uiWorld(t)
	srv := httptest.NewTLSServer(New(f.Vault, Options{}))
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.PostForm(srv.URL+"/ui/signin", url.Values{"key": {admin}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-kazzle_session=", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("Set-Cookie %q lacks %s", cookie, want)
		}
	}
	if resp.Header.Get("Strict-Transport-Security") == "" || resp.Header.Get("Content-Security-Policy") != uiCSP {
		t.Errorf("security headers: %v", resp.Header)
	}
}
