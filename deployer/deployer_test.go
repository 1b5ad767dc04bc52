package deployer

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/google/go-cmp/cmp"

	"github.com/kazzle/kazzle/config"
	"github.com/kazzle/kazzle/internal/awsfake"
)

// Values that must never appear in a plan, a result or an error.
const (
	dbURL     = "postgres://app:pa55-w0rd-db@db.internal:5432/app"
	stripeKey = "sk_live_51HxZ2pLq8R7tY0uVdeploytest"
	othersKey = "others-api-token-9f8e7d6c5b4a"
)

type env struct {
	fake *awsfake.Server
	aws  *AWS
}

func start(t testing.TB, updateDelay time.Duration) env {
	t.Helper()
	fake, err := awsfake.Start(awsfake.Options{UpdateDelay: updateDelay})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	return env{fake: fake, aws: newAWS(fake, "")}
}

// newAWS builds the target factory the way kazzle deploy does, from an aws.Config;
// secret overrides the secret access key, to make the signatures wrong.
func newAWS(fake *awsfake.Server, secret string) *AWS {
	akid, key := fake.Credentials()
	if secret != "" {
		key = secret
	}
	a := NewAWS(aws.Config{
		Region:       fake.Region(),
		BaseEndpoint: aws.String(fake.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, key, ""),
	})
	a.Poll, a.MaxPoll = 5*time.Millisecond, 20*time.Millisecond
	return a
}

func (e env) component(t testing.TB, name string, vars map[string]string, d config.AWSDeploy) Component {
	t.Helper()
	ts, err := e.aws.Targets(&config.Deploy{AWS: &d})
	if err != nil {
		t.Fatal(err)
	}
	return Component{Name: name, Vars: vars, Targets: ts}
}

func lambdaDeploy(name string) config.AWSDeploy {
	return config.AWSDeploy{Lambda: &config.LambdaTarget{FunctionName: name}}
}

// mustApply plans and applies, and fails the test on any failure.
func mustApply(t *testing.T, comps ...Component) []ComponentPlan {
	t.Helper()
	plans := Plan(context.Background(), comps, 4)
	for _, p := range plans {
		if err := p.Err(); err != nil {
			t.Fatalf("plan %s: %v", p.Component, err)
		}
	}
	for _, r := range Apply(context.Background(), plans, 4, nil) {
		if r.Status == Failed {
			t.Fatalf("apply %s: %s", r.Component, r.Error)
		}
	}
	return plans
}

// noValues fails if s holds any value the tests deploy.
func noValues(t *testing.T, what, s string) {
	t.Helper()
	for _, v := range []string{dbURL, stripeKey, othersKey} {
		if strings.Contains(s, v) {
			t.Fatalf("%s holds a secret value: %s", what, s)
		}
	}
}

