package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// EvaluatorArg is the argument that makes a program evaluate a bundled config (see
// ServeEvaluator). Load runs the evaluation in a child process, because goja has no
// memory limit: a config that allocates without end then takes down only that child,
// which runs under an address-space limit. A program that calls Load must answer
// EvaluatorArg as its first argument by calling ServeEvaluator (cmd.Main does).
const EvaluatorArg = "__eval-config"

// evalRequest is what the parent sends the evaluator on stdin.
type evalRequest struct {
	Script      string `json:"script"`
	ScriptName  string `json:"scriptName"`
	Env         string `json:"env"`
	TimeoutMS   int64  `json:"timeoutMs"`
	MemoryLimit int64  `json:"memoryLimit"`
	MaxStack    int    `json:"maxStack"`
}

// evalResponse is what the evaluator writes to stdout: the config's value as JSON, or
// the error that stopped it.
type evalResponse struct {
	Config json.RawMessage `json:"config,omitempty"`
	Error  *Message        `json:"error,omitempty"`
}

// maxChildStderr bounds what is kept of the evaluator's stderr (console output, or a
// crash report).
const maxChildStderr = 64 << 10

// evaluator is an evaluator process, started before the config is bundled so that its
// start-up overlaps esbuild's work.
type evaluator struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout bytes.Buffer
	stderr *capped
	ctx    context.Context
	cancel context.CancelFunc
	o      Options
}

// startEvaluator starts the evaluator process of o (default: this executable with
// EvaluatorArg). The caller must call run or stop.
func startEvaluator(ctx context.Context, o Options) (*evaluator, error) {
	argv := o.Evaluator
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the kazzle binary to evaluate the config: %w", err)
		}
		argv = []string{exe, EvaluatorArg}
	}
	e := &evaluator{stderr: &capped{max: maxChildStderr}, o: o}
	// The child gets longer than the script's own limit, which it enforces itself with a
	// located message; this one catches a built-in that never yields.
	e.ctx, e.cancel = context.WithTimeout(ctx, o.Timeout*3/2+2*time.Second)
	e.cmd = exec.CommandContext(e.ctx, argv[0], argv[1:]...)
	// argv[0] "kazzle" lets a multi-call test binary (testscript) dispatch to kazzle.
	e.cmd.Args[0] = "kazzle"
	e.cmd.Env = []string{} // the config sees no environment: no API key, no secrets
	e.cmd.Stdout, e.cmd.Stderr = &e.stdout, e.stderr
	var err error
	if e.stdin, err = e.cmd.StdinPipe(); err != nil {
		e.cancel()
		return nil, err
	}
	if err := e.cmd.Start(); err != nil {
		e.cancel()
		return nil, fmt.Errorf("start the config evaluator: %w", err)
	}
	return e, nil
}

// stop ends an evaluator that will not be used.
func (e *evaluator) stop() {
	e.cancel()
	e.stdin.Close()
	e.cmd.Wait()
}

// run sends the evaluator its one request and returns the config's value as JSON.
func (e *evaluator) run(req evalRequest) (json.RawMessage, error) {
	defer e.cancel()
	in, err := json.Marshal(req)
	if err != nil {
		e.stop()
		return nil, err
	}
	_, writeErr := e.stdin.Write(in)
	e.stdin.Close()
	runErr := e.cmd.Wait()
	if runErr == nil && writeErr != nil {
		runErr = writeErr
	}
	if e.o.Stderr != nil && e.stderr.Len() > 0 && runErr == nil {
		e.o.Stderr.Write(e.stderr.Bytes())
	}
	var resp evalResponse
	if runErr == nil {
		if err := json.Unmarshal(e.stdout.Bytes(), &resp); err != nil {
			return nil, fmt.Errorf("read the config evaluator's answer: %w", err)
		}
		if m := resp.Error; m != nil {
			if m.Path != "" { // a value that is not data: locate it by its key
				key := m.Path[strings.LastIndex(m.Path, ".")+1:]
				m.find, m.findKey = strings.SplitN(key, "[", 2)[0], true
			}
			return nil, errorOf(*m)
		}
		return resp.Config, nil
	}
	switch {
	case errors.Is(e.ctx.Err(), context.DeadlineExceeded):
		return nil, errorOf(Message{File: req.ScriptName, Text: fmt.Sprintf("the config did not finish within %v; look for a loop that never ends", time.Duration(req.TimeoutMS)*time.Millisecond)})
	case e.ctx.Err() != nil:
		return nil, fmt.Errorf("evaluate %s: %w", req.ScriptName, e.ctx.Err())
	case strings.Contains(e.stderr.String(), "out of memory"):
		return nil, errorOf(Message{File: req.ScriptName, Text: fmt.Sprintf("the config used more than its %d MiB of memory and was stopped; look for a loop that keeps allocating", req.MemoryLimit>>20)})
	}
	first, _, _ := strings.Cut(strings.TrimSpace(e.stderr.String()), "\n")
	return nil, fmt.Errorf("the config evaluator failed (%v): %s", runErr, first)
}

// capped is a buffer that keeps only its first max bytes.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// ServeEvaluator reads one evaluation request from stdin, evaluates it and writes the
// answer to stdout; console output goes to stderr. It returns the process exit status.
func ServeEvaluator(stdin io.Reader, stdout, stderr io.Writer) int {
	var req evalRequest
	if err := json.NewDecoder(stdin).Decode(&req); err != nil {
		fmt.Fprintf(stderr, "kazzle: error: %s expects a request from kazzle itself on stdin: %v\n", EvaluatorArg, err)
		return 2
	}
	if err := limitAddressSpace(req.MemoryLimit); err != nil {
		fmt.Fprintf(stderr, "kazzle: error: limit the config's memory: %v\n", err)
		return 2
	}
	value, msg := runScript(req, stderr)
	resp := evalResponse{Config: value, Error: msg}
	if err := json.NewEncoder(stdout).Encode(resp); err != nil {
		return 2
	}
	return 0
}
