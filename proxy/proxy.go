// Package proxy is a substituting HTTPS proxy for one call: a process is given
// placeholders instead of secret values, and HTTPS_PROXY pointing at a proxy on loopback
// that puts the values in place of the placeholders only in requests to the hosts each
// secret is bound to, so the process never holds a value.
//
// The proxy URL carries a credential made for the call; a request without it gets 407,
// so other local processes cannot use the proxy.
//
// For a host some secret is bound to, the proxy terminates TLS with a certificate its own
// CA signs (the CA is made for the call, its key never leaves memory, and the bundle the
// process trusts holds only public certificates). The CONNECT host, the TLS server name
// and the Host header must agree (else 421, or a failed handshake), and only HTTP/1.1 is
// spoken: HTTP/2 gets 505 and protocol upgrades (WebSocket) 501. Each request is read
// with net/http and written anew: placeholders are replaced in header values
// (Authorization: Basic decoded), the path, the query, and textual bodies (JSON, forms,
// text/*, XML) up to Options.MaxBody, each value escaped as its place needs; larger or
// non-textual bodies stream untouched. The value goes only over TLS verified against
// Options.RootCAs. Values in the answer are put back as placeholders, in every encoding
// redact knows, headers and body, streamed without a size limit. A placeholder headed to
// a host its secret is not bound to is never replaced: the request is answered 403,
// naming the secret and the host, recorded in Refused, and not sent.
//
// Connections to hosts no secret is bound to are tunnelled byte for byte, so pinned and
// mutual-TLS clients keep working; a placeholder sent there reaches the host as it is,
// which fails closed. Plain http requests are forwarded; a placeholder in one is
// replaced only where its secret allows http (loopback, a given port) and never under
// Options.Strict, else 403. The proxy logs nothing, and its errors hold no value.
package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/net/netutil"

	"github.com/kazzle/kazzle/redact"
)

// Secret is one value the proxy may substitute.
type Secret struct {
	Ref         string // ${secret.<id>.<field>}, for messages
	Name        string // the secret's name, for messages; may be empty
	Value       string
	Placeholder string // from Placeholder; what the process holds instead of Value
	// Allows reports whether Value may be sent to scheme://host:port: the secret's hosts
	// binding. nil: never substitute.
	Allows func(scheme, host string, port int) bool
}

// Refusal is a placeholder the proxy did not replace because its secret may not be sent
// where the request was going; the request was answered 403 and not sent.
type Refusal struct {
	Ref, Name string
	Scheme    string // https or http
	Host      string // host:port
}

