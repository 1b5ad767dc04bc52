package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/kazzle/kazzle/secret"
)

// Project is a project's configuration, from kazzle.config.ts or kazzle.hcl: the
// collection its secrets live in and the components that use them.
type Project struct {
	// File is the configuration file it was read from, as the caller of Load names it
	// (relative to the folder given to Load).
	File string `json:"-"`
	// Dir is the project folder, the one that holds File, as the caller of Load names it:
	// the folder given, or that folder joined with "..", "../..". Entry and OutDir are
	// relative to it.
	Dir string `json:"-"`
	// Collection is the default collection for commands run in the project; may be empty.
	Collection string               `json:"collection,omitempty"`
	Components map[string]Component `json:"components"`
}

// Kind says how a component receives its secrets.
type Kind string

const (
	// KindProcess components get secrets in their runtime environment (run, deploy).
	KindProcess Kind = "process"
	// KindUI components are browser bundles: only VITE_ secrets, inlined at build time.
	KindUI Kind = "ui"
)

// Component is one part of the project.
type Component struct {
	Kind    Kind     `json:"kind"`
	Secrets []string `json:"secrets"`
	// Entry and OutDir are a UI component's entry module (or index.html) and output
	// folder, relative to the project folder (Project.Dir). OutDir defaults to "dist".
	Entry  string `json:"entry,omitempty"`
	OutDir string `json:"outDir,omitempty"`
	// Base is the public path the UI is served from, as Vite's base: import.meta.env.BASE_URL
	// and the prefix of its asset URLs. Default "/".
	Base   string  `json:"base,omitempty"`
	Deploy *Deploy `json:"deploy,omitempty"`
	// LeakScan tunes the leak scan of a UI component's output.
	LeakScan *LeakScan `json:"leakScan,omitempty"`
}

// LeakScan tunes the leak scan of a UI component's output.
type LeakScan struct {
	// Allow names secrets (or the variables they export) whose values the scan does not
	// look for: values such as "production" that any bundle holds by chance. They are
	// still never logged or inlined.
	Allow []string `json:"allow"`
}

// Deploy lists where a process component's secrets are pushed.
type Deploy struct {
	AWS *AWSDeploy `json:"aws,omitempty"`
}

// AWSDeploy holds the AWS targets of a component; at least one is set.
type AWSDeploy struct {
	Lambda *LambdaTarget `json:"lambda,omitempty"`
	ECS    *ECSTarget    `json:"ecs,omitempty"`
	SSM    *SSMTarget    `json:"ssm,omitempty"`
}

// LambdaTarget is a Lambda function's environment.
type LambdaTarget struct {
	FunctionName string `json:"functionName"`
	Region       string `json:"region,omitempty"`
}

// ECSTarget is the environment of one container of an ECS service's task definition.
type ECSTarget struct {
	Cluster   string `json:"cluster"`
	Service   string `json:"service"`
	Container string `json:"container"`
	Region    string `json:"region,omitempty"`
}

// SSMTarget is a path of SecureString parameters in SSM Parameter Store.
type SSMTarget struct {
	Path     string `json:"path"`
	KMSKeyID string `json:"kmsKeyId,omitempty"`
	Region   string `json:"region,omitempty"`
}

