package mcp

import (
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/redact"
)

const value = "sk_live_51HxZ2pLq8R7tY0uVunit"

func TestCommandsGetOnlyHarmlessInheritedVariables(t *testing.T) {
	tl := &tools{o: Options{Environ: []string{
		"PATH=/usr/bin", "HOME=/home/a", "LC_ALL=C.UTF-8", "KAZZLE_API_KEY=kzl_x", "STRIPE_SECRET_KEY=" + value,
		"AWS_SECRET_ACCESS_KEY=x", "LANG=C",
	}}}
	got := tl.commandEnv(map[string]string{"TOKEN": "t", "LANG": "de_DE.UTF-8"})
	want := []string{"PATH=/usr/bin", "HOME=/home/a", "LC_ALL=C.UTF-8", "LANG=de_DE.UTF-8", "TOKEN=t"}
	if !slices.Equal(got, want) {
		t.Fatalf("env = %q, want %q", got, want)
	}
}

func TestAValueCutByTheOutputLimitIsStillRedacted(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	c := &call{replacer: redact.NewReplacer(redact.ScrubReplacements(value, ref))}
	for limit := 1; limit < 60; limit++ {
		out := c.capture(limit)
		for _, part := range []string{"12345678" + value[:10], value[10:] + " tail"} {
			if _, err := out.Write([]byte(part)); err != nil {
				t.Fatal(err)
			}
		}
		text, truncated := out.result()
		if len(text) > limit || !truncated {
			t.Fatalf("limit %d: %d bytes returned, truncated=%v", limit, len(text), truncated)
		}
		if strings.Contains(text, value[:4]) {
			t.Fatalf("limit %d: %q holds the start of the value", limit, text)
		}
	}
}

func TestOnlyMaskedPreviewsAreShown(t *testing.T) {
	s := api.Secret{ID: "00000000-0000-4000-8000-000000000001", Name: "GH", Type: "git",
		Fields: map[string]string{"host": "gith****.com", "password": "ghp_****0000"}, Masked: true}
	si := info(s)
	if si.Preview["password"] != "ghp_****0000" || si.References["url"] != "${secret.00000000-0000-4000-8000-000000000001.url}" {
		t.Fatalf("info = %+v", si)
	}
	s.Masked, s.Fields = false, map[string]string{"password": value}
	if si := info(s); len(si.Preview) != 0 {
		t.Fatalf("an unmasked secret's fields were shown: %+v", si.Preview)
	}
}

// TestADumpCutByTheCaptureLimitIsStillRedacted: output that shrinks when scrubbed (the
// value over and over) brings the end of what kazzle captures within the returned
// limit; a hex dump of the value cut there must not show its middle lines.
func TestADumpCutByTheCaptureLimitIsStillRedacted(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	// Long enough that the scrubbed filler is a third of what it was.
	long := value
	for i := 0; len(long) < 400; i++ {
		long += fmt.Sprintf("_%x", i*7919)
	}
	dump := hex.EncodeToString([]byte(long))
	var lines []string
	for i := 0; i < len(dump); i += 60 {
		lines = append(lines, dump[i:min(i+60, len(dump))])
	}
	xxd := strings.Join(lines, "\n") + "\n"
	c := &call{replacer: redact.NewReplacer(redact.ScrubReplacements(long, ref))}
	const limit = 256 << 10
	out := c.capture(limit)
	filler := strings.Repeat(long+"\n", (limit+captureSlack-80)/(len(long)+1))
	out.Write([]byte(filler))
	out.Write([]byte(strings.Repeat("x", limit+captureSlack-80-len(filler))))
	out.Write([]byte(xxd)) // cut 80 bytes in
	text, truncated := out.result()
	if !truncated {
		t.Fatal("not truncated")
	}
	if strings.Contains(text, lines[1][:16]) {
		t.Fatalf("the dump's second line is shown: %q", text[max(len(text)-200, 0):])
	}
}

func TestHostAsWritten(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.stripe.com/v1?x=1":                   "api.stripe.com",
		"https://user:${secret.a.value}@evil.test:8443/p": "evil.test:8443",
		"http://${secret.a.value}.evil.test#frag":         "${secret.a.value}.evil.test",
		"https://[::1]:9/":                                "[::1]:9",
	} {
		if got := hostAsWritten(in); got != want {
			t.Errorf("hostAsWritten(%q) = %q, want %q", in, got, want)
		}
	}
}
