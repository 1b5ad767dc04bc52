package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
)

const (
	testRequestToken = "ghs_requestTokenOfTheRunner0123456789"
	testExchangedKey = "kzl_exchangedForTheJobToken0123456789abcdef"
	testStoredKey    = "kzl_storedKeyOfTheRepository0123456789abcd"
	testAudience     = "https://vault.example.com"
)

// fakeJWT has the shape of a signed JWT whose payload holds claim: three base64url parts.
func fakeJWT(claim string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","kid":"k1"}`)) + "." + enc([]byte(`{"sub":"`+claim+`"}`)) + "." + enc([]byte("signature"))
}

var testJWT = fakeJWT("repo:acme/app:ref:refs/heads/main")

// fakeCI is a GitHub Actions token endpoint and a vault server that exchanges its
// tokens, each recording what it was sent.
type fakeCI struct {
	t         *testing.T
	providers []api.OIDCProvider
	// tokenAnswer, when set, answers the token endpoint instead of {"value": testJWT}.
	tokenAnswer func(w http.ResponseWriter, r *http.Request)
	refuse      bool          // the exchange answers 401
	ttl         time.Duration // of an exchanged key

	tokens, vault *httptest.Server
	mu            sync.Mutex
	tokenHits     []string // raw queries
	tokenAuth     []string
	exchanges     []api.OIDCExchangeRequest
	vaultAuth     []string // Authorization of the requests other than the sign-in's
}

func newFakeCI(t *testing.T) *fakeCI {
	f := &fakeCI{t: t, ttl: 15 * time.Minute,
		providers: []api.OIDCProvider{{Name: "github", Issuer: "https://token.actions.githubusercontent.com", Audience: testAudience}}}
	f.tokens = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.tokenHits = append(f.tokenHits, r.URL.RawQuery)
		f.tokenAuth = append(f.tokenAuth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		if f.tokenAnswer != nil {
			f.tokenAnswer(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+testRequestToken {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"value": testJWT})
	}))
	f.vault = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/auth/oidc/providers":
			json.NewEncoder(w).Encode(api.OIDCProviderList{Providers: f.providers})
			return
		case "/v1/auth/oidc":
			var req api.OIDCExchangeRequest
			json.NewDecoder(r.Body).Decode(&req)
			f.mu.Lock()
			f.exchanges = append(f.exchanges, req)
			f.mu.Unlock()
			if f.refuse {
				w.WriteHeader(http.StatusUnauthorized)
				w.Write([]byte(`{"error":{"code":"unauthenticated","message":"no rule of the provider matches the token"}}`))
				return
			}
			json.NewEncoder(w).Encode(api.OIDCExchangeResponse{Key: testExchangedKey, KeyID: "key-1", Space: "acme", Role: "read",
				Collection: "my-saas", Environment: "prod", ExpiresAt: time.Now().Add(f.ttl)})
			return
		}
		f.mu.Lock()
		f.vaultAuth = append(f.vaultAuth, r.Header.Get("Authorization"))
		f.mu.Unlock()
		exp := time.Now().Add(f.ttl)
		json.NewEncoder(w).Encode(api.APIKey{ID: "key-1", Name: "oidc github", Role: "read", Collection: "my-saas", Environment: "prod", ExpiresAt: &exp})
	}))
	t.Cleanup(f.tokens.Close)
	t.Cleanup(f.vault.Close)
	return f
}

// githubEnv is the environment of a GitHub Actions job with permissions: id-token: write.
func (f *fakeCI) githubEnv() map[string]string {
	return map[string]string{
		"KAZZLE_SERVER":                  f.vault.URL,
		"ACTIONS_ID_TOKEN_REQUEST_URL":   f.tokens.URL + "/idtoken?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": testRequestToken,
	}
}

// run runs kazzle with env and args; it fails the test if the output holds a credential.
func (f *fakeCI) run(env map[string]string, args ...string) (code int, stdout, stderr string) {
	f.t.Helper()
	var out, errOut bytes.Buffer
	c := &cli{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut,
		getenv: func(k string) string { return env[k] }, environ: func() []string { return nil }}
	code = c.main(context.Background(), args)
	for _, secret := range []string{testRequestToken, testJWT, testExchangedKey, strings.Split(testJWT, ".")[1]} {
		if strings.Contains(out.String()+errOut.String(), secret) {
			f.t.Errorf("the output holds a credential:\n%s%s", out.String(), errOut.String())
		}
	}
	return code, out.String(), errOut.String()
}

func (f *fakeCI) counts() (tokenHits, exchanges, vaultRequests int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokenHits), len(f.exchanges), len(f.vaultAuth)
}

