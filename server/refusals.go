package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// Refusals of requests without a valid key (no key, an unknown, revoked or expired one)
// cost whoever sends them nothing, so the audit trail does not record each one: it
// records the first from a source in a minute in full, counts the others, and records
// the count as one row when the minute is over. A source is an IPv4 address or an IPv6
// /64, the block one host usually holds. A flood thus costs at most two rows per source
// and minute, for at most MaxRefusalSources sources, and one row for the rest.
const (
	// MaxRefusalSources caps the sources counted in a minute, and so the aggregator's
	// memory (a few hundred bytes a source). Refusals from further sources are counted
	// together and recorded as one row.
	MaxRefusalSources = 1024
	// refusalWindow is the span whose refusals from one source make one row.
	refusalWindow = time.Minute
	// ActionUnauthenticatedCount is the action of the rows that count refusals.
	ActionUnauthenticatedCount = "request.unauthenticated.count"
)

// refusalSource is what refusals are counted by: the client's address block, and the
// key's space and id when it sent a known key that is revoked or expired.
type refusalSource struct {
	addr    string
	spaceID string
	keyID   string
}

type refusalCount struct {
	keyName string
	count   int
}

// refusals counts refusals without a valid key per source and minute.
type refusals struct {
	mu      sync.Mutex
	window  time.Time // start of the minute counted
	counts  map[refusalSource]*refusalCount
	dropped int // refusals from sources past MaxRefusalSources
}

// countedRow is an audit row that stands for counted refusals.
type countedRow struct {
	src    refusalSource
	actor  vault.Actor
	target vault.AuditTarget
}

// admit notes a refusal from src at now. It says whether the refusal is the first of its
// source in this minute, to be recorded in full, and returns the rows of a minute that
// has ended, to be recorded.
func (a *refusals) admit(src refusalSource, keyName string, now time.Time) (first bool, ended []countedRow) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w := now.Truncate(refusalWindow); !w.Equal(a.window) {
		ended = a.drainLocked()
		a.window = w
	}
	if a.counts == nil {
		a.counts = map[refusalSource]*refusalCount{}
	}
	if c, ok := a.counts[src]; ok {
		c.count++
		return false, ended
	}
	if len(a.counts) >= MaxRefusalSources {
		a.dropped++
		return false, ended
	}
	a.counts[src] = &refusalCount{keyName: keyName}
	return true, ended
}

// drain returns the rows of the minute counted, when it has ended by now (or
// whatever the time, when now is zero), and starts afresh.
func (a *refusals) drain(now time.Time) []countedRow {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !now.IsZero() && now.Truncate(refusalWindow).Equal(a.window) {
		return nil
	}
	return a.drainLocked()
}

func (a *refusals) drainLocked() []countedRow {
	var rows []countedRow
	span := fmt.Sprintf("in the minute from %s", a.window.UTC().Format("2006-01-02 15:04 UTC"))
	for src, c := range a.counts {
		if c.count == 0 {
			continue
		}
		rows = append(rows, countedRow{src: src,
			actor: vault.Actor{KeyID: src.keyID, Name: c.keyName, ClientAddr: src.addr},
			target: vault.AuditTarget{Count: c.count, KeyID: src.keyID,
				Reason: fmt.Sprintf("%d more requests without a valid key from %s %s; the first was recorded in full", c.count, src.addr, span)}})
	}
	if a.dropped > 0 {
		rows = append(rows, countedRow{target: vault.AuditTarget{Count: a.dropped,
			Reason: fmt.Sprintf("%d requests without a valid key from more than %d sources %s, not recorded by source", a.dropped, MaxRefusalSources, span)}})
	}
	clear(a.counts)
	a.dropped = 0
	return rows
}

// recordCounted writes counted rows to the audit trail.
func (s *Server) recordCounted(ctx context.Context, rows []countedRow) {
	for _, row := range rows {
		if err := s.v.Record(ctx, row.actor, row.src.spaceID, ActionUnauthenticatedCount, vault.OutcomeDenied, row.target); err != nil {
			s.log.Error("recording counted refusals", "err", err)
		}
	}
}

