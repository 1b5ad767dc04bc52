package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCA signs the certificates of the test upstreams, which stand for hosts named *.test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	pool *x509.CertPool
}

func newTestCA(t testing.TB) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: "test upstream CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pool: pool}
}

func (ca *testCA) leaf(t testing.TB, host string) tls.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &ca.key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: ca.key}
}

// received is what an upstream was sent.
type received struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         []byte
	ContentLength                int64
	TransferEncoding             []string
}

// upstream is a TLS server on loopback for one host name: it records every request and
// answers with what it received as JSON, and the Authorization header in X-Echo.
type upstream struct {
	host string
	srv  *httptest.Server
	port int
	cert *x509.Certificate

	mu   sync.Mutex
	reqs []received
}

func newUpstream(t testing.TB, ca *testCA, host string, tlsOn bool) *upstream {
	t.Helper()
	u := &upstream{host: host}
	u.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := received{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Host: r.Host,
			Header: r.Header.Clone(), Body: body, ContentLength: r.ContentLength, TransferEncoding: r.TransferEncoding}
		u.mu.Lock()
		u.reqs = append(u.reqs, rec)
		u.mu.Unlock()
		if r.URL.Path == "/big" {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(bigBody)
			return
		}
		if len(body) > 1<<20 {
			rec.Body = nil // a large upload is echoed by its length only
		}
		w.Header().Set("X-Echo", r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"auth": r.Header.Get("Authorization"), "body": string(rec.Body), "query": r.URL.RawQuery, "len": len(body)})
	}))
	u.srv.Config.ErrorLog = discardLog // clients that go away mid-handshake are expected
	if tlsOn {
		u.srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, host)}}
		u.srv.StartTLS()
		u.cert, _ = x509.ParseCertificate(u.srv.TLS.Certificates[0].Certificate[0])
	} else {
		u.srv.Start()
	}
	t.Cleanup(u.srv.Close)
	u.port = u.srv.Listener.Addr().(*net.TCPAddr).Port
	return u
}

var bigBody = []byte(strings.Repeat("0123456789abcdef", 1<<16)) // 1 MiB

func (u *upstream) url(path string) string {
	scheme := "https"
	if u.srv.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + u.host + ":" + strconv.Itoa(u.port) + path
}

func (u *upstream) received() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]received(nil), u.reqs...)
}

// testDial reaches every *.test host on loopback, at the port asked for.
func testDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(host, ".test") {
		addr = net.JoinHostPort("127.0.0.1", port)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// allowHosts is a hosts binding: https to each of hosts, and plain http to loopback.
func allowHosts(hosts ...string) func(string, string, int) bool {
	return func(scheme, host string, port int) bool {
		for _, h := range hosts {
			if h == host && (scheme == "https" || h == "127.0.0.1") {
				return true
			}
		}
		return false
	}
}

func testSecret(t testing.TB, name, value string, hosts ...string) Secret {
	t.Helper()
	ph, err := Placeholder(value)
	if err != nil {
		t.Fatal(err)
	}
	return Secret{Ref: "${secret." + name + ".value}", Name: name, Value: value, Placeholder: ph, Allows: allowHosts(hosts...)}
}

func startProxy(t testing.TB, ca *testCA, o Options) *Proxy {
	t.Helper()
	o.RootCAs = ca.pool
	if o.ExtraRootsPEM == nil {
		o.ExtraRootsPEM = ca.pem
	}
	o.dial = testDial
	p, err := Start(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// clientEnv is the environment of a process run through p: the test's own, less
// anything that would send it elsewhere or trust something else.
func clientEnv(p *Proxy) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR",
			"REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "CURL_HOME":
			continue
		}
		env = append(env, kv)
	}
	return append(env, p.Env()...)
}

func run(t testing.TB, env []string, name string, args ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// goClient is a Go client that sends through p and trusts p's bundle.
func goClient(t testing.TB, p *Proxy) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(p.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	pu, _ := url.Parse(p.URL())
	tr := &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
