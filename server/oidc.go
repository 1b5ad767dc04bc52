package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

// OIDCProvider is an issuer of identity tokens, such as a CI's, whose tokens
// POST /v1/auth/oidc exchanges for short-lived API keys.
type OIDCProvider struct {
	Name string
	// Issuer is the tokens' iss; its discovery document is read on first use.
	Issuer string
	// Audience is the aud a token must carry.
	Audience string
	// Rules are tried in order: the first whose claims all match mints the key.
	Rules []OIDCRule
}

// OIDCRule maps tokens whose claims match to the limits of the key they get.
type OIDCRule struct {
	// Space is the name of the space the key is made in.
	Space string
	// Claims name the claims a token must carry: whole, case-sensitive strings in
	// which `*` stands for any run of characters but `/`.
	Claims      map[string]string
	Role        vault.Role
	Collection  string
	Environment string
	// TTL is the life of the key.
	TTL time.Duration
}

// ExchangedKeyPrefix starts the name of every key minted for an identity token; the
// server deletes such keys once they have expired.
const ExchangedKeyPrefix = "oidc:"

// Limits of an exchange, checked before the token is looked at.
const (
	// maxOIDCBody caps the request body: a CI's token is one or two KiB.
	maxOIDCBody = 32 << 10
	// maxOIDCToken caps the token itself.
	maxOIDCToken = 16 << 10
	// maxExchangedKeyName caps the name of a minted key (oidc:PROVIDER:SUBJECT).
	maxExchangedKeyName = 128
	// oidcPerSource caps the failed exchanges a minute from one source (an IPv4
	// address or IPv6 /64, as refusals are counted): the jobs behind one NAT or proxy
	// address may make many keys. oidcOverall caps the keys made a minute from all
	// sources; it counts verified tokens alone, so that made-up tokens sent from a few
	// addresses cannot use it up and lock every CI job out.
	oidcPerSource = 120
	oidcOverall   = 1200
	// maxLiveExchangedKeys caps the unexpired keys made for one subject of a provider:
	// a job whose token matches could otherwise make a key on every exchange, filling
	// the database and the overall cap. It leaves room for a large matrix of jobs, each
	// signing in a few times within the ttl.
	maxLiveExchangedKeys = 1000
	// nbfLeeway is how far in the future a token's nbf may be (clock skew); go-oidc
	// allows five minutes.
	nbfLeeway = time.Minute
	// discoveryBackoff and maxDiscoveryBackoff space the attempts to read an
	// unreachable issuer's discovery document: doubling from the first to the second.
	discoveryBackoff    = 5 * time.Second
	maxDiscoveryBackoff = 5 * time.Minute
	// pruneKeysEvery spaces the deletions of expired exchanged keys.
	pruneKeysEvery = time.Minute
)

// oidcProvider is a configured provider with what was learnt from its issuer.
type oidcProvider struct {
	OIDCProvider
	client *http.Client
	now    func() time.Time

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	failures int
	retryAt  time.Time
	lastErr  error
}

// unavailableError is an exchange that waits for its issuer to be reachable; tried says
// whether this exchange tried to reach it, rather than waiting out the backoff.
type unavailableError struct {
	msg   string
	tried bool
}

func (e *unavailableError) Error() string { return e.msg }

// verifierFor returns the provider's verifier, reading the issuer's discovery document
// and key set the first time. After a failure it tries again only after a backoff, so
// an issuer that is down costs each exchange nothing but the refusal.
func (p *oidcProvider) verifierFor(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.verifier != nil {
		return p.verifier, nil
	}
	now := p.now()
	if now.Before(p.retryAt) {
		return nil, p.unavailable(false)
	}
	ks, err := p.discover(context.WithoutCancel(ctx))
	if err != nil {
		backoff := discoveryBackoff << min(p.failures, 10)
		p.failures++
		p.retryAt, p.lastErr = now.Add(min(backoff, maxDiscoveryBackoff)), err
		return nil, p.unavailable(true)
	}
	p.verifier = oidc.NewVerifier(p.Issuer, ks, &oidc.Config{ClientID: p.Audience,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256}, Now: p.now})
	return p.verifier, nil
}

