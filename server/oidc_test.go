package server_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/server"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

// issuer is a local OIDC issuer: discovery and a key set on an httptest TLS server.
type issuer struct {
	srv       *httptest.Server
	mu        sync.Mutex
	published []jose.JSONWebKey
	down      atomic.Bool
	discovery atomic.Int32
	jwks      atomic.Int32
}

func newIssuer(t *testing.T) *issuer {
	is := &issuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		is.discovery.Add(1)
		if is.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"issuer": is.srv.URL, "jwks_uri": is.srv.URL + "/jwks"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		is.jwks.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: is.published})
	})
	is.srv = httptest.NewTLSServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

// publish makes the key set hold exactly the public halves of keys.
func (is *issuer) publish(keys ...*signingKey) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.published = nil
	for _, k := range keys {
		is.published = append(is.published, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Use: "sig", Algorithm: string(k.alg)})
	}
}

type signingKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newRSAKey(t *testing.T, kid string) *signingKey {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &signingKey{kid: kid, alg: jose.RS256, priv: priv}
}

func newECKey(t *testing.T, kid string) *signingKey {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signingKey{kid: kid, alg: jose.ES256, priv: priv}
}

// sign makes a compact JWS of claims with key k, naming kid in its header.
func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type oidcWorld struct {
	*world
	is  *issuer
	key *signingKey
}

const audience = "https://vault.example.com"

func newOIDCWorld(t *testing.T) *oidcWorld {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := storetest.NewFixture(t, store, vault.Options{})
	is := newIssuer(t)
	w := &oidcWorld{world: &world{Fixture: f, ids: map[string]string{}, tokens: map[string]string{}}, is: is, key: newRSAKey(t, "k1")}
	is.publish(w.key, newECKey(t, "e1"))
	w.api = server.New(f.Vault, server.Options{LoopbackOnly: true, Now: f.Clock.Now, OIDCClient: is.srv.Client(),
		OIDC: []server.OIDCProvider{{Name: "github", Issuer: is.srv.URL, Audience: audience, Rules: []server.OIDCRule{
			{Space: "acme", Claims: map[string]string{"repository": "acme/app", "ref": "refs/heads/main"}, Role: vault.RoleRead,
				Collection: "my-saas", Environment: "prod", TTL: 10 * time.Minute},
			{Space: "acme", Claims: map[string]string{"repository": "acme/tool", "environment": "*"}, Role: vault.RoleWrite,
				Collection: "my-saas", Environment: "dev", TTL: 5 * time.Minute},
		}}}})
	w.srv = httptest.NewServer(w.api)
	t.Cleanup(w.srv.Close)
	if _, err := f.Vault.CreateCollection(ctx, f.Actor, f.Space.ID, "other", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Vault.CreateEnvironment(ctx, f.Actor, f.Space.ID, "other", "prod"); err != nil {
		t.Fatal(err)
	}
	f.Put(t, "prod", "PROD_TOKEN", "prod-token-value-456")
	f.Put(t, "dev", "DEV_TOKEN", "dev-token-value-123")
	return w
}

// claims are those of a GitHub Actions token of acme/app on main, valid now.
func (w *oidcWorld) claims(edit func(map[string]any)) map[string]any {
	now := w.Clock.Now()
	c := map[string]any{"iss": w.is.srv.URL, "aud": audience, "sub": "repo:acme/app:ref:refs/heads/main",
		"repository": "acme/app", "ref": "refs/heads/main", "repository_id": "42",
		"iat": now.Unix(), "nbf": now.Add(-5 * time.Second).Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	if edit != nil {
		edit(c)
	}
	return c
}

func (w *oidcWorld) token(t *testing.T, edit func(map[string]any)) string {
	return sign(t, w.key.alg, w.key.priv, w.key.kid, w.claims(edit))
}

func (w *oidcWorld) exchange(t *testing.T, provider, token string) (int, api.OIDCExchangeResponse, string) {
	t.Helper()
	status, body := w.do(t, "", http.MethodPost, "/v1/auth/oidc", api.OIDCExchangeRequest{Provider: provider, Token: token})
	var resp api.OIDCExchangeResponse
	var refusal api.ErrorBody
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatal(err)
		}
	} else if err := json.Unmarshal(body, &refusal); err != nil || refusal.Error == nil {
		t.Fatalf("%d %s is not an API error", status, body)
	} else {
		return status, resp, refusal.Error.Message
	}
	return status, resp, string(body)
}