// TestOIDCSignInInGitHubActions: with no API key, kazzle asks the runner for a token with
// the provider's audience, exchanges it, and uses the exchanged key as the bearer; whoami
// says where the key came from without showing it.
func TestOIDCSignInInGitHubActions(t *testing.T) {
	f := newFakeCI(t)
	code, stdout, stderr := f.run(f.githubEnv(), "whoami")
	if code != 0 {
		t.Fatalf("whoami exited %d:\n%s", code, stderr)
	}
	if got, want := f.tokenHits, []string{"api-version=2.0&audience=https%3A%2F%2Fvault.example.com"}; len(got) != 1 || got[0] != want[0] {
		t.Errorf("token endpoint queries = %q, want %q", got, want)
	}
	if len(f.tokenAuth) != 1 || f.tokenAuth[0] != "Bearer "+testRequestToken {
		t.Errorf("the token endpoint got Authorization %q, want the request token", f.tokenAuth)
	}
	if len(f.exchanges) != 1 || f.exchanges[0] != (api.OIDCExchangeRequest{Provider: "github", Token: testJWT}) {
		t.Errorf("exchanges = %+v, want one of the runner's token with provider github", f.exchanges)
	}
	if len(f.vaultAuth) != 1 || f.vaultAuth[0] != "Bearer "+testExchangedKey {
		t.Errorf("whoami went with Authorization %q, want the exchanged key", f.vaultAuth)
	}
	if !strings.Contains(stdout, "key from:  OIDC: the identity token from GitHub Actions, exchanged with provider github") {
		t.Errorf("whoami does not say the key came from the identity token:\n%s", stdout)
	}

	_, stdout, _ = f.run(f.githubEnv(), "whoami", "--json")
	var who struct {
		ID           string `json:"id"`
		KeyFrom      string `json:"key_from"`
		OIDCProvider string `json:"oidc_provider"`
	}
	if err := json.Unmarshal([]byte(stdout), &who); err != nil || who != (struct {
		ID           string `json:"id"`
		KeyFrom      string `json:"key_from"`
		OIDCProvider string `json:"oidc_provider"`
	}{"key-1", "OIDC", "github"}) {
		t.Errorf("whoami --json = %s (%v)", stdout, err)
	}
}

// TestOIDCTokenFromAnotherCI: a token passed in KAZZLE_OIDC_TOKEN (GitLab's id_tokens) is
// exchanged as it is, with the provider KAZZLE_OIDC_PROVIDER names.
func TestOIDCTokenFromAnotherCI(t *testing.T) {
	f := newFakeCI(t)
	f.providers = append(f.providers, api.OIDCProvider{Name: "gitlab", Issuer: "https://gitlab.com", Audience: "https://vault.example.com/gitlab"})
	gitlabJWT := fakeJWT("project_path:acme/app:ref_type:branch:ref:main")
	env := map[string]string{"KAZZLE_SERVER": f.vault.URL, "KAZZLE_OIDC_TOKEN": gitlabJWT + "\n", "KAZZLE_OIDC_PROVIDER": "gitlab"}
	if code, _, stderr := f.run(env, "whoami"); code != 0 {
		t.Fatalf("whoami exited %d:\n%s", code, stderr)
	}
	if len(f.exchanges) != 1 || f.exchanges[0] != (api.OIDCExchangeRequest{Provider: "gitlab", Token: gitlabJWT}) {
		t.Errorf("exchanges = %+v, want the passed token with provider gitlab", f.exchanges)
	}
	if tokenHits, _, _ := f.counts(); tokenHits != 0 {
		t.Errorf("the GitHub token endpoint got %d requests for a passed token", tokenHits)
	}
}

// TestAStoredKeyCostsNoSignIn: with KAZZLE_API_KEY set, nothing is asked of the token
// endpoint or the exchange, even in a job that could sign in.
func TestAStoredKeyCostsNoSignIn(t *testing.T) {
	f := newFakeCI(t)
	env := f.githubEnv()
	env["KAZZLE_API_KEY"] = testStoredKey
	env["KAZZLE_OIDC_TOKEN"] = testJWT
	if code, _, stderr := f.run(env, "whoami"); code != 0 {
		t.Fatalf("whoami exited %d:\n%s", code, stderr)
	}
	if tokenHits, exchanges, _ := f.counts(); tokenHits != 0 || exchanges != 0 {
		t.Errorf("with a stored key: %d token requests, %d exchanges; want none", tokenHits, exchanges)
	}
	if f.vaultAuth[0] != "Bearer "+testStoredKey {
		t.Errorf("whoami went with %q, want the stored key", f.vaultAuth[0])
	}
}

