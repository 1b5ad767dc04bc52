package resolver

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kazzle/kazzle/secret"
)

// bomb returns secrets where n levels of 16 references each stand on a leaf of leafLen
// bytes: a few kilobytes that would expand to leafLen × 16^n. Secret 1 is the leaf and
// secret 1+n the top.
func bomb(leafLen, n int) []secret.Secret {
	out := []secret.Secret{str(1, "LEAF", strings.Repeat("x", leafLen))}
	for level := 1; level <= n; level++ {
		out = append(out, str(1+level, "LEVEL"+string(rune('0'+level)), strings.Repeat(ref(level, "value"), 16)))
	}
	return out
}

func wantExpansionError(t *testing.T, err error, where string, limit int, total bool) {
	t.Helper()
	var ee *ExpansionError
	if !errors.As(err, &ee) || !errors.Is(err, ErrExpansionTooLarge) {
		t.Fatalf("err = %v, want an *ExpansionError", err)
	}
	if ee.Where != where || ee.Limit != limit || ee.Total != total {
		t.Fatalf("ExpansionError = %+v, want where %s, limit %d, total %v", ee, where, limit, total)
	}
	if !strings.Contains(err.Error(), where) || !strings.Contains(err.Error(), "65536") && !strings.Contains(err.Error(), "1048576") {
		t.Fatalf("message %q names neither the field nor the limit", err)
	}
}

// allocated returns the bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestExpansionBombStopsAtTheCapWithoutBuildingPastIt: a field whose references would
// expand to gigabytes is refused, naming the first field past the cap, and expanding it
// allocates less than one capped field.
func TestExpansionBombStopsAtTheCapWithoutBuildingPastIt(t *testing.T) {
	secrets := bomb(secret.MaxFieldSize, 4) // 64 KiB × 16^4 = 4 GiB
	top := secrets[len(secrets)-1]
	var err error
	n := allocated(func() { _, err = NewExpander(sourceOf(secrets...), time.Now()).Field(top, secret.FieldValue) })
	wantExpansionError(t, err, "LEVEL1.value", MaxExpandedField, false)
	if n > MaxExpandedField {
		t.Fatalf("expanding the bomb allocated %d bytes, more than the %d-byte cap", n, MaxExpandedField)
	}
	n = allocated(func() { _, err = Resolve(secrets, sourceOf(secrets...), time.Now()) })
	wantExpansionError(t, err, "LEVEL1.value", MaxExpandedField, false)
	if n > MaxExpandedField {
		t.Fatalf("resolving the bomb allocated %d bytes", n)
	}
}

// TestExpandedFieldLimit: a field expands to exactly MaxExpandedField bytes, not one more.
func TestExpandedFieldLimit(t *testing.T) {
	half := str(1, "HALF", strings.Repeat("h", MaxExpandedField/2))
	atLimit := str(2, "AT_LIMIT", ref(1, "value")+ref(1, "value"))
	past := str(3, "PAST", ref(1, "value")+"x"+ref(1, "value"))
	e := NewExpander(sourceOf(half, atLimit, past), time.Now())
	v, err := e.Field(atLimit, secret.FieldValue)
	if err != nil || len(v) != MaxExpandedField {
		t.Fatalf("at the limit: %d bytes, %v", len(v), err)
	}
	_, err = e.Field(past, secret.FieldValue)
	wantExpansionError(t, err, "PAST.value", MaxExpandedField, false)

	// A git secret's url is built from host and path: capped the same way.
	git := secret.Secret{ID: id(4), Name: "REPO", Type: secret.TypeGit, Fields: secret.FieldsOf(map[string]string{
		"host": ref(1, "value"), "path": ref(1, "value"), "username": "u", "password": "p"})}
	_, err = NewExpander(sourceOf(half, git), time.Now()).Field(git, secret.FieldURL)
	wantExpansionError(t, err, "REPO.url", MaxExpandedField, false)
}

