package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Client calls the API with an API key.
type Client struct {
	base *url.URL
	key  string
	// keyFunc, when set, gives the key at each request instead of key: a key obtained
	// on first use, such as one exchanged for an identity token.
	keyFunc func(context.Context) (string, error)
	hc      *http.Client
	// maxAnswer bounds a successful answer's body when it is not 0.
	maxAnswer int64
}

// NewClient returns a client of the server at serverURL. It refuses http:// to anything
// but a loopback address: the API key would cross the network in clear text. The client
// never follows a redirect, whatever hc says: the key goes only to the address it was
// given, never to one a response names (an https server that redirects to http:// would
// otherwise receive it in clear text). A 3xx answer is a *RedirectError.
func NewClient(serverURL, key string, hc *http.Client) (*Client, error) {
	if key == "" {
		if _, err := serverBase(serverURL); err != nil {
			return nil, err
		}
		return nil, errors.New("no API key: set KAZZLE_API_KEY")
	}
	return newClient(serverURL, key, hc)
}

// NewClientKeyFunc is NewClient with a key that key gives at each request, so that a
// key obtained over the network (an identity-token exchange) costs nothing to a command
// that makes no request, and is fetched under the request's context. An error of key is
// the request's error.
func NewClientKeyFunc(serverURL string, key func(context.Context) (string, error), hc *http.Client) (*Client, error) {
	c, err := newClient(serverURL, "", hc)
	if err != nil {
		return nil, err
	}
	c.keyFunc = key
	return c, nil
}

// newClient is a client of serverURL with key, which may be empty for the requests
// that need none.
func newClient(serverURL, key string, hc *http.Client) (*Client, error) {
	u, err := serverBase(serverURL)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: u, key: key, hc: NoRedirects(hc)}, nil
}

// serverBase parses a server URL and refuses plain http to a non-loopback host.
func serverBase(serverURL string) (*url.URL, error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("server %q is not an http:// or https:// URL", serverURL)
	}
	if u.Scheme == "http" && !IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("server %s uses plain http on a non-loopback host: use https:// so the API key is not sent in clear text", u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// NoRedirects returns a copy of hc that never follows a redirect: Do returns the 3xx
// response itself. A request that carries a credential (an API key, a substituted secret)
// must reach only the address it was made for.
func NoRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// RedirectError is a 3xx answer of the server, which the client does not follow.
type RedirectError struct {
	Status int
	// Origin is the scheme, host and port of the redirect's target: never its path or
	// query, which may carry data.
	Origin string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("the server answered %d %s with a redirect to %s, which kazzle does not follow so that the API key goes only to the address it was given: point --server or KAZZLE_SERVER at the final address",
		e.Status, http.StatusText(e.Status), e.Origin)
}

// origin is the scheme://host[:port] of a redirect's target, without user info, path or
// query; "an unnamed address" when the answer has no usable Location.
func origin(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil || loc.Host == "" {
		return "an unnamed address"
	}
	return loc.Scheme + "://" + loc.Host
}

// IsLoopback reports whether host is localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// do sends a request with a JSON body (in, unless nil) and decodes the JSON answer into
// out (unless nil). API errors come back as *Error.
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	key := c.key
	if c.keyFunc != nil {
		var err error
		if key, err = c.keyFunc(ctx); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, c.base.Redacted(), errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 && resp.StatusCode < 400 && resp.Header.Get("Location") != "" {
		return &RedirectError{Status: resp.StatusCode, Origin: origin(resp)}
	}
	if resp.StatusCode >= 300 {
		var eb ErrorBody
		if json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&eb) != nil || eb.Error == nil {
			return &Error{Status: resp.StatusCode, Code: CodeInternal, Message: "the server answered " + resp.Status}
		}
		eb.Error.Status = resp.StatusCode
		return eb.Error
	}
	if out == nil {
		return nil
	}
	if c.maxAnswer == 0 {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.maxAnswer+1))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, c.base.Redacted(), err)
	}
	if int64(len(data)) > c.maxAnswer {
		return fmt.Errorf("%s %s: the answer is larger than %d bytes, more than it can hold: is --server the kazzle server?", method, c.base.Redacted(), c.maxAnswer)
	}
	return json.Unmarshal(data, out)
}

func esc(s string) string { return url.PathEscape(s) }

// Collections lists the collections the key can see.
func (c *Client) Collections(ctx context.Context) ([]Collection, error) {
	var out CollectionList
	return out.Collections, c.do(ctx, "GET", "/v1/collections", nil, &out)
}

// CreateCollection creates a collection.
func (c *Client) CreateCollection(ctx context.Context, req CreateCollectionRequest) (Collection, error) {
	var out Collection
	return out, c.do(ctx, "POST", "/v1/collections", req, &out)
}

// DeleteCollection deletes a collection and everything in it.
func (c *Client) DeleteCollection(ctx context.Context, collection string) error {
	return c.do(ctx, "DELETE", "/v1/collections/"+esc(collection), nil, nil)
}

