package cmd

import (
	"context"
	"errors"
	"fmt"

	"github.com/kazzle/kazzle/config"
	"github.com/kazzle/kazzle/mcp"
)

// mcpCmd is `kazzle mcp`: the AI-safe tools over the Model Context Protocol, on stdin and
// stdout. Messages go to stderr only: stdout is the protocol's.
func (c *cli) mcpCmd(ctx context.Context, args []string) error {
	var co common
	fs := c.flags("mcp", &co)
	strict := fs.Bool("strict", false, "refuse, in run_command and http_request, every secret not bound to hosts")
	fs.MarkHidden("json")
	fs.Usage = func() {
		fmt.Fprintln(c.stderr, "Usage: kazzle mcp [--collection=NAME] [--env=ENV] [--strict]\n\nServes kazzle's tools to an AI assistant over the Model Context Protocol (stdio):\nlist_secrets, describe_secret, run_command and http_request. The assistant refers to\nsecrets as ${secret.<id>.<field>}; kazzle substitutes them when it runs a call and\nreplaces every value in the result by its reference. --collection and --env are the\ndefaults of the tools (else the project configuration's collection).\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if co.collection == "" {
		// The project's collection when there is one; the tools can name one otherwise.
		if p, err := config.Load(ctx, ".", config.Options{Env: co.env, Stderr: c.stderr}); err == nil {
			co.collection = p.Collection
		} else if !errors.Is(err, config.ErrNoConfig) {
			return fmt.Errorf("read the collection from the project configuration: %w", err)
		}
	}
	client, err := c.client(&co)
	if err != nil {
		return err
	}
	// Commands the assistant runs are this user's processes: without this they could read
	// KAZZLE_API_KEY in /proc/<pid>/environ of this one.
	if err := hideEnviron(); err != nil {
		return fmt.Errorf("protect the API key from the commands kazzle mcp runs: %w", err)
	}
	return mcp.Serve(ctx, mcp.Options{
		Client: client, APIKey: c.getenv("KAZZLE_API_KEY"),
		Collection: co.collection, Environment: co.env, Strict: *strict,
		Environ: c.environ(), Version: version(),
	}, c.stdin, c.stdout)
}
