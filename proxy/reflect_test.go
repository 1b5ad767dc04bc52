package proxy

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// reflected starts refl.test, a host secret value is bound to that answers with h, and
// returns what a process gets for a text POST of body(placeholder) with the placeholder
// in Authorization too.
func reflected(t *testing.T, value string, body func(ph string) string, h http.HandlerFunc) (int, string) {
	t.Helper()
	ca := newTestCA(t)
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf(t, "refl.test")}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	s := testSecret(t, "A", value, "refl.test")
	p := startProxy(t, ca, Options{Secrets: []Secret{s}})
	req, _ := http.NewRequest("POST", fmt.Sprintf("https://refl.test:%d/", srv.Listener.Addr().(*net.TCPAddr).Port), strings.NewReader(body(s.Placeholder)))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+s.Placeholder)
	resp, err := goClient(t, p).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

func TestContentEncodingGivenTwiceIsNotPassedOn(t *testing.T) {
	code, b := reflected(t, valueA, func(ph string) string { return ph }, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		w.Header().Add("Content-Encoding", "identity")
		w.Header().Add("Content-Encoding", "gzip")
		w.Write(buf.Bytes())
	})
	if code != http.StatusBadGateway {
		t.Errorf("status %d, want 502", code)
	}
	if zr, err := gzip.NewReader(strings.NewReader(b)); err == nil {
		d, _ := io.ReadAll(zr)
		noValue(t, "the decompressed answer", string(d))
	}
}

func TestJSONOfPHPAndGsonInAnAnswerIsAPlaceholder(t *testing.T) {
	const v = "AbCdEfGh/IjKlMnOp+QrStUvWx/YzAbCdEf=="
	_, b := reflected(t, v, func(ph string) string { return ph }, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, `{"php":"%s","gson":"%s"}`, strings.ReplaceAll(string(body), "/", `\/`), strings.ReplaceAll(string(body), "=", `\u003d`))
	})
	if strings.Contains(b, `AbCdEfGh\/IjKlMnOp`) || strings.Contains(b, `YzAbCdEf\u003d`) {
		t.Errorf("the answer holds the value: %q", b)
	}
}

func TestAValueCutShortInAnAnswerIsAPlaceholder(t *testing.T) {
	_, b := reflected(t, valueA, func(ph string) string { return ph }, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "invalid key %s..., or ...%s", body[:len(body)-4], body[6:])
	})
	if strings.Contains(b, valueA[:16]) || strings.Contains(b, valueA[len(valueA)-16:]) {
		t.Errorf("the answer holds an end of the value: %q", b)
	}
}
