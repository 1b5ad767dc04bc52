package secret

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// id makes a readable, valid UUID for test secret n.
func id(n int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", n) }

func ref(n int, field string) string { return "${secret." + id(n) + "." + field + "}" }

func TestParseTemplate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Part
		err  string
	}{
		{in: "", want: nil},
		{in: "plain", want: []Part{{Literal: "plain"}}},
		{in: ref(1, "value"), want: []Part{{Ref: &Ref{id(1), "value"}}}},
		{in: "a" + ref(1, "password") + "b", want: []Part{{Literal: "a"}, {Ref: &Ref{id(1), "password"}}, {Literal: "b"}}},
		{in: "${secret." + strings.ToUpper(id(1)) + ".value}", want: []Part{{Ref: &Ref{id(1), "value"}}}},
		{in: "$$" + ref(1, "value")[1:], want: []Part{{Literal: "${secret." + id(1) + ".value}"}}},
		{in: "cost: $5 ${HOME} $$x $${", want: []Part{{Literal: "cost: $5 ${HOME} $$x ${"}}},
		{in: "x${secret.", err: "malformed reference at byte 1: no closing }"},
		{in: "${secret.nope}", err: "no field after the secret id"},
		{in: "${secret.not-a-uuid.value}", err: "not a UUID"},
		{in: "${secret." + id(1) + ".Value}", err: "field name"},
		{in: "${secret." + id(1) + ".}", err: "field name"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTemplate(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrSyntax) {
					t.Fatalf("err = %v, want ErrSyntax containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parts (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseTemplate(f *testing.F) {
	for _, s := range []string{"", "plain", ref(1, "value"), "a$${b", "$$" + ref(1, "x"), "${secret.", "x${HOME}y", "$" + ref(2, "password") + "$"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		parts, err := ParseTemplate(s)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset >= len(s) {
				t.Fatalf("error %v is not a SyntaxError inside the input", err)
			}
			return
		}
		if !strings.Contains(s, "${") {
			if (s == "" && parts != nil) || (s != "" && (len(parts) != 1 || parts[0].Literal != s)) {
				t.Fatalf("text without ${ parsed as %+v", parts)
			}
		}
		for i, p := range parts {
			if p.Ref == nil && p.Literal == "" {
				t.Fatalf("empty literal part %d", i)
			}
			if p.Ref != nil && (!IsUUID(p.Ref.ID) || !isFieldName(p.Ref.Field)) {
				t.Fatalf("bad reference %+v", *p.Ref)
			}
			if i > 0 && p.Ref == nil && parts[i-1].Ref == nil {
				t.Fatalf("adjacent literals at %d", i)
			}
		}
		// Formatting round-trips except where a literal "$" sits right before a reference,
		// which the template syntax cannot spell.
		for i, p := range parts {
			if p.Ref == nil && strings.HasSuffix(p.Literal, "$") && i+1 < len(parts) {
				return
			}
		}
		again, err := ParseTemplate(FormatTemplate(parts))
		if err != nil {
			t.Fatalf("formatted template does not parse: %v", err)
		}
		if diff := cmp.Diff(parts, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

func TestReferencesByName(t *testing.T) {
	ids := map[string]string{"DB": id(7), "API_KEY": id(8)}
	lookup := func(name string) (string, error) {
		if v, ok := ids[name]; ok {
			return v, nil
		}
		return "", errors.New("no secret named " + name)
	}
	for _, tc := range []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "postgres://${secret.DB.username}:${secret.DB.password}@db", want: "postgres://" + ref(7, "username") + ":" + ref(7, "password") + "@db"},
		{in: "Bearer ${secret.API_KEY.value}", want: "Bearer " + ref(8, "value")},
		{in: ref(1, "value") + " $${secret.DB.value} ${HOME} $5", want: ref(1, "value") + " $${secret.DB.value} ${HOME} $5"},
		{in: "${secret.not-a-name.value}", want: "${secret.not-a-name.value}"}, // ParseTemplate reports it
		{in: "${secret.DB", want: "${secret.DB"},
		{in: "${secret.MISSING.value}", err: "no secret named MISSING"},
	} {
		got, err := ReferencesByName(tc.in, lookup)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: got %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