func (p *oidcProvider) discover(ctx context.Context) (*keySet, error) {
	jwksURL, err := discover(ctx, p.client, p.Issuer)
	if err != nil {
		return nil, err
	}
	ks := &keySet{url: jwksURL, client: p.client, now: p.now}
	return ks, ks.refresh(ctx)
}

func (p *oidcProvider) unavailable(tried bool) error {
	return &unavailableError{tried: tried, msg: fmt.Sprintf("the issuer of provider %s (%s) cannot be reached: %s; the server tries again after %s",
		p.Name, p.Issuer, truncateUTF8(p.lastErr.Error(), 256), p.retryAt.UTC().Format(time.RFC3339))}
}

// exchangeLimit counts exchanges per source and minute, and keys made per minute.
type exchangeLimit struct {
	mu     sync.Mutex
	window time.Time
	counts map[string]int
	keys   int
}

// next starts a new count at the turn of the minute and says how long is left of it.
func (l *exchangeLimit) next(now time.Time) time.Duration {
	if w := now.Truncate(time.Minute); !w.Equal(l.window) {
		l.window, l.keys = w, 0
		clear(l.counts)
	}
	if l.counts == nil {
		l.counts = map[string]int{}
	}
	return l.window.Add(time.Minute).Sub(now)
}

// allow counts an exchange from src at now, unless its source is past the cap for
// this minute; then it says how long to wait. An exchange that makes a key is given
// back by refund.
func (l *exchangeLimit) allow(src string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := l.next(now)
	if l.counts[src] >= oidcPerSource {
		return false, wait
	}
	// Past MaxRefusalSources sources, the others are not counted: what they can send
	// costs a signature check each, as a request with a made-up API key costs a lookup.
	if _, known := l.counts[src]; known || len(l.counts) < MaxRefusalSources {
		l.counts[src]++
	}
	return true, 0
}

// refund takes back the count of an exchange from src allowed at now, which made a key.
func (l *exchangeLimit) refund(src string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Truncate(time.Minute).Equal(l.window) && l.counts[src] > 0 {
		l.counts[src]--
	}
}

// allowKey counts a key made at now for a verified token, unless oidcOverall were made
// this minute; then it says how long to wait.
func (l *exchangeLimit) allowKey(now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := l.next(now)
	if l.keys >= oidcOverall {
		return false, wait
	}
	l.keys++
	return true, 0
}

func (s *Server) oidcRoutes() {
	s.mux.HandleFunc("GET /v1/auth/oidc/providers", s.listOIDCProviders)
	s.mux.HandleFunc("POST /v1/auth/oidc", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxOIDCBody)
		if err := s.exchangeOIDC(w, r); err != nil {
			s.failOIDC(w, r, err)
		}
	})
}

// listOIDCProviders names the configured providers, for clients to learn the audience
// to ask their CI for. It needs no key: the names and audiences are no secret.
func (s *Server) listOIDCProviders(w http.ResponseWriter, r *http.Request) {
	out := api.OIDCProviderList{Providers: []api.OIDCProvider{}}
	for _, p := range s.oidcOrder {
		out.Providers = append(out.Providers, api.OIDCProvider{Name: p.Name, Issuer: p.Issuer, Audience: p.Audience})
	}
	writeJSON(w, http.StatusOK, out)
}

func refusedToken(format string, args ...any) error {
	return &api.Error{Status: http.StatusUnauthorized, Code: api.CodeUnauthenticated, Message: "the identity token was refused: " + fmt.Sprintf(format, args...)}
}