// FlushAudit records the counts of refusals of a minute that has ended; with final
// set, it records the counts of the current minute too, as a server does when it stops.
func (s *Server) FlushAudit(ctx context.Context, final bool) {
	now := s.now()
	if final {
		now = time.Time{}
	}
	s.recordCounted(ctx, s.refusals.drain(now))
}

// RunAudit records the counts of refusals each minute, when the minute is over, until
// ctx ends; then it records the counts of the current minute and returns. Without it,
// counts are recorded with the next refusal after their minute, or by FlushAudit. It
// also deletes expired exchanged keys (ExchangedKeyPrefix) once a minute.
func (s *Server) RunAudit(ctx context.Context) {
	t := time.NewTicker(refusalWindow / 4)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.FlushAudit(context.WithoutCancel(ctx), true)
			return
		case <-t.C:
			s.FlushAudit(ctx, false)
			s.pruneExchangedKeys(ctx)
		}
	}
}

// sourceBlock is the address refusals are counted by: an IPv4 address, or the /64 of
// an IPv6 address. An address that does not parse counts as itself, cut short.
func sourceBlock(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return truncateUTF8(addr, 64)
	}
	ip = ip.Unmap()
	if ip.Is4() {
		return ip.String()
	}
	p, _ := ip.WithZone("").Prefix(64)
	return p.String()
}

// maxAuditPath caps the request path an audit event keeps: enough to tell which
// endpoint and id was asked for, and no room to store what a client chooses to send.
const maxAuditPath = 256

// auditRequest is how an audit event names a request: by the route it matched, such as
// "GET /v1/secrets/{id}", which a client cannot choose; else by method and auditPath.
func auditRequest(r *http.Request) string {
	if r.Pattern != "" && r.Pattern != "/" {
		return r.Pattern
	}
	return r.Method + " " + auditPath(r.URL.Path)
}

// auditPath is a decoded request path as an audit event keeps it: valid UTF-8, at most
// maxAuditPath bytes, with "…" where it was cut, and every control character (C0, DEL,
// C1), Unicode format character (bidi overrides, zero-width characters) and line or
// paragraph separator percent-encoded again, so that %0A or an escape sequence in a
// request does not become a forged line or a terminal command where the trail is shown.
func auditPath(p string) string {
	if len(p) > 4*maxAuditPath {
		p = p[:4*maxAuditPath]
	}
	var b strings.Builder
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		if (r == utf8.RuneError && n == 1) || r < 0x20 || (r >= 0x7f && r <= 0x9f) ||
			unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			for _, c := range []byte(p[i : i+n]) {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		} else {
			b.WriteString(p[i : i+n])
		}
		i += n
	}
	return truncateUTF8(b.String(), maxAuditPath)
}

// recordRefusal records a refused request. A refusal without a valid key is recorded in
// full only when it is its source's first in the minute, and counted otherwise.
func (s *Server) recordRefusal(r *http.Request, actor vault.Actor, spaceID, action string, target vault.AuditTarget, unauthenticated bool) {
	ctx := context.WithoutCancel(r.Context())
	if unauthenticated {
		first, ended := s.refusals.admit(refusalSource{addr: sourceBlock(actor.ClientAddr), spaceID: spaceID, keyID: actor.KeyID}, actor.Name, s.now())
		s.recordCounted(ctx, ended)
		if !first {
			return
		}
	}
	if err := s.v.Record(ctx, actor, spaceID, action, vault.OutcomeDenied, target); err != nil {
		s.log.Error("recording a refusal", "err", err)
	}
}

// auditRefusal returns err as an API error after recording it when it is a refusal: a
// 401 or 403, or what the key may not reach, answered as missing.
func (s *Server) auditRefusal(r *http.Request, p *principal, action string, err error) *api.Error {
	ae := toAPIError(err)
	reason := ae.Message
	var hidden *outOfReach
	if errors.As(err, &hidden) {
		reason = hidden.reason
	} else if ae.Status != http.StatusUnauthorized && ae.Status != http.StatusForbidden {
		return ae
	}
	actor, spaceID := vault.Actor{ClientAddr: clientAddr(r)}, ""
	if p != nil {
		actor, spaceID = p.actor, p.key.SpaceID
	}
	s.recordRefusal(r, actor, spaceID, action, vault.AuditTarget{Reason: reason}, ae.Status == http.StatusUnauthorized)
	return ae
}
