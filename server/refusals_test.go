package server_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kazzle/kazzle/server"
	"github.com/kazzle/kazzle/vault"
)

func auditEvents(t *testing.T, w *world) []vault.AuditEvent {
	t.Helper()
	events, err := w.Vault.Audit(context.Background(), vault.AuditQuery{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// unauthenticated sends a request without a valid key from addr to srv.
func unauthenticated(t *testing.T, srv http.Handler, addr, target string, i int) {
	t.Helper()
	req := httptest.NewRequest("GET", target, nil)
	req.RemoteAddr = addr
	if i%2 == 1 {
		req.Header.Set("Authorization", "Bearer kzl_"+strings.Repeat("x", 40)) // an unknown key
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", rec.Code)
	}
}

// TestUnauthenticatedFloodCostsBoundedAuditRows: requests without a valid key from one
// address add one row when the first arrives and one row with the count when the minute
// is over, not a row each.
func TestUnauthenticatedFloodCostsBoundedAuditRows(t *testing.T) {
	w := newWorld(t)
	srv := server.New(w.Vault, server.Options{Now: w.Clock.Now})
	before := len(auditEvents(t, w))
	const n = 1000
	for i := range n {
		unauthenticated(t, srv, "203.0.113.7:40000", "/v1/collections", i)
	}
	during := len(auditEvents(t, w)) - before
	w.Clock.Advance(time.Minute)
	srv.FlushAudit(context.Background(), false)
	events := auditEvents(t, w)
	t.Logf("%d requests without a valid key: %d audit rows during the minute, %d after it", n, during, len(events)-before)
	if during != 1 || len(events)-before != 2 {
		t.Fatalf("%d requests added %d rows during the minute and %d in all; want 1 and 2", n, during, len(events)-before)
	}
	counted := events[0]
	if counted.Action != server.ActionUnauthenticatedCount || counted.Target.Count != n-1 || counted.ClientAddr != "203.0.113.7" || counted.Outcome != vault.OutcomeDenied {
		t.Fatalf("the counting row: %+v", counted)
	}
	if first := events[1]; first.Action != "request GET /v1/collections" || first.ClientAddr != "203.0.113.7" {
		t.Fatalf("the first refusal's row: %+v", first)
	}
	// A refusal from another address in the next minute is recorded in full again.
	unauthenticated(t, srv, "[2001:db8::1]:40000", "/v1/collections", 0)
	if got := len(auditEvents(t, w)) - before; got != 3 {
		t.Fatalf("%d rows after a new address's first refusal, want 3", got)
	}
}

// TestCountedRefusalsAreRecordedWhenTheServerStops: RunAudit records the current
// minute's counts when its context ends.
func TestCountedRefusalsAreRecordedWhenTheServerStops(t *testing.T) {
	w := newWorld(t)
	srv := server.New(w.Vault, server.Options{Now: w.Clock.Now})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.RunAudit(ctx); close(done) }()
	for i := range 5 {
		unauthenticated(t, srv, "198.51.100.4:1234", "/v1/keys", i)
	}
	cancel()
	<-done
	if ev := auditEvents(t, w)[0]; ev.Action != server.ActionUnauthenticatedCount || ev.Target.Count != 4 {
		t.Fatalf("the newest row after stopping is %+v, want the count of 4 refusals", ev)
	}
}

// TestAuditNamesTheRouteNotThePath: a refused request is recorded by the route it
// matched, never by the path the client chose, so a read key cannot write a forged line
// or a terminal escape sequence into the trail an admin reads; a long path is not kept
// either.
func TestAuditNamesTheRouteNotThePath(t *testing.T) {
	w := newWorld(t)
	forged := "/v1/secrets/x%0A2026-01-01%2000:00:00%20admin%20127.0.0.1%20secret.reveal%20ok%1B]0;pwned%07%1B[2J%E2%80%AE"
	status, body := w.do(t, w.tokens["read"], "DELETE", forged, nil)
	if status != http.StatusForbidden {
		t.Fatalf("a read key's delete: %d %s", status, body)
	}
	if ev := auditEvents(t, w)[0]; ev.Action != "request DELETE /v1/secrets/{id}" {
		t.Fatalf("the refusal is recorded as %q, want the route", ev.Action)
	}
	srv := server.New(w.Vault, server.Options{Now: w.Clock.Now})
	unauthenticated(t, srv, "192.0.2.1:1", "/v1/secrets/"+strings.Repeat("%C3%A9", 1000)+"%FF", 0)
	if ev := auditEvents(t, w)[0]; ev.Action != "request GET /v1/secrets/{id}" {
		t.Fatalf("a long path is recorded as %d bytes, want the route", len(ev.Action))
	}
}

// TestOversizedRequestHeadsAreRefusedEarly: a request target longer than MaxURLBytes is
// refused with 414, and a head longer than MaxHeaderBytes with 431, before any
// authentication or audit; at the limits requests go through.
func TestOversizedRequestHeadsAreRefusedEarly(t *testing.T) {
	w := newWorld(t)
	s := server.New(w.Vault, server.Options{Now: w.Clock.Now})
	hs := s.HTTPServer()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	base := "http://" + ln.Addr().String()
	before := len(auditEvents(t, w))

	send := func(target string, header int) int {
		t.Helper()
		req, err := http.NewRequest("GET", base+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+w.tokens["read"])
		if header > 0 {
			req.Header.Set("X-Padding", strings.Repeat("p", header))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	prefix := "/v1/secrets/"
	for _, tc := range []struct {
		desc   string
		target string
		header int
		want   int
	}{
		{"a path at the limit", prefix + strings.Repeat("a", server.MaxURLBytes-len(prefix)), 0, http.StatusNotFound},
		{"a path past the limit", prefix + strings.Repeat("a", server.MaxURLBytes-len(prefix)+1), 0, http.StatusRequestURITooLong},
		{"a 900 KB path", prefix + strings.Repeat("a", 900<<10), 0, http.StatusRequestHeaderFieldsTooLarge},
		{"headers within the limit", "/v1/collections", server.MaxHeaderBytes - 2048, http.StatusOK},
		{"headers past the limit", "/v1/collections", server.MaxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		if got := send(tc.target, tc.header); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.desc, got, tc.want)
		}
	}
	if added := len(auditEvents(t, w)) - before; added != 0 {
		t.Fatalf("oversized requests added %d audit rows", added)
	}
}
