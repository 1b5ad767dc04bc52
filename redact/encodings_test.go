package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestEncodedFormsAreRedactedWhereverTheyAppear encodes each value inside longer texts,
// as a command or a server would, and checks that redaction leaves none of it.
func TestEncodedFormsAreRedactedWhereverTheyAppear(t *testing.T) {
	values := []string{
		"sk_live_51HxZ2pLq8R7tY0uV",
		`pa"ss\wo rd+/=&?<>`,
		"pässwörd-ünïcode-😀-key",
		"line one\nline two\ttabbed",
	}
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	for _, v := range values {
		reps := EncodedReplacements(v, ref)
		quoted, _ := json.Marshal(v)
		pyJSON := asciiEscape(jsonEscape(v, false)) // Python's json.dumps: no HTML escapes, ASCII only
		texts := map[string]string{
			"raw":         "token=" + v + ";",
			"json":        `{"token":` + string(quoted) + `}`,
			"python json": `{"token": "` + pyJSON + `"}`,
			"query +":     "a=1&token=" + url.QueryEscape(v) + "&b=2",
			"query %20":   "token=" + strings.ReplaceAll(url.QueryEscape(v), "+", "%20"),
			"path":        "/tokens/" + url.PathEscape(v) + "/x",
			"hex":         "0x" + hex.EncodeToString([]byte(v)),
			"HEX":         strings.ToUpper(hex.EncodeToString([]byte(v))),
		}
		for prefix := range 3 {
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
				// v inside a longer encoded text, at each alignment: Basic auth, a JWT.
				data := append([]byte(strings.Repeat("u", prefix)+"ser:"), v...)
				data = append(data, "@tail"...)
				texts["base64 inside, shift "+string(rune('0'+prefix))+" "+enc.EncodeToString([]byte("x"))] = "Authorization: Basic " + enc.EncodeToString(data)
			}
		}
		texts["base64 alone"] = enc64(v)
		for name, text := range texts {
			got := Redact(text, reps)
			if leaks(got, v) {
				t.Errorf("%q, %s: the redacted text %q still carries the value", v, name, got)
			}
		}
	}
}

func enc64(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) }

// leaks reports whether text still holds v in any form that decodes back to it: raw, or
// as a run of 8 or more bytes of v inside decoded base64 or hex.
func leaks(text, v string) bool {
	if strings.Contains(text, v) {
		return true
	}
	probe := v
	if len(probe) > 8 {
		probe = v[:8]
	}
	for _, field := range strings.FieldsFunc(text, func(r rune) bool { return strings.ContainsRune(" :;,\"{}=&/\n", r) }) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(field); err == nil && bytes.Contains(b, []byte(probe)) {
				return true
			}
		}
		if b, err := hex.DecodeString(strings.TrimPrefix(field, "0x")); err == nil && bytes.Contains(b, []byte(probe)) {
			return true
		}
		if u, err := url.QueryUnescape(field); err == nil && strings.Contains(u, probe) {
			return true
		}
	}
	return false
}

// TestJSONOfOtherEncodersIsRedacted: PHP's json_encode escapes / (and non-ASCII), Gson
// escapes = and ', so a base64 key comes back from such a server in neither Go's spelling
// nor the raw one.
func TestJSONOfOtherEncodersIsRedacted(t *testing.T) {
	ref := "${secret.00000000-0000-4000-8000-000000000001.value}"
	for _, v := range []string{"AbCdEfGh/IjKlMnOp+QrStUvWx/YzAbCdEf==", "it's/pässwörd=="} {
		reps := EncodedReplacements(v, ref)
		for name, form := range map[string]string{
			"php":         strings.ReplaceAll(asciiEscape(jsonEscape(v, false)), "/", `\/`),
			"php unicode": strings.ReplaceAll(jsonEscape(v, false), "/", `\/`),
			"gson":        strings.NewReplacer("=", `\u003d`, "'", `\u0027`).Replace(jsonEscape(v, true)),
		} {
			if got := Redact(`{"key":"`+form+`"}`, reps); strings.Contains(got, form) {
				t.Errorf("%q, %s: the redacted text %q still carries the value", v, name, got)
			}
		}
	}
}