// Environments lists the environments of a collection.
func (c *Client) Environments(ctx context.Context, collection string) ([]Environment, error) {
	var out EnvironmentList
	return out.Environments, c.do(ctx, "GET", "/v1/collections/"+esc(collection)+"/environments", nil, &out)
}

// CreateEnvironment creates an environment in a collection.
func (c *Client) CreateEnvironment(ctx context.Context, collection, slug string) (Environment, error) {
	var out Environment
	return out, c.do(ctx, "POST", "/v1/collections/"+esc(collection)+"/environments", CreateEnvironmentRequest{Slug: slug}, &out)
}

// DeleteEnvironment deletes an environment of a collection with the secrets tagged with
// it. Active API keys limited to it make the server refuse (409), unless revokeKeys:
// then they are revoked with it.
func (c *Client) DeleteEnvironment(ctx context.Context, collection, env string, revokeKeys bool) error {
	path := "/v1/collections/" + esc(collection) + "/environments/" + esc(env)
	if revokeKeys {
		path += "?revoke_keys=true"
	}
	return c.do(ctx, "DELETE", path, nil, nil)
}

// RenameEnvironment gives an environment of a collection a new slug.
func (c *Client) RenameEnvironment(ctx context.Context, collection, env, slug string) (Environment, error) {
	var out Environment
	return out, c.do(ctx, "PATCH", "/v1/collections/"+esc(collection)+"/environments/"+esc(env), RenameEnvironmentRequest{Slug: slug}, &out)
}

// Diff compares two environments of a collection on the server: names and booleans only.
func (c *Client) Diff(ctx context.Context, collection string, envs []string) (DiffResponse, error) {
	var out DiffResponse
	return out, c.do(ctx, "POST", "/v1/collections/"+esc(collection)+"/diff", DiffRequest{Environments: envs}, &out)
}

// Secrets lists a collection's secrets, masked; env narrows to its untagged and tagged ones.
func (c *Client) Secrets(ctx context.Context, collection, env string) ([]Secret, error) {
	var out SecretList
	path := "/v1/collections/" + esc(collection) + "/secrets"
	if env != "" {
		path += "?environment=" + url.QueryEscape(env)
	}
	return out.Secrets, c.do(ctx, "GET", path, nil, &out)
}

// Secret returns a secret, masked.
func (c *Client) Secret(ctx context.Context, id string) (Secret, error) {
	var out Secret
	return out, c.do(ctx, "GET", "/v1/secrets/"+esc(id), nil, &out)
}

// Reveal returns a secret in plaintext, references expanded; the server audits it.
func (c *Client) Reveal(ctx context.Context, id string) (Secret, error) {
	var out Secret
	return out, c.do(ctx, "POST", "/v1/secrets/"+esc(id)+"/reveal", nil, &out)
}

// CreateSecret creates a secret.
func (c *Client) CreateSecret(ctx context.Context, req CreateSecretRequest) (Secret, error) {
	var out Secret
	return out, c.do(ctx, "POST", "/v1/secrets", req, &out)
}

// UpdateSecret makes a new version of a secret.
func (c *Client) UpdateSecret(ctx context.Context, id string, req UpdateSecretRequest) (Secret, error) {
	var out Secret
	return out, c.do(ctx, "PUT", "/v1/secrets/"+esc(id), req, &out)
}

// DeleteSecret deletes a secret whose current version is version.
func (c *Client) DeleteSecret(ctx context.Context, id string, version int) error {
	return c.do(ctx, "DELETE", "/v1/secrets/"+esc(id)+"?version="+strconv.Itoa(version), nil, nil)
}

// History lists the versions of a secret.
func (c *Client) History(ctx context.Context, id string) ([]Version, error) {
	var out VersionList
	return out.Versions, c.do(ctx, "GET", "/v1/secrets/"+esc(id)+"/versions", nil, &out)
}

// Rollback makes an old version's fields the newest version.
func (c *Client) Rollback(ctx context.Context, id string, req RollbackRequest) (Secret, error) {
	var out Secret
	return out, c.do(ctx, "POST", "/v1/secrets/"+esc(id)+"/rollback", req, &out)
}

// TOTP returns the current code of a totp secret.
func (c *Client) TOTP(ctx context.Context, id string) (TOTPResponse, error) {
	var out TOTPResponse
	return out, c.do(ctx, "POST", "/v1/secrets/"+esc(id)+"/totp", nil, &out)
}

// Resolve returns the environment variables of an environment.
func (c *Client) Resolve(ctx context.Context, req ResolveRequest) ([]Var, error) {
	var out ResolveResponse
	return out.Vars, c.do(ctx, "POST", "/v1/resolve", req, &out)
}

// ResolveForScan returns the environment variables of an environment and what a leak
// scan of output built with them must look for (ResolveResponse.Scan).
func (c *Client) ResolveForScan(ctx context.Context, req ResolveRequest) (vars, scan []Var, err error) {
	req.Scan = true
	var out ResolveResponse
	err = c.do(ctx, "POST", "/v1/resolve", req, &out)
	return out.Vars, out.Scan, err
}