func TestLambdaApplyKeepsOthersVariablesAndRemovesDroppedKeys(t *testing.T) {
	e := start(t, 20*time.Millisecond)
	e.fake.PutFunction("", "api", map[string]string{"LOG_LEVEL": "debug", "OTHERS_TOKEN": othersKey})

	plans := mustApply(t, e.component(t, "api", map[string]string{"DATABASE_URL": dbURL, "STRIPE_SECRET_KEY": stripeKey}, lambdaDeploy("api")))
	want := []Change{
		{Key: "DATABASE_URL", Op: Add, New: "post****/app"},
		{Key: "STRIPE_SECRET_KEY", Op: Add, New: "sk_l****test"},
	}
	if diff := cmp.Diff(want, plans[0].Targets[0].Changes); diff != "" {
		t.Fatalf("first plan (-want +got):\n%s", diff)
	}
	vars, _, _ := e.fake.FunctionEnv("", "api")
	if diff := cmp.Diff(map[string]string{
		"LOG_LEVEL": "debug", "OTHERS_TOKEN": othersKey, "DATABASE_URL": dbURL, "STRIPE_SECRET_KEY": stripeKey,
		ManagedVar: "DATABASE_URL,STRIPE_SECRET_KEY",
	}, vars); diff != "" {
		t.Fatalf("after the first apply (-want +got):\n%s", diff)
	}

	// STRIPE_SECRET_KEY leaves the config; DATABASE_URL changes.
	newURL := dbURL + "?sslmode=require"
	plans = mustApply(t, e.component(t, "api", map[string]string{"DATABASE_URL": newURL}, lambdaDeploy("api")))
	want = []Change{
		{Key: "DATABASE_URL", Op: Update, Old: "post****/app", New: "post****uire"},
		{Key: "STRIPE_SECRET_KEY", Op: Remove, Old: "sk_l****test"},
	}
	if diff := cmp.Diff(want, plans[0].Targets[0].Changes); diff != "" {
		t.Fatalf("second plan (-want +got):\n%s", diff)
	}
	vars, _, _ = e.fake.FunctionEnv("", "api")
	if diff := cmp.Diff(map[string]string{
		"LOG_LEVEL": "debug", "OTHERS_TOKEN": othersKey, "DATABASE_URL": newURL, ManagedVar: "DATABASE_URL",
	}, vars); diff != "" {
		t.Fatalf("after the second apply (-want +got):\n%s", diff)
	}

	again := Plan(context.Background(), []Component{e.component(t, "api", map[string]string{"DATABASE_URL": newURL}, lambdaDeploy("api"))}, 1)
	if !again[0].Empty() || again[0].Err() != nil || again[0].Targets[0].Unchanged != 1 {
		t.Fatalf("a plan after the apply: %+v, err %v; want empty", again[0].Targets, again[0].Err())
	}
	if n := e.fake.Calls("lambda:UpdateFunctionConfiguration"); n != 2 {
		t.Fatalf("%d updates, want 2", n)
	}
}

func TestAKeySomeoneElseSetIsAConflictNotAnOverwrite(t *testing.T) {
	e := start(t, time.Millisecond)
	e.fake.PutFunction("", "api", map[string]string{"DATABASE_URL": othersKey})
	plans := Plan(context.Background(), []Component{e.component(t, "api", map[string]string{"DATABASE_URL": dbURL}, lambdaDeploy("api"))}, 1)
	err := plans[0].Err()
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL already set on aws.lambda api (us-east-1) by someone else") {
		t.Fatalf("plan error = %v", err)
	}
	noValues(t, "the conflict", err.Error())
	res := Apply(context.Background(), plans, 1, nil)
	if res[0].Status != Failed {
		t.Fatalf("apply = %+v, want failed", res[0])
	}
	if vars, _, _ := e.fake.FunctionEnv("", "api"); vars["DATABASE_URL"] != othersKey {
		t.Fatal("someone else's DATABASE_URL was overwritten")
	}
}

