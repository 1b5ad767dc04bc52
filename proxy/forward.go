package proxy

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/kazzle/kazzle/redact"
)

var discardLog = log.New(io.Discard, "", 0)

func tlsClientConfig(roots *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
}

// serveInner answers a request read from a tunnel the proxy terminated.
func (p *Proxy) serveInner(w http.ResponseWriter, r *http.Request) {
	t, _ := r.Context().Value(targetKey{}).(target)
	if r.Method == http.MethodConnect {
		refuse(w, http.StatusBadRequest, "kazzle proxy: CONNECT inside a tunnel")
		return
	}
	if r.ProtoMajor != 1 {
		refuse(w, http.StatusHTTPVersionNotSupported, fmt.Sprintf("kazzle proxy: %s: the proxy reads HTTP/1.1 only; use HTTP/1.1", t))
		return
	}
	// The host the request names must be the one the tunnel was opened to and TLS was
	// terminated for, so that a secret bound to one host never goes to another.
	host, port, err := splitHostPort(r.Host, 443)
	if err == nil && r.URL.Host != "" && !strings.EqualFold(r.URL.Host, r.Host) {
		err = errors.New("mismatch")
	}
	if err != nil || host != t.host || port != t.port {
		refuse(w, http.StatusMisdirectedRequest, fmt.Sprintf("kazzle proxy: the request names host %q, the tunnel was opened to %s; nothing was sent", r.Host, t.authority()))
		return
	}
	p.forward(w, r, t)
}

// forward sends r on to t with the placeholders in it replaced, or answers 403 when one
// of them may not go there, and passes the answer back with values made placeholders.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, t target) {
	if r.ProtoMajor != 1 {
		refuse(w, http.StatusHTTPVersionNotSupported, fmt.Sprintf("kazzle proxy: %s: the proxy reads HTTP/1.1 only; use HTTP/1.1", t))
		return
	}
	if r.Header.Get("Upgrade") != "" {
		refuse(w, http.StatusNotImplemented, fmt.Sprintf("kazzle proxy: %s: protocol upgrades (WebSocket, h2c) are not passed on to hosts that secrets are bound to", t))
		return
	}
	found := map[int]bool{}

	// Headers, with the user and password of Basic authorization decoded.
	h := r.Header.Clone()
	removeHopByHop(h)
	for k, vs := range h {
		for _, v := range vs {
			p.find(found, v)
			if k == "Authorization" {
				if dec, ok := basicCredentials(v); ok {
					p.find(found, dec)
				}
			}
		}
	}
	p.find(found, r.URL.EscapedPath())
	p.find(found, r.URL.RawQuery)

	// A textual body up to maxBody; anything else streams untouched.
	var body []byte
	var rest io.Reader = r.Body
	replacer := p.bodyReplacer(h.Get("Content-Type"), h.Get("Content-Encoding"))
	if replacer != nil && r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(r.Body, p.maxBody+1))
		if err != nil {
			refuse(w, http.StatusBadRequest, "kazzle proxy: reading the request body: "+err.Error())
			return
		}
		if int64(len(b)) <= p.maxBody {
			body, rest = b, nil
			if h.Get("Content-Type") == "" && !utf8.Valid(b) {
				replacer = nil // not text after all
			} else {
				p.find(found, string(b))
			}
		} else {
			rest = io.MultiReader(bytes.NewReader(b), r.Body)
		}
	}

	// Every placeholder found must be allowed where the request goes.
	var refused []Refusal
	for i := range p.secrets {
		if found[i] && !p.allows(i, t) {
			s := p.secrets[i]
			refused = append(refused, Refusal{Ref: s.Ref, Name: s.Name, Scheme: t.scheme, Host: t.authority()})
		}
	}
	if len(refused) > 0 {
		var msg strings.Builder
		for _, f := range refused {
			p.refuse(f)
			fmt.Fprintf(&msg, "kazzle proxy: refused: secret %s may not be sent to %s; nothing was sent\n", label(f.Name, f.Ref), t)
		}
		refuse(w, http.StatusForbidden, strings.TrimSuffix(msg.String(), "\n"))
		return
	}

	out := &http.Request{
		Method:     r.Method,
		URL:        &url.URL{Scheme: t.scheme, Host: t.authority()},
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     h,
		Host:       r.Host,
	}
	if len(found) > 0 {
		for k, vs := range h {
			for i, v := range vs {
				if k == "Authorization" {
					if dec, ok := basicCredentials(v); ok {
						vs[i] = "Basic " + base64.StdEncoding.EncodeToString([]byte(p.raw.Replace(dec)))
						continue
					}
				}
				vs[i] = p.raw.Replace(v)
				if !httpguts.ValidHeaderFieldValue(vs[i]) {
					refuse(w, http.StatusBadRequest, fmt.Sprintf("kazzle proxy: a value cannot go in header %s", k))
					return
				}
			}
		}
	}
	escPath := r.URL.EscapedPath()
	if len(found) > 0 {
		escPath = p.path.Replace(escPath)
	}
	var err error
	if out.URL.Path, err = url.PathUnescape(escPath); err != nil {
		refuse(w, http.StatusBadRequest, "kazzle proxy: the request path is not escaped right")
		return
	}
	out.URL.RawPath = escPath
	out.URL.RawQuery = r.URL.RawQuery
	if len(found) > 0 {
		out.URL.RawQuery = p.query.Replace(out.URL.RawQuery)
	}

	switch {
	case rest == nil:
		if len(found) > 0 && replacer != nil {
			body = []byte(replacer.Replace(string(body)))
		}
		out.ContentLength = int64(len(body))
		if len(body) > 0 {
			out.Body = io.NopCloser(bytes.NewReader(body))
		}
	case r.ContentLength == 0:
	default:
		out.Body = io.NopCloser(rest)
		out.ContentLength = r.ContentLength // -1 when unknown: sent chunked
	}
	h.Set("Accept-Encoding", "identity") // so that the answer can be read for values
	out = out.WithContext(r.Context())

	resp, err := p.upstream.RoundTrip(out)
	if err != nil {
		if r.Context().Err() != nil {
			return // the process went away
		}
		refuse(w, http.StatusBadGateway, "kazzle proxy: "+t.String()+": "+p.back.Replace(err.Error()))
		return
	}
	defer resp.Body.Close()
	p.answer(w, r, resp, t)
}

