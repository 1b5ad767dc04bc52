package vault

import (
	"context"
	"fmt"
	"strings"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
)

// ExpandTemplates substitutes ${secret.<id>.<field>} in each template (command-line
// arguments, say) and records one audit event naming the secrets used. The caller checks
// beforehand that it may read every secret the templates name; secrets those refer to in
// turn are read with the vault's authority, as for a resolve. used holds every reference
// followed, nested ones included, with its value and the bindings it passed through.
func (v *Vault) ExpandTemplates(ctx context.Context, actor Actor, spaceID string, templates []string) (out []string, used map[secret.Ref]UsedValue, err error) {
	known := map[string]secret.Secret{}
	e := resolver.NewExpander(v.source(ctx, spaceID, known), v.now())
	out = make([]string, len(templates))
	for i, t := range templates {
		if out[i], err = e.Expand(t); err != nil {
			return nil, nil, fmt.Errorf("template %d: %w", i+1, err)
		}
	}
	// Every secret a template reaches is a referenced one: names in Secrets, ids in
	// Referenced, since a name alone does not tell environments apart.
	target := AuditTarget{}
	addReferenced(&target, e, func(string) bool { return false })
	used = make(map[secret.Ref]UsedValue, len(e.Used()))
	for r, val := range e.Used() {
		used[r] = UsedValue{Value: val, Hosts: e.Binding(r)}
	}
	if len(target.Secrets) == 0 {
		return out, used, nil
	}
	return out, used, v.store.AppendAudit(ctx, v.event(actor, spaceID, "templates.expand", target))
}

// UsedValue is the value of a reference a substitution followed, with the hosts
// bindings it passed through (resolver.Expander.Binding).
type UsedValue struct {
	Value string
	Hosts []secret.Hosts
}

// TOTPCode returns the current code of a totp secret and how long it stays valid, and
// records the read.
func (v *Vault) TOTPCode(ctx context.Context, actor Actor, spaceID, id string) (code string, validFor float64, err error) {
	s, err := v.Secret(ctx, spaceID, id, 0)
	if err != nil {
		return "", 0, err
	}
	if s.Type != secret.TypeTOTP {
		return "", 0, fmt.Errorf("%w: secret %s is a %s secret, not totp", ErrInvalid, s.Name, s.Type)
	}
	ex := resolver.NewExpander(v.source(ctx, spaceID, map[string]secret.Secret{}), v.now())
	seed, err := ex.Field(s.forResolver(), secret.FieldSeed)
	if err != nil {
		return "", 0, err
	}
	code, d, err := resolver.TOTP(seed, v.now())
	if err != nil {
		return "", 0, fmt.Errorf("secret %s: %w", s.Name, err)
	}
	c, e, err := v.targetOf(ctx, s.SecretMeta)
	if err != nil {
		return "", 0, err
	}
	target := secretTarget(c, e, s.SecretMeta)
	addReferenced(&target, ex, func(id string) bool { return id == s.ID })
	return code, d.Seconds(), v.store.AppendAudit(ctx, v.event(actor, spaceID, "secret.totp", target))
}

// GitQuery asks for the credential of a git repository.
type GitQuery struct {
	SpaceID string
	Host    string
	// Path is the repository path, such as acme/app.git, percent-encoded or not; a secret
	// whose path is a prefix of it (on / boundaries) matches, and the longest such prefix
	// wins. A path secret.GitRepoPath refuses matches nothing.
	Path string
	// Allowed says whether the caller may read a candidate secret.
	Allowed func(SecretMeta) bool
}

// GitCredential finds the git secret that best matches a host and repository path and
// returns it in plaintext, recording the read. It returns ErrNotFound when none matches.
func (v *Vault) GitCredential(ctx context.Context, actor Actor, q GitQuery) (Secret, error) {
	path, ok := secret.GitRepoPath(q.Path)
	if !ok {
		return Secret{}, fmt.Errorf("no git secret for %s: the repository path has an empty, \".\" or \"..\" segment, a backslash or a control character: %w", secret.Excerpt(q.Host), ErrNotFound)
	}
	colls, err := v.store.Collections(ctx, q.SpaceID)
	if err != nil {
		return Secret{}, err
	}
	var best Secret
	bestLen := -1
	for _, c := range colls {
		sealed, err := v.store.Secrets(ctx, SecretQuery{SpaceID: q.SpaceID, CollectionID: c.ID, WithFields: true})
		if err != nil {
			return Secret{}, err
		}
		for _, ss := range sealed {
			if ss.Type != secret.TypeGit || (q.Allowed != nil && !q.Allowed(ss.SecretMeta)) {
				continue
			}
			s, err := v.open(ctx, ss)
			if err != nil {
				return Secret{}, err
			}
			prefix := strings.Trim(s.Fields[secret.FieldPath], "/")
			if !strings.EqualFold(s.Fields[secret.FieldHost], q.Host) || !pathHasPrefix(path, prefix) {
				continue
			}
			if len(prefix) > bestLen {
				best, bestLen = s, len(prefix)
			}
		}
	}
	if bestLen < 0 {
		return Secret{}, fmt.Errorf("no git secret for %s: %w", secret.Excerpt(q.Host), ErrNotFound)
	}
	e := resolver.NewExpander(v.source(ctx, q.SpaceID, map[string]secret.Secret{}), v.now())
	for _, f := range []string{secret.FieldUsername, secret.FieldPassword} {
		if best.Fields[f], err = e.Field(best.forResolver(), f); err != nil {
			return Secret{}, err
		}
	}
	c, env, err := v.targetOf(ctx, best.SecretMeta)
	if err != nil {
		return Secret{}, err
	}
	target := secretTarget(c, env, best.SecretMeta)
	addReferenced(&target, e, func(id string) bool { return id == best.ID })
	return best, v.store.AppendAudit(ctx, v.event(actor, q.SpaceID, "secret.git_credential", target))
}

// pathHasPrefix reports whether prefix is empty or a leading run of whole segments of p,
// ignoring a trailing .git on either.
func pathHasPrefix(p, prefix string) bool {
	p, prefix = strings.TrimSuffix(p, ".git"), strings.TrimSuffix(prefix, ".git")
	if prefix == "" {
		return true
	}
	return p == prefix || strings.HasPrefix(p, prefix+"/")
}
