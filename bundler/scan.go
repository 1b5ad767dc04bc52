package bundler

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/kazzle/kazzle/redact"
)

// MinScanLength is the shortest value the leak scan looks for: shorter ones ("true",
// "3000") occur in any bundle by chance and say nothing about a leak.
const MinScanLength = 6

// scan looks in every file for each of others' values, and returns the first leak in
// file name order. A file is read as it is, with each value also spelled as a JSON
// string holds it, and as JavaScript reads its string and template literals (see
// unescapeJS), whatever quote and escapes esbuild chose. A source map's sourcesContent
// is read the same way, each source's text as its own file.
func scan(files map[string][]byte, inline, others []Secret) *LeakError {
	m := newMatcher(others)
	if m.empty() {
		return nil
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		s, source, ok := m.findInFile(name, files[name])
		if ok {
			return &LeakError{Secret: s.Name, File: name, Source: source, SameAs: inlinedWith(s.Value, inline)}
		}
	}
	return nil
}

// inlinedWith names an inlined secret whose value is v or holds it, or "".
func inlinedWith(v string, inline []Secret) string {
	for _, s := range inline {
		if s.Value == v {
			return s.Name
		}
	}
	for _, s := range inline {
		if strings.Contains(s.Value, v) {
			return s.Name
		}
	}
	return ""
}

// findInFile looks for the values in data, the contents of the output file name, and
// returns the secret found and, for a source map, the source whose text holds it. A
// source map's sources are read first, so that a hit there names its source.
func (m *matcher) findInFile(name string, data []byte) (Secret, string, bool) {
	if strings.HasSuffix(name, ".map") {
		if s, source, ok := m.findInSources(data); ok {
			return s, source, true
		}
	}
	s, ok := m.findText(data)
	return s, "", ok
}

// findInSources looks for the values in the text of each source in a source map's
// sourcesContent, as findText reads a file.
func (m *matcher) findInSources(data []byte) (Secret, string, bool) {
	var sm struct {
		Sources        []string  `json:"sources"`
		SourcesContent []*string `json:"sourcesContent"`
	}
	if err := json.Unmarshal(data, &sm); err != nil {
		// Not JSON after all: read its strings as JSON, then as JavaScript, reads them.
		if once := unescapeJS(data); once != nil {
			if s, ok := m.findText(once); ok {
				return s, "", true
			}
		}
		return Secret{}, "", false
	}
	for i, text := range sm.SourcesContent {
		if text == nil {
			continue
		}
		if s, ok := m.findText([]byte(*text)); ok {
			source := ""
			if i < len(sm.Sources) {
				source = sm.Sources[i]
			}
			return s, source, true
		}
	}
	return Secret{}, "", false
}

// findText looks for the values in data as it is and as JavaScript reads its literals.
func (m *matcher) findText(data []byte) (Secret, bool) {
	if s, ok := m.find(data); ok {
		return s, true
	}
	if decoded := unescapeJS(data); decoded != nil {
		return m.find(decoded)
	}
	return Secret{}, false
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
		for _, form := range redact.LiteralForms(s.Value) {
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

func (m *matcher) empty() bool { return len(m.buckets) == 0 }

// find returns a secret one of whose patterns occurs in data.
func (m *matcher) find(data []byte) (Secret, bool) {
	if m.empty() {
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