// TestOIDCExchangeGivesAKeyOfTheRulesScope: a good token gets a read key limited to the
// rule's collection and environment, which expires at the rule's ttl; the exchange is
// audited with the subject and the claims matched, never the token.
func TestOIDCExchangeGivesAKeyOfTheRulesScope(t *testing.T) {
	w := newOIDCWorld(t)
	tok := w.token(t, nil)
	status, resp, body := w.exchange(t, "github", tok)
	if status != http.StatusOK {
		t.Fatalf("exchange: %d %s", status, body)
	}
	if !strings.HasPrefix(resp.Key, vault.APIKeyPrefix) || resp.Space != "acme" || resp.Role != "read" || resp.Collection != "my-saas" ||
		resp.Environment != "prod" || !resp.ExpiresAt.Equal(w.Clock.Now().Add(10*time.Minute)) {
		t.Fatalf("response %+v", resp)
	}
	if status, body := w.do(t, resp.Key, http.MethodPost, "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "prod"}); status != http.StatusOK || !strings.Contains(string(body), "prod-token-value-456") {
		t.Fatalf("resolve of the rule's scope: %d %s", status, body)
	}
	for _, tc := range []struct {
		desc, method, path string
		body               any
		want               int
	}{
		{"another environment", http.MethodPost, "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev"}, http.StatusNotFound},
		{"another collection", http.MethodPost, "/v1/resolve", api.ResolveRequest{Collection: "other", Environment: "prod"}, http.StatusNotFound},
		{"a write", http.MethodPost, "/v1/secrets", api.CreateSecretRequest{Collection: "my-saas", Environment: "prod", Name: "NEW", Fields: map[string]string{"value": "x"}}, http.StatusForbidden},
		{"a key", http.MethodPost, "/v1/keys", api.CreateAPIKeyRequest{Name: "more", Role: "read"}, http.StatusForbidden},
	} {
		if status, body := w.do(t, resp.Key, tc.method, tc.path, tc.body); status != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.desc, status, body, tc.want)
		}
	}
	events, err := w.Vault.Audit(context.Background(), vault.AuditQuery{SpaceID: w.Space.ID, Action: "auth.oidc", Limit: 10})
	if err != nil || len(events) != 1 {
		t.Fatalf("audit: %v, %v", events, err)
	}
	ev := events[0]
	if ev.Outcome != vault.OutcomeOK || ev.ActorKeyID != resp.KeyID || ev.ActorName != "oidc:github:repo:acme/app:ref:refs/heads/main" ||
		ev.Target.Reason != "provider github, subject repo:acme/app:ref:refs/heads/main: rule 1 matched ref=refs/heads/main, repository=acme/app" {
		t.Fatalf("audit event %+v", ev)
	}
	all, err := w.Vault.Audit(context.Background(), vault.AuditQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range all {
		if data, _ := json.Marshal(ev); strings.Contains(string(data), tok[:40]) || strings.Contains(string(data), resp.Key) {
			t.Fatalf("an audit event holds the token or the key: %s", data)
		}
	}

	w.Clock.Advance(10*time.Minute - time.Second)
	if status, body := w.do(t, resp.Key, http.MethodGet, "/v1/whoami", nil); status != http.StatusOK {
		t.Fatalf("a second before the ttl: %d %s", status, body)
	}
	w.Clock.Advance(time.Second)
	if status, _ := w.do(t, resp.Key, http.MethodGet, "/v1/whoami", nil); status != http.StatusUnauthorized {
		t.Fatalf("at the ttl: %d, want 401", status)
	}

	// The next exchange deletes the expired key; the new one is the second rule's.
	tool := w.token(t, func(c map[string]any) { c["repository"], c["environment"] = "acme/tool", "staging" })
	status, resp2, body := w.exchange(t, "github", tool)
	if status != http.StatusOK || resp2.Role != "write" || resp2.Environment != "dev" || !resp2.ExpiresAt.Equal(w.Clock.Now().Add(5*time.Minute)) {
		t.Fatalf("second rule: %d %s", status, body)
	}
	keys, err := w.Vault.APIKeys(context.Background(), w.Space.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.ID == resp.KeyID {
			t.Fatal("the expired exchanged key was not deleted")
		}
	}
}

