package mcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/redact"
	"github.com/kazzle/kazzle/secret"
)

// Bounds of what a session scrubs its results of.
const (
	// scrubMaxAge is how old the values read for a scope may be before a call re-reads
	// them: a secret created or changed since is then scrubbed too.
	scrubMaxAge = 30 * time.Second
	// maxScopes caps the collections and environments one session scrubs for.
	maxScopes = 16
	// maxScrubBytes caps the values a session holds to scrub, all scopes together: each
	// value costs some twenty patterns.
	maxScrubBytes = 4 << 20
)

// scope is a collection and environment a call named; env "" means every environment.
type scope struct{ collection, env string }

func (s scope) String() string {
	if s.env == "" {
		return s.collection
	}
	return s.collection + "/" + s.env
}

// scopeValues are the values of one scope, by reference, and when they were read.
type scopeValues struct {
	values map[string]string // ${secret.<id>.<field>} → value
	read   time.Time
}

// scrubber holds what every result of a session is scrubbed of: every value the key may
// read in each collection and environment the session has named (by kazzle mcp's flags
// or by any call), re-read when older than scrubMaxAge, and every value a call has
// substituted, kept for the session: a value written to a file by one command and read
// by the next comes back as its reference. It is safe for concurrent use.
type scrubber struct {
	client *api.Client
	now    func() time.Time

	mu       sync.Mutex
	scopes   map[scope]*scopeValues
	used     map[string]string // value → reference, of every call so far
	fixed    []redact.Replacement
	replacer *redact.Replacer // of all the above; nil when something changed
}

func newScrubber(client *api.Client, now func() time.Time, fixed []redact.Replacement) *scrubber {
	return &scrubber{client: client, now: now, scopes: map[scope]*scopeValues{}, used: map[string]string{}, fixed: fixed}
}

// name adds a scope to scrub for. Past maxScopes it refuses, and the call must too:
// its result could not be scrubbed of the scope's values.
func (s *scrubber) name(collection, env string) error {
	if collection == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := scope{collection, env}
	if _, ok := s.scopes[sc]; ok {
		return nil
	}
	if len(s.scopes) >= maxScopes {
		return fmt.Errorf("this session already scrubs its results for %d collections and environments, the limit; restart kazzle mcp to work with %s", maxScopes, sc)
	}
	s.scopes[sc] = &scopeValues{}
	return nil
}

// use adds the values a call substituted.
func (s *scrubber) use(used []api.UsedValue) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range used {
		if _, ok := s.used[u.Value]; !ok {
			s.used[u.Value] = u.Ref
			s.replacer = nil
		}
	}
	return s.checkSize()
}

// replacerFor re-reads the scopes whose values are older than scrubMaxAge (each one
// read is one audited resolve per environment) and returns the Replacer of everything.
// A scope the key may not read holds nothing: no call can substitute its values.
func (s *scrubber) replacerFor(ctx context.Context) (*redact.Replacer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for sc, sv := range s.scopes {
		if !sv.read.IsZero() && now.Sub(sv.read) < scrubMaxAge {
			continue
		}
		values, err := s.read(ctx, sc)
		if err != nil {
			return nil, fmt.Errorf("read the values to scrub from results (%s): %w", sc, err)
		}
		sv.values, sv.read = values, now
		s.replacer = nil
	}
	if err := s.checkSize(); err != nil {
		return nil, err
	}
	if s.replacer == nil {
		s.replacer = redact.NewReplacer(s.replacements())
	}
	return s.replacer, nil
}

// shortFields lists, by secret id, the fields whose values a session cannot scrub:
// those under redact.MinScrubLen characters.
func (s *scrubber) shortFields(sc scope) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]string{}
	sv := s.scopes[sc]
	if sv == nil {
		return out
	}
	for ref, v := range sv.values {
		if redact.ScrubReplacements(v, ref) != nil {
			continue
		}
		if parts, err := secret.ParseTemplate(ref); err == nil && len(parts) == 1 && parts[0].Ref != nil {
			r := parts[0].Ref
			out[r.ID] = append(out[r.ID], r.Field)
		}
	}
	for _, fields := range out {
		sort.Strings(fields)
	}
	return out
}

func (s *scrubber) checkSize() error {
	n := 0
	for v := range s.used {
		n += len(v)
	}
	for _, sv := range s.scopes {
		for _, v := range sv.values {
			n += len(v)
		}
	}
	if n > maxScrubBytes {
		return fmt.Errorf("the values this session scrubs its results of total more than %d bytes, the limit; restart kazzle mcp with fewer collections", maxScrubBytes)
	}
	return nil
}

// replacements are the scrub replacements of every value held, in a stable order.
func (s *scrubber) replacements() []redact.Replacement {
	byValue := map[string]string{}
	for v, ref := range s.used {
		byValue[v] = ref
	}
	for _, sv := range s.scopes {
		for ref, v := range sv.values {
			if _, ok := byValue[v]; !ok {
				byValue[v] = ref
			}
		}
	}
	values := make([]string, 0, len(byValue))
	for v := range byValue {
		values = append(values, v)
	}
	sort.Strings(values)
	reps := append([]redact.Replacement(nil), s.fixed...)
	for _, v := range values {
		reps = append(reps, redact.ScrubReplacements(v, byValue[v])...)
	}
	return reps
}

// read returns the values of a scope by reference: every variable and every stored
// field (the scan set) of the environment, or of each environment of the collection.
func (s *scrubber) read(ctx context.Context, sc scope) (map[string]string, error) {
	envs := []string{sc.env}
	if sc.env == "" {
		list, err := s.client.Environments(ctx, sc.collection)
		if unreadable(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		// The untagged secrets are in every environment's view; with no environment
		// they are the collection's whole view.
		envs = envs[:0]
		for _, e := range list {
			envs = append(envs, e.Slug)
		}
		if len(envs) == 0 {
			envs = []string{""}
		}
	}
	values := map[string]string{}
	for _, env := range envs {
		vars, scan, err := s.client.ResolveForScan(ctx, api.ResolveRequest{Collection: sc.collection, Environment: env, Scan: true})
		if unreadable(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, v := range append(vars, scan...) {
			values[secret.Ref{ID: v.SecretID, Field: v.Field}.String()] = v.Value
		}
	}
	return values, nil
}

// unreadable reports an error that says the key may not read a scope, or that it does
// not exist: nothing of it can reach a call.
func unreadable(err error) bool {
	var ae *api.Error
	return errors.As(err, &ae) && (ae.Status == http.StatusForbidden || ae.Status == http.StatusNotFound)
}
