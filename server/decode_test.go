package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
)

func errorMessage(t *testing.T, body []byte) string {
	t.Helper()
	var eb api.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error == nil {
		t.Fatalf("not an error body: %s", body)
	}
	return eb.Error.Message
}

// TestDuplicateJSONKeysAreRefused: a key given twice in one object, at the top or in
// fields, spelled with escapes or another case, is refused with 400 naming it, and
// nothing is stored.
func TestDuplicateJSONKeysAreRefused(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens["admin"]
	for _, tc := range []struct {
		desc, method, path, body, key string
	}{
		{"top level", "POST", "/v1/secrets", `{"collection":"my-saas","name":"DUP_A","name":"DUP_B","fields":{"value":"v"}}`, `"name"`},
		{"in fields", "POST", "/v1/secrets", `{"collection":"my-saas","name":"DUP_C","fields":{"value":"first-value","value":"second-value"}}`, `"value" at byte`},
		{"escaped", "POST", "/v1/secrets", `{"collection":"my-saas","name":"DUP_D","n\u0061me":"DUP_E","fields":{"value":"v"}}`, `"name"`},
		{"another case", "POST", "/v1/secrets", `{"collection":"my-saas","name":"DUP_F","NAME":"DUP_G","fields":{"value":"v"}}`, `"NAME"`},
		{"update", "PUT", "/v1/secrets/" + w.ids["SHARED"], `{"version":1,"version":1,"fields":{"value":"v"}}`, `"version"`},
		{"collection", "POST", "/v1/collections", `{"slug":"dup-a","slug":"dup-b"}`, `"slug"`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			status, body := w.do(t, tok, tc.method, tc.path, tc.body)
			msg := errorMessage(t, body)
			if status != 400 || !strings.Contains(msg, tc.key) || !strings.Contains(msg, "twice") {
				t.Fatalf("%d %q; want 400 naming %s", status, msg, tc.key)
			}
			if strings.Contains(msg, "first-value") || strings.Contains(msg, "second-value") {
				t.Fatalf("the error quotes a value: %s", msg)
			}
		})
	}
	if w.version(t, "SHARED") != 1 {
		t.Fatal("a refused update changed the secret")
	}
	list, err := w.Vault.List(context.Background(), w.Space.ID, "my-saas", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if strings.HasPrefix(s.Name, "DUP_") {
			t.Fatalf("a refused body stored %s", s.Name)
		}
	}
	// One key per object is fine, also when another object has the same key.
	if status, body := w.do(t, tok, "POST", "/v1/secrets", `{"collection":"my-saas","name":"NOT_DUP","type":"login","fields":{"username":"u","password":"p"}}`); status != 201 {
		t.Fatalf("a body without repeated keys: %d %s", status, body)
	}
}

// TestRequestBodiesMustBeValidUTF8: invalid UTF-8 and \u escapes of lone surrogates,
// which encoding/json would store as U+FFFD, are refused with 400; a surrogate pair
// and U+FFFD itself are stored as sent.
func TestRequestBodiesMustBeValidUTF8(t *testing.T) {
	w := newWorld(t)
	tok := w.tokens["admin"]
	for _, tc := range []struct{ desc, value string }{
		{"invalid byte", "abc\xffdef"},
		{"truncated sequence", "abc\xe6\x97"},
		{"lone high surrogate", `abc\ud800def`},
		{"lone low surrogate", `abc\udc00def`},
		{"high surrogate then a non-surrogate", `abc\ud800\u0041`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			status, body := w.do(t, tok, "POST", "/v1/secrets", `{"collection":"my-saas","name":"BAD_UTF8","fields":{"value":"`+tc.value+`"}}`)
			msg := errorMessage(t, body)
			if status != 400 || !strings.Contains(msg, "must be valid UTF-8") || !strings.Contains(msg, "base64") {
				t.Fatalf("%d %q; want 400 saying the body must be valid UTF-8", status, msg)
			}
		})
	}
	ctx := context.Background()
	for name, tc := range map[string]struct{ sent, stored string }{
		"PAIR":        {`\ud83d\ude00 ok`, "\U0001F600 ok"},
		"REPLACEMENT": {"\uFFFD and \\ufffd", "\uFFFD and \uFFFD"},
	} {
		status, body := w.do(t, tok, "POST", "/v1/secrets", `{"collection":"my-saas","name":"`+name+`","fields":{"value":"`+tc.sent+`"}}`)
		if status != 201 {
			t.Fatalf("%s: %d %s", name, status, body)
		}
		var meta api.Secret
		if err := json.Unmarshal(body, &meta); err != nil {
			t.Fatal(err)
		}
		sec, err := w.Vault.Secret(ctx, w.Space.ID, meta.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if sec.Fields["value"] != tc.stored {
			t.Fatalf("%s: stored a different value than sent", name)
		}
	}
	list, err := w.Vault.List(ctx, w.Space.ID, "my-saas", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == "BAD_UTF8" {
			t.Fatal("a refused body was stored")
		}
	}
}
