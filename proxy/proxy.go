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
	"bufio"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
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
		js = append(js, redact.Replacement{Value: s.Placeholder, With: jsonString(s.Value)})
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

// writeBundle writes the roots the process trusts, and the proxy's CA, to a file of its
// own in a private folder.
func (p *Proxy) writeBundle(o Options) error {
	roots := o.ExtraRootsPEM
	if roots == nil {
		roots = systemRootsPEM()
	}
	var buf []byte
	for rest := roots; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" && len(b.Headers) == 0 {
			buf = append(buf, pem.EncodeToMemory(b)...)
		}
	}
	buf = append(buf, p.ca.pem...)

	p.dir = o.Dir
	if p.dir == "" {
		d, err := os.MkdirTemp("", "kazzle-proxy-")
		if err != nil {
			return fmt.Errorf("make a folder for the CA bundle: %w", err)
		}
		p.dir, p.ownDir = d, true
	} else {
		fi, err := os.Stat(p.dir)
		if err != nil {
			return fmt.Errorf("folder for the CA bundle: %w", err)
		}
		if !fi.IsDir() || fi.Mode().Perm()&0o077 != 0 {
			return fmt.Errorf("folder for the CA bundle: %s is not a folder only its owner may open", p.dir)
		}
	}
	name, err := randomString(16)
	if err != nil {
		return err
	}
	p.bundle = filepath.Join(p.dir, "ca-"+name+".pem")
	f, err := os.OpenFile(p.bundle, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		_, err = f.Write(buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		p.removeBundle()
		return fmt.Errorf("write the CA bundle: %w", err)
	}
	return nil
}

// systemRootsPEM reads the bundle file SSL_CERT_FILE names, else the first of the
// usual system bundle files there is; nil if none.
func systemRootsPEM() []byte {
	files := []string{
		"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch, Gentoo
		"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
		"/etc/ssl/ca-bundle.pem",             // openSUSE
		"/etc/ssl/cert.pem",                  // macOS, Alpine, BSDs
		"/etc/pki/tls/cacert.pem",
	}
	if f := os.Getenv("SSL_CERT_FILE"); f != "" {
		files = append([]string{f}, files...)
	}
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && len(b) > 0 {
			return b
		}
	}
	return nil
}

func (p *Proxy) removeBundle() error {
	if p.ownDir {
		return os.RemoveAll(p.dir)
	}
	if p.bundle != "" {
		if err := os.Remove(p.bundle); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
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

// authorized reports whether r carries the proxy's credential.
func (p *Proxy) authorized(r *http.Request) bool {
	scheme, enc, ok := strings.Cut(r.Header.Get("Proxy-Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return false
	}
	user, pass, _ := strings.Cut(string(dec), ":")
	return subtle.ConstantTimeCompare([]byte(user), []byte(p.user))&
		subtle.ConstantTimeCompare([]byte(pass), []byte(p.pass)) == 1
}

// serveOuter answers what the process sends the proxy: CONNECT, or a plain http request.
func (p *Proxy) serveOuter(w http.ResponseWriter, r *http.Request) {
	if !p.authorized(r) {
		w.Header().Set("Proxy-Authenticate", `Basic realm="kazzle"`)
		refuse(w, http.StatusProxyAuthRequired, "kazzle proxy: this proxy takes the credential in the proxy URL it was given")
		return
	}
	if r.ProtoMajor != 1 {
		refuse(w, http.StatusHTTPVersionNotSupported, "kazzle proxy: the proxy speaks HTTP/1.1 only")
		return
	}
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		refuse(w, http.StatusBadRequest, "kazzle proxy: send an absolute http:// URL, or CONNECT for https")
		return
	}
	host, port, err := splitHostPort(r.URL.Host, 80)
	if err != nil {
		refuse(w, http.StatusBadRequest, "kazzle proxy: "+err.Error())
		return
	}
	p.forward(w, r, target{scheme: "http", host: host, port: port})
}

// bound reports whether some secret may be sent to scheme://host:port.
func (p *Proxy) bound(scheme, host string, port int) bool {
	for _, s := range p.secrets {
		if s.Allows != nil && s.Allows(scheme, host, port) {
			return true
		}
	}
	return false
}

// connect opens a tunnel: one the proxy reads, when a secret is bound to its host, or a
// byte copy to the host.
func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := splitHostPort(r.Host, 0)
	if err != nil {
		refuse(w, http.StatusBadRequest, "kazzle proxy: CONNECT "+err.Error())
		return
	}
	t := target{scheme: "https", host: host, port: port}
	var up net.Conn
	if !p.bound("https", host, port) {
		ctx, cancel := context.WithTimeout(r.Context(), dialTimeout)
		up, err = p.dial(ctx, "tcp", t.authority())
		cancel()
		if err != nil {
			refuse(w, http.StatusBadGateway, "kazzle proxy: "+t.authority()+": "+p.back.Replace(err.Error()))
			return
		}
	}
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		if up != nil {
			up.Close()
		}
		refuse(w, http.StatusInternalServerError, "kazzle proxy: cannot take over the connection")
		return
	}
	if !p.track(c) {
		c.Close()
		if up != nil {
			up.Close()
		}
		return
	}
	c.SetDeadline(time.Time{})
	// The client may send its first bytes before it reads the 200; they are in brw.
	bc := &bufferedConn{Conn: c, r: brw.Reader}
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		p.closeTracked(c, up)
		return
	}
	if up != nil {
		go func() {
			defer p.closeTracked(c, up)
			tunnel(bc, up)
		}()
		return
	}
	go p.terminate(bc, c, t)
}

