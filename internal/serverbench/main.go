// Command serverbench measures kazzle end to end for `make bench`: the overhead of
// `kazzle run -- true` over running `true` directly, and resolve throughput of a
// 50-secret environment with 32 concurrent keep-alive clients against a dev server on
// loopback (audit on). The load generator shares the machine's cores with the server.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kazzle/kazzle/api"
)

func main() {
	kazzle := flag.String("kazzle", "bin/kazzle", "the kazzle binary")
	runs := flag.Int("runs", 40, "runs of each command for the start-up overhead")
	clients := flag.Int("clients", 32, "concurrent keep-alive clients")
	duration := flag.Duration("duration", 5*time.Second, "how long to load the server")
	flag.Parse()
	if err := run(*kazzle, *runs, *clients, *duration); err != nil {
		fmt.Fprintln(os.Stderr, "serverbench:", err)
		os.Exit(1)
	}
}

type devServer struct {
	cmd *exec.Cmd
	url string
	key string
}

func startServer(kazzle, dataDir string) (*devServer, error) {
	return startKazzleServer(exec.Command(kazzle, "server", "--dev", "--data", dataDir, "--listen", "127.0.0.1:0"))
}

// startKazzleServer starts cmd, a kazzle server, and waits until it listens.
func startKazzleServer(cmd *exec.Cmd) (*devServer, error) {
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &devServer{cmd: cmd}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		if k, ok := strings.CutPrefix(line, "kazzle: admin API key: "); ok {
			s.key = k
		}
		if u, ok := strings.CutPrefix(line, "kazzle: server listening on "); ok {
			s.url = u
			go io.Copy(io.Discard, stderr)
			return s, nil
		}
	}
	cmd.Process.Kill()
	return nil, fmt.Errorf("the server did not start")
}

func run(kazzle string, runs, clients int, duration time.Duration) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "kazzle-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	srv, err := startServer(kazzle, dir)
	if err != nil {
		return err
	}
	defer func() { srv.cmd.Process.Signal(os.Interrupt); srv.cmd.Wait() }()
	if err := seed(ctx, srv); err != nil {
		return err
	}

	direct, viaKazzle, err := startupOverhead(kazzle, srv, runs)
	if err != nil {
		return err
	}
	configCheck, bare, err := configCheckTime(kazzle, runs)
	if err != nil {
		return err
	}
	ui, uiErr := uiBuildTimes(kazzle, srv, 10)
	wrkLoad, wrkRange, wrkErr := medianOf(rounds, func() (loadResult, error) { return throughputWrk(srv, clients, duration, dir) })
	load, loadRange, err := medianOf(rounds, func() (loadResult, error) { return throughput(srv, clients, duration) })
	if err != nil {
		return err
	}

	fmt.Println()
	fmt.Printf("%-44s %12s %12s %s\n", "measure", "kazzle", "target", "ratio to target")
	overhead := viaKazzle - direct
	fmt.Printf("%-44s %12s %12s %.2fx  (true alone: %v, under kazzle: %v, medians of %d)\n",
		"kazzle run -- true: median overhead", ms(overhead), "< 10 ms", float64(overhead)/float64(10*time.Millisecond), ms(direct), ms(viaKazzle), runs)
	configLoad := configCheck - bare
	fmt.Printf("%-44s %12s %12s %.2fx  (kazzle config check %v over kazzle --version %v: esbuild, then goja in process; medians of %d)\n",
		"loading fixtures/saas/kazzle.config.ts", ms(configLoad), "< 20 ms", float64(configLoad)/float64(20*time.Millisecond), ms(configCheck), ms(bare), runs)
	printUITimes(ui, uiErr)
	// The target is judged with wrk, a load generator in C: Go's HTTP client, below,
	// takes a larger share of the two cores the server runs on.
	if wrkErr != nil {
		fmt.Printf("(no figures with wrk, which the throughput target is judged with: %v)\n", wrkErr)
	} else {
		fmt.Printf("%-44s %12.0f %12s %.2fx  (wrk, median of %d runs, %s; OpenBao KV v2, dev, no audit: 5,400-6,200)\n",
			fmt.Sprintf("resolve, 50 secrets, %d clients: req/s", clients), wrkLoad.rps, ">= 11000", wrkLoad.rps/11000, rounds, wrkRange)
		fmt.Printf("%-44s %12s %12s %s\n", "resolve: p50 latency", ms(wrkLoad.p50), "", "(OpenBao: ~6 ms)")
		fmt.Printf("%-44s %12s %12s %.2fx  (OpenBao: ~55 ms)\n", "resolve: p99 latency", ms(wrkLoad.p99), "< 20 ms", float64(wrkLoad.p99)/float64(20*time.Millisecond))
	}
	printPostgres(postgresThroughput(kazzle, clients, duration, dir))
	fmt.Printf("%-44s %12.0f %12s %s\n", "same load from Go's net/http client: req/s", load.rps, "", fmt.Sprintf("(median of %d runs, %s)", rounds, loadRange))
	fmt.Printf("%-44s %12s\n", "  Go client: p50 latency", ms(load.p50))
	fmt.Printf("%-44s %12s\n", "  Go client: p99 latency", ms(load.p99))
	if load.errors > 0 {
		fmt.Printf("%-44s %12d\n", "  Go client: failed requests", load.errors)
	}
	return nil
}