// pemOf is a public key as the PEM bytes an HS256 forgery would use as its secret.
func pemOf(t *testing.T, pub crypto.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "none", "typ": "JWT", "kid": "k1"})
	p, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// TestOIDCRefusals: each bad token is refused with 401 and a reason, and audited.
func TestOIDCRefusals(t *testing.T) {
	w := newOIDCWorld(t)
	other := newRSAKey(t, "k1") // same kid, not the issuer's key
	for _, tc := range []struct {
		desc  string
		token func() string
		want  string
	}{
		{"wrong audience", func() string { return w.token(t, func(c map[string]any) { c["aud"] = "https://other.example.com" }) }, "its audience does not include"},
		{"wrong issuer", func() string {
			return w.token(t, func(c map[string]any) { c["iss"] = "https://token.actions.githubusercontent.com" })
		}, "its issuer is not"},
		{"bad signature", func() string { return sign(t, jose.RS256, other.priv, "k1", w.claims(nil)) }, "signature does not verify"},
		{"alg none", func() string { return unsigned(w.claims(nil)) }, "not a JWT signed with RS256 or ES256"},
		{"HS256 with the public key", func() string { return sign(t, jose.HS256, pemOf(t, w.key.priv.Public()), "k1", w.claims(nil)) }, "not a JWT signed with RS256 or ES256"},
		{"expired", func() string {
			return w.token(t, func(c map[string]any) { c["exp"] = w.Clock.Now().Add(-time.Second).Unix() })
		}, "it expired at"},
		{"no expiry", func() string { return w.token(t, func(c map[string]any) { delete(c, "exp") }) }, "it expired at"},
		{"not yet valid", func() string {
			return w.token(t, func(c map[string]any) { c["nbf"] = w.Clock.Now().Add(10 * time.Minute).Unix() })
		}, "not valid yet"},
		{"not yet valid within go-oidc's leeway", func() string {
			return w.token(t, func(c map[string]any) { c["nbf"] = w.Clock.Now().Add(3 * time.Minute).Unix() })
		}, "not valid yet"},
		{"not yet valid, nbf a string", func() string {
			return w.token(t, func(c map[string]any) { c["nbf"] = fmt.Sprint(w.Clock.Now().Add(3 * time.Minute).Unix()) })
		}, "not valid yet"},
		{"unmatched claims", func() string { return w.token(t, func(c map[string]any) { c["ref"] = "refs/heads/dev" }) }, "no rule of provider github matches"},
		{"case differs", func() string { return w.token(t, func(c map[string]any) { c["repository"] = "Acme/App" }) }, "no rule of provider github matches"},
		{"missing claim with *", func() string { return w.token(t, func(c map[string]any) { c["repository"] = "acme/tool" }) }, "no rule of provider github matches"},
		{"non-string claim with *", func() string {
			return w.token(t, func(c map[string]any) { c["repository"], c["environment"] = "acme/tool", 7 })
		}, "no rule of provider github matches"},
		{"non-string claim", func() string {
			return w.token(t, func(c map[string]any) { c["repository"] = []string{"acme/app"} })
		}, "no rule of provider github matches"},
		{"unknown provider", func() string { return "" }, `no provider "gitlab" is configured`},
		{"not a JWT", func() string { return "kzl_not-a-token" }, "not a JWT signed with RS256 or ES256"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			// A new minute: each refusal is its source's first, recorded in full.
			w.Clock.Advance(time.Minute)
			provider := "github"
			if tc.desc == "unknown provider" {
				provider = "gitlab"
			}
			tok := tc.token()
			if provider == "gitlab" {
				tok = w.token(t, nil)
			}
			status, _, body := w.exchange(t, provider, tok)
			if status != http.StatusUnauthorized || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s, want 401 with %q", status, body, tc.want)
			}
			events, err := w.Vault.Audit(context.Background(), vault.AuditQuery{Action: "auth.oidc", Since: w.Clock.Now(), Limit: 10})
			if err != nil || len(events) != 1 || events[0].Outcome != vault.OutcomeDenied || !strings.Contains(events[0].Target.Reason, tc.want) {
				t.Fatalf("audit: %+v, %v", events, err)
			}
			if strings.Contains(events[0].Target.Reason, tok) {
				t.Fatal("the audit event holds the token")
			}
		})
	}
}

