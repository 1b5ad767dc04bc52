package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// testHostsAreStoredPerVersion: a secret's hosts are stored normalized with each
// version, read back by every read of metadata, and refused when invalid.
func testHostsAreStoredPerVersion(t *testing.T, f *Fixture) {
	ctx := context.Background()
	writer := f.Actor
	writer.Role = vault.RoleWrite
	m, err := f.Vault.CreateSecret(ctx, writer, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "STRIPE_KEY",
		Fields: map[string]string{"value": "sk_test_1"}, Hosts: []string{"API.stripe.com.", "*.stripe.com", "api.stripe.com"}})
	if err != nil {
		t.Fatal(err)
	}
	want := secret.Hosts{"*.stripe.com", "api.stripe.com"}
	if !slices.Equal(m.Hosts, want) {
		t.Fatalf("created hosts = %v, want %v", m.Hosts, want)
	}
	wantHosts := func(what string, got secret.Hosts, want secret.Hosts) {
		t.Helper()
		if !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("%s: hosts = %#v, want %#v", what, got, want)
		}
	}
	s, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantHosts("Secret", s.Hosts, want)
	list, err := f.Vault.List(ctx, f.Space.ID, "my-saas", "")
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}
	wantHosts("List", list[0].Hosts, want)

	m2, err := f.Vault.UpdateSecret(ctx, writer, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: 1, Hosts: &[]string{"api.stripe.com"}})
	if err != nil {
		t.Fatalf("narrowing as a writer: %v", err)
	}
	// An update that does not name hosts keeps them.
	m3, err := f.Vault.UpdateSecret(ctx, writer, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: m2.Version, Fields: map[string]string{"value": "sk_test_2"}})
	if err != nil {
		t.Fatal(err)
	}
	wantHosts("update without hosts", m3.Hosts, secret.Hosts{"api.stripe.com"})
	v1, err := f.Vault.Secret(ctx, f.Space.ID, m.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantHosts("version 1", v1.Hosts, want)
	hist, err := f.Vault.History(ctx, f.Space.ID, m.ID)
	if err != nil || len(hist) != 3 {
		t.Fatalf("History = %v, %v", hist, err)
	}
	wantHosts("history of version 3", hist[0].Hosts, secret.Hosts{"api.stripe.com"})
	wantHosts("history of version 1", hist[2].Hosts, want)

	_, err = f.Vault.CreateSecret(ctx, writer, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "BAD_HOSTS",
		Fields: map[string]string{"value": "x"}, Hosts: []string{"*.com"}})
	if !errors.Is(err, vault.ErrInvalid) || !strings.Contains(err.Error(), "public suffix") {
		t.Fatalf("create with *.com: %v", err)
	}
	_, err = f.Vault.UpdateSecret(ctx, writer, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: m3.Version, Hosts: &[]string{"8.8.8.8"}})
	if !errors.Is(err, vault.ErrInvalid) {
		t.Fatalf("update to a public IP: %v", err)
	}
	if _, err := f.Vault.CreateSecret(ctx, writer, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "FREE", Fields: map[string]string{"value": "x"}}); err != nil {
		t.Fatal(err)
	}
	list, err = f.Vault.List(ctx, f.Space.ID, "my-saas", "")
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v", list, err)
	}
	wantHosts("an unbound secret", list[0].Hosts, nil)
}

