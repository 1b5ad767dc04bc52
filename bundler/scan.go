package bundler

import (
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

// matcher finds the values of secrets, in every spelling a string literal gives them
// (redact.LiteralForms), in one pass over the data.
type matcher struct {
	m       *redact.Matcher
	secrets []Secret // by pattern index
}

func newMatcher(secrets []Secret) *matcher {
	var patterns []string
	var of []Secret
	for _, s := range secrets {
		if len(s.Value) < MinScanLength {
			continue
		}
		for _, form := range redact.LiteralForms(s.Value) {
			patterns = append(patterns, form)
			of = append(of, s)
		}
	}
	return &matcher{m: redact.NewMatcher(patterns), secrets: of}
}

func (m *matcher) empty() bool { return m.m.Len() == 0 }

// find returns a secret one of whose patterns occurs in data.
func (m *matcher) find(data []byte) (Secret, bool) {
	if _, id := m.m.Index(data); id >= 0 {
		return m.secrets[id], true
	}
	return Secret{}, false
}