// jwtOfSize is a token of JWT shape and exactly n bytes.
func jwtOfSize(n int) string {
	tail := "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"x"}`)) + ".c2ln"
	head := strings.Repeat("A", n-len(tail))
	return head + tail
}

// TestOIDCSignInRefusals: each refusal says what to do and holds no credential; where it
// can be decided without the network, the vault gets no request.
func TestOIDCSignInRefusals(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *fakeCI, env map[string]string)
		want  []string // in stderr
		// exchanges is how many exchanges the vault may see; -1: any
		exchanges int
	}{
		{
			name: "no request token",
			setup: func(f *fakeCI, env map[string]string) {
				delete(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
			},
			want: []string{"ACTIONS_ID_TOKEN_REQUEST_URL is set but ACTIONS_ID_TOKEN_REQUEST_TOKEN is not", "permissions: id-token: write"},
		},
		{
			name: "plain http to another host",
			setup: func(f *fakeCI, env map[string]string) {
				env["ACTIONS_ID_TOKEN_REQUEST_URL"] = "http://token.example.com/idtoken?api-version=2.0"
			},
			want: []string{"ACTIONS_ID_TOKEN_REQUEST_URL uses plain http to token.example.com: kazzle sends the request token only over https"},
		},
		{
			name: "redirect",
			setup: func(f *fakeCI, env map[string]string) {
				elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					f.t.Errorf("the redirect's target got a request with Authorization %q", r.Header.Get("Authorization"))
				}))
				f.t.Cleanup(elsewhere.Close)
				f.tokenAnswer = func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, elsewhere.URL+"/idtoken", http.StatusFound)
				}
			},
			want: []string{"answered 302 Found with a redirect, which kazzle does not follow so that the request token goes only to ACTIONS_ID_TOKEN_REQUEST_URL"},
		},
		{
			name: "answer past the limit",
			setup: func(f *fakeCI, env map[string]string) {
				f.tokenAnswer = func(w http.ResponseWriter, r *http.Request) {
					body := `{"value":"` + testJWT + `"}`
					w.Write([]byte(body + strings.Repeat(" ", maxTokenAnswer+1-len(body))))
				}
			},
			want: []string{"answered more than 65536 bytes"},
		},
		{
			name: "the runner refuses",
			setup: func(f *fakeCI, env map[string]string) {
				env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "ghs_notTheRunnersToken"
			},
			want: []string{"refused the request for an identity token: 401 Unauthorized", "hint: the job needs permissions: id-token: write"},
		},
		{
			name: "not a JWT",
			setup: func(f *fakeCI, env map[string]string) {
				f.tokenAnswer = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{"value":"not-a-jwt"}`)) }
			},
			want: []string{"the identity token is not a signed JWT"},
		},
		{
			name: "the exchange is refused",
			setup: func(f *fakeCI, env map[string]string) {
				f.refuse = true
			},
			want: []string{"sign in with the identity token from GitHub Actions: unauthenticated: no rule of the provider matches the token",
				"hint: the server refused the token for provider github (audience https://vault.example.com): the token must carry that audience, and one of the provider's rules must match the token's claims"},
			exchanges: 1,
		},
		{
			name: "several providers",
			setup: func(f *fakeCI, env map[string]string) {
				f.providers = append(f.providers, api.OIDCProvider{Name: "gitlab", Issuer: "https://gitlab.com", Audience: testAudience})
			},
			want: []string{"trusts several identity-token providers (github, gitlab): set KAZZLE_OIDC_PROVIDER to the one for this CI"},
		},
		{
			name: "unknown provider",
			setup: func(f *fakeCI, env map[string]string) {
				env["KAZZLE_OIDC_PROVIDER"] = "circleci"
			},
			want: []string{`KAZZLE_OIDC_PROVIDER names "circleci", which the server`, "set it to one of github"},
		},
		{
			name: "no provider on the server",
			setup: func(f *fakeCI, env map[string]string) {
				f.providers = nil
			},
			want: []string{"trusts no identity-token provider"},
		},
		{
			name: "a provider but no token",
			setup: func(f *fakeCI, env map[string]string) {
				delete(env, "ACTIONS_ID_TOKEN_REQUEST_URL")
				delete(env, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
				env["KAZZLE_OIDC_PROVIDER"] = "github"
			},
			want: []string{"KAZZLE_OIDC_PROVIDER is set but there is no identity token", "KAZZLE_OIDC_TOKEN (GitLab: id_tokens)"},
		},
		{
			name: "a passed token past the limit",
			setup: func(f *fakeCI, env map[string]string) {
				env["KAZZLE_OIDC_TOKEN"] = jwtOfSize(maxIDToken + 1)
			},
			want: []string{"KAZZLE_OIDC_TOKEN: the identity token is larger than 32768 bytes"},
		},
		{
			name: "a passed token that is not a JWT",
			setup: func(f *fakeCI, env map[string]string) {
				env["KAZZLE_OIDC_TOKEN"] = "glpat-notAnIdentityToken"
			},
			want: []string{"KAZZLE_OIDC_TOKEN: the identity token is not a signed JWT"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeCI(t)
			env := f.githubEnv()
			tc.setup(f, env)
			code, _, stderr := f.run(env, "whoami")
			if code == 0 {
				t.Fatal("whoami succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if _, exchanges, requests := f.counts(); exchanges != tc.exchanges || requests != 0 {
				t.Errorf("%d exchanges and %d other requests reached the vault, want %d and none", exchanges, requests, tc.exchanges)
			}
		})
	}
}

// TestOIDCTokensAtTheLimit: a token endpoint answer and a passed token at their limits
// are accepted.
func TestOIDCTokensAtTheLimit(t *testing.T) {
	f := newFakeCI(t)
	f.tokenAnswer = func(w http.ResponseWriter, r *http.Request) {
		body := `{"value":"` + testJWT + `"}`
		w.Write([]byte(body + strings.Repeat(" ", maxTokenAnswer-len(body))))
	}
	if code, _, stderr := f.run(f.githubEnv(), "whoami"); code != 0 {
		t.Fatalf("an answer of %d bytes was refused:\n%s", maxTokenAnswer, stderr)
	}
	big := jwtOfSize(maxIDToken)
	env := map[string]string{"KAZZLE_SERVER": f.vault.URL, "KAZZLE_OIDC_TOKEN": big}
	if code, _, stderr := f.run(env, "whoami"); code != 0 {
		t.Fatalf("a token of %d bytes was refused:\n%s", maxIDToken, stderr)
	}
	if got := f.exchanges[len(f.exchanges)-1].Token; got != big {
		t.Errorf("the exchange got a token of %d bytes, want the passed one", len(got))
	}
}

// TestTheTokenURLWithoutAQuery: the audience starts the query of a URL that has none.
func TestTheTokenURLWithoutAQuery(t *testing.T) {
	f := newFakeCI(t)
	env := f.githubEnv()
	env["ACTIONS_ID_TOKEN_REQUEST_URL"] = f.tokens.URL + "/idtoken"
	if code, _, stderr := f.run(env, "whoami"); code != 0 {
		t.Fatalf("whoami exited %d:\n%s", code, stderr)
	}
	if len(f.tokenHits) != 1 || f.tokenHits[0] != "audience=https%3A%2F%2Fvault.example.com" {
		t.Errorf("token endpoint queries = %q", f.tokenHits)
	}
}

// TestAnExchangedKeyIsRenewedBeforeItExpires: a key about to expire is exchanged again
// before the next request; one with time left is reused.
func TestAnExchangedKeyIsRenewedBeforeItExpires(t *testing.T) {
	for _, tc := range []struct {
		ttl       time.Duration
		exchanges int
	}{{time.Hour, 1}, {renewBefore / 2, 2}} {
		f := newFakeCI(t)
		f.ttl = tc.ttl
		env := f.githubEnv()
		s := &oidcSignIn{getenv: func(k string) string { return env[k] }}
		for range 2 {
			key, err := s.apiKey(context.Background(), f.vault.URL)
			if err != nil || key != testExchangedKey {
				t.Fatalf("ttl %s: apiKey = %v", tc.ttl, err)
			}
		}
		if _, exchanges, _ := f.counts(); exchanges != tc.exchanges {
			t.Errorf("ttl %s: %d exchanges for two requests, want %d", tc.ttl, exchanges, tc.exchanges)
		}
	}
}

// TestMCPRefusesAnIdentityToken: kazzle mcp scrubs the key it was given from results; it
// does not sign in with a token.
func TestMCPRefusesAnIdentityToken(t *testing.T) {
	f := newFakeCI(t)
	code, _, stderr := f.run(f.githubEnv(), "mcp")
	if code != exitUsage || !strings.Contains(stderr, "kazzle mcp does not sign in with a CI identity token") {
		t.Fatalf("mcp exited %d:\n%s", code, stderr)
	}
	if tokenHits, exchanges, _ := f.counts(); tokenHits != 0 || exchanges != 0 {
		t.Errorf("mcp asked for %d tokens and made %d exchanges", tokenHits, exchanges)
	}
}
