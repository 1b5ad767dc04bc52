package resolver

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/kazzle/kazzle/secret"
)

// A row stored before writes refused reserved names must not reach a process.
func TestResolveRefusesAStoredSecretWithAReservedName(t *testing.T) {
	view := []secret.Secret{
		{ID: "00000000-0000-4000-8000-000000000001", Name: "API_KEY", Type: secret.TypeString, Fields: secret.Fields{{Name: secret.FieldValue, Value: "sk-1234567890"}}},
		{ID: "00000000-0000-4000-8000-000000000002", Name: "NODE_OPTIONS", Type: secret.TypeString, Fields: secret.Fields{{Name: secret.FieldValue, Value: "--require=/tmp/evil.js"}}},
	}
	_, err := Resolve(view, SourceFunc(func(string) (secret.Secret, error) { return secret.Secret{}, ErrUnknownSecret }), time.Now())
	if !errors.Is(err, secret.ErrReservedName) || errors.Is(err, secret.ErrInvalid) {
		t.Fatalf("Resolve = %v, want secret.ErrReservedName (not ErrInvalid: the request was fine, the row is not)", err)
	}
	for _, want := range []string{"NODE_OPTIONS", "another name", "kazzle secrets delete NODE_OPTIONS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "evil") {
		t.Errorf("error %q holds the value", err)
	}
}

func TestViewTaggedOverridesUntagged(t *testing.T) {
	secrets := []secret.Secret{
		{ID: "1", Name: "API_URL", Env: ""},
		{ID: "2", Name: "API_URL", Env: "prod"},
		{ID: "3", Name: "DEBUG", Env: "dev"},
		{ID: "4", Name: "SHARED", Env: ""},
		{ID: "5", Name: "API_URL", Env: "dev"},
	}
	ids := func(v []secret.Secret) []string {
		var out []string
		for _, s := range v {
			out = append(out, s.Name+"="+s.ID)
		}
		return out
	}
	for env, want := range map[string][]string{
		"dev":     {"API_URL=5", "DEBUG=3", "SHARED=4"},
		"prod":    {"API_URL=2", "SHARED=4"},
		"staging": {"API_URL=1", "SHARED=4"},
	} {
		if diff := cmp.Diff(want, ids(View(secrets, env))); diff != "" {
			t.Errorf("View(%s) (-want +got):\n%s", env, diff)
		}
	}
}
