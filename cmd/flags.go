package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/config"
)

// durationFlag is a flag of a time.Duration that also takes days: 7d, 1d12h, 90d.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Type() string { return "duration" }

func (f durationFlag) Set(v string) error {
	d, err := parseDuration(v)
	if err != nil {
		return err
	}
	*f.d = d
	return nil
}

// parseDuration is time.ParseDuration with a day unit, d, of 24 hours, in front.
func parseDuration(v string) (time.Duration, error) {
	days, rest, ok := strings.Cut(v, "d")
	if !ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration: use a number and a unit, such as 7d, 12h or 30m", v)
		}
		return d, nil
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 0 || n > 100*365 {
		return 0, fmt.Errorf("%q is not a duration: use a number and a unit, such as 7d, 12h or 30m", v)
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest != "" {
		more, err := time.ParseDuration(rest)
		if err != nil || more < 0 {
			return 0, fmt.Errorf("%q is not a duration: use a number and a unit, such as 7d, 12h or 30m", v)
		}
		d += more
	}
	return d, nil
}

// hintNotFound makes the errors of cmd that name a collection or an environment that
// is not there say which there are.
func (c *cli) hintNotFound(cmd *cobra.Command, co *common) {
	run := cmd.RunE
	if run == nil {
		return
	}
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		return c.explainNotFound(cmd.Context(), co, run(cmd, args))
	}
}

// explainNotFound adds to a server's "collection X: not found" or "environment X:
// not found" the collections or environments this key can see, when it can list them.
func (c *cli) explainNotFound(ctx context.Context, co *common, err error) error {
	var ae *api.Error
	var h *hinted
	if !errors.As(err, &ae) || ae.Code != api.CodeNotFound || errors.As(err, &h) {
		return err
	}
	client := c.completionClient(co)
	if client == nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	switch {
	case strings.HasPrefix(ae.Message, "collection "):
		names, lerr := collectionNames(ctx, client)
		switch {
		case lerr != nil:
			return err
		case len(names) == 0:
			return withHint(err, "this key sees no collection yet: create one with kazzle collections create SLUG")
		}
		return withHint(err, "the collections are: %s", strings.Join(names, ", "))
	case strings.HasPrefix(ae.Message, "environment ") && co.collection != "":
		envs, lerr := client.Environments(ctx, co.collection)
		switch {
		case lerr != nil:
			return err
		case len(envs) == 0:
			return withHint(err, "%s has no environment yet: create one with kazzle envs create SLUG --collection %s", co.collection, co.collection)
		}
		names := make([]string, len(envs))
		for i, e := range envs {
			names[i] = e.Slug
		}
		return withHint(err, "the environments of %s are: %s", co.collection, strings.Join(names, ", "))
	}
	return err
}

// completeComponents completes the component arguments of build and deploy from the
// project configuration in dir.
func (c *cli) completeComponents(dir *string, co *common) func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		p, err := config.Load(ctx, *dir, config.Options{Env: co.env, Stderr: io.Discard})
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, name := range p.ComponentNames() {
			if strings.HasPrefix(name, toComplete) {
				out = append(out, name)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
