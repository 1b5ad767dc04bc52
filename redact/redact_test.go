package redact

import (
	"bytes"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

var redactValues = []Replacement{
	{Value: "sk_live_4eC39HqLyjWDarjtT1zdp7dc", With: "${secret.a.value}"},
	{Value: "hunter2hunter2", With: "${secret.b.password}"},
	{Value: "hunter2hunter2hunter2!", With: "${secret.c.password}"}, // a longer value sharing a prefix
	{Value: "ab\ncd", With: "${secret.d.value}"},                    // multi-line
	{Value: "ключ-🔑", With: "${secret.e.value}"},                    // multi-byte
	{Value: "aaab", With: "${secret.f.value}"},                      // self-overlapping prefix
}

const redactInput = "start sk_live_4eC39HqLyjWDarjtT1zdp7dc mid hunter2hunter2hunter2! and hunter2hunter2 " +
	"then ab\ncd ключ-🔑 aaaab aaa hunter2hunter end sk_live_4eC39HqLyjWDarjtT1zdp7d" +
	"hunter2hunter2sk_live_4eC39HqLyjWDarjtT1zdp7dc"

const redactWant = "start ${secret.a.value} mid ${secret.c.password} and ${secret.b.password} " +
	"then ${secret.d.value} ${secret.e.value} a${secret.f.value} aaa hunter2hunter end sk_live_4eC39HqLyjWDarjtT1zdp7d" +
	"${secret.b.password}${secret.a.value}"

func TestRedactOneShot(t *testing.T) {
	if got := Redact(redactInput, redactValues); got != redactWant {
		t.Fatalf("Redact:\n got %q\nwant %q", got, redactWant)
	}
}

func assertNoValues(t *testing.T, got string) {
	t.Helper()
	for _, r := range redactValues {
		if strings.Contains(got, r.Value) {
			t.Fatalf("output holds the value of %s", r.With)
		}
	}
}

func redactChunks(t *testing.T, chunks [][]byte) string {
	t.Helper()
	var out bytes.Buffer
	r := NewRedactor(&out, redactValues)
	for _, c := range chunks {
		if n, err := r.Write(c); err != nil || n != len(c) {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestRedactorEverySplit(t *testing.T) {
	in := []byte(redactInput)
	for i := 0; i <= len(in); i++ {
		got := redactChunks(t, [][]byte{in[:i], in[i:]})
		if got != redactWant {
			t.Fatalf("split at byte %d:\n got %q\nwant %q", i, got, redactWant)
		}
		assertNoValues(t, got)
	}
}

func TestRedactorByteAtATimeAndRandomSplits(t *testing.T) {
	in := []byte(redactInput)
	var bytewise [][]byte
	for i := range in {
		bytewise = append(bytewise, in[i:i+1])
	}
	if got := redactChunks(t, bytewise); got != redactWant {
		t.Fatalf("byte at a time:\n got %q\nwant %q", got, redactWant)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 500; trial++ {
		var chunks [][]byte
		for rest := in; len(rest) > 0; {
			n := 1 + rng.IntN(min(len(rest), 24))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		if got := redactChunks(t, chunks); got != redactWant {
			t.Fatalf("trial %d (%d chunks):\n got %q\nwant %q", trial, len(chunks), got, redactWant)
		}
	}
}

func TestRedactorPassesUnrelatedBytes(t *testing.T) {
	in := make([]byte, 1<<16)
	for i := range in {
		in[i] = byte(i * 7)
	}
	got := redactChunks(t, [][]byte{in[:1000], in[1000:40000], in[40000:]})
	if got != Redact(string(in), redactValues) {
		t.Fatal("streamed and one-shot redaction differ")
	}
	plain := []byte("no secrets here, just $ and ${HOME} and hunter and ab\nc\n")
	if got := redactChunks(t, [][]byte{plain}); got != string(plain) {
		t.Fatalf("unrelated text changed: %q", got)
	}
}

func TestRedactorHoldsBackOnlyPossiblePrefixes(t *testing.T) {
	var out bytes.Buffer
	r := NewRedactor(&out, redactValues)
	r.Write([]byte("log line ok\nhunter2hun"))
	if got := out.String(); got != "log line ok\n" {
		t.Fatalf("before the value completes, wrote %q; want the text before it", got)
	}
	r.Write([]byte("ter"))
	r.Close()
	if got := out.String(); got != "log line ok\nhunter2hunter" {
		t.Fatalf("after Close: %q", got)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

var errWrite = bytes.ErrTooLarge

func TestRedactorReportsWriteErrors(t *testing.T) {
	r := NewRedactor(failingWriter{}, redactValues)
	if _, err := r.Write([]byte("x")); err != errWrite {
		t.Fatalf("Write error = %v", err)
	}
	if err := r.Close(); err != errWrite {
		t.Fatalf("Close error = %v", err)
	}
}

func BenchmarkRedactor(b *testing.B) {
	reps := append([]Replacement(nil), redactValues...)
	for i := 0; i < 100; i++ {
		reps = append(reps, Replacement{Value: strings.Repeat(string(rune('a'+i%26)), 10+i), With: "x"})
	}
	chunk := []byte(strings.Repeat("GET /api/v1/things 200 12ms user=42 ", 100))
	r := NewRedactor(io.Discard, reps)
	b.SetBytes(int64(len(chunk)))
	for b.Loop() {
		r.Write(chunk)
	}
}
