package proxy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

const (
	valueA = "sk_live_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
	valueB = "ghp_Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0PpOoNn"
)

type fixture struct {
	ca               *testCA
	api, other, free *upstream
	p                *Proxy
	secretA, secretB Secret
}

// newFixture starts api.test (secret A is bound to it), other.test (secret B), free.test
// (no secret) and a proxy for both secrets.
func newFixture(t testing.TB, o Options) *fixture {
	t.Helper()
	f := &fixture{ca: newTestCA(t)}
	f.api = newUpstream(t, f.ca, "api.test", true)
	f.other = newUpstream(t, f.ca, "other.test", true)
	f.free = newUpstream(t, f.ca, "free.test", true)
	f.secretA = testSecret(t, "STRIPE_KEY", valueA, "api.test")
	f.secretB = testSecret(t, "GITHUB_TOKEN", valueB, "other.test")
	o.Secrets = append(o.Secrets, f.secretA, f.secretB)
	f.p = startProxy(t, f.ca, o)
	return f
}

// noValue fails t if s holds a secret value.
func noValue(t testing.TB, what, s string) {
	t.Helper()
	for _, v := range []string{valueA, valueB} {
		if strings.Contains(s, v) {
			t.Errorf("%s holds a secret value", what)
		}
	}
}

func TestCurlSubstitutesInHeaderAndJSONBody(t *testing.T) {
	f := newFixture(t, Options{})
	ph := f.secretA.Placeholder
	out, err := run(t, clientEnv(f.p), "curl", "-sS", "--fail-with-body",
		"-H", "Authorization: Bearer "+ph, "-H", "Content-Type: application/json",
		"-d", `{"key":"`+ph+`"}`, f.api.url("/v1/charges?key="+ph))
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	got := f.api.received()
	if len(got) != 1 {
		t.Fatalf("api.test received %d requests", len(got))
	}
	r := got[0]
	if r.Header.Get("Authorization") != "Bearer "+valueA {
		t.Error("api.test did not receive the value in the Authorization header")
	}
	if string(r.Body) != `{"key":"`+valueA+`"}` || r.ContentLength != int64(len(r.Body)) {
		t.Errorf("api.test did not receive the value in the body, with its length: %d bytes, Content-Length %d", len(r.Body), r.ContentLength)
	}
	if r.RawQuery != "key="+valueA {
		t.Error("api.test did not receive the value in the query")
	}
	if r.Header.Get("Proxy-Authorization") != "" {
		t.Error("the proxy credential went upstream")
	}
	if r.Header.Get("Accept-Encoding") != "identity" {
		t.Errorf("Accept-Encoding %q upstream", r.Header.Get("Accept-Encoding"))
	}
	noValue(t, "curl's output", out)
	if !strings.Contains(out, `"auth":"Bearer `+ph+`"`) {
		t.Errorf("the echoed value did not come back as the placeholder: %s", out)
	}
	if len(f.p.Refused()) != 0 {
		t.Errorf("refused: %v", f.p.Refused())
	}
}

func TestCurlBasicAuthIsDecodedAndSubstituted(t *testing.T) {
	f := newFixture(t, Options{})
	out, err := run(t, clientEnv(f.p), "curl", "-sS", "--fail-with-body", "-i", "-u", "user:"+f.secretA.Placeholder, f.api.url("/"))
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("user:"+valueA))
	if got := f.api.received(); len(got) != 1 || got[0].Header.Get("Authorization") != want {
		t.Fatal("api.test did not receive the value in Basic authorization")
	}
	noValue(t, "curl's output", out)
	// X-Echo carries the Basic credential: base64 of the value in a longer text.
	if strings.Contains(out, want) {
		t.Error("the Basic credential with the value came back")
	}
}

func TestPythonURLLibSubstitutes(t *testing.T) {
	f := newFixture(t, Options{})
	ph := f.secretA.Placeholder
	script := `
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], data=json.dumps({"key": sys.argv[2]}).encode(),
    headers={"Authorization": "Bearer " + sys.argv[2], "Content-Type": "application/json"})
print(urllib.request.urlopen(req).read().decode())
`
	out, err := run(t, clientEnv(f.p), "python3", "-c", script, f.api.url("/v1"), ph)
	if err != nil {
		t.Fatalf("python: %v: %s", err, out)
	}
	got := f.api.received()
	if len(got) != 1 || got[0].Header.Get("Authorization") != "Bearer "+valueA || string(got[0].Body) != `{"key": "`+valueA+`"}` {
		t.Fatalf("api.test did not receive the value in header and body")
	}
	noValue(t, "python's output", out)
	if !strings.Contains(out, ph) {
		t.Errorf("the echoed value did not come back as the placeholder: %s", out)
	}
}

