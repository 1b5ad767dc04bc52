// Package groupcommit commits items that many goroutines append at once in batches, one
// transaction and one flush to disk per batch, while each caller still returns only once
// its own item is committed. The stores use it for audit events: a busy server pays for
// durability once per batch rather than once per read.
package groupcommit

import (
	"context"
	"errors"
	"time"
)

// ErrClosed is returned by Append after Close.
var ErrClosed = errors.New("store is closed")

// Options bound a batch.
type Options struct {
	// Max is the largest batch.
	Max int
	// Linger is how long a batch that found company waits for more items before it
	// commits, as PostgreSQL's commit_delay does: under concurrent load, fewer and larger
	// commits save CPU for serving, while a lone item never waits.
	Linger time.Duration
}

// Committer batches items of type T.
type Committer[T any] struct {
	opts   Options
	commit func([]T) error
	in     chan request[T]
	quit   chan struct{}
	done   chan struct{}
}

type request[T any] struct {
	item T
	done chan error
}

// New starts a Committer whose batches go to commit, one call at a time.
func New[T any](opts Options, commit func(batch []T) error) *Committer[T] {
	c := &Committer[T]{opts: opts, commit: commit, in: make(chan request[T]), quit: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// Append adds item to the next batch and returns once that batch is committed, with the
// commit's error.
func (c *Committer[T]) Append(ctx context.Context, item T) error {
	req := request[T]{item: item, done: make(chan error, 1)}
	select {
	case c.in <- req:
	case <-c.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops the Committer after the batch in progress.
func (c *Committer[T]) Close() {
	close(c.quit)
	<-c.done
}

func (c *Committer[T]) loop() {
	defer close(c.done)
	for {
		var first request[T]
		select {
		case first = <-c.in:
		case <-c.quit:
			return
		}
		batch := []request[T]{first}
	fill:
		for len(batch) < c.opts.Max {
			select {
			case r := <-c.in:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		if len(batch) > 1 && c.opts.Linger > 0 {
			batch = c.linger(batch)
		}
		items := make([]T, len(batch))
		for i, r := range batch {
			items[i] = r.item
		}
		err := c.commit(items)
		for _, r := range batch {
			r.done <- err
		}
	}
}

// linger adds to batch the items that arrive within Linger.
func (c *Committer[T]) linger(batch []request[T]) []request[T] {
	t := time.NewTimer(c.opts.Linger)
	defer t.Stop()
	for len(batch) < c.opts.Max {
		select {
		case r := <-c.in:
			batch = append(batch, r)
		case <-t.C:
			return batch
		}
	}
	return batch
}
