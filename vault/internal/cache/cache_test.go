package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestAFullCacheEvictsTheLeastRecentlyUsedEntryNotAll(t *testing.T) {
	const size = 4
	c := New[string, int](size, 0, nil)
	for i := range size {
		c.Add(fmt.Sprint(i), i)
	}
	// "0" is used, so "1" is now the least recently used.
	if v, ok := c.Get("0"); !ok || v != 0 {
		t.Fatalf("Get(0) = %v, %v before the cache was full", v, ok)
	}
	c.Add("new", 99)
	if got := c.Len(); got != size {
		t.Fatalf("a full cache holds %d entries after one more add, want %d", got, size)
	}
	if _, ok := c.Get("1"); ok {
		t.Error("the least recently used entry survived an add to a full cache")
	}
	for _, k := range []string{"0", "2", "3", "new"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("entry %s was dropped though it was not the least recently used", k)
		}
	}
}

func TestAnEntryExpiresByTheInjectedClock(t *testing.T) {
	clk := newClock()
	c := New[string, string](8, time.Second, clk.Now)
	c.Add("k", "v")
	clk.Advance(time.Second - time.Nanosecond)
	if _, ok := c.Get("k"); !ok {
		t.Fatal("an entry expired before its TTL on the injected clock")
	}
	clk.Advance(time.Nanosecond)
	if _, ok := c.Get("k"); ok {
		t.Fatal("an entry was served at its TTL on the injected clock")
	}
	// Re-adding starts the time again.
	c.Add("k", "v2")
	if v, ok := c.Get("k"); !ok || v != "v2" {
		t.Fatalf("Get after re-add = %q, %v", v, ok)
	}
	// A clock set back does not extend trust: the entry is reloaded.
	clk.Advance(-time.Minute)
	if _, ok := c.Get("k"); ok {
		t.Fatal("an entry was served with the clock set back before it was loaded")
	}
}

func TestAnEntryWithoutTTLNeverExpires(t *testing.T) {
	c := New[int, int](2, 0, nil)
	c.Add(1, 1)
	if v, ok := c.Get(1); !ok || v != 1 {
		t.Fatalf("Get = %v, %v", v, ok)
	}
}

func TestRemoveFuncDropsOnlyTheMatchingEntries(t *testing.T) {
	c := New[string, string](8, 0, nil)
	c.Add("h1", "key-a")
	c.Add("h2", "key-b")
	c.Add("h3", "key-a")
	c.RemoveFunc(func(v string) bool { return v == "key-a" })
	for k, want := range map[string]bool{"h1": false, "h2": true, "h3": false} {
		if _, ok := c.Get(k); ok != want {
			t.Errorf("%s present = %v, want %v", k, ok, want)
		}
	}
	c.Remove("h2")
	if c.Len() != 0 {
		t.Errorf("%d entries after removing all", c.Len())
	}
}

// The callers run in a synctest bubble, so that the load is released only once every
// one of them waits in Load: one that came after the load ended would hit the cache,
// and the test would pass without any miss being shared.
func TestConcurrentMissesShareOneLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 50
		l := NewLoader[string](8, time.Minute, newClock().Now)
		var loads atomic.Int32
		release := make(chan struct{})
		load := func(context.Context) (string, error) {
			loads.Add(1)
			<-release
			return "value", nil
		}
		var done sync.WaitGroup
		errs := make(chan error, n)
		for range n {
			done.Go(func() {
				v, err := l.Load(context.Background(), "space", load)
				if err == nil && v != "value" {
					err = fmt.Errorf("got %q", v)
				}
				errs <- err
			})
		}
		synctest.Wait() // every caller waits on the one load
		if got := loads.Load(); got != 1 {
			t.Errorf("%d concurrent misses started %d loads, want 1", n, got)
		}
		close(release)
		done.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if got := loads.Load(); got != 1 {
			t.Fatalf("%d concurrent misses made %d loads, want 1", n, got)
		}
		if _, err := l.Load(context.Background(), "space", load); err != nil || loads.Load() != 1 {
			t.Fatalf("a later hit loaded again (%d loads, %v)", loads.Load(), err)
		}
	})
}

