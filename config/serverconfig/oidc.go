package serverconfig

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// OIDC is an `oidc "NAME"` block: an issuer of identity tokens (a CI's, such as GitHub
// Actions or GitLab) whose tokens the server exchanges for short-lived API keys, and
// the rules that say which tokens get which key.
type OIDC struct {
	Name string
	// Issuer is the token's iss, the URL its discovery document is found under; https,
	// or http on a loopback host alone.
	Issuer string
	// Audience is the aud a token must carry: the audience the CI job asked for.
	Audience string
	// Rules are tried in order; the first whose claims all match mints the key.
	Rules []OIDCRule
}

// OIDCRule maps tokens whose claims match to the limits of the key they get.
type OIDCRule struct {
	// Space is the name of the space the key is made in.
	Space string
	// Claims are matched against the token's claims of the same names: whole,
	// case-sensitive strings in which `*` stands for any run of characters but `/`.
	Claims map[string]string
	// Role is read or write; a token never gets an admin key.
	Role       string
	Collection string
	Env        string
	// TTL is how long the key lives: DefaultOIDCTTL when unset, at most MaxOIDCTTL.
	TTL time.Duration
}

// Limits of oidc blocks, checked as the file is read.
const (
	// DefaultOIDCTTL is the life of an exchanged key when a rule sets no ttl: long
	// enough for a deploy job, short enough that a leaked key soon stops working.
	DefaultOIDCTTL = 15 * time.Minute
	// MaxOIDCTTL caps a rule's ttl: an exchanged key is for one job, and a job that
	// runs longer can exchange a new token.
	MaxOIDCTTL = time.Hour
	// MaxOIDCProviders caps the oidc blocks of a file.
	MaxOIDCProviders = 16
	// MaxOIDCRules caps the rules of one oidc block.
	MaxOIDCRules = 64
	// MaxOIDCClaims caps the claims of one rule.
	MaxOIDCClaims = 16
	// MaxOIDCURLLen caps an issuer and an audience, in bytes.
	MaxOIDCURLLen = 512
	// MaxOIDCClaimNameLen and MaxOIDCClaimValueLen cap a rule's claim names and values,
	// in bytes.
	MaxOIDCClaimNameLen  = 64
	MaxOIDCClaimValueLen = 256
	// MaxOIDCNameLen caps a provider's name and a rule's space, collection and env.
	MaxOIDCNameLen = 128
)

