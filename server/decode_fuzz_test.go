package server

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
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
		`{"collection":"c","name":"OTP","type":"totp","fields":{"seed":"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP&period=3601"}}`,
		`{"collection":"c","name":"KEY=sk_live_never_echo","fields":{"value":"v"}}`,
		`{"collection":"c","name":"NODE_OPTIONS","fields":{"value":"--require=/tmp/x.js"}}`,
		`{"collection":"c","name":"N","fields":{"value":"before\u0000after-value"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var create api.CreateSecretRequest
		if decodeJSON(body, &create) == nil {
			accepted(t, body, create)
			validated(t, create.Name, secret.Type(create.Type), create.Fields, create.Note)
		}
		var update api.UpdateSecretRequest
		if decodeJSON(body, &update) == nil {
			accepted(t, body, update)
			if update.Note != nil {
				validated(t, "NAME", secret.TypeString, update.Fields, *update.Note)
			}
		}
	})
}

// validated runs a decoded secret through the checks a write makes: they never panic,
// never quote a value (each is checked once more with a marker appended, which no error
// may repeat), and what they let through is text an environment can carry, with a note
// and a TOTP period inside their limits.
func validated(t *testing.T, name string, typ secret.Type, fields map[string]string, note string) {
	t.Helper()
	if typ == "" {
		typ = secret.TypeString
	}
	const marker = "\u2603"
	marked := make(map[string]string, len(fields))
	for f, v := range fields {
		marked[f] = v + marker
	}
	for _, err := range []error{secret.ValidateFields(typ, marked), secret.ValidateName(name + "=" + marker)} {
		if err != nil && strings.Contains(err.Error(), marker) {
			t.Fatalf("error %q quotes a value", err)
		}
	}
	if secret.ValidateName(name) != nil || secret.ValidateExports(name, typ) != nil ||
		secret.ValidateFields(typ, fields) != nil || secret.ValidateNote(note) != nil {
		return
	}
	if strings.Contains(name, "=") || len(note) > secret.MaxNoteSize || secret.IsReservedVar(name) && typ == secret.TypeString {
		t.Fatalf("accepted name %q, note of %d bytes", name, len(note))
	}
	for f, v := range fields {
		if strings.ContainsRune(v, 0) || !utf8.ValidString(v) || len(v) > secret.MaxFieldSize {
			t.Fatalf("accepted field %s that an environment cannot carry", f)
		}
	}
	if typ == secret.TypeTOTP && !secret.HasReferences(fields[secret.FieldSeed]) {
		if _, _, err := resolver.TOTP(fields[secret.FieldSeed], time.Unix(1_700_000_000, 0)); err != nil {
			t.Fatalf("accepted a seed that gives no code: %v", err)
		}
	}
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
	twice, err := json.Marshal(back)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(twice, again) { // nil and empty maps alike
		t.Fatalf("the re-encoded request decodes to another one: %q", body)
	}
}

// noRepeatedKeys walks a JSON value with encoding/json's tokenizer and names a key that
// an object holds twice, compared as strings.EqualFold does. A body its tokenizer
// refuses is named too: encoding/json accepted it, so the walk must not end early.
func noRepeatedKeys(dec *json.Decoder) string {
	tok, err := dec.Token()
	if err == io.EOF {
		return ""
	}
	if err != nil {
		return "a token the tokenizer refuses: " + err.Error()
	}
	switch tok {
	case json.Delim('{'):
		var keys []string
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return "a key the tokenizer refuses: " + err.Error()
			}
			key, ok := k.(string)
			if !ok {
				return "a key that is not a string"
			}
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
		if _, err := dec.Token(); err != nil {
			return "an object the tokenizer does not close: " + err.Error()
		}
	case json.Delim('['):
		for dec.More() {
			if e := noRepeatedKeys(dec); e != "" {
				return e
			}
		}
		if _, err := dec.Token(); err != nil {
			return "an array the tokenizer does not close: " + err.Error()
		}
	}
	return ""
}