// testWideningHostsNeedsAnAdmin: a writer may bind and narrow, only an admin may widen
// or clear, a rollback never widens, and each change is audited by its kind.
func testWideningHostsNeedsAnAdmin(t *testing.T, f *Fixture) {
	ctx := context.Background()
	writer, admin := f.Actor, f.Actor
	writer.Role, admin.Role = vault.RoleWrite, vault.RoleAdmin
	m, err := f.Vault.CreateSecret(ctx, writer, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: "TOKEN", Fields: map[string]string{"value": "t1"}})
	if err != nil {
		t.Fatal(err)
	}
	version := m.Version
	update := func(actor vault.Actor, hosts ...string) error {
		t.Helper()
		h := append([]string{}, hosts...)
		got, err := f.Vault.UpdateSecret(ctx, actor, vault.SecretUpdate{SpaceID: f.Space.ID, ID: m.ID, Version: version, Hosts: &h})
		if err == nil {
			version = got.Version
		}
		return err
	}
	mustUpdate := func(actor vault.Actor, hosts ...string) {
		t.Helper()
		if err := update(actor, hosts...); err != nil {
			t.Fatalf("update to %v as %s: %v", hosts, actor.Role, err)
		}
	}
	refused := func(actor vault.Actor, hosts ...string) {
		t.Helper()
		err := update(actor, hosts...)
		if !errors.Is(err, vault.ErrForbidden) || !strings.Contains(err.Error(), "widening a secret's hosts needs an admin key") {
			t.Fatalf("update to %v as %s: %v, want a refusal naming the rule", hosts, actor.Role, err)
		}
	}
	mustUpdate(writer, "*.example.com")       // v2: set
	mustUpdate(writer, "api.example.com")     // v3: narrowed
	refused(writer, "*.example.com")          // wider
	refused(writer)                           // cleared
	refused(f.Actor, "other.example.com")     // no role
	mustUpdate(writer, "api.example.com:443") // v4: narrowed to one port
	refused(writer, "api.example.com:8443")   // another port
	mustUpdate(admin, "*.example.com")        // v5: widened
	mustUpdate(admin)                         // v6: cleared

	// Back to v3's hosts: within unbound, so they return.
	rolled, err := f.Vault.Rollback(ctx, writer, f.Space.ID, m.ID, 3, version)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rolled.Hosts, secret.Hosts{"api.example.com"}) {
		t.Fatalf("rollback to v3 under unbound: hosts %v", rolled.Hosts)
	}
	// Back to v2's wider hosts: the current ones stay, even for an admin.
	rolled, err = f.Vault.Rollback(ctx, admin, f.Space.ID, m.ID, 2, rolled.Version)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rolled.Hosts, secret.Hosts{"api.example.com"}) {
		t.Fatalf("rollback to v2's wider hosts: hosts %v", rolled.Hosts)
	}
	// Back to v1, unbound: wider than anything, so the current ones stay.
	rolled, err = f.Vault.Rollback(ctx, admin, f.Space.ID, m.ID, 1, rolled.Version)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rolled.Hosts, secret.Hosts{"api.example.com"}) {
		t.Fatalf("rollback to unbound v1: hosts %v", rolled.Hosts)
	}

	evs, err := f.Store.Audit(ctx, vault.AuditQuery{SpaceID: f.Space.ID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range slices.Backward(evs) {
		if ev.Target.SecretID == m.ID && ev.Outcome == vault.OutcomeOK {
			got = append(got, fmt.Sprintf("%s v%d %s", ev.Action, ev.Target.Version, ev.Target.Hosts))
		}
	}
	want := []string{
		"secret.create v1 ", "secret.update v2 set", "secret.update v3 narrowed", "secret.update v4 narrowed",
		"secret.update v5 widened", "secret.update v6 cleared",
		"secret.rollback v7 set", "secret.rollback v8 kept", "secret.rollback v9 kept",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// testBindingIsInheritedThroughReferences: a value built from a bound field is bound by
// it, however deep the reference, and a resolve reports every binding it passed.
func testBindingIsInheritedThroughReferences(t *testing.T, f *Fixture) {
	ctx := context.Background()
	writer := f.Actor
	writer.Role = vault.RoleWrite
	create := func(name, value string, hosts ...string) vault.SecretMeta {
		t.Helper()
		m, err := f.Vault.CreateSecret(ctx, writer, vault.SecretInput{SpaceID: f.Space.ID, Collection: "my-saas", Name: name,
			Fields: map[string]string{"value": value}, Hosts: hosts})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	key := create("STRIPE_KEY", "sk_1", "api.stripe.com")
	wide := create("STRIPE_WIDE", "${secret."+key.ID+".value}", "*.stripe.com")
	create("HEADER", "Bearer ${secret."+wide.ID+".value}")
	create("PLAIN", "p")
	vars, err := f.Vault.Resolve(ctx, f.Actor, vault.ResolveRequest{SpaceID: f.Space.ID, Collection: "my-saas"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vars {
		got[v.Name] = bindings(v.Hosts)
	}
	want := map[string]string{
		"HEADER":      "[[*.stripe.com] [api.stripe.com]]",
		"PLAIN":       "",
		"STRIPE_KEY":  "[[api.stripe.com]]",
		"STRIPE_WIDE": "[[*.stripe.com] [api.stripe.com]]",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: bindings %s, want %s", name, got[name], w)
		}
	}
	_, used, err := f.Vault.ExpandTemplates(ctx, f.Actor, f.Space.ID, []string{"${secret." + wide.ID + ".value}"})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) != 2 {
		t.Fatalf("used %d references, want 2", len(used))
	}
	for r, u := range used {
		want := map[string]string{key.ID: "[[api.stripe.com]]", wide.ID: "[[*.stripe.com] [api.stripe.com]]"}[r.ID]
		if bindings(u.Hosts) != want {
			t.Errorf("used %s: bindings %v, want %s", r, u.Hosts, want)
		}
	}
}

// bindings formats hosts bindings as [[a b] [c]].
func bindings(bs []secret.Hosts) string {
	if bs == nil {
		return ""
	}
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = "[" + strings.Join(b, " ") + "]"
	}
	return "[" + strings.Join(parts, " ") + "]"
}
