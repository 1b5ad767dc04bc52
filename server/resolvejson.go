package server

import (
	"net/http"
	"strconv"
	"sync"

	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault/jsonstr"
)

// writeResolve writes the resolve response, api.ResolveResponse, by hand: encoding/json's
// reflection was a tenth of a resolve's CPU time. A fuzz test checks that encoding/json
// decodes it to the same values. scan, when not nil, is api.ResolveResponse.Scan.
func writeResolve(w http.ResponseWriter, vars, scan []resolver.Var) error {
	buf := responseBuffers.Get().(*[]byte)
	b := (*buf)[:0]
	defer func() {
		clear(b) // it held plaintext
		if cap(b) <= maxPooledResponse {
			*buf = b[:0]
			responseBuffers.Put(buf)
		}
	}()
	b = append(b, `{"vars":`...)
	b = appendVars(b, vars)
	if scan != nil {
		b = append(b, `,"scan":`...)
		b = appendVars(b, scan)
	}
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	// A known length spares chunked encoding: the response goes out in one write.
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

// appendVars appends vars as a JSON array of api.Var.
func appendVars(b []byte, vars []resolver.Var) []byte {
	b = append(b, '[')
	for i, v := range vars {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = jsonstr.AppendString(b, v.Name)
		b = append(b, `,"value":`...)
		b = jsonstr.AppendString(b, v.Value)
		b = append(b, `,"secret_id":`...)
		b = jsonstr.AppendString(b, v.SecretID)
		b = append(b, `,"field":`...)
		b = jsonstr.AppendString(b, v.Field)
		if len(v.Hosts) > 0 {
			b = append(b, `,"hosts":[`...)
			for j, h := range v.Hosts {
				if j > 0 {
					b = append(b, ',')
				}
				b = append(b, '[')
				for k, entry := range h {
					if k > 0 {
						b = append(b, ',')
					}
					b = jsonstr.AppendString(b, entry)
				}
				b = append(b, ']')
			}
			b = append(b, ']')
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// bindingJSON is a value's hosts bindings as api.Var.Hosts carries them.
func bindingJSON(bs []secret.Hosts) [][]string {
	if len(bs) == 0 {
		return nil
	}
	out := make([][]string, len(bs))
	for i, b := range bs {
		out[i] = b
	}
	return out
}

// responseBuffers recycles response buffers: a resolve response is a few kilobytes, and
// allocating it afresh was a large share of a resolve's garbage. Write copies it out
// before returning, so it can be reused at once.
var responseBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

// maxPooledResponse keeps an unusually large response from pinning its buffer.
const maxPooledResponse = 256 << 10