// ComponentNames returns the component names, sorted.
func (p Project) ComponentNames() []string {
	names := make([]string, 0, len(p.Components))
	for n := range p.Components {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// viteUIPrefix is the only prefix a UI component's secrets may have: they end up in
// JavaScript that anyone can read.
const viteUIPrefix = "VITE_"

// Patterns are compiled on first use, not at start-up: every kazzle command links them.
var (
	lambdaNamePattern = lazyRegexp(`^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:)?[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?$`)
	regionPattern     = lazyRegexp(`^[a-z]{2}(-[a-z]+)+-\d+$`)
	basePattern       = lazyRegexp(`^(/|https?://[^\s/]+/)[^\s"'<>]*$`)
	ecsNamePattern    = lazyRegexp(`^[A-Za-z0-9:/_.-]{1,255}$`)
)

func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// maxSSMPathLen leaves room under SSM's 1,011-character name limit for a secret's name.
const maxSSMPathLen = 1011 - secret.MaxNameLen - 1

// validate checks p against the rules of a project configuration and returns one message per
// problem, each naming the path of what is wrong. Locations are added by the caller.
func (p *Project) validate() []Message {
	var ps problems
	bad, badAt := ps.add, ps.addAt
	if p.Collection != "" {
		if err := secret.ValidateSlug("collection", p.Collection); err != nil {
			badAt("collection", p.Collection, "%v", err)
		}
	}
	if len(p.Components) == 0 {
		bad("components", "no components: declare at least one, e.g. components: { api: { kind: \"process\", secrets: [...] } }")
	}
	p.validateTargetsUnique(&ps)
	for _, name := range p.ComponentNames() {
		c := p.Components[name]
		at := "components." + name
		if err := secret.ValidateSlug("component", name); err != nil {
			ps.addAtKey(at, name, "%v", err)
		}
		seen := map[string]bool{}
		var notVite []string
		for i, s := range c.Secrets {
			where := fmt.Sprintf("%s.secrets[%d]", at, i)
			if err := secret.ValidateName(s); err != nil {
				badAt(where, s, "%v", err)
				continue
			}
			if seen[s] {
				bad(where, "secret %s is listed twice", s)
			}
			seen[s] = true
			if c.Kind == KindUI && !strings.HasPrefix(s, viteUIPrefix) {
				notVite = append(notVite, s)
			}
		}
		switch c.Kind {
		case KindProcess:
			if c.Entry != "" {
				ps.addAtKey(at+".entry", "entry", "a process component has no entry: entry and outDir are for kind \"ui\"")
			}
			if c.Base != "" {
				ps.addAtKey(at+".base", "base", "a process component has no base: base is for kind \"ui\"")
			}
			if c.OutDir != "" {
				ps.addAtKey(at+".outDir", "outDir", "a process component has no outDir: entry and outDir are for kind \"ui\"")
			}
			if c.Deploy != nil {
				validateDeploy(at+".deploy", c.Deploy, &ps)
			}
			if c.LeakScan != nil {
				ps.addAtKey(at+".leakScan", "leakScan", "a process component has no leakScan: the leak scan is of a UI component's output")
			}
		case KindUI:
			if len(notVite) > 0 {
				badAt(at+".secrets", notVite[0], "UI component %s declares %s: a UI bundle is readable by anyone, so it may inline only %s secrets; move %s to a process component or rename with the %s prefix if it is truly public",
					name, strings.Join(notVite, ", "), viteUIPrefix, plural(len(notVite), "it", "them"), viteUIPrefix)
			}
			for _, f := range []struct{ key, value, example string }{{"entry", c.Entry, "web/index.html"}, {"outDir", c.OutDir, "web/dist"}} {
				if f.value != "" && !insideProject(f.value) {
					badAt(at+"."+f.key, f.value, "%s %q is not inside the project folder: use a relative path below it, such as %s", f.key, f.value, f.example)
				}
			}
			if c.Base != "" && !basePattern().MatchString(c.Base) {
				badAt(at+".base", c.Base, "base %q is not a public path: use one that starts with / (such as /app/), or a full https:// URL", c.Base)
			}
			if c.LeakScan != nil {
				for i, s := range c.LeakScan.Allow {
					if err := secret.ValidateName(s); err != nil {
						badAt(fmt.Sprintf("%s.leakScan.allow[%d]", at, i), s, "%v", err)
					}
				}
			}
			if c.Entry == "" {
				ps.addAtKey(at+".entry", name, "UI component %s needs an entry: its entry module or index.html, e.g. entry: \"web/src/main.tsx\"", name)
			}
			if c.Deploy != nil {
				ps.addAtKey(at+".deploy", "deploy", "UI component %s has deploy targets: deploy builds UI components; AWS targets are for kind \"process\"", name)
			}
		case "":
			ps.addAtKey(at+".kind", name, "component %s has no kind: set kind: \"process\" or kind: \"ui\"", name)
		default:
			badAt(at+".kind", string(c.Kind), "component %s has kind %q: want \"process\" or \"ui\"", name, c.Kind)
		}
	}
	return ps
}

// problems collects validation messages.
type problems []Message

func (ps *problems) add(path, format string, args ...any) { ps.addAt(path, "", format, args...) }

// addAtKey adds a message about an object key that is present, which locates it.
func (ps *problems) addAtKey(path, key, format string, args ...any) {
	*ps = append(*ps, Message{Path: path, Text: fmt.Sprintf(format, args...), find: key, findKey: true})
}

// addAt adds a message about a string value, which its literal in the source locates.
func (ps *problems) addAt(path, value, format string, args ...any) {
	*ps = append(*ps, Message{Path: path, Text: fmt.Sprintf(format, args...), find: value})
}

func validateDeploy(at string, d *Deploy, ps *problems) {
	bad, badAt := ps.add, ps.addAt
	if d.AWS == nil {
		bad(at, "deploy names no target: add aws: { lambda | ecs | ssm: {...} }")
		return
	}
	at += ".aws"
	a := d.AWS
	if a.Lambda == nil && a.ECS == nil && a.SSM == nil {
		bad(at, "deploy.aws names no target: add lambda, ecs or ssm")
	}
	region := func(at, r string) {
		if r != "" && !regionPattern().MatchString(r) {
			badAt(at+".region", r, "region %q is not an AWS region name such as us-east-1", r)
		}
	}
	if l := a.Lambda; l != nil {
		switch {
		case l.FunctionName == "":
			bad(at+".lambda.functionName", "lambda needs functionName")
		case !lambdaNamePattern().MatchString(l.FunctionName):
			badAt(at+".lambda.functionName", l.FunctionName, "%q is not a Lambda function name or ARN (letters, digits, - and _, at most 64)", l.FunctionName)
		}
		region(at+".lambda", l.Region)
		if msg := regionConflict(l.Region, l.FunctionName); msg != "" {
			badAt(at+".lambda.functionName", l.FunctionName, "%s", msg)
		}
	}
	if e := a.ECS; e != nil {
		for _, f := range []struct{ name, value string }{{"cluster", e.Cluster}, {"service", e.Service}, {"container", e.Container}} {
			switch {
			case f.value == "":
				bad(at+".ecs."+f.name, "ecs needs %s", f.name)
			case !ecsNamePattern().MatchString(f.value):
				badAt(at+".ecs."+f.name, f.value, "ecs %s %q has characters ECS does not allow", f.name, f.value)
			}
		}
		region(at+".ecs", e.Region)
		if msg := regionConflict(e.Region, e.Cluster, e.Service); msg != "" {
			ps.add(at+".ecs", "%s", msg)
		}
	}
	if s := a.SSM; s != nil {
		switch {
		case s.Path == "":
			bad(at+".ssm.path", "ssm needs path, a parameter path prefix such as /my-saas/prod/")
		case ValidateSSMPath(s.Path) != nil:
			badAt(at+".ssm.path", s.Path, "%v", ValidateSSMPath(s.Path))
		case strings.HasPrefix(strings.ToLower(s.Path), "/aws") || strings.HasPrefix(strings.ToLower(s.Path), "/ssm"):
			badAt(at+".ssm.path", s.Path, "ssm path %q starts with a prefix SSM reserves (aws, ssm): choose another path", s.Path)
		case len(s.Path) > maxSSMPathLen:
			badAt(at+".ssm.path", s.Path, "ssm path is %d characters; at most %d leaves room for secret names", len(s.Path), maxSSMPathLen)
		}
		region(at+".ssm", s.Region)
	}
}

// validateTargetsUnique refuses two components that push to the same place: each would
// remove the other's keys on every deploy. Targets are compared by TargetID, so an ARN
// and a name of one function match. The default region is not known here: a target
// without region matches the same name in any region, and the message says to set region
// on both when they are meant to be apart. Two containers of one ECS service are not a
// duplicate: a deploy writes them together, in one task-definition revision.
func (p *Project) validateTargetsUnique(ps *problems) {
	type owned struct {
		id        TargetID
		component string
	}
	var seen []owned
	for _, name := range p.ComponentNames() {
		ids, paths := p.Components[name].Deploy.IDs()
		for i, id := range ids {
			at := "components." + name + ".deploy.aws." + paths[i]
			for _, o := range seen {
				if !o.id.Same(id) {
					continue
				}
				if o.id.Region == id.Region {
					ps.add(at, "components %s and %s both deploy to %s: each would remove the other's keys", o.component, name, id)
				} else {
					// One region is unset: the default region, unknown until deploy time.
					unset, known := name, o.id
					if o.id.Region == "" {
						unset, known = o.component, id
					}
					ps.add(at, "components %s and %s may both deploy to %s (%s gives no region, and the default region may be that one): each would remove the other's keys; set region on both if they are meant to differ",
						o.component, name, known, unset)
				}
				break
			}
			seen = append(seen, owned{id, name})
		}
	}
}

// insideProject says whether a path from the config names something inside the project
// folder: relative, and not climbing out of it.
func insideProject(p string) bool {
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, "\\") {
		return false
	}
	clean := filepath.ToSlash(filepath.Clean(filepath.FromSlash(p)))
	return clean != "." && clean != ".." && !strings.HasPrefix(clean, "../")
}

func regionOr(r string) string {
	if r == "" {
		return "the default region"
	}
	return r
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
