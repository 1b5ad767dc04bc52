// Package serverconfig reads kazzle-server.hcl, the configuration of `kazzle server`:
// its listener and TLS files, storage, key wrapper and audit retention. It is the
// operator's file, apart from a project's kazzle.config.ts or kazzle.hcl (package
// config), and imports nothing of kazzle's.
package serverconfig

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// Config is kazzle-server.hcl, in the style of Vault's server configuration.
type Config struct {
	Listener Listener
	Storage  Storage
	KMS      KMS
	Audit    *Audit
	// OIDC are the issuers whose identity tokens the server exchanges for keys.
	OIDC []OIDC
}

// Listener is where the server listens, with its TLS certificate.
type Listener struct {
	Type        string // "tcp"
	Address     string
	TLSCertFile string
	TLSKeyFile  string
	// TLSDisable serves plain HTTP; allowed only on a loopback address, or behind a
	// TLS-terminating proxy on a private or unspecified one.
	TLSDisable bool
	// BehindTLSProxy says that browsers reach the server through a proxy that terminates
	// TLS: the admin UI's cookie is then Secure and __Host- and its pages send HSTS
	// although requests arrive in plain HTTP. It is the operator's statement; the server
	// never takes a request's X-Forwarded-Proto for it.
	BehindTLSProxy bool
}

// Storage is the database: "sqlite" with a path, or "postgres" with a URL, given as
// url or, to keep a password out of the file, as url_env: the name of an environment
// variable that holds it.
type Storage struct {
	Type   string
	Path   string
	URL    string
	URLEnv string
}

// KMS is the key wrapper: "local" with a key file, or "awskms" with a key id and region.
type KMS struct {
	Type    string
	KeyFile string
	KeyID   string
	Region  string
}

// Audit configures the audit trail.
type Audit struct {
	// Retention such as "365d", "12h"; empty keeps events forever.
	Retention string
}

// RetentionDuration parses Retention; 0 means keep forever.
func (a *Audit) RetentionDuration() (time.Duration, error) {
	if a == nil || a.Retention == "" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(a.Retention, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("audit retention %q: use a number of days like 365d, or a duration like 720h", a.Retention)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(a.Retention)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("audit retention %q: use a number of days like 365d, or a duration like 720h", a.Retention)
	}
	return d, nil
}

// Parse decodes kazzle-server.hcl. Errors carry HCL's file:line:column diagnostics.
//
// It decodes through HCL's schema API rather than gohcl, whose encoder drags packages
// with costly init into every kazzle command, `kazzle run` included.
func Parse(filename string, src []byte) (Config, error) {
	var s Config
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return s, diags
	}
	content, diags := file.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "listener", LabelNames: []string{"type"}},
		{Type: "storage", LabelNames: []string{"type"}},
		{Type: "kms", LabelNames: []string{"type"}},
		{Type: "audit"},
		{Type: "oidc", LabelNames: []string{"name"}},
	}})
	if diags.HasErrors() {
		return s, diags
	}
	seen := map[string]*hcl.Block{}
	for _, b := range content.Blocks {
		if b.Type == "oidc" {
			if len(s.OIDC) == MaxOIDCProviders {
				return s, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Too many oidc blocks",
					Detail: fmt.Sprintf("At most %d oidc blocks are allowed.", MaxOIDCProviders), Subject: b.DefRange.Ptr()}}
			}
			if d := s.decodeOIDC(b); d.HasErrors() {
				return s, d
			}
			continue
		}
		if first, dup := seen[b.Type]; dup {
			return s, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Duplicate " + b.Type + " block",
				Detail: "Only one " + b.Type + " block is allowed; the first is at " + first.DefRange.String() + ".", Subject: b.DefRange.Ptr()}}
		}
		seen[b.Type] = b
		var d hcl.Diagnostics
		switch b.Type {
		case "listener":
			s.Listener.Type = b.Labels[0]
			d = decodeAttrs(b.Body, map[string]any{"address": &s.Listener.Address, "tls_cert_file": &s.Listener.TLSCertFile,
				"tls_key_file": &s.Listener.TLSKeyFile, "tls_disable": &s.Listener.TLSDisable, "behind_tls_proxy": &s.Listener.BehindTLSProxy})
		case "storage":
			s.Storage.Type = b.Labels[0]
			d = decodeAttrs(b.Body, map[string]any{"path": &s.Storage.Path, "url": &s.Storage.URL, "url_env": &s.Storage.URLEnv})
		case "kms":
			s.KMS.Type = b.Labels[0]
			d = decodeAttrs(b.Body, map[string]any{"key_file": &s.KMS.KeyFile, "key_id": &s.KMS.KeyID, "region": &s.KMS.Region})
		case "audit":
			s.Audit = &Audit{}
			d = decodeAttrs(b.Body, map[string]any{"retention": &s.Audit.Retention})
		}
		if d.HasErrors() {
			return s, d
		}
	}
	for _, required := range []string{"listener", "storage", "kms"} {
		if seen[required] == nil {
			return s, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing " + required + " block",
				Detail: "A " + required + " block is required.", Subject: file.Body.MissingItemRange().Ptr()}}
		}
	}
	return s, s.validate(filename)
}