func TestChecksComeBeforeAnyCall(t *testing.T) {
	big := strings.Repeat("x", 4000)
	longPath := "/" + strings.Repeat("p", 1000) + "/"
	tests := []struct {
		name string
		vars map[string]string
		d    config.AWSDeploy
		want string
	}{
		{"lambda reserved AWS_REGION", map[string]string{"AWS_REGION": "eu-west-1"}, lambdaDeploy("f"), "AWS_REGION is reserved by the Lambda runtime"},
		{"lambda reserved _HANDLER", map[string]string{"_HANDLER": "x"}, lambdaDeploy("f"), "_HANDLER is reserved"},
		{"lambda reserved AWS_LAMBDA_", map[string]string{"AWS_LAMBDA_LOG_GROUP_NAME": "x"}, lambdaDeploy("f"), "AWS_LAMBDA_LOG_GROUP_NAME is reserved"},
		{"lambda key pattern", map[string]string{"_PRIVATE": stripeKey}, lambdaDeploy("f"), "_PRIVATE is not a valid Lambda variable name"},
		{"lambda one-letter key", map[string]string{"X": stripeKey}, lambdaDeploy("f"), "X is not a valid Lambda variable name"},
		{"lambda 4 KB", map[string]string{"A_VALUE": big, "B_VALUE": stripeKey}, lambdaDeploy("f"), "over Lambda's limit of 4096"},
		{"the record's name", map[string]string{ManagedVar: "x"}, lambdaDeploy("f"), "KAZZLE_MANAGED is the name kazzle records its keys in"},
		{"ssm value size", map[string]string{"BIG": big + big}, config.AWSDeploy{SSM: &config.SSMTarget{Path: "/app/"}}, "BIG is 8000 bytes; a standard SSM parameter holds at most 4096"},
		{"ssm empty value", map[string]string{"EMPTY": ""}, config.AWSDeploy{SSM: &config.SSMTarget{Path: "/app/"}}, "EMPTY is empty, and SSM refuses an empty parameter"},
		{"ssm name length", map[string]string{"DATABASE_URL": dbURL}, config.AWSDeploy{SSM: &config.SSMTarget{Path: longPath + "x/"}}, "SSM allows 1011"},
		{"ssm reserved prefix", map[string]string{"DATABASE_URL": dbURL}, config.AWSDeploy{SSM: &config.SSMTarget{Path: "/aws/app/"}}, "starts with a prefix SSM reserves"},
		{"ssm dot-dot segment", map[string]string{"DATABASE_URL": dbURL}, config.AWSDeploy{SSM: &config.SSMTarget{Path: "/shop/../other/"}}, `has a ".." segment`},
		{"ssm dot segment", map[string]string{"DATABASE_URL": dbURL}, config.AWSDeploy{SSM: &config.SSMTarget{Path: "/shop/./x/"}}, `has a "." segment`},
		{"ssm empty segment", map[string]string{"DATABASE_URL": dbURL}, config.AWSDeploy{SSM: &config.SSMTarget{Path: "/shop//x/"}}, "has an empty segment"},
		{"ssm percent-encoded dots", map[string]string{"DATABASE_URL": dbURL}, config.AWSDeploy{SSM: &config.SSMTarget{Path: "/shop/%2e%2e/x/"}}, "has a % in segment 2"},
		{"ssm levels", map[string]string{"DATABASE_URL": dbURL}, config.AWSDeploy{SSM: &config.SSMTarget{Path: strings.Repeat("/l", 15) + "/"}}, "SSM allows 15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, time.Millisecond)
			plans := Plan(context.Background(), []Component{e.component(t, "c", tt.vars, tt.d)}, 1)
			err := plans[0].Err()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("plan error = %v, want it to say %q", err, tt.want)
			}
			noValues(t, "the error", err.Error())
			if strings.Contains(err.Error(), big) {
				t.Fatal("the error holds a value")
			}
			Apply(context.Background(), plans, 1, nil)
			for _, op := range []string{"lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration", "ssm:GetParametersByPath", "ssm:PutParameter"} {
				if n := e.fake.Calls(op); n != 0 {
					t.Fatalf("%s was called %d times before the check refused the deploy", op, n)
				}
			}
		})
	}
}

func TestLambda4KBWithOthersVariablesIsRefusedBeforeTheUpdate(t *testing.T) {
	e := start(t, time.Millisecond)
	e.fake.PutFunction("", "api", map[string]string{"OTHERS_BLOB": strings.Repeat("o", 3000) + othersKey})
	res := Apply(context.Background(), Plan(context.Background(), []Component{
		e.component(t, "api", map[string]string{"STRIPE_SECRET_KEY": stripeKey + strings.Repeat("s", 1200)}, lambdaDeploy("api")),
	}, 1), 1, nil)
	if res[0].Status != Failed || !strings.Contains(res[0].Error, "with the variables already there, the environment would take") {
		t.Fatalf("result = %+v", res[0])
	}
	noValues(t, "the error", res[0].Error)
	if n := e.fake.Calls("lambda:UpdateFunctionConfiguration"); n != 0 {
		t.Fatalf("%d updates were sent", n)
	}
}

// rawLambda is a target that sends the environment to Lambda without kazzle's checks,
// to see what becomes of AWS's own error, which echoes every value.
type rawLambda struct {
	*lambdaTarget
}

func (r rawLambda) Check(map[string]string) []string { return nil }

