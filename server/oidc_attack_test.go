package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/server"
	"github.com/kazzle/kazzle/vault"
)

// signWith signs claims with key under alg, with the extra header fields given.
func signWith(t *testing.T, alg jose.SignatureAlgorithm, key any, opts *jose.SignerOptions, claims map[string]any) *jose.JSONWebSignature {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts.WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	return jws
}

func compact(t *testing.T, jws *jose.JSONWebSignature) string {
	t.Helper()
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOIDCForgedHeaders: a token is trusted for the issuer's published keys alone,
// whatever its header names: an embedded key, a key URL, a critical extension the
// server does not know, a second signature, the JSON serialization, an odd key id or
// a key of the other type under a known id. The server never fetches a URL a token
// names.
func TestOIDCForgedHeaders(t *testing.T) {
	w := newOIDCWorld(t)
	var fetched atomic.Int32
	evil := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { fetched.Add(1) }))
	defer evil.Close()
	forger := newRSAKey(t, "k1")
	forgerEC := newECKey(t, "k1")
	opts := func() *jose.SignerOptions { return (&jose.SignerOptions{}).WithHeader("kid", "k1") }
	for _, tc := range []struct {
		desc  string
		token func() string
	}{
		{"embedded jwk", func() string {
			o := opts()
			o.EmbedJWK = true
			return compact(t, signWith(t, jose.RS256, forger.priv, o, w.claims(nil)))
		}},
		{"jku", func() string {
			return compact(t, signWith(t, jose.RS256, forger.priv, opts().WithHeader("jku", evil.URL+"/jwks"), w.claims(nil)))
		}},
		{"x5u", func() string {
			return compact(t, signWith(t, jose.RS256, forger.priv, opts().WithHeader("x5u", evil.URL+"/cert"), w.claims(nil)))
		}},
		{"unknown crit, issuer's key", func() string {
			return compact(t, signWith(t, jose.RS256, w.key.priv, opts().WithHeader("crit", []string{"kazzle"}).WithHeader("kazzle", 1), w.claims(nil)))
		}},
		{"JSON serialization, issuer's key", func() string {
			return signWith(t, jose.RS256, w.key.priv, opts(), w.claims(nil)).FullSerialize()
		}},
		{"two signatures", func() string {
			signer, err := jose.NewMultiSigner([]jose.SigningKey{{Algorithm: jose.RS256, Key: forger.priv}, {Algorithm: jose.RS256, Key: w.key.priv}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			payload, _ := json.Marshal(w.claims(nil))
			jws, err := signer.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			return jws.FullSerialize()
		}},
		{"ES256 under the RSA key's id", func() string { return sign(t, jose.ES256, forgerEC.priv, "k1", w.claims(nil)) }},
		{"kid with a path", func() string { return sign(t, jose.RS256, forger.priv, "../../jwks?x=1", w.claims(nil)) }},
		{"kid of 8 KiB", func() string { return sign(t, jose.RS256, forger.priv, strings.Repeat("k", 8<<10), w.claims(nil)) }},
		{"issuer's payload, forged signature", func() string {
			good := strings.Split(w.token(t, nil), ".")
			bad := strings.Split(sign(t, jose.RS256, forger.priv, "k1", w.claims(func(c map[string]any) { c["repository"] = "evil/x" })), ".")
			return good[0] + "." + bad[1] + "." + good[2]
		}},
		{"issuer with a trailing slash", func() string { return w.token(t, func(c map[string]any) { c["iss"] = w.is.srv.URL + "/" }) }},
		{"audience with a trailing slash", func() string { return w.token(t, func(c map[string]any) { c["aud"] = audience + "/" }) }},
		{"header alg none, issuer's signature", func() string {
			parts := strings.Split(w.token(t, nil), ".")
			h, _ := json.Marshal(map[string]string{"alg": "none", "kid": "k1"})
			return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			w.Clock.Advance(time.Minute)
			if status, _, body := w.exchange(t, "github", tc.token()); status != http.StatusUnauthorized {
				t.Fatalf("%d %s, want 401", status, body)
			}
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Fatalf("the server fetched %d URLs a token named", n)
	}
	// GitHub sends aud as a string; an array that holds the audience is the standard
	// form and is accepted.
	w.Clock.Advance(time.Minute)
	if status, _, body := w.exchange(t, "github", w.token(t, func(c map[string]any) { c["aud"] = []string{"https://other.example.com", audience} })); status != http.StatusOK {
		t.Fatalf("aud as an array with the audience: %d %s", status, body)
	}
}

// TestOIDCMadeUpTokensDoNotLockOthersOut: made-up tokens sent from ten addresses, each
// at its own cap, leave a CI job's exchange from another address served; what caps all
// sources together is the keys made, 1,200 a minute.
func TestOIDCMadeUpTokensDoNotLockOthersOut(t *testing.T) {
	w := newOIDCWorld(t)
	w.Clock.Advance(time.Minute)
	w.Clock.Advance(-time.Duration(w.Clock.Now().Second()) * time.Second) // the start of a minute
	post := func(addr, tok string) (int, string) {
		body, _ := json.Marshal(api.OIDCExchangeRequest{Provider: "github", Token: tok})
		r := httptest.NewRequest(http.MethodPost, "/v1/auth/oidc", bytes.NewReader(body))
		r.RemoteAddr, r.Host = addr, "127.0.0.1"
		rec := httptest.NewRecorder()
		w.api.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	for src := range 10 {
		for range 120 {
			if status, body := post(fmt.Sprintf("127.0.1.%d:1234", src), "a.b.c"); status != http.StatusUnauthorized {
				t.Fatalf("a made-up token: %d %s", status, body)
			}
		}
	}
	if status, body := post("127.0.1.0:1234", "a.b.c"); status != http.StatusTooManyRequests {
		t.Fatalf("past its source's cap: %d %s", status, body)
	}
	var toks []string // of two subjects: each may hold 1,000 keys
	for i := range 2 {
		toks = append(toks, w.token(t, func(c map[string]any) { c["sub"] = fmt.Sprintf("repo:acme/app:ref:refs/heads/main:%d", i) }))
	}
	tok := toks[0]
	for i := range 1200 {
		if status, body := post(fmt.Sprintf("127.0.2.%d:1234", i/120), toks[i%2]); status != http.StatusOK {
			t.Fatalf("good exchange %d after made-up tokens from other addresses: %d %s", i+1, status, body)
		}
	}
	if status, body := post("127.0.3.1:1234", tok); status != http.StatusTooManyRequests || !strings.Contains(body, "at most 1200 a minute") {
		t.Fatalf("key 1201 of the minute: %d %s", status, body)
	}
	w.Clock.Advance(time.Minute)
	if status, body := post("127.0.3.1:1234", tok); status != http.StatusOK {
		t.Fatalf("the next minute: %d %s", status, body)
	}
}

// TestOIDCLiveKeysPerSubject: a job's token cannot make a key on every exchange without
// end: past 1,000 unexpired keys of its subject it is refused with 429 until the first
// expires, while other subjects are served, those whose key names are cut to the same
// 128 bytes included.
func TestOIDCLiveKeysPerSubject(t *testing.T) {
	w := newOIDCWorld(t)
	w.Clock.Advance(time.Minute)
	w.Clock.Advance(-time.Duration(w.Clock.Now().Second()) * time.Second) // the start of a minute
	post := func(addr, tok string) (int, string) {
		body, _ := json.Marshal(api.OIDCExchangeRequest{Provider: "github", Token: tok})
		r := httptest.NewRequest(http.MethodPost, "/v1/auth/oidc", bytes.NewReader(body))
		r.RemoteAddr, r.Host = addr, "127.0.0.1"
		rec := httptest.NewRecorder()
		w.api.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	long := "repo:acme/app:ref:refs/heads/" + strings.Repeat("x", 200)
	tok := w.token(t, func(c map[string]any) { c["sub"], c["exp"] = long+"-a", w.Clock.Now().Add(time.Hour).Unix() })
	for i := range 1000 {
		if status, body := post(fmt.Sprintf("127.0.2.%d:1234", i/100), tok); status != http.StatusOK {
			t.Fatalf("exchange %d: %d %s", i+1, status, body)
		}
	}
	status, body := post("127.0.3.1:1234", tok)
	if status != http.StatusTooManyRequests || !strings.Contains(body, "already holds 1000 unexpired keys of provider github") || !strings.Contains(body, "try again in 10m0s") {
		t.Fatalf("key 1001 of the subject: %d %s", status, body)
	}
	other := w.token(t, func(c map[string]any) { c["sub"] = long + "-b" })
	if status, body := post("127.0.3.1:1234", other); status != http.StatusOK {
		t.Fatalf("another subject: %d %s", status, body)
	}
	w.Clock.Advance(10 * time.Minute) // the rule's ttl: the first keys expired
	if status, body := post("127.0.3.1:1234", tok); status != http.StatusOK {
		t.Fatalf("once the keys expired: %d %s", status, body)
	}
}

// TestOIDCIssuerDownLogsEachAttempt: while the issuer cannot be reached, the log gets a
// line for each attempt to reach it, not one for each exchange anyone sends meanwhile.
func TestOIDCIssuerDownLogsEachAttempt(t *testing.T) {
	w := newOIDCWorld(t)
	w.is.down.Store(true)
	var log bytes.Buffer
	h := server.New(w.Vault, server.Options{LoopbackOnly: true, Now: w.Clock.Now, OIDCClient: w.is.srv.Client(),
		Logger: slog.New(slog.NewTextHandler(&log, nil)),
		OIDC: []server.OIDCProvider{{Name: "github", Issuer: w.is.srv.URL, Audience: audience, Rules: []server.OIDCRule{
			{Space: "acme", Claims: map[string]string{"repository": "acme/app"}, Role: vault.RoleRead, TTL: time.Minute}}}}})
	for range 50 {
		r := httptest.NewRequest(http.MethodPost, "/v1/auth/oidc", strings.NewReader(`{"provider":"github","token":"a.b.c"}`))
		r.Host = "127.0.0.1"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("issuer down: %d %s", rec.Code, rec.Body)
		}
	}
	if n := strings.Count(log.String(), "identity-token exchange"); n != 1 {
		t.Fatalf("%d log lines for one attempt to reach the issuer:\n%s", n, log.String())
	}
}

// TestOIDCSubjectIsTheSubClaim: the key and the audit trail name the subject the rules
// read, the "sub" claim, not a "SUB" that go-oidc's case-blind decoding would take.
func TestOIDCSubjectIsTheSubClaim(t *testing.T) {
	w := newOIDCWorld(t)
	// JSON objects from a map come out sorted, "SUB" first: the payload is spelt out.
	payload, _ := json.Marshal(w.claims(nil))
	payload = append(payload[:len(payload)-1], `,"SUB":"repo:evil/x:ref:refs/heads/main"}`...)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: w.key.priv}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	status, resp, body := w.exchange(t, "github", compact(t, jws))
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	events, err := w.Vault.Audit(context.Background(), vault.AuditQuery{SpaceID: w.Space.ID, Action: "auth.oidc", Limit: 10})
	if err != nil || len(events) != 1 {
		t.Fatalf("audit: %v, %v", events, err)
	}
	if ev := events[0]; ev.ActorKeyID != resp.KeyID || ev.ActorName != "oidc:github:repo:acme/app:ref:refs/heads/main" || strings.Contains(ev.Target.Reason, "evil") {
		t.Fatalf("audit event %+v", ev)
	}
}

// TestOIDCJobsBehindOneAddress: the jobs behind one NAT or proxy address may make more
// keys a minute than the address's cap on failed exchanges, which stays.
func TestOIDCJobsBehindOneAddress(t *testing.T) {
	w := newOIDCWorld(t)
	w.Clock.Advance(time.Minute)
	w.Clock.Advance(-time.Duration(w.Clock.Now().Second()) * time.Second) // the start of a minute
	tok := w.token(t, nil)
	for i := range 300 {
		if status, _, body := w.exchange(t, "github", tok); status != http.StatusOK {
			t.Fatalf("exchange %d from one address: %d %s", i+1, status, body)
		}
	}
	for i := range 120 {
		if status, _, body := w.exchange(t, "github", "a.b.c"); status != http.StatusUnauthorized {
			t.Fatalf("made-up token %d: %d %s", i+1, status, body)
		}
	}
	if status, _, body := w.exchange(t, "github", tok); status != http.StatusTooManyRequests || !strings.Contains(body, "too many failed token exchanges from this address (at most 120 a minute)") {
		t.Fatalf("past the cap on failures: %d %s", status, body)
	}
}
