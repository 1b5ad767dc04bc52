package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/config"
	"github.com/kazzle/kazzle/deployer"
)

// deployCmd is `kazzle deploy [component…] --env=Y [--plan] [--yes]`: the secrets of
// process components are pushed to their AWS targets, and UI components are built.
func (c *cli) deployCommand() *cobra.Command {
	var o deployOptions
	cmd := &cobra.Command{
		Use:   "deploy [component…] --env=ENV [--plan] [--yes] [--dir=DIR] [--json]",
		Short: "push secrets to the process components' AWS targets; build the UIs",
		Long: "Pushes the declared secrets of the process components of kazzle.config.ts (all, or\n" +
			"those named) to their AWS targets, and builds the UI components. kazzle changes only\n" +
			"the keys it set on a target; it shows the plan and asks before it changes anything.",
		Example: "  kazzle deploy --env prod --plan\n  kazzle deploy api --env prod --yes",
		RunE:    func(cmd *cobra.Command, args []string) error { return c.deployCmd(cmd.Context(), &o, args) },
	}
	c.apiFlags(cmd, &o.common, true)
	fs := cmd.Flags()
	fs.StringVar(&o.dir, "dir", ".", "the folder to find the project configuration from: it or its nearest parent")
	fs.BoolVar(&o.planOnly, "plan", false, "show what would change, and change nothing")
	fs.BoolVar(&o.yes, "yes", false, "apply without asking (required without a terminal)")
	fs.IntVar(&o.parallel, "parallel", deployer.DefaultParallel, "how many components to deploy at once")
	cmd.ValidArgsFunction = c.completeComponents(&o.dir, &o.common)
	return cmd
}

type deployOptions struct {
	common
	dir           string
	planOnly, yes bool
	parallel      int
}

func (c *cli) deployCmd(ctx context.Context, o *deployOptions, args []string) error {
	co, dir, planOnly, yes, parallel := o.common, &o.dir, &o.planOnly, &o.yes, &o.parallel
	switch {
	case co.env == "":
		return usagef("no environment: pass --env=NAME or set KAZZLE_ENV")
	case *parallel < 1:
		return usagef("--parallel must be at least 1")
	}
	confirm, err := c.canConfirm(*planOnly, *yes)
	if err != nil {
		return err
	}
	p, err := config.Load(ctx, *dir, config.Options{Env: co.env, Stderr: c.stderr})
	if err != nil {
		return err
	}
	procs, uis, err := deployComponents(p, args)
	if err != nil {
		return err
	}
	client, err := c.projectClient(p, &co)
	if err != nil {
		return err
	}
	comps, err := c.deployTargets(ctx, client, p, procs, co)
	if err != nil {
		return err
	}
	plans := deployer.Plan(ctx, comps, *parallel)
	if co.json && *planOnly {
		return c.printJSON(api.DeployPlanReport{Build: uis, Plan: planReport(plans)})
	}
	if !co.json {
		c.printPlan(plans, uis, p)
	}
	if *planOnly {
		return planErrors(plans)
	}
	if allEmpty(plans) && len(uis) == 0 {
		if err := planErrors(plans); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, "Nothing to change.")
		return nil
	}
	if confirm && !c.confirm(fmt.Sprintf("Apply to %s %s/%s? [y/N] ", countWord(len(plans)+len(uis), "component"), co.collection, co.env)) {
		return errors.New("deploy cancelled: nothing was changed")
	}
	results := deployer.Apply(ctx, plans, *parallel, c.progressView(plans))
	var built []api.BuiltComponent
	var buildErr error
	if len(uis) > 0 {
		// The whole environment: every stored field but the declared VITE_ values is scanned for.
		vars, scan, err := client.ResolveForScan(ctx, api.ResolveRequest{Collection: co.collection, Environment: co.env})
		if err != nil {
			buildErr = fmt.Errorf("resolve %s/%s: %w", co.collection, co.env, err)
		} else {
			built, buildErr = c.buildUI(ctx, p, p.Dir, uis, vars, scan, co, false)
		}
	}
	if co.json {
		if err := c.printJSON(api.DeployReport{Build: built, Plan: planReport(plans), Results: resultsReport(results)}); err != nil {
			return err
		}
	} else {
		c.printSummary(results, built)
	}
	return deployErrors(results, buildErr)
}