func TestAFailedLoadIsNotCached(t *testing.T) {
	l := NewLoader[int](8, time.Minute, newClock().Now)
	errKMS := errors.New("kms unavailable")
	calls := 0
	if _, err := l.Load(context.Background(), "k", func(context.Context) (int, error) { calls++; return 0, errKMS }); !errors.Is(err, errKMS) {
		t.Fatalf("err = %v, want the load's error", err)
	}
	if _, ok := l.Get("k"); ok {
		t.Fatal("a failed load left an entry")
	}
	v, err := l.Load(context.Background(), "k", func(context.Context) (int, error) { calls++; return 7, nil })
	if err != nil || v != 7 || calls != 2 {
		t.Fatalf("after a failure: v = %d, err = %v, %d loads; want 7, nil, 2", v, err, calls)
	}
}

// In a synctest bubble the load under way has surely started before the waiter comes,
// and the waiter's deadline passes without the test waiting for it.
func TestAWaiterLeavesWhenItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLoader[int](8, time.Minute, newClock().Now)
		release := make(chan struct{})
		leader := make(chan error, 1)
		go func() {
			v, err := l.Load(context.Background(), "k", func(context.Context) (int, error) { <-release; return 1, nil })
			if err == nil && v != 1 {
				err = fmt.Errorf("the load under way gave %d, want 1", v)
			}
			leader <- err
		}()
		synctest.Wait() // the load is under way
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := l.Load(ctx, "k", func(context.Context) (int, error) { t.Error("a waiter started a second load"); return 0, nil }); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the waiter's own deadline", err)
		}
		close(release)
		if err := <-leader; err != nil {
			t.Fatal(err)
		}
	})
}

func TestAnExpiredEntryIsLoadedAgain(t *testing.T) {
	clk := newClock()
	l := NewLoader[int](8, time.Minute, clk.Now)
	n := 0
	load := func(context.Context) (int, error) { n++; return n, nil }
	for range 3 {
		if _, err := l.Load(context.Background(), "k", load); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Minute)
	if v, err := l.Load(context.Background(), "k", load); err != nil || v != 2 {
		t.Fatalf("after the TTL: v = %d, err = %v, want a second load", v, err)
	}
}

// BenchmarkGetHit is the cost a cache adds to a resolve in the steady state: one hit.
func BenchmarkGetHit(b *testing.B) {
	c := New[string, int](4096, time.Minute, newClock().Now)
	for i := range 4096 {
		c.Add(fmt.Sprint(i), i)
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := c.Get("100"); !ok {
				b.Fatal("miss")
			}
		}
	})
}

func TestAWeightedCacheStaysUnderItsWeight(t *testing.T) {
	c := NewWeighted[string, []byte](100, 10, func(v []byte) int64 { return int64(len(v)) })
	c.Add("a", make([]byte, 4))
	c.Add("b", make([]byte, 4))
	c.Get("a") // a is now the most recently used
	c.Add("c", make([]byte, 4))
	if _, ok := c.Get("b"); ok {
		t.Error("b, the least recently used, was kept past the weight")
	}
	for _, k := range []string{"a", "c"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was dropped", k)
		}
	}
	c.Add("a", make([]byte, 2)) // replacing a value counts its new weight only
	c.Add("d", make([]byte, 4))
	if got := c.total.Load(); got != 10 {
		t.Errorf("total weight %d, want 10", got)
	}
	c.Add("huge", make([]byte, 11))
	if _, ok := c.Get("huge"); ok || c.Len() != 3 {
		t.Errorf("a value heavier than the cache was kept (%d entries)", c.Len())
	}
}
