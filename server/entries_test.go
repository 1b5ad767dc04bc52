package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
)

const enteredValue = "sk_live_typed_by_the_person_77"

// TestEntriesOverTheAPI: who may ask for, see, fill, wait on and cancel an entry.
func TestEntriesOverTheAPI(t *testing.T) {
	w := newWorld(t)
	ask := func(token string, req api.CreateEntryRequest) (int, api.Entry, string) {
		t.Helper()
		status, body := w.do(t, token, "POST", "/v1/entries", req)
		var e api.Entry
		json.Unmarshal(body, &e)
		return status, e, string(body)
	}
	get := func(token, id, query string) (int, api.Entry) {
		t.Helper()
		status, body := w.do(t, token, "GET", "/v1/entries/"+id+query, nil)
		var e api.Entry
		json.Unmarshal(body, &e)
		return status, e
	}
	if status, _, _ := ask(w.tokens["read"], api.CreateEntryRequest{Collection: "my-saas", Environment: "dev", Name: "X"}); status != http.StatusForbidden {
		t.Fatalf("a read key asked: %d", status)
	}
	if status, _, _ := ask(w.tokens["write-app-dev"], api.CreateEntryRequest{Collection: "my-saas", Environment: "prod", Name: "X"}); status != http.StatusNotFound {
		t.Fatalf("a key limited to dev asked for prod: %d", status)
	}
	if status, _, body := ask(w.tokens["write"], api.CreateEntryRequest{Collection: "my-saas", Name: "X", ExpiresIn: 8 * 24 * 3600}); status != http.StatusBadRequest {
		t.Fatalf("eight days: %d %s", status, body)
	}
	status, e, body := ask(w.tokens["write"], api.CreateEntryRequest{Collection: "my-saas", Environment: "dev", Name: "STRIPE_KEY", Message: "The live key, please."})
	if status != http.StatusCreated || e.Status != api.EntryPending || e.Path != "/ui/enter/"+e.ID || e.CreatedBy != "write" ||
		!e.ExpiresAt.Equal(w.Clock.Now().Add(15*time.Minute)) || strings.Join(e.Fields, ",") != "value" {
		t.Fatalf("create: %d %s", status, body)
	}

	for name, want := range map[string]int{"write": 200, "admin": 200, "write-app-dev": 200, "read": 404, "read-app": 404} {
		if status, _ := get(w.tokens[name], e.ID, ""); status != want {
			t.Errorf("GET as %s: %d, want %d", name, status, want)
		}
	}
	if status, _ := get(w.tokens["write"], e.ID, "?wait=61"); status != http.StatusBadRequest {
		t.Fatalf("wait=61: %d", status)
	}
	start := time.Now()
	if status, got := get(w.tokens["write"], e.ID, "?wait=1"); status != 200 || got.Status != api.EntryPending || time.Since(start) < time.Second {
		t.Fatalf("wait=1 on a pending entry: %d %s after %s", status, got.Status, time.Since(start))
	}

	fill := func(token, id string, fields map[string]string) (int, string) {
		status, body := w.do(t, token, "POST", "/v1/entries/"+id+"/fill", api.FillEntryRequest{Fields: fields})
		return status, string(body)
	}
	if status, body := fill(w.tokens["read"], e.ID, map[string]string{"value": enteredValue}); status != http.StatusForbidden || strings.Contains(body, enteredValue) {
		t.Fatalf("a read key filled: %d %s", status, body)
	}
	if status, body := fill(w.tokens["write-app-dev"], e.ID, map[string]string{"value": "kzl_" + strings.Repeat("x", 43)}); status != http.StatusBadRequest || !strings.Contains(body, "API key") || strings.Contains(body, "kzl_x") {
		t.Fatalf("an API key as the value: %d %s", status, body)
	}
	done := make(chan api.Entry, 1)
	go func() {
		_, got := get(w.tokens["write"], e.ID, "?wait=10")
		done <- got
	}()
	time.Sleep(300 * time.Millisecond)
	status, body = fill(w.tokens["write-app-dev"], e.ID, map[string]string{"value": enteredValue})
	if status != http.StatusOK || strings.Contains(body, enteredValue) {
		t.Fatalf("fill: %d %s", status, body)
	}
	var got api.Entry
	select {
	case got = <-done:
	case <-time.After(8 * time.Second):
		t.Fatal("the wait did not end with the fill")
	}
	if got.Status != api.EntryDone || got.SecretID == "" || got.DoneBy != "write-app-dev" || strings.Join(got.References, ",") != "${secret."+got.SecretID+".value}" {
		t.Fatalf("the waited entry: %+v", got)
	}
	if status, body := fill(w.tokens["write-app-dev"], e.ID, map[string]string{"value": "second-value-1"}); status != http.StatusConflict {
		t.Fatalf("a second fill: %d %s", status, body)
	}
	status, resolved := w.do(t, w.tokens["read"], "POST", "/v1/resolve", api.ResolveRequest{Collection: "my-saas", Environment: "dev", Names: []string{"STRIPE_KEY"}})
	if status != 200 || !strings.Contains(string(resolved), enteredValue) {
		t.Fatalf("resolve after the fill: %d", status)
	}

	// Cancelling: the asker, or an admin.
	_, other, _ := ask(w.tokens["write"], api.CreateEntryRequest{Collection: "my-saas", Environment: "dev", Name: "OTHER"})
	if status, _ := w.do(t, w.tokens["write-app-dev"], "DELETE", "/v1/entries/"+other.ID, nil); status != http.StatusForbidden {
		t.Fatalf("another write key cancelled: %d", status)
	}
	if status, body := w.do(t, w.tokens["write"], "GET", "/v1/entries", nil); status != 200 || !strings.Contains(string(body), other.ID) || strings.Contains(string(body), e.ID) {
		t.Fatalf("list: %d %s", status, body)
	}
	if status, _ := w.do(t, w.tokens["write"], "DELETE", "/v1/entries/"+other.ID, nil); status != http.StatusNoContent {
		t.Fatalf("the asker cancelled: %d", status)
	}
	if status, got := get(w.tokens["write"], other.ID, ""); status != 200 || got.Status != api.EntryCancelled {
		t.Fatalf("after cancelling: %d %+v", status, got)
	}

	// The cap on pending entries.
	for i := 0; i < vault.MaxPendingEntries; i++ {
		if status, _, body := ask(w.tokens["admin"], api.CreateEntryRequest{Collection: "my-saas", Name: "MANY"}); status != http.StatusCreated {
			t.Fatalf("entry %d: %d %s", i+1, status, body)
		}
	}
	if status, _, body := ask(w.tokens["admin"], api.CreateEntryRequest{Collection: "my-saas", Name: "MANY"}); status != http.StatusTooManyRequests || !strings.Contains(body, "too_many") {
		t.Fatalf("past the cap: %d %s", status, body)
	}
}

