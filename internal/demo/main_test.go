package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// The demo is the README's first command; it has to keep working as the code changes.
func TestDemoRuns(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out, "../../fixtures/demo/vault.json", false); err != nil {
		t.Fatalf("demo failed: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"plaintexts found: 0",
		"made 1 KMS Decrypt call(s)",
		"moved 1 data key(s); now wrapped by arn:aws:kms:",
		"STRIPE_SECRET_KEY            sk_l****O1pA",
		"demo: done.",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	for _, value := range []string{"sk_live_demo_9kQw3ErT5yU7iO1pA", "demo-db-password-7f3a9c1e", "ghp_demo0000000000000000000000000000"} {
		if strings.Contains(out.String(), value) {
			t.Errorf("demo output shows a plaintext value")
		}
	}
}
