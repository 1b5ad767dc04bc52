package server

import (
	"encoding/json"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/resolver"
	"github.com/kazzle/kazzle/secret"
)

// FuzzResolveJSON: what writeResolve writes decodes, with encoding/json, to exactly the
// strings that encoding/json itself would carry.
func FuzzResolveJSON(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "line\nbreak\ttab\r", "\x00\x1f\x7f", "ключ 🔑", "bad \xff utf-8", "\u2028\u2029", "<script>&"} {
		f.Add(s, "NAME")
	}
	f.Fuzz(func(t *testing.T, value, name string) {
		rec := httptest.NewRecorder()
		vars := []resolver.Var{{Name: name, Value: value, SecretID: "id", Field: "value"},
			{Name: "B", Value: value + value, Hosts: []secret.Hosts{{name, "a.example.com"}, {value}}}}
		if err := writeResolve(rec, vars, vars[1:]); err != nil {
			t.Fatal(err)
		}
		var got api.ResolveResponse
		dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("output does not decode: %v\n%s", err, rec.Body.String())
		}
		want := api.ResolveResponse{Vars: []api.Var{{Name: name, Value: value, SecretID: "id", Field: "value"},
			{Name: "B", Value: value + value, Hosts: [][]string{{name, "a.example.com"}, {value}}}}}
		std, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var viaStd api.ResolveResponse
		if err := json.Unmarshal(std, &viaStd); err != nil {
			t.Fatal(err)
		}
		if len(got.Vars) != 2 || !reflect.DeepEqual(got.Vars, viaStd.Vars) {
			t.Fatalf("decoded %+v, encoding/json round trip gives %+v", got.Vars, viaStd.Vars)
		}
		if len(got.Scan) != 1 || !reflect.DeepEqual(got.Scan[0], viaStd.Vars[1]) {
			t.Fatalf("decoded scan values %+v, want %+v", got.Scan, viaStd.Vars[1:])
		}
	})
}