// answer passes resp back with every value, in every encoding, made its placeholder; the
// body streams, so an answer of any length passes, a server-sent event as it comes.
func (p *Proxy) answer(w http.ResponseWriter, r *http.Request, resp *http.Response, t target) {
	var body io.Reader = resp.Body
	// Every Content-Encoding header counts, as the process reads them: given twice
	// (identity, then gzip), the first alone would pass compressed values on.
	switch enc := strings.ToLower(strings.TrimSpace(strings.Join(resp.Header.Values("Content-Encoding"), ", "))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil && !bodyless(r, resp) {
			refuse(w, http.StatusBadGateway, fmt.Sprintf("kazzle proxy: %s answered gzip that does not decompress", t))
			return
		}
		if zr != nil {
			body = zr
		}
		resp.Header.Del("Content-Encoding")
	case "deflate":
		zr, err := zlib.NewReader(resp.Body)
		if err != nil && !bodyless(r, resp) {
			refuse(w, http.StatusBadGateway, fmt.Sprintf("kazzle proxy: %s answered deflate that does not decompress", t))
			return
		}
		if zr != nil {
			body = zr
		}
		resp.Header.Del("Content-Encoding")
	default:
		// An answer the proxy cannot read could carry a value back to the process.
		refuse(w, http.StatusBadGateway, fmt.Sprintf("kazzle proxy: %s answered in Content-Encoding %q, which the proxy cannot read, though asked for identity; nothing of the answer was passed on", t, enc))
		return
	}
	removeHopByHop(resp.Header)
	dst := w.Header()
	for k, vs := range resp.Header {
		for _, v := range vs {
			dst.Add(k, p.back.Replace(v))
		}
	}
	if !bodyless(r, resp) {
		// Values and placeholders differ in length.
		dst.Del("Content-Length")
	}
	w.WriteHeader(resp.StatusCode)
	if bodyless(r, resp) {
		return
	}
	fw := flushWriter{w: w, rc: http.NewResponseController(w)}
	red := p.back.Writer(fw)
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := red.Write(buf[:n]); werr != nil {
				return // the process went away
			}
			fw.rc.Flush()
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// Break the process's connection too, so that it sees an answer cut short
			// rather than a whole one, and without the bytes held back for a value.
			panic(http.ErrAbortHandler)
		}
	}
	red.Close()
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