// Check lists the stored secrets of a collection that a write would refuse now.
func (c *Client) Check(ctx context.Context, collection string) ([]Problem, error) {
	var out CheckResponse
	return out.Problems, c.do(ctx, "POST", "/v1/collections/"+esc(collection)+"/check", nil, &out)
}

// Templates substitutes ${secret.<id>.<field>} in each template.
func (c *Client) Templates(ctx context.Context, templates []string) (TemplatesResponse, error) {
	var out TemplatesResponse
	err := c.do(ctx, "POST", "/v1/templates", TemplatesRequest{Templates: templates}, &out)
	return out, err
}

// GitCredential finds the credential of a git repository.
func (c *Client) GitCredential(ctx context.Context, req GitCredentialRequest) (GitCredentialResponse, error) {
	var out GitCredentialResponse
	return out, c.do(ctx, "POST", "/v1/git/credential", req, &out)
}

// Keys lists the space's API keys.
func (c *Client) Keys(ctx context.Context) ([]APIKey, error) {
	var out APIKeyList
	return out.Keys, c.do(ctx, "GET", "/v1/keys", nil, &out)
}

// CreateKey creates an API key; the response holds the key, shown this once.
func (c *Client) CreateKey(ctx context.Context, req CreateAPIKeyRequest) (CreateAPIKeyResponse, error) {
	var out CreateAPIKeyResponse
	return out, c.do(ctx, "POST", "/v1/keys", req, &out)
}

// Whoami is the key the client uses: its name, role, limits and expiry.
func (c *Client) Whoami(ctx context.Context) (APIKey, error) {
	var out APIKey
	return out, c.do(ctx, "GET", "/v1/whoami", nil, &out)
}

// RevokeKey revokes an API key.
func (c *Client) RevokeKey(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/v1/keys/"+esc(id), nil, nil)
}

// AuditQuery filters the audit trail; zero fields do not filter.
type AuditQuery struct {
	Since, Until time.Time
	Action       string
	Actor        string // key id
	Limit        int
}

// Audit reads the audit trail, newest first.
func (c *Client) Audit(ctx context.Context, q AuditQuery) ([]AuditEvent, error) {
	var out AuditList
	return out.Events, c.do(ctx, "GET", "/v1/audit?"+q.values().Encode(), nil, &out)
}

func (q AuditQuery) values() url.Values {
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.Format(time.RFC3339))
	}
	if q.Action != "" {
		v.Set("action", q.Action)
	}
	if q.Actor != "" {
		v.Set("actor", q.Actor)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	return v
}

// CreateEntry makes a one-time entry; its page is at the server's URL + Entry.Path.
func (c *Client) CreateEntry(ctx context.Context, req CreateEntryRequest) (Entry, error) {
	var out Entry
	return out, c.do(ctx, "POST", "/v1/entries", req, &out)
}

// Entry returns an entry as it is now.
func (c *Client) Entry(ctx context.Context, id string) (Entry, error) {
	var out Entry
	return out, c.do(ctx, "GET", "/v1/entries/"+esc(id), nil, &out)
}

// maxWaitPerRequest keeps each request of WaitEntry within the client's timeout.
const maxWaitPerRequest = 20 * time.Second

// WaitEntry returns an entry once it is no longer pending, or as it is after wait. It
// asks the server to wait in turns of at most 20 seconds, so that no request outlives
// an HTTP client's timeout.
func (c *Client) WaitEntry(ctx context.Context, id string, wait time.Duration) (Entry, error) {
	deadline := time.Now().Add(wait)
	for {
		turn := min(time.Until(deadline), maxWaitPerRequest)
		var out Entry
		path := "/v1/entries/" + esc(id)
		if secs := int(turn.Round(time.Second) / time.Second); secs > 0 {
			path += "?wait=" + strconv.Itoa(secs)
		}
		if err := c.do(ctx, "GET", path, nil, &out); err != nil || out.Status != EntryPending || !time.Now().Before(deadline.Add(-time.Second/2)) {
			return out, err
		}
	}
}

// Entries lists the pending entries the key asked for or may fill.
func (c *Client) Entries(ctx context.Context) ([]Entry, error) {
	var out EntryList
	return out.Entries, c.do(ctx, "GET", "/v1/entries", nil, &out)
}

// FillEntry stores the values of a pending entry's fields as the client's key.
func (c *Client) FillEntry(ctx context.Context, id string, fields map[string]string) (Entry, error) {
	var out Entry
	return out, c.do(ctx, "POST", "/v1/entries/"+esc(id)+"/fill", FillEntryRequest{Fields: fields}, &out)
}

// CancelEntry cancels a pending entry.
func (c *Client) CancelEntry(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/v1/entries/"+esc(id), nil, nil)
}