// canConfirm says whether deploy will ask before applying, or why it cannot go on.
func (c *cli) canConfirm(planOnly, yes bool) (bool, error) {
	if planOnly {
		return false, nil
	}
	return c.mayAsk(yes, "kazzle deploy changes cloud resources", "pass --yes to apply, or --plan to only see the plan")
}

// deployComponents splits the components to deploy into process and UI ones: those
// named, or all of them.
func deployComponents(p config.Project, named []string) (procs, uis []string, err error) {
	all := len(named) == 0
	if all {
		named = p.ComponentNames()
	}
	for _, name := range named {
		comp, ok := p.Components[name]
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("%s has no component %q; it has %s", p.File, name, strings.Join(p.ComponentNames(), ", "))
		case comp.Kind == config.KindUI:
			uis = append(uis, name)
		case comp.Deploy == nil:
			if !all {
				return nil, nil, withHint(fmt.Errorf("component %s has no deploy targets", name), "add deploy: { aws: { lambda: { functionName: \"…\" } } } (or ecs, ssm) to it in %s", p.File)
			}
		default:
			procs = append(procs, name)
		}
	}
	if len(procs)+len(uis) == 0 {
		return nil, nil, fmt.Errorf("%s declares nothing to deploy: no component has deploy targets or is a UI", p.File)
	}
	return procs, uis, nil
}

// deployTargets resolves each process component's declared secrets (one audited read
// each) and makes its targets.
func (c *cli) deployTargets(ctx context.Context, client *api.Client, p config.Project, names []string, co common) ([]deployer.Component, error) {
	if len(names) == 0 {
		return nil, nil
	}
	awsCfg, err := loadAWSConfig(ctx)
	if err != nil {
		return nil, err
	}
	factory := deployer.NewAWS(awsCfg)
	var comps []deployer.Component
	for _, name := range names {
		comp := p.Components[name]
		targets, err := factory.Targets(comp.Deploy)
		if err != nil {
			return nil, fmt.Errorf("component %s: %w", name, err)
		}
		vars := map[string]string{}
		if len(comp.Secrets) > 0 {
			resolved, err := client.Resolve(ctx, api.ResolveRequest{Collection: co.collection, Environment: co.env, Names: comp.Secrets})
			if err != nil {
				return nil, withHint(fmt.Errorf("resolve the secrets of %s in %s/%s: %w", name, co.collection, co.env, err),
					"each name in the component's secrets must be a secret of the environment: kazzle secrets list --env %s", co.env)
			}
			for _, v := range resolved {
				vars[v.Name] = v.Value
			}
		}
		comps = append(comps, deployer.Component{Name: name, Vars: vars, Targets: targets})
	}
	return comps, nil
}

func allEmpty(plans []deployer.ComponentPlan) bool {
	for _, p := range plans {
		if !p.Empty() {
			return false
		}
	}
	return true
}

// printPlan shows each target's changes with masked values, as terraform plan does.
func (c *cli) printPlan(plans []deployer.ComponentPlan, uis []string, p config.Project) {
	w := c.stdout
	counts := map[deployer.Op]int{}
	for _, cp := range plans {
		for _, t := range cp.Targets {
			fmt.Fprint(w, printablef("%s → %s\n", cp.Component, t.Target))
			switch {
			case t.Err != nil:
				fmt.Fprint(w, printablef("  ! %v\n", t.Err))
				continue
			case len(t.Changes) == 0:
				fmt.Fprint(w, printablef("  no changes (%d unchanged)\n", t.Unchanged))
				continue
			}
			width := 0
			for _, ch := range t.Changes {
				width = max(width, len(ch.Key))
			}
			for _, ch := range t.Changes {
				counts[ch.Op]++
				switch ch.Op {
				case deployer.Add:
					fmt.Fprint(w, printablef("  + %-*s  %s\n", width, ch.Key, ch.New))
				case deployer.Update:
					fmt.Fprint(w, printablef("  ~ %-*s  %s → %s\n", width, ch.Key, ch.Old, ch.New))
				case deployer.Remove:
					fmt.Fprint(w, printablef("  - %-*s  was %s\n", width, ch.Key, ch.Old))
				}
			}
			if t.Unchanged > 0 {
				fmt.Fprint(w, printablef("  (%d unchanged)\n", t.Unchanged))
			}
		}
	}
	for _, name := range uis {
		fmt.Fprint(w, printablef("%s → build %s\n", name, p.Components[name].OutDir))
	}
	fmt.Fprint(w, printablef("Plan: %d to add, %d to change, %d to remove", counts[deployer.Add], counts[deployer.Update], counts[deployer.Remove]))
	if len(uis) > 0 {
		fmt.Fprint(w, printablef("; %s to build", countWord(len(uis), "UI")))
	}
	fmt.Fprintln(w, ".")
}

