package server

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/kazzle/kazzle/api"
)

// FuzzDecodeSecretRequest: the request decoder never panics on a secret's create or
// update body, and what it accepts is valid UTF-8 with no key repeated in an object
// (regardless of case), holds U+FFFD only where the body sent one, and decodes again to
// the same request once re-encoded.
func FuzzDecodeSecretRequest(f *testing.F) {
	for _, seed := range []string{
		`{"collection":"my-saas","name":"STRIPE_SECRET_KEY","fields":{"value":"sk_live_x"}}`,
		`{"collection":"my-saas","environment":"prod","name":"GH","type":"git","note":"deploy token","fields":{"host":"github.com","path":"acme/","username":"x","password":"p"}}`,
		`{"collection":"my-saas","name":"OTP","type":"totp","fields":{"seed":"otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP&issuer=Acme&digits=8&period=60&algorithm=SHA256"}}`,
		`{"version":3,"fields":{"value":"multi\nline \u00e9 \ud83d\ude00"},"note":"rotated"}`,
		`{"name":"A","name":"B"}`,
		`{"fields":{"value":"a","VALUE":"b"}}`,
		`{"note":"\ud800"}`,
		"{\"note\":\"\xff\"}",
		`{"note":"\ufffd \uFFFD"}`,
		`{"fields":{"v\u0061lue":"x","value":"y"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var create api.CreateSecretRequest
		if decodeJSON(body, &create) == nil {
			accepted(t, body, create)
		}
		var update api.UpdateSecretRequest
		if decodeJSON(body, &update) == nil {
			accepted(t, body, update)
		}
	})
}

// accepted checks what decodeJSON accepted, by means other than its own.
func accepted[T any](t *testing.T, body []byte, req T) {
	t.Helper()
	if !utf8.Valid(body) {
		t.Fatalf("accepted a body that is not valid UTF-8: %q", body)
	}
	if err := noRepeatedKeys(json.NewDecoder(bytes.NewReader(body))); err != "" {
		t.Fatalf("accepted a body with %s: %q", err, body)
	}
	sentFFFD := bytes.Contains(body, []byte("\uFFFD")) || bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`))
	again, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	if !sentFFFD && bytes.Contains(again, []byte("\uFFFD")) {
		t.Fatalf("a decoded string holds U+FFFD the body did not send: %q", body)
	}
	var back T
	if err := decodeJSON(again, &back); err != nil {
		t.Fatalf("the re-encoded request is refused: %v", err)
	}
	if twice, _ := json.Marshal(back); !bytes.Equal(twice, again) { // nil and empty maps alike
		t.Fatalf("the re-encoded request decodes to another one: %q", body)
	}
}

// noRepeatedKeys walks a JSON value with encoding/json's tokenizer and names a key that
// an object holds twice, compared as strings.EqualFold does.
func noRepeatedKeys(dec *json.Decoder) string {
	tok, err := dec.Token()
	if err == io.EOF {
		return ""
	}
	if err != nil {
		return "" // encoding/json accepted the body, so this does not happen
	}
	switch tok {
	case json.Delim('{'):
		var keys []string
		for dec.More() {
			k, _ := dec.Token()
			key, _ := k.(string)
			for _, seen := range keys {
				if strings.EqualFold(seen, key) {
					return "the key " + key + " twice"
				}
			}
			keys = append(keys, key)
			if e := noRepeatedKeys(dec); e != "" {
				return e
			}
		}
		dec.Token()
	case json.Delim('['):
		for dec.More() {
			if e := noRepeatedKeys(dec); e != "" {
				return e
			}
		}
		dec.Token()
	}
	return ""
}
