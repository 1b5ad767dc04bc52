package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/kazzle/kazzle/internal/pgtest"
)

// pgFigures are resolve throughputs on PostgreSQL: one replica, and two sharing the load.
type pgFigures struct {
	one, two           loadResult
	oneRange, twoRange string
}

// postgresThroughput measures resolve throughput with wrk against one server replica on
// PostgreSQL, then against two replicas on the same database, each loaded by a wrk with
// half the connections (the figure is their sum). Everything shares the two cores: the
// replicas, PostgreSQL and the load generators.
func postgresThroughput(kazzle string, clients int, duration time.Duration, dir string) (pgFigures, error) {
	if os.Getenv(pgtest.EnvVar) == "" {
		return pgFigures{}, fmt.Errorf("no PostgreSQL: %s is not set (make bench starts a cluster when PostgreSQL is installed)", pgtest.EnvVar)
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return pgFigures{}, errors.New("wrk is not installed (apt-get install wrk)")
	}
	db, drop, err := pgtest.Create(context.Background())
	if err != nil {
		return pgFigures{}, err
	}
	defer drop()
	config := filepath.Join(dir, "postgres.hcl")
	err = os.WriteFile(config, []byte(fmt.Sprintf(`
listener "tcp" {
  address     = "127.0.0.1:0"
  tls_disable = true
}
storage "postgres" { url_env = "KAZZLE_POSTGRES_URL" }
kms "local" { key_file = %q }
`, filepath.Join(dir, "pg-root.key"))), 0o600)
	if err != nil {
		return pgFigures{}, err
	}
	start := func() (*devServer, error) {
		cmd := exec.Command(kazzle, "server", "--config", config)
		cmd.Env = append(os.Environ(), "KAZZLE_POSTGRES_URL="+db)
		return startKazzleServer(cmd)
	}
	first, err := start()
	if err != nil {
		return pgFigures{}, err
	}
	defer func() { first.cmd.Process.Signal(os.Interrupt); first.cmd.Wait() }()
	if err := seed(context.Background(), first); err != nil {
		return pgFigures{}, err
	}
	var f pgFigures
	if f.one, f.oneRange, err = medianOf(rounds, func() (loadResult, error) { return throughputWrk(first, clients, duration, dir) }); err != nil {
		return f, err
	}
	second, err := start()
	if err != nil {
		return f, err
	}
	defer func() { second.cmd.Process.Signal(os.Interrupt); second.cmd.Wait() }()
	second.key = first.key // the admin key of the vault, printed by the first replica
	f.two, f.twoRange, err = medianOf(rounds, func() (loadResult, error) {
		var wg sync.WaitGroup
		results := make([]loadResult, 2)
		scriptDirs := []string{filepath.Join(dir, "wrk-a"), filepath.Join(dir, "wrk-b")}
		for _, d := range scriptDirs {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return loadResult{}, err
			}
		}
		errs := make([]error, 2)
		for i, srv := range []*devServer{first, second} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = throughputWrk(srv, clients/2, duration, scriptDirs[i])
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return loadResult{}, err
		}
		return loadResult{rps: results[0].rps + results[1].rps, p50: max(results[0].p50, results[1].p50), p99: max(results[0].p99, results[1].p99)}, nil
	})
	return f, err
}

func printPostgres(f pgFigures, err error) {
	if err != nil {
		fmt.Printf("(no PostgreSQL figures: %v)\n", err)
		return
	}
	fmt.Printf("%-44s %12.0f %12s %s\n", "PostgreSQL, 1 replica: resolve req/s", f.one.rps, "", fmt.Sprintf("(wrk, median of %d runs, %s; p99 %s)", rounds, f.oneRange, ms(f.one.p99)))
	fmt.Printf("%-44s %12.0f %12s %s\n", "PostgreSQL, 2 replicas: resolve req/s", f.two.rps, "", fmt.Sprintf("(two wrk, half the clients each, summed; median of %d, %s; p99 %s; %.2fx one replica, on the same 2 cores)", rounds, f.twoRange, ms(f.two.p99), f.two.rps/f.one.rps))
}
