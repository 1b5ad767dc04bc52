package config

import (
	"os"
	"testing"
)

// TestMain lets the test binary serve as the config evaluator, as the kazzle binary does.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == EvaluatorArg {
		os.Exit(ServeEvaluator(os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
