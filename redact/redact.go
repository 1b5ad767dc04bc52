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
	"io"
)

// Replacement says what a secret value becomes when it is redacted; With is usually the
// value's reference, ${secret.<id>.<field>}.
type Replacement struct {
	Value string
	With  string
	// Wrapped also finds Value with line breaks, spaces or tabs inside it, as base64 and
	// hex dumps wrap and space their output, and extends a match over Of likewise. Only
	// Replace does: a Redactor matches Value as it is.
	Wrapped bool
	// Of, when set, is a whole value that Value begins (or ends, with Suffix): a match
	// extends over as much more of Of as the text holds after (before) it.
	Of     string
	Suffix bool
}

// scan appends to out the redacted form of buf and returns how many bytes of buf it
// consumed. Unless final, it stops at the first position where a value could still
// begin but buf ends first: those bytes wait for the next write.
func (r *Replacer) scan(out, buf []byte, final bool) ([]byte, int) {
	start := 0
	i := 0
	for {
		if i = r.m.candidate(buf, i); i >= len(buf) {
			break
		}
		id, n, st := r.m.at(buf, i, final)
		switch st {
		case pending:
			return append(out, buf[start:i]...), i
		case found:
			from, to := i, i+n
			if of := r.of[id]; of != "" {
				if r.suffix[id] {
					// Back over the bytes of of before the run, not past the last replacement.
					for k := len(of) - n; k > 0 && from > start && buf[from-1] == of[k-1]; k-- {
						from--
					}
				} else {
					k := n
					for ; k < len(of) && to < len(buf) && buf[to] == of[k]; k++ {
						to++
					}
					if to == len(buf) && k < len(of) && !final {
						return append(out, buf[start:i]...), i // the run may go on in the next write
					}
				}
			}
			out = append(out, buf[start:from]...)
			out = append(out, r.with[id]...)
			i = to
			start = i
		default:
			i++
		}
	}
	return append(out, buf[start:i]...), i
}

// Redact returns s with every value replaced, leftmost and longest first.
func Redact(s string, reps []Replacement) string { return NewReplacer(reps).Replace(s) }

// Replacer redacts a set of values from strings and streams, its Matcher built once. It
// is safe for concurrent use; the Redactors it makes are not.
type Replacer struct {
	m      *Matcher
	with   [][]byte // by pattern index
	of     []string
	suffix []bool
	// wrapped finds the Wrapped values; wrappedWith, wrappedOf and wrappedSuffix are
	// its with, of and suffix.
	wrapped       *Matcher
	wrappedWith   [][]byte
	wrappedOf     []string
	wrappedSuffix []bool
}

// NewReplacer returns the Replacer of reps. Where one value is given twice, the first
// replacement counts.
func NewReplacer(reps []Replacement) *Replacer {
	r := &Replacer{with: make([][]byte, len(reps)), of: make([]string, len(reps)), suffix: make([]bool, len(reps))}
	values := make([]string, len(reps))
	var wrapped []string
	for i, rep := range reps {
		values[i], r.with[i], r.of[i], r.suffix[i] = rep.Value, []byte(rep.With), rep.Of, rep.Suffix
		if rep.Wrapped {
			wrapped = append(wrapped, rep.Value)
			r.wrappedWith = append(r.wrappedWith, r.with[i])
			r.wrappedOf = append(r.wrappedOf, rep.Of)
			r.wrappedSuffix = append(r.wrappedSuffix, rep.Suffix)
		}
	}
	r.m = NewMatcher(values)
	if len(wrapped) > 0 {
		r.wrapped = NewMatcher(wrapped)
	}
	return r
}

// Replace returns s with every Wrapped value that line breaks or spaces split replaced
// first (so that no shorter match inside it breaks it up), then every value, leftmost
// and longest first.
func (r *Replacer) Replace(s string) string {
	b := []byte(s)
	if r.wrapped != nil {
		b = r.unwrapped(b)
	}
	out, _ := r.scan(nil, b, true)
	return string(out)
}

// Writer returns a Redactor writing to w.
func (r *Replacer) Writer(w io.Writer) *Redactor { return &Redactor{w: w, r: r} }

// Redactor is an io.WriteCloser that replaces every secret value in what passes through it,
// also when a value is split across writes: bytes that may begin a value are held back
// until the value is ruled in or out. Close writes out what it holds; it does not close
// the underlying writer. A Redactor is not safe for concurrent use.
type Redactor struct {
	w   io.Writer
	r   *Replacer
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
	r.out, n = r.r.scan(r.out[:0], r.buf, final)
	r.buf = r.buf[:copy(r.buf, r.buf[n:])]
	if len(r.out) > 0 {
		if _, err := r.w.Write(r.out); err != nil {
			r.err = err
			return err
		}
	}
	return nil
}
