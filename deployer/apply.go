package deployer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/kazzle/kazzle/redact"
)

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

// Apply writes the plans, at most parallel at a time, and reports each component's
// result in plan order. A failed component does not stop the others. progress, when
// set, is called from several goroutines.
//
// Components whose targets are containers of one ECS service are applied together: a
// service runs one task definition, so every container's change goes into one new
// revision, and the service is pointed at it once. Separate revisions from the same
// base would each undo the others' changes, the last one winning. Each such component
// writes its targets before the ECS one first, then the shared revision is written with
// the containers of those that have not failed, then the targets after it.
func Apply(ctx context.Context, plans []ComponentPlan, parallel int, progress func(Progress)) []Result {
	if progress == nil {
		progress = func(Progress) {}
	}
	results := make([]Result, len(plans))
	jobs := applyJobs(plans)
	forEach(len(jobs), parallel, func(j int) {
		applyJob(ctx, plans, jobs[j], results, progress)
	})
	return results
}

// ecsRef is an ECS target of a plan: component i, target j.
type ecsRef struct{ i, j int }

// applyJobs groups the components that share an ECS service, by index; every other
// component is a job of its own.
func applyJobs(plans []ComponentPlan) [][]int {
	job := make([]int, len(plans)) // component → its job's representative
	for i := range job {
		job[i] = i
	}
	root := func(i int) int {
		for job[i] != i {
			i = job[i]
		}
		return i
	}
	first := map[string]int{}
	for i, p := range plans {
		for _, tp := range p.Targets {
			if t, ok := tp.target.(*ecsTarget); ok {
				if k, seen := first[t.serviceKey()]; seen {
					job[root(i)] = root(k)
				} else {
					first[t.serviceKey()] = i
				}
			}
		}
	}
	byRoot := map[int][]int{}
	var roots []int
	for i := range plans {
		r := root(i)
		if _, ok := byRoot[r]; !ok {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], i)
	}
	jobs := make([][]int, 0, len(roots))
	for _, r := range roots {
		jobs = append(jobs, byRoot[r])
	}
	return jobs
}

// applyJob applies the components idx of plans, which share ECS services if several.
func applyJob(ctx context.Context, plans []ComponentPlan, idx []int, results []Result, progress func(Progress)) {
	start := time.Now()
	failed := func(i int) bool { return results[i].Status == Failed }
	fail := func(i int, target string, err error) {
		err = redactErr(err, plans[i].redact)
		results[i].Status, results[i].Changed = Failed, errors.Is(err, ErrChanged)
		results[i].Error = err.Error()
		if target != "" {
			results[i].Error = target + ": " + err.Error()
		}
		results[i].Duration = time.Since(start)
		progress(Progress{Component: plans[i].Component, Target: target, Step: "failed"})
	}
	write := func(i int, tp TargetPlan) {
		if failed(i) || len(tp.Changes) == 0 {
			return
		}
		step := func(s string) { progress(Progress{Component: plans[i].Component, Target: tp.Target, Step: s}) }
		step("writing")
		if err := tp.target.Write(ctx, tp.state, plans[i].vars, step); err != nil {
			fail(i, tp.Target, err)
			return
		}
		step("done")
		results[i].Status = Applied
	}
	// Before: each component's targets up to its first ECS one. After: the rest.
	var services []string
	members := map[string][]ecsRef{}
	after := map[int][]TargetPlan{}
	for _, i := range idx {
		results[i] = Result{Component: plans[i].Component, Status: Unchanged}
		if err := plans[i].Err(); err != nil {
			fail(i, "", err)
			continue
		}
		seenECS := false
		for j, tp := range plans[i].Targets {
			t, isECS := tp.target.(*ecsTarget)
			switch {
			case isECS:
				seenECS = true
				key := t.serviceKey()
				if _, ok := members[key]; !ok {
					services = append(services, key)
				}
				members[key] = append(members[key], ecsRef{i, j})
			case seenECS:
				after[i] = append(after[i], tp)
			default:
				write(i, tp)
			}
		}
	}
	for _, key := range services {
		writeService(ctx, plans, members[key], results, progress, fail)
	}
	for _, i := range idx {
		for _, tp := range after[i] {
			write(i, tp)
		}
		if !failed(i) {
			results[i].Duration = time.Since(start)
		}
	}
}

// writeService writes one new revision of an ECS service's task definition with the
// changes of every container in refs whose component has not failed.
func writeService(ctx context.Context, plans []ComponentPlan, refs []ecsRef, results []Result, progress func(Progress), fail func(int, string, error)) {
	var ms []ecsMember
	var writing []ecsRef
	var reps []redact.Replacement
	for _, r := range refs {
		tp := plans[r.i].Targets[r.j]
		if results[r.i].Status == Failed || len(tp.Changes) == 0 {
			continue
		}
		ms = append(ms, ecsMember{t: tp.target.(*ecsTarget), st: tp.state, desired: plans[r.i].vars})
		writing = append(writing, r)
		reps = append(reps, plans[r.i].redact...)
	}
	if len(ms) == 0 {
		return
	}
	step := func(s string) {
		for _, r := range writing {
			progress(Progress{Component: plans[r.i].Component, Target: plans[r.i].Targets[r.j].Target, Step: s})
		}
	}
	step("writing")
	if err := writeECSService(ctx, ms, step); err != nil {
		// The error may hold any member's values: redact them all before it is shared.
		err = redactErr(err, reps)
		for _, r := range writing {
			msg := err
			if len(writing) > 1 {
				msg = fmt.Errorf("%w (one revision for the containers of %s)", err, componentNames(plans, writing))
			}
			fail(r.i, plans[r.i].Targets[r.j].Target, msg)
		}
		return
	}
	step("done")
	for _, r := range writing {
		results[r.i].Status = Applied
	}
}

func componentNames(plans []ComponentPlan, refs []ecsRef) string {
	var names []string
	for _, r := range refs {
		if !slices.Contains(names, plans[r.i].Component) {
			names = append(names, plans[r.i].Component)
		}
	}
	return strings.Join(names, ", ")
}
