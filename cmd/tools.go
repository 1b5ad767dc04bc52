package cmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
)

func (c *cli) totpCmd(ctx context.Context, args []string) error {
	var co common
	fs := c.flags("totp", &co)
	client, s, err := c.oneSecret(ctx, fs, &co, args, "kazzle totp NAME|ID")
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
func (c *cli) gitCredentialCmd(ctx context.Context, args []string) error {
	var co common
	fs := c.flags("git.credential", &co)
	fs.MarkHidden("json") // git's protocol is the output format
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("usage: git config --global credential.helper '!kazzle git.credential' (git then runs it with get, store or erase)")
	}
	attrs, err := readCredentialAttrs(c.stdin)
	if err != nil {
		return err
	}
	if fs.Arg(0) != "get" {
		return nil
	}
	if _, ok := secret.GitRepoPath(attrs["path"]); !ok {
		// A path that climbs out of its prefix (acme/app/%2e%2e/evil) gets no answer,
		// so git asks the next helper; the server refuses it as well.
		return nil
	}
	client, err := c.client(&co)
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
