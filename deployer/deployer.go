// Package deployer pushes the secrets of process components into the runtime
// environments of their cloud targets: it plans what to add, change and remove, and
// applies the plan with bounded parallelism.
//
// kazzle manages only the keys it set. Each target records their names next to them:
// a Lambda function or an ECS container in the variable KAZZLE_MANAGED, an SSM path in
// the String parameter <path>kazzle-managed. A key that someone else set is never
// changed or removed, and declaring one is a conflict the plan reports. The record is
// written in the same call as the variables where the target allows it (Lambda, ECS),
// so the two cannot disagree.
//
// No value appears in what this package returns but Component.Vars itself: plans carry
// masked previews, and every error from a target is redacted of every value the
// component or the target holds.
package deployer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kazzle/kazzle/resolver"
)

// ManagedVar is the variable in which a Lambda function or an ECS container lists the
// keys kazzle manages, comma-separated and sorted.
const ManagedVar = "KAZZLE_MANAGED"

// ErrChanged means the target changed between the plan and the apply; nothing was
// written, and a new plan will show the current state.
var ErrChanged = errors.New("the target changed since the plan was read")

// Target is one place in the cloud that holds a component's environment.
type Target interface {
	// String names the target for people: "aws.lambda my-api (eu-west-1)".
	String() string
	// Check returns the problems with putting desired there that need no call to find:
	// names the target refuses, sizes over its limits.
	Check(desired map[string]string) []string
	// Read returns the target's current state.
	Read(ctx context.Context) (State, error)
	// Write makes the managed keys of the target hold desired, starting from st as Read
	// returned it. It returns an error wrapping ErrChanged, and writes nothing, when the
	// target changed since st was read.
	Write(ctx context.Context, st State, desired map[string]string, progress func(string)) error
}

// State is what a target holds now.
type State struct {
	// Vars are all the target's variables, others' included.
	Vars map[string]string
	// Managed are the names kazzle set there, from the target's record.
	Managed []string
	// Taken are names the target sets some other way (an ECS container's secrets from
	// SSM or Secrets Manager): declaring one is a conflict, as for others' variables.
	Taken []string
	// version is what Write compares to detect a concurrent change.
	version any
}

// Component is a process component with its resolved variables and its targets.
type Component struct {
	Name    string
	Vars    map[string]string
	Targets []Target
}

// Op is what a plan does to one key.
type Op string

const (
	Add    Op = "add"
	Update Op = "change"
	Remove Op = "remove"
)

// Change is one key's change, with masked previews of its values.
type Change struct {
	Key string `json:"key"`
	Op  Op     `json:"op"`
	// Old and New are masked previews; Old is empty for an add, New for a remove.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
}

// TargetPlan is the plan of one target of a component.
type TargetPlan struct {
	Target    string   `json:"target"`
	Changes   []Change `json:"changes"`
	Unchanged int      `json:"unchanged"`
	// Err is why the target cannot be planned: a check failed, the read failed, or a
	// declared key is someone else's.
	Err error `json:"-"`

	target Target
	state  State
}

// ComponentPlan is the plan of one component.
type ComponentPlan struct {
	Component string       `json:"component"`
	Targets   []TargetPlan `json:"targets"`

	vars   map[string]string
	redact []resolver.Replacement
}

// Empty reports whether applying p would change nothing.
func (p ComponentPlan) Empty() bool {
	for _, t := range p.Targets {
		if len(t.Changes) > 0 {
			return false
		}
	}
	return true
}

// Err returns the first target's planning error, or nil.
func (p ComponentPlan) Err() error {
	for _, t := range p.Targets {
		if t.Err != nil {
			return fmt.Errorf("%s: %w", t.Target, t.Err)
		}
	}
	return nil
}

// DefaultParallel is how many components kazzle deploy plans and applies at once: the
// work is waiting on AWS, and AWS's control-plane rate limits are the bound that matters.
const DefaultParallel = 8

// Plan reads every target of every component, at most parallel at a time, and
// returns what applying would change. A failure is recorded in its target's plan, not
// returned: the other components are still planned.
func Plan(ctx context.Context, comps []Component, parallel int) []ComponentPlan {
	plans := make([]ComponentPlan, len(comps))
	forEach(len(comps), parallel, func(i int) {
		plans[i] = planComponent(ctx, comps[i])
	})
	return plans
}

