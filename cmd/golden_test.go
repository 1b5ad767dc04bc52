package cmd

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden outputs under testdata/golden")

// goldenDir is where cmdGolden keeps its files: absolute, as scripts run in $WORK.
var goldenDir, goldenDirErr = filepath.Abs(filepath.Join("testdata", "golden"))

// goldenVolatile matches what differs between runs of the same script: ids (UUIDs), API
// keys and their prefixes, times, and durations. A rule replaces each with a fixed word.
var goldenVolatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`), "<id>"},
	{regexp.MustCompile(`kzl_[A-Za-z0-9]+`), "<key>"},
	{regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"`), `"<time>"`},
	{regexp.MustCompile(`"duration_ns": \d+`), `"duration_ns": <duration>`},
	{regexp.MustCompile(`"valid_for": [0-9.]+`), `"valid_for": <seconds>`},
	{regexp.MustCompile(`"code": "\d+"`), `"code": "<code>"`},
	{regexp.MustCompile(`"client_addr": "[^"]*"`), `"client_addr": "<addr>"`},
}

// cmdGolden compares a command's output, volatile parts replaced, with a file of
// testdata/golden: golden stdout|stderr NAME. go test -update rewrites the file.
func cmdGolden(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 || (args[0] != "stdout" && args[0] != "stderr") {
		ts.Fatalf("usage: golden stdout|stderr NAME")
	}
	ts.Check(goldenDirErr)
	got := []byte(ts.ReadFile(args[0]))
	for _, v := range goldenVolatile {
		got = v.re.ReplaceAll(got, []byte(v.with))
	}
	path := filepath.Join(goldenDir, args[1])
	if *updateGolden {
		ts.Check(os.MkdirAll(goldenDir, 0o755))
		ts.Check(os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		ts.Fatalf("%v (go test ./cmd -run TestScripts/json -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				ts.Fatalf("%s differs from %s at line %d:\n got: %s\nwant: %s", args[0], path, i+1, g, w)
			}
		}
		ts.Fatalf("%s differs from %s", args[0], path)
	}
}