// TestAKeyHoldsAFewWaitsAtOnce: each wait polls the store, so one key may hold only a
// few open; the one past them is refused at once, and a slot frees when a wait ends.
func TestAKeyHoldsAFewWaitsAtOnce(t *testing.T) {
	w := newWorld(t)
	status, body := w.do(t, w.tokens["write"], "POST", "/v1/entries", api.CreateEntryRequest{Collection: "my-saas", Environment: "dev", Name: "WAITED"})
	var e api.Entry
	if err := json.Unmarshal(body, &e); err != nil || status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	const held = 4
	results := make(chan int, held)
	for range held {
		go func() {
			status, _ := w.do(t, w.tokens["write"], "GET", "/v1/entries/"+e.ID+"?wait=20", nil)
			results <- status
		}()
	}
	time.Sleep(1500 * time.Millisecond) // the held waits are under way
	status, body = w.do(t, w.tokens["write"], "GET", "/v1/entries/"+e.ID+"?wait=1", nil)
	if status != http.StatusTooManyRequests || !strings.Contains(string(body), "one at a time") {
		t.Fatalf("a wait past %d held by one key: %d %s", held, status, body)
	}
	if status, _ := w.do(t, w.tokens["admin"], "GET", "/v1/entries/"+e.ID+"?wait=1", nil); status != http.StatusOK {
		t.Fatalf("another key's wait: %d", status)
	}
	if status, _ := w.do(t, w.tokens["write"], "GET", "/v1/entries/"+e.ID, nil); status != http.StatusOK {
		t.Fatalf("a look without wait: %d", status)
	}
	if status, body := w.do(t, w.tokens["write"], "POST", "/v1/entries/"+e.ID+"/fill", api.FillEntryRequest{Fields: map[string]string{"value": enteredValue}}); status != http.StatusOK {
		t.Fatalf("fill: %d %s", status, body)
	}
	for range held {
		if status := <-results; status != http.StatusOK {
			t.Fatalf("a held wait ended %d", status)
		}
	}
	if status, _ := w.do(t, w.tokens["write"], "GET", "/v1/entries/"+e.ID+"?wait=1", nil); status != http.StatusOK {
		t.Fatalf("a wait after the others ended: %d", status)
	}
}