// decodeAttrs decodes a block's attributes into *string and *bool targets; an attribute
// the block does not know is HCL's "Unsupported argument" error.
func decodeAttrs(body hcl.Body, targets map[string]any) hcl.Diagnostics {
	schema := &hcl.BodySchema{}
	for name := range targets {
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: name})
	}
	content, diags := body.Content(schema)
	if diags.HasErrors() {
		return diags
	}
	return setAttrs(content.Attributes, targets)
}

// setAttrs sets *string and *bool targets from decoded attributes.
func setAttrs(attrs hcl.Attributes, targets map[string]any) hcl.Diagnostics {
	for name, attr := range attrs {
		val, d := attr.Expr.Value(nil)
		if d.HasErrors() {
			return d
		}
		want := cty.String
		if _, ok := targets[name].(*bool); ok {
			want = cty.Bool
		}
		val, err := convert.Convert(val, want)
		if err != nil || val.IsNull() || !val.IsKnown() {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Incorrect attribute value type",
				Detail: fmt.Sprintf("%s must be a %s.", name, want.FriendlyName()), Subject: attr.Expr.Range().Ptr()}}
		}
		switch t := targets[name].(type) {
		case *string:
			*t = val.AsString()
		case *bool:
			*t = val.True()
		}
	}
	return nil
}

func (s *Config) validate(filename string) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", filename, fmt.Sprintf(format, args...))
	}
	l := s.Listener
	if l.Type != "tcp" {
		return bad(`listener %q: the only listener is "tcp"`, l.Type)
	}
	if l.Address == "" {
		return bad(`listener "tcp": set address, like "0.0.0.0:8443"`)
	}
	host, _, err := net.SplitHostPort(l.Address)
	if err != nil {
		return bad(`listener "tcp": address %q is not host:port`, l.Address)
	}
	if l.TLSDisable {
		if err := plainHTTPAllowed(host, l.BehindTLSProxy); err != nil {
			return bad(`listener "tcp": %v`, err)
		}
	} else if l.TLSCertFile == "" || l.TLSKeyFile == "" {
		return bad(`listener "tcp": set tls_cert_file and tls_key_file (or tls_disable = true on a loopback address)`)
	}
	switch s.Storage.Type {
	case "sqlite":
		if s.Storage.Path == "" {
			return bad(`storage "sqlite": set path`)
		}
	case "postgres":
		if (s.Storage.URL == "") == (s.Storage.URLEnv == "") {
			return bad(`storage "postgres": set url (postgres://user@host:5432/db) or url_env (the name of an environment variable that holds it), not both`)
		}
		if s.Storage.Path != "" {
			return bad(`storage "postgres": path is for storage "sqlite"; set url or url_env`)
		}
	default:
		return bad(`storage %q: use "sqlite" or "postgres"`, s.Storage.Type)
	}
	switch s.KMS.Type {
	case "local":
		if s.KMS.KeyFile == "" {
			return bad(`kms "local": set key_file`)
		}
	case "awskms":
		if s.KMS.KeyID == "" {
			return bad(`kms "awskms": set key_id (a key id, ARN or alias/name)`)
		}
	default:
		return bad(`kms %q: use "local" or "awskms"`, s.KMS.Type)
	}
	if _, err := s.Audit.RetentionDuration(); err != nil {
		return bad("%v", err)
	}
	if err := s.validateOIDC(); err != nil {
		return bad("%v", err)
	}
	return nil
}

// plainHTTPAllowed says where a listener may serve plain HTTP. API keys must not cross a
// network in clear text, so: on a loopback address; or, behind a TLS-terminating proxy,
// where the clear-text hop is the proxy's, on a private address (10/8, 172.16/12,
// 192.168/16, fc00::/7) or on all interfaces ("0.0.0.0", "[::]", as in a container whose
// port only the proxy reaches), never on a public address, and given as an IP address,
// whose reach the configuration shows, rather than a name.
func plainHTTPAllowed(host string, behindProxy bool) error {
	ip := net.ParseIP(host)
	if host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	if !behindProxy {
		return fmt.Errorf("tls_disable is allowed only on a loopback address, not %q, or behind a TLS-terminating proxy (behind_tls_proxy = true); API keys must not cross a network in clear text", host)
	}
	if host == "" || (ip != nil && (ip.IsUnspecified() || ip.IsPrivate())) {
		return nil
	}
	return fmt.Errorf("tls_disable behind a TLS proxy is allowed on a loopback, private (10/8, 172.16/12, 192.168/16, fc00::/7) or all-interfaces (0.0.0.0) IP address, not a public address or a name like %q: the hop from the proxy carries API keys in clear text", host)
}
