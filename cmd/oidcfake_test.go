package cmd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// oidcFake is a GitHub Actions runner's token endpoint and an OpenID issuer for it
// (discovery and JWKS, tokens signed with ES256), on loopback: the server under test
// trusts it as an issuer, and the CLI asks it for tokens as it asks a runner.
type oidcFake struct {
	url          string
	requestToken string
	key          *ecdsa.PrivateKey

	mu     sync.Mutex
	minted []string
	claims map[string]any // of the next tokens, beside iss, aud and the times
	log    []string
}

type oidcFakeKey struct{}

// cmdStartOIDCFake starts the fake and sets ACTIONS_ID_TOKEN_REQUEST_URL and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN as a runner does for a job with id-token: write, and
// OIDC_ISSUER, the issuer's URL for the server's configuration.
func cmdStartOIDCFake(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! startoidcfake")
	}
	f := &oidcFake{requestToken: "ghs_" + randomBase62(ts, 36), claims: map[string]any{
		"sub": "repo:acme/app:environment:prod", "repository": "acme/app", "repository_id": "1296269", "repository_owner": "acme",
		"ref": "refs/heads/main", "environment": "prod", "workflow": "deploy", "event_name": "push",
	}}
	var err error
	f.key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ts.Check(err)
	if len(args) != 0 {
		ts.Fatalf("usage: startoidcfake")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/idtoken":
			f.serveToken(w, r)
		case r.URL.Path == "/.well-known/openid-configuration":
			writeJSON(w, map[string]any{"issuer": f.url, "jwks_uri": f.url + "/jwks", "response_types_supported": []string{"id_token"},
				"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"ES256"}})
		case r.URL.Path == "/jwks":
			f.serveJWKS(w)
		default:
			http.NotFound(w, r)
		}
	}))
	ts.Defer(srv.Close)
	f.url = srv.URL
	ts.Value(oidcFakeKey{}).(*oidcFakeSlot).f = f
	ts.Setenv("ACTIONS_ID_TOKEN_REQUEST_URL", srv.URL+"/idtoken?api-version=2.0")
	ts.Setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", f.requestToken)
	ts.Setenv("OIDC_ISSUER", srv.URL)
}

type oidcFakeSlot struct{ f *oidcFake }

func currentOIDCFake(ts *testscript.TestScript) *oidcFake {
	f := ts.Value(oidcFakeKey{}).(*oidcFakeSlot).f
	if f == nil {
		ts.Fatalf("no OIDC fake: run startoidcfake first")
	}
	return f
}

// cmdOIDCFake inspects and steers the fake:
//
//	oidcfake log     print what the fake was asked since the last log, one line a request
//	oidcfake noleak  fail if the last command's stdout or stderr holds the request token,
//	                 or a minted token
//	oidcfake claim NAME VALUE  give the next tokens this claim; an empty VALUE removes it
func cmdOIDCFake(ts *testscript.TestScript, neg bool, args []string) {
	const usage = "usage: oidcfake log|noleak|claim NAME VALUE"
	f := currentOIDCFake(ts)
	if neg || len(args) == 0 {
		ts.Fatalf(usage)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if args[0] == "claim" && len(args) == 3 {
		if args[2] == "" {
			delete(f.claims, args[1])
		} else {
			f.claims[args[1]] = args[2]
		}
		return
	}
	if len(args) != 1 {
		ts.Fatalf(usage)
	}
	switch args[0] {
	case "log":
		if len(f.log) == 0 {
			// A line of its own: a custom command that prints nothing leaves the previous
			// exec's stdout in place for the next check.
			fmt.Fprintln(ts.Stdout(), "no requests")
		}
		for _, line := range f.log {
			fmt.Fprintln(ts.Stdout(), line)
		}
		f.log = nil
	case "noleak":
		out := ts.ReadFile("stdout") + ts.ReadFile("stderr")
		secrets := append([]string{f.requestToken}, f.minted...)
		for _, s := range secrets {
			if strings.Contains(out, s) {
				ts.Fatalf("the output holds a credential of the sign-in")
			}
		}
	default:
		ts.Fatalf(usage)
	}
}

func (f *oidcFake) note(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf(format, args...))
}

// auth names the credential a request carried, never its value.
func (f *oidcFake) auth(r *http.Request) string {
	a := r.Header.Get("Authorization")
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case a == "":
		return "none"
	case a == "Bearer "+f.requestToken:
		return "request-token"
	}
	return "other"
}

// serveToken answers as the runner's endpoint: a token for the audience asked, to the
// holder of the request token only.
func (f *oidcFake) serveToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.note("token api-version=%s audience=%s auth=%s", q.Get("api-version"), q.Get("audience"), f.auth(r))
	if r.Header.Get("Authorization") != "Bearer "+f.requestToken {
		http.Error(w, `{"message":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": f.url, "aud": q.Get("audience"),
		"iat": now.Unix(), "nbf": now.Add(-time.Minute).Unix(), "exp": now.Add(5 * time.Minute).Unix()}
	f.mu.Lock()
	for k, v := range f.claims {
		claims[k] = v
	}
	f.mu.Unlock()
	token, err := f.sign(claims)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	f.mu.Lock()
	f.minted = append(f.minted, token)
	f.mu.Unlock()
	writeJSON(w, map[string]string{"value": token})
}

// sign makes an ES256 JWT of claims with the fake's key.
func (f *oidcFake) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "ES256", "typ": "JWT", "kid": "fake-1"})
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding.EncodeToString
	signed := enc(header) + "." + enc(payload)
	digest := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, f.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return signed + "." + enc(sig), nil
}

func (f *oidcFake) serveJWKS(w http.ResponseWriter) {
	pub, err := f.key.PublicKey.ECDH()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	point := pub.Bytes() // 0x04, then X and Y of 32 bytes each
	enc := base64.RawURLEncoding.EncodeToString
	writeJSON(w, map[string]any{"keys": []map[string]string{{
		"kty": "EC", "crv": "P-256", "kid": "fake-1", "use": "sig", "alg": "ES256",
		"x": enc(point[1:33]), "y": enc(point[33:]),
	}}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func randomBase62(ts *testscript.TestScript, n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	_, err := rand.Read(b)
	ts.Check(err)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// cmdExpandEnv copies SRC to DST with $NAME and ${NAME} replaced by the script's
// variables, for files that must name an address known only at run time.
func cmdExpandEnv(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: expandenv SRC DST")
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(os.Expand(ts.ReadFile(args[0]), ts.Getenv)), 0o600))
}
