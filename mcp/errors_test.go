package mcp

import (
	"context"
	"net"
	"strings"
	"testing"
)

// TestAFailedRequestDoesNotShowTheURLItSent: Go's client names the URL in its errors,
// re-encoded as a URL writes its path (a space as %20, a / left as it is, a ! as %21),
// which is none of the spellings the scrubbing knows, and a URL that does not parse
// comes back quoted as Go quotes strings. Such an error must show the URL as the
// assistant wrote it, references and all.
func TestAFailedRequestDoesNotShowTheURLItSent(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	// A port nothing listens on: the connection is refused at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct{ val, url, middle string }{
		{"!x9 Kq2mZ/pL8vR7tY0uV/abcdefghij/w3!", "http://" + closed + "/" + ref, "pL8vR7tY0uV/abcdefghij"},
		{"!x9 Kq2mZ/pL8vR7tY0uV/abcdefghij/w3!", "http://" + closed + "/?q=1#" + ref, "pL8vR7tY0uV/abcdefghij"},
		{"Kq2mZpL8\x7fvR7tY0uVabcdefghij\x01w3", "http://" + closed + "/" + ref, "vR7tY0uVabcdefghij"},
	} {
		tl := newTools(Options{Client: fakeVault(t, ref, tc.val)})
		_, _, err := tl.httpRequest(context.Background(), nil, httpRequestInput{URL: tc.url, TimeoutSeconds: 5})
		if err == nil {
			t.Errorf("%q: the request succeeded", tc.url)
			continue
		}
		if strings.Contains(err.Error(), tc.middle) {
			t.Errorf("%q: the error shows the value: %v", tc.url, err)
		}
	}
}
