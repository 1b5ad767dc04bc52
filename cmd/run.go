package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/redact"
	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
)

func (c *cli) runCmd(ctx context.Context, args []string) error {
	var co common
	fs := c.flags("run", &co)
	preserve := fs.Bool("preserve-env", false, "keep inherited variables that a secret would override")
	redactOutput := fs.Bool("redact", false, "stay the parent and replace secret values in the command's output with their references")
	only := fs.StringSlice("only", nil, "inject only these secrets (names, comma-separated)")
	fs.SetInterspersed(false) // everything after the command name belongs to the command
	fs.MarkHidden("json")     // the command's output is its own
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "Usage: kazzle run --collection=NAME --env=ENV [flags] -- command [args...]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	argv := fs.Args()
	if len(argv) == 0 {
		return usagef("no command to run: kazzle run --collection=NAME --env=ENV -- command [args...]")
	}
	if err := c.needCollection(ctx, &co); err != nil {
		return err
	}
	if co.env == "" {
		return usagef("no environment: pass --env=NAME or set KAZZLE_ENV")
	}
	client, err := c.client(&co)
	if err != nil {
		return err
	}
	vars, err := client.Resolve(ctx, api.ResolveRequest{Collection: co.collection, Environment: co.env, Names: *only})
	if err != nil {
		return fmt.Errorf("resolve %s/%s: %w", co.collection, co.env, err)
	}
	reps := make([]redact.Replacement, 0, len(vars))
	for _, v := range vars {
		reps = append(reps, redact.Replacement{Value: v.Value, With: secret.Ref{ID: v.SecretID, Field: v.Field}.String()})
	}
	// Messages name the command as written: once substituted, it may hold a value.
	name := argv[0]
	argv, argReps, err := substituteArgs(ctx, client, argv)
	if err != nil {
		return err
	}
	reps = append(reps, argReps...)
	env := mergeEnv(c.environ(), vars, *preserve)
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return withHint(fmt.Errorf("command %q: not found, or not an executable file", name), "is %s installed and on PATH?", name)
	}
	if !*redactOutput {
		// Replace kazzle with the command: signals, the terminal and the exit status are
		// the command's own, and kazzle costs nothing while it runs.
		err := syscall.Exec(path, argv, env)
		return fmt.Errorf("exec %q: %w", name, err)
	}
	return c.runRedacted(name, path, argv, env, reps)
}

// substituteArgs replaces ${secret.<id>.<field>} in the arguments, and returns what to
// redact for them: every reference followed, nested ones included. Arguments without
// "${" are left exactly as they are.
func substituteArgs(ctx context.Context, client *api.Client, argv []string) ([]string, []redact.Replacement, error) {
	var used []api.UsedValue
	out, err := resolver.Substitute(argv, func(refs []string) ([]string, error) {
		resp, err := client.Templates(ctx, refs)
		used = resp.Used
		return resp.Values, err
	})
	var te *resolver.TemplateError
	switch {
	case errors.As(err, &te):
		return nil, nil, usagef("argument %d: %v", te.Index, te.Err)
	case err != nil:
		return nil, nil, fmt.Errorf("substitute references in the arguments: %w", err)
	}
	reps := make([]redact.Replacement, 0, len(used))
	for _, u := range used {
		reps = append(reps, redact.Replacement{Value: u.Value, With: u.Ref})
	}
	return out, reps, nil
}

// mergeEnv puts the secrets into the inherited environment. Secrets win unless preserve,
// in which case an inherited variable keeps its value.
func mergeEnv(inherited []string, vars []api.Var, preserve bool) []string {
	index := make(map[string]int, len(inherited))
	out := make([]string, 0, len(inherited)+len(vars))
	for _, kv := range inherited {
		name, _, _ := strings.Cut(kv, "=")
		index[name] = len(out)
		out = append(out, kv)
	}
	for _, v := range vars {
		if i, ok := index[v.Name]; ok {
			if !preserve {
				out[i] = v.Name + "=" + v.Value
			}
			continue
		}
		index[v.Name] = len(out)
		out = append(out, v.Name+"="+v.Value)
	}
	return out
}

// redactWaitDelay is how long kazzle keeps reading the command's output after the
// command exited: a background descendant that holds the pipes open (sh -c 'daemon &')
// must not hold kazzle, yet what the command itself wrote before it exited, at most a
// pipe's buffer per stream, is drained well within it.
const redactWaitDelay = time.Second

// runRedacted runs the command as a child whose stdout and stderr pass through redactors,
// forwards signals to it, and returns its exit status.
func (c *cli) runRedacted(name, path string, argv, env []string, reps []redact.Replacement) error {
	stdout := redact.NewRedactor(c.stdout, reps)
	stderr := redact.NewRedactor(c.stderr, reps)
	child := exec.Command(path, argv[1:]...)
	child.Args[0] = argv[0]
	child.Env = env
	child.Stdin = c.stdin
	child.Stdout = stdout
	child.Stderr = stderr
	child.WaitDelay = redactWaitDelay
	filter := newSignalFilter()
	defer filter.close()
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		// The error names the path, which may hold a substituted value: keep its cause.
		if cause := errors.Unwrap(err); cause != nil {
			err = cause
		}
		return fmt.Errorf("start %q: %w", name, err)
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if filter.forward(s) {
					child.Process.Signal(s)
				}
			case <-done:
				return
			}
		}
	}()
	err := child.Wait()
	close(done)
	if errors.Is(err, exec.ErrWaitDelay) {
		// The command exited with status 0; a descendant still held its output.
		err = nil
	}
	flushErr := errors.Join(stdout.Close(), stderr.Close())
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return &exitStatus{code: 128 + int(ws.Signal())}
		}
		return &exitStatus{code: ee.ExitCode()}
	}
	if err != nil {
		return err
	}
	return flushErr
}
