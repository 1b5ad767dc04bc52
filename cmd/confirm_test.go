//go:build linux

package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
)

// fakeAdminAPI answers the reads that precede a deletion and records the deletions.
type fakeAdminAPI struct {
	*httptest.Server
	mu      sync.Mutex
	deleted []string
}

const (
	fakeSecretID = "3f0c7e52-0000-4000-8000-000000000001"
	fakeKeyID    = "7a1d0c3e-0000-4000-8000-000000000002"
)

func newFakeAdminAPI(t *testing.T) *fakeAdminAPI {
	f := &fakeAdminAPI{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/collections/app/secrets", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.SecretList{Secrets: []api.Secret{
			{ID: fakeSecretID, Name: "API_URL", Type: "string", Collection: "app", Version: 3, Masked: true},
		}})
	})
	mux.HandleFunc("GET /v1/keys", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.APIKeyList{Keys: []api.APIKey{{ID: fakeKeyID, Name: "ci-deploy", Role: "write", Collection: "app"}}})
	})
	mux.HandleFunc("DELETE /", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.deleted = append(f.deleted, r.URL.Path)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAdminAPI) deletions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.deleted...)
}

// TestDeletingAsksForTheNameOnATerminal: on a terminal, secrets delete, collections
// delete and keys revoke say what goes and go on only when the person types its name;
// anything else changes nothing.
func TestDeletingAsksForTheNameOnATerminal(t *testing.T) {
	cases := []struct {
		args     []string
		question string // in what the command says before it asks
		name     string
		deletes  string
	}{
		{[]string{"secrets", "delete", "API_URL", "--collection", "app"}, "the secret API_URL of app (untagged: part of every environment) with all its versions (1 to 3)", "API_URL", "/v1/secrets/" + fakeSecretID},
		{[]string{"collections", "delete", "app"}, "the collection app with all its environments and secrets, every version of them", "app", "/v1/collections/app"},
		{[]string{"envs", "delete", "dev", "--collection", "app"}, "the environment dev of app with the secrets tagged with it, every version of them", "dev", "/v1/collections/app/environments/dev"},
		{[]string{"keys", "revoke", fakeKeyID}, "the write key ci-deploy (" + fakeKeyID + ", app)", "ci-deploy", "/v1/keys/" + fakeKeyID},
	}
	for _, tc := range cases {
		for _, answer := range []string{"", "y", "yes", strings.ToLower(tc.name), tc.name + "x", tc.name} {
			t.Run(strings.Join(tc.args[:2], " ")+"/"+answer, func(t *testing.T) {
				controller, terminal := openPTY(t)
				f := newFakeAdminAPI(t)
				var stderr syncBuffer
				env := map[string]string{"KAZZLE_SERVER": f.URL, "KAZZLE_API_KEY": "kzl_confirmTestKey0000000000000000000000"}
				c := &cli{stdin: terminal, stdout: &bytes.Buffer{}, stderr: &stderr, getenv: func(k string) string { return env[k] }}
				typed := make(chan error, 1)
				go func() {
					deadline := time.Now().Add(5 * time.Second)
					for !strings.Contains(stderr.String(), "to confirm: ") && time.Now().Before(deadline) {
						time.Sleep(5 * time.Millisecond)
					}
					_, err := controller.Write([]byte(answer + "\n"))
					typed <- err
				}()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				status := c.main(ctx, tc.args)
				// An answer that never reached the terminal would be a cancellation too.
				if err := <-typed; err != nil {
					t.Fatalf("typing the answer: %v", err)
				}
				out := stderr.String()
				if !strings.Contains(out, tc.question) || !strings.Contains(out, "Type "+tc.name+" to confirm: ") {
					t.Fatalf("it did not say what goes and ask for %s:\n%s", tc.name, out)
				}
				got := f.deletions()
				if answer == tc.name {
					if status != exitOK || len(got) != 1 || got[0] != tc.deletes {
						t.Fatalf("typing the name: status %d, deletions %q, want %s\n%s", status, got, tc.deletes, out)
					}
					return
				}
				if status == exitOK || len(got) != 0 || !strings.Contains(out, "nothing was changed") {
					t.Fatalf("answer %q: status %d, deletions %q, want none and a cancellation\n%s", answer, status, got, out)
				}
			})
		}
	}
}
