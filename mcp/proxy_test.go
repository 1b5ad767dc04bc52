package mcp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/http/httpproxy"
)

// TestABoundLoopbackValueNeverGoesThroughAProxy: with HTTP_PROXY set where kazzle mcp
// runs, Go sends a request for localhost straight to it but one for LOCALHOST or
// localhost. to the proxy, which both name the host the value is bound to: the value
// would travel in plain text to another machine, whose own localhost then gets it.
func TestABoundLoopbackValueNeverGoesThroughAProxy(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	var mu sync.Mutex
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.String()+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Write([]byte("from the proxy"))
	}))
	defer proxy.Close()
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			// The same origin, spelled as the proxy rules do not know it.
			http.Redirect(w, r, "http://LOCALHOST:"+r.URL.Query().Get("port")+"/final", http.StatusFound)
		default:
			w.Write([]byte("local"))
		}
	}))
	defer local.Close()
	port := local.URL[strings.LastIndexByte(local.URL, ':')+1:]
	// What HTTP_PROXY in kazzle mcp's environment makes of http.DefaultTransport.
	pf := (&httpproxy.Config{HTTPProxy: proxy.URL}).ProxyFunc()
	hc := &http.Client{Transport: &http.Transport{Proxy: func(r *http.Request) (*url.URL, error) { return pf(r.URL) }}}
	tl := newTools(Options{Client: boundHostsVault(t, ref, value, "http://localhost:"+port), HTTPClient: hc})
	headers := map[string]string{"Authorization": "Bearer " + ref}
	for _, u := range []string{
		"http://LOCALHOST:" + port + "/",
		"http://localhost.:" + port + "/",
		"http://Localhost:" + port + "/",
		"http://localhost:" + port + "/redirect?port=" + port,
	} {
		_, out, err := tl.httpRequest(context.Background(), nil, httpRequestInput{URL: u, Headers: headers})
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if out.Body != "local" {
			t.Errorf("%s: body %q, want the local server's", u, out.Body)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(proxied) != 0 {
		t.Fatalf("the proxy got the bound value: %d requests", len(proxied))
	}
}
