package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
)

func (c *cli) totpCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:     "totp NAME|ID [--env=ENV] [--json]",
		Short:   "the current code of a totp secret",
		Long:    "Prints the current code of a totp secret, and on stderr how long it stays valid.",
		Example: "  kazzle totp GITHUB_2FA --collection ops",
		RunE:    func(cmd *cobra.Command, args []string) error { return c.totpCmd(cmd.Context(), &co, args[0]) },
	}
	return c.secretCommand(cmd, &co, true)
}

func (c *cli) totpCmd(ctx context.Context, co *common, nameOrID string) error {
	client, s, err := c.oneSecret(ctx, co, nameOrID)
	if err != nil {
		return err
	}
	code, err := client.TOTP(ctx, s.ID)
	if err != nil {
		return err
	}
	if co.json {
		return c.printJSON(code)
	}
	fmt.Fprintln(c.stdout, code.Code)
	fmt.Fprintf(c.stderr, "kazzle: valid for %.0fs more\n", code.ValidFor)
	return nil
}

// gitCredentialCmd speaks git's credential-helper protocol: key=value lines on stdin up
// to a blank line; for get, it prints username= and password= of the best matching git
// secret, or nothing, so git asks the next helper. store and erase do nothing: the vault
// is changed through kazzle, not by git.
func (c *cli) gitCredentialCommand() *cobra.Command {
	var co common
	cmd := &cobra.Command{
		Use:   "git.credential get|store|erase",
		Short: "a git credential helper: credential.helper '!kazzle git.credential'",
		Long: "Speaks git's credential-helper protocol: for get, it answers with the username and password\n" +
			"of the git secret whose host and path prefix best match the repository, or nothing, so\n" +
			"that git asks the next helper. store and erase do nothing: secrets change through kazzle.",
		Example:   "  git config --global credential.helper '!kazzle git.credential'\n  printf 'protocol=https\\nhost=github.com\\npath=acme/app.git\\n\\n' | kazzle git.credential get",
		ValidArgs: []cobra.Completion{"get", "store", "erase"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("usage: git config --global credential.helper '!kazzle git.credential' (git then runs it with get, store or erase)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return c.gitCredentialCmd(cmd.Context(), &co, args[0]) },
	}
	c.apiFlags(cmd, &co, false) // git's protocol is the output format
	return cmd
}

func (c *cli) gitCredentialCmd(ctx context.Context, co *common, op string) error {
	attrs, err := readCredentialAttrs(c.stdin)
	if err != nil {
		return err
	}
	if op != "get" {
		return nil
	}
	if _, ok := secret.GitRepoPath(attrs["path"]); !ok {
		// A path that climbs out of its prefix (acme/app/%2e%2e/evil) gets no answer,
		// so git asks the next helper; the server refuses it as well.
		return nil
	}
	client, err := c.client(co)
	if err != nil {
		return err
	}
	cred, err := client.GitCredential(ctx, api.GitCredentialRequest{Protocol: attrs["protocol"], Host: attrs["host"], Path: attrs["path"]})
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if strings.ContainsAny(cred.Username+cred.Password, "\n\x00") {
		return fmt.Errorf("the git secret %s holds a newline or NUL, which git's credential protocol cannot carry", cred.SecretID)
	}
	fmt.Fprintf(c.stdout, "username=%s\npassword=%s\n", cred.Username, cred.Password)
	return nil
}

// readCredentialAttrs reads git's key=value lines until a blank line or the end.
func readCredentialAttrs(r interface{ Read([]byte) (int, error) }) (map[string]string, error) {
	attrs := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if line == "" {
			break
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("git credential input: a line without '=' (want key=value)")
		}
		attrs[k] = v
	}
	return attrs, sc.Err()
}