func (r rawLambda) Write(ctx context.Context, st State, desired map[string]string, _ func(string)) error {
	_, err := r.api.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(r.function), Environment: &types.Environment{Variables: withRecord(st.Vars, st.Managed, desired)},
	})
	return err
}

func TestAWSErrorsAreRedactedBeforeAnyoneSeesThem(t *testing.T) {
	e := start(t, time.Millisecond)
	quoted := `pa"ss\word` + "\n" + `<&>` + strings.Repeat("q", 10)
	e.fake.PutFunction("", "api", map[string]string{"OTHERS_TOKEN": othersKey})
	c := e.component(t, "api", map[string]string{
		"DATABASE_URL": dbURL, "STRIPE_SECRET_KEY": stripeKey, "QUOTED": quoted, "PADDING": strings.Repeat("z", 4000),
	}, lambdaDeploy("api"))
	c.Targets[0] = rawLambda{c.Targets[0].(*lambdaTarget)}
	res := Apply(context.Background(), Plan(context.Background(), []Component{c}, 1), 1, nil)
	if res[0].Status != Failed || !strings.Contains(res[0].Error, "exceeded the 4KB limit. String measured:") {
		t.Fatalf("result = %+v; want Lambda's 4 KB error", res[0])
	}
	noValues(t, "the error", res[0].Error)
	for _, form := range []string{quoted, `pa\"ss\\word\n`, strings.Repeat("z", 4000)} {
		if strings.Contains(res[0].Error, form) {
			t.Fatalf("the error holds a value as %q", form)
		}
	}
	if !strings.Contains(res[0].Error, `"OTHERS_TOKEN":"[value of OTHERS_TOKEN]"`) || !strings.Contains(res[0].Error, `"QUOTED":"[value of QUOTED]"`) {
		t.Fatalf("the redacted error should still show which keys it measured: %s", res[0].Error)
	}
}

func TestAChangeBetweenPlanAndApplyIsNotOverwritten(t *testing.T) {
	e := start(t, time.Millisecond)
	e.fake.PutFunction("", "api", map[string]string{"LOG_LEVEL": "debug"})
	plans := Plan(context.Background(), []Component{e.component(t, "api", map[string]string{"DATABASE_URL": dbURL}, lambdaDeploy("api"))}, 1)
	if plans[0].Err() != nil {
		t.Fatal(plans[0].Err())
	}
	// Someone changes the function in the console after kazzle planned.
	e.fake.PutFunction("", "api", map[string]string{"LOG_LEVEL": "info", "OTHERS_TOKEN": othersKey})
	res := Apply(context.Background(), plans, 1, nil)
	if res[0].Status != Failed || !res[0].Changed || !strings.Contains(res[0].Error, "nothing was written, run the deploy again") {
		t.Fatalf("result = %+v; want a refusal naming the concurrent change", res[0])
	}
	vars, _, _ := e.fake.FunctionEnv("", "api")
	if diff := cmp.Diff(map[string]string{"LOG_LEVEL": "info", "OTHERS_TOKEN": othersKey}, vars); diff != "" {
		t.Fatalf("the console's change was overwritten (-want +got):\n%s", diff)
	}
}

func TestAnUpdateInProgressIsWaitedFor(t *testing.T) {
	e := start(t, 150*time.Millisecond)
	e.fake.PutFunction("", "api", map[string]string{"LOG_LEVEL": "debug"})
	c := e.component(t, "api", map[string]string{"DATABASE_URL": dbURL + "2"}, lambdaDeploy("api"))
	plans := Plan(context.Background(), []Component{c}, 1)
	// A code deploy starts after the plan: the update meets ResourceConflictException,
	// waits, finds the environment as planned, and goes on with the new RevisionId.
	e.fake.UpdateFunctionCode("", "api")
	var steps []string
	res := Apply(context.Background(), plans, 1, func(p Progress) { steps = append(steps, p.Step) })
	if res[0].Status != Applied {
		t.Fatalf("result = %+v", res[0])
	}
	if n := e.fake.Calls("lambda:UpdateFunctionConfiguration"); n != 2 {
		t.Fatalf("%d updates: want the conflict and the retry", n)
	}
	if !strings.Contains(strings.Join(steps, "|"), "waiting for an update in progress") {
		t.Fatalf("progress %q does not show the wait", steps)
	}
	vars, _, _ := e.fake.FunctionEnv("", "api")
	if vars["DATABASE_URL"] != dbURL+"2" {
		t.Fatal("the retried update did not land")
	}
}

