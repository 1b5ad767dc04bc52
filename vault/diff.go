package vault

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"slices"
	"strings"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
)

// DiffRequest names two environments of a collection to compare.
type DiffRequest struct {
	SpaceID string
	// Collection and Environments are ids or slugs.
	Collection   string
	Environments [2]string
	// Allow, when set, is asked whether the caller may read each environment once it is
	// found, as in ResolveRequest; its error is returned.
	Allow func(Collection, Environment) error
}

// DiffName is a secret name as two environments see it.
type DiffName struct {
	Name string
	// In says which of the two environments see a secret of this name.
	In [2]bool
	// Equal, for a name both see, says whether its resolved values are the same.
	Equal bool
	// Shared says that both see the same untagged secret.
	Shared bool
}

// Diff compares what two environments resolve to, name by name. It holds which names
// each has and, for those both have, whether the values are equal: never a value, nor
// anything computed from one that outlives the call.
type Diff struct {
	Collection   string
	Environments [2]string
	Names        []DiffName
}

// Diff resolves two environments of a collection and compares them inside the vault: a
// name both see is equal when it resolves to the same variables with the same values
// (and, for a TOTP secret, the same stored seed and parameters, since its codes alone
// could match by chance). Values are compared through HMAC-SHA256 under a key drawn for
// this call and dropped after it, so the comparison takes the same time whatever the
// values and no digest can be matched against anything else. It records two reads,
// one for each environment, with the secrets each opened and those their references read.
func (v *Vault) Diff(ctx context.Context, actor Actor, req DiffRequest) (Diff, error) {
	for _, e := range req.Environments {
		if e == "" {
			return Diff{}, fmt.Errorf("%w diff: name two environments", ErrInvalid)
		}
	}
	now := v.now()
	var sides [2]resolvedEnv
	for i, env := range req.Environments {
		r, err := v.resolveEnv(ctx, ResolveRequest{SpaceID: req.SpaceID, Collection: req.Collection, Environment: env, Allow: req.Allow}, false, now)
		if err != nil {
			return Diff{}, err
		}
		sides[i] = r
	}
	a, b := sides[0].target, sides[1].target
	if a.EnvironmentID == b.EnvironmentID {
		return Diff{}, fmt.Errorf("%w diff: %s is the same environment twice; name two", ErrInvalid, a.Environment)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return Diff{}, fmt.Errorf("diff: %w", err)
	}
	defer clear(key)
	mac := hmac.New(sha256.New, key)
	var digests [2]map[string]digest
	for i, r := range sides {
		digests[i] = digestsOf(mac, r)
	}
	out := Diff{Collection: a.Collection, Environments: [2]string{a.Environment, b.Environment}}
	names := make([]string, 0, len(digests[0])+len(digests[1]))
	for _, d := range digests {
		for name := range d {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range slices.Compact(names) {
		da, inA := digests[0][name]
		db, inB := digests[1][name]
		n := DiffName{Name: name, In: [2]bool{inA, inB}}
		if inA && inB {
			n.Equal = hmac.Equal(da.sum, db.sum)
			n.Shared = da.secretID == db.secretID
		}
		out.Names = append(out.Names, n)
	}
	for _, r := range sides {
		if err := v.store.AppendAudit(ctx, v.event(actor, req.SpaceID, "secrets.diff", r.target)); err != nil {
			return Diff{}, err
		}
	}
	return out, nil
}

type digest struct {
	secretID string
	sum      []byte
}

// digestsOf keys an HMAC of each secret's resolved variables (and a TOTP secret's stored
// fields) by secret name.
func digestsOf(mac hash.Hash, r resolvedEnv) map[string]digest {
	bySecret := make(map[string][]resolver.Var, len(r.view))
	for _, v := range r.vars {
		bySecret[v.SecretID] = append(bySecret[v.SecretID], v)
	}
	out := make(map[string]digest, len(r.view))
	for _, s := range r.view {
		mac.Reset()
		vars := bySecret[s.ID]
		slices.SortFunc(vars, func(a, b resolver.Var) int { return strings.Compare(a.Name, b.Name) })
		for _, v := range vars {
			writeFramed(mac, "var", v.Name, v.Field, v.Value)
		}
		if s.Type == secret.TypeTOTP {
			fields := slices.Clone(s.Fields)
			slices.SortFunc(fields, func(a, b secret.Field) int { return strings.Compare(a.Name, b.Name) })
			for _, f := range fields {
				writeFramed(mac, "stored", f.Name, f.Value)
			}
		}
		out[s.Name] = digest{secretID: s.ID, sum: mac.Sum(nil)}
	}
	return out
}

// writeFramed writes each string with its length first, so no two lists of strings
// write the same bytes.
func writeFramed(h hash.Hash, parts ...string) {
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
}
