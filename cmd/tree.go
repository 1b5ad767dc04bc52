package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/agext/levenshtein"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kazzle/kazzle/api"
)

// The command tree is built anew for each invocation, from the cli's seams: flag
// defaults read c.getenv, output goes to c.stdout and c.stderr. Building it allocates a
// few hundred small objects; nothing in it runs before a command is chosen.

const rootSummary = "kazzle: secrets for developers and CI, injected where they belong."

const rootEnvironment = "Environment: KAZZLE_SERVER (default " + DefaultServer + "), KAZZLE_API_KEY (or KAZZLE_API_KEY_FILE, a file holding it), KAZZLE_COLLECTION, KAZZLE_ENV.\nRun kazzle <command> --help for its flags."

// newRoot builds the command tree for args: when args[0] names a command, only that
// command's branch, which is what runs (a fifth of the cost of the whole tree, on every
// kazzle run); else, or for help and completion, the whole tree.
func (c *cli) newRoot(args []string) *cobra.Command {
	cobra.EnableCommandSorting = false // the commands in the order people need them
	root := &cobra.Command{
		Use:   "kazzle",
		Short: "secrets for developers and CI, injected where they belong",
		Long:  rootSummary,
		Example: `  kazzle server --dev
  kazzle secrets set DATABASE_URL --collection app --env dev < url.txt
  kazzle run --collection app --env dev -- npm start`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          unknownSubcommand,
		// No command is a usage mistake: the commands, on stdout, and status 2.
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.help(cmd)
			return &exitStatus{code: exitUsage}
		},
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetIn(c.stdin)
	root.SetVersionTemplate("kazzle {{.Version}}\n")
	root.SetFlagErrorFunc(c.flagError)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) { c.help(cmd) })
	root.SetHelpCommand(c.helpCommand())
	branches := []struct {
		name  string
		build func() *cobra.Command
	}{
		{"run", c.runCommand},
		{"secrets", c.secretsCommand},
		{"collections", c.collectionsCommand},
		{"envs", c.envsCommand},
		{"keys", c.keysCommand},
		{"whoami", c.whoamiCommand},
		{"audit", c.auditCommand},
		{"totp", c.totpCommand},
		{"git.credential", c.gitCredentialCommand},
		{"build", c.buildCommand},
		{"deploy", c.deployCommand},
		{"mcp", c.mcpCommand},
		{"config", c.configCommand},
		{"init", c.initCommand},
		{"server", c.serverCommand},
		{"spaces", c.spacesCommand},
		{"version", c.versionCommand},
	}
	for _, b := range branches {
		if len(args) > 0 && b.name == args[0] {
			root.AddCommand(b.build())
			root.CompletionOptions.DisableDefaultCmd = true // not what runs
			return root
		}
	}
	for _, b := range branches {
		root.AddCommand(b.build())
	}
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, sub := range root.Commands() {
		if sub.Name() == "completion" {
			completionTexts(sub)
		}
	}
	return root
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "print kazzle's version",
		Long:    "Prints kazzle's version; kazzle --version does the same.",
		Example: "  kazzle version",
		Args:    noArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintln(c.stdout, versionLine())
			return nil
		},
	}
}

// helpCommand is `kazzle help [command…]`: the same help as `kazzle command… --help`.
func (c *cli) helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "help [command…]",
		Short:   "the help of kazzle or of one of its commands",
		Long:    "Prints the help of a command, as kazzle COMMAND --help does, or kazzle's own.",
		Example: "  kazzle help\n  kazzle help secrets set",
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			target, rest, err := cmd.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, sub := range target.Commands() {
				if sub.IsAvailableCommand() && strings.HasPrefix(sub.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(sub.Name(), sub.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			target := cmd.Root()
			for _, name := range args {
				next := findSub(target, name)
				if next == nil {
					return unknownCommand(target, name)
				}
				target = next
			}
			c.help(target)
			return nil
		},
	}
}

// findSub is parent's subcommand called name (or an alias), help included.
func findSub(parent *cobra.Command, name string) *cobra.Command {
	for _, sub := range parent.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

// help writes cmd's help to stdout: what it does, how to call it, examples, its
// subcommands and its own flags.
func (c *cli) help(cmd *cobra.Command) {
	writeHelp(c.stdout, cmd)
}

func writeHelp(w io.Writer, cmd *cobra.Command) {
	if !cmd.HasParent() {
		fmt.Fprintf(w, "%s\n\nUsage: kazzle <command> [flags]\n\nCommands:\n", rootSummary)
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() && sub.Name() != "help" {
				fmt.Fprintf(w, "  %-15s %s\n", sub.Name(), sub.Short)
			}
		}
		fmt.Fprintf(w, "\nExamples:\n%s\n\n%s\n", cmd.Example, rootEnvironment)
		return
	}
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", useLine(cmd), description(cmd))
	if cmd.Example != "" {
		fmt.Fprintf(w, "\nExamples:\n%s\n", cmd.Example)
	}
	if subs := availableSubs(cmd); len(subs) > 0 {
		fmt.Fprintln(w, "\nCommands:")
		for _, sub := range subs {
			fmt.Fprintf(w, "  %-10s %s\n", sub.Name(), sub.Short)
		}
	}
	if fs := ownFlags(cmd); fs.HasAvailableFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsages())
	}
	if len(availableSubs(cmd)) > 0 {
		fmt.Fprintf(w, "\nRun %s COMMAND --help for a command's flags.\n", cmd.CommandPath())
	}
}

