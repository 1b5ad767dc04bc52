package redact

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveReplace is leftmost-longest replacement spelled out: at each position, the
// longest value that begins there.
func naiveReplace(s string, reps []Replacement) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		best := -1
		for j, r := range reps {
			if r.Value != "" && strings.HasPrefix(s[i:], r.Value) && (best < 0 || len(r.Value) > len(reps[best].Value)) {
				best = j
			}
		}
		if best < 0 {
			b.WriteByte(s[i])
			i++
			continue
		}
		// The first of equal values counts.
		for j, r := range reps {
			if r.Value == reps[best].Value {
				best = j
				break
			}
		}
		b.WriteString(reps[best].With)
		i += len(reps[best].Value)
	}
	return b.String()
}

// TestMatcherAgreesWithTheNaiveReplacement: patterns short and long, sharing prefixes
// and overlapping, over text of few letters (so that they occur often), replaced at once
// and through a Redactor fed random splits, come out as the naive replacement says.
func TestMatcherAgreesWithTheNaiveReplacement(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abc"[rng.IntN(3)]
		}
		return string(b)
	}
	for trial := range 300 {
		var reps []Replacement
		for i := range 1 + rng.IntN(12) {
			v := word(1 + rng.IntN(12))
			if i > 0 && rng.IntN(2) == 0 { // a value that extends another one
				v = reps[rng.IntN(i)].Value + word(1+rng.IntN(4))
			}
			reps = append(reps, Replacement{Value: v, With: "<" + string(rune('A'+i)) + ">"})
		}
		text := word(rng.IntN(200))
		want := naiveReplace(text, reps)
		if got := Redact(text, reps); got != want {
			t.Fatalf("trial %d: Redact(%q, %v)\n got %q\nwant %q", trial, text, reps, got, want)
		}
		var out bytes.Buffer
		r := NewRedactor(&out, reps)
		for rest := []byte(text); len(rest) > 0; {
			n := 1 + rng.IntN(min(len(rest), 16))
			if _, err := r.Write(rest[:n]); err != nil {
				t.Fatal(err)
			}
			rest = rest[n:]
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if out.String() != want {
			t.Fatalf("trial %d: streamed %q over %v\n got %q\nwant %q", trial, text, reps, out.String(), want)
		}
	}
}

func TestMatcherIndex(t *testing.T) {
	m := NewMatcher([]string{"postgres://a", "postgres://ab", "", "xy", "postgres://a"})
	if m.Len() != 3 {
		t.Errorf("Len = %d, want 3 (the empty and the repeated pattern do not count)", m.Len())
	}
	for _, tc := range []struct {
		in       string
		pos, id  int
		describe string
	}{
		{"", -1, -1, "empty text"},
		{"nothing here at all", -1, -1, "no pattern"},
		{"url=postgres://abc", 4, 1, "the longest pattern at the leftmost position"},
		{"url=postgres://a", 4, 0, "a long pattern at the very end"},
		{"x postgres://", -1, -1, "a long pattern's beginning at the end"},
		{"zzxy", 2, 3, "a short pattern at the very end"},
		{"xy postgres://a", 0, 3, "the leftmost wins over the longest"},
	} {
		pos, id := m.Index([]byte(tc.in))
		if pos != tc.pos || id != tc.id {
			t.Errorf("%s: Index(%q) = %d, %d; want %d, %d", tc.describe, tc.in, pos, id, tc.pos, tc.id)
		}
	}
	if pos, id := NewMatcher(nil).Index([]byte("anything")); pos != -1 || id != -1 {
		t.Errorf("an empty Matcher found %d, %d", pos, id)
	}
}
