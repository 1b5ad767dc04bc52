package cmd

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

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

func awsfakeOf(ts *testscript.TestScript) *awsfake.Server {
	fake := ts.Value(awsfakeKey{}).(*awsfakeSlot).s
	if fake == nil {
		ts.Fatalf("no awsfake: run startawsfake first")
	}
	return fake
}

func keyValues(ts *testscript.TestScript, args []string) map[string]string {
	vars := map[string]string{}
	for _, kv := range args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			ts.Fatalf("%q is not KEY=VALUE", kv)
		}
		vars[k] = v
	}
	return vars
}

// cmdAWSPut creates resources in awsfake as someone other than kazzle would:
//
//	awsput lambda REGION FUNCTION [KEY=VALUE…]
//	awsput ecs REGION CLUSTER SERVICE CONTAINER [KEY=VALUE…]   (plus a sidecar container)
//	awsput ssm REGION NAME VALUE
func cmdAWSPut(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: awsput lambda|ecs|ssm REGION …")
	}
	fake := awsfakeOf(ts)
	switch args[0] {
	case "lambda":
		fake.PutFunction(args[1], args[2], keyValues(ts, args[3:]))
	case "ecs":
		if len(args) < 5 {
			ts.Fatalf("usage: awsput ecs REGION CLUSTER SERVICE CONTAINER [KEY=VALUE…]")
		}
		var env []any
		for k, v := range keyValues(ts, args[5:]) {
			env = append(env, map[string]any{"name": k, "value": v})
		}
		_, err := fake.PutService(args[1], args[2], args[3], map[string]any{
			"family": args[3], "cpu": "256", "memory": "512",
			"containerDefinitions": []any{
				map[string]any{"name": args[4], "image": "shop/" + args[4] + ":1", "environment": env},
				map[string]any{"name": "sidecar", "image": "envoy:1.30"},
			},
		})
		ts.Check(err)
	case "ssm":
		if len(args) != 4 {
			ts.Fatalf("usage: awsput ssm REGION NAME VALUE")
		}
		ts.Check(fake.PutParameter(args[1], args[2], "SecureString", args[3]))
	default:
		ts.Fatalf("awsput: unknown service %q", args[0])
	}
}

// cmdAWSShow prints what a resource in awsfake holds, sorted KEY=VALUE lines:
//
//	awsshow lambda REGION FUNCTION
//	awsshow ecs REGION CLUSTER SERVICE CONTAINER
//	awsshow ssm REGION NAME
func cmdAWSShow(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: awsshow lambda|ecs|ssm REGION …")
	}
	fake := awsfakeOf(ts)
	var lines []string
	switch args[0] {
	case "lambda":
		vars, _, ok := fake.FunctionEnv(args[1], args[2])
		if !ok {
			ts.Fatalf("no function %s in %s", args[2], args[1])
		}
		for k, v := range vars {
			lines = append(lines, k+"="+v)
		}
	case "ecs":
		td, ok := fake.ServiceTaskDefinition(args[1], args[2], args[3])
		if !ok || len(args) != 5 {
			ts.Fatalf("no service %s/%s in %s", args[2], args[3], args[1])
		}
		lines = append(lines, fmt.Sprintf("revision=%v", td["revision"]))
		for _, c := range td["containerDefinitions"].([]any) {
			c := c.(map[string]any)
			if c["name"] != args[4] {
				continue
			}
			env, _ := c["environment"].([]any)
			for _, kv := range env {
				kv := kv.(map[string]any)
				lines = append(lines, fmt.Sprintf("%s=%s", kv["name"], kv["value"]))
			}
		}
	case "ssm":
		v, typ, ok := fake.Parameter(args[1], args[2])
		if !ok {
			ts.Fatalf("no parameter %s in %s", args[2], args[1])
		}
		lines = append(lines, typ+" "+v)
	default:
		ts.Fatalf("awsshow: unknown service %q", args[0])
	}
	slices.Sort(lines)
	for _, l := range lines {
		fmt.Fprintln(ts.Stdout(), l)
	}
}
