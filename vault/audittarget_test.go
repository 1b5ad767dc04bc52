package vault

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzAuditTargetJSON: AppendJSON's output decodes to the target it encoded, and to what
// encoding/json's own output decodes to, so stored events read back the same whichever
// wrote them.
func FuzzAuditTargetJSON(f *testing.F) {
	f.Add("c-id", "my-saas", "", "dev", "SECRET", 3, "A,B", "k", "reason \"quoted\"\n", 2)
	f.Add("", "", "", "", "", 0, "", "", "", 0)
	f.Add("ключ", "\xff", "\u2028", "<&>", "\x00", -1, "x,,y", "\\", "\t", -7)
	f.Fuzz(func(t *testing.T, collectionID, collection, envID, env, secret string, version int, secrets, key, reason string, vars int) {
		want := AuditTarget{CollectionID: collectionID, Collection: collection, EnvironmentID: envID, Environment: env,
			Secret: secret, SecretID: secret + "-id", Version: version, KeyID: key, Key: key + "-name", WrappingKeyID: key,
			SpaceName: collection, Reason: reason, Vars: vars, Count: vars + 1, Entry: key}
		if secrets != "" {
			want.Secrets = strings.Split(secrets, ",")
			want.Generated = strings.Split(secrets, ",")
			want.Referenced = strings.Split(secrets+",x", ",")
		}
		var got, viaStd AuditTarget
		if err := json.Unmarshal(want.AppendJSON(nil), &got); err != nil {
			t.Fatalf("AppendJSON's output does not decode: %v\n%s", err, want.AppendJSON(nil))
		}
		std, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(std, &viaStd); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, viaStd) {
			t.Fatalf("AppendJSON decodes to %+v, encoding/json to %+v", got, viaStd)
		}
	})
}

// TestAuditTargetJSONEncodesEveryField fills every field of an AuditTarget and checks
// that AppendJSON writes each under its JSON name and that it decodes back to the same
// target: a field added to the struct but not to AppendJSON would otherwise vanish from
// every stored audit event.
func TestAuditTargetJSONEncodesEveryField(t *testing.T) {
	var full AuditTarget
	v := reflect.ValueOf(&full).Elem()
	var names []string
	for i := range v.NumField() {
		f := v.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String:
			fv.SetString("v-" + f.Name + " \"quoted\"")
		case reflect.Int:
			fv.SetInt(int64(i + 1))
		case reflect.Slice:
			if fv.Type().Elem().Kind() != reflect.String {
				t.Fatalf("field %s is a %s: teach this test to fill it", f.Name, fv.Type())
			}
			fv.Set(reflect.ValueOf([]string{"a-" + f.Name, "b-" + f.Name}))
		default:
			t.Fatalf("field %s is a %s: teach this test to fill it", f.Name, fv.Type())
		}
	}
	encoded := full.AppendJSON(nil)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(encoded, &fields); err != nil {
		t.Fatalf("AppendJSON's output does not decode: %v", err)
	}
	for _, name := range names {
		if _, ok := fields[name]; !ok {
			t.Errorf("AppendJSON leaves out %q", name)
		}
	}
	if len(fields) != len(names) {
		t.Errorf("AppendJSON writes %d fields, the struct has %d", len(fields), len(names))
	}
	var back AuditTarget
	if err := json.Unmarshal(encoded, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, full) {
		t.Errorf("AppendJSON decodes to %+v, want %+v", back, full)
	}
	if full.JSONSize() < len(encoded)/2 {
		t.Errorf("JSONSize = %d for %d bytes of JSON", full.JSONSize(), len(encoded))
	}
}
