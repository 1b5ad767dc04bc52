package mcp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunCommandHoldsOnlyAPlaceholderOfABoundValue: the command gets a placeholder of
// the value's kind, which its results show as the reference, and runs with the call's
// proxy.
func TestRunCommandHoldsOnlyAPlaceholderOfABoundValue(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	file := filepath.Join(t.TempDir(), "held")
	tl := newTools(Options{Client: boundVault(t, ref, value, []string{"api.stripe.com"}), Environ: []string{"PATH=" + os.Getenv("PATH")}})
	_, out, err := tl.runCommand(context.Background(), nil, runCommandInput{
		Command: `printf %s "$T" > "$F"; printf %s "$T"; printf %s "$HTTPS_PROXY" | cut -c1-13 >&2`,
		Env:     map[string]string{"T": "key=" + ref, "F": file},
	})
	if err != nil {
		t.Fatal(err)
	}
	held, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(held), value) || !strings.HasPrefix(string(held), "key=sk_live_") || len(held) < len("key=sk_live_")+32 {
		t.Fatalf("the command held %q", held)
	}
	if out.Stdout != "key="+ref || out.Stderr != "http://kazzle\n" {
		t.Fatalf("stdout %q, stderr %q", out.Stdout, out.Stderr)
	}
	if len(out.Exposed) != 0 || len(out.Placeholdered) != 1 || out.Placeholdered[0] != ref {
		t.Fatalf("exposed %q, placeholdered %q", out.Exposed, out.Placeholdered)
	}
}

// TestRunCommandGivesNoValueWhoseBindingIsUnknown: a reference the server's answer
// does not list is never written as its value.
func TestRunCommandGivesNoValueWhoseBindingIsUnknown(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	other := "${secret.00000000-0000-4000-8000-000000000002.value}"
	tl := newTools(Options{Client: boundVault(t, other, value, nil)})
	_, _, err := tl.runCommand(context.Background(), nil, runCommandInput{Argv: []string{"echo", ref}})
	if err == nil || !strings.Contains(err.Error(), "did not say which hosts") || strings.Contains(err.Error(), value) {
		t.Fatalf("err = %v", err)
	}
}