func (p *Proxy) closeTracked(c, up net.Conn) {
	c.Close()
	if up != nil {
		up.Close()
	}
	p.untrack(c)
}

// terminate ends the process's TLS on c with a certificate for t's host and hands the
// connection to the inner server, which reads the requests in it.
func (p *Proxy) terminate(bc *bufferedConn, raw net.Conn, t target) {
	tc := tls.Server(bc, &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			if hello.ServerName == "" && net.ParseIP(t.host) == nil {
				return nil, errors.New("kazzle proxy: no server name in the TLS hello")
			}
			if hello.ServerName != "" && !strings.EqualFold(hello.ServerName, t.host) {
				return nil, fmt.Errorf("kazzle proxy: TLS server name %q is not the CONNECT host %q", hello.ServerName, t.host)
			}
			return p.ca.leaf(strings.ToLower(t.host))
		},
	})
	tc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		p.closeTracked(raw, nil)
		return
	}
	tc.SetDeadline(time.Time{})
	mc := &mitmConn{Conn: tc, t: t, done: func() { p.untrack(raw) }}
	if !p.innerLn.push(mc) {
		mc.Close()
	}
}

// tunnel copies bytes both ways until either side is done or idle for tunnelIdle.
func tunnel(c, up net.Conn) {
	done := make(chan struct{}, 2)
	go func() {
		io.Copy(up, idleReader{c})
		if cw, ok := up.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite() // the client is done sending; the answer may still come
		} else {
			up.Close()
		}
		done <- struct{}{}
	}()
	go func() {
		io.Copy(c, idleReader{up})
		c.Close()
		up.Close()
		done <- struct{}{}
	}()
	<-done
	<-done
}

// idleReader ends a read that waits longer than tunnelIdle.
type idleReader struct{ c net.Conn }

func (r idleReader) Read(b []byte) (int, error) {
	r.c.SetReadDeadline(time.Now().Add(tunnelIdle))
	return r.c.Read(b)
}

// bufferedConn reads first what the outer server had buffered.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(b []byte) (int, error) {
	if c.r != nil && c.r.Buffered() > 0 {
		return c.r.Read(b)
	}
	return c.Conn.Read(b)
}

// target is where a request goes.
type target struct {
	scheme string
	host   string // lower case, no brackets
	port   int
}

func (t target) authority() string { return net.JoinHostPort(t.host, strconv.Itoa(t.port)) }

func (t target) String() string { return t.scheme + "://" + t.authority() }

// splitHostPort parses host[:port]; defPort 0 requires the port.
func splitHostPort(hostport string, defPort int) (string, int, error) {
	host, ps, err := net.SplitHostPort(hostport)
	if err != nil {
		if defPort == 0 || strings.Count(hostport, ":") > 0 && !strings.HasPrefix(hostport, "[") {
			return "", 0, fmt.Errorf("%q is not host:port", hostport)
		}
		host, ps = strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), strconv.Itoa(defPort)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 1 || port > 65535 || host == "" {
		return "", 0, fmt.Errorf("%q is not host:port", hostport)
	}
	return strings.ToLower(host), port, nil
}

// refuse answers the proxy's own error: text, never a value.
func refuse(w http.ResponseWriter, code int, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Connection", "close")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}
