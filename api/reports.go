package api

import "time"

// The reports below are what the CLI prints with --json. They are no HTTP body, but
// scripts parse them as they parse the API's answers, so they are part of the contract
// and live beside it: changing a field here changes what every caller reads.

// BuildReport is what kazzle build --json prints: each UI component's build.
type BuildReport struct {
	Components []BuiltComponent `json:"components"`
}

// BuiltComponent is one UI component's build: its output folder and files.
type BuiltComponent struct {
	Component string      `json:"component"`
	OutDir    string      `json:"outDir"`
	Files     []BuiltFile `json:"files"`
	// Warnings are esbuild's warnings about the component's sources.
	Warnings []Diagnostic `json:"warnings,omitempty"`
}

// Diagnostic is a message about a file, located where it can be.
type Diagnostic struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Path   string `json:"path,omitempty"`
	Text   string `json:"text"`
}

// BuiltFile is one output file, its path relative to OutDir.
type BuiltFile struct {
	Path string `json:"path"`
	Size int    `json:"size"`
	// Gzip is the gzipped size, when kazzle build --gzip-sizes asked for it, or 0.
	Gzip int `json:"gzip,omitempty"`
}

// DeployPlanReport is what kazzle deploy --plan --json prints: the plan of each process
// component and the UI components that would be built. Build is null when there are
// none.
type DeployPlanReport struct {
	Build []string              `json:"build"`
	Plan  []DeployComponentPlan `json:"plan"`
}

// DeployReport is what kazzle deploy --json prints after applying: the plan, how each
// process component's apply ended, and each UI component's build. Build and Results are
// null when there are none.
type DeployReport struct {
	Build   []BuiltComponent      `json:"build"`
	Plan    []DeployComponentPlan `json:"plan"`
	Results []DeployResult        `json:"results"`
}

// DeployComponentPlan is the plan of one process component, target by target.
type DeployComponentPlan struct {
	Component string             `json:"component"`
	Targets   []DeployTargetPlan `json:"targets"`
}

// DeployTargetPlan is the plan of one target: its changes (masked previews, never a
// value), how many declared keys are already right, and why it could not be planned.
type DeployTargetPlan struct {
	Target    string         `json:"target"`
	Changes   []DeployChange `json:"changes"`
	Unchanged int            `json:"unchanged"`
	Error     string         `json:"error,omitempty"`
}

// DeployChange is one key's change; Op is add, change or remove. Old and New are masked
// previews: Old is empty for an add, New for a remove.
type DeployChange struct {
	Key string `json:"key"`
	Op  string `json:"op"`
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
}

// DeployResult is how one component's apply ended; Status is applied, unchanged or
// failed. Changed says that someone else changed a target between plan and apply.
type DeployResult struct {
	Component string        `json:"component"`
	Status    string        `json:"status"`
	Error     string        `json:"error,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
	Changed   bool          `json:"changed_since_plan,omitempty"`
}