// TestOIDCBadSignaturesFetchTheKeySetOnce: tokens that name an unknown key or fail with a
// known one fetch the issuer's key set once a minute at most.
func TestOIDCBadSignaturesFetchTheKeySetOnce(t *testing.T) {
	w := newOIDCWorld(t)
	if status, _, body := w.exchange(t, "github", w.token(t, nil)); status != http.StatusOK {
		t.Fatalf("first exchange: %d %s", status, body)
	}
	if n := w.is.jwks.Load(); n != 1 {
		t.Fatalf("key set fetched %d times by discovery, want 1", n)
	}
	w.Clock.Advance(2 * time.Minute)
	forger := newRSAKey(t, "k1")
	for i := range 100 {
		kid := "k1"
		if i%2 == 0 {
			kid = fmt.Sprintf("unknown-%d", i)
		}
		if status, _, body := w.exchange(t, "github", sign(t, jose.RS256, forger.priv, kid, w.claims(nil))); status != http.StatusUnauthorized {
			t.Fatalf("forged token %d: %d %s", i, status, body)
		}
	}
	if n := w.is.jwks.Load(); n > 2 {
		t.Fatalf("100 bad tokens fetched the key set %d times, want at most 1", n-1)
	}
}

// TestOIDCKeyRotation: a key the issuer withdrew is refused once a token with its new
// key made the server fetch the key set again; an ES256 key serves as well.
func TestOIDCKeyRotation(t *testing.T) {
	w := newOIDCWorld(t)
	old := w.token(t, nil)
	if status, _, body := w.exchange(t, "github", old); status != http.StatusOK {
		t.Fatalf("with the first key: %d %s", status, body)
	}
	next := newECKey(t, "k2")
	w.is.publish(next)
	w.Clock.Advance(2 * time.Minute)
	fresh := sign(t, jose.ES256, next.priv, "k2", w.claims(nil))
	if status, _, body := w.exchange(t, "github", fresh); status != http.StatusOK {
		t.Fatalf("with the new key: %d %s", status, body)
	}
	status, _, body := w.exchange(t, "github", w.token(t, nil))
	if status != http.StatusUnauthorized || !strings.Contains(body, `no key of the issuer has id`) && !strings.Contains(body, "signature does not verify") {
		t.Fatalf("with the withdrawn key: %d %s", status, body)
	}
	events, err := w.Vault.Audit(context.Background(), vault.AuditQuery{Action: "auth.oidc", Limit: 10})
	if err != nil || len(events) == 0 || events[0].Outcome != vault.OutcomeDenied {
		t.Fatalf("the refusal is not audited: %+v, %v", events, err)
	}
}