func TestPlaceholderToAnotherBoundHostIsRefused(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tool := range []string{"curl", "python3"} {
		t.Run(tool, func(t *testing.T) {
			var out string
			var err error
			if tool == "curl" {
				out, err = run(t, clientEnv(f.p), "curl", "-sS", "-w", "\n%{http_code}", "-H", "Authorization: Bearer "+f.secretA.Placeholder, f.other.url("/"))
			} else {
				out, err = run(t, clientEnv(f.p), "python3", "-c", `
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]}))
except urllib.error.HTTPError as e:
    print(e.read().decode()); print(e.code)
`, f.other.url("/"), f.secretA.Placeholder)
			}
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if !strings.HasSuffix(strings.TrimSpace(out), "403") || !strings.Contains(out, "STRIPE_KEY") || !strings.Contains(out, "other.test") {
				t.Errorf("want a 403 naming the secret and the host, got %s", out)
			}
			noValue(t, "the answer", out)
		})
	}
	if n := len(f.other.received()); n != 0 {
		t.Errorf("other.test received %d requests", n)
	}
	want := Refusal{Ref: f.secretA.Ref, Name: "STRIPE_KEY", Scheme: "https", Host: fmt.Sprintf("other.test:%d", f.other.port)}
	if r := f.p.Refused(); len(r) != 1 || r[0] != want {
		t.Errorf("Refused() = %v, want [%v]", r, want)
	}
}