// useLine is the synopsis: the command's path and its Use after the name.
func useLine(cmd *cobra.Command) string {
	_, rest, _ := strings.Cut(cmd.Use, " ")
	return strings.TrimSpace(cmd.CommandPath() + " " + rest)
}

// description is Long, or the synopsis as a sentence when there is none.
func description(cmd *cobra.Command) string {
	if cmd.Long != "" {
		return strings.TrimRight(cmd.Long, "\n")
	}
	s := cmd.Short
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func availableSubs(cmd *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range cmd.Commands() {
		if sub.IsAvailableCommand() && sub.Name() != "help" {
			out = append(out, sub)
		}
	}
	return out
}

// ownFlags is cmd's flags without --help, which every command has.
func ownFlags(cmd *cobra.Command) *pflag.FlagSet {
	fs := pflag.NewFlagSet(cmd.Name(), pflag.ContinueOnError)
	fs.SortFlags = false
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" {
			fs.AddFlag(f)
		}
	})
	return fs
}

// completionTexts gives cobra's completion commands the examples every command has.
func completionTexts(cmd *cobra.Command) {
	cmd.Short = "a shell completion script: commands, flags, and names from the server"
	cmd.Long = "Prints a script that makes the shell complete kazzle's commands and flags, and the names of\n" +
		"collections, environments and secrets, which it asks the server for (with the API key of the\n" +
		"environment, for at most a second; nothing when the server is not reachable)."
	cmd.Example = "  source <(kazzle completion bash)\n  kazzle completion zsh > \"${fpath[1]}/_kazzle\"\n  kazzle completion fish > ~/.config/fish/completions/kazzle.fish"
	for _, sub := range cmd.Commands() {
		sub.Example = "  kazzle completion " + sub.Name()
		if sub.Name() == "bash" {
			sub.Example = "  source <(kazzle completion bash)"
		}
	}
}

// noArgs refuses arguments: the command takes flags only.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments (got %q): usage: %s", cmd.CommandPath(), args[0], useLine(cmd))
	}
	return nil
}

// exactArgs wants n arguments, else says how to call the command.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("usage: %s", useLine(cmd))
		}
		return nil
	}
}

// unknownSubcommand is the Args of a command with subcommands: an argument there is a
// mistyped command.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return unknownCommand(cmd, args[0])
	}
	return nil
}

func unknownCommand(parent *cobra.Command, name string) error {
	what := "unknown command " + fmt.Sprintf("%q", name)
	if parent.HasParent() {
		what += " of " + parent.CommandPath()
	}
	ue := &usageError{msg: what, hint: "run " + strings.Replace(parent.CommandPath(), "kazzle", "kazzle help", 1) + " to see the commands"}
	var near []string
	for _, sub := range availableSubs(parent) {
		if levenshtein.Distance(name, sub.Name(), nil) <= 2 || strings.HasPrefix(sub.Name(), name) {
			near = append(near, parent.CommandPath()+" "+sub.Name())
		}
	}
	if len(near) > 0 {
		ue.hint = "did you mean " + strings.Join(near, " or ") + "?"
	}
	return ue
}

// flagError turns pflag's complaint into a usage error, with a hint: the flag meant,
// or the commands that do have it.
func (c *cli) flagError(cmd *cobra.Command, err error) error {
	ue := &usageError{msg: err.Error(), hint: "kazzle help " + strings.TrimPrefix(cmd.CommandPath(), "kazzle ") + " lists its flags"}
	if !cmd.HasParent() {
		ue.hint = "run kazzle help to see the commands"
	}
	name, ok := strings.CutPrefix(err.Error(), "unknown flag: --")
	if !ok {
		return ue
	}
	var near []string
	ownFlags(cmd).VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && (levenshtein.Distance(name, f.Name, nil) <= 2 || strings.HasPrefix(f.Name, name)) {
			near = append(near, "--"+f.Name)
		}
	})
	if len(near) > 0 {
		ue.hint = "did you mean " + strings.Join(near, " or ") + "?"
		return ue
	}
	var owners []string
	walk(c.newRoot(nil), func(o *cobra.Command) { // the whole tree, where cmd's may be a branch
		if f := o.LocalFlags().Lookup(name); f != nil && !f.Hidden && o.CommandPath() != cmd.CommandPath() {
			owners = append(owners, o.CommandPath())
		}
	})
	if len(owners) > 0 && len(owners) <= 3 { // more would hide the advice to read cmd's help
		ue.hint = fmt.Sprintf("--%s is a flag of %s", name, strings.Join(owners, ", "))
	}
	return ue
}

