package ui

import (
	"bytes"
	"io"
	"net/http"

	"github.com/kazzle/kazzle/vault"
)

// inProcess carries the UI's API calls to the API in this process without a network
// hop, as if they came from the browser's own request: its context, its address for the
// audit trail, its Host for the loopback check. They are made as the session's key,
// which API.ServeAs takes from the UI alone, never from a request.
type inProcess struct {
	api  API
	from *http.Request
	key  vault.APIKey
}

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(t.from.Context())
	req.Header.Del("Authorization")
	req.RemoteAddr, req.Host, req.TLS = t.from.RemoteAddr, t.from.Host, t.from.TLS
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	t.api.ServeAs(rec, req, t.key)
	return &http.Response{StatusCode: rec.status, Header: rec.header, Body: io.NopCloser(&rec.body), Request: req,
		ContentLength: int64(rec.body.Len()), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}, nil
}

// recorder is the ResponseWriter of an in-process API call.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	return r.body.Write(p)
}
func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}