// TestResolveTotalLimit: the values of one resolve total at most MaxExpandedTotal.
func TestResolveTotalLimit(t *testing.T) {
	var view []secret.Secret
	for i := 1; i <= MaxExpandedTotal/MaxExpandedField; i++ {
		view = append(view, str(i, "BIG_"+id(i)[24:], strings.Repeat("v", MaxExpandedField)))
	}
	vars, err := Resolve(view, sourceOf(view...), time.Now())
	if err != nil || len(vars) != len(view) {
		t.Fatalf("at the limit: %d vars, %v", len(vars), err)
	}
	more := append(view, str(99, "ZZ_ONE_MORE", "x"))
	_, err = Resolve(more, sourceOf(more...), time.Now())
	wantExpansionError(t, err, "ZZ_ONE_MORE.value", MaxExpandedTotal, true)
}

// TestTemplatesTotalLimit: one short template can name a large value many times; what
// the expander substitutes over a request totals at most MaxExpandedTotal.
func TestTemplatesTotalLimit(t *testing.T) {
	big := str(1, "BIG", strings.Repeat("b", MaxExpandedField))
	e := NewExpander(sourceOf(big), time.Now())
	if v, err := e.Expand(strings.Repeat(ref(1, "value"), 15)); err != nil || len(v) != 15*MaxExpandedField {
		t.Fatalf("15 copies: %d bytes, %v", len(v), err)
	}
	if _, err := e.Expand(ref(1, "value")); err != nil {
		t.Fatalf("the 16th copy, at the limit: %v", err)
	}
	var err error
	_, err = e.Expand("x" + ref(1, "value"))
	wantExpansionError(t, err, "argument", MaxExpandedTotal, true)
	n := allocated(func() { _, err = NewExpander(sourceOf(big), time.Now()).Expand(strings.Repeat(ref(1, "value"), 17)) })
	wantExpansionError(t, err, "argument", MaxExpandedTotal, true)
	if n > MaxExpandedField {
		t.Fatalf("a refused template allocated %d bytes", n)
	}

	// Substitute, on the client's side, is bounded the same way.
	fetch := func(refs []string) ([]string, error) { return []string{big.Fields.Value("value")}, nil }
	if _, err := Substitute([]string{strings.Repeat(ref(1, "value"), 16)}, fetch); err != nil {
		t.Fatalf("substitute at the limit: %v", err)
	}
	_, err = Substitute([]string{strings.Repeat(ref(1, "value"), 8), "plain", strings.Repeat(ref(1, "value"), 9)}, fetch)
	var te *TemplateError
	if !errors.As(err, &te) || te.Index != 2 || !errors.Is(err, ErrExpansionTooLarge) {
		t.Fatalf("substitute past the limit: %v", err)
	}
}

