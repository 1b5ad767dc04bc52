package api

import "time"

// Space is a tenant of the server, as the operator sees it: a name and dates, never what
// it holds.
type Space struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

// SpaceList lists the spaces of a server (GET /v1/spaces, operator key only).
type SpaceList struct {
	Spaces []Space `json:"spaces"`
}

// CreateSpaceRequest creates a space (POST /v1/spaces, operator key only).
type CreateSpaceRequest struct {
	Name string `json:"name"`
}

// CreateSpaceResponse carries the new space and its first admin key, shown this once.
type CreateSpaceResponse struct {
	Space
	AdminKey string `json:"admin_key"`
}

// OIDCExchangeRequest trades an identity token of a configured issuer for a short-lived
// API key (POST /v1/auth/oidc, no API key).
type OIDCExchangeRequest struct {
	Provider string `json:"provider"`
	Token    string `json:"token"`
}

// OIDCExchangeResponse carries the short-lived key and the limits of the rule that matched.
type OIDCExchangeResponse struct {
	Key         string    `json:"key"`
	KeyID       string    `json:"key_id"`
	Space       string    `json:"space"`
	Role        string    `json:"role"`
	Collection  string    `json:"collection,omitempty"`
	Environment string    `json:"environment,omitempty"`
	ExpiresAt   time.Time `json:"expires_at"`
}

// OIDCProvider names a configured identity-token issuer and the audience a token for it
// must carry.
type OIDCProvider struct {
	Name     string `json:"name"`
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
}

// OIDCProviderList answers GET /v1/auth/oidc/providers (no API key).
type OIDCProviderList struct {
	Providers []OIDCProvider `json:"providers"`
}
