package config

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/dop251/goja"
)

// evalRequest is one evaluation of a bundled config.
type evalRequest struct {
	Script      string
	ScriptName  string
	Env         string
	Timeout     time.Duration
	MemoryLimit int64
	MaxStack    int
}

// evaluating lets one config run at a time in a process: the memory limit is measured
// on the process's heap, whose growth is then the config's own.
var evaluating sync.Mutex

// giveUpAfter is how long an interrupted config may take to stop before evaluate stops
// waiting for it.
const giveUpAfter = 250 * time.Millisecond

// memoryCheckEvery is how often the heap is measured: often enough that a config growing
// its data stops near its limit.
const memoryCheckEvery = 5 * time.Millisecond

// evaluate runs a bundled config in goja in this process (see runScript) and returns
// its value as JSON, the message that stopped it, or ctx's error when ctx ended first.
// ctx, the time limit and the memory limit interrupt the script, which goja notices
// between two instructions. A single built-in call that runs on without returning
// (filling or joining a huge array) cannot be stopped from outside: evaluate gives up on
// it after giveUpAfter, returns the limit's message and leaves the call behind. Every
// caller ends the process on that error, which ends the call too (a later evaluation
// in the same process would count the call's memory as its own).
//
// Running in process rather than in a child saves a start of the kazzle binary on every
// command that reads the config.
func evaluate(ctx context.Context, req evalRequest, stderr io.Writer) (json.RawMessage, *Message, error) {
	evaluating.Lock()
	defer evaluating.Unlock()

	rt := goja.New()
	type result struct {
		value json.RawMessage
		msg   *Message
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil { // a goja bug must not take kazzle down
				done <- result{msg: &Message{File: req.ScriptName, Text: fmt.Sprintf("the config evaluator failed: %v", r)}}
			}
		}()
		value, msg := runScript(rt, req, stderr)
		done <- result{value, msg}
	}()

	timeLimit := time.NewTimer(req.Timeout)
	defer timeLimit.Stop()
	memoryCheck := time.NewTicker(memoryCheckEvery)
	defer memoryCheck.Stop()
	baseline := heapAlloc()
	ctxDone := ctx.Done()
	var stoppedBy error
	var giveUp <-chan time.Time
	stop := func(why error) {
		if stoppedBy == nil {
			stoppedBy = why
			rt.Interrupt(why)
			giveUp = time.After(giveUpAfter)
		}
	}
	// ended returns r, or ctx's error when that is what stopped the script.
	ended := func(r result) (json.RawMessage, *Message, error) {
		if stoppedBy != nil && stoppedBy == ctx.Err() {
			return nil, nil, fmt.Errorf("evaluate %s: %w", req.ScriptName, stoppedBy)
		}
		return r.value, r.msg, nil
	}
	for {
		select {
		case r := <-done:
			return ended(r)
		case <-ctxDone:
			ctxDone = nil
			stop(ctx.Err())
		case <-timeLimit.C:
			stop(errTimeLimit)
		case <-memoryCheck.C:
			if req.MemoryLimit > 0 && heapAlloc()-baseline > req.MemoryLimit {
				memoryCheck.Stop()
				stop(errMemoryLimit)
			}
		case <-giveUp:
			return ended(result{msg: limitMessage(req, stoppedBy)})
		}
	}
}

// heapAlloc is the process's heap in use. Garbage counts until it is collected, which
// with the default GOGC makes a config with over a quarter of its limit in live data
// liable to be stopped early; no config needs a tenth of that.
// (runtime.ReadMemStats rather than runtime/metrics, whose package init every kazzle
// command would pay.)
func heapAlloc() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
