// Package cmd is the kazzle command line: subcommands, flags, exit codes, and the only
// place that talks to humans (messages, hints, prompts). Everything it does goes through
// the api client or, for `kazzle server`, the server and vault packages.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/config"
)

// Exit codes. A command run by `kazzle run` passes its own through.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// DefaultServer is the dev server's address.
const DefaultServer = "http://127.0.0.1:7878"

// cli is one invocation: its streams and environment, passed down instead of globals.
type cli struct {
	stdin   io.Reader
	stdout  io.Writer
	stderr  io.Writer
	getenv  func(string) string
	environ func() []string
}

// usageError is a mistake in how kazzle was called: exit status 2, and a hint when
// there is one.
type usageError struct{ msg, hint string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// hinted is an error with advice on what to do about it.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

func withHint(err error, format string, args ...any) error {
	return &hinted{err: err, hint: fmt.Sprintf(format, args...)}
}

// exitStatus carries a child's exit status through `kazzle run`.
type exitStatus struct{ code int }

func (e *exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// Main runs kazzle with args (without the program name) and returns the exit status.
func Main(args []string) int {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, environ: os.Environ}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return c.main(ctx, args)
}

func (c *cli) main(ctx context.Context, args []string) int {
	root := c.newRoot(args)
	root.SetArgs(args)
	return c.report(root.ExecuteContext(ctx))
}

// errorf and hintf print a message that may quote what a server or a file said: its
// control and format characters are escaped, its newlines kept.
func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintln(c.stderr, "kazzle: error: "+printableLines(fmt.Sprintf(format, args...)))
}

// warnf prints a warning: something the user should see that does not stop the command.
func (c *cli) warnf(format string, args ...any) {
	fmt.Fprintln(c.stderr, "kazzle: warning: "+printableLines(fmt.Sprintf(format, args...)))
}

func (c *cli) hintf(format string, args ...any) {
	fmt.Fprintln(c.stderr, "kazzle: hint: "+printableLines(fmt.Sprintf(format, args...)))
}

// report turns a command's error into messages and an exit status.
func (c *cli) report(err error) int {
	if err == nil {
		return exitOK
	}
	var st *exitStatus
	if errors.As(err, &st) {
		return st.code
	}
	if errors.Is(err, pflag.ErrHelp) {
		return exitOK
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		for _, m := range ce.Messages {
			c.errorf("%s", m)
		}
		return exitError
	}
	var ue *usageError
	if errors.As(err, &ue) {
		c.errorf("%s", ue.msg)
		if ue.hint != "" {
			c.hintf("%s", ue.hint)
		}
		return exitUsage
	}
	c.errorf("%s", err)
	var h *hinted
	if errors.As(err, &h) {
		c.hintf("%s", h.hint)
	} else if hint := apiHint(err); hint != "" {
		c.hintf("%s", hint)
	}
	return exitError
}

// apiHint says what to do about common API errors.
func apiHint(err error) string {
	var ae *api.Error
	if !errors.As(err, &ae) {
		switch msg := err.Error(); {
		case strings.Contains(msg, "connection refused"):
			return "is the server running? Start a local one with: kazzle server --dev"
		case strings.Contains(msg, "certificate"):
			return "the server's TLS certificate is not trusted: install its CA, or point SSL_CERT_FILE at it"
		}
		return ""
	}
	switch ae.Code {
	case api.CodeUnauthenticated:
		return "check the API key (KAZZLE_API_KEY or KAZZLE_API_KEY_FILE); an admin can create a key with: kazzle keys create --name NAME --role read --collection COLLECTION"
	case api.CodeForbidden:
		if strings.Contains(ae.Message, "operator key") {
			return "" // the refusal says which kind of key the request needs and how to get one
		}
		return "this key's role or its collection/environment limits do not allow this; ask an admin for a key that does"
	case api.CodeConflict:
		if strings.Contains(ae.Message, "never reused") {
			return "pick another name: a space's name stays taken, even once the space is deleted"
		}
		if strings.Contains(ae.Message, "already exists") {
			return "it is there already: use it, or pick another name"
		}
		return "someone changed it since you read it: read it again and retry"
	case api.CodeReservedName:
		return "kazzle secrets check lists every stored secret that breaks a rule"
	}
	return ""
}

// common holds the flags every API command shares.
type common struct {
	server     string
	collection string
	env        string
	json       bool
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func (c *cli) client(co *common) (*api.Client, error) {
	key, err := c.apiKey("")
	if err != nil {
		return nil, err
	}
	return c.clientWith(co, key)
}

// clientWith is client with a key already read.
func (c *cli) clientWith(co *common, key apiKey) (*api.Client, error) {
	if key.oidc != nil {
		server := co.server
		return api.NewClientKeyFunc(server, func(ctx context.Context) (string, error) { return key.oidc.apiKey(ctx, server) }, nil)
	}
	cl, err := api.NewClient(co.server, key.value, nil)
	if err != nil && key.value == "" {
		return nil, withHint(err, "kazzle server --dev prints an admin key on its first start; export KAZZLE_API_KEY=kzl_…, or put it in a file only you can read and export KAZZLE_API_KEY_FILE=FILE")
	}
	return cl, err
}

// needCollection makes sure co names a collection: --collection, KAZZLE_COLLECTION, or
// else the collection of the project configuration in the current folder.
func (c *cli) needCollection(ctx context.Context, co *common) error {
	if co.collection != "" {
		return nil
	}
	p, err := config.Load(ctx, ".", config.Options{Env: co.env, Stderr: c.stderr})
	switch {
	case err != nil && !errors.Is(err, config.ErrNoConfig):
		return fmt.Errorf("read the collection from the project configuration: %w", err)
	case err == nil && p.Collection != "":
		co.collection = p.Collection
		return nil
	}
	return usagef("no collection: pass --collection=NAME, set KAZZLE_COLLECTION, or set collection in kazzle.config.ts")
}