// seed creates the benchmark's environment: collection bench, environment dev, and 50
// secrets, half of them tagged dev.
func seed(ctx context.Context, srv *devServer) error {
	client, err := api.NewClient(srv.url, srv.key, nil)
	if err != nil {
		return err
	}
	if _, err := client.CreateCollection(ctx, api.CreateCollectionRequest{Slug: "bench"}); err != nil {
		return err
	}
	if _, err := client.CreateEnvironment(ctx, "bench", "dev"); err != nil {
		return err
	}
	for i := 0; i < 50; i++ {
		env := ""
		if i%2 == 0 {
			env = "dev"
		}
		_, err := client.CreateSecret(ctx, api.CreateSecretRequest{Collection: "bench", Environment: env, Name: fmt.Sprintf("SECRET_%02d", i),
			Fields: map[string]string{"value": fmt.Sprintf("value-%02d-%s", i, strings.Repeat("x", 40))}})
		if err != nil {
			return err
		}
	}
	return nil
}

// throughputWrk loads the server with wrk (Debian's package), a generator in C that
// leaves more of the shared cores to the server than Go's HTTP client does.
func throughputWrk(srv *devServer, clients int, duration time.Duration, dir string) (loadResult, error) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return loadResult{}, errors.New("wrk is not installed (apt-get install wrk)")
	}
	script := filepath.Join(dir, "resolve.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = '{\"collection\":\"bench\",\"environment\":\"dev\"}'\n"+
		"wrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer %s\"\n", srv.key)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return loadResult{}, err
	}
	out, err := exec.Command(wrk, "-t2", fmt.Sprintf("-c%d", clients), fmt.Sprintf("-d%ds", int(duration.Seconds())),
		"--latency", "-s", script, srv.url+"/v1/resolve").CombinedOutput()
	if err != nil {
		return loadResult{}, fmt.Errorf("wrk: %v", err)
	}
	var r loadResult
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			fmt.Sscanf(f[1], "%f", &r.rps)
		case len(f) == 2 && f[0] == "50%":
			r.p50, _ = time.ParseDuration(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99, _ = time.ParseDuration(f[1])
		case len(f) >= 4 && f[0] == "Non-2xx":
			return r, fmt.Errorf("wrk saw failed requests: %s", line)
		}
	}
	if r.rps == 0 {
		return r, fmt.Errorf("could not read wrk's output:\n%s", out)
	}
	return r, nil
}

// rounds is how many times each load runs: this machine's speed drifts by a third
// between runs, so one run says little.
const rounds = 3

// medianOf runs a load n times and returns the run with the median req/s and the range.
func medianOf(n int, load func() (loadResult, error)) (loadResult, string, error) {
	var runs []loadResult
	for i := 0; i < n; i++ {
		r, err := load()
		if err != nil {
			return loadResult{}, "", err
		}
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].rps < runs[j].rps })
	return runs[len(runs)/2], fmt.Sprintf("range %.0f-%.0f", runs[0].rps, runs[len(runs)-1].rps), nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// startupOverhead times `true` and `kazzle run -- true`, interleaved so that both see the
// same machine, and returns the medians.
func startupOverhead(kazzle string, srv *devServer, runs int) (direct, viaKazzle time.Duration, err error) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		return 0, 0, err
	}
	env := append(os.Environ(), "KAZZLE_SERVER="+srv.url, "KAZZLE_API_KEY="+srv.key)
	var a, b []time.Duration
	for i := 0; i < runs+2; i++ {
		t0 := time.Now()
		if err := exec.Command(truePath).Run(); err != nil {
			return 0, 0, err
		}
		t1 := time.Now()
		cmd := exec.Command(kazzle, "run", "--collection", "bench", "--env", "dev", "--", "true")
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return 0, 0, fmt.Errorf("kazzle run: %v: %s", err, stderr.String())
		}
		t2 := time.Now()
		if i >= 2 { // the first runs warm the page cache
			a, b = append(a, t1.Sub(t0)), append(b, t2.Sub(t1))
		}
	}
	return median(a), median(b), nil
}

// configCheckTime times `kazzle config check` on the fixture project (run from the
// repository's root, as make bench does) and `kazzle --version`, interleaved, and
// returns both medians: their difference is what loading the config costs a command.
func configCheckTime(kazzle string, runs int) (check, bare time.Duration, err error) {
	var checks, bares []time.Duration
	timed := func(args ...string) (time.Duration, error) {
		cmd := exec.Command(kazzle, args...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t0 := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("kazzle %s: %v: %s", strings.Join(args, " "), err, stderr.String())
		}
		return time.Since(t0), nil
	}
	for i := 0; i < runs+2; i++ {
		c, err := timed("config", "check", "--dir", "fixtures/saas", "--env", "prod")
		if err != nil {
			return 0, 0, err
		}
		b, err := timed("--version")
		if err != nil {
			return 0, 0, err
		}
		if i >= 2 {
			checks, bares = append(checks, c), append(bares, b)
		}
	}
	return median(checks), median(bares), nil
}

type loadResult struct {
	rps      float64
	p50, p99 time.Duration
	errors   int64
}

func throughput(srv *devServer, clients int, duration time.Duration) (loadResult, error) {
	body := []byte(`{"collection":"bench","environment":"dev"}`)
	var errs atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	warmup := time.Second
	start := time.Now()
	end := start.Add(warmup + duration)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for {
				t0 := time.Now()
				if t0.After(end) {
					return
				}
				req, _ := http.NewRequest("POST", srv.url+"/v1/resolve", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+srv.key)
				resp, err := hc.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				if err != nil {
					errs.Add(1)
					continue
				}
				if t0.Sub(start) >= warmup {
					lat[c] = append(lat[c], time.Since(t0))
				}
			}
		}()
	}
	wg.Wait()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return loadResult{}, fmt.Errorf("no request succeeded")
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return loadResult{
		rps:    float64(len(all)) / duration.Seconds(),
		p50:    all[len(all)/2],
		p99:    all[len(all)*99/100],
		errors: errs.Load(),
	}, nil
}