func TestUnboundHostIsTunnelledUntouched(t *testing.T) {
	f := newFixture(t, Options{})
	// A client that trusts only the upstream's CA: a certificate of the proxy would fail.
	c := goClient(t, f.p)
	c.Transport.(*http.Transport).TLSClientConfig.RootCAs = f.ca.pool
	req, _ := http.NewRequest("POST", f.free.url("/"), strings.NewReader(`{"key":"`+f.secretA.Placeholder+`"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !resp.TLS.PeerCertificates[0].Equal(f.free.cert) {
		t.Error("the client did not see free.test's own certificate")
	}
	// A placeholder sent where no secret is bound reaches the host as it is: not the value.
	if got := f.free.received(); len(got) != 1 || !strings.Contains(string(got[0].Body), f.secretA.Placeholder) {
		t.Error("free.test did not receive the request untouched")
	}
	// curl through the bundle, which holds the roots given, works too.
	if out, err := run(t, clientEnv(f.p), "curl", "-sS", "--fail-with-body", f.free.url("/")); err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
}

func TestKeepAliveChunkedAndLargeUpload(t *testing.T) {
	f := newFixture(t, Options{})
	c := goClient(t, f.p)
	var reused []bool
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
	do := func(req *http.Request) []byte {
		t.Helper()
		resp, err := c.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v: %s", resp.StatusCode, err, b)
		}
		return b
	}
	// Chunked: a body of unknown length.
	ph := f.secretA.Placeholder
	req, _ := http.NewRequest("POST", f.api.url("/chunked"), io.MultiReader(strings.NewReader(`{"key":"`), strings.NewReader(ph+`"}`)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+ph)
	noValue(t, "the answer", string(do(req)))
	// 10 MB upload, not text: streamed untouched.
	upload := make([]byte, 10<<20)
	for i := range upload {
		upload[i] = byte(i * 7)
	}
	req, _ = http.NewRequest("PUT", f.api.url("/upload"), bytes.NewReader(upload))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("Authorization", "Bearer "+ph)
	do(req)
	// A large answer streams back.
	req, _ = http.NewRequest("GET", f.api.url("/big"), nil)
	if b := do(req); !bytes.Equal(b, bigBody) {
		t.Errorf("the large answer came back as %d bytes", len(b))
	}

	got := f.api.received()
	if len(got) != 3 {
		t.Fatalf("api.test received %d requests", len(got))
	}
	if string(got[0].Body) != `{"key":"`+valueA+`"}` || got[0].ContentLength != int64(len(got[0].Body)) {
		t.Error("the chunked body was not substituted and sent with its length")
	}
	if sha256.Sum256(got[1].Body) != sha256.Sum256(upload) || got[1].Header.Get("Authorization") != "Bearer "+valueA {
		t.Error("the upload did not arrive intact, with the value in its header")
	}
	if len(reused) != 3 || reused[0] || !reused[1] || !reused[2] {
		t.Errorf("connection reuse %v, want [false true true]", reused)
	}
}

func TestLargeTextBodyStreamsUntouched(t *testing.T) {
	f := newFixture(t, Options{MaxBody: 1 << 10})
	body := `{"key":"` + f.secretA.Placeholder + `","pad":"` + strings.Repeat("x", 2<<10) + `"}`
	req, _ := http.NewRequest("POST", f.api.url("/"), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := goClient(t, f.p).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := f.api.received(); len(got) != 1 || string(got[0].Body) != body {
		t.Error("a body past MaxBody was not passed on as it was")
	}
}

func TestResponseValuesBecomePlaceholders(t *testing.T) {
	f := newFixture(t, Options{})
	ph := f.secretA.Placeholder
	// The upstream echoes the query raw, and the Authorization in X-Echo; the body is
	// JSON with the value base64-encoded too.
	req, _ := http.NewRequest("POST", f.api.url("/?k="+ph), strings.NewReader(base64.StdEncoding.EncodeToString([]byte("user:"+ph))))
	req.Header.Set("Content-Type", "text/plain")
	req.SetBasicAuth("user", ph)
	resp, err := goClient(t, f.p).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	noValue(t, "the answer", string(b))
	for _, enc := range []string{base64.StdEncoding.EncodeToString([]byte(valueA)), base64.StdEncoding.EncodeToString([]byte("user:" + valueA))} {
		if strings.Contains(string(b), enc) || strings.Contains(resp.Header.Get("X-Echo"), enc) {
			t.Error("the value came back base64-encoded")
		}
	}
	var echo struct{ Query string }
	json.Unmarshal(b, &echo)
	if echo.Query != "k="+ph {
		t.Errorf("the echoed query is not the placeholder: %q", echo.Query)
	}
	if resp.ContentLength != -1 && resp.ContentLength != int64(len(b)) {
		t.Errorf("Content-Length %d for %d bytes", resp.ContentLength, len(b))
	}
}

// connectRaw opens a tunnel through p to authority and returns the connection, after
// the proxy's 200.
func connectRaw(t *testing.T, p *Proxy, authority string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(p.URL()[strings.LastIndex(p.URL(), "@"):], "@"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n", authority, authority,
		base64.StdEncoding.EncodeToString([]byte(p.user+":"+p.pass)))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	return c
}

func (f *fixture) tlsTo(t *testing.T, authority, serverName string) (*tls.Conn, error) {
	t.Helper()
	pem, _ := os.ReadFile(f.p.CAFile())
	pool := f.ca.pool.Clone()
	pool.AppendCertsFromPEM(pem)
	tc := tls.Client(connectRaw(t, f.p, authority), &tls.Config{ServerName: serverName, RootCAs: pool})
	return tc, tc.Handshake()
}

func TestHostMustBeTheConnectTarget(t *testing.T) {
	f := newFixture(t, Options{})
	apiAuth := fmt.Sprintf("api.test:%d", f.api.port)
	tc, err := f.tlsTo(t, apiAuth, "api.test")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(tc, "GET / HTTP/1.1\r\nHost: other.test:%d\r\nAuthorization: Bearer %s\r\n\r\n", f.other.port, f.secretB.Placeholder)
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host other than the CONNECT target: %d, want 421", resp.StatusCode)
	}
	// A TLS server name other than the CONNECT target fails the handshake.
	if _, err := f.tlsTo(t, apiAuth, "other.test"); err == nil {
		t.Error("a TLS server name other than the CONNECT host was accepted")
	}
	if len(f.api.received())+len(f.other.received()) != 0 {
		t.Error("a misdirected request was sent on")
	}
}

func TestMissingProxyCredentialIs407(t *testing.T) {
	f := newFixture(t, Options{})
	addr := strings.TrimPrefix(f.p.URL()[strings.LastIndex(f.p.URL(), "@"):], "@")
	for _, auth := range []string{"", "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("kazzle:wrong")) + "\r\n"} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "CONNECT api.test:%d HTTP/1.1\r\nHost: api.test\r\n%s\r\n", f.api.port, auth)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err != nil || resp.StatusCode != http.StatusProxyAuthRequired {
			t.Errorf("CONNECT without the credential: %v %v, want 407", resp, err)
		}
	}
	// curl given the proxy without its password.
	env := append(clientEnv(f.p), "HTTPS_PROXY="+"http://"+addr, "https_proxy="+"http://"+addr)
	out, _ := run(t, env, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_connect}", f.free.url("/"))
	if !strings.Contains(out, "407") {
		t.Errorf("curl without the credential: %s", out)
	}
	if len(f.api.received())+len(f.free.received()) != 0 {
		t.Error("a request without the credential was sent on")
	}
}

func TestUpgradeIsRefused(t *testing.T) {
	f := newFixture(t, Options{})
	req, _ := http.NewRequest("GET", f.api.url("/ws"), nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	resp, err := goClient(t, f.p).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotImplemented || !strings.Contains(string(b), "WebSocket") {
		t.Errorf("upgrade: %d %s", resp.StatusCode, b)
	}
	// A client that offers only h2 fails the handshake.
	pem, _ := os.ReadFile(f.p.CAFile())
	pool := f.ca.pool.Clone()
	pool.AppendCertsFromPEM(pem)
	tc := tls.Client(connectRaw(t, f.p, fmt.Sprintf("api.test:%d", f.api.port)), &tls.Config{ServerName: "api.test", RootCAs: pool, NextProtos: []string{"h2"}})
	if err := tc.Handshake(); err == nil {
		t.Error("an h2-only client was accepted")
	}
	if len(f.api.received()) != 0 {
		t.Error("a refused request was sent on")
	}
}

func TestPlainHTTP(t *testing.T) {
	ca := newTestCA(t)
	plain := newUpstream(t, ca, "127.0.0.1", false)
	local := testSecret(t, "LOCAL", "local-"+strings.Repeat("k", 30), "127.0.0.1")
	remote := testSecret(t, "REMOTE", valueA, "api.test")
	for _, strict := range []bool{false, true} {
		p := startProxy(t, ca, Options{Secrets: []Secret{local, remote}, Strict: strict})
		c := goClient(t, p)
		get := func(ph string) int {
			req, _ := http.NewRequest("GET", plain.url("/"), nil)
			if ph != "" {
				req.Header.Set("Authorization", "Bearer "+ph)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		n := len(plain.received())
		wantLocal := 200
		if strict {
			wantLocal = 403
		}
		if code := get(local.Placeholder); code != wantLocal {
			t.Errorf("strict %v: a secret bound to http on loopback: %d, want %d", strict, code, wantLocal)
		} else if !strict && plain.received()[n].Header.Get("Authorization") != "Bearer "+local.Value {
			t.Error("the http request was not substituted")
		}
		if code := get(remote.Placeholder); code != 403 {
			t.Errorf("strict %v: a secret bound elsewhere over http: %d, want 403", strict, code)
		}
		if code := get(""); code != 200 {
			t.Errorf("strict %v: plain http without placeholders: %d, want 200", strict, code)
		}
		for _, r := range plain.received()[n:] {
			if strings.Contains(r.Header.Get("Authorization"), remote.Placeholder) || r.Header.Get("Authorization") == "Bearer "+remote.Value {
				t.Error("a refused request was sent on")
			}
		}
	}
}

func TestCloseRemovesTheBundleAndStopsListening(t *testing.T) {
	ca := newTestCA(t)
	p := startProxy(t, ca, Options{Secrets: []Secret{testSecret(t, "A", valueA, "api.test")}})
	bundle := p.CAFile()
	b, err := os.ReadFile(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, ca.pem) || !bytes.Contains(b, p.ca.pem) || bytes.Contains(b, []byte("PRIVATE")) {
		t.Error("the bundle is not the roots given and the proxy's CA, certificates only")
	}
	for _, kv := range []string{"HTTPS_PROXY=" + p.URL(), "SSL_CERT_FILE=" + bundle, "NODE_USE_ENV_PROXY=1", "NODE_EXTRA_CA_CERTS=" + bundle} {
		if !strings.Contains(strings.Join(p.Env(), "\n")+"\n", kv+"\n") {
			t.Errorf("Env() lacks %s", strings.SplitN(kv, "=", 2)[0])
		}
	}
	addr := strings.TrimPrefix(p.URL()[strings.LastIndex(p.URL(), "@"):], "@")
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bundle); !os.IsNotExist(err) {
		t.Error("the bundle is still there")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Error("the proxy still listens")
	}
}

func TestStartRefusesBadSecretsWithoutValues(t *testing.T) {
	ca := newTestCA(t)
	good := testSecret(t, "A", valueA, "api.test")
	for name, s := range map[string]Secret{
		"short placeholder":     {Name: "A", Value: valueA, Placeholder: "abc"},
		"placeholder with /":    {Name: "A", Value: valueA, Placeholder: strings.Repeat("a/", 20)},
		"empty value":           {Name: "A", Placeholder: good.Placeholder},
		"placeholder twice":     {Name: "B", Value: valueB, Placeholder: good.Placeholder},
		"placeholder has value": {Name: "B", Value: "abcdefgh", Placeholder: strings.Repeat("abcdefgh", 5)},
		// An echo of it in an answer could not be told from chance, so it would pass.
		"value under 8 characters": {Name: "B", Value: "s3cr3t!", Placeholder: strings.Repeat("x", 40)},
	} {
		_, err := Start(t.Context(), Options{Secrets: []Secret{good, s}, RootCAs: ca.pool, ExtraRootsPEM: ca.pem})
		if err == nil {
			t.Errorf("%s: started", name)
			continue
		}
		noValue(t, name, err.Error())
	}
}

func TestCurlUploadsTenMegabytes(t *testing.T) {
	f := newFixture(t, Options{})
	file := t.TempDir() + "/upload"
	upload := bytes.Repeat([]byte{0, 1, 2, 3, 0xff}, 2<<20)
	if err := os.WriteFile(file, upload, 0o600); err != nil {
		t.Fatal(err)
	}
	// curl asks Expect: 100-continue before a body this large.
	out, err := run(t, clientEnv(f.p), "curl", "-sS", "--fail-with-body", "-H", "Content-Type: application/octet-stream",
		"-H", "Authorization: Bearer "+f.secretA.Placeholder, "--data-binary", "@"+file, f.api.url("/upload"))
	if err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	got := f.api.received()
	if len(got) != 1 || sha256.Sum256(got[0].Body) != sha256.Sum256(upload) || got[0].Header.Get("Authorization") != "Bearer "+valueA {
		t.Error("the upload did not arrive intact, with the value in its header")
	}
}

func TestHTTP2PriorKnowledgeIsRefused(t *testing.T) {
	f := newFixture(t, Options{})
	preface := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	tc, err := f.tlsTo(t, fmt.Sprintf("api.test:%d", f.api.port), "api.test")
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(tc, preface)
	resp, err := http.ReadResponse(bufio.NewReader(tc), nil)
	if err != nil || resp.StatusCode != http.StatusHTTPVersionNotSupported {
		t.Errorf("HTTP/2 inside a tunnel: %v %v, want 505", resp, err)
	}
	if len(f.api.received()) != 0 {
		t.Error("an HTTP/2 request was sent on")
	}
}

func TestCloseEndsOpenTunnels(t *testing.T) {
	defer func(g time.Duration) { closeGrace = g }(closeGrace)
	closeGrace = 100 * time.Millisecond
	f := newFixture(t, Options{})
	plain := connectRaw(t, f.p, fmt.Sprintf("free.test:%d", f.free.port))
	read, err := f.tlsTo(t, fmt.Sprintf("api.test:%d", f.api.port), "api.test")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := f.p.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	for _, c := range []net.Conn{plain, read} {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("a tunnel is still open after Close: %v", err)
		}
	}
}

func TestNamesConstrainTheCA(t *testing.T) {
	f := newFixture(t, Options{Names: []string{"api.test:443", "*.other.test", "http://127.0.0.1:8080", "[::1]"}})
	// OpenSSL (curl) and Python accept a certificate within the constraints.
	if out, err := run(t, clientEnv(f.p), "curl", "-sS", "--fail-with-body", f.api.url("/")); err != nil {
		t.Fatalf("curl: %v: %s", err, out)
	}
	if out, err := run(t, clientEnv(f.p), "python3", "-c", "import sys, urllib.request; urllib.request.urlopen(sys.argv[1])", f.api.url("/")); err != nil {
		t.Fatalf("python: %v: %s", err, out)
	}
	// A bound host that Names lacks fails the client's check: closed, nothing sent.
	g := newFixture(t, Options{Names: []string{"elsewhere.test"}})
	if out, err := run(t, clientEnv(g.p), "curl", "-sS", "-H", "Authorization: Bearer "+g.secretA.Placeholder, g.api.url("/")); err == nil {
		t.Errorf("curl accepted a certificate outside the CA's names: %s", out)
	}
	if len(g.api.received()) != 0 {
		t.Error("a request went to a host outside the CA's names")
	}
	roots := x509.NewCertPool()
	roots.AddCert(f.p.ca.cert)
	for host, ok := range map[string]bool{
		"api.test": true, "x.other.test": true, "a.b.other.test": true, "127.0.0.1": true, "::1": true,
		"other.test": false, "evil.test": false, "api.test.evil": false, "10.0.0.1": false,
	} {
		leaf, err := f.p.ca.leaf(host)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(leaf.Certificate[0])
		_, err = cert.Verify(x509.VerifyOptions{Roots: roots})
		if (err == nil) != ok {
			t.Errorf("a certificate for %s: verified %v, want %v", host, err == nil, ok)
		}
	}
}

func TestPythonRequestsSubstitutes(t *testing.T) {
	if _, err := run(t, nil, "python3", "-c", "import requests"); err != nil {
		t.Skip("python3 has no requests module")
	}
	f := newFixture(t, Options{})
	ph := f.secretA.Placeholder
	out, err := run(t, clientEnv(f.p), "python3", "-c", `
import sys, requests
r = requests.post(sys.argv[1], json={"key": sys.argv[2]}, headers={"Authorization": "Bearer " + sys.argv[2]})
r.raise_for_status()
print(r.text)
`, f.api.url("/v1"), ph)
	if err != nil {
		t.Fatalf("python: %v: %s", err, out)
	}
	got := f.api.received()
	if len(got) != 1 || got[0].Header.Get("Authorization") != "Bearer "+valueA || string(got[0].Body) != `{"key": "`+valueA+`"}` {
		t.Fatalf("api.test did not receive the value in header and body")
	}
	noValue(t, "python's output", out)
}

func TestValuesAreEscapedForWhereTheyGo(t *testing.T) {
	const odd = `pa"ss\word+/=&?# é`
	ca := newTestCA(t)
	api := newUpstream(t, ca, "api.test", true)
	s := testSecret(t, "ODD", odd, "api.test")
	p := startProxy(t, ca, Options{Secrets: []Secret{s}})
	c := goClient(t, p)
	send := func(path, ct, body string) received {
		t.Helper()
		req, _ := http.NewRequest("POST", api.url(path), strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := api.received()
		return got[len(got)-1]
	}
	r := send("/p/"+s.Placeholder+"?k="+s.Placeholder, "application/json", `{"k":"`+s.Placeholder+`"}`)
	var js struct{ K string }
	if err := json.Unmarshal(r.Body, &js); err != nil || js.K != odd {
		t.Error("the value in a JSON body is not the JSON string of the value")
	}
	if q, err := url.ParseQuery(r.RawQuery); err != nil || q.Get("k") != odd {
		t.Error("the value in the query is not query-escaped")
	}
	if r.Path != "/p/"+odd {
		t.Error("the value in the path is not path-escaped")
	}
	r = send("/", "application/x-www-form-urlencoded", "a=1&k="+s.Placeholder)
	if q, err := url.ParseQuery(string(r.Body)); err != nil || q.Get("k") != odd {
		t.Error("the value in a form body is not form-escaped")
	}
}

func TestAnAnswerCutShortIsCutShortForTheProcess(t *testing.T) {
	ca := newTestCA(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, _ := http.NewResponseController(w).Hijack()
		brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial " + valueA[:12])
		brw.Flush()
		c.Close()
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, "cut.test")}}
	srv.StartTLS()
	defer srv.Close()
	p := startProxy(t, ca, Options{Secrets: []Secret{testSecret(t, "A", valueA, "cut.test")}})
	resp, err := goClient(t, p).Get(fmt.Sprintf("https://cut.test:%d/", srv.Listener.Addr().(*net.TCPAddr).Port))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Errorf("an answer cut short came whole: %q", b)
	}
	noValue(t, "the answer", string(b))
	if strings.Contains(string(b), valueA[:12]) {
		t.Error("the bytes held back for a value were passed on")
	}
}
