package redact

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

const scrubRef = "${secret.s.value}"

func scrub(value, text string) string {
	return NewReplacer(ScrubReplacements(value, scrubRef)).Replace(text)
}

func TestShortValuesAreNotScrubbed(t *testing.T) {
	for _, v := range []string{"", "a", "8080", "hunter2", "ключ-🔑"} { // under 8 characters
		if reps := ScrubReplacements(v, scrubRef); reps != nil {
			t.Errorf("a value of %d characters gets %d replacements, want none", len([]rune(v)), len(reps))
		}
	}
	if got := scrub("hunter22", "pw=hunter22"); got != "pw="+scrubRef {
		t.Errorf("a value of 8 characters: %q", got)
	}
}

// TestRunsAtEitherEndOfAValueAreScrubbed: a value cut at one end gives away no run of
// 12 or more characters that begins or ends it.
func TestRunsAtEitherEndOfAValueAreScrubbed(t *testing.T) {
	const v = "sk_live_4eC39HqLyjWDarjtT1zdp7dc" // 32 bytes
	for n := EndRunLen; n <= len(v); n++ {
		head, tail := v[:n], v[len(v)-n:]
		if got := scrub(v, "a "+head+" b"); got != "a "+scrubRef+" b" {
			t.Errorf("the first %d bytes: %q", n, got)
		}
		if got := scrub(v, "a "+tail+" b"); got != "a "+scrubRef+" b" {
			t.Errorf("the last %d bytes: %q", n, got)
		}
	}
	short := v[:EndRunLen-1] + " " + v[len(v)-EndRunLen+1:]
	if got := scrub(v, short); got != short {
		t.Errorf("runs of %d bytes were scrubbed: %q", EndRunLen-1, got)
	}
	// A value under 16 bytes is scrubbed whole only.
	const mid = "abcdefghijklmno" // 15
	if got := scrub(mid, mid[:14]); got != mid[:14] {
		t.Errorf("a run of a 15-byte value was scrubbed: %q", got)
	}
	// The base64 of the value's first 12 bytes is the first 16 characters of its base64.
	b64 := base64.StdEncoding.EncodeToString([]byte(v[:EndRunLen]))
	if got := scrub(v, "x="+b64); got != "x="+scrubRef {
		t.Errorf("base64 of the value's head: %q", got)
	}
}

// wrap breaks s into lines of width, each ending in eol.
func wrap(s string, width int, eol string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += width {
		b.WriteString(s[i:min(i+width, len(s))])
		b.WriteString(eol)
	}
	return b.String()
}

// odStyle writes data as `od -An -tx1` does: 16 bytes a line, each as " xx".
func odStyle(data []byte) string {
	var b strings.Builder
	for i, c := range data {
		fmt.Fprintf(&b, " %02x", c)
		if i%16 == 15 {
			b.WriteString("\n")
		}
	}
	return b.String() + "\n"
}

// TestWrappedDumpsAreScrubbed: base64 wrapped at 64 and 76 columns with either line
// ending, at every alignment inside a longer text, and hex dumps of a 100-byte value
// (xxd -p, od) leave nothing of it.
func TestWrappedDumpsAreScrubbed(t *testing.T) {
	value := strings.Repeat("0123456789", 10) // 100 bytes
	value = "sk_" + value[3:]
	// leaks reports whether any 16 characters of an encoded form survive, line breaks
	// and spaces taken out.
	leaks := func(got string) bool {
		flat := strings.NewReplacer("\n", "", "\r", "", " ", "").Replace(got)
		for _, f := range EncodedForms(value) {
			for k := 0; k+16 <= len(f); k++ {
				if strings.Contains(flat, f[k:k+16]) {
					return true
				}
			}
		}
		return false
	}
	for _, width := range []int{64, 76} {
		for _, eol := range []string{"\n", "\r\n"} {
			for pad := range 3 { // bytes before the value: every base64 alignment
				for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
					data := append([]byte(strings.Repeat("x", pad)), value...)
					text := "begin\n" + wrap(enc.EncodeToString(append(data, "tail"...)), width, eol) + "end\n"
					got := scrub(value, text)
					if leaks(got) || !strings.HasPrefix(got, "begin\n") || !strings.HasSuffix(got, "end\n") {
						t.Errorf("base64 at %d columns, %q, %d bytes before: %q", width, eol, pad, got)
					}
				}
			}
		}
	}
	for name, text := range map[string]string{
		"xxd -p":          wrap(hex.EncodeToString([]byte(value)), 60, "\n"),
		"xxd -p -u":       strings.ToUpper(wrap(hex.EncodeToString([]byte(value)), 60, "\n")),
		"od -An -tx1":     odStyle([]byte(value)),
		"xxd -p, in text": "dump:\n" + wrap(hex.EncodeToString([]byte("ab"+value)), 60, "\r\n") + "done",
	} {
		got := scrub(value, text)
		if leaks(got) || !strings.Contains(got, scrubRef) {
			t.Errorf("%s: %q", name, got)
		}
	}
}

// TestWrappingLeavesOtherTextAlone: text with no value in it comes back as it was, line
// breaks and spaces included.
func TestWrappingLeavesOtherTextAlone(t *testing.T) {
	text := "line one\nline two  with spaces\r\nYWJj\nZGVm\n 0a 0b 0c\n"
	if got := scrub("sk_live_4eC39HqLyjWDarjtT1zdp7dc", text); got != text {
		t.Errorf("unrelated text changed: %q", got)
	}
}

// TestAWrappedDumpCutAtOneEndIsScrubbed: a base64 or hex dump of a value that lacks its
// first or last bytes (the output limit cut it, or the command dropped them) leaves at
// most its other end, as the value itself does: not the lines in between.
func TestAWrappedDumpCutAtOneEndIsScrubbed(t *testing.T) {
	value := "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"
	for name, full := range map[string]string{
		"xxd -p":      wrap(hex.EncodeToString([]byte(value)), 60, "\n"),
		"od -An -tx1": odStyle([]byte(value)),
		"base64":      wrap(base64.StdEncoding.EncodeToString([]byte(value)), 76, "\r\n"),
	} {
		flat := strings.NewReplacer("\n", "", "\r", "", " ", "").Replace(full)
		// The middle of the encoded value, which a cut at either end leaves whole.
		middle := flat[len(flat)/2-8 : len(flat)/2+8]
		for _, cut := range []int{len(full) / 3, len(full) / 2, 2 * len(full) / 3} {
			for end, text := range map[string]string{"head": full[:cut], "tail": full[len(full)-cut:]} {
				got := scrub(value, "dump:\n"+text)
				if strings.Contains(strings.NewReplacer("\n", "", "\r", "", " ", "").Replace(got), middle) || !strings.HasPrefix(got, "dump:\n") {
					t.Errorf("%s, its %s of %d bytes: %q", name, end, cut, got)
				}
			}
		}
	}
}