// Options configure a proxy.
type Options struct {
	Secrets []Secret
	// RootCAs verify the certificates of the hosts the proxy sends substituted requests
	// to; nil: the system's.
	RootCAs *x509.CertPool
	// ExtraRootsPEM are the roots the process trusts besides the proxy's CA, for the
	// hosts whose connections are tunnelled: its SSL_CERT_FILE or the system's roots.
	// nil: the file SSL_CERT_FILE names, else the system's bundle file. Only the
	// certificates in it are kept.
	ExtraRootsPEM []byte
	// Dir is a folder only this user may open, for the CA bundle; "" makes a temporary
	// one, removed by Close.
	Dir string
	// Names, when set, are the only hosts the proxy's CA can sign for (its name
	// constraints): the hosts entries of the secrets (host, host:port, *.suffix,
	// http://host:port; scheme and port are ignored). A host a secret allows that Names
	// lacks fails the process's TLS check, closed. nil: no constraints.
	Names []string
	// Strict never substitutes over plain http, whatever a secret allows.
	Strict bool
	// MaxBody is the largest textual request body the proxy substitutes in (default
	// DefaultMaxBody); larger or non-textual bodies are streamed untouched.
	MaxBody int64

	// dial reaches host:port for requests and tunnels; tests point names at loopback.
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Trust sets RootCAs and ExtraRootsPEM to the certificates in file, the SSL_CERT_FILE of
// the program that starts the proxy, so that the proxy and the process trust what it
// trusts; "" leaves both to the system's roots.
func (o *Options) Trust(file string) error {
	if file == "" {
		return nil
	}
	roots, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read SSL_CERT_FILE: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(roots) {
		return fmt.Errorf("SSL_CERT_FILE %s holds no certificate", file)
	}
	o.RootCAs, o.ExtraRootsPEM = pool, roots
	return nil
}

// DefaultMaxBody is the default Options.MaxBody.
const DefaultMaxBody = 16 << 20

// Limits of a proxy.
const (
	maxConns          = 256     // connections from the process at once
	maxHeaderBytes    = 1 << 20 // of a request's or a response's header
	readHeaderTimeout = 30 * time.Second
	idleTimeout       = 2 * time.Minute  // between requests on a kept-alive connection
	tunnelIdle        = 10 * time.Minute // a tunnel with no byte either way
	handshakeTimeout  = 15 * time.Second
	dialTimeout       = 30 * time.Second
	// responseTimeout is how long an upstream may take to begin its answer: model APIs
	// may think for minutes before the first byte of a response that is not streamed.
	responseTimeout = 10 * time.Minute
)

// closeGrace is how long Close waits for requests and tunnels under way.
var closeGrace = 5 * time.Second

// Proxy is a running proxy. Its methods are safe for concurrent use.
type Proxy struct {
	secrets []Secret
	strict  bool
	maxBody int64
	dial    func(ctx context.Context, network, addr string) (net.Conn, error)

	url    string // with the credential
	user   string
	pass   string
	ca     *authority
	dir    string
	ownDir bool
	bundle string

	outer, inner *http.Server
	innerLn      *connListener
	upstream     *http.Transport

	// placeholders finds the placeholders; a match's id is the secret's index.
	placeholders *redact.Matcher
	// Replacers of placeholders by values as each part of a request spells them.
	raw, json, query, path *redact.Replacer
	// back replaces values, in every encoded form, by their placeholders.
	back *redact.Replacer

	mu      sync.Mutex
	refused []Refusal
	conns   map[net.Conn]struct{} // hijacked from the outer server
	closed  bool
	wg      sync.WaitGroup // goroutines that own hijacked connections

	closeOnce sync.Once
	closeErr  error
	stop      func() bool
}

// Start starts a proxy listening on a random port of 127.0.0.1, and writes its CA bundle.
// It stops when ctx ends or Close is called.
func Start(ctx context.Context, o Options) (*Proxy, error) {
	p := &Proxy{
		secrets: o.Secrets,
		strict:  o.Strict,
		maxBody: o.MaxBody,
		dial:    o.dial,
		conns:   map[net.Conn]struct{}{},
	}
	if p.maxBody <= 0 {
		p.maxBody = DefaultMaxBody
	}
	if p.dial == nil {
		p.dial = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	}
	if err := p.compile(); err != nil {
		return nil, err
	}
	var err error
	if p.pass, err = randomString(minRandom); err != nil {
		return nil, fmt.Errorf("make the proxy credential: %w", err)
	}
	p.user = "kazzle"
	if p.ca, err = newAuthority(o.Names); err != nil {
		return nil, err
	}
	if err := p.writeBundle(o); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		p.removeBundle()
		return nil, fmt.Errorf("listen: %w", err)
	}
	p.url = (&url.URL{Scheme: "http", User: url.UserPassword(p.user, p.pass), Host: ln.Addr().String()}).String()

	p.upstream = &http.Transport{
		Proxy:                  nil, // the proxy sends requests itself, never through another
		DialContext:            p.dial,
		TLSClientConfig:        tlsClientConfig(o.RootCAs),
		TLSHandshakeTimeout:    handshakeTimeout,
		ResponseHeaderTimeout:  responseTimeout,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConnsPerHost:    8,
		MaxResponseHeaderBytes: maxHeaderBytes,
		DisableCompression:     true,
	}
	p.outer = &http.Server{
		Handler:           http.HandlerFunc(p.serveOuter),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          discardLog,
	}
	p.innerLn = newConnListener(ln.Addr())
	p.inner = &http.Server{
		Handler:           http.HandlerFunc(p.serveInner),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ConnContext:       withTarget,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){}, // no HTTP/2
		ErrorLog:          discardLog,
	}
	limited := netutil.LimitListener(ln, maxConns)
	go p.outer.Serve(limited)
	go p.inner.Serve(p.innerLn)
	p.stop = context.AfterFunc(ctx, func() { p.Close() })
	return p, nil
}

