package resolver

import (
	"errors"
	"testing"
	"time"

	"github.com/kazzle/kazzle/secret"

	"github.com/google/go-cmp/cmp"
)

// TestSubstituteReportsNestedReferences: what the caller must redact includes values
// reached through other values, which a command can print on their own.
func TestSubstituteReportsNestedReferences(t *testing.T) {
	user := secret.Secret{ID: id(1), Name: "DB", Type: secret.TypeLogin, Fields: secret.FieldsOf(map[string]string{"username": "app", "password": "p@ss:w/rd"})}
	url := str(3, "DATABASE_URL", "postgres://"+ref(1, "username")+":"+ref(1, "password")+"@db:5432/app")
	e := NewExpander(sourceOf(user, url), time.Now())
	fetch := func(refs []string) ([]string, error) {
		var out []string
		for _, r := range refs {
			v, err := e.Expand(r)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	texts := []string{"plain ${HOME} text", "curl " + ref(3, "value"), "$${secret.x}", "-u " + ref(1, "username") + " again " + ref(3, "value")}
	got, err := Substitute(texts, fetch)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"plain ${HOME} text", "curl postgres://app:p@ss:w/rd@db:5432/app", "${secret.x}", "-u app again postgres://app:p@ss:w/rd@db:5432/app"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	used := e.Used()
	wantUsed := map[secret.Ref]string{
		{ID: id(3), Field: "value"}:    "postgres://app:p@ss:w/rd@db:5432/app",
		{ID: id(1), Field: "username"}: "app",
		{ID: id(1), Field: "password"}: "p@ss:w/rd",
	}
	if diff := cmp.Diff(wantUsed, used); diff != "" {
		t.Fatalf("used (-want +got):\n%s", diff)
	}

	calls := 0
	if _, err := Substitute([]string{"no references", "${HOME}"}, func([]string) ([]string, error) { calls++; return nil, nil }); err != nil || calls != 0 {
		t.Fatalf("texts without references: err %v, %d fetches", err, calls)
	}
	_, err = Substitute([]string{"ok", "${secret.not-a-uuid.value}"}, fetch)
	var te *TemplateError
	if !errors.As(err, &te) || te.Index != 1 || !errors.Is(err, secret.ErrSyntax) {
		t.Fatalf("a malformed reference: %v", err)
	}
}
