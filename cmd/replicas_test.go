package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/internal/pgtest"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/storetest"
)

// replica is a kazzle server process.
type replica struct {
	url      string
	adminKey string // printed only by the replica that created the first space
	pid      int
}

// startReplicas starts n `kazzle server` processes at once on one PostgreSQL database
// and one root key file, as replicas behind a load balancer are.
func startReplicas(t *testing.T, n int) []replica {
	t.Helper()
	dir := t.TempDir()
	db := pgtest.Database(t)
	config := filepath.Join(dir, "kazzle-server.hcl")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
listener "tcp" {
  address     = "127.0.0.1:0"
  tls_disable = true
}
storage "postgres" { url_env = "KAZZLE_POSTGRES_URL" }
kms "local" { key_file = %q }
`, filepath.Join(dir, "root.key"))), 0o600); err != nil {
		t.Fatal(err)
	}
	// The root key must exist before replicas race to create it.
	first := startReplica(t, config, db)
	out := []replica{first}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range n - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := startReplica(t, config, db)
			mu.Lock()
			out = append(out, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

func startReplica(t *testing.T, config, db string) replica {
	t.Helper()
	return startServerProcess(t, []string{"--config", config}, "KAZZLE_POSTGRES_URL="+db)
}

// startServerProcess starts `kazzle server` with args and, besides PATH and HOME, the
// environment variables env, and waits until it listens. The process is killed when the
// test ends.
func startServerProcess(t *testing.T, args []string, env ...string) replica {
	t.Helper()
	kazzle, err := exec.LookPath("kazzle")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kazzle, append([]string{"server"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan replica, 1)
	go func() {
		r := replica{pid: cmd.Process.Pid}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			if key, ok := strings.CutPrefix(line, "kazzle: admin API key: "); ok {
				r.adminKey = key
			}
			if url, ok := strings.CutPrefix(line, "kazzle: server listening on "); ok {
				r.url = url
				ready <- r
			}
		}
	}()
	select {
	case r := <-ready:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("a server did not start")
		return replica{}
	}
}

func clientOf(t *testing.T, url, key string) *api.Client {
	t.Helper()
	c, err := api.NewClient(url, key, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTwoReplicasServeOneVault: two server processes on one PostgreSQL database. One
// prints the first admin key; writes through either are read through both; a key
// revoked through one is refused by the other within KeyCacheTTL; concurrent updates
// of one secret through both lose nothing.
func TestTwoReplicasServeOneVault(t *testing.T) {
	reps := startReplicas(t, 2)
	var admin string
	for _, r := range reps {
		if r.adminKey != "" {
			if admin != "" {
				t.Fatal("both replicas printed an admin key")
			}
			admin = r.adminKey
		}
	}
	if admin == "" {
		t.Fatal("no replica printed the first admin key")
	}
	ctx := context.Background()
	a, b := clientOf(t, reps[0].url, admin), clientOf(t, reps[1].url, admin)
	if _, err := a.CreateCollection(ctx, api.CreateCollectionRequest{Slug: "app", Name: "App"}); err != nil {
		t.Fatal(err)
	}

	t.Run("every acknowledged write is read through both", func(t *testing.T) {
		var mu sync.Mutex
		acked := map[string]string{}
		var wg sync.WaitGroup
		for w := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := []*api.Client{a, b}[w%2]
				for i := range 15 {
					val := fmt.Sprintf("value-w%d-i%d", w, i)
					s, err := c.CreateSecret(ctx, api.CreateSecretRequest{Collection: "app", Name: fmt.Sprintf("S_%d_%d", w, i), Fields: map[string]string{"value": val}})
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					acked[s.ID] = val
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for id, val := range acked {
			for name, c := range map[string]*api.Client{"first": a, "second": b} {
				s, err := c.Reveal(ctx, id)
				if err != nil || s.Fields["value"] != val {
					t.Fatalf("secret %s through the %s replica: %v", id, name, err)
				}
			}
		}
	})

	t.Run("a key revoked through one is refused by the other within KeyCacheTTL", func(t *testing.T) {
		created, err := a.CreateKey(ctx, api.CreateAPIKeyRequest{Name: "ci", Role: "read"})
		if err != nil {
			t.Fatal(err)
		}
		ci := clientOf(t, reps[1].url, created.Key)
		if _, err := ci.Collections(ctx); err != nil {
			t.Fatalf("the other replica refuses the new key: %v", err)
		}
		if err := a.RevokeKey(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		revoked := time.Now()
		for {
			_, err := ci.Collections(ctx)
			var ae *api.Error
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				t.Logf("refused by the other replica %v after the revocation", time.Since(revoked).Round(time.Millisecond))
				break
			}
			// The bound is KeyCacheTTL from the revocation; what passes beyond it here
			// is this loop's own request time.
			if time.Since(revoked) > vault.KeyCacheTTL+2*time.Second {
				t.Fatalf("the other replica still accepts the key %v after its revocation (err %v)", time.Since(revoked), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("concurrent updates through both lose nothing", func(t *testing.T) {
		s, err := a.CreateSecret(ctx, api.CreateSecretRequest{Collection: "app", Name: "COUNTER", Fields: map[string]string{"value": "v0"}})
		if err != nil {
			t.Fatal(err)
		}
		accepted, conflicts := storetest.Race(t, 6, 4, func(w int, val string) (int, error) {
			c := []*api.Client{a, b}[w%2]
			cur, err := c.Secret(ctx, s.ID)
			if err != nil {
				return 0, err
			}
			got, err := c.UpdateSecret(ctx, s.ID, api.UpdateSecretRequest{Version: cur.Version, Fields: map[string]string{"value": val}})
			return got.Version, err
		}, func(err error) bool {
			var ae *api.Error
			return errors.As(err, &ae) && ae.Status == http.StatusConflict
		})
		history, err := b.History(ctx, s.ID)
		if err != nil || len(history) != 1+len(accepted) || len(accepted) != 24 {
			t.Fatalf("%d accepted, %d versions in history (%v); want 24 and 25", len(accepted), len(history), err)
		}
		t.Logf("24 updates accepted, %d reported as conflicts", conflicts)
	})
}
