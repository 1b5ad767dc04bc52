package cmd

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kazzle/kazzle/api"
)

const (
	// maxIDToken bounds an identity token, from KAZZLE_OIDC_TOKEN or a token endpoint:
	// a signed JWT of a CI runs to a few kilobytes.
	maxIDToken = 32 << 10
	// maxTokenAnswer bounds the token endpoint's answer: {"value": token}.
	maxTokenAnswer = 64 << 10
	// tokenRequestTimeout bounds the request for an identity token.
	tokenRequestTimeout = 30 * time.Second
	// renewBefore is how long before its expiry an exchanged key is exchanged again, so
	// that no request goes out with a key about to expire.
	renewBefore = 30 * time.Second
)

// oidcWanted says whether the environment asks kazzle to sign in with an identity token
// when it has no API key: a token passed in, a provider named, or a GitHub Actions job
// allowed to request tokens.
func (c *cli) oidcWanted() bool {
	for _, name := range []string{"KAZZLE_OIDC_TOKEN", "KAZZLE_OIDC_PROVIDER", "ACTIONS_ID_TOKEN_REQUEST_URL"} {
		if c.getenv(name) != "" {
			return true
		}
	}
	return false
}

// oidcSignIn exchanges the CI job's identity token for a short-lived API key on the first
// request that needs one. The key lives in this process only: it is never written,
// printed or passed to a child process.
type oidcSignIn struct {
	getenv func(string) string
	hc     *http.Client // nil: a client with tokenRequestTimeout

	mu       sync.Mutex
	key      string
	err      error
	provider string // the provider used, for messages
	audience string
	via      string // where the token came from: "KAZZLE_OIDC_TOKEN" or "GitHub Actions"
	answer   api.OIDCExchangeResponse
}

// apiKey returns the exchanged key, signing in on the first call, and again when the key
// is about to expire. A failed sign-in is final for the process.
func (s *oidcSignIn) apiKey(ctx context.Context, server string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	if s.key == "" || !s.answer.ExpiresAt.IsZero() && time.Until(s.answer.ExpiresAt) < renewBefore {
		s.key, s.err = s.signIn(ctx, server)
	}
	return s.key, s.err
}

func (s *oidcSignIn) httpClient() *http.Client {
	if s.hc != nil {
		return s.hc
	}
	return &http.Client{Timeout: tokenRequestTimeout}
}

// signIn finds the provider, gets an identity token for its audience and exchanges it.
// What can be checked without the network is checked first. No error holds a token.
func (s *oidcSignIn) signIn(ctx context.Context, server string) (string, error) {
	passed := strings.TrimSpace(s.getenv("KAZZLE_OIDC_TOKEN"))
	ghURL, ghToken := s.getenv("ACTIONS_ID_TOKEN_REQUEST_URL"), s.getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	switch {
	case passed != "":
		s.via = "KAZZLE_OIDC_TOKEN"
		if err := checkIDToken(passed); err != nil {
			return "", fmt.Errorf("KAZZLE_OIDC_TOKEN: %w", err)
		}
	case ghURL != "":
		s.via = "GitHub Actions"
		if ghToken == "" {
			return "", errors.New("ACTIONS_ID_TOKEN_REQUEST_URL is set but ACTIONS_ID_TOKEN_REQUEST_TOKEN is not: GitHub Actions sets both when the job has permissions: id-token: write; set KAZZLE_API_KEY instead to use a stored key")
		}
	default:
		return "", errors.New("KAZZLE_OIDC_PROVIDER is set but there is no identity token to sign in with: in GitHub Actions, give the job permissions: id-token: write; in another CI, pass the job's token in KAZZLE_OIDC_TOKEN (GitLab: id_tokens)")
	}
	hc := s.httpClient()
	if err := s.pickProvider(ctx, server, hc); err != nil {
		return "", err
	}
	token := passed
	if token == "" {
		var err error
		if token, err = fetchGitHubToken(ctx, hc, ghURL, ghToken, s.audience); err != nil {
			return "", err
		}
	}
	answer, err := api.ExchangeOIDC(ctx, server, hc, api.OIDCExchangeRequest{Provider: s.provider, Token: token})
	if err != nil {
		var ae *api.Error
		if errors.As(err, &ae) {
			// A server does not echo the token; if one did, it stays out of the message.
			ae.Message = strings.ReplaceAll(ae.Message, token, "[identity token]")
			if ae.Status == http.StatusUnauthorized {
				return "", withHint(fmt.Errorf("sign in with the identity token from %s: %w", s.via, err),
					"the server refused the token for provider %s (audience %s): the token must carry that audience, and one of the provider's rules must match the token's claims (repository, ref, environment, …): compare the provider's rules in the server's configuration with the job (see docs/ci.md)",
					s.provider, s.audience)
			}
		}
		return "", fmt.Errorf("sign in with the identity token from %s: %w", s.via, err)
	}
	if !looksLikeKey(answer.Key) {
		return "", fmt.Errorf("sign in with the identity token from %s: the server's answer holds no API key", s.via)
	}
	s.answer = answer
	return answer.Key, nil
}

