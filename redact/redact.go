// Package redact keeps secret values out of text: a [Replacer] replaces every value it
// knows, in the spellings text is likely to carry them ([EncodedForms]), with a
// placeholder such as the value's reference; a [Redactor] does so on a stream, also when
// a value is split across writes; a [Matcher] finds any of many strings in one pass, for
// both and for the build output's leak scan.
//
// It is pure and imports nothing of kazzle's, so that every part that hands text to a
// person or an assistant can use it.
package redact

import (
	"bytes"
	"io"
	"sort"
)

// Replacement says what a secret value becomes when it is redacted; With is usually the
// value's reference, ${secret.<id>.<field>}.
type Replacement struct {
	Value string
	With  string
}

// matcher finds the leftmost, longest occurrence of any of a set of values.
type matcher struct {
	// byFirst holds, for each first byte, the values that start with it, longest first.
	byFirst [256][]rule
}

type rule struct {
	value []byte
	with  []byte
}

func newMatcher(reps []Replacement) *matcher {
	m := &matcher{}
	seen := make(map[string]bool, len(reps))
	for _, r := range reps {
		if r.Value == "" || seen[r.Value] {
			continue
		}
		seen[r.Value] = true
		c := r.Value[0]
		m.byFirst[c] = append(m.byFirst[c], rule{value: []byte(r.Value), with: []byte(r.With)})
	}
	for i := range m.byFirst {
		rules := m.byFirst[i]
		sort.SliceStable(rules, func(a, b int) bool { return len(rules[a].value) > len(rules[b].value) })
	}
	return m
}

// scan appends to out the redacted form of buf and returns how many bytes of buf it
// consumed. Unless final, it stops at the first position where a value could still
// begin but buf ends first: those bytes wait for the next write.
func (m *matcher) scan(out, buf []byte, final bool) ([]byte, int) {
	start := 0
	i := 0
scan:
	for i < len(buf) {
		rules := m.byFirst[buf[i]]
		if len(rules) == 0 {
			i++
			continue
		}
		rest := buf[i:]
		for _, ru := range rules {
			if len(rest) >= len(ru.value) {
				if bytes.HasPrefix(rest, ru.value) {
					out = append(out, buf[start:i]...)
					out = append(out, ru.with...)
					i += len(ru.value)
					start = i
					continue scan
				}
			} else if !final && bytes.HasPrefix(ru.value, rest) {
				// A value longer than any that matches here may still complete.
				break scan
			}
		}
		i++
	}
	return append(out, buf[start:i]...), i
}

// Redact returns s with every value replaced, leftmost and longest first.
func Redact(s string, reps []Replacement) string { return NewReplacer(reps).Replace(s) }

// Replacer redacts a set of values from strings and streams, its matcher built once. It
// is safe for concurrent use; the Redactors it makes are not.
type Replacer struct{ m *matcher }

// NewReplacer returns the Replacer of reps.
func NewReplacer(reps []Replacement) *Replacer { return &Replacer{m: newMatcher(reps)} }

// Replace returns s with every value replaced, leftmost and longest first.
func (r *Replacer) Replace(s string) string {
	out, _ := r.m.scan(nil, []byte(s), true)
	return string(out)
}

// Writer returns a Redactor writing to w.
func (r *Replacer) Writer(w io.Writer) *Redactor { return &Redactor{w: w, m: r.m} }

// Redactor is an io.WriteCloser that replaces every secret value in what passes through it,
// also when a value is split across writes: bytes that may begin a value are held back
// until the value is ruled in or out. Close writes out what it holds; it does not close
// the underlying writer. A Redactor is not safe for concurrent use.
type Redactor struct {
	w   io.Writer
	m   *matcher
	buf []byte
	out []byte
	err error
}

// NewRedactor returns a Redactor writing to w.
func NewRedactor(w io.Writer, reps []Replacement) *Redactor { return NewReplacer(reps).Writer(w) }

// Write redacts p. It reports len(p) on success: the caller's bytes were all taken, even
// though fewer or more may reach the underlying writer.
func (r *Redactor) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	r.buf = append(r.buf, p...)
	if err := r.flush(false); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes out the bytes held back for a value that never completed.
func (r *Redactor) Close() error {
	if r.err != nil {
		return r.err
	}
	return r.flush(true)
}

func (r *Redactor) flush(final bool) error {
	var n int
	r.out, n = r.m.scan(r.out[:0], r.buf, final)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	if len(r.out) > 0 {
		if _, err := r.w.Write(r.out); err != nil {
			r.err = err
			return err
		}
	}
	return nil
}
