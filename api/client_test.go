package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// plainListener is a plain-http server that records the Authorization headers it got.
type plainListener struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newPlainListener(t *testing.T) *plainListener {
	l := &plainListener{}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.auths = append(l.auths, r.Header.Get("Authorization"))
		l.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"collections":[]}`))
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *plainListener) requests() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.auths...)
}

// TestTheClientDoesNotFollowARedirectWithTheAPIKey: an https server that redirects to
// plain http gets an error naming only the target's origin, and the http listener never
// sees the key.
func TestTheClientDoesNotFollowARedirectWithTheAPIKey(t *testing.T) {
	const key = "kzl_redirectedKeyMustStayHome0123456789"
	for _, status := range []int{301, 302, 303, 307, 308} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			plain := newPlainListener(t)
			tlsServer := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, plain.URL+"/v1/collections?token=query-data-stays-out", status)
			}))
			defer tlsServer.Close()
			c, err := NewClient(tlsServer.URL, key, tlsServer.Client())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Collections(context.Background())
			var re *RedirectError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RedirectError", err)
			}
			if re.Status != status || re.Origin != plain.URL {
				t.Errorf("redirect error = %+v, want status %d to %s", re, status, plain.URL)
			}
			msg := err.Error()
			if !strings.Contains(msg, plain.URL) || !strings.Contains(msg, "--server or KAZZLE_SERVER") {
				t.Errorf("error %q does not name the target's origin and what to do", msg)
			}
			if strings.Contains(msg, "query-data") || strings.Contains(msg, "/v1/collections") {
				t.Errorf("error %q holds the target's path or query", msg)
			}
			if got := plain.requests(); len(got) != 0 {
				t.Fatalf("the plain-http listener got %d requests (Authorization %q)", len(got), got)
			}
		})
	}
}

// TestNoRedirectsLeavesTheCallersClientAlone: the client's copy refuses redirects; the
// http.Client the caller passed is not changed.
func TestNoRedirectsLeavesTheCallersClientAlone(t *testing.T) {
	hc := &http.Client{}
	if NoRedirects(hc).CheckRedirect == nil || hc.CheckRedirect != nil {
		t.Fatal("NoRedirects changed its argument or did not set CheckRedirect")
	}
}
