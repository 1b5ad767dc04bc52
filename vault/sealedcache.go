package vault

import (
	"context"
	"crypto/cipher"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault/internal/cache"
)

// sealedCache keeps the sealed rows of recently resolved environments, so a steady stream
// of resolves reads the collection's row instead of every secret's row. It holds only
// ciphertext, and an entry is used only while the collection's generation, read from the
// store on every call, is the one it was loaded at: a change made through any process
// sharing the database is seen at once.
type sealedCache = cache.Cache[sealedKey, *sealedEntry]

// maxSealedEntries bounds how many environments' sealed rows are held. An entry is about
// the size of its environment's ciphertext; 4096 covers every environment in use in all
// but the largest deployments. Past it the least recently resolved environment goes, which
// costs that environment one query on its next resolve, and no other its cached rows.
const maxSealedEntries = 4096

// maxSealedBytes bounds the ciphertext the cache holds in all: environments are cheap to
// make, and each entry holds its own copy of the collection's untagged rows, so a count
// alone would let a few large collections hold gigabytes. 64 MiB is thousands of
// environments of common size.
const maxSealedBytes = 64 << 20

func newSealedCache() *sealedCache {
	return cache.NewWeighted[sealedKey](maxSealedEntries, maxSealedBytes, func(e *sealedEntry) int64 { return e.size })
}

type sealedKey struct{ space, collection, env string }

// sealedEntry is one environment's sealed rows at one generation, and what opening its
// view needs, worked out once. Nothing in it is plaintext, and nothing changes it after
// it is built.
type sealedEntry struct {
	generation int64
	rows       []SealedSecret
	view       viewPlan
	size       int64 // the bytes of its sealed fields
}

// viewPlan lists the sealed fields of an environment's view (resolver.ViewOrder) in the
// order they are opened, each with its additional data already encoded, so a resolve
// opens them all into one buffer without per-field bookkeeping.
type viewPlan struct {
	secrets []plannedSecret
	fields  []plannedField
	// plainSize is the plaintext size of all fields together.
	plainSize int
	// byID finds a secret of the view by id, for references.
	byID map[string]int
	// names are the view's secret names, in order, for the audit event.
	names []string
	// order are the indexes of the view's rows in the entry's rows, in order.
	order []int
}

type plannedSecret struct {
	row         *SealedSecret
	first, last int // its fields are fields[first:last]
}

type plannedField struct {
	name              string
	nonce, sealed, ad []byte
}

func planView(rows []SealedSecret, order []int) (viewPlan, error) {
	p := viewPlan{secrets: make([]plannedSecret, len(order)), byID: make(map[string]int, len(order)), names: make([]string, len(order)), order: order}
	for i, j := range order {
		row := &rows[j]
		ps := plannedSecret{row: row, first: len(p.fields)}
		for _, f := range slices.Sorted(maps.Keys(row.Fields)) {
			sealed := row.Fields[f]
			if err := checkSealed(sealed); err != nil {
				return viewPlan{}, fmt.Errorf("open field %s of secret %s (%s) version %d: %w", f, row.Name, row.ID, row.Version, err)
			}
			p.fields = append(p.fields, plannedField{
				name:   f,
				nonce:  sealed[1 : 1+nonceSize],
				sealed: sealed[1+nonceSize:],
				ad:     fieldAD(sealed[0], row.SpaceID, row.ID, row.Version, f),
			})
			p.plainSize += len(sealed) - 1 - nonceSize - gcmTagSize
		}
		ps.last = len(p.fields)
		p.secrets[i] = ps
		p.byID[row.ID] = i
		p.names[i] = row.Name
	}
	return p, nil
}

// open decrypts every field of the view under aead. All plaintext lands in one string,
// which the returned secrets' fields share.
func (p *viewPlan) open(aead cipher.AEAD) ([]secret.Secret, error) {
	buf := make([]byte, 0, p.plainSize)
	ends := make([]int, len(p.fields))
	for i := range p.fields {
		f := &p.fields[i]
		var err error
		if buf, err = aead.Open(buf, f.nonce, f.sealed, f.ad); err != nil {
			row := p.secretOf(i).row
			return nil, fmt.Errorf("open field %s of secret %s (%s) version %d: %w", f.name, row.Name, row.ID, row.Version, ErrCiphertext)
		}
		ends[i] = len(buf)
	}
	plain := string(buf)
	clear(buf)
	fields := make(secret.Fields, len(p.fields))
	start := 0
	for k := range fields {
		fields[k] = secret.Field{Name: p.fields[k].name, Value: plain[start:ends[k]]}
		start = ends[k]
	}
	view := make([]secret.Secret, len(p.secrets))
	for i, ps := range p.secrets {
		view[i] = secret.Secret{ID: ps.row.ID, Name: ps.row.Name, Type: ps.row.Type, Env: ps.row.EnvironmentID, Hosts: ps.row.Hosts, Fields: fields[ps.first:ps.last:ps.last]}
	}
	return view, nil
}

// only plans the part of the entry's view that names lists: what a resolve of those
// secrets opens, and no more.
func (e *sealedEntry) only(names []string) (viewPlan, error) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	var order []int
	for i, name := range e.view.names {
		if want[name] {
			order = append(order, e.view.order[i])
			delete(want, name)
		}
	}
	if len(want) > 0 {
		missing := slices.Sorted(maps.Keys(want))
		for i, n := range missing {
			missing[i] = secret.Excerpt(n)
		}
		return viewPlan{}, fmt.Errorf("no secret named %s in this environment: %w", strings.Join(missing, ", "), ErrNotFound)
	}
	return planView(e.rows, order)
}

func (p *viewPlan) secretOf(field int) plannedSecret {
	for _, ps := range p.secrets {
		if field < ps.last {
			return ps
		}
	}
	return plannedSecret{}
}

// environment returns the sealed current versions of a collection's secrets (all, or
// those of an environment: untagged and tagged with it) and the plan of the environment's
// view, from the cache when c's generation, as just read from the store, still matches.
func (v *Vault) environment(ctx context.Context, c Collection, envID string) (*sealedEntry, error) {
	spaceID, collectionID, gen := c.SpaceID, c.ID, c.Generation
	key := sealedKey{spaceID, collectionID, envID}
	e, ok := v.sealed.Get(key)
	if ok && e.generation == gen {
		return e, nil
	}
	// gen was read before the rows: rows at least as new as gen are labelled gen, and
	// are used only while the store still says gen, so nothing stale is ever served.
	rows, err := v.store.Secrets(ctx, SecretQuery{SpaceID: spaceID, CollectionID: collectionID, ForEnvironment: envID, WithFields: true})
	if err != nil {
		return nil, err
	}
	order := resolver.ViewOrder(len(rows), func(i int) (string, string) { return rows[i].Name, rows[i].EnvironmentID }, envID)
	plan, err := planView(rows, order)
	if err != nil {
		return nil, err
	}
	e = &sealedEntry{generation: gen, rows: rows, view: plan}
	for _, r := range rows {
		for _, f := range r.Fields {
			e.size += int64(len(f))
		}
	}
	v.sealed.Add(key, e)
	return e, nil
}
