package cmd

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "24h": 24 * time.Hour, "90m": 90 * time.Minute, "0d": 0,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "7x", "-1d", "1.5d", "7d-1h", "1dd"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) is not an error", in)
		}
	}
}
