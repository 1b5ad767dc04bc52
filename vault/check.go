package vault

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
)

// Problem is a stored secret that breaks a rule a write enforces today: a row written
// before the rule, or put in the store by other means. Message names the rule, fields
// and limits, never a value.
type Problem struct {
	Secret  SecretMeta
	Rule    string
	Message string
}

// The rules Check reports.
const (
	RuleReservedName = "reserved_name"       // the secret exports a reserved variable
	RuleValue        = "value"               // a field or the note breaks a rule (encoding, size, shape)
	RuleExpansion    = "expansion_too_large" // its references expand past the size limit
	RuleReference    = "reference"           // a reference does not expand (unknown, cycle, too deep)
)

// Check opens every secret of a collection and reports those that a write would
// refuse now, so that they can be fixed before a resolve trips over them. It reads
// plaintext without returning any, and records that it did.
func (v *Vault) Check(ctx context.Context, actor Actor, spaceID, collection string) ([]Problem, error) {
	c, _, err := v.collectionAndEnv(ctx, spaceID, collection, "")
	if err != nil {
		return nil, err
	}
	// The metadata first, then one secret at a time, each with a source of its own:
	// what a check holds is one secret and what its references read, whatever the
	// size of the collection. One check runs at a time in a process.
	rows, err := v.store.Secrets(ctx, SecretQuery{SpaceID: spaceID, CollectionID: c.ID})
	if err != nil {
		return nil, err
	}
	select {
	case v.checking <- struct{}{}:
		defer func() { <-v.checking }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var problems []Problem
	for _, meta := range rows {
		ss, err := v.store.Secret(ctx, spaceID, meta.ID)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the list was read
		}
		if err != nil {
			return nil, err
		}
		s, err := v.open(ctx, ss)
		if err != nil {
			return nil, err
		}
		src := v.source(ctx, spaceID, map[string]secret.Secret{s.ID: s.forResolver()})
		if p, bad := checkSecret(s, src, v); bad {
			problems = append(problems, p)
		}
	}
	target := AuditTarget{CollectionID: c.ID, Collection: c.Slug, Secrets: make([]string, len(rows))}
	for i, meta := range rows {
		target.Secrets[i] = meta.Name
	}
	if err := v.store.AppendAudit(ctx, v.event(actor, spaceID, "secrets.check", target)); err != nil {
		return nil, err
	}
	return problems, nil
}

// checkSecret reports the first rule s breaks, in the order a write checks them.
func checkSecret(s Secret, src resolver.Source, v *Vault) (Problem, bool) {
	fail := func(rule string, err error) (Problem, bool) {
		return Problem{Secret: s.SecretMeta, Rule: rule, Message: err.Error()}, true
	}
	if err := secret.ValidateExports(s.Name, s.Type); err != nil {
		return fail(RuleReservedName, err)
	}
	if err := secret.ValidateFields(s.Type, s.Fields); err != nil {
		return fail(RuleValue, err)
	}
	if err := secret.ValidateNote(s.Note); err != nil {
		return fail(RuleValue, err)
	}
	// A fresh expander per secret, so that a field's size is measured on its own.
	e := resolver.NewExpander(src, v.now())
	rs := s.forResolver()
	for _, f := range slices.Sorted(maps.Keys(s.Fields)) {
		if _, err := e.Field(rs, f); err != nil {
			if errors.Is(err, resolver.ErrExpansionTooLarge) {
				return fail(RuleExpansion, err)
			}
			return fail(RuleReference, err)
		}
	}
	return Problem{}, false
}
