package proxy

import (
	"strings"
	"testing"
)

func TestPlaceholderKeepsAKnownPrefixAndNothingElse(t *testing.T) {
	tests := []struct{ value, prefix string }{
		{"sk_live_" + strings.Repeat("a", 40), "sk_live_"},
		{"sk-proj-" + strings.Repeat("b", 100), "sk-proj-"},
		{"sk-ant-api03-" + strings.Repeat("c", 90), "sk-ant-api03-"},
		{"sk-" + strings.Repeat("d", 48), "sk-"},
		{"ghp_" + strings.Repeat("e", 36), "ghp_"},
		{"github_pat_" + strings.Repeat("f", 82), "github_pat_"},
		{"xoxb-" + strings.Repeat("1", 50), "xoxb-"},
		{"AKIA" + strings.Repeat("G", 16), ""}, // AWS keys sign requests: no prefix
		{"hunter2", ""},
		{"sk_live_short", ""}, // too little after the prefix to keep it
	}
	for _, tt := range tests {
		ph, err := Placeholder(tt.value)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ph, tt.prefix) {
			t.Errorf("placeholder of a %q key: prefix %q missing", tt.prefix, tt.prefix)
		}
		rest := ph[len(tt.prefix):]
		if len(rest) < minRandom || len(rest) < len(tt.value)-len(tt.prefix) {
			t.Errorf("placeholder of a %q key: %d random characters", tt.prefix, len(rest))
		}
		if tt.prefix == "" && len(rest) > minRandom && len(tt.value) <= minRandom {
			t.Errorf("placeholder of a short value: %d characters", len(rest))
		}
		for _, c := range rest {
			if !strings.ContainsRune(alphabet, c) {
				t.Errorf("placeholder of a %q key: character %q", tt.prefix, c)
			}
		}
		if strings.Contains(ph, tt.value[len(tt.prefix):]) {
			t.Errorf("placeholder of a %q key holds the value", tt.prefix)
		}
	}
}

func TestPlaceholderIsFreshEachCall(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		ph, err := Placeholder("sk_live_0123456789abcdefghijklmnop")
		if err != nil {
			t.Fatal(err)
		}
		if seen[ph] {
			t.Fatal("the same placeholder twice")
		}
		seen[ph] = true
	}
	if _, err := Placeholder(""); err == nil {
		t.Error("an empty value got a placeholder")
	}
}

func TestPlaceholderNeverHoldsAShortValue(t *testing.T) {
	for range 200 {
		ph, err := Placeholder("a")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(ph, "a") {
			t.Fatal("placeholder holds the value")
		}
	}
}
