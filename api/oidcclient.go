package api

import (
	"context"
	"net/http"
)

// maxOIDCAnswer bounds the answers of the sign-in endpoints: a key with its limits, or a
// list of a few providers.
const maxOIDCAnswer = 64 << 10

// ExchangeOIDC trades an identity token of a provider the server trusts for a
// short-lived API key (POST /v1/auth/oidc). It sends no API key. serverURL obeys
// NewClient's rules (https, or http to a loopback address only), no redirect is followed,
// and the answer is bounded. A refusal is an *Error: 401 when the provider's rules do not
// accept the token.
func ExchangeOIDC(ctx context.Context, serverURL string, hc *http.Client, req OIDCExchangeRequest) (OIDCExchangeResponse, error) {
	var out OIDCExchangeResponse
	c, err := newAnonymous(serverURL, hc)
	if err != nil {
		return out, err
	}
	return out, c.do(ctx, "POST", "/v1/auth/oidc", req, &out)
}

// OIDCProviders lists the identity-token providers the server trusts, each with the
// audience a token for it must carry (GET /v1/auth/oidc/providers). It sends no API key
// and obeys the rules of ExchangeOIDC.
func OIDCProviders(ctx context.Context, serverURL string, hc *http.Client) ([]OIDCProvider, error) {
	c, err := newAnonymous(serverURL, hc)
	if err != nil {
		return nil, err
	}
	var out OIDCProviderList
	return out.Providers, c.do(ctx, "GET", "/v1/auth/oidc/providers", nil, &out)
}

// newAnonymous is a client without a key whose answers are bounded.
func newAnonymous(serverURL string, hc *http.Client) (*Client, error) {
	c, err := newClient(serverURL, "", hc)
	if err != nil {
		return nil, err
	}
	c.maxAnswer = maxOIDCAnswer
	return c, nil
}