// pickProvider sets the provider (KAZZLE_OIDC_PROVIDER, else the server's only one) and
// its audience from the server's list.
func (s *oidcSignIn) pickProvider(ctx context.Context, server string, hc *http.Client) error {
	providers, err := api.OIDCProviders(ctx, server, hc)
	if err != nil {
		return fmt.Errorf("list the identity-token providers of %s: %w", server, err)
	}
	var names []string
	for _, p := range providers {
		names = append(names, p.Name)
	}
	want := s.getenv("KAZZLE_OIDC_PROVIDER")
	switch {
	case len(providers) == 0:
		return fmt.Errorf("the server %s trusts no identity-token provider: its operator adds an oidc block to the server's configuration (see docs/ci.md), or set KAZZLE_API_KEY", server)
	case want == "" && len(providers) > 1:
		return fmt.Errorf("the server %s trusts several identity-token providers (%s): set KAZZLE_OIDC_PROVIDER to the one for this CI", server, strings.Join(names, ", "))
	case want == "":
		s.provider, s.audience = providers[0].Name, providers[0].Audience
		return nil
	}
	for _, p := range providers {
		if p.Name == want {
			s.provider, s.audience = p.Name, p.Audience
			return nil
		}
	}
	return fmt.Errorf("KAZZLE_OIDC_PROVIDER names %q, which the server %s does not trust: set it to one of %s", want, server, strings.Join(names, ", "))
}

// fetchGitHubToken asks the GitHub Actions token endpoint for an identity token with the
// given audience, as GitHub's toolkit does: GET ACTIONS_ID_TOKEN_REQUEST_URL plus an
// audience parameter, with the request token as the bearer, answered {"value": token}.
// The request token is a credential: it goes only over https (or to a loopback address),
// never to a redirect's target, and never into an error.
func fetchGitHubToken(ctx context.Context, hc *http.Client, rawURL, requestToken, audience string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", errors.New("ACTIONS_ID_TOKEN_REQUEST_URL is not an https:// URL: it is set by GitHub Actions, leave it as the runner sets it")
	}
	if u.Scheme == "http" && !api.IsLoopback(u.Hostname()) {
		return "", fmt.Errorf("ACTIONS_ID_TOKEN_REQUEST_URL uses plain http to %s: kazzle sends the request token only over https", u.Host)
	}
	origin := u.Scheme + "://" + u.Host
	u.Fragment, u.RawFragment = "", ""
	if audience != "" {
		// The URL already carries a query (api-version): the audience is one more parameter.
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "audience=" + url.QueryEscape(audience)
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("request an identity token from %s: %w", origin, err)
	}
	req.Header.Set("Authorization", "Bearer "+requestToken)
	req.Header.Set("Accept", "application/json")
	resp, err := api.NoRedirects(hc).Do(req)
	if err != nil {
		// The *url.Error names the whole URL; the origin is enough.
		return "", fmt.Errorf("request an identity token from %s: %w", origin, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return "", fmt.Errorf("the token endpoint %s answered %s with a redirect, which kazzle does not follow so that the request token goes only to ACTIONS_ID_TOKEN_REQUEST_URL", origin, resp.Status)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", withHint(fmt.Errorf("the token endpoint %s refused the request for an identity token: %s", origin, resp.Status),
			"the job needs permissions: id-token: write (a workflow run for a fork's pull request gets no identity token)")
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("the token endpoint %s answered %s to the request for an identity token", origin, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswer+1))
	if err != nil {
		return "", fmt.Errorf("read the identity token from %s: %w", origin, err)
	}
	if len(data) > maxTokenAnswer {
		return "", fmt.Errorf("the token endpoint %s answered more than %d bytes, more than an identity token takes: is ACTIONS_ID_TOKEN_REQUEST_URL the runner's?", origin, maxTokenAnswer)
	}
	var answer struct {
		Value string `json:"value"`
	}
	if json.Unmarshal(data, &answer) != nil || answer.Value == "" {
		return "", fmt.Errorf("the token endpoint %s answered without an identity token (want {\"value\": token})", origin)
	}
	if err := checkIDToken(answer.Value); err != nil {
		return "", fmt.Errorf("the token endpoint %s: %w", origin, err)
	}
	return answer.Value, nil
}

// checkIDToken refuses what cannot be a signed JWT (three base64url parts) or is larger
// than maxIDToken, before it is sent anywhere. The message never quotes the token.
func checkIDToken(token string) error {
	if len(token) > maxIDToken {
		return fmt.Errorf("the identity token is larger than %d bytes: pass the job's token itself", maxIDToken)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return errors.New("the identity token is not a signed JWT (three parts separated by dots): pass the job's token itself")
	}
	for _, p := range parts {
		if _, err := base64.RawURLEncoding.DecodeString(p); err != nil {
			return errors.New("the identity token is not a signed JWT (its parts are not base64url): pass the job's token itself")
		}
	}
	return nil
}