type flushWriter struct {
	w  io.Writer
	rc *http.ResponseController
}

func (f flushWriter) Write(b []byte) (int, error) { return f.w.Write(b) }

// bodyless reports whether resp has no body to pass on.
func bodyless(r *http.Request, resp *http.Response) bool {
	c := resp.StatusCode
	return r.Method == http.MethodHead || c == http.StatusNoContent || c == http.StatusNotModified || c >= 100 && c < 200
}

// allows reports whether secret i may be sent to t.
func (p *Proxy) allows(i int, t target) bool {
	s := p.secrets[i]
	if s.Allows == nil || t.scheme == "http" && p.strict {
		return false
	}
	return s.Allows(t.scheme, t.host, t.port)
}

// find adds to found the secrets whose placeholders s holds.
func (p *Proxy) find(found map[int]bool, s string) {
	b := []byte(s)
	for len(b) > 0 {
		i, id := p.placeholders.Index(b)
		if i < 0 {
			return
		}
		found[id] = true
		b = b[i+len(p.secrets[id].Placeholder):]
	}
}

// bodyReplacer returns the Replacer that puts values into a body of the content type, as
// its syntax spells them, or nil for a body the proxy does not read.
func (p *Proxy) bodyReplacer(contentType, contentEncoding string) *redact.Replacer {
	if contentEncoding != "" && !strings.EqualFold(contentEncoding, "identity") {
		return nil
	}
	if contentType == "" {
		return p.raw // read if it is UTF-8
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil
	}
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-ndjson" || mt == "application/jsonl":
		return p.json
	case mt == "application/x-www-form-urlencoded":
		return p.query
	case strings.HasPrefix(mt, "text/") || mt == "application/xml" || strings.HasSuffix(mt, "+xml") || mt == "application/graphql":
		return p.raw
	}
	return nil
}

// basicCredentials decodes the user:password of a Basic authorization.
func basicCredentials(v string) (string, bool) {
	scheme, enc, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", false
	}
	return string(dec), true
}

// hopByHop are the headers of one connection, not of the request or the answer, and the
// ones net/http writes itself from the body it is given.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade", "Expect", "Content-Length",
}

func removeHopByHop(h http.Header) {
	for _, v := range h.Values("Connection") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.TrimSpace(name); name != "" && !slices.Contains(hopByHop, http.CanonicalHeaderKey(name)) {
				h.Del(name)
			}
		}
	}
	for _, k := range hopByHop {
		h.Del(k)
	}
}

// The inner server reads the connections the proxy terminated TLS on from a connListener;
// each carries its target in the request's context.

type targetKey struct{}

func withTarget(ctx context.Context, c net.Conn) context.Context {
	if m, ok := c.(*mitmConn); ok {
		return context.WithValue(ctx, targetKey{}, m.t)
	}
	return ctx
}

type mitmConn struct {
	net.Conn
	t    target
	once sync.Once
	done func()
}

func (c *mitmConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.done)
	return err
}

type connListener struct {
	addr   net.Addr
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newConnListener(addr net.Addr) *connListener {
	return &connListener{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *connListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.closed:
		return false
	}
}

func (l *connListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *connListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *connListener) Addr() net.Addr { return l.addr }
