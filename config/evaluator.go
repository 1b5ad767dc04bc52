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
	"unicode"
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

// evaluate runs script in an evaluator process and returns the config's value as JSON.
func evaluate(ctx context.Context, o Options, req evalRequest) (json.RawMessage, error) {
	argv := o.Evaluator
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("find the kazzle binary to evaluate the config: %w", err)
		}
		argv = []string{exe, EvaluatorArg}
	}
	in, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	// The child gets longer than the script's own limit, which it enforces itself with a
	// located message; this one catches a built-in that never yields.
	ctx, cancel := context.WithTimeout(ctx, time.Duration(req.TimeoutMS)*time.Millisecond*3/2+2*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	// argv[0] "kazzle" lets a multi-call test binary (testscript) dispatch to kazzle.
	cmd.Args[0] = "kazzle"
	cmd.Env = []string{} // the config sees no environment: no API key, no secrets
	cmd.Stdin = bytes.NewReader(in)
	var stdout bytes.Buffer
	stderr := &capped{max: maxChildStderr}
	cmd.Stdout, cmd.Stderr = &stdout, stderr
	runErr := cmd.Run()
	if o.Stderr != nil && stderr.Len() > 0 && runErr == nil {
		o.Stderr.Write(stderr.Bytes())
	}
	var resp evalResponse
	if runErr == nil {
		if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
			return nil, fmt.Errorf("read the config evaluator's answer: %w", err)
		}
		if m := resp.Error; m != nil {
			if m.Path != "" { // a value that is not data: locate it by its key
				key := m.Path[strings.LastIndex(m.Path, ".")+1:]
				m.find, m.findKey = strings.TrimRightFunc(key[:strings.IndexByte(key+"[", '[')], unicode.IsSpace), true
			}
			return nil, errorOf(*m)
		}
		return resp.Config, nil
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return nil, errorOf(Message{File: req.ScriptName, Text: fmt.Sprintf("the config did not finish within %v; look for a loop that never ends", time.Duration(req.TimeoutMS)*time.Millisecond)})
	case ctx.Err() != nil:
		return nil, fmt.Errorf("evaluate %s: %w", req.ScriptName, ctx.Err())
	case strings.Contains(stderr.String(), "out of memory"):
		return nil, errorOf(Message{File: req.ScriptName, Text: fmt.Sprintf("the config used more than its %d MiB of memory and was stopped; look for a loop that keeps allocating", req.MemoryLimit>>20)})
	}
	first, _, _ := strings.Cut(strings.TrimSpace(stderr.String()), "\n")
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
