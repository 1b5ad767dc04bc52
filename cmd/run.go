package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/proxy"
	"github.com/kazzle/kazzle/redact"
	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
)

func (c *cli) runCommand() *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run --collection=NAME --env=ENV [flags] -- command [args...]",
		Short: "run a command with the secrets of an environment as variables",
		Long: "Runs the command with the environment's secrets as variables, and ${secret.<id>.<field>}\n" +
			"in its arguments replaced by values. kazzle's own flags come before the command: from the\n" +
			"command's name on, every argument is the command's.\n\n" +
			"--proxy keeps the values of secrets bound to hosts (kazzle secrets set NAME --hosts HOST)\n" +
			"out of the command: it gets a placeholder instead, and HTTPS_PROXY (and the other proxy\n" +
			"and CA bundle variables of curl, Python, Node, git and Go) pointing at a proxy on loopback\n" +
			"that puts the value in place of the placeholder only in HTTPS requests to those hosts, and\n" +
			"refuses with 403 a request that carries it anywhere else. The proxy lives as long as the\n" +
			"command; signals and the exit status pass through. Secrets not bound to hosts are given as\n" +
			"values, and their names listed on stderr; --strict refuses them. Programs that ignore\n" +
			"HTTPS_PROXY (Java, Node before 22.21) send the placeholder itself, which fails\n" +
			"closed; values used to sign requests (AWS keys, webhook secrets) cannot be bound.\n\n" +
			"--component NAME gives the command only the secrets that component of the project\n" +
			"configuration declares. For a UI component those are its VITE_ ones, and once the\n" +
			"command exits its outDir is scanned as kazzle build scans it: a file that holds the\n" +
			"value of any other secret is removed and named, with the secret, and kazzle exits 1;\n" +
			"an outDir the command did not write to is an error too.",
		Example: "  kazzle run --collection app --env dev -- npm start\n" +
			"  kazzle run --env prod --component web -- vite build\n" +
			"  kazzle run --env prod --only DATABASE_URL -- psql '${secret.<id>.value}'\n" +
			"  kazzle run --env dev --proxy --strict -- curl https://api.example.com",
		RunE: func(cmd *cobra.Command, args []string) error { return c.runCmd(cmd.Context(), &o, args) },
	}
	c.apiFlags(cmd, &o.common, false) // the command's output is its own
	fs := cmd.Flags()
	fs.BoolVar(&o.preserve, "preserve-env", false, "keep inherited variables that a secret would override")
	fs.BoolVar(&o.redact, "redact", false, "stay the parent and replace secret values in the command's output with their references")
	fs.StringSliceVar(&o.only, "only", nil, "inject only these secrets (names, comma-separated)")
	fs.BoolVar(&o.proxy, "proxy", false, "give secrets bound to hosts as placeholders, and stay the parent with a proxy that sends their values to those hosts only")
	fs.BoolVar(&o.strict, "strict", false, "with --proxy, refuse secrets not bound to hosts")
	fs.StringVar(&o.component, "component", "", "inject only the secrets this component of the project configuration declares; for a UI\ncomponent, its VITE_ ones, and its outDir is scanned for the others' values after the command")
	fs.SetInterspersed(false) // everything from the command's name on belongs to the command
	// After the command's name, the shell completes the command's own arguments.
	cmd.ValidArgsFunction = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return cmd
}

type runOptions struct {
	common
	preserve, redact, proxy, strict bool
	only                            []string
	component                       string
}