var (
	oidcProviderName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	oidcClaimName    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:-]*$`)
)

// decodeOIDC decodes one oidc block into s.
func (s *Config) decodeOIDC(b *hcl.Block) hcl.Diagnostics {
	o := OIDC{Name: b.Labels[0]}
	content, diags := b.Body.Content(&hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "issuer"}, {Name: "audience"}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "rule"}},
	})
	if diags.HasErrors() {
		return diags
	}
	if d := setAttrs(content.Attributes, map[string]any{"issuer": &o.Issuer, "audience": &o.Audience}); d.HasErrors() {
		return d
	}
	for _, rb := range content.Blocks {
		if len(o.Rules) == MaxOIDCRules {
			return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Too many rules",
				Detail: fmt.Sprintf("An oidc block holds at most %d rules.", MaxOIDCRules), Subject: rb.DefRange.Ptr()}}
		}
		r, d := decodeOIDCRule(rb)
		if d.HasErrors() {
			return d
		}
		o.Rules = append(o.Rules, r)
	}
	s.OIDC = append(s.OIDC, o)
	return nil
}

func decodeOIDCRule(b *hcl.Block) (OIDCRule, hcl.Diagnostics) {
	var r OIDCRule
	var ttl string
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "space"}, {Name: "claims"}, {Name: "role"}, {Name: "collection"}, {Name: "env"}, {Name: "ttl"}}})
	if diags.HasErrors() {
		return r, diags
	}
	claims := content.Attributes["claims"]
	delete(content.Attributes, "claims")
	if d := setAttrs(content.Attributes, map[string]any{"space": &r.Space, "role": &r.Role,
		"collection": &r.Collection, "env": &r.Env, "ttl": &ttl}); d.HasErrors() {
		return r, d
	}
	if claims == nil {
		return r, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Missing claims",
			Detail: `A rule needs claims = { repository = "acme/app", … }: the token claims it requires.`, Subject: b.DefRange.Ptr()}}
	}
	val, d := claims.Expr.Value(nil)
	if d.HasErrors() {
		return r, d
	}
	bad := func(detail string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid claims", Detail: detail, Subject: claims.Expr.Range().Ptr()}}
	}
	if val.IsNull() || !val.IsKnown() || !(val.Type().IsObjectType() || val.Type().IsMapType()) {
		return r, bad(`claims must be an object of strings, like { repository = "acme/app" }.`)
	}
	if n := val.LengthInt(); n > MaxOIDCClaims {
		return r, bad(fmt.Sprintf("A rule holds at most %d claims, not %d.", MaxOIDCClaims, n))
	}
	r.Claims = map[string]string{}
	for it := val.ElementIterator(); it.Next(); {
		k, v := it.Element()
		if v.IsNull() || !v.IsKnown() || v.Type() != cty.String {
			return r, bad(fmt.Sprintf("Claim %q must be a string: claims match as strings, so quote numbers and booleans.", k.AsString()))
		}
		r.Claims[k.AsString()] = v.AsString()
	}
	if ttl != "" {
		t, err := time.ParseDuration(ttl)
		if err != nil {
			return r, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid ttl",
				Detail: fmt.Sprintf("ttl %q is not a duration; use one like \"15m\".", ttl), Subject: content.Attributes["ttl"].Expr.Range().Ptr()}}
		}
		if t <= 0 {
			// Set apart from an unset ttl, which takes the default.
			t = -1
		}
		r.TTL = t
	}
	return r, nil
}

// validateOIDC checks the oidc blocks; an error names the block and the rule.
func (s *Config) validateOIDC() error {
	if len(s.OIDC) > MaxOIDCProviders {
		return fmt.Errorf("%d oidc blocks: at most %d are allowed", len(s.OIDC), MaxOIDCProviders)
	}
	seen := map[string]bool{}
	for i := range s.OIDC {
		o := &s.OIDC[i]
		if !oidcProviderName.MatchString(o.Name) {
			return fmt.Errorf("oidc %q: name a provider with 1 to 32 lowercase letters, digits, - and _, starting with a letter or digit, like \"github\"", o.Name)
		}
		if seen[o.Name] {
			return fmt.Errorf("oidc %q: the name is taken by another oidc block", o.Name)
		}
		seen[o.Name] = true
		if err := checkIssuer(o.Issuer); err != nil {
			return fmt.Errorf("oidc %q: %w", o.Name, err)
		}
		if o.Audience == "" {
			return fmt.Errorf("oidc %q: set audience, the aud a token must carry, such as this server's URL; it keeps tokens meant for other services out", o.Name)
		}
		if err := checkText("audience", o.Audience, MaxOIDCURLLen); err != nil {
			return fmt.Errorf("oidc %q: %w", o.Name, err)
		}
		if len(o.Rules) == 0 {
			return fmt.Errorf("oidc %q: add a rule { space, claims, role } saying which tokens get which key; without one no token is accepted", o.Name)
		}
		for j := range o.Rules {
			if err := o.Rules[j].validate(); err != nil {
				return fmt.Errorf("oidc %q rule %d: %w", o.Name, j+1, err)
			}
		}
	}
	return nil
}

func (r *OIDCRule) validate() error {
	if r.Space == "" {
		return fmt.Errorf("set space, the name of the space the key is made in")
	}
	for _, f := range []struct{ name, v string }{{"space", r.Space}, {"collection", r.Collection}, {"env", r.Env}} {
		if err := checkText(f.name, f.v, MaxOIDCNameLen); err != nil {
			return err
		}
	}
	switch r.Role {
	case "read", "write":
	case "admin":
		return fmt.Errorf(`role "admin" is refused: an exchanged key could then make keys that outlive it and read the audit trail; use "write" or "read"`)
	case "":
		return fmt.Errorf(`set role, "read" or "write"`)
	default:
		return fmt.Errorf(`role %q: use "read" or "write"`, r.Role)
	}
	if r.Env != "" && r.Collection == "" {
		return fmt.Errorf("env %q needs a collection: an environment belongs to one", r.Env)
	}
	switch {
	case r.TTL == 0:
		r.TTL = DefaultOIDCTTL
	case r.TTL < 0:
		return fmt.Errorf("ttl must be positive, like \"15m\"")
	case r.TTL > MaxOIDCTTL:
		return fmt.Errorf("ttl %s is longer than %s, the limit for an exchanged key; a longer job can exchange a new token", r.TTL, MaxOIDCTTL)
	}
	if len(r.Claims) == 0 {
		return fmt.Errorf(`set claims, like { repository = "acme/app" }: a rule without claims would take every token of the issuer`)
	}
	if len(r.Claims) > MaxOIDCClaims {
		return fmt.Errorf("%d claims: a rule holds at most %d", len(r.Claims), MaxOIDCClaims)
	}
	literal := false
	for _, name := range slices.Sorted(maps.Keys(r.Claims)) {
		v := r.Claims[name]
		if len(name) > MaxOIDCClaimNameLen || !oidcClaimName.MatchString(name) {
			return fmt.Errorf("claim name %q: use up to %d letters, digits and _ . : -", truncate(name, MaxOIDCClaimNameLen), MaxOIDCClaimNameLen)
		}
		if v == "" {
			return fmt.Errorf("claim %s is empty: give the value the token must carry", name)
		}
		if err := checkText("claim "+name, v, MaxOIDCClaimValueLen); err != nil {
			return err
		}
		// iss and aud are the same in every token the provider accepts: a value of
		// theirs names no one.
		if !strings.Contains(v, "*") && name != "iss" && name != "aud" {
			literal = true
		}
	}
	if !literal {
		return fmt.Errorf("every claim has a * or is iss or aud, which every token of the issuer carries alike: give at least one other claim without a wildcard, such as repository_id, so that the rule names what it trusts")
	}
	return nil
}

// checkIssuer requires an https URL, or http to a loopback host (a local issuer), with
// no user, query or fragment: it is compared with the token's iss as it is.
func checkIssuer(issuer string) error {
	if issuer == "" {
		return fmt.Errorf(`set issuer, like "https://token.actions.githubusercontent.com"`)
	}
	if err := checkText("issuer", issuer, MaxOIDCURLLen); err != nil {
		return err
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("issuer %q is not a URL like https://issuer.example.com (no user, query or fragment)", issuer)
	}
	switch u.Scheme {
	case "https":
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("issuer %q: use https; plain http is allowed on a loopback host alone, as its keys would otherwise cross a network unauthenticated", issuer)
		}
	default:
		return fmt.Errorf("issuer %q: use an https:// URL", issuer)
	}
	return nil
}

// checkText refuses a value longer than limit bytes, not UTF-8, or holding control or
// format characters, which would be confusing in the file and in the audit trail.
func checkText(what, v string, limit int) error {
	if len(v) > limit {
		return fmt.Errorf("%s is %d bytes, the limit is %d", what, len(v), limit)
	}
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s is not valid UTF-8", what)
	}
	for _, c := range v {
		if unicode.IsControl(c) || unicode.In(c, unicode.Cf) {
			return fmt.Errorf("%s holds a control character (%U); remove it", what, c)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
