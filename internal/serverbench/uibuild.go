package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/kazzle/kazzle/api"
)

// uiTimes are the medians of building the fixture's web UI three ways (kazzle build
// also with --gzip-sizes, whose report matches Vite's).
type uiTimes struct {
	kazzle, kazzleGzip, vite, esbuild time.Duration
	runs                              int
}

// The fixture UI's public values, stored in the dev server for kazzle build and given
// to vite and esbuild directly.
var uiValues = map[string]string{
	"VITE_API_URL":                "https://api.bench.example/v1",
	"VITE_STRIPE_PUBLISHABLE_KEY": "pk_test_51HbenchKEY0000000000",
}

// uiBuildTimes builds fixtures/saas's web component with kazzle build, vite build and
// the bare esbuild CLI (both from the fixture's node_modules), interleaved, each as a
// whole process, and returns the medians. It needs `npm ci` in fixtures/saas/web.
func uiBuildTimes(kazzle string, srv *devServer, runs int) (uiTimes, error) {
	web, err := filepath.Abs("fixtures/saas/web")
	if err != nil {
		return uiTimes{}, err
	}
	if kazzle, err = filepath.Abs(kazzle); err != nil {
		return uiTimes{}, err
	}
	bin := filepath.Join(web, "node_modules", ".bin")
	if _, err := os.Stat(filepath.Join(bin, "vite")); err != nil {
		return uiTimes{}, errors.New("fixtures/saas/web has no node_modules: run npm ci there")
	}
	work, err := os.MkdirTemp("", "kazzle-uibench-")
	if err != nil {
		return uiTimes{}, err
	}
	defer os.RemoveAll(work)
	project := filepath.Join(work, "saas")
	if err := copyProject("fixtures/saas", project); err != nil {
		return uiTimes{}, err
	}
	if err := os.Symlink(filepath.Join(web, "node_modules"), filepath.Join(project, "web", "node_modules")); err != nil {
		return uiTimes{}, err
	}

	ctx := context.Background()
	client, err := api.NewClient(srv.url, srv.key, nil)
	if err != nil {
		return uiTimes{}, err
	}
	if _, err := client.CreateCollection(ctx, api.CreateCollectionRequest{Slug: "my-saas"}); err != nil {
		return uiTimes{}, err
	}
	if _, err := client.CreateEnvironment(ctx, "my-saas", "prod"); err != nil {
		return uiTimes{}, err
	}
	viteEnv := os.Environ()
	var defines []string
	for name, value := range uiValues {
		if _, err := client.CreateSecret(ctx, api.CreateSecretRequest{Collection: "my-saas", Environment: "prod", Name: name, Fields: map[string]string{"value": value}}); err != nil {
			return uiTimes{}, err
		}
		viteEnv = append(viteEnv, name+"="+value)
		defines = append(defines, fmt.Sprintf("--define:import.meta.env.%s=%q", name, value))
	}

	kazzleCmd := func(flags ...string) func() *exec.Cmd {
		return func() *exec.Cmd {
			cmd := exec.Command(kazzle, append([]string{"build", "web", "--env", "prod"}, flags...)...)
			cmd.Dir = project
			cmd.Env = append(os.Environ(), "KAZZLE_SERVER="+srv.url, "KAZZLE_API_KEY="+srv.key)
			return cmd
		}
	}
	// Vite and esbuild run at their default log level, as kazzle build does: each prints
	// its usual size report to the pipe here. Vite's has gzipped sizes, as kazzle's has
	// with --gzip-sizes, which is timed too.
	viteCmd := func() *exec.Cmd {
		cmd := exec.Command(filepath.Join(bin, "vite"), "build", "--mode", "prod", "--outDir", filepath.Join(work, "vite-dist"), "--emptyOutDir")
		cmd.Dir = filepath.Join(project, "web")
		cmd.Env = viteEnv
		return cmd
	}
	// The same bundle as kazzle build makes: ESM, splitting, hashed names, minified, with
	// source maps and the automatic JSX runtime (index.html aside, which esbuild's CLI
	// does not read).
	esbuildCmd := func() *exec.Cmd {
		args := append([]string{"src/main.tsx", "--bundle", "--format=esm", "--splitting", "--minify", "--sourcemap",
			"--jsx=automatic", "--outdir=" + filepath.Join(work, "esbuild-dist"), "--entry-names=assets/[name]-[hash]",
			"--asset-names=assets/[name]-[hash]", "--loader:.svg=file", "--target=chrome111,edge111,firefox114,safari16.4",
			"--define:import.meta.env.MODE=\"prod\"", "--define:process.env.NODE_ENV=\"production\""}, defines...)
		cmd := exec.Command(filepath.Join(bin, "esbuild"), args...)
		cmd.Dir = filepath.Join(project, "web")
		return cmd
	}
	var k, kg, v, e []time.Duration
	for i := 0; i < runs+1; i++ {
		for _, step := range []struct {
			cmd   func() *exec.Cmd
			times *[]time.Duration
		}{{kazzleCmd(), &k}, {viteCmd, &v}, {esbuildCmd, &e}, {kazzleCmd("--gzip-sizes"), &kg}} {
			cmd := step.cmd()
			t0 := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				return uiTimes{}, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
			}
			if i > 0 { // the first round warms the page cache
				*step.times = append(*step.times, time.Since(t0))
			}
		}
	}
	return uiTimes{kazzle: median(k), kazzleGzip: median(kg), vite: median(v), esbuild: median(e), runs: runs}, nil
}

// copyProject copies a fixture project without its node_modules and build output.
func copyProject(src, dest string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dest, rel)
		if d.IsDir() {
			if d.Name() == "node_modules" || d.Name() == "dist" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}

func printUITimes(ui uiTimes, err error) {
	if err != nil {
		fmt.Printf("(no UI build figures: %v)\n", err)
		return
	}
	fmt.Printf("%-44s %12s %12s %s\n", "kazzle build web (fixtures/saas, React)", ms(ui.kazzle), "",
		fmt.Sprintf("(vite build: %v, bare esbuild CLI: %v; medians of %d, whole processes)", ms(ui.vite), ms(ui.esbuild), ui.runs))
	fmt.Printf("%-44s %12.2f %12s %.2fx\n", "  kazzle build / vite build", float64(ui.kazzle)/float64(ui.vite), "<= 0.15", float64(ui.kazzle)/float64(ui.vite)/0.15)
	fmt.Printf("%-44s %12.2f %12s %.2fx\n", "  kazzle build / bare esbuild", float64(ui.kazzle)/float64(ui.esbuild), "<= 1.5", float64(ui.kazzle)/float64(ui.esbuild)/1.5)
	fmt.Printf("%-44s %12s %12s %s\n", "kazzle build web --gzip-sizes", ms(ui.kazzleGzip), "",
		fmt.Sprintf("(gzipped sizes in the report, as vite build prints them: %.2fx vite build)", float64(ui.kazzleGzip)/float64(ui.vite)))
}
