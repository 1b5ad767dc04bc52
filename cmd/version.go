package cmd

import (
	"runtime"
	"runtime/debug"
)

// Set by the release build (make build, make release) with -ldflags -X: the build
// machines do not record version control information, so nothing else knows the commit.
var (
	stampedVersion string
	stampedCommit  string
)

// version is the stamped version, else the module's (go install …@v1.2.3), else devel.
func version() string {
	if stampedVersion != "" {
		return stampedVersion
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// versionLine is what kazzle version prints: the version, the commit when stamped, and
// the Go release the binary was built with.
func versionLine() string {
	line := "kazzle " + version()
	if stampedCommit != "" {
		line += " commit " + stampedCommit
	}
	return line + " " + runtime.Version()
}
