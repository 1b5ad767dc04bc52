package resolver

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kazzle/kazzle/secret"
)

// MaxDepth is how many references may nest: a value may lead through at most 16
// references to a plain or computed value.
const MaxDepth = 16

// Errors that callers branch on. Each is wrapped with the names and ids involved.
var (
	ErrUnknownSecret = errors.New("reference to an unknown secret")
	ErrUnknownField  = errors.New("reference to an unknown field")
	ErrTooDeep       = fmt.Errorf("references nest deeper than %d", MaxDepth)
)

// Source looks up the secrets that references point at. It returns an error wrapping
// ErrUnknownSecret when no secret has the id (or the caller may not read it).
type Source interface {
	Secret(id string) (secret.Secret, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(id string) (secret.Secret, error)

// Secret calls f.
func (f SourceFunc) Secret(id string) (secret.Secret, error) { return f(id) }

// CycleError reports references that lead back to where they started.
type CycleError struct {
	// Chain lists the fields from the first repeated one back to itself, as NAME.field.
	Chain []string
}

func (e *CycleError) Error() string {
	return "reference cycle: " + strings.Join(e.Chain, " -> ")
}

// Expander expands references, memoising each field it has expanded. It is meant for one
// resolution (one request): values it caches are only as fresh as its Source.
//
// No field it expands is longer than MaxExpandedField; what Expand and Resolve return
// over its life totals at most MaxExpandedTotal bytes, and so do the values of the
// references it follows (each counted once): past any of these it returns an
// *ExpansionError, having built nothing longer than the cap. The second budget bounds
// what a request holds that it does not return: the referenced values behind a TOTP
// code, and Used, which a caller keeps for redaction or sends on.
type Expander struct {
	src      Source
	now      time.Time
	done     map[secret.Ref]string
	bound    map[secret.Ref][]secret.Hosts // the bindings of done's and used's values
	used     map[secret.Ref]string         // every reference followed, nested ones included
	read     map[string]string             // id → name of every secret a reference was followed to
	names    map[string]string             // id → name of the secrets of done
	stack    []frame                       // the fields being expanded, to name a cycle
	hops     int                           // references followed to get here
	emitted  int                           // bytes Expand and Resolve have returned
	followed int                           // bytes of the distinct values of used
}

type frame struct {
	ref  secret.Ref
	name string
}

// NewExpander returns an Expander that reads referenced secrets from src and computes
// TOTP codes at now.
func NewExpander(src Source, now time.Time) *Expander {
	return &Expander{src: src, now: now, done: make(map[secret.Ref]string), used: make(map[secret.Ref]string)}
}

// Used returns every reference the expander has followed, nested ones included, with
// its expanded value: what a caller must redact from anything the values reach.
func (e *Expander) Used() map[secret.Ref]string { return e.used }

// Binding returns the hosts bindings the value of a reference the expander followed
// (see Used) passed through: the referenced secret's own hosts and those of every
// secret its references reached. The value may go only where every one of them allows;
// none means unbound.
func (e *Expander) Binding(r secret.Ref) []secret.Hosts { return e.bound[r] }

// bind records the bindings of r's value; most values have none, and most resolves no
// bound value at all, so the map is made on the first.
func (e *Expander) bind(r secret.Ref, bound []secret.Hosts) {
	if bound == nil {
		return
	}
	if e.bound == nil {
		e.bound = make(map[secret.Ref][]secret.Hosts)
	}
	e.bound[r] = bound
}

// Read returns the id and name of every secret the expander followed a reference to,
// nested ones included: the secrets, besides those a caller asked for, whose plaintext
// went into the values, which an audit event of the read must name.
func (e *Expander) Read() map[string]string { return e.read }

// Field returns field of s with every reference expanded; for a totp secret's code, the
// code at the expander's time; for a git secret's url, https://host/path.
func (e *Expander) Field(s secret.Secret, field string) (string, error) {
	v, _, err := e.field(s, field)
	return v, err
}

// FieldBinding is Field with the hosts bindings the value passed through: s's own hosts
// and those of every secret its references reached (see Binding).
func (e *Expander) FieldBinding(s secret.Secret, field string) (string, []secret.Hosts, error) {
	return e.field(s, field)
}

// Expand substitutes every reference in template, such as a command-line argument.
// It counts against the expander's MaxExpandedTotal.
func (e *Expander) Expand(template string) (string, error) {
	v, _, err := e.ExpandBinding(template)
	return v, err
}

// ExpandBinding is Expand with the hosts bindings of the references template holds
// (see Binding): the expanded text may go only where every one of them allows.
func (e *Expander) ExpandBinding(template string) (string, []secret.Hosts, error) {
	parts, err := secret.ParseTemplate(template)
	if err != nil {
		return "", nil, err
	}
	v, b, err := e.expandParts(parts, "argument", MaxExpandedTotal-e.emitted)
	if errors.Is(err, errOverCap) {
		return "", nil, &ExpansionError{Where: "argument", Limit: MaxExpandedTotal, Total: true}
	}
	if err != nil {
		return "", nil, err
	}
	e.emitted += len(v)
	return v, b, nil
}

// expandParts joins parts with their references expanded, or returns errOverCap,
// building nothing, when the result would be longer than room. It returns the bindings
// of the references with the text.
func (e *Expander) expandParts(parts []secret.Part, where string, room int) (string, []secret.Hosts, error) {
	var buf [8]string
	vals := buf[:0]
	var bound []secret.Hosts
	n := 0
	for _, p := range parts {
		v := p.Literal
		if p.Ref != nil {
			var b []secret.Hosts
			var err error
			if v, b, err = e.ref(*p.Ref, where); err != nil {
				return "", nil, err
			}
			bound = addBindings(bound, b...)
		}
		// Stop at the first part past the cap: the parts after it may be bombs of their own.
		if n += len(v); n > room {
			return "", nil, errOverCap
		}
		vals = append(vals, v)
	}
	v, err := joinWithin(vals, room)
	return v, bound, err
}

func (e *Expander) ref(r secret.Ref, where string) (string, []secret.Hosts, error) {
	if v, ok := e.done[r]; ok {
		return v, e.bound[r], e.follow(r, e.names[r.ID], v, e.bound[r])
	}
	if e.hops >= MaxDepth {
		return "", nil, fmt.Errorf("%s: %s: %w", where, r, ErrTooDeep)
	}
	e.hops++
	defer func() { e.hops-- }()
	s, err := e.src.Secret(r.ID)
	if err != nil {
		if errors.Is(err, ErrUnknownSecret) {
			return "", nil, fmt.Errorf("%s: %s: %w", where, r, ErrUnknownSecret)
		}
		return "", nil, fmt.Errorf("%s: look up %s: %w", where, r, err)
	}
	v, b, err := e.field(s, r.Field)
	if err != nil {
		return "", nil, err
	}
	return v, b, e.follow(r, s.Name, v, b)
}

// follow records that reference r, to the secret named name, gave v, bound by bound,
// charging v to the budget of followed values the first time.
func (e *Expander) follow(r secret.Ref, name, v string, bound []secret.Hosts) error {
	if _, seen := e.used[r]; seen {
		return nil
	}
	if e.followed+len(v) > MaxExpandedTotal {
		return &ExpansionError{Where: name + "." + r.Field, Limit: MaxExpandedTotal, Total: true}
	}
	e.followed += len(v)
	e.used[r] = v
	e.bind(r, bound)
	if e.read == nil {
		e.read = make(map[string]string)
	}
	e.read[r.ID] = name
	return nil
}

// addBindings adds each of hs to bound unless nil or there already, keeping bound sorted
// so that equal sets of bindings read the same. It never changes bound's array: callers
// share bindings.
func addBindings(bound []secret.Hosts, hs ...secret.Hosts) []secret.Hosts {
	for _, h := range hs {
		if h == nil || slices.ContainsFunc(bound, func(b secret.Hosts) bool { return slices.Equal(b, h) }) {
			continue
		}
		i, _ := slices.BinarySearchFunc(bound, h, func(a, b secret.Hosts) int { return strings.Compare(a.String(), b.String()) })
		bound = slices.Insert(slices.Clip(bound), i, h)
	}
	return bound
}

func (e *Expander) field(s secret.Secret, field string) (string, []secret.Hosts, error) {
	own := addBindings(nil, s.Hosts)
	// Most values hold no reference: they are their own expansion, with nothing to
	// memoise and no cycle to look for.
	if v, stored := s.Fields.Get(field); stored && !strings.Contains(v, "${") && s.Type.HasField(field) && s.Type.Computed() != field {
		if len(v) > MaxExpandedField {
			return "", nil, &ExpansionError{Where: s.Name + "." + field, Limit: MaxExpandedField}
		}
		return v, own, nil
	}
	r := secret.Ref{ID: s.ID, Field: field}
	if v, ok := e.done[r]; ok {
		return v, e.bound[r], nil
	}
	if !s.Type.HasField(field) {
		return "", nil, fmt.Errorf("%s: %s secret %s has no field %q: %w", r, s.Type, s.Name, field, ErrUnknownField)
	}
	for i, f := range e.stack {
		if f.ref == r {
			chain := make([]string, 0, len(e.stack)-i+1)
			for _, g := range e.stack[i:] {
				chain = append(chain, g.name+"."+g.ref.Field)
			}
			return "", nil, &CycleError{Chain: append(chain, s.Name+"."+field)}
		}
	}
	e.stack = append(e.stack, frame{ref: r, name: s.Name})
	defer func() { e.stack = e.stack[:len(e.stack)-1] }()

	where := s.Name + "." + field
	var v string
	bound := own
	switch {
	case s.Type == secret.TypeTOTP && field == secret.FieldCode:
		seed, b, err := e.raw(s, secret.FieldSeed, where)
		if err != nil {
			return "", nil, err
		}
		bound = addBindings(bound, b...)
		code, _, err := TOTP(seed, e.now)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		v = code
	case s.Type == secret.TypeGit && field == secret.FieldURL:
		host, b, err := e.raw(s, secret.FieldHost, where)
		if err != nil {
			return "", nil, err
		}
		bound = addBindings(bound, b...)
		path, b, err := e.raw(s, secret.FieldPath, where)
		if err != nil {
			return "", nil, err
		}
		bound = addBindings(bound, b...)
		if path = strings.Trim(path, "/"); path != "" {
			path = "/" + path
		}
		if v, err = joinWithin([]string{"https://", host, path}, MaxExpandedField); err != nil {
			return "", nil, &ExpansionError{Where: where, Limit: MaxExpandedField}
		}
	default:
		var b []secret.Hosts
		var err error
		if v, b, err = e.raw(s, field, where); err != nil {
			return "", nil, err
		}
		bound = addBindings(bound, b...)
	}
	e.done[r] = v
	e.bind(r, bound)
	if e.names == nil {
		e.names = make(map[string]string)
	}
	e.names[s.ID] = s.Name
	return v, bound, nil
}

// raw expands a stored field of s, within MaxExpandedField, with the bindings of its
// references.
func (e *Expander) raw(s secret.Secret, field, where string) (string, []secret.Hosts, error) {
	parts, err := secret.ParseTemplate(s.Fields.Value(field))
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", where, err)
	}
	v, b, err := e.expandParts(parts, where, MaxExpandedField)
	if errors.Is(err, errOverCap) {
		return "", nil, &ExpansionError{Where: s.Name + "." + field, Limit: MaxExpandedField}
	}
	return v, b, err
}

// Var is one resolved environment variable, with where its value came from.
type Var struct {
	Name     string
	Value    string
	SecretID string
	Field    string
	// Hosts are the bindings the value passed through (see Expander.Binding): it may go
	// only where every one of them allows; none means unbound.
	Hosts []secret.Hosts
}

// Resolve turns the view of an environment (see View: each name once) into environment
// variables, with references expanded through src and TOTP codes computed at now. Empty
// optional fields export nothing; a string's empty value exports an empty variable. Two
// secrets that would export the same variable are an error, and so is a secret that
// would export a reserved one (ErrReservedName).
func Resolve(view []secret.Secret, src Source, now time.Time) ([]Var, error) {
	return NewExpander(src, now).Resolve(view)
}

// Resolve is the package's Resolve through e, so that the caller can ask e afterwards
// which secrets the references read. The values count against e's MaxExpandedTotal.
func (e *Expander) Resolve(view []secret.Secret) ([]Var, error) {
	vars := make([]Var, 0, len(view))
	// Names are unique in a view, so only a type that exports derived names (NAME_URL,
	// NAME_CODE) can make two secrets export the same variable.
	var seen map[string]string
	for _, s := range view {
		if s.Type != secret.TypeString {
			seen = make(map[string]string, len(view))
			break
		}
	}
	var buf [3]secret.VarField // the most variables one secret exports
	for _, s := range view {
		for _, vf := range secret.AppendEnvVars(buf[:0], s.Name, s.Type) {
			// Writes refuse these names; a row stored before that rule must not reach a process.
			if secret.IsReservedVar(vf.Var) {
				return nil, secret.ReservedError(s.Name, vf.Var)
			}
			// A string's empty value is set, as FOO= is; an empty optional field is not.
			if s.Fields.Value(vf.Field) == "" && s.Type.Computed() != vf.Field && s.Type != secret.TypeString {
				continue
			}
			if seen != nil {
				if other, dup := seen[vf.Var]; dup {
					return nil, fmt.Errorf("%w: secrets %s and %s both export %s; rename one", secret.ErrInvalid, other, s.Name, vf.Var)
				}
				seen[vf.Var] = s.Name
			}
			v, bound, err := e.field(s, vf.Field)
			if err != nil {
				return nil, err
			}
			if e.emitted+len(v) > MaxExpandedTotal {
				return nil, &ExpansionError{Where: s.Name + "." + vf.Field, Limit: MaxExpandedTotal, Total: true}
			}
			e.emitted += len(v)
			vars = append(vars, Var{Name: vf.Var, Value: v, SecretID: s.ID, Field: vf.Field, Hosts: bound})
		}
	}
	return vars, nil
}