func (c *cli) runCmd(ctx context.Context, o *runOptions, argv []string) error {
	co, preserve, redactOutput, only, useProxy, strict := o.common, &o.preserve, &o.redact, &o.only, &o.proxy, &o.strict
	if *strict && !*useProxy {
		return usagef("--strict goes with --proxy: kazzle run --proxy --strict -- command")
	}
	if len(argv) == 0 {
		return usagef("no command to run: kazzle run --collection=NAME --env=ENV -- command [args...]")
	}
	if err := misplacedFlag(co, argv); err != nil {
		return err
	}
	var comp *runComponent
	if o.component != "" {
		if co.env == "" {
			return usagef("no environment: pass --env=NAME or set KAZZLE_ENV")
		}
		var err error
		if comp, err = c.loadComponent(ctx, &co, o.component); err != nil {
			return err
		}
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
	var vars []api.Var
	if comp != nil {
		vars, err = comp.resolve(ctx, client, co, *only)
	} else if vars, err = client.Resolve(ctx, api.ResolveRequest{Collection: co.collection, Environment: co.env, Names: *only}); err != nil {
		err = fmt.Errorf("resolve %s/%s: %w", co.collection, co.env, err)
	}
	if err != nil {
		return err
	}
	reps := make([]redact.Replacement, 0, len(vars))
	for _, v := range vars {
		reps = append(reps, redact.Replacement{Value: v.Value, With: secret.Ref{ID: v.SecretID, Field: v.Field}.String()})
	}
	var plan *proxyPlan
	if *useProxy {
		plan = &proxyPlan{placeholders: map[string]string{}, names: map[string]bool{}}
		for i, v := range vars {
			if vars[i].Value, err = plan.placehold(secret.Ref{ID: v.SecretID, Field: v.Field}.String(), v.Name, v.Value, v.Hosts); err != nil {
				return err
			}
		}
	}
	// Messages name the command as written: once substituted, it may hold a value.
	name := argv[0]
	argv, argReps, err := substituteArgs(ctx, client, argv, plan)
	if err != nil {
		return err
	}
	reps = append(reps, argReps...)
	if plan != nil {
		if len(plan.unbound) > 0 && *strict {
			return fmt.Errorf("%s: not bound to hosts, and --strict uses only secrets that are; bind them with kazzle secrets set NAME --hosts HOST (an admin can), or leave out --strict",
				strings.Join(plan.unbound, ", "))
		}
		if len(plan.unbound) > 0 {
			fmt.Fprintf(c.stderr, "kazzle: not bound to hosts, so given to the command as values: %s\n", printableLines(strings.Join(plan.unbound, ", ")))
		}
		for ref, ph := range plan.placeholders {
			reps = append(reps, redact.Replacement{Value: ph, With: ref})
		}
	}
	env := mergeEnv(c.environ(), vars, *preserve)
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return withHint(fmt.Errorf("command %q: not found, or not an executable file", name), "is %s installed and on PATH?", name)
	}
	scanAfter := comp != nil && comp.ui()
	if !*redactOutput && plan == nil && !scanAfter {
		// Replace kazzle with the command: signals, the terminal and the exit status are
		// the command's own, and kazzle costs nothing while it runs.
		err := syscall.Exec(path, argv, env)
		return fmt.Errorf("exec %q: %w", name, err)
	}
	if plan != nil {
		// The proxy ends with the command, not with kazzle's first SIGINT or SIGTERM,
		// which the command may still be handling, requests and all.
		p, err := plan.start(context.WithoutCancel(ctx), c.environ())
		if err != nil {
			return fmt.Errorf("start the proxy: %w", err)
		}
		defer p.Close()
		env = overrideEnv(env, p.Env())
	}
	if !*redactOutput {
		reps = nil
	}
	if !scanAfter {
		return c.runChild(name, path, argv, env, reps)
	}
	if err := comp.start(); err != nil {
		return err
	}
	return comp.finish(c.runChild(name, path, argv, env, reps))
}

// misplacedFlag refuses to run a command whose arguments hold --env or --collection
// when kazzle has no environment: they were meant for kazzle, and written after the
// command's name (kazzle run node app.js --env dev), so they went to the command.
func misplacedFlag(co common, argv []string) error {
	if co.env != "" {
		return nil
	}
	for _, a := range argv[1:] {
		if a == "--" {
			break
		}
		for _, name := range []string{"env", "collection"} {
			if a == "--"+name || strings.HasPrefix(a, "--"+name+"=") {
				return &usageError{
					msg:  fmt.Sprintf("--%s comes after the command %s, so it went to %s, not to kazzle, and kazzle has no environment", name, printable(argv[0]), printable(argv[0])),
					hint: fmt.Sprintf("put kazzle's flags before the command: kazzle run --%s … -- %s …", name, printable(argv[0])),
				}
			}
		}
	}
	return nil
}

// proxyPlan is what `kazzle run --proxy` gives the command as placeholders, for its
// proxy: one per reference, however many variables or arguments hold it.
type proxyPlan struct {
	secrets      []proxy.Secret
	placeholders map[string]string // reference → placeholder
	names        map[string]bool   // hosts entries, for the proxy's name constraints
	unbound      []string          // what the command gets as values, by name or reference
}

