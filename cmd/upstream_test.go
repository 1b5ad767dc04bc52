package cmd

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// upstream is an HTTPS server on loopback that records what it receives.
type upstream struct {
	mu       sync.Mutex
	requests []string // each request's method, URL, headers and body, as text
}

// upstreams are a script's upstreams, by name.
type upstreams struct {
	mu     sync.Mutex
	byName map[string]*upstream
}

type upstreamsKey struct{}

func scriptUpstream(ts *testscript.TestScript, name string) *upstream {
	ups := ts.Value(upstreamsKey{}).(*upstreams)
	ups.mu.Lock()
	defer ups.mu.Unlock()
	return ups.byName[name]
}

// cmdStartTLS starts an HTTPS upstream on loopback: NAME is its URL and NAME_HOST its
// host:port; its certificate is added to $WORK/tls-roots.pem, which SSL_CERT_FILE names
// for the commands the script starts. It records each request's method, URL, headers,
// Basic credentials (decoded, as "basic: USER:PASSWORD"), body and form. /redirect?to=URL
// answers 302 to URL; /echo answers with what it recorded of the request; anything else
// answers 200 with "ok". tlshits checks what it received.
func cmdStartTLS(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: starttls NAME")
	}
	up := &upstream{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "upstream: reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
		for _, k := range slices.Sorted(maps.Keys(r.Header)) {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(r.Header[k], ", "))
		}
		if user, pass, ok := r.BasicAuth(); ok {
			fmt.Fprintf(&b, "basic: %s:%s\n", user, pass)
		}
		if len(body) > 0 {
			fmt.Fprintf(&b, "body: %s\n", body)
		}
		if err := r.ParseForm(); err == nil {
			fmt.Fprintf(&b, "form: %s\n", r.PostForm.Encode())
		}
		up.mu.Lock()
		up.requests = append(up.requests, b.String())
		up.mu.Unlock()
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, r.URL.Query().Get("to"), http.StatusFound)
			return
		}
		if r.URL.Path == "/echo" {
			io.WriteString(w, b.String())
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	ts.Defer(srv.Close)
	roots := ts.MkAbs("tls-roots.pem")
	f, err := os.OpenFile(roots, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	ts.Check(err)
	ts.Check(pem.Encode(f, &pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}))
	ts.Check(f.Close())
	u, err := url.Parse(srv.URL)
	ts.Check(err)
	ts.Setenv(args[0], srv.URL)
	ts.Setenv(args[0]+"_HOST", u.Host)
	ts.Setenv("SSL_CERT_FILE", roots)
	ups := ts.Value(upstreamsKey{}).(*upstreams)
	ups.mu.Lock()
	ups.byName[args[0]] = up
	ups.mu.Unlock()
}

// cmdTLSHits checks that upstream NAME received N requests and, for each VALUE-FILE,
// that the value reached it (or, with !, that none of them did). It prints what the
// upstream recorded, for stdout to check.
func cmdTLSHits(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: [!] tlshits NAME N [VALUE-FILE…]")
	}
	up := scriptUpstream(ts, args[0])
	if up == nil {
		ts.Fatalf("no upstream %s: run starttls first", args[0])
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	up.mu.Lock()
	got := append([]string(nil), up.requests...)
	up.mu.Unlock()
	if len(got) != want {
		ts.Fatalf("%s received %d requests, want %d", args[0], len(got), want)
	}
	all := strings.Join(got, "\n")
	fmt.Fprint(ts.Stdout(), all)
	for _, f := range args[2:] {
		v := strings.TrimSuffix(ts.ReadFile(f), "\n")
		if strings.Contains(all, v) == neg {
			ts.Fatalf("%s: value of %s received = %v", args[0], filepath.Base(f), !neg)
		}
	}
}
