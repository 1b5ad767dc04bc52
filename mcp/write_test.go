package mcp

import (
	"context"
	"strings"
	"testing"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/kazzle/kazzle/secret"
)

func TestRequestStateNamesOnlyAnEntryThisProcessMade(t *testing.T) {
	es, other := newEntries(), newEntries()
	const id = "ELsLXFFeZZZ2RZnECSvzkyuCDxLIUnYg"
	st := es.state(id)
	if got, err := es.entryOf(st); err != nil || got != id {
		t.Fatalf("entryOf(state) = %q, %v", got, err)
	}
	if strings.Count(st, ".") != 1 || !strings.HasPrefix(st, id+".") {
		t.Fatalf("the state %q holds more than the entry id and its MAC", st)
	}
	for _, forged := range []string{other.state(id), id, id + ".", "x" + st[1:], st[:len(st)-2], "", "." + strings.Split(st, ".")[1]} {
		if _, err := es.entryOf(forged); err == nil {
			t.Errorf("entryOf(%q) was accepted", forged)
		}
	}
}

func TestHostsOnlyNarrow(t *testing.T) {
	for _, tc := range []struct {
		cur, next []string
		ok        bool
	}{
		{nil, []string{"api.stripe.com"}, true},
		{[]string{"*.stripe.com"}, []string{"api.stripe.com"}, true},
		{[]string{"api.stripe.com"}, []string{"api.stripe.com"}, true},
		{[]string{"api.stripe.com"}, []string{"evil.test"}, false},
		{[]string{"api.stripe.com"}, []string{"*.stripe.com"}, false},
		{[]string{"api.stripe.com"}, []string{}, false},
		{nil, []string{}, false},
	} {
		if err := narrows(tc.cur, tc.next); (err == nil) != tc.ok {
			t.Errorf("narrows(%q, %q) = %v, want ok=%v", tc.cur, tc.next, err, tc.ok)
		}
	}
}

func TestSourcesOfFitTheType(t *testing.T) {
	gen := valueSource{Generate: &generateSource{}}
	if m, err := sourcesOf(secret.TypeTOTP, &gen, nil, false); err != nil || m["seed"].Generate == nil {
		t.Fatalf("a totp source: %v, %v", m, err)
	}
	for name, f := range map[string]func() error{
		"source for a login": func() error { _, err := sourcesOf(secret.TypeLogin, &gen, nil, false); return err },
		"both": func() error {
			_, err := sourcesOf(secret.TypeString, &gen, map[string]valueSource{"value": gen}, false)
			return err
		},
		"an unknown field": func() error {
			_, err := sourcesOf(secret.TypeLogin, nil, map[string]valueSource{"token": gen}, false)
			return err
		},
		"nothing, on a create": func() error { _, err := sourcesOf(secret.TypeString, nil, nil, false); return err },
		"a literal password": func() error {
			_, err := (&tools{}).plan(context.Background(), secret.TypeLogin, map[string]valueSource{"password": {Literal: new(string)}})
			return err
		},
		"two sources of a field": func() error {
			_, err := (&tools{}).plan(context.Background(), secret.TypeString, map[string]valueSource{"value": {Generate: &generateSource{}, Literal: new(string)}})
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestUpdateSecretIsMarkedDestructive(t *testing.T) {
	ctx := context.Background()
	st, ct := sdk.NewInMemoryTransports()
	if _, err := New(Options{}).Connect(ctx, st, nil); err != nil {
		t.Fatal(err)
	}
	cs, err := sdk.NewClient(&sdk.Implementation{Name: "test"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]*sdk.ToolAnnotations{}
	for _, tool := range res.Tools {
		found[tool.Name] = tool.Annotations
	}
	if a := found["update_secret"]; a == nil || a.DestructiveHint == nil || !*a.DestructiveHint {
		t.Fatalf("update_secret's annotations: %+v", a)
	}
	if a := found["create_secret"]; a == nil || a.DestructiveHint == nil || *a.DestructiveHint {
		t.Fatalf("create_secret's annotations: %+v", a)
	}
	if a := found["await_entry"]; a == nil || !a.ReadOnlyHint {
		t.Fatalf("await_entry's annotations: %+v", a)
	}
}