// failOIDC answers a failed exchange. Refusals are audited as those of requests
// without a valid key: counted per source and minute.
func (s *Server) failOIDC(w http.ResponseWriter, r *http.Request, err error) {
	var unavailable *unavailableError
	var ae *api.Error
	switch {
	case errors.As(err, &unavailable):
		// Logged once an attempt, not for each exchange refused during the backoff,
		// which anyone can send.
		if unavailable.tried {
			s.log.Warn("identity-token exchange", "err", err)
		}
		writeError(w, &api.Error{Status: http.StatusServiceUnavailable, Code: api.CodeUnavailable, Message: unavailable.msg})
		return
	case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
		s.recordRefusal(r, vault.Actor{ClientAddr: clientAddr(r)}, "", "auth.oidc", vault.AuditTarget{Reason: ae.Message}, true)
		writeError(w, ae)
		return
	}
	ae = s.auditRefusal(r, nil, "auth.oidc", err)
	if ae.Status >= 500 {
		s.log.Error("identity-token exchange", "err", err)
	}
	writeError(w, ae)
}

// exchangeOIDC verifies an identity token and mints a key with the limits of the first
// rule its claims match.
func (s *Server) exchangeOIDC(w http.ResponseWriter, r *http.Request) error {
	src, at := sourceBlock(clientAddr(r)), s.now()
	if ok, wait := s.oidcLimit.allow(src, at); !ok {
		return tooManyExchanges(w, wait, fmt.Sprintf("too many failed token exchanges from this address (at most %d a minute)", oidcPerSource))
	}
	var req api.OIDCExchangeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	p := s.oidc[req.Provider]
	if p == nil {
		return refusedToken("no provider %q is configured (GET /v1/auth/oidc/providers lists them)", truncateUTF8(req.Provider, 64))
	}
	if req.Token == "" {
		return refusedToken("the token is empty")
	}
	if len(req.Token) > maxOIDCToken {
		return refusedToken("the token is %d bytes, the limit is %d", len(req.Token), maxOIDCToken)
	}
	verifier, err := p.verifierFor(r.Context())
	if err != nil {
		return err
	}
	tok, err := verifier.Verify(r.Context(), req.Token)
	if err != nil {
		return refusedToken("%s", verifyProblem(p, err))
	}
	var claims map[string]any
	if err := tok.Claims(&claims); err != nil {
		return refusedToken("its claims are not a JSON object")
	}
	if nbf, ok := numericDate(claims["nbf"]); ok && nbf.After(s.now().Add(nbfLeeway)) {
		return refusedToken("it is not valid yet (nbf %s)", nbf.UTC().Format(time.RFC3339))
	}
	n, matched := matchRules(p.Rules, claims)
	if n < 0 {
		return refusedToken("no rule of provider %s matches its claims", p.Name)
	}
	// The subject is read as the rules read claims: go-oidc's own field would also take
	// "SUB" or "Sub", the last of them.
	subject, _ := claims["sub"].(string)
	if err := s.mint(w, r, p, n, subject, matched); err != nil {
		return err
	}
	s.oidcLimit.refund(src, at)
	return nil
}

// numericDate reads a time claim as go-oidc does: seconds since 1970 as a number, or as
// a string that holds one.
func numericDate(v any) (time.Time, bool) {
	switch v := v.(type) {
	case float64:
		return time.Unix(int64(v), 0), true
	case string:
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return time.Unix(int64(f), 0), true
		}
	}
	return time.Time{}, false
}

// liveKeys counts, per holder (a provider's subject), the exchanged keys made by this
// server that have not expired yet.
type liveKeys struct {
	mu       sync.Mutex
	expiries map[string][]time.Time
}

// reserve counts a key of holder that expires at exp, unless maxLiveExchangedKeys of
// that holder are live at now; then it says how long until the first of them expires.
func (l *liveKeys) reserve(holder string, now, exp time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.expiries == nil {
		l.expiries = map[string][]time.Time{}
	}
	live := slices.DeleteFunc(l.expiries[holder], func(t time.Time) bool { return !t.After(now) })
	if len(live) >= maxLiveExchangedKeys {
		l.expiries[holder] = live
		return false, slices.MinFunc(live, time.Time.Compare).Sub(now)
	}
	l.expiries[holder] = append(live, exp)
	return true, 0
}

