package groupcommit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// The tests run in a synctest bubble: its clock moves only when every goroutine in it
// is blocked, so a commit that takes time and a linger timer are exact, not slept.

func TestEachAppendReturnsOnceItsBatchIsCommitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		committed := map[int]bool{}
		batches := 0
		fail := errors.New("disk full")
		c := New(Options{Max: 8, Linger: time.Millisecond}, func(batch []int) error {
			time.Sleep(time.Millisecond) // a commit takes time, so that appends pile up
			mu.Lock()
			defer mu.Unlock()
			batches++
			var err error
			for _, n := range batch {
				committed[n] = true
				if n == 13 {
					err = fail // the whole batch fails with it
				}
			}
			return err
		})
		var wg sync.WaitGroup
		for n := range 64 {
			wg.Go(func() {
				err := c.Append(context.Background(), n)
				mu.Lock()
				defer mu.Unlock()
				if !committed[n] {
					t.Errorf("Append(%d) returned before its batch was committed", n)
				}
				if n == 13 && !errors.Is(err, fail) {
					t.Errorf("Append(13) = %v, want the commit's error", err)
				}
			})
		}
		wg.Wait()
		c.Close()
		if batches >= 64 {
			t.Errorf("64 concurrent appends took %d commits: no batching", batches)
		}
		if err := c.Append(context.Background(), 99); !errors.Is(err, ErrClosed) {
			t.Fatalf("Append after Close = %v, want ErrClosed", err)
		}
	})
}

// TestALoneAppendNeverLingers: an item that finds no company is committed at once,
// however long Linger is.
func TestALoneAppendNeverLingers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := New(Options{Max: 8, Linger: time.Hour}, func([]int) error { return nil })
		defer c.Close()
		start := time.Now()
		if err := c.Append(context.Background(), 1); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 0 {
			t.Errorf("a lone append waited %v", waited)
		}
	})
}

// TestABatchWithCompanyLingersForMore: a batch of more than one item waits Linger for
// more, takes in what arrives meanwhile, and commits when Linger is over.
func TestABatchWithCompanyLingersForMore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const linger = 10 * time.Second
		gate := make(chan struct{})
		type commit struct {
			items []int
			at    time.Time
		}
		var commits []commit
		c := New(Options{Max: 8, Linger: linger}, func(batch []int) error {
			if batch[0] == 0 {
				<-gate // the first commit holds the loop while 1 and 2 queue up
			}
			commits = append(commits, commit{slices.Sorted(slices.Values(batch)), time.Now()})
			return nil
		})
		defer c.Close()
		var wg sync.WaitGroup
		appendItem := func(n int) {
			wg.Go(func() {
				if err := c.Append(context.Background(), n); err != nil {
					t.Errorf("Append(%d): %v", n, err)
				}
			})
		}
		appendItem(0)
		synctest.Wait() // 0 is being committed
		appendItem(1)
		appendItem(2)
		synctest.Wait() // 1 and 2 wait to be taken
		released := time.Now()
		close(gate)
		time.Sleep(linger / 2)
		appendItem(3) // arrives while the batch of 1 and 2 lingers
		wg.Wait()
		if len(commits) != 2 {
			t.Fatalf("commits = %v, want two", commits)
		}
		if got := commits[1].items; !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("second batch = %v, want [1 2 3]: what arrives while a batch lingers joins it", got)
		}
		if got := commits[1].at.Sub(released); got != linger {
			t.Errorf("second batch committed %v after it formed, want Linger (%v)", got, linger)
		}
	})
}