// compile checks the secrets and builds what finds and replaces their placeholders.
func (p *Proxy) compile() error {
	pats := make([]string, len(p.secrets))
	var raw, js, query, path, back []redact.Replacement
	seen := map[string]bool{}
	for i, s := range p.secrets {
		switch {
		case s.Value == "":
			return fmt.Errorf("secret %s: empty value", label(s.Name, s.Ref))
		case utf8.RuneCountInString(s.Value) < redact.MinScrubLen:
			// Such a value turns up in answers by chance, so answers are not searched for
			// it, and a host that echoes it would hand it to the process.
			return fmt.Errorf("secret %s: a value bound to hosts has at least %d characters, or the proxy cannot keep it from the process", label(s.Name, s.Ref), redact.MinScrubLen)
		case len(s.Placeholder) < minRandom:
			return fmt.Errorf("secret %s: a placeholder has at least %d characters", label(s.Name, s.Ref), minRandom)
		case !placeholderText(s.Placeholder):
			return fmt.Errorf("secret %s: a placeholder is letters, digits and ._- only", label(s.Name, s.Ref))
		case seen[s.Placeholder]:
			return fmt.Errorf("secret %s: placeholder given twice", label(s.Name, s.Ref))
		}
		seen[s.Placeholder] = true
		pats[i] = s.Placeholder
		raw = append(raw, redact.Replacement{Value: s.Placeholder, With: s.Value})
		js = append(js, redact.Replacement{Value: s.Placeholder, With: redact.JSONString(s.Value)})
		query = append(query, redact.Replacement{Value: s.Placeholder, With: url.QueryEscape(s.Value)})
		path = append(path, redact.Replacement{Value: s.Placeholder, With: url.PathEscape(s.Value)})
		// With the runs at either end of a value, so that a host echoing it cut short
		// (an error quoting the first characters of a key) gives away no more than its
		// middle.
		back = append(back, redact.ScrubReplacements(s.Value, s.Placeholder)...)
	}
	for _, s := range p.secrets {
		for _, t := range p.secrets {
			if strings.Contains(s.Placeholder, t.Value) || strings.Contains(t.Value, s.Placeholder) {
				return fmt.Errorf("secret %s: placeholder and a value overlap", label(s.Name, s.Ref))
			}
		}
	}
	p.placeholders = redact.NewMatcher(pats)
	p.raw, p.json = redact.NewReplacer(raw), redact.NewReplacer(js)
	p.query, p.path = redact.NewReplacer(query), redact.NewReplacer(path)
	p.back = redact.NewReplacer(back)
	return nil
}

// label names a secret in messages: its name and reference, or the reference alone
// when the caller knows no name.
func label(name, ref string) string {
	if name == "" {
		return ref
	}
	return name + " (" + ref + ")"
}

// placeholderText reports whether s needs no escaping in a URL, a header or JSON.
func placeholderText(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// URL is the proxy's address with its credential, http://kazzle:<random>@127.0.0.1:port.
func (p *Proxy) URL() string { return p.url }

// CAFile is the path of the CA bundle: the roots the process trusts and the proxy's CA.
func (p *Proxy) CAFile() string { return p.bundle }

// Env is the environment that sends a process's requests through the proxy and makes it
// trust the proxy's CA: the proxy variables of curl, Python, Go, git and Node (22.21 and
// later, with NODE_USE_ENV_PROXY), and the CA bundle variables of OpenSSL, Python
// requests, curl, git and Node.
func (p *Proxy) Env() []string {
	var env []string
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"} {
		env = append(env, k+"="+p.url)
	}
	env = append(env, "NODE_USE_ENV_PROXY=1")
	for _, k := range []string{"SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"} {
		env = append(env, k+"="+p.bundle)
	}
	return env
}

// Refused returns the placeholders that were headed where their secret may not go, once
// per secret and host, in the order they came.
func (p *Proxy) Refused() []Refusal {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Refusal(nil), p.refused...)
}

func (p *Proxy) refuse(r Refusal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, q := range p.refused {
		if q == r {
			return
		}
	}
	p.refused = append(p.refused, r)
}

// Close stops listening, waits a few seconds for requests and tunnels under way, closes
// what remains, and removes the CA bundle.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		p.stop()
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		var errs []error
		if err := p.outer.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
		p.outer.Close()
		if err := p.inner.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
		p.inner.Close()
		done := make(chan struct{})
		go func() { p.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
		p.mu.Lock()
		for c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		<-done
		p.upstream.CloseIdleConnections()
		if err := p.removeBundle(); err != nil {
			errs = append(errs, fmt.Errorf("remove the CA bundle: %w", err))
		}
		p.closeErr = errors.Join(errs...)
	})
	return p.closeErr
}

// track keeps c, hijacked from the outer server, for Close; false if the proxy is closing.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.conns[c]; ok {
		delete(p.conns, c)
		p.wg.Done()
	}
}