func countWord(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// progressView returns the progress callback of an apply: on a terminal, one line per
// component redrawn in place; otherwise a line per step, for logs.
func (c *cli) progressView(plans []deployer.ComponentPlan) func(deployer.Progress) {
	var mu sync.Mutex
	f, ok := c.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return func(p deployer.Progress) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprint(c.stderr, printablef("kazzle: %s: %s\n", p.Component, progressText(p)))
		}
	}
	var order []string
	lines := map[string]string{}
	for _, p := range plans {
		if !p.Empty() || p.Err() != nil {
			order = append(order, p.Component)
			lines[p.Component] = "waiting"
		}
	}
	drawn := 0
	return func(p deployer.Progress) {
		mu.Lock()
		defer mu.Unlock()
		lines[p.Component] = progressText(p)
		if drawn > 0 {
			fmt.Fprintf(f, "\x1b[%dA", drawn) // back to the first line
		}
		for _, name := range order {
			fmt.Fprint(f, printablef("\x1b[2K  %-20s %s\n", name, lines[name]))
		}
		drawn = len(order)
	}
}

func progressText(p deployer.Progress) string {
	if p.Target == "" {
		return p.Step
	}
	return p.Target + ": " + p.Step
}

func (c *cli) printSummary(results []deployer.Result, built []api.BuiltComponent) {
	var applied, unchanged, failed int
	for _, r := range results {
		switch r.Status {
		case deployer.Applied:
			applied++
			fmt.Fprint(c.stdout, printablef("%s: applied in %s\n", r.Component, r.Duration.Round(time.Millisecond)))
		case deployer.Unchanged:
			unchanged++
		case deployer.Failed:
			failed++
			fmt.Fprint(c.stdout, printablef("%s: FAILED: %s\n", r.Component, r.Error))
		}
	}
	for _, b := range built {
		fmt.Fprint(c.stdout, printablef("%s: built %s\n", b.Component, countWord(len(b.Files), "file")))
	}
	fmt.Fprint(c.stdout, printablef("Deploy: %d applied, %d unchanged, %d failed", applied, unchanged, failed))
	if len(built) > 0 {
		fmt.Fprint(c.stdout, printablef(", %d built", len(built)))
	}
	fmt.Fprintln(c.stdout, ".")
}

func planErrors(plans []deployer.ComponentPlan) error {
	var failed []string
	noCredentials := false
	for _, p := range plans {
		if err := p.Err(); err != nil {
			failed = append(failed, p.Component)
			noCredentials = noCredentials || strings.Contains(err.Error(), "get credentials")
		}
	}
	if len(failed) == 0 {
		return nil
	}
	err := fmt.Errorf("the plan of %s failed (see above)", strings.Join(failed, ", "))
	if noCredentials {
		return withHint(err, "the AWS SDK found no credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, as for the aws CLI")
	}
	return err
}

func deployErrors(results []deployer.Result, buildErr error) error {
	var failed []string
	changed := false
	for _, r := range results {
		if r.Status == deployer.Failed {
			failed = append(failed, r.Component)
			changed = changed || r.Changed
		}
	}
	if len(failed) > 0 {
		err := fmt.Errorf("%d of %d components failed: %s", len(failed), len(results), strings.Join(failed, ", "))
		if buildErr != nil {
			err = fmt.Errorf("%w; and %w", err, buildErr)
		}
		if changed {
			return withHint(err, "a target changed after kazzle read it: run kazzle deploy again to see the new plan")
		}
		return err
	}
	return buildErr
}
