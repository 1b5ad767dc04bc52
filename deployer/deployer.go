// Package deployer pushes the secrets of process components into the runtime
// environments of their cloud targets: it plans what to add, change and remove, and
// applies the plan with bounded parallelism. [Plan] and [Apply] work on [Component]s
// through one [Target] interface, with Lambda, ECS and SSM implementations.
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

	"github.com/kazzle/kazzle/config"
	"github.com/kazzle/kazzle/redact"
	"github.com/kazzle/kazzle/secret"
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
	redact []redact.Replacement
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
	dups := duplicateTargets(comps)
	plans := make([]ComponentPlan, len(comps))
	forEach(len(comps), parallel, func(i int) {
		plans[i] = planComponent(ctx, comps[i], dups[i])
	})
	return plans
}

// identified is a target that knows the place it writes to, with its region resolved.
type identified interface {
	identity() config.TargetID
}

// stateChecker is a target with checks that need its current state: limits that count
// what others set there.
type stateChecker interface {
	checkState(st State, desired map[string]string) []string
}

// duplicateTargets finds targets that two components deploy to, however spelled:
// dups[i][j] says why target j of component i may not be written. Two containers of one
// ECS service are not a duplicate: Apply writes them together.
func duplicateTargets(comps []Component) []map[int]string {
	dups := make([]map[int]string, len(comps))
	type at struct{ i, j int }
	var seen []at
	mark := func(a at, msg string) {
		if dups[a.i] == nil {
			dups[a.i] = map[int]string{}
		}
		if _, ok := dups[a.i][a.j]; !ok {
			dups[a.i][a.j] = msg
		}
	}
	for i, c := range comps {
		for j, t := range c.Targets {
			it, ok := t.(identified)
			if !ok {
				continue
			}
			id := it.identity()
			for _, o := range seen {
				if o.i != i && comps[o.i].Targets[o.j].(identified).identity().Same(id) {
					msg := fmt.Sprintf("components %s and %s both deploy to %s: each would remove the other's keys; nothing was read or written", comps[o.i].Name, c.Name, id)
					mark(o, msg)
					mark(at{i, j}, msg)
				}
			}
			seen = append(seen, at{i, j})
		}
	}
	return dups
}

func planComponent(ctx context.Context, c Component, dups map[int]string) ComponentPlan {
	p := ComponentPlan{Component: c.Name, vars: c.Vars, redact: replacements(c.Vars)}
	for j, t := range c.Targets {
		tp := TargetPlan{Target: t.String(), target: t}
		if msg, dup := dups[j]; dup {
			tp.Err = errors.New(msg)
			p.Targets = append(p.Targets, tp)
			continue
		}
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
		if sc, ok := t.(stateChecker); ok && tp.Err == nil && len(tp.Changes) > 0 {
			if problems := sc.checkState(st, c.Vars); len(problems) > 0 {
				tp.Err = errors.New(strings.Join(problems, "; "))
			}
		}
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
			changes = append(changes, Change{Key: k, Op: Add, New: secret.Mask(desired[k])})
		case old != desired[k]:
			changes = append(changes, Change{Key: k, Op: Update, Old: secret.Mask(old), New: secret.Mask(desired[k])})
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
				changes = append(changes, Change{Key: k, Op: Remove, Old: secret.Mask(old)})
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