func TestAChangeRightAfterKazzlesUpdateIsReported(t *testing.T) {
	e := start(t, 300*time.Millisecond)
	e.fake.PutFunction("", "api", map[string]string{"LOG_LEVEL": "debug"})
	plans := Plan(context.Background(), []Component{e.component(t, "api", map[string]string{"DATABASE_URL": dbURL}, lambdaDeploy("api"))}, 1)
	// Right after kazzle's update is carried out, before kazzle reads it back, someone
	// changes the function.
	e.fake.OnCall("lambda:UpdateFunctionConfiguration", func() {
		e.fake.PutFunction("", "api", map[string]string{"LOG_LEVEL": "info"})
	})
	res := Apply(context.Background(), plans, 1, nil)
	if res[0].Status != Failed || !strings.Contains(res[0].Error, "was changed again") {
		t.Fatalf("result = %+v; want the change after the update reported", res[0])
	}
	noValues(t, "the error", res[0].Error)
}

func TestECSRegistersARevisionThatChangesOnlyTheContainersEnvironment(t *testing.T) {
	e := start(t, time.Millisecond)
	taskDef := map[string]any{
		"family": "worker", "cpu": "256", "memory": "512", "networkMode": "awsvpc",
		"taskRoleArn": "arn:aws:iam::111122223333:role/worker", "executionRoleArn": "arn:aws:iam::111122223333:role/exec",
		"requiresCompatibilities": []any{"FARGATE"},
		"containerDefinitions": []any{
			map[string]any{"name": "worker", "image": "my-saas/worker:1.4.2", "essential": true,
				"portMappings": []any{map[string]any{"containerPort": 8080.0, "protocol": "tcp"}},
				"environment":  []any{map[string]any{"name": "LOG_LEVEL", "value": "debug"}}},
			map[string]any{"name": "sidecar", "image": "envoy:1.30", "essential": false,
				"secrets":     []any{map[string]any{"name": "SENTRY_DSN", "valueFrom": "arn:aws:ssm:us-east-1:111122223333:parameter/sentry"}},
				"environment": []any{map[string]any{"name": "OTHERS_TOKEN", "value": othersKey}}},
		},
		"tags": []any{map[string]any{"key": "team", "value": "payments"}},
	}
	if _, err := e.fake.PutService("", "prod", "worker", taskDef); err != nil {
		t.Fatal(err)
	}
	before, ok := e.fake.ServiceTaskDefinition("", "prod", "worker")
	if !ok {
		t.Fatal("no service")
	}
	d := config.AWSDeploy{ECS: &config.ECSTarget{Cluster: "prod", Service: "worker", Container: "worker"}}
	mustApply(t, e.component(t, "worker", map[string]string{"DATABASE_URL": dbURL}, d))

	after, ok := e.fake.ServiceTaskDefinition("", "prod", "worker")
	if !ok || after["revision"] != 2 {
		t.Fatalf("the service runs %v, want revision 2", after["taskDefinitionArn"])
	}
	worker := after["containerDefinitions"].([]any)[0].(map[string]any)
	wantEnv := []any{
		map[string]any{"name": "DATABASE_URL", "value": dbURL},
		map[string]any{"name": ManagedVar, "value": "DATABASE_URL"},
		map[string]any{"name": "LOG_LEVEL", "value": "debug"},
	}
	if diff := cmp.Diff(wantEnv, worker["environment"]); diff != "" {
		t.Fatalf("worker environment (-want +got):\n%s", diff)
	}
	// Everything but the worker's environment and the revision's own identity is a copy.
	strip := func(td map[string]any) map[string]any {
		td = maps.Clone(td)
		delete(td, "revision")
		delete(td, "taskDefinitionArn")
		defs := []any{}
		for _, c := range td["containerDefinitions"].([]any) {
			c := maps.Clone(c.(map[string]any))
			if c["name"] == "worker" {
				delete(c, "environment")
			}
			defs = append(defs, c)
		}
		td["containerDefinitions"] = defs
		return td
	}
	if diff := cmp.Diff(strip(before), strip(after)); diff != "" {
		t.Fatalf("the new revision changed more than the environment (-before +after):\n%s", diff)
	}

	// The worker takes SENTRY_DSN from Secrets Manager: declaring it is a conflict.
	sidecar := config.AWSDeploy{ECS: &config.ECSTarget{Cluster: "prod", Service: "worker", Container: "sidecar"}}
	plans := Plan(context.Background(), []Component{e.component(t, "worker", map[string]string{"SENTRY_DSN": stripeKey}, sidecar)}, 1)
	if err := plans[0].Err(); err == nil || !strings.Contains(err.Error(), "SENTRY_DSN already set") {
		t.Fatalf("declaring a name the container takes from its secrets: %v", err)
	}

	// A deploy by someone else between plan and apply is detected.
	plans = Plan(context.Background(), []Component{e.component(t, "worker", map[string]string{"DATABASE_URL": dbURL + "2"}, d)}, 1)
	if _, err := e.fake.PutService("", "prod", "worker", taskDef); err != nil {
		t.Fatal(err)
	}
	res := Apply(context.Background(), plans, 1, nil)
	if res[0].Status != Failed || !res[0].Changed {
		t.Fatalf("result = %+v; want the concurrent deploy detected", res[0])
	}
	if n := e.fake.Calls("ecs:RegisterTaskDefinition"); n != 1 { // PutService is not a call
		t.Fatalf("kazzle registered %d revisions, want 1: the refused apply must register none", n)
	}
}

