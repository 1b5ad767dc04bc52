package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/localkms"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

// TestExpansionBombKeepsServerMemoryBounded: a few kilobytes of nested references that
// would expand to 16 MiB per resolve, stored below the write check (they grew after they
// were written), make each of 8 concurrent resolves fail with 422 expansion_too_large,
// and the server process's peak resident memory stays under 150 MB.
func TestExpansionBombKeepsServerMemoryBounded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the server's peak memory is read from /proc/PID/status, which only Linux has")
	}
	ctx := context.Background()
	data := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(data, "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	wrapper, err := localkms.Open(filepath.Join(data, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	v := vault.New(store, wrapper, vault.Options{})
	space, admin, _, err := v.Bootstrap(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	actor := vault.Actor{Name: "planter"}
	if _, err := v.CreateCollection(ctx, actor, space.ID, "app", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := v.CreateEnvironment(ctx, actor, space.ID, "app", "dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.PlantExpansionBomb(ctx, v, actor, space.ID, "app", "dev", 2); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}

	srv := startServerProcess(t, []string{"--dev", "--data", data, "--listen", "127.0.0.1:0"})
	client, err := api.NewClient(srv.url, admin, &http.Client{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	const resolves = 8
	var wg sync.WaitGroup
	errs := make([]error, resolves)
	for i := range resolves {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = client.Resolve(ctx, api.ResolveRequest{Collection: "app", Environment: "dev"})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || ae.Code != api.CodeExpansionTooLarge {
			t.Errorf("resolve %d: err = %v, want 422 %s", i, err, api.CodeExpansionTooLarge)
		}
	}
	peak, err := peakRSS(srv.pid)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("server peak RSS: %.1f MB", float64(peak)/1e6)
	const limit = 150e6
	if peak > limit {
		t.Fatalf("the server's peak RSS reached %.1f MB, over %.0f MB", float64(peak)/1e6, limit/1e6)
	}
}

// peakRSS reads the peak resident set size (VmHWM) of process pid, in bytes.
func peakRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}