// TestExpanderReadNamesEverySecretReferencesReached: nested references count, and so
// does a secret whose expansion was memoised before a reference reached it.
func TestExpanderReadNamesEverySecretReferencesReached(t *testing.T) {
	user := str(1, "DB_USER", "app")
	pass := str(2, "DB_PASS", "pw")
	inner := str(3, "CREDS", ref(1, "value")+":"+ref(2, "value"))
	url := str(4, "DATABASE_URL", "postgres://"+ref(3, "value")+"@db")
	plain := str(5, "PLAIN", "p")
	e := NewExpander(sourceOf(user, pass, inner, url, plain), time.Now())
	if _, err := e.Resolve([]secret.Secret{inner, url, plain}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{id(1): "DB_USER", id(2): "DB_PASS", id(3): "CREDS"}
	got := e.Read()
	if len(got) != len(want) {
		t.Fatalf("Read = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("Read = %v, want %v", got, want)
		}
	}
}

// totpBomb returns n totp secrets whose seeds each reference their own 64 KiB value,
// and those values: six-digit codes that each cost a full field to compute.
func totpBomb(n int) (codes, values []secret.Secret) {
	seed := strings.Repeat("JBSWY3DPEHPK3PXP", secret.MaxFieldSize/16)
	for i := 0; i < n; i++ {
		v := str(1000+i, "SEED_SOURCE", seed)
		values = append(values, v)
		codes = append(codes, secret.Secret{ID: id(5000 + i), Name: "OTP", Type: secret.TypeTOTP, Fields: secret.Fields{{Name: secret.FieldSeed, Value: ref(1000+i, secret.FieldValue)}}})
	}
	return codes, values
}

// TestReferencesBehindTOTPCodesCountAgainstTheRequest: values a request expands but
// does not return (the seeds behind TOTP codes, the Used list a templates call sends
// back) count against MaxExpandedTotal, each once, so small codes cannot carry a
// request past it.
func TestReferencesBehindTOTPCodesCountAgainstTheRequest(t *testing.T) {
	const n = 64 // 64 seeds of 64 KiB: 4 MiB behind 384 bytes of codes
	codes, values := totpBomb(n)
	src := sourceOf(append(append([]secret.Secret(nil), codes...), values...)...)
	for i := range codes {
		codes[i].Name = "OTP" + string(rune('A'+i%26)) + string(rune('A'+i/26))
	}
	_, err := Resolve(codes, src, time.Now())
	var ee *ExpansionError
	if !errors.As(err, &ee) || !ee.Total || ee.Limit != MaxExpandedTotal {
		t.Fatalf("resolving %d codes of 64 KiB seeds: err = %v, want the request's limit", n, err)
	}
	e := NewExpander(src, time.Now())
	var expandErr error
	for i := 0; i < n && expandErr == nil; i++ {
		_, expandErr = e.Expand(secret.Ref{ID: codes[i].ID, Field: secret.FieldCode}.String())
	}
	if !errors.As(expandErr, &ee) || !ee.Total {
		t.Fatalf("templates of %d codes: err = %v, want the request's limit", n, expandErr)
	}
	total := 0
	for _, v := range e.Used() {
		total += len(v)
	}
	if total > MaxExpandedTotal {
		t.Fatalf("Used holds %d bytes, past the %d-byte limit", total, MaxExpandedTotal)
	}
	// Up to the limit, they pass: 16 seeds of 64 KiB are exactly 1 MiB.
	if _, err := Resolve(codes[:MaxExpandedTotal/secret.MaxFieldSize], src, time.Now()); err != nil {
		t.Fatalf("resolving 16 codes: %v", err)
	}
}

// TestAChainOfReferencesCountsEachLink: a chain of references that each pass one value
// on holds the value once per link in Used, so each link counts: the longest chain to a
// value of the field limit fills the request's budget exactly.
func TestAChainOfReferencesCountsEachLink(t *testing.T) {
	chain := []secret.Secret{str(1, "L1", strings.Repeat("c", secret.MaxFieldSize)), str(100, "ONE_MORE", "x")}
	for i := 2; i <= MaxDepth; i++ {
		chain = append(chain, str(i, "L"+string(rune('A'+i)), ref(i-1, secret.FieldValue)))
	}
	e := NewExpander(sourceOf(chain...), time.Now())
	if _, err := e.Expand(ref(MaxDepth, secret.FieldValue)); err != nil {
		t.Fatalf("a chain of %d links to 64 KiB: %v", MaxDepth, err)
	}
	total := 0
	for _, v := range e.Used() {
		total += len(v)
	}
	if total != MaxExpandedTotal {
		t.Fatalf("Used holds %d bytes, want %d", total, MaxExpandedTotal)
	}
	_, err := e.Expand(ref(100, secret.FieldValue))
	var ee *ExpansionError
	if !errors.As(err, &ee) || !ee.Total {
		t.Fatalf("one more reference after the budget is spent: err = %v, want the request's limit", err)
	}
}
