package mcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/proxy"
	"github.com/kazzle/kazzle/redact"
	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
)

// Time limits of run_command and http_request, in seconds.
const (
	defaultTimeout = 60
	maxTimeout     = 600
)

// call is one tool call's substitution: the references it used, and the session's
// Replacer, which holds their values among all it scrubs results of.
type call struct {
	replacer *redact.Replacer
	exposed  []string // the references whose values the call gave away, in order
	// bindings are, by reference, the hosts lists a value must be allowed by, each one;
	// unbound lists the references with none.
	bindings map[string][]secret.Hosts
	unbound  []string
	// proxied are the values bound to hosts that the call wrote as placeholders, and
	// shown puts their references back in place of the placeholders in results.
	proxied []proxied
	shown   *redact.Replacer
}

// proxied is a value bound to hosts that a command holds only as a placeholder, which
// the call's proxy replaces in requests to hosts every one of its hosts lists allows.
type proxied struct {
	ref, value, placeholder string
	hosts                   []secret.Hosts
}

// substitute replaces the references in texts, through the server's templates call:
// one audited read naming every secret used. A reference the key may not read, or to
// an unknown secret or field, is an error that carries no value. The values it used
// join what the session scrubs from every result.
//
// With placeholders, a reference whose value is bound to hosts is written as a fresh
// placeholder instead (the call's proxied), and only unbound values are written, and
// exposed. Each reference is asked for alone, so that in a text that mixes them each is
// written its own way.
func (t *tools) substitute(ctx context.Context, texts []string, placeholders bool) ([]string, *call, error) {
	c := &call{}
	out, err := resolver.Substitute(texts, func(refs []string) ([]string, error) {
		resp, err := t.o.Client.Templates(ctx, refs)
		if err != nil {
			return nil, err
		}
		for _, u := range resp.Used {
			c.bind(u)
		}
		if err := t.scrub.use(resp.Used); err != nil {
			return nil, err
		}
		if !placeholders {
			for _, u := range resp.Used {
				c.exposed = append(c.exposed, u.Ref)
			}
			return resp.Values, nil
		}
		return c.placehold(refs, resp)
	})
	var te *resolver.TemplateError
	var ae *api.Error
	switch {
	case errors.As(err, &te):
		return nil, nil, fmt.Errorf("a malformed reference: %v", te.Err)
	case errors.As(err, &ae):
		return nil, nil, fmt.Errorf("substitute references: %s", ae.Message)
	case err != nil:
		return nil, nil, fmt.Errorf("substitute references: %w", err)
	}
	if c.replacer, err = t.scrub.replacerFor(ctx); err != nil {
		return nil, nil, err
	}
	if t.o.Strict && len(c.unbound) > 0 {
		return nil, nil, fmt.Errorf("%s: kazzle mcp runs with --strict, which uses only secrets bound to hosts; bind it with kazzle secrets set NAME --hosts HOST (an admin can), or run kazzle mcp without --strict",
			strings.Join(c.unbound, ", "))
	}
	return out, c, nil
}

// placehold returns the values of refs with each bound one replaced by a placeholder.
// A value's binding takes in those of the references inside it, so a bound value never
// reaches a text through an unbound reference. The unbound values the texts hold are
// exposed: every unbound reference followed, when some reference of the texts is
// unbound (a nested one may have been reached through a bound one only, and is counted
// anyway).
func (c *call) placehold(refs []string, resp api.TemplatesResponse) ([]string, error) {
	if len(resp.Values) != len(refs) {
		return resp.Values, nil // Substitute reports it
	}
	used := map[string]bool{}
	for _, u := range resp.Used {
		used[u.Ref] = true
	}
	vals := slices.Clone(resp.Values)
	exposing := false
	for i, ref := range refs {
		if !used[ref] {
			// Its binding is unknown: never give the value.
			return nil, fmt.Errorf("the server did not say which hosts %s is bound to", ref)
		}
		lists, bound := c.bindings[ref]
		if !bound {
			exposing = true
			continue
		}
		if vals[i] == "" {
			continue // nothing to keep from the command
		}
		ph, err := proxy.Placeholder(vals[i])
		if err != nil {
			return nil, fmt.Errorf("make a placeholder for %s: %w", ref, err)
		}
		c.proxied = append(c.proxied, proxied{ref: ref, value: vals[i], placeholder: ph, hosts: lists})
		vals[i] = ph
	}
	if exposing {
		c.exposed = append(c.exposed, c.unbound...)
	}
	reps := make([]redact.Replacement, len(c.proxied))
	for i, p := range c.proxied {
		reps[i] = redact.Replacement{Value: p.placeholder, With: p.ref}
	}
	c.shown = redact.NewReplacer(reps)
	return vals, nil
}