// walk calls fn for cmd and every command below it.
func walk(cmd *cobra.Command, fn func(*cobra.Command)) {
	fn(cmd)
	for _, sub := range cmd.Commands() {
		walk(sub, fn)
	}
}

// group is a command that only holds subcommands: on its own it shows them and exits 2.
func (c *cli) group(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{Use: use + " COMMAND", Short: short, Long: long, Example: example, Args: unknownSubcommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.help(cmd)
			return &exitStatus{code: exitUsage}
		}}
	cmd.AddCommand(subs...)
	return cmd
}

// listByDefault makes cmd, a group, run its list subcommand when called alone.
func listByDefault(cmd *cobra.Command) *cobra.Command {
	cmd.Use = strings.Replace(cmd.Use, " COMMAND", " [COMMAND]", 1)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		list := findSub(cmd, "list")
		return list.RunE(list, nil)
	}
	return cmd
}

// apiFlags defines the flags every API command shares: --server, --collection, --env,
// and --json unless the command's output is not its own.
func (c *cli) apiFlags(cmd *cobra.Command, co *common, json bool) {
	fs := cmd.Flags()
	fs.SortFlags = false
	fs.StringVar(&co.server, "server", envOr(c.getenv, "KAZZLE_SERVER", DefaultServer), "vault server URL (KAZZLE_SERVER)")
	fs.StringVar(&co.collection, "collection", c.getenv("KAZZLE_COLLECTION"), "collection slug (KAZZLE_COLLECTION)")
	fs.StringVar(&co.env, "env", c.getenv("KAZZLE_ENV"), "environment slug (KAZZLE_ENV)")
	if json {
		fs.BoolVar(&co.json, "json", false, "print JSON")
	}
	c.completeNames(cmd, co)
	c.hintNotFound(cmd, co)
}

// serverFlag defines --server alone, for commands that name no collection.
func (c *cli) serverFlag(cmd *cobra.Command, co *common) {
	cmd.Flags().SortFlags = false
	cmd.Flags().StringVar(&co.server, "server", envOr(c.getenv, "KAZZLE_SERVER", DefaultServer), "vault server URL (KAZZLE_SERVER)")
}

// completionTimeout bounds what completing a name may cost the shell.
const completionTimeout = time.Second

// completionClient is a client for completing names, or nil: no key, no valid server.
func (c *cli) completionClient(co *common) *api.Client {
	key, err := c.apiKey("")
	if err != nil || key.value == "" {
		return nil
	}
	cl, err := api.NewClient(co.server, key.value, nil)
	if err != nil {
		return nil
	}
	return cl
}

// completeWith turns a lookup of names into a completion function: whatever fails,
// the shell gets no names, quietly.
func (c *cli) completeWith(co *common, names func(context.Context, *api.Client) ([]string, error)) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		client := c.completionClient(co)
		if client == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		all, err := names(ctx, client)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range all {
			if strings.HasPrefix(n, toComplete) && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func collectionNames(ctx context.Context, client *api.Client) ([]string, error) {
	colls, err := client.Collections(ctx)
	var out []string
	for _, col := range colls {
		out = append(out, col.Slug)
	}
	return out, err
}

// completeNames completes --collection and --env of cmd from the server.
func (c *cli) completeNames(cmd *cobra.Command, co *common) {
	cmd.RegisterFlagCompletionFunc("collection", c.completeWith(co, collectionNames))
	cmd.RegisterFlagCompletionFunc("env", c.completeWith(co, func(ctx context.Context, client *api.Client) ([]string, error) {
		if co.collection == "" {
			return nil, errors.New("no collection")
		}
		envs, err := client.Environments(ctx, co.collection)
		var out []string
		for _, e := range envs {
			out = append(out, e.Slug)
		}
		return out, err
	}))
}

// completeSecret completes a NAME argument with the names of the collection's secrets.
func (c *cli) completeSecret(co *common) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	names := c.completeWith(co, func(ctx context.Context, client *api.Client) ([]string, error) {
		if co.collection == "" {
			return nil, errors.New("no collection")
		}
		secrets, err := client.Secrets(ctx, co.collection, co.env)
		var out []string
		for _, s := range secrets {
			out = append(out, s.Name)
		}
		return out, err
	})
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names(cmd, args, toComplete)
	}
}
