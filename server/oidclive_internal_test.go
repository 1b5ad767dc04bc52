package server

import (
	"testing"
	"time"
)

// TestLiveKeys: a failed key gives its place back, and holders whose keys all expired
// are forgotten, so the count holds no more holders than live keys.
func TestLiveKeys(t *testing.T) {
	var l liveKeys
	now := time.Unix(1e9, 0)
	for i := range maxLiveExchangedKeys {
		if ok, _ := l.reserve("a", now, now.Add(time.Duration(i+1)*time.Second)); !ok {
			t.Fatalf("key %d refused", i+1)
		}
	}
	if ok, wait := l.reserve("a", now, now.Add(time.Hour)); ok || wait != time.Second {
		t.Fatalf("past the cap: %v, wait %s", ok, wait)
	}
	l.release("a", now.Add(5*time.Second))
	if ok, _ := l.reserve("a", now, now.Add(time.Hour)); !ok {
		t.Fatal("a released place is not given back")
	}
	if ok, _ := l.reserve("b", now, now.Add(time.Minute)); !ok {
		t.Fatal("another holder is refused")
	}
	l.prune(now.Add(time.Minute))
	if _, kept := l.expiries["b"]; kept || len(l.expiries) != 1 {
		t.Fatalf("after b's key expired: %d holders", len(l.expiries))
	}
	l.prune(now.Add(2 * time.Hour))
	if len(l.expiries) != 0 {
		t.Fatalf("after every key expired: %d holders", len(l.expiries))
	}
}
