package vault

import (
	"strconv"

	"github.com/kazzle/kazzle/vault/jsonstr"
)

// JSONSize estimates the length of t's JSON, for sizing a buffer.
func (t AuditTarget) JSONSize() int {
	n := 256 + len(t.Reason)
	for _, s := range t.Secrets {
		n += len(s) + 3
	}
	n += len(t.Referenced) * 39
	for _, s := range t.Generated {
		n += len(s) + 3
	}
	n += len(t.Entry) + len(t.From) + len(t.SpaceID)
	n += len(t.RevokedKeys) * 39
	return n
}

// AppendJSON appends t as encoding/json would encode it (keys in field order, empty ones
// left out), without reflection: every read writes an audit event, and encoding/json was
// a twentieth of a resolve's CPU time. Stores save targets in this form.
func (t AuditTarget) AppendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	key := func(name string) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
	}
	str := func(name, v string) {
		if v != "" {
			key(name)
			b = jsonstr.AppendString(b, v)
		}
	}
	num := func(name string, v int) {
		if v != 0 {
			key(name)
			b = strconv.AppendInt(b, int64(v), 10)
		}
	}
	str("collection_id", t.CollectionID)
	str("collection", t.Collection)
	str("environment_id", t.EnvironmentID)
	str("environment", t.Environment)
	str("secret_id", t.SecretID)
	str("secret", t.Secret)
	num("version", t.Version)
	str("hosts", t.Hosts)
	strs := func(name string, v []string) {
		if len(v) > 0 {
			key(name)
			b = append(b, '[')
			for i, s := range v {
				if i > 0 {
					b = append(b, ',')
				}
				b = jsonstr.AppendString(b, s)
			}
			b = append(b, ']')
		}
	}
	strs("secrets", t.Secrets)
	strs("referenced", t.Referenced)
	str("key_id", t.KeyID)
	str("key", t.Key)
	str("wrapping_key_id", t.WrappingKeyID)
	str("space", t.SpaceName)
	str("space_id", t.SpaceID)
	str("reason", t.Reason)
	num("vars", t.Vars)
	num("count", t.Count)
	strs("generated", t.Generated)
	str("entry", t.Entry)
	str("from", t.From)
	strs("revoked_keys", t.RevokedKeys)
	return append(b, '}')
}
