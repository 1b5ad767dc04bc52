package cmd

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/bundler"
	"github.com/kazzle/kazzle/deployer"
)

// jsonNames lists the JSON names of a struct type's fields, those it leaves out ("-")
// excepted.
func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// TestReportsCarryEveryFieldOfTheirSource: the --json reports of build and deploy are
// api types filled from the bundler's and deployer's results; a field added to one of
// those must reach the report too, or --json would drop it without a word.
func TestReportsCarryEveryFieldOfTheirSource(t *testing.T) {
	for _, tc := range []struct {
		source, report any
		extra          []string // report fields with no JSON field in the source
	}{
		{bundler.File{}, api.BuiltFile{}, nil},
		{bundler.Result{}, api.BuiltComponent{}, []string{"component"}},
		{deployer.Change{}, api.DeployChange{}, nil},
		{deployer.TargetPlan{}, api.DeployTargetPlan{}, []string{"error"}}, // TargetPlan.Err, as text
		{deployer.ComponentPlan{}, api.DeployComponentPlan{}, nil},
		{deployer.Result{}, api.DeployResult{}, nil},
	} {
		src, rep := reflect.TypeOf(tc.source), reflect.TypeOf(tc.report)
		want := append(jsonNames(src), tc.extra...)
		got := jsonNames(rep)
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s has the JSON fields %v; %s, which reports it, has %v", src, want, rep, got)
		}
	}
}

// TestReportsKeepEveryValue: a fully populated plan and result come out in the reports
// with every value, and an absent list stays absent (null), as --json has printed it.
func TestReportsKeepEveryValue(t *testing.T) {
	plans := []deployer.ComponentPlan{{Component: "api", Targets: []deployer.TargetPlan{
		{Target: "aws.lambda f", Changes: []deployer.Change{{Key: "K", Op: deployer.Update, Old: "o***", New: "n***"}}, Unchanged: 2},
		{Target: "aws.ssm /p/", Err: errString("no access")},
	}}}
	want := []api.DeployComponentPlan{{Component: "api", Targets: []api.DeployTargetPlan{
		{Target: "aws.lambda f", Changes: []api.DeployChange{{Key: "K", Op: "change", Old: "o***", New: "n***"}}, Unchanged: 2},
		{Target: "aws.ssm /p/", Error: "no access"},
	}}}
	if got := planReport(plans); !reflect.DeepEqual(got, want) {
		t.Errorf("planReport = %+v, want %+v", got, want)
	}
	if got := planReport(nil); got == nil || len(got) != 0 {
		t.Errorf("planReport(nil) = %#v, want an empty plan", got)
	}
	results := []deployer.Result{{Component: "api", Status: deployer.Failed, Error: "boom", Duration: 3, Changed: true}}
	if got := resultsReport(results); !reflect.DeepEqual(got, []api.DeployResult{{Component: "api", Status: "failed", Error: "boom", Duration: 3, Changed: true}}) {
		t.Errorf("resultsReport = %+v", got)
	}
	if resultsReport(nil) != nil {
		t.Error("resultsReport(nil) is not nil")
	}
	built := builtReport("web", bundler.Result{OutDir: "dist", Files: []bundler.File{{Path: "a.js", Size: 10, Gzip: 5}}})
	if !reflect.DeepEqual(built, api.BuiltComponent{Component: "web", OutDir: "dist", Files: []api.BuiltFile{{Path: "a.js", Size: 10, Gzip: 5}}}) {
		t.Errorf("builtReport = %+v", built)
	}
}

type errString string

func (e errString) Error() string { return string(e) }
