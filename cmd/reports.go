package cmd

import (
	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/bundler"
	"github.com/kazzle/kazzle/deployer"
)

// The --json reports of build and deploy are api types; these turn the bundler's and
// the deployer's results into them. A nil slice stays nil, so it prints as null, as
// it always has.

// builtReport is one UI component's build as the reports show it.
func builtReport(component string, res bundler.Result) api.BuiltComponent {
	out := api.BuiltComponent{Component: component, OutDir: res.OutDir}
	if res.Files != nil {
		out.Files = make([]api.BuiltFile, 0, len(res.Files))
	}
	for _, f := range res.Files {
		out.Files = append(out.Files, api.BuiltFile{Path: f.Path, Size: f.Size, Gzip: f.Gzip})
	}
	for _, w := range res.Warnings {
		out.Warnings = append(out.Warnings, api.Diagnostic{File: w.File, Line: w.Line, Column: w.Column, Path: w.Path, Text: w.Text})
	}
	return out
}

// planReport is the plan of each component, never nil: a deploy of UI components only
// has an empty plan.
func planReport(plans []deployer.ComponentPlan) []api.DeployComponentPlan {
	out := make([]api.DeployComponentPlan, 0, len(plans))
	for _, p := range plans {
		cp := api.DeployComponentPlan{Component: p.Component}
		for _, t := range p.Targets {
			tp := api.DeployTargetPlan{Target: t.Target, Unchanged: t.Unchanged}
			if t.Err != nil {
				tp.Error = t.Err.Error()
			}
			if t.Changes != nil {
				tp.Changes = make([]api.DeployChange, 0, len(t.Changes))
			}
			for _, ch := range t.Changes {
				tp.Changes = append(tp.Changes, api.DeployChange{Key: ch.Key, Op: string(ch.Op), Old: ch.Old, New: ch.New})
			}
			cp.Targets = append(cp.Targets, tp)
		}
		out = append(out, cp)
	}
	return out
}

// resultsReport is how each component's apply ended.
func resultsReport(results []deployer.Result) []api.DeployResult {
	if results == nil {
		return nil
	}
	out := make([]api.DeployResult, 0, len(results))
	for _, r := range results {
		out = append(out, api.DeployResult{Component: r.Component, Status: string(r.Status), Error: r.Error, Duration: r.Duration, Changed: r.Changed})
	}
	return out
}
