package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// Limits of what the server fetches from an issuer: its discovery document and key set
// are a few KiB, and an issuer that answers more, slower or elsewhere is refused rather
// than followed.
const (
	maxDiscoveryBytes = 64 << 10
	maxJWKSBytes      = 256 << 10
	// maxJWKSKeys caps the keys read from a key set; issuers publish two or three.
	maxJWKSKeys = 32
	// issuerTimeout bounds one request to an issuer.
	issuerTimeout = 10 * time.Second
	// jwksRefetchEvery is the least time between two fetches of a key set: a token
	// with an unknown key id triggers at most one fetch a minute, so tokens made up
	// by anyone cannot make the server hammer the issuer.
	jwksRefetchEvery = time.Minute
	// jwksMaxAge is how long a key set is used without a token asking for an unknown
	// key: past it the next exchange fetches it again, so a key the issuer withdrew
	// stops being accepted.
	jwksMaxAge = time.Hour
)

// oidcAlgs are the signature algorithms accepted: what GitHub and GitLab sign with. A
// token signed otherwise, "none" and HMAC ones (whose key would be the public key every
// one can fetch) included, is refused before any key is looked at.
var oidcAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// issuerClient returns the client for requests to issuers: base's transport (the
// default one when base is nil), a timeout, and redirects followed only on the same
// scheme and host, at most three.
func issuerClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if c.Timeout == 0 || c.Timeout > issuerTimeout {
		c.Timeout = issuerTimeout
	}
	c.Jar = nil
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		if req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("a redirect to another host (%s) is not followed", req.URL.Host)
		}
		return nil
	}
	return c
}

// getJSON fetches url into v, reading at most limit bytes.
func getJSON(ctx context.Context, c *http.Client, url string, limit int64, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(body)) > limit {
		return fmt.Errorf("GET %s: the answer is larger than %d bytes", url, limit)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: not the JSON expected: %w", url, err)
	}
	return nil
}

// discover reads the issuer's discovery document and returns its key set's URL, which
// must be https (or http on a loopback host when the issuer is such a local one: an
// https issuer's document cannot send the server to a plain http service of its host).
func discover(ctx context.Context, c *http.Client, issuer string) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := getJSON(ctx, c, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", maxDiscoveryBytes, &doc); err != nil {
		return "", err
	}
	if doc.Issuer != issuer {
		return "", fmt.Errorf("the discovery document names issuer %q, not %q", truncateUTF8(doc.Issuer, 128), issuer)
	}
	u, err := url.Parse(doc.JWKSURI)
	localHTTP := u != nil && u.Scheme == "http" && strings.HasPrefix(issuer, "http://") && isLoopbackHost(u.Host)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !localHTTP) {
		return "", fmt.Errorf("the discovery document's jwks_uri %q is not an https URL", truncateUTF8(doc.JWKSURI, 128))
	}
	return doc.JWKSURI, nil
}

// keySet is an issuer's signing keys, fetched at most once every jwksRefetchEvery and
// only when a token names a key it lacks (or when it is older than jwksMaxAge). It is
// the oidc.KeySet of a provider's verifier. A token whose signature fails with a known
// key never causes a fetch.
type keySet struct {
	url    string
	client *http.Client
	now    func() time.Time

	mu        sync.Mutex
	keys      []jose.JSONWebKey
	fetchedAt time.Time // of the keys held
	triedAt   time.Time // of the last fetch, whether it worked or not
}

// refresh fetches the key set, unless one was fetched within jwksRefetchEvery. It
// keeps the keys it holds when the fetch fails.
func (k *keySet) refresh(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	if !k.triedAt.IsZero() && now.Sub(k.triedAt) < jwksRefetchEvery {
		return nil
	}
	k.triedAt = now
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := getJSON(ctx, k.client, k.url, maxJWKSBytes, &set); err != nil {
		return err
	}
	var keys []jose.JSONWebKey
	for i, raw := range set.Keys {
		if i == maxJWKSKeys {
			break
		}
		var jwk jose.JSONWebKey
		// A key of a type this server does not use is skipped, not fatal: the set
		// may hold others that it does.
		if jwk.UnmarshalJSON(raw) != nil || !usableKey(jwk) {
			continue
		}
		keys = append(keys, jwk)
	}
	if len(keys) == 0 {
		return fmt.Errorf("the key set at %s holds no RSA (2048 bits or more) or P-256 signing key", k.url)
	}
	k.keys, k.fetchedAt = keys, now
	return nil
}

// usableKey keeps public signing keys of the types oidcAlgs verify with.
func usableKey(k jose.JSONWebKey) bool {
	if !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
		return false
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		return pub.N.BitLen() >= 2048 && (k.Algorithm == "" || k.Algorithm == string(jose.RS256))
	case *ecdsa.PublicKey:
		return pub.Curve == elliptic.P256() && (k.Algorithm == "" || k.Algorithm == string(jose.ES256))
	}
	return false
}

// candidates returns the held keys a token with key id kid and algorithm alg may be
// signed with, and whether they are stale.
func (k *keySet) candidates(kid string, alg string) (keys []jose.JSONWebKey, stale bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, key := range k.keys {
		if kid != "" && key.KeyID != kid {
			continue
		}
		if _, rsaKey := key.Key.(*rsa.PublicKey); rsaKey != (alg == string(jose.RS256)) {
			continue
		}
		keys = append(keys, key)
	}
	return keys, k.fetchedAt.IsZero() || k.now().Sub(k.fetchedAt) >= jwksMaxAge
}

// VerifySignature implements oidc.KeySet: it returns the token's payload when one of
// the issuer's keys signed it with an accepted algorithm.
func (k *keySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	jws, err := jose.ParseSignedCompact(token, oidcAlgs)
	if err != nil {
		return nil, fmt.Errorf("malformed or not signed with RS256 or ES256: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("a token needs exactly one signature")
	}
	h := jws.Signatures[0].Header
	keys, stale := k.candidates(h.KeyID, h.Algorithm)
	if (len(keys) == 0 && h.KeyID != "") || stale {
		// On a failed fetch the keys held still serve.
		if err := k.refresh(context.WithoutCancel(ctx)); err != nil && len(keys) == 0 {
			return nil, fmt.Errorf("fetching the issuer's keys: %w", err)
		}
		keys, _ = k.candidates(h.KeyID, h.Algorithm)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no key of the issuer has id %q", truncateUTF8(h.KeyID, 64))
	}
	for _, key := range keys {
		if payload, err := jws.Verify(key.Key); err == nil {
			return payload, nil
		}
	}
	return nil, errors.New("the signature does not verify")
}
