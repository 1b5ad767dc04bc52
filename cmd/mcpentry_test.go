package cmd

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kazzle/kazzle/internal/testenv"
)

// The entry flow of kazzle mcp as a person meets it: the test client declares URL
// elicitation (or not), and a headless Chromium opens the entry's page, signs in and
// types the value, as the person would.

// elicitSlot is what the script's client does when kazzle mcp asks it to open a page:
// it records the request, and fills the page in the browser when a fill is armed.
type elicitSlot struct {
	mu      sync.Mutex
	asked   []*sdk.ElicitParams
	fill    *browserFill
	decline bool
	browser context.Context
}

// browserFill is a sign-in and a value to type into an entry's page.
type browserFill struct{ key, field, value string }

type elicitKey struct{}

func elicitOf(ts *testscript.TestScript) *elicitSlot {
	slot, _ := ts.Value(elicitKey{}).(*elicitSlot)
	if slot == nil {
		ts.Fatalf("no elicitation slot")
	}
	return slot
}

// handle is the client's elicitation handler.
func (s *elicitSlot) handle(ctx context.Context, req *sdk.ElicitRequest) (*sdk.ElicitResult, error) {
	s.mu.Lock()
	s.asked = append(s.asked, req.Params)
	fill, decline := s.fill, s.decline
	s.fill = nil
	s.mu.Unlock()
	if decline {
		return &sdk.ElicitResult{Action: "decline"}, nil
	}
	if fill != nil && req.Params.Mode == "url" {
		if err := s.fillPage(req.Params.URL, *fill); err != nil {
			return nil, err
		}
	}
	return &sdk.ElicitResult{Action: "accept"}, nil
}

// fillPage opens url in the script's browser, signs in with the key and types the value.
func (s *elicitSlot) fillPage(url string, f browserFill) error {
	b := s.browser
	for i, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(url),
		chromedp.WaitVisible(chromedp.CSS(`#key`)),
		chromedp.SendKeys(chromedp.CSS(`#key`), f.key),
		chromedp.Submit(chromedp.CSS(`#key`)),
		chromedp.WaitVisible(chromedp.CSS(`#field_` + f.field)),
		chromedp.SendKeys(chromedp.CSS(`#field_`+f.field), f.value),
		chromedp.Submit(chromedp.CSS(`#field_` + f.field)),
		chromedp.WaitVisible(chromedp.CSS(`p.done`)),
	} {
		sctx, cancel := context.WithTimeout(b, 15*time.Second)
		err := chromedp.Do(sctx, step)
		cancel()
		if err != nil {
			page, _ := chromedp.Run(b, chromedp.Evaluate[string](`location.pathname + "\n" + document.body.innerText`))
			return fmt.Errorf("fill the entry's page, step %d: %v; the page shows: %s", i+1, err, page)
		}
	}
	// The next fill signs in again.
	_, err := chromedp.Run(b, chromedp.Evaluate[string](`(document.querySelector(".signout button") || {click(){}}).click(), ""`))
	return err
}

// startBrowser starts headless Chromium for the script, once.
func (s *elicitSlot) startBrowser(ts *testscript.TestScript) {
	if s.browser != nil {
		return
	}
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		// Scripts skip without it by [!tools:chromium], which holds under CI=true.
		ts.Fatalf("no chromium (CI=%v): apt-get install chromium (.ci/run does)", testenv.CI())
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(ts.MkAbs("chromium")),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	ts.Defer(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		ts.Fatalf("start %s: %v", path, err)
	}
	s.browser = ctx
}

// cmdElicitFill arms the client: on the next URL elicitation, the browser signs in with
// the key in $KEYVAR and types the value of VALUE-FILE into FIELD. elicitfill decline
// has the client decline instead.
func cmdElicitFill(ts *testscript.TestScript, neg bool, args []string) {
	s := elicitOf(ts)
	if len(args) == 1 && args[0] == "decline" {
		s.mu.Lock()
		s.decline = true
		s.mu.Unlock()
		return
	}
	if neg || len(args) != 3 {
		ts.Fatalf("usage: elicitfill KEYVAR FIELD VALUE-FILE | elicitfill decline")
	}
	s.startBrowser(ts)
	s.mu.Lock()
	s.fill = &browserFill{key: ts.Getenv(args[0]), field: args[1], value: strings.TrimSuffix(ts.ReadFile(args[2]), "\n")}
	s.decline = false
	s.mu.Unlock()
}

// cmdBrowserFill opens the page at $URLVAR now, signs in with $KEYVAR and types the
// value of VALUE-FILE into FIELD: the person who got the link from the assistant.
func cmdBrowserFill(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 4 {
		ts.Fatalf("usage: browserfill URLVAR KEYVAR FIELD VALUE-FILE")
	}
	s := elicitOf(ts)
	s.startBrowser(ts)
	ts.Check(s.fillPage(ts.Getenv(args[0]), browserFill{key: ts.Getenv(args[1]), field: args[2], value: strings.TrimSuffix(ts.ReadFile(args[3]), "\n")}))
}

// cmdElicited prints each elicitation the client received: its mode, URL, id and message.
func cmdElicited(ts *testscript.TestScript, neg bool, args []string) {
	s := elicitOf(ts)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.asked {
		fmt.Fprintf(ts.Stdout(), "mode=%s url=%s id=%s\nmessage=%s\n", p.Mode, p.URL, p.ElicitationID, p.Message)
	}
	if len(s.asked) == 0 && !neg {
		ts.Fatalf("no elicitation arrived")
	}
	if len(s.asked) > 0 && neg {
		ts.Fatalf("%d elicitations arrived", len(s.asked))
	}
}
