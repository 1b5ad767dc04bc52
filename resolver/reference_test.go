package resolver

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kazzle/kazzle/secret"

	"github.com/google/go-cmp/cmp"
)

// id makes a readable, valid UUID for test secret n.
func id(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func ref(n int, field string) string { return "${secret." + id(n) + "." + field + "}" }

type mapSource map[string]secret.Secret

func (m mapSource) Secret(id string) (secret.Secret, error) {
	s, ok := m[id]
	if !ok {
		return secret.Secret{}, fmt.Errorf("secret %s: %w", id, ErrUnknownSecret)
	}
	return s, nil
}

func str(n int, name, value string) secret.Secret {
	return secret.Secret{ID: id(n), Name: name, Type: secret.TypeString, Fields: secret.FieldsOf(map[string]string{"value": value})}
}

func sourceOf(secrets ...secret.Secret) mapSource {
	m := mapSource{}
	for _, s := range secrets {
		m[s.ID] = s
	}
	return m
}

func TestExpand(t *testing.T) {
	user := secret.Secret{ID: id(1), Name: "DB", Type: secret.TypeLogin, Fields: secret.FieldsOf(map[string]string{"username": "app", "password": "p@ss:w/rd"})}
	host := str(2, "DB_HOST", "db.internal")
	url := str(3, "DATABASE_URL", "postgres://"+ref(1, "username")+":"+ref(1, "password")+"@"+ref(2, "value")+":5432/app")
	// A diamond: TOP uses LEFT and RIGHT, which both use BASE.
	base := str(10, "BASE", "b")
	left := str(11, "LEFT", "L"+ref(10, "value"))
	right := str(12, "RIGHT", "R"+ref(10, "value"))
	top := str(13, "TOP", ref(11, "value")+"+"+ref(12, "value"))
	escaped := str(20, "LITERAL", "$${secret."+id(1)+".password} and $${x}")
	git := secret.Secret{ID: id(30), Name: "GH", Type: secret.TypeGit, Fields: secret.FieldsOf(map[string]string{"host": "github.com", "path": "/acme/", "username": "x", "password": "t"})}
	totp := secret.Secret{ID: id(31), Name: "OTP", Type: secret.TypeTOTP, Fields: secret.FieldsOf(map[string]string{"seed": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"})}
	usesCode := str(32, "CODE_USER", "code="+ref(31, "code"))
	src := sourceOf(user, host, url, base, left, right, top, escaped, git, totp, usesCode)

	for _, tc := range []struct {
		s     secret.Secret
		field string
		want  string
	}{
		{url, "value", "postgres://app:p@ss:w/rd@db.internal:5432/app"},
		{top, "value", "Lb+Rb"},
		{escaped, "value", "${secret." + id(1) + ".password} and ${x}"},
		{git, "url", "https://github.com/acme"},
		{usesCode, "value", "code=081804"},
	} {
		t.Run(tc.s.Name, func(t *testing.T) {
			e := NewExpander(src, time.Unix(1111111109, 0))
			got, err := e.Field(tc.s, tc.field)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestExpandErrors(t *testing.T) {
	self := str(1, "SELF", "x"+ref(1, "value"))
	a := str(2, "A", ref(3, "value"))
	b := str(3, "B", ref(4, "value"))
	c := str(4, "C", "c"+ref(2, "value"))
	missing := str(5, "MISSING", "hunter2 "+ref(99, "value"))
	badField := str(6, "BAD_FIELD", "hunter2 "+ref(7, "password"))
	target := str(7, "TARGET", "hunter2")
	login := secret.Secret{ID: id(8), Name: "LOGIN", Type: secret.TypeLogin, Fields: secret.FieldsOf(map[string]string{"username": "u", "password": "hunter2"})}
	wantsCode := str(9, "WANTS_CODE", ref(8, "code"))
	src := sourceOf(self, a, b, c, missing, badField, target, login, wantsCode)

	for _, tc := range []struct {
		s    secret.Secret
		is   error
		want string
	}{
		{self, nil, "reference cycle: SELF.value -> SELF.value"},
		{a, nil, "reference cycle: A.value -> B.value -> C.value -> A.value"},
		{missing, ErrUnknownSecret, "MISSING.value: ${secret." + id(99) + ".value}"},
		{badField, ErrUnknownField, `string secret TARGET has no field "password"`},
		{wantsCode, ErrUnknownField, `login secret LOGIN has no field "code"`},
	} {
		t.Run(tc.s.Name, func(t *testing.T) {
			_, err := NewExpander(src, time.Now()).Field(tc.s, "value")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want errors.Is %v", err, tc.is)
			}
			var cycle *CycleError
			if strings.Contains(tc.want, "cycle") && !errors.As(err, &cycle) {
				t.Errorf("err = %T, want *CycleError", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error quotes a value: %v", err)
			}
		})
	}
}

func TestExpandDepthLimit(t *testing.T) {
	// chain(n): secret 0 refers to 1, …, n-1 refers to n, which is plain.
	chain := func(n int) (secret.Secret, Source) {
		src := mapSource{}
		for i := 0; i < n; i++ {
			src[id(i)] = str(i, fmt.Sprintf("S%d", i), ref(i+1, "value"))
		}
		src[id(n)] = str(n, fmt.Sprintf("S%d", n), "end")
		return src[id(0)], src
	}
	s, src := chain(MaxDepth)
	if got, err := NewExpander(src, time.Now()).Field(s, "value"); err != nil || got != "end" {
		t.Fatalf("%d nested references: %q, %v; want end", MaxDepth, got, err)
	}
	s, src = chain(MaxDepth + 1)
	if _, err := NewExpander(src, time.Now()).Field(s, "value"); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("%d nested references: err = %v, want ErrTooDeep", MaxDepth+1, err)
	}
	// The limit counts references, whatever ends the chain: a computed TOTP code too.
	s, src = chain(MaxDepth)
	src.(mapSource)[id(MaxDepth)] = secret.Secret{ID: id(MaxDepth), Name: "OTP", Type: secret.TypeTOTP, Fields: secret.FieldsOf(map[string]string{"seed": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"})}
	src.(mapSource)[id(MaxDepth-1)] = str(MaxDepth-1, "LAST", ref(MaxDepth, "code"))
	if _, err := NewExpander(src, time.Now()).Field(s, "value"); err != nil {
		t.Fatalf("%d nested references ending in a TOTP code: %v", MaxDepth, err)
	}
}

func TestResolve(t *testing.T) {
	db := secret.Secret{ID: id(1), Name: "DB", Type: secret.TypeLogin, Fields: secret.FieldsOf(map[string]string{"username": "app", "password": "pw"})}
	api := str(2, "API_KEY", "k-"+ref(1, "username"))
	otp := secret.Secret{ID: id(3), Name: "OTP", Type: secret.TypeTOTP, Fields: secret.FieldsOf(map[string]string{"seed": "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"})}
	empty := str(4, "FLAG", "")
	vars, err := Resolve(View([]secret.Secret{db, api, otp, empty}, "dev"), sourceOf(db, api, otp, empty), time.Unix(1111111109, 0))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range vars {
		got[v.Name] = v.Value
	}
	want := map[string]string{"API_KEY": "k-app", "DB_USERNAME": "app", "DB_PASSWORD": "pw", "OTP_CODE": "081804", "FLAG": ""}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vars (-want +got):\n%s", diff)
	}

	clash := []secret.Secret{str(1, "DB_URL", "x"), {ID: id(2), Name: "DB", Type: secret.TypeLogin, Fields: secret.FieldsOf(map[string]string{"username": "u", "password": "p", "url": "y"})}}
	if _, err := Resolve(View(clash, ""), sourceOf(clash...), time.Now()); err == nil || !strings.Contains(err.Error(), "both export DB_URL") {
		t.Errorf("clashing variable names: err = %v", err)
	}
}

// TestBindingIsInheritedThroughReferences: a value is bound by every bound secret its
// expansion passed through, and an unbound one that references a bound field is bound.
func TestBindingIsInheritedThroughReferences(t *testing.T) {
	key := str(1, "KEY", "sk_1")
	key.Hosts = secret.Hosts{"api.stripe.com"}
	wide := str(2, "WIDE", "x"+ref(1, "value"))
	wide.Hosts = secret.Hosts{"*.stripe.com"}
	header := str(3, "HEADER", "Bearer "+ref(2, "value")+ref(1, "value"))
	plain := str(4, "PLAIN", "p")
	otp := secret.Secret{ID: id(5), Name: "OTP", Type: secret.TypeTOTP, Fields: secret.Fields{{Name: secret.FieldSeed, Value: ref(6, "value")}}}
	seed := str(6, "SEED", "JBSWY3DPEHPK3PXP")
	seed.Hosts = secret.Hosts{"localhost"}
	e := NewExpander(sourceOf(key, wide, header, plain, otp, seed), time.Now())
	vars, err := e.Resolve([]secret.Secret{header, key, otp, plain, wide})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"HEADER":   "*.stripe.com|api.stripe.com",
		"KEY":      "api.stripe.com",
		"OTP_CODE": "localhost",
		"PLAIN":    "",
		"WIDE":     "*.stripe.com|api.stripe.com",
	}
	for _, v := range vars {
		var got []string
		for _, h := range v.Hosts {
			got = append(got, h.String())
		}
		if g := strings.Join(got, "|"); g != want[v.Name] {
			t.Errorf("%s: bindings %q, want %q", v.Name, g, want[v.Name])
		}
	}
	if b := e.Binding(secret.Ref{ID: id(2), Field: "value"}); len(b) != 2 {
		t.Errorf("Binding of a used reference = %v, want both", b)
	}
	_, b, err := e.ExpandBinding("a " + ref(1, "value") + ref(4, "value"))
	if err != nil || len(b) != 1 || b[0].String() != "api.stripe.com" {
		t.Errorf("ExpandBinding = %v, %v", b, err)
	}
}