// TestOIDCIssuerDownAtStart: the server starts and lists its providers with the issuer
// down; an exchange answers 503 and tries the issuer again only after a backoff.
func TestOIDCIssuerDownAtStart(t *testing.T) {
	w := newOIDCWorld(t)
	w.is.down.Store(true)
	status, body := w.do(t, "", http.MethodGet, "/v1/auth/oidc/providers", nil)
	var list api.OIDCProviderList
	if err := json.Unmarshal(body, &list); status != http.StatusOK || err != nil || len(list.Providers) != 1 ||
		list.Providers[0] != (api.OIDCProvider{Name: "github", Issuer: w.is.srv.URL, Audience: audience}) {
		t.Fatalf("providers: %d %s", status, body)
	}
	tok := w.token(t, nil)
	for range 3 {
		if status, _, body := w.exchange(t, "github", tok); status != http.StatusServiceUnavailable || !strings.Contains(body, "cannot be reached") ||
			!strings.Contains(body, "tries again after") {
			t.Fatalf("issuer down: %d %s", status, body)
		}
	}
	if n := w.is.discovery.Load(); n != 1 {
		t.Fatalf("discovery tried %d times within the backoff, want 1", n)
	}
	w.is.down.Store(false)
	if status, _, _ := w.exchange(t, "github", tok); status != http.StatusServiceUnavailable {
		t.Fatalf("within the backoff, the issuer up: %d, want 503", status)
	}
	w.Clock.Advance(5 * time.Second)
	if status, _, body := w.exchange(t, "github", tok); status != http.StatusOK {
		t.Fatalf("after the backoff: %d %s", status, body)
	}
	if n := w.is.discovery.Load(); n != 2 {
		t.Fatalf("discovery tried %d times, want 2", n)
	}
}

// TestOIDCExchangeLimits: a body past the limit is 413; exchanges past the per-source
// cap in a minute are 429, and allowed again the next minute.
func TestOIDCExchangeLimits(t *testing.T) {
	w := newOIDCWorld(t)
	big := `{"provider":"github","token":"` + strings.Repeat("a", 32<<10) + `"}`
	if status, body := w.do(t, "", http.MethodPost, "/v1/auth/oidc", big); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a body past the limit: %d %s", status, body)
	}
	long := strings.Repeat("a", 16<<10+1)
	if status, _, body := w.exchange(t, "github", long); status != http.StatusUnauthorized || !strings.Contains(body, "the limit is 16384") {
		t.Fatalf("a token past the limit: %d %s", status, body)
	}
	w.Clock.Advance(time.Minute)
	w.Clock.Advance(-time.Duration(w.Clock.Now().Second()) * time.Second) // the start of a minute
	for i := range 120 {
		if status, _, body := w.exchange(t, "nope", "x"); status != http.StatusUnauthorized {
			t.Fatalf("exchange %d: %d %s", i+1, status, body)
		}
	}
	status, body := w.do(t, "", http.MethodPost, "/v1/auth/oidc", api.OIDCExchangeRequest{Provider: "github", Token: w.token(t, nil)})
	if status != http.StatusTooManyRequests || !strings.Contains(string(body), "at most 120 a minute") {
		t.Fatalf("exchange 121: %d %s", status, body)
	}
	w.Clock.Advance(time.Minute)
	if status, _, body := w.exchange(t, "github", w.token(t, nil)); status != http.StatusOK {
		t.Fatalf("the next minute: %d %s", status, body)
	}
}

// TestOIDCKeyNamesAreReserved: an admin cannot make a key named like an exchanged one,
// which would be deleted once expired and read in the audit trail as a CI job's.
func TestOIDCKeyNamesAreReserved(t *testing.T) {
	w := newWorld(t)
	status, body := w.do(t, w.tokens["admin"], http.MethodPost, "/v1/keys", api.CreateAPIKeyRequest{Name: "oidc:github:repo:acme/app", Role: "read"})
	if status != http.StatusBadRequest || !strings.Contains(string(body), "kept for keys exchanged for identity tokens") {
		t.Fatalf("%d %s", status, body)
	}
	if status, body := w.do(t, w.tokens["admin"], http.MethodPost, "/v1/keys", api.CreateAPIKeyRequest{Name: "ci-oidc", Role: "read"}); status != http.StatusCreated {
		t.Fatalf("another name: %d %s", status, body)
	}
}