func TestSSMPagesThroughThePathAndKeepsOthersParameters(t *testing.T) {
	e := start(t, time.Millisecond)
	if err := e.fake.PutParameter("", "/app/prod/OTHERS_TOKEN", "SecureString", othersKey); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.PutParameter("", "/app/prod/nested/DEEP", "String", "x"); err != nil {
		t.Fatal(err)
	}
	keyARN, err := e.fake.CreateKey("ssm-secrets")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for i := range 25 { // more than two pages of ten
		vars[fmt.Sprintf("KEY_%02d", i)] = fmt.Sprintf("value-%02d-%s", i, stripeKey)
	}
	d := config.AWSDeploy{SSM: &config.SSMTarget{Path: "/app/prod", KMSKeyID: keyARN}}
	mustApply(t, e.component(t, "worker", vars, d))
	for k, v := range vars {
		if got, typ, _ := e.fake.Parameter("", "/app/prod/"+k); got != v || typ != "SecureString" {
			t.Fatalf("%s: got a %s of %d bytes", k, typ, len(got))
		}
	}

	delete(vars, "KEY_00")
	vars["KEY_01"] = "changed-" + stripeKey
	plans := mustApply(t, e.component(t, "worker", vars, d))
	var ops []string
	for _, c := range plans[0].Targets[0].Changes {
		ops = append(ops, string(c.Op)+" "+c.Key)
	}
	if diff := cmp.Diff([]string{"change KEY_01", "remove KEY_00"}, ops); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	if _, _, ok := e.fake.Parameter("", "/app/prod/KEY_00"); ok {
		t.Fatal("KEY_00 was not deleted")
	}
	if got, _, _ := e.fake.Parameter("", "/app/prod/OTHERS_TOKEN"); got != othersKey {
		t.Fatal("someone else's parameter was touched")
	}
	if _, _, ok := e.fake.Parameter("", "/app/prod/nested/DEEP"); !ok {
		t.Fatal("a deeper parameter was touched")
	}
	again := Plan(context.Background(), []Component{e.component(t, "worker", vars, d)}, 1)
	if !again[0].Empty() || again[0].Targets[0].Unchanged != 24 {
		t.Fatalf("second plan: %+v", again[0].Targets[0])
	}
	// A parameter written under the path after the plan: the apply refuses.
	vars["KEY_02"] = "changed-again-" + stripeKey
	plans = Plan(context.Background(), []Component{e.component(t, "worker", vars, d)}, 1)
	if err := e.fake.PutParameter("", "/app/prod/OTHERS_TOKEN", "SecureString", othersKey+"-rotated"); err != nil {
		t.Fatal(err)
	}
	puts := e.fake.Calls("ssm:PutParameter")
	if res := Apply(context.Background(), plans, 1, nil); res[0].Status != Failed || !res[0].Changed {
		t.Fatalf("apply after a concurrent write: %+v", res[0])
	}
	if e.fake.Calls("ssm:PutParameter") != puts {
		t.Fatal("the refused apply wrote parameters")
	}
	if e.fake.Calls("ssm:GetParametersByPath") < 3*3 {
		t.Fatalf("GetParametersByPath was called %d times; 27 parameters take 3 pages a read", e.fake.Calls("ssm:GetParametersByPath"))
	}
}

