package mcp

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/kazzle/kazzle/api"
)

// limitedBuffer keeps the first max+1 bytes written to it, so that more than max shows.
type limitedBuffer struct {
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max + 1 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// runSource runs the command of a field's source as run_command does (references
// substituted, placeholders and the call's proxy for values bound to hosts, kazzle's
// environment withheld) and returns its standard output, one trailing newline removed,
// and its standard error scrubbed of that output too. A non-zero exit, an empty output
// or one longer than a field may be stores nothing: the error says why, without the
// output.
func (t *tools) runSource(ctx context.Context, field string, src commandSource) (value, stderr string, err error) {
	if len(src.Argv) == 0 {
		return "", "", fmt.Errorf("field %s: the command's argv is empty", field)
	}
	limit, err := timeout(src.TimeoutSeconds)
	if err != nil {
		return "", "", fmt.Errorf("field %s: %w", field, err)
	}
	argv, c, err := t.substitute(ctx, src.Argv, true)
	if err != nil {
		return "", "", fmt.Errorf("field %s: %w", field, err)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	p, err := t.startProxy(ctx, c)
	if err != nil {
		return "", "", c.fail("field %s: start the proxy: %v", field, err)
	}
	defer p.Close()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = t.commandEnv(envMap(p.Env()))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	out := &limitedBuffer{max: maxCommandValue}
	var errOut limitedBuffer
	errOut.max = t.o.MaxOutput + captureSlack
	cmd.Stdout, cmd.Stderr = out, &errOut
	runErr := cmd.Run()
	p.Close()
	value = strings.TrimSuffix(string(out.b), "\n")
	// The output is a secret from here on: every result of the session is scrubbed of it,
	// this one's stderr first.
	if value != "" {
		if err := t.scrub.use([]api.UsedValue{{Ref: "[the output of " + field + "'s command]", Value: value}}); err != nil {
			return "", "", err
		}
		if c.replacer, err = t.scrub.replacerFor(ctx); err != nil {
			return "", "", err
		}
	}
	stderr = c.redact(string(errOut.b))
	if len(stderr) > t.o.MaxOutput {
		stderr = stderr[:t.o.MaxOutput]
	}
	var ee *exec.ExitError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "", "", c.fail("field %s: the command ran out of its %s and was killed; nothing was stored. stderr: %s", field, limit, stderr)
	case errors.As(runErr, &ee):
		return "", "", c.fail("field %s: the command exited with %d; nothing was stored. stderr: %s", field, ee.ExitCode(), stderr)
	case runErr != nil:
		return "", "", c.fail("field %s: run %s: %v", field, argv[0], runErr)
	case len(out.b) > maxCommandValue:
		return "", "", c.fail("field %s: the command wrote more than %d bytes, more than a field holds; nothing was stored", field, maxCommandValue)
	case value == "":
		return "", "", c.fail("field %s: the command wrote nothing to stdout; nothing was stored. stderr: %s", field, stderr)
	}
	return value, stderr, nil
}

func envMap(env []string) map[string]string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// learn makes value scrubbed as ref from now on, in place of what it was scrubbed as.
func (s *scrubber) learn(value, ref string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.used[value] != ref {
		s.used[value] = ref
		s.replacer = nil
	}
}

// expire has every scope read again before the next result is scrubbed: a value was
// written.
func (s *scrubber) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sv := range s.scopes {
		sv.read = time.Time{}
	}
}
