package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/config"
	"github.com/kazzle/kazzle/mcp"
)

// mcpCmd is `kazzle mcp`: the AI-safe tools over the Model Context Protocol, on stdin and
// stdout. Messages go to stderr only: stdout is the protocol's.
func (c *cli) mcpCommand() *cobra.Command {
	var o mcpOptions
	cmd := &cobra.Command{
		Use:   "mcp [--collection=NAME] [--env=ENV] [--api-key-file=FILE] [--strict] [--no-browser]",
		Short: "serve the AI-safe tools over the Model Context Protocol (stdio)",
		Long: "Serves kazzle's tools to an AI assistant over the Model Context Protocol (stdio):\n" +
			"list_secrets, describe_secret, run_command, http_request, create_secret, update_secret\n" +
			"and await_entry. The assistant refers to\n" +
			"secrets as ${secret.<id>.<field>}; kazzle substitutes them when it runs a call and\n" +
			"replaces every value in the result by its reference. A command run_command starts gets a\n" +
			"placeholder for a secret bound to hosts, and a proxy made for the call (HTTPS_PROXY and\n" +
			"the CA bundle variables) that puts the value in requests to those hosts only.\n" +
			"--collection and --env are the defaults of the tools (else the project configuration's\n" +
			"collection).",
		Example: "  kazzle mcp --collection app --env dev --api-key-file ~/.config/kazzle/mcp.key\n" +
			"  claude mcp add kazzle -- kazzle mcp --env dev --api-key-file ~/.config/kazzle/mcp.key",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return c.mcpCmd(cmd.Context(), &o) },
	}
	c.apiFlags(cmd, &o.common, false) // stdout is the protocol's
	cmd.Flags().BoolVar(&o.strict, "strict", false, "refuse, in run_command and http_request, every secret not bound to hosts, and never put a value in plain http")
	cmd.Flags().BoolVar(&o.noBrowser, "no-browser", false, "never open the page where a person enters a value in this machine's browser: the assistant gets the link")
	cmd.Flags().StringVar(&o.keyFile, "api-key-file", "", "read the API key from this file, yours and of mode 600, instead of KAZZLE_API_KEY (KAZZLE_API_KEY_FILE)")
	return cmd
}

type mcpOptions struct {
	common
	strict, noBrowser bool
	keyFile           string
}

func (c *cli) mcpCmd(ctx context.Context, o *mcpOptions) error {
	co, strict, keyFile, noBrowser := o.common, &o.strict, &o.keyFile, o.noBrowser
	key, err := c.apiKey(*keyFile)
	if err != nil {
		return err
	}
	if key.oidc != nil {
		// The tools scrub the key they know from every result: one exchanged later is not.
		return usagef("kazzle mcp does not sign in with a CI identity token: give it an API key with --api-key-file FILE")
	}
	// Commands the assistant runs are this user's processes: the key must leave this
	// process's environment, which they inherit or read in /proc/<pid>/environ, before
	// any of them starts.
	envKey := c.getenv("KAZZLE_API_KEY") != ""
	for _, name := range []string{"KAZZLE_API_KEY", "KAZZLE_API_KEY_FILE"} {
		if err := os.Unsetenv(name); err != nil {
			return fmt.Errorf("protect the API key from the commands kazzle mcp runs: %w", err)
		}
	}
	if err := scrubEnviron("KAZZLE_API_KEY", "KAZZLE_API_KEY_FILE"); err != nil {
		c.warnf("could not remove KAZZLE_API_KEY from the environment block root can read in /proc: %v", err)
	}
	if err := hideEnviron(); err != nil {
		return fmt.Errorf("protect the API key from the commands kazzle mcp runs: %w", err)
	}
	switch {
	case key.from == "KAZZLE_API_KEY":
		c.warnf("the API key comes from KAZZLE_API_KEY, which processes of this user can read in the environment of the program that started kazzle mcp: put the key in a file only you can read (chmod 600 FILE) and pass --api-key-file FILE instead")
	case key.file != "" && envKey:
		c.warnf("KAZZLE_API_KEY is set too, and ignored for the key in %s: remove it from kazzle mcp's environment (the MCP client's configuration), where processes of this user can read it", key.file)
	}
	var warnings []string
	if dir := localVaultDir(co.server, defaultDataDir(c.getenv)); dir != "" {
		c.warnf("the server %s runs on this machine, and its data folder %s (the root key and the database) is readable by this user: the commands kazzle mcp runs could read every secret there; run kazzle mcp as another OS user, or against a remote server", co.server, dir)
		warnings = append(warnings, "the kazzle server runs on this machine, and the commands you run can read its files (its root key and database) as the same OS user: "+
			"never read kazzle's data folder, and tell the user that kazzle mcp should run as another OS user or against a remote server to keep secret values out of your reach.")
	}
	if co.collection == "" {
		// The project's collection when there is one; the tools can name one otherwise.
		if p, err := config.Load(ctx, ".", config.Options{Env: co.env, Stderr: c.stderr}); err == nil {
			co.collection = p.Collection
		} else if !errors.Is(err, config.ErrNoConfig) {
			return fmt.Errorf("read the collection from the project configuration: %w", err)
		}
	}
	client, err := c.clientWith(&co, key)
	if err != nil {
		return err
	}
	opts := mcp.Options{
		Client: client, APIKey: key.value,
		Collection: co.collection, Environment: co.env, Strict: *strict,
		Environ: c.environ(), Version: version(), Warnings: warnings,
		ServerURL: co.server,
		Declaring: func(ctx context.Context, collection, name string) []string {
			return declaring(ctx, co.env, collection, name)
		},
	}
	if !noBrowser {
		opts.OpenURL = openInBrowser
	}
	return mcp.Serve(ctx, opts, c.stdin, c.stdout)
}

// declaring lists the components of the project's config (for env), found from the
// working directory as every command finds it, that declare the secret name of
// collection; none when there is no config, or it is another collection's.
func declaring(ctx context.Context, env, collection, name string) []string {
	p, err := config.Load(ctx, ".", config.Options{Env: env, Stderr: io.Discard})
	if err != nil || (p.Collection != "" && p.Collection != collection) {
		return nil
	}
	var out []string
	for _, comp := range p.ComponentNames() {
		if slices.Contains(p.Components[comp].Secrets, name) {
			out = append(out, comp)
		}
	}
	return out
}

// openInBrowser opens url in the browser of the person at this machine, without waiting
// for it: xdg-open on Linux and the BSDs where a desktop session runs, open on macOS.
func openInBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		return errors.New("opening a browser is not supported on windows")
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no desktop session")
		}
		cmd = exec.Command("xdg-open", url)
	}
	// Its output would go to the protocol's stdout, or clutter stderr.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() //nolint:errcheck // reaped only
	return nil
}

// localVaultDir is dataDir, the default data folder of a dev server, when server is on a
// loopback address and this user may read that folder: the commands kazzle mcp runs
// could then read the vault's root key and database. "" otherwise.
func localVaultDir(server, dataDir string) string {
	u, err := url.Parse(server)
	if err != nil || !api.IsLoopback(u.Hostname()) {
		return ""
	}
	if fi, err := os.Stat(dataDir); err != nil || !fi.IsDir() || unix.Access(dataDir, unix.R_OK|unix.X_OK) != nil {
		return ""
	}
	return dataDir
}
