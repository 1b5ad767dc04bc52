package api

import "context"

// Spaces lists the server's spaces, oldest first; withDeleted adds the deleted ones,
// whose names stay taken (operator key only).
func (c *Client) Spaces(ctx context.Context, withDeleted bool) ([]Space, error) {
	path := "/v1/spaces"
	if withDeleted {
		path += "?deleted=true"
	}
	var out SpaceList
	return out.Spaces, c.do(ctx, "GET", path, nil, &out)
}

// CreateSpace creates a space and returns it with its first admin key (operator key only).
func (c *Client) CreateSpace(ctx context.Context, name string) (CreateSpaceResponse, error) {
	var out CreateSpaceResponse
	return out, c.do(ctx, "POST", "/v1/spaces", CreateSpaceRequest{Name: name}, &out)
}

// DeleteSpace deletes a space and everything in it; its name is never used again
// (operator key only).
func (c *Client) DeleteSpace(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/spaces/"+esc(name), nil, nil)
}

// ServerAudit reads the server trail: operator actions and refusals of requests without
// a valid key (operator key only).
func (c *Client) ServerAudit(ctx context.Context, q AuditQuery) ([]AuditEvent, error) {
	var out AuditList
	return out.Events, c.do(ctx, "GET", "/v1/server/audit?"+q.values().Encode(), nil, &out)
}
