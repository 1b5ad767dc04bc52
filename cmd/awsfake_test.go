package cmd

import (
	"fmt"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kazzle/kazzle/internal/awsfake"
)

type awsfakeKey struct{}

type awsfakeSlot struct{ s *awsfake.Server }

// cmdStartAWSFake starts internal/awsfake with a KMS key aliased alias/NAME and points
// the standard AWS variables at it, so that a server started afterwards finds it the
// way it would find AWS.
func cmdStartAWSFake(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: startawsfake ALIAS")
	}
	fake, err := awsfake.Start(awsfake.Options{})
	ts.Check(err)
	ts.Defer(func() { fake.Close() })
	_, err = fake.CreateKey(args[0])
	ts.Check(err)
	akid, secret := fake.Credentials()
	ts.Setenv("AWS_ENDPOINT_URL", fake.URL)
	ts.Setenv("AWS_ACCESS_KEY_ID", akid)
	ts.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	ts.Setenv("AWS_REGION", fake.Region())
	ts.Value(awsfakeKey{}).(*awsfakeSlot).s = fake
}

// cmdAWSCalls checks how many calls awsfake answered for an operation: awscalls OP N.
func cmdAWSCalls(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: awscalls OPERATION COUNT")
	}
	want, err := strconv.Atoi(args[1])
	ts.Check(err)
	fake := ts.Value(awsfakeKey{}).(*awsfakeSlot).s
	if fake == nil {
		ts.Fatalf("no awsfake: run startawsfake first")
	}
	if got := fake.Calls(args[0]); (got == want) == neg {
		ts.Fatalf("%s: %d calls, want %s%d", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
	fmt.Fprintf(ts.Stdout(), "%s: %d calls\n", args[0], fake.Calls(args[0]))
}