// placehold returns what the command gets for the value of ref: a placeholder when
// the value is bound to hosts (binding, as api.Var.Hosts), else the value itself, whose
// name (a variable's, or the reference) is then listed as unbound. A hosts list that
// does not parse allows nothing.
func (pl *proxyPlan) placehold(ref, name, value string, binding [][]string) (string, error) {
	if len(binding) == 0 {
		if !slices.Contains(pl.unbound, name) {
			pl.unbound = append(pl.unbound, name)
		}
		return value, nil
	}
	if value == "" {
		return value, nil // nothing to keep from the command
	}
	if ph, ok := pl.placeholders[ref]; ok {
		return ph, nil
	}
	lists := make([]secret.Hosts, 0, len(binding))
	for _, entries := range binding {
		h, err := secret.ParseHosts(entries)
		if err != nil || h == nil {
			h = secret.Hosts{}
		}
		lists = append(lists, h)
		for _, e := range h {
			pl.names[e] = true
		}
	}
	ph, err := proxy.Placeholder(value)
	if err != nil {
		return "", fmt.Errorf("make a placeholder for %s: %w", name, err)
	}
	if name == ref {
		name = "" // the proxy's messages name the reference anyway
	}
	pl.secrets = append(pl.secrets, proxy.Secret{Ref: ref, Name: name, Value: value, Placeholder: ph,
		Allows: func(scheme, host string, port int) bool { return secret.AllowedByAll(lists, scheme, host, port) }})
	pl.placeholders[ref] = ph
	return ph, nil
}

// start starts the proxy, trusting what kazzle trusts: the SSL_CERT_FILE of environ,
// else the system's roots.
func (pl *proxyPlan) start(ctx context.Context, environ []string) (*proxy.Proxy, error) {
	o := proxy.Options{Secrets: pl.secrets, Names: slices.Sorted(maps.Keys(pl.names))}
	for _, kv := range environ {
		if f, ok := strings.CutPrefix(kv, "SSL_CERT_FILE="); ok {
			if err := o.Trust(f); err != nil {
				return nil, err
			}
		}
	}
	return proxy.Start(ctx, o)
}

// overrideEnv sets each of vars in env, replacing a variable of the same name.
func overrideEnv(env, vars []string) []string {
	set := map[string]bool{}
	for _, kv := range vars {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	out := make([]string, 0, len(env)+len(vars))
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); !set[k] {
			out = append(out, kv)
		}
	}
	return append(out, vars...)
}

// substituteArgs replaces ${secret.<id>.<field>} in the arguments, and returns what to
// redact for them: every reference followed, nested ones included. Arguments without
// "${" are left exactly as they are. With a plan, each reference whose value is bound
// to hosts becomes a placeholder instead.
func substituteArgs(ctx context.Context, client *api.Client, argv []string, plan *proxyPlan) ([]string, []redact.Replacement, error) {
	var used []api.UsedValue
	out, err := resolver.Substitute(argv, func(refs []string) ([]string, error) {
		resp, err := client.Templates(ctx, refs)
		used = resp.Used
		if err != nil || plan == nil || len(resp.Values) != len(refs) {
			return resp.Values, err
		}
		binding := map[string][][]string{}
		for _, u := range resp.Used {
			binding[u.Ref] = u.Hosts
		}
		vals := slices.Clone(resp.Values)
		for i, ref := range refs {
			hosts, ok := binding[ref]
			if !ok {
				// Its binding is unknown: never give the value.
				return nil, fmt.Errorf("the server did not say which hosts %s is bound to", ref)
			}
			if vals[i], err = plan.placehold(ref, ref, vals[i], hosts); err != nil {
				return nil, err
			}
		}
		return vals, nil
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

// runChild runs the command as a child, its stdout and stderr passed through
// redactors for reps unless reps is nil, forwards signals to it, and returns its exit
// status.
func (c *cli) runChild(name, path string, argv, env []string, reps []redact.Replacement) error {
	var stdout, stderr io.Writer = c.stdout, c.stderr
	flush := func() error { return nil }
	if reps != nil {
		rout, rerr := redact.NewRedactor(c.stdout, reps), redact.NewRedactor(c.stderr, reps)
		stdout, stderr = rout, rerr
		flush = func() error { return errors.Join(rout.Close(), rerr.Close()) }
	}
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
	flushErr := flush()
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