func TestABadSignatureIsRefused(t *testing.T) {
	e := start(t, time.Millisecond)
	e.fake.PutFunction("", "api", nil)
	e.aws = newAWS(e.fake, "not-the-secret-key")
	d := lambdaDeploy("api")
	d.ECS = &config.ECSTarget{Cluster: "prod", Service: "worker", Container: "worker"}
	d.SSM = &config.SSMTarget{Path: "/app/"}
	plans := Plan(context.Background(), []Component{e.component(t, "api", map[string]string{"DATABASE_URL": dbURL}, d)}, 1)
	for _, tp := range plans[0].Targets {
		if tp.Err == nil || !strings.Contains(tp.Err.Error(), "InvalidSignatureException") {
			t.Errorf("%s: plan error = %v; want the fake to refuse the signature", tp.Target, tp.Err)
		}
	}
}

func TestOneFailingComponentDoesNotStopTheOthers(t *testing.T) {
	e := start(t, time.Millisecond)
	e.fake.PutFunction("", "ok-1", nil)
	e.fake.PutFunction("", "ok-2", nil)
	comps := []Component{
		e.component(t, "ok-1", map[string]string{"DATABASE_URL": dbURL}, lambdaDeploy("ok-1")),
		e.component(t, "missing", map[string]string{"DATABASE_URL": dbURL}, lambdaDeploy("missing")),
		e.component(t, "ok-2", map[string]string{"DATABASE_URL": dbURL}, lambdaDeploy("ok-2")),
	}
	res := Apply(context.Background(), Plan(context.Background(), comps, 3), 3, nil)
	got := []Status{res[0].Status, res[1].Status, res[2].Status}
	if diff := cmp.Diff([]Status{Applied, Failed, Applied}, got); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s", diff)
	}
	if !strings.Contains(res[1].Error, "ResourceNotFoundException") {
		t.Fatalf("the missing function's error: %s", res[1].Error)
	}
}

// BenchmarkApply deploys 1 and 20 Lambda components whose updates each take 100 ms
// to finish, as the target's waiter sees them; make bench prints the ratio, which
// parallelism keeps well under 20.
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("components=%d", n), func(b *testing.B) {
			e := start(b, 100*time.Millisecond)
			var comps []Component
			for i := range n {
				name := fmt.Sprintf("fn-%02d", i)
				e.fake.PutFunction("", name, map[string]string{"LOG_LEVEL": "info"})
				comps = append(comps, e.component(b, name, nil, lambdaDeploy(name)))
			}
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				for j := range comps {
					comps[j].Vars = map[string]string{"DATABASE_URL": fmt.Sprintf("%s?v=%d", dbURL, i)}
				}
				for _, r := range Apply(context.Background(), Plan(context.Background(), comps, DefaultParallel), DefaultParallel, nil) {
					if r.Status != Applied {
						b.Fatalf("%s: %s %s", r.Component, r.Status, r.Error)
					}
				}
			}
		})
	}
}

// rawLambda plans as a target without kazzle's checks.
func (r rawLambda) checkState(State, map[string]string) []string { return nil }
