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
