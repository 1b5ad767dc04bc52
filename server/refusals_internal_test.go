package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestRefusalCountsAreBoundedBySource: however many sources send requests without a
// valid key in a minute, the aggregator holds at most MaxRefusalSources of them, and the
// minute costs at most two rows a source plus one for the rest.
func TestRefusalCountsAreBoundedBySource(t *testing.T) {
	var a refusals
	now := time.Date(2026, 1, 2, 10, 0, 5, 0, time.UTC)
	const sources, each = MaxRefusalSources + 50, 3
	firsts := 0
	for i := range sources {
		src := refusalSource{addr: sourceBlock(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))}
		for range each {
			first, ended := a.admit(src, "", now)
			if len(ended) != 0 {
				t.Fatal("rows before the minute ended")
			}
			if first {
				firsts++
			}
		}
	}
	if firsts != MaxRefusalSources || len(a.counts) != MaxRefusalSources {
		t.Fatalf("%d refusals recorded in full, %d sources held; want %d", firsts, len(a.counts), MaxRefusalSources)
	}
	if rows := a.drain(now.Add(30 * time.Second)); rows != nil {
		t.Fatalf("the minute is not over, yet drain gave %d rows", len(rows))
	}
	rows := a.drain(now.Add(time.Minute))
	counted, dropped := 0, 0
	for _, r := range rows {
		if r.src.addr == "" {
			dropped = r.target.Count
		} else {
			counted++
			if r.target.Count != each-1 {
				t.Fatalf("a source's row counts %d, want %d", r.target.Count, each-1)
			}
		}
	}
	if counted != MaxRefusalSources || dropped != 50*each || len(rows) != MaxRefusalSources+1 {
		t.Fatalf("%d rows: %d counted sources, %d dropped refusals; want %d, %d", len(rows), counted, dropped, MaxRefusalSources, 50*each)
	}
	if len(a.counts) != 0 || a.dropped != 0 {
		t.Fatal("drain kept the counts")
	}
}

// TestIPv6RefusalsAreCountedPerSlash64: the addresses of one /64 are one source, the
// next /64 is another, and an IPv4-mapped address is its IPv4 address.
func TestIPv6RefusalsAreCountedPerSlash64(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::ffff:192.0.2.9", "192.0.2.9"},
		{"192.0.2.9", "192.0.2.9"},
		{"not an address", "not an address"},
	} {
		if got := sourceBlock(tc.addr); got != tc.want {
			t.Errorf("sourceBlock(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
	var a refusals
	now := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	for i := range 100 {
		first, _ := a.admit(refusalSource{addr: sourceBlock(fmt.Sprintf("2001:db8:1:2::%x", i+1))}, "", now)
		if first != (i == 0) {
			t.Fatalf("request %d from one /64: first = %v", i, first)
		}
	}
}

// TestAuditPathIsShortAndValidUTF8: an audit event keeps at most maxAuditPath bytes of a
// path, cut between characters, with invalid bytes replaced.
func TestAuditPathIsShortAndValidUTF8(t *testing.T) {
	for _, p := range []string{
		"/v1/secrets/4b7c",
		"/v1/" + string(make([]byte, 900<<10)),
		"/v1/" + strings.Repeat("é", 300),
		"/v1/" + strings.Repeat("\xff", 300),
		"/v1/" + strings.Repeat("x", maxAuditPath-5) + "日本",
	} {
		got := auditPath(p)
		if len(got) > maxAuditPath || !utf8.ValidString(got) {
			t.Fatalf("auditPath of %d bytes: %d bytes, valid UTF-8 %v", len(p), len(got), utf8.ValidString(got))
		}
		if len(p) <= maxAuditPath && utf8.ValidString(p) && got != p {
			t.Fatalf("a short path was changed: %q", got)
		}
	}
}

// TestAuditPathEscapesControlAndFormatCharacters: a path kept in an audit event has its
// control characters, bidi overrides and zero-width characters percent-encoded again,
// and everything else as it was.
func TestAuditPathEscapesControlAndFormatCharacters(t *testing.T) {
	for p, want := range map[string]string{
		"/ui/secrets/é":                 "/ui/secrets/é",
		"/ui/x\nforged line":            "/ui/x%0Aforged line",
		"/ui/\x1b]0;title\x07\x1b[2J":   "/ui/%1B]0;title%07%1B[2J",
		"/ui/\u202eexe.txt\u2066\u200b": "/ui/%E2%80%AEexe.txt%E2%81%A6%E2%80%8B",
		"/ui/\u0085\u009b\x7f\u2028":    "/ui/%C2%85%C2%9B%7F%E2%80%A8",
		"/ui/\xff":                      "/ui/%FF",
	} {
		if got := auditPath(p); got != want {
			t.Errorf("auditPath(%q) = %q, want %q", p, got, want)
		}
	}
}
