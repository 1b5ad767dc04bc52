package bundler

import (
	"encoding/binary"
	"maps"
	"slices"

	"github.com/kazzle/kazzle/resolver"
)

// MinScanLength is the shortest value the leak scan looks for: shorter ones ("true",
// "3000") occur in any bundle by chance and say nothing about a leak.
const MinScanLength = 6

// scan looks in every file (source maps included) for each of others' values, raw and
// as a JavaScript or JSON string literal would hold it, and returns the first leak in
// file name order, then position.
func scan(files map[string][]byte, inline, others []Secret) *LeakError {
	inlined := map[string]string{}
	for _, s := range inline {
		inlined[s.Value] = s.Name
	}
	m := newMatcher(others)
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if s, ok := m.find(files[name]); ok {
			return &LeakError{Secret: s.Name, File: name, SameAs: inlined[s.Value]}
		}
	}
	return nil
}

// matcher finds any of many strings in one pass over the data, so the scan costs about
// the same for an environment of 5 secrets as of 500: each position's first 6 bytes are
// checked against a bit set of the patterns' first 6 bytes; only on a hit are the
// patterns with those first bytes looked up, by length and then exactly, so that many
// values sharing a beginning (postgres://…) cost one lookup per length.
type matcher struct {
	filter  [1 << 16 / 64]uint64
	buckets map[uint64][]sameLength // first 6 bytes → the patterns that begin so
}

// sameLength are patterns of one length, with the secret each spells.
type sameLength struct {
	n        int
	patterns map[string]Secret
}

// prefixMask keeps the first MinScanLength bytes of a little-endian 8-byte load.
const prefixMask = 1<<(8*MinScanLength) - 1

// prefixKey is the first MinScanLength bytes of b as a number; b has at least that many.
func prefixKey(b []byte) uint64 {
	if len(b) >= 8 { // one load instead of a copy: this runs for every byte of a bundle
		return binary.LittleEndian.Uint64(b) & prefixMask
	}
	var buf [8]byte
	copy(buf[:], b[:MinScanLength])
	return binary.LittleEndian.Uint64(buf[:])
}

func filterSlot(k uint64) (int, uint64) {
	h := (k * 0x9E3779B97F4A7C15) >> 48 // 16 bits of a multiplicative hash
	return int(h / 64), 1 << (h % 64)
}

func newMatcher(secrets []Secret) *matcher {
	m := &matcher{buckets: map[uint64][]sameLength{}}
	for _, s := range secrets {
		if len(s.Value) < MinScanLength {
			continue
		}
		for _, form := range resolver.LiteralForms(s.Value) {
			k := prefixKey([]byte(form))
			word, bit := filterSlot(k)
			m.filter[word] |= bit
			groups := m.buckets[k]
			i := slices.IndexFunc(groups, func(g sameLength) bool { return g.n == len(form) })
			if i < 0 {
				i = len(groups)
				groups = append(groups, sameLength{n: len(form), patterns: map[string]Secret{}})
				m.buckets[k] = groups
			}
			groups[i].patterns[form] = s
		}
	}
	return m
}

// find returns a secret one of whose patterns occurs in data.
func (m *matcher) find(data []byte) (Secret, bool) {
	if len(m.buckets) == 0 {
		return Secret{}, false
	}
	for i := 0; i+MinScanLength <= len(data); i++ {
		k := prefixKey(data[i:])
		if word, bit := filterSlot(k); m.filter[word]&bit == 0 {
			continue
		}
		for _, g := range m.buckets[k] {
			if i+g.n <= len(data) {
				if s, ok := g.patterns[string(data[i:i+g.n])]; ok {
					return s, true
				}
			}
		}
	}
	return Secret{}, false
}