// bind records the binding of a value the call substitutes. A hosts list that does not
// parse allows nothing.
func (c *call) bind(u api.UsedValue) {
	if len(u.Hosts) == 0 {
		c.unbound = append(c.unbound, u.Ref)
		return
	}
	if c.bindings == nil {
		c.bindings = map[string][]secret.Hosts{}
	}
	for _, list := range u.Hosts {
		h, err := secret.ParseHosts(list)
		if err != nil || h == nil {
			h = secret.Hosts{} // allows nothing
		}
		c.bindings[u.Ref] = append(c.bindings[u.Ref], h)
	}
}

// refuseHost returns an error naming the first value the call substituted that may not
// be sent to u, or nil when every bound value may. The error names the host as the
// assistant wrote it (written, references and all): u's host is decoded, a spelling of
// a value in it that scrubbing does not know.
func (c *call) refuseHost(u *url.URL, written string) error {
	port, _ := strconv.Atoi(u.Port())
	for _, ref := range slices.Sorted(maps.Keys(c.bindings)) {
		for _, h := range c.bindings[ref] {
			if len(h) == 0 || !h.Allows(u.Scheme, u.Hostname(), port) {
				return c.fail("%s is bound to %s and may not be sent to %s; nothing was sent", ref, strings.Join(c.allowed(ref), ", "), hostAsWritten(written))
			}
		}
	}
	return nil
}

// allowed lists the hosts entries of ref's binding, for a message.
func (c *call) allowed(ref string) []string {
	var out []string
	for _, h := range c.bindings[ref] {
		out = append(out, h...)
	}
	if len(out) == 0 {
		return []string{"no host"}
	}
	return out
}

// redact shows the call's placeholders and every value the session scrubs as their
// references.
func (c *call) redact(s string) string {
	if c.shown != nil {
		s = c.shown.Replace(s)
	}
	return c.replacer.Replace(s)
}

// fail is the error a tool returns: redacted, since the text of an error from a command
// or a connection may hold a substituted value.
func (c *call) fail(format string, args ...any) error {
	return errors.New(c.redact(fmt.Sprintf(format, args...)))
}

// captureSlack is how much of an output kazzle keeps past the limit it returns, so that
// a value the limit cuts is still seen whole and replaced: more than the longest
// spelling of a value it scrubs needs, with its line breaks.
const captureSlack = 512 << 10

// capture keeps the first limit+captureSlack bytes of an output stream, and gives them
// back scrubbed, then cut to limit. Scrubbing the whole at once finds what a stream
// could not: a base64 or hex dump with a value split across its lines.
type capture struct {
	raw      bytes.Buffer
	limit    int
	overflow bool
	redact   func(string) string
}

func (c *call) capture(limit int) *capture { return &capture{limit: limit, redact: c.redact} }

