package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/internal/testenv"
)

// TestNoAWSSchemaPackages guards the AWS SDK pins in go.mod: since September 2026 each
// service client links a schemas package whose init builds its whole model, about half
// a millisecond per service on every start of kazzle, `kazzle run` included. The pins
// keep the last releases before that; an upgrade that brings schemas back fails here.
func TestNoAWSSchemaPackages(t *testing.T) {
	goTool := testenv.LookPath(t, "it lists the binary's packages", "go")
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/aws/aws-sdk-go-v2/") && strings.HasSuffix(pkg, "/schemas") {
			t.Errorf("kazzle links %s, whose package init runs on every start; keep the AWS SDK at the versions go.mod pins (see README, Choices)", pkg)
		}
	}
}

// TestImportArrows keeps the packages' dependencies pointing one way: only cmd wires
// the server, the admin UI and the MCP server together; the UI reaches the API through
// an interface; the server's configuration and the vault's internals depend on nothing
// of the rest; the toolchain (config, bundler, deployer) never reaches the vault.
func TestImportArrows(t *testing.T) {
	goTool := testenv.LookPath(t, "it lists the packages' imports", "go")
	const mod = "github.com/kazzle/kazzle/"
	out, err := exec.Command(goTool, "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	under := func(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }
	wiredByCmd := []string{"cmd", "server", "mcp"}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := strings.TrimPrefix(fields[0], mod)
		for _, imp := range fields[1:] {
			dep, ours := strings.CutPrefix(imp, mod)
			if !ours {
				continue
			}
			for _, w := range wiredByCmd {
				if under(dep, w) && !under(pkg, "cmd") && !under(pkg, w) {
					t.Errorf("%s imports %s: only cmd wires %s", pkg, dep, w)
				}
			}
			switch {
			case under(pkg, "server/ui") && dep == "server":
				t.Errorf("%s imports %s: the UI reaches the API through its interface", pkg, dep)
			case under(pkg, "config/serverconfig"):
				t.Errorf("%s imports %s: the server's configuration depends on nothing of kazzle's", pkg, dep)
			case under(pkg, "vault") && under(dep, "internal"):
				t.Errorf("%s imports %s: the vault depends on no internal helper of the module", pkg, dep)
			case (under(pkg, "config") || under(pkg, "bundler") || under(pkg, "deployer")) &&
				(under(dep, "vault") || under(dep, "server") || under(dep, "resolver") || under(dep, "mcp")):
				t.Errorf("%s imports %s: the toolchain reaches the vault through api only, and needs only secret and redact of its logic", pkg, dep)
			case (pkg == "secret" || pkg == "redact") && !strings.HasPrefix(dep, pkg+"/"):
				t.Errorf("%s imports %s: the secret model and the redactor depend on nothing of kazzle's", pkg, dep)
			case pkg == "resolver" && dep != "secret":
				t.Errorf("%s imports %s: the resolver depends on the secret model alone", pkg, dep)
			}
		}
	}
}
