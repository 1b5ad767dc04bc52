package proxy

import (
	"bufio"
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

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