func planComponent(ctx context.Context, c Component) ComponentPlan {
	p := ComponentPlan{Component: c.Name, vars: c.Vars, redact: replacements(c.Vars)}
	for _, t := range c.Targets {
		tp := TargetPlan{Target: t.String(), target: t}
		if problems := checkDesired(t, c.Vars); len(problems) > 0 {
			tp.Err = errors.New(strings.Join(problems, "; "))
			p.Targets = append(p.Targets, tp)
			continue
		}
		st, err := t.Read(ctx)
		p.redact = append(p.redact, replacements(st.Vars)...)
		if err != nil {
			tp.Err = redactErr(err, p.redact)
			p.Targets = append(p.Targets, tp)
			continue
		}
		tp.state = st
		tp.Changes, tp.Unchanged, tp.Err = diff(st, c.Vars, t.String())
		p.Targets = append(p.Targets, tp)
	}
	return p
}

// checkDesired applies the rules every target shares, then the target's own.
func checkDesired(t Target, desired map[string]string) []string {
	var problems []string
	if _, ok := desired[ManagedVar]; ok {
		problems = append(problems, fmt.Sprintf("%s is the name kazzle records its keys in: rename the secret", ManagedVar))
	}
	return append(problems, t.Check(desired)...)
}

// diff compares a target's state with the desired variables.
func diff(st State, desired map[string]string, target string) (changes []Change, unchanged int, err error) {
	var foreign []string
	for _, k := range slices.Sorted(maps.Keys(desired)) {
		old, present := st.Vars[k]
		switch {
		case present && !slices.Contains(st.Managed, k), slices.Contains(st.Taken, k):
			foreign = append(foreign, k)
		case !present:
			changes = append(changes, Change{Key: k, Op: Add, New: resolver.Mask(desired[k])})
		case old != desired[k]:
			changes = append(changes, Change{Key: k, Op: Update, Old: resolver.Mask(old), New: resolver.Mask(desired[k])})
		default:
			unchanged++
		}
	}
	if len(foreign) > 0 {
		return nil, 0, fmt.Errorf("%s already set on %s by someone else; kazzle changes only keys it set: remove %s there, or stop declaring %s",
			strings.Join(foreign, ", "), target, pronoun(len(foreign)), pronoun(len(foreign)))
	}
	for _, k := range st.Managed {
		if _, keep := desired[k]; !keep {
			if old, present := st.Vars[k]; present {
				changes = append(changes, Change{Key: k, Op: Remove, Old: resolver.Mask(old)})
			}
		}
	}
	return changes, unchanged, nil
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// Status is how a component's apply ended.
type Status string

const (
	Applied   Status = "applied"
	Unchanged Status = "unchanged"
	Failed    Status = "failed"
)

// Result is one component's apply.
type Result struct {
	Component string        `json:"component"`
	Status    Status        `json:"status"`
	Error     string        `json:"error,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
	// Changed reports whether the component's plan was changed by someone else
	// between the plan and the apply (ErrChanged).
	Changed bool `json:"changed_since_plan,omitempty"`
}

// Progress is one step of an apply, for a live display.
type Progress struct {
	Component string
	Target    string
	Step      string // "writing", "waiting for the update", "done", "failed", …
}

// Apply writes the plans, at most parallel components at a time, and reports each
// component's result in plan order. A failed component does not stop the others.
// progress, when set, is called from several goroutines.
func Apply(ctx context.Context, plans []ComponentPlan, parallel int, progress func(Progress)) []Result {
	if progress == nil {
		progress = func(Progress) {}
	}
	results := make([]Result, len(plans))
	forEach(len(plans), parallel, func(i int) {
		start := time.Now()
		results[i] = applyComponent(ctx, plans[i], progress)
		results[i].Duration = time.Since(start)
	})
	return results
}

func applyComponent(ctx context.Context, p ComponentPlan, progress func(Progress)) Result {
	r := Result{Component: p.Component, Status: Unchanged}
	if err := p.Err(); err != nil {
		progress(Progress{Component: p.Component, Step: "failed"})
		r.Status, r.Error = Failed, err.Error()
		return r
	}
	for _, tp := range p.Targets {
		if len(tp.Changes) == 0 {
			continue
		}
		step := func(s string) { progress(Progress{Component: p.Component, Target: tp.Target, Step: s}) }
		step("writing")
		if err := tp.target.Write(ctx, tp.state, p.vars, step); err != nil {
			step("failed")
			err = redactErr(err, p.redact)
			r.Status, r.Error, r.Changed = Failed, fmt.Sprintf("%s: %v", tp.Target, err), errors.Is(err, ErrChanged)
			return r
		}
		step("done")
		r.Status = Applied
	}
	return r
}

// forEach calls f(0) … f(n-1), at most parallel at a time.
func forEach(n, parallel int, f func(int)) {
	if parallel < 1 {
		parallel = 1
	}
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}()
	}
	wg.Wait()
}