func (cp *capture) Write(p []byte) (int, error) {
	if room := cp.limit + captureSlack - cp.raw.Len(); room < len(p) {
		cp.overflow = true
		cp.raw.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return cp.raw.Write(p)
}

// result is the output scrubbed and cut to the limit, and whether it was cut.
func (cp *capture) result() (text string, truncated bool) {
	text = cp.redact(cp.raw.String())
	if len(text) > cp.limit {
		return text[:cp.limit], true
	}
	return text, cp.overflow
}

func timeout(seconds int) (time.Duration, error) {
	switch {
	case seconds == 0:
		return defaultTimeout * time.Second, nil
	case seconds < 0 || seconds > maxTimeout:
		return 0, fmt.Errorf("timeout_seconds must be between 1 and %d", maxTimeout)
	}
	return time.Duration(seconds) * time.Second, nil
}

type runCommandInput struct {
	Argv           []string          `json:"argv,omitempty" jsonschema:"the program and its arguments, run without a shell"`
	Command        string            `json:"command,omitempty" jsonschema:"a shell command line, run with /bin/sh -c; give this or argv"`
	Cwd            string            `json:"cwd,omitempty" jsonschema:"the working directory; default: kazzle mcp's"`
	Env            map[string]string `json:"env,omitempty" jsonschema:"extra environment variables; values may hold references"`
	Stdin          string            `json:"stdin,omitempty" jsonschema:"text given to the command on standard input"`
	TimeoutSeconds int               `json:"timeout_seconds,omitempty" jsonschema:"the time limit, 60 by default, at most 600; the command and its children are killed after it"`
}

type runCommandOutput struct {
	ExitCode      int       `json:"exit_code" jsonschema:"the exit status; -1 when the command was killed"`
	Stdout        string    `json:"stdout"`
	Stderr        string    `json:"stderr"`
	TimedOut      bool      `json:"timed_out,omitempty"`
	Truncated     bool      `json:"truncated,omitempty" jsonschema:"stdout or stderr was longer than kazzle returns"`
	Exposed       []string  `json:"exposed,omitempty" jsonschema:"the references of unbound secrets whose values the command was given: it could keep or send them anywhere"`
	Placeholdered []string  `json:"placeholdered,omitempty" jsonschema:"the references of secrets bound to hosts: the command got a placeholder, which kazzle's proxy replaced by the value only in HTTPS requests to those hosts"`
	Refused       []refusal `json:"refused,omitempty" jsonschema:"requests the proxy answered 403 and did not send: they carried a secret's placeholder to a host the secret is not bound to"`
}

// refusal is a request the proxy refused: the secret it carried and where it was going.
type refusal struct {
	Secret string `json:"secret" jsonschema:"the secret's reference"`
	Host   string `json:"host" jsonschema:"scheme://host:port the request was sent to"`
}

// inherited are the variables of kazzle mcp's own environment a command gets: what
// programs need to run, nothing that may hold a credential.
var inherited = []string{"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TMPDIR", "TZ"}

func (t *tools) commandEnv(extra map[string]string) []string {
	var env []string
	for _, kv := range t.o.Environ {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(inherited, name) || strings.HasPrefix(name, "LC_") {
			if _, overridden := extra[name]; !overridden {
				env = append(env, kv)
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		env = append(env, k+"="+extra[k])
	}
	return env
}

func (t *tools) runCommand(ctx context.Context, _ *sdk.CallToolRequest, in runCommandInput) (*sdk.CallToolResult, runCommandOutput, error) {
	if (len(in.Argv) == 0) == (in.Command == "") {
		return nil, runCommandOutput{}, errors.New("give either argv (a program and its arguments) or command (a shell line)")
	}
	limit, err := timeout(in.TimeoutSeconds)
	if err != nil {
		return nil, runCommandOutput{}, err
	}
	argv := in.Argv
	if in.Command != "" {
		argv = []string{"/bin/sh", "-c", in.Command}
	}
	envKeys := slices.Sorted(maps.Keys(in.Env))
	for _, k := range envKeys {
		// A secret may never set a variable that changes how the command loads code or
		// where it sends requests, whichever way it arrives.
		if secret.IsReservedVar(k) && secret.HasReferences(in.Env[k]) {
			return nil, runCommandOutput{}, fmt.Errorf("env %s: a secret may not set this variable (it changes where programs find code, proxies or certificates); pass the reference in another variable", k)
		}
	}
	texts := append(append([]string{in.Cwd, in.Stdin}, argv...), valuesOf(in.Env, envKeys)...)
	texts, c, err := t.substitute(ctx, texts, true)
	if err != nil {
		return nil, runCommandOutput{}, err
	}
	cwd, stdin, argv := texts[0], texts[1], texts[2:2+len(argv)]
	env := map[string]string{}
	for i, k := range envKeys {
		env[k] = texts[2+len(argv)+i]
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	// Every command runs with the call's proxy, whose variables win over the call's env:
	// they are kazzle's, never a secret's.
	p, err := t.startProxy(ctx, c)
	if err != nil {
		return nil, runCommandOutput{}, c.fail("start the proxy: %v", err)
	}
	defer p.Close()
	for _, kv := range p.Env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env, cmd.Stdin = cwd, t.commandEnv(env), strings.NewReader(stdin)
	// Its own process group, so the time limit kills what it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	stdout, stderr := c.capture(t.o.MaxOutput), c.capture(t.o.MaxOutput)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	// The proxy ends with the command; what it refused is known once it has.
	p.Close()
	out := runCommandOutput{ExitCode: cmd.ProcessState.ExitCode(), TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded), Exposed: c.exposed}
	for _, pr := range c.proxied {
		out.Placeholdered = append(out.Placeholdered, pr.ref)
	}
	for _, r := range p.Refused() {
		out.Refused = append(out.Refused, refusal{Secret: r.Ref, Host: r.Scheme + "://" + r.Host})
	}
	var cutOut, cutErr bool
	out.Stdout, cutOut = stdout.result()
	out.Stderr, cutErr = stderr.result()
	out.Truncated = cutOut || cutErr
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !out.TimedOut {
		// It did not start; the error names the program, which may hold a value.
		return nil, runCommandOutput{}, c.fail("run %s: %v", argv[0], err)
	}
	return nil, out, nil
}

// startProxy starts the call's proxy: it holds the values the command got placeholders
// for, verifies hosts against the roots kazzle mcp trusts (its SSL_CERT_FILE, else the
// system's), and gives the command those roots and its own CA, which may sign only for
// the hosts the values are bound to. Its CA bundle is in a folder of its own, removed
// when it closes.
func (t *tools) startProxy(ctx context.Context, c *call) (*proxy.Proxy, error) {
	o := proxy.Options{Strict: t.o.Strict}
	if err := o.Trust(lookupEnv(t.o.Environ, "SSL_CERT_FILE")); err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, pr := range c.proxied {
		o.Secrets = append(o.Secrets, proxy.Secret{Ref: pr.ref, Value: pr.value, Placeholder: pr.placeholder, Allows: func(scheme, host string, port int) bool {
			return secret.AllowedByAll(pr.hosts, scheme, host, port)
		}})
		for _, h := range pr.hosts {
			for _, e := range h {
				names[e] = true
			}
		}
	}
	o.Names = slices.Sorted(maps.Keys(names))
	return proxy.Start(ctx, o)
}

// lookupEnv is the value of name in env, the last one set.
func lookupEnv(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

func valuesOf(m map[string]string, keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

type httpRequestInput struct {
	Method         string            `json:"method,omitempty" jsonschema:"GET by default"`
	URL            string            `json:"url" jsonschema:"an http or https URL; may hold references"`
	Headers        map[string]string `json:"headers,omitempty" jsonschema:"request headers; values may hold references"`
	Body           string            `json:"body,omitempty" jsonschema:"the request body; may hold references"`
	TimeoutSeconds int               `json:"timeout_seconds,omitempty" jsonschema:"the time limit, 60 by default, at most 600"`
}

type httpRequestOutput struct {
	Status    int               `json:"status"`
	Headers   map[string]string `json:"headers" jsonschema:"response headers, several values joined by ', '"`
	Body      string            `json:"body"`
	Truncated bool              `json:"truncated,omitempty" jsonschema:"the body was longer than kazzle returns"`
	Exposed   []string          `json:"exposed,omitempty" jsonschema:"the references whose values were sent in the request"`
}

var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

func (t *tools) httpRequest(ctx context.Context, _ *sdk.CallToolRequest, in httpRequestInput) (*sdk.CallToolResult, httpRequestOutput, error) {
	method := strings.ToUpper(in.Method)
	if method == "" {
		method = "GET"
	}
	if !slices.Contains(methods, method) {
		return nil, httpRequestOutput{}, fmt.Errorf("method %q: use one of %s", in.Method, strings.Join(methods, ", "))
	}
	limit, err := timeout(in.TimeoutSeconds)
	if err != nil {
		return nil, httpRequestOutput{}, err
	}
	headerKeys := slices.Sorted(maps.Keys(in.Headers))
	texts, c, err := t.substitute(ctx, append([]string{in.URL, in.Body}, valuesOf(in.Headers, headerKeys)...), false)
	if err != nil {
		return nil, httpRequestOutput{}, err
	}
	if !strings.HasPrefix(texts[0], "http://") && !strings.HasPrefix(texts[0], "https://") {
		return nil, httpRequestOutput{}, c.fail("url %s: only http and https URLs", in.URL)
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, texts[0], strings.NewReader(texts[1]))
	if err != nil {
		return nil, httpRequestOutput{}, c.fail("%s %s: %v", method, in.URL, withoutURL(err))
	}
	// A bound value goes only to its hosts; a redirect is followed to the same origin
	// only, so this one check covers every request the call makes.
	if err := c.refuseHost(req.URL, in.URL); err != nil {
		return nil, httpRequestOutput{}, err
	}
	normalizeHost(req.URL)
	for i, k := range headerKeys {
		req.Header.Set(k, texts[2+i])
	}
	resp, err := t.o.HTTPClient.Do(req)
	if err != nil {
		return nil, httpRequestOutput{}, c.fail("%s %s: %v", method, in.URL, withoutURL(err))
	}
	defer resp.Body.Close()
	body := c.capture(t.o.MaxOutput)
	if _, err := io.Copy(body, io.LimitReader(resp.Body, int64(t.o.MaxOutput+captureSlack+1))); err != nil {
		return nil, httpRequestOutput{}, c.fail("read the response: %v", err)
	}
	out := httpRequestOutput{Status: resp.StatusCode, Headers: map[string]string{}, Exposed: c.exposed}
	out.Body, out.Truncated = body.result()
	for k, vs := range resp.Header {
		out.Headers[c.redact(k)] = c.redact(strings.Join(vs, ", "))
	}
	return nil, out, nil
}

// hostAsWritten is the host and port of a URL as the assistant wrote it: between the
// scheme and the path, without user information.
func hostAsWritten(rawURL string) string {
	_, rest, _ := strings.Cut(rawURL, "://")
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}

// withoutURL is err without the URL a *url.Error names: Go writes it quoted (\x01 for a
// control byte) or re-encoded as a path (%20 for a space, a / left as it is), spellings
// of the substituted values that scrubbing does not know. The caller names the URL as
// the assistant wrote it, with its references.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// maxRedirects is how many same-origin redirects a request follows, as browsers cap them.
const maxRedirects = 10

// sameOriginRedirects returns a copy of hc that follows a redirect only to the origin
// (scheme, host and port) of the first request, so that the headers and body it copies
// go nowhere else; any other 3xx comes back as it is.
func sameOriginRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > maxRedirects || origin(req.URL) != origin(via[0].URL) {
			return http.ErrUseLastResponse
		}
		// The host as the first request spelled it, which the bindings were checked
		// against (see normalizeHost).
		req.URL.Host = via[0].URL.Host
		return nil
	}
	return &c
}

// normalizeHost writes u's host in the form the bindings were checked against
// (secret.NormalHost), so that the request goes exactly there: an HTTP proxy from the
// environment passes localhost but not LOCALHOST or localhost., and would carry a
// value bound to a loopback port in plain text to another machine.
func normalizeHost(u *url.URL) {
	name, ok := secret.NormalHost(u.Hostname())
	if !ok {
		return
	}
	if port := u.Port(); port != "" {
		u.Host = net.JoinHostPort(name, port)
	} else if strings.Contains(name, ":") {
		u.Host = "[" + name + "]"
	} else {
		u.Host = name
	}
}

// origin is u's scheme, host and port, the port made explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")) + ":" + port
}