// release takes back a reservation for a key that was not made.
func (l *liveKeys) release(holder string, exp time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := slices.IndexFunc(l.expiries[holder], exp.Equal); i >= 0 {
		l.expiries[holder] = slices.Delete(l.expiries[holder], i, i+1)
	}
}

// prune forgets the holders whose keys have all expired.
func (l *liveKeys) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for holder, exps := range l.expiries {
		if !slices.ContainsFunc(exps, func(t time.Time) bool { return t.After(now) }) {
			delete(l.expiries, holder)
		}
	}
}

func tooManyExchanges(w http.ResponseWriter, wait time.Duration, why string) error {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	return &api.Error{Status: http.StatusTooManyRequests, Code: api.CodeTooMany, Message: fmt.Sprintf("%s; try again in %s", why, wait.Round(time.Second))}
}

// verifyProblem says why go-oidc refused a token in words of the server's own, which
// quote nothing of the token.
func verifyProblem(p *oidcProvider, err error) string {
	var expired *oidc.TokenExpiredError
	msg := err.Error()
	switch {
	case errors.As(err, &expired):
		return "it expired at " + expired.Expiry.UTC().Format(time.RFC3339)
	case strings.Contains(msg, "issued by a different provider"):
		return fmt.Sprintf("its issuer is not %s", p.Issuer)
	case strings.Contains(msg, "expected audience"):
		return fmt.Sprintf("its audience does not include %s, the audience of provider %s", p.Audience, p.Name)
	case strings.Contains(msg, "before the nbf"):
		return "it is not valid yet"
	case strings.Contains(msg, "malformed jwt"):
		return "it is not a JWT signed with RS256 or ES256"
	case strings.Contains(msg, "failed to verify signature"):
		return "its signature does not verify with the issuer's keys"
	}
	return "it does not verify"
}

// matchRules returns the index of the first rule whose claims all match, with the
// claims it matched as name=value, sorted; -1 when none does.
func matchRules(rules []OIDCRule, claims map[string]any) (int, []string) {
	for i, rule := range rules {
		if matched, ok := matchRule(rule, claims); ok {
			return i, matched
		}
	}
	return -1, nil
}

func matchRule(rule OIDCRule, claims map[string]any) ([]string, bool) {
	if len(rule.Claims) == 0 {
		return nil, false
	}
	var matched []string
	for name, pattern := range rule.Claims {
		v, ok := claims[name].(string)
		if !ok || !matchClaim(pattern, v) {
			return nil, false
		}
		matched = append(matched, name+"="+v)
	}
	slices.Sort(matched)
	return matched, true
}

// matchClaim matches a claim's value against a rule's pattern: byte for byte, but that
// `*` matches any run of characters, empty included, other than `/`. A `/` in the value
// thus matches a `/` of the pattern alone, so both split into as many segments.
func matchClaim(pattern, value string) bool {
	if strings.Count(pattern, "/") != strings.Count(value, "/") {
		return false
	}
	ps, vs := strings.Split(pattern, "/"), strings.Split(value, "/")
	for i := range ps {
		if !matchSegment(ps[i], vs[i]) {
			return false
		}
	}
	return true
}

