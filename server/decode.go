package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/kazzle/kazzle/api"
)

// decode reads the request body, one JSON object, into v: every request body goes
// through decodeJSON.
func decode(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "reading the request body: the body is cut short"}
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes one JSON object into v. Besides what encoding/json refuses, it
// refuses unknown fields, data after the object, and whatever encoding/json would accept
// but silently change, so that what is stored is what was sent: invalid UTF-8 and \u
// escapes of lone UTF-16 surrogates (both would become U+FFFD), and a key given twice
// in one object (encoding/json keeps the last, and matches struct fields regardless of
// case). Its errors name keys and byte offsets, never values.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidBody(jsonProblem(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalidBody("data after the object")
	}
	// The body is valid JSON now, so checkJSON may read it as such.
	return checkJSON(body)
}

func invalidBody(problem string) error {
	return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: "malformed JSON body: " + problem}
}

// notUTF8 is the refusal of a body that is not UTF-8 text.
func notUTF8(what string, offset int) error {
	return &api.Error{Status: http.StatusBadRequest, Code: api.CodeInvalid, Message: fmt.Sprintf(
		"the request body must be valid UTF-8: %s at byte %d; a binary value belongs base64-encoded", what, offset)}
}

// jsonProblem describes a decoding error without quoting the input, which may hold values.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("syntax error at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("field %q must be %s", typ.Field, typ.Type)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	return "not a JSON object of the expected shape"
}

// maxQuotedKey caps how much of a repeated key an error quotes.
const maxQuotedKey = 64

// jsonFrame is an object or array being read by checkJSON.
type jsonFrame struct {
	object  bool
	wantKey bool   // an object's next string is a key
	name    string // the key the container is the value of, for messages
	keys    []string
}

// checkJSON refuses invalid UTF-8, \u escapes of lone surrogates, and keys repeated in
// an object, compared as encoding/json matches struct fields: regardless of case. body
// must be valid JSON.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		i := 0
		for i < len(body) {
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			i += size
		}
		return notUTF8("an invalid byte", i)
	}
	var stack []jsonFrame
	lastKey := ""
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '{', '[':
			stack = append(stack, jsonFrame{object: body[i] == '{', wantKey: body[i] == '{', name: lastKey})
			lastKey = ""
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; top >= 0 && stack[top].object {
				stack[top].wantKey = true
			}
		case '"':
			start := i
			end, escaped, err := scanString(body, i)
			if err != nil {
				return err
			}
			i = end
			top := len(stack) - 1
			if top < 0 || !stack[top].object || !stack[top].wantKey {
				continue
			}
			f := &stack[top]
			f.wantKey = false
			key := string(body[start+1 : end])
			if escaped {
				if err := json.Unmarshal(body[start:end+1], &key); err != nil {
					return invalidBody(fmt.Sprintf("syntax error at byte %d", start))
				}
			}
			folded := foldKey(key)
			for _, k := range f.keys {
				if k == folded {
					where := ""
					if f.name != "" {
						where = " in " + strconv.Quote(truncateUTF8(f.name, maxQuotedKey))
					}
					return invalidBody(fmt.Sprintf("key %s at byte %d appears twice%s (keys match regardless of case): send each key once",
						strconv.Quote(truncateUTF8(key, maxQuotedKey)), start, where))
				}
			}
			f.keys = append(f.keys, folded)
			lastKey = key
		}
	}
	return nil
}

// scanString reads the string whose opening quote is at body[start]: it returns the
// index of its closing quote and whether it holds escapes, and refuses \u escapes of
// surrogates that are not a high one followed by a low one.
func scanString(body []byte, start int) (end int, escaped bool, err error) {
	for i := start + 1; i < len(body); i++ {
		switch body[i] {
		case '"':
			return i, escaped, nil
		case '\\':
			escaped = true
			if i+1 < len(body) && body[i+1] == 'u' {
				r := hex4(body, i+2)
				switch {
				case r >= 0xD800 && r < 0xDC00:
					if i+7 < len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
						if lo := hex4(body, i+8); lo >= 0xDC00 && lo < 0xE000 {
							i += 11
							continue
						}
					}
					return 0, false, notUTF8(`a \u escape of a lone UTF-16 surrogate, which stands for no character,`, i)
				case r >= 0xDC00 && r < 0xE000:
					return 0, false, notUTF8(`a \u escape of a lone UTF-16 surrogate, which stands for no character,`, i)
				}
				i += 5
				continue
			}
			i++ // the escaped character
		}
	}
	return 0, false, invalidBody("a string is not closed")
}

// hex4 is the value of the four hex digits at body[i:], or -1.
func hex4(body []byte, i int) rune {
	if i+4 > len(body) {
		return -1
	}
	var r rune
	for _, c := range body[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

// foldKey maps keys that strings.EqualFold finds equal to one string: each character
// becomes the smallest of its case-folding orbit.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii { // an ASCII letter's orbit starts with its upper case
		return strings.ToUpper(s)
	}
	var b strings.Builder
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}

// truncateUTF8 replaces invalid UTF-8 in s and cuts it to at most n bytes, on a
// character boundary, ending with "…" where it was cut.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
