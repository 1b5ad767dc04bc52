package groupcommit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestEachAppendReturnsOnceItsBatchIsCommitted(t *testing.T) {
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
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.Append(context.Background(), n)
			mu.Lock()
			defer mu.Unlock()
			if !committed[n] {
				t.Errorf("Append(%d) returned before its batch was committed", n)
			}
			if n == 13 && !errors.Is(err, fail) {
				t.Errorf("Append(13) = %v, want the commit's error", err)
			}
		}()
	}
	wg.Wait()
	c.Close()
	if batches >= 64 {
		t.Errorf("64 concurrent appends took %d commits: no batching", batches)
	}
	if err := c.Append(context.Background(), 99); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close = %v, want ErrClosed", err)
	}
}