// matchSegment is glob matching with `*` alone: on a mismatch it lets the last `*` take
// one byte more, so it takes O(len(p)·len(v)) steps at worst.
func matchSegment(p, v string) bool {
	pi, vi, star, mark := 0, 0, -1, 0
	for vi < len(v) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, vi
			pi++
		case pi < len(p) && p[pi] == v[vi]:
			pi++
			vi++
		case star >= 0:
			mark++
			pi, vi = star+1, mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// mint makes the key of rule n of p and answers with it; the audit trail records the
// key's creation and the exchange, with the token's subject and the claims matched,
// never the token.
func (s *Server) mint(w http.ResponseWriter, r *http.Request, p *oidcProvider, n int, subject string, matched []string) error {
	ctx := r.Context()
	rule := p.Rules[n]
	space, err := s.spaceNamed(ctx, rule.Space)
	if err != nil {
		return fmt.Errorf("oidc %q rule %d: %w", p.Name, n+1, err)
	}
	name := truncateUTF8(auditPath(ExchangedKeyPrefix+p.Name+":"+subject), maxExchangedKeyName)
	now := s.v.Now()
	exp := now.Add(rule.TTL)
	// Counted by the whole subject: key names cut short may be shared by several.
	holder := sha256.Sum256([]byte(p.Name + "\x00" + subject))
	if ok, wait := s.oidcLive.reserve(string(holder[:]), now, exp); !ok {
		return tooManyExchanges(w, wait, fmt.Sprintf("the token's subject already holds %d unexpired keys of provider %s, the most it may: reuse a key within its job", maxLiveExchangedKeys, p.Name))
	}
	if ok, wait := s.oidcLimit.allowKey(s.now()); !ok {
		s.oidcLive.release(string(holder[:]), exp)
		return tooManyExchanges(w, wait, fmt.Sprintf("too many keys exchanged for identity tokens (at most %d a minute)", oidcOverall))
	}
	actor := vault.Actor{Name: name, ClientAddr: clientAddr(r)}
	k, token, err := s.v.CreateAPIKey(ctx, actor, vault.NewAPIKey{SpaceID: space.ID, Name: name, Role: rule.Role,
		Collection: rule.Collection, Environment: rule.Environment, ExpiresAt: exp})
	if err != nil {
		s.oidcLive.release(string(holder[:]), exp)
		return fmt.Errorf("oidc %q rule %d: make the key: %w", p.Name, n+1, err)
	}
	actor.KeyID, actor.Role = k.ID, k.Role
	for i, m := range matched {
		matched[i] = auditPath(m)
	}
	reason := truncateUTF8(fmt.Sprintf("provider %s, subject %s: rule %d matched %s", p.Name, auditPath(subject), n+1, strings.Join(matched, ", ")), 1024)
	if err := s.v.Record(context.WithoutCancel(ctx), actor, space.ID, "auth.oidc", vault.OutcomeOK, vault.AuditTarget{KeyID: k.ID, Key: k.Name, Reason: reason}); err != nil {
		s.log.Error("recording an identity-token exchange", "err", err)
	}
	s.pruneExchangedKeys(context.WithoutCancel(ctx))
	resp := api.OIDCExchangeResponse{Key: token, KeyID: k.ID, Space: space.Name, Role: string(k.Role), ExpiresAt: k.ExpiresAt}
	if rule.Collection != "" {
		resp.Collection, resp.Environment = rule.Collection, rule.Environment
	}
	return writeJSON(w, http.StatusOK, resp)
}

// spaceNamed finds the live space called name. Names are unique and never reused, so a
// rule naming a deleted or unknown space makes no key until the configuration changes:
// a refusal, not a server error.
func (s *Server) spaceNamed(ctx context.Context, name string) (vault.Space, error) {
	sp, err := s.v.SpaceByName(ctx, name)
	if errors.Is(err, vault.ErrNotFound) {
		return vault.Space{}, fmt.Errorf("space %q is not a live space (deleted, or never created): the rule makes no key until the server's configuration names a live one: %w", name, vault.ErrForbidden)
	}
	return sp, err
}

// pruneExchangedKeys deletes expired exchanged keys, once a minute at most.
func (s *Server) pruneExchangedKeys(ctx context.Context) {
	if len(s.oidcOrder) == 0 {
		return
	}
	s.pruneMu.Lock()
	now := s.now()
	due := s.prunedAt.IsZero() || now.Sub(s.prunedAt) >= pruneKeysEvery
	if due {
		s.prunedAt = now
	}
	s.pruneMu.Unlock()
	if !due {
		return
	}
	s.oidcLive.prune(s.v.Now())
	if n, err := s.v.PruneExpiredKeys(ctx, ExchangedKeyPrefix); err != nil {
		s.log.Warn("deleting expired exchanged keys", "err", err)
	} else if n > 0 {
		s.log.Info("deleted expired exchanged keys", "keys", n)
	}
}
