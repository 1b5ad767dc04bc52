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
			SpaceName: collection, Reason: reason, Vars: vars, Count: vars + 1}
		if secrets != "" {
			want.Secrets = strings.Split(secrets, ",")
			want.Referenced = strings.Split(secrets+",x", ",")
		}
		var got, viaStd AuditTarget
		if err := json.Unmarshal(want.AppendJSON(nil), &got); err != nil {
			t.Fatalf("AppendJSON's output does not decode: %v\n%s", err, want.AppendJSON(nil))
		}
		std, _ := json.Marshal(want)
		if err := json.Unmarshal(std, &viaStd); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, viaStd) {
			t.Fatalf("AppendJSON decodes to %+v, encoding/json to %+v", got, viaStd)
		}
	})
}
