package deployer

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kazzle/kazzle/config"
)

// twoContainerService puts service my-saas-prod/worker with containers worker and
// otel-collector, each with a variable of someone else's.
func twoContainerService(t *testing.T, e env) {
	t.Helper()
	_, err := e.fake.PutService("", "my-saas-prod", "worker", map[string]any{
		"family": "worker", "cpu": "256", "memory": "512",
		"containerDefinitions": []any{
			map[string]any{"name": "worker", "image": "my-saas/worker:1", "environment": []any{map[string]any{"name": "LOG_LEVEL", "value": "info"}}},
			map[string]any{"name": "otel-collector", "image": "otel/collector:0.98", "environment": []any{map[string]any{"name": "OTHERS_TOKEN", "value": othersKey}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// containerEnv is a container's environment in the task definition the service runs.
func containerEnv(t *testing.T, e env, container string) map[string]string {
	t.Helper()
	td, ok := e.fake.ServiceTaskDefinition("", "my-saas-prod", "worker")
	if !ok {
		t.Fatal("no service")
	}
	for _, c := range td["containerDefinitions"].([]any) {
		c := c.(map[string]any)
		if c["name"] != container {
			continue
		}
		env := map[string]string{}
		pairs, _ := c["environment"].([]any)
		for _, kv := range pairs {
			kv := kv.(map[string]any)
			env[kv["name"].(string)] = kv["value"].(string)
		}
		return env
	}
	t.Fatalf("no container %s", container)
	return nil
}

func TestContainersOfOneServiceAreWrittenInOneRevision(t *testing.T) {
	e := start(t, time.Millisecond)
	twoContainerService(t, e)
	worker := config.AWSDeploy{ECS: &config.ECSTarget{Cluster: "my-saas-prod", Service: "worker", Container: "worker"}}
	// The same service, its cluster spelled as an ARN.
	otel := config.AWSDeploy{ECS: &config.ECSTarget{Cluster: "arn:aws:ecs:us-east-1:111122223333:cluster/my-saas-prod", Service: "worker", Container: "otel-collector"}}
	for run := range 10 {
		registered := e.fake.Calls("ecs:RegisterTaskDefinition")
		workerVars := map[string]string{"DATABASE_URL": fmt.Sprintf("%s?run=%d", dbURL, run)}
		otelVars := map[string]string{"OTEL_TOKEN": fmt.Sprintf("%s-%d", stripeKey, run)}
		if run%2 == 1 { // a key added on every other run
			otelVars["OTEL_EXTRA"] = fmt.Sprintf("extra-%d", run)
		}
		plans := Plan(context.Background(), []Component{
			e.component(t, "worker", workerVars, worker),
			e.component(t, "otel", otelVars, otel),
		}, DefaultParallel)
		for _, r := range Apply(context.Background(), plans, DefaultParallel, nil) {
			if r.Status != Applied {
				t.Fatalf("run %d: %s: %s %s", run, r.Component, r.Status, r.Error)
			}
		}
		got := containerEnv(t, e, "worker")
		if got["DATABASE_URL"] != workerVars["DATABASE_URL"] || got["LOG_LEVEL"] != "info" {
			t.Fatalf("run %d: both components reported success, but the worker container holds DATABASE_URL of %d bytes, LOG_LEVEL %q",
				run, len(got["DATABASE_URL"]), got["LOG_LEVEL"])
		}
		got = containerEnv(t, e, "otel-collector")
		if got["OTEL_TOKEN"] != otelVars["OTEL_TOKEN"] || got["OTEL_EXTRA"] != otelVars["OTEL_EXTRA"] || got["OTHERS_TOKEN"] != othersKey {
			t.Fatalf("run %d: both components reported success, but the otel-collector container holds %d variables, not its new ones", run, len(got))
		}
		if n := e.fake.Calls("ecs:RegisterTaskDefinition") - registered; n != 1 {
			t.Fatalf("run %d: %d revisions registered, want one for the service", run, n)
		}
	}
}

func TestAServiceRunningAnotherRevisionAfterTheUpdateIsAFailure(t *testing.T) {
	e := start(t, time.Millisecond)
	twoContainerService(t, e)
	worker := config.AWSDeploy{ECS: &config.ECSTarget{Cluster: "my-saas-prod", Service: "worker", Container: "worker"}}
	otel := config.AWSDeploy{ECS: &config.ECSTarget{Cluster: "my-saas-prod", Service: "worker", Container: "otel-collector"}}
	plans := Plan(context.Background(), []Component{
		e.component(t, "worker", map[string]string{"DATABASE_URL": dbURL}, worker),
		e.component(t, "otel", map[string]string{"OTEL_TOKEN": stripeKey}, otel),
	}, 2)
	// Someone else deploys right after kazzle's UpdateService.
	e.fake.OnCall("ecs:UpdateService", func() { twoContainerService(t, e) })
	res := Apply(context.Background(), plans, 2, nil)
	for _, r := range res {
		if r.Status != Failed || !strings.Contains(r.Error, "that kazzle registered: another deploy replaced it") {
			t.Fatalf("%s: %s %q; want a failure saying the service runs another revision", r.Component, r.Status, r.Error)
		}
		noValues(t, "the error", r.Error)
	}
	if got := containerEnv(t, e, "worker"); got["DATABASE_URL"] != "" {
		t.Fatal("the test's other deploy did not land")
	}
}

func TestOneTargetSpelledTwoWaysIsRefusedAtDeploy(t *testing.T) {
	e := start(t, time.Millisecond)
	e.fake.PutFunction("", "my-fn", nil)
	twoContainerService(t, e)
	const fnARN = "arn:aws:lambda:us-east-1:111122223333:function:my-fn"
	for _, tt := range []struct {
		name string
		a, b config.AWSDeploy
	}{
		{"lambda name in the default region and qualified ARN", lambdaDeploy("my-fn"), lambdaDeploy(fnARN + ":live")},
		{"lambda name with the default region spelled out", lambdaDeploy("my-fn"), config.AWSDeploy{Lambda: &config.LambdaTarget{FunctionName: "my-fn", Region: "us-east-1"}}},
		{"ecs container, cluster by ARN", config.AWSDeploy{ECS: &config.ECSTarget{Cluster: "my-saas-prod", Service: "worker", Container: "worker"}},
			config.AWSDeploy{ECS: &config.ECSTarget{Cluster: "arn:aws:ecs:us-east-1:111122223333:cluster/my-saas-prod", Service: "worker", Container: "worker"}}},
		{"ssm path without its slash", config.AWSDeploy{SSM: &config.SSMTarget{Path: "/app/prod"}}, config.AWSDeploy{SSM: &config.SSMTarget{Path: "/app/prod/", Region: "us-east-1"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.fake.ResetCalls()
			plans := Plan(context.Background(), []Component{
				e.component(t, "a", map[string]string{"DATABASE_URL": dbURL}, tt.a),
				e.component(t, "b", map[string]string{"STRIPE_SECRET_KEY": stripeKey}, tt.b),
			}, 2)
			for _, p := range plans {
				if err := p.Err(); err == nil || !strings.Contains(err.Error(), "components a and b both deploy to") {
					t.Fatalf("%s: plan error %v; want the duplicate refused", p.Component, err)
				}
			}
			Apply(context.Background(), plans, 2, nil)
			for _, op := range []string{"lambda:GetFunctionConfiguration", "lambda:UpdateFunctionConfiguration", "ecs:DescribeServices", "ecs:RegisterTaskDefinition", "ssm:GetParametersByPath", "ssm:PutParameter"} {
				if n := e.fake.Calls(op); n != 0 {
					t.Fatalf("%s was called %d times for a duplicate target", op, n)
				}
			}
		})
	}
}

func TestALambdaARNIsDeployedInItsOwnRegion(t *testing.T) {
	e := start(t, time.Millisecond)
	e.fake.PutFunction("us-east-1", "my-fn", map[string]string{"LOG_LEVEL": "debug"})
	akid, key := e.fake.Credentials()
	e.aws = NewAWS(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(e.fake.URL), Credentials: credentials.NewStaticCredentialsProvider(akid, key, "")})
	e.aws.Poll, e.aws.MaxPoll = 5*time.Millisecond, 20*time.Millisecond
	mustApply(t, e.component(t, "api", map[string]string{"DATABASE_URL": dbURL}, lambdaDeploy("arn:aws:lambda:us-east-1:111122223333:function:my-fn:live")))
	if vars, _, _ := e.fake.FunctionEnv("us-east-1", "my-fn"); vars["DATABASE_URL"] != dbURL {
		t.Fatal("the function in the ARN's region was not written")
	}
}

func TestLambda4KBWithOthersVariablesIsReportedInThePlan(t *testing.T) {
	e := start(t, time.Millisecond)
	e.fake.PutFunction("", "api", map[string]string{"OTHERS_BLOB": strings.Repeat("o", 3000) + othersKey})
	plans := Plan(context.Background(), []Component{
		e.component(t, "api", map[string]string{"STRIPE_SECRET_KEY": stripeKey + strings.Repeat("s", 1200)}, lambdaDeploy("api")),
	}, 1)
	err := plans[0].Err()
	if err == nil || !strings.Contains(err.Error(), "with the variables already there, the environment would take") || !strings.Contains(err.Error(), "over Lambda's limit of 4096") {
		t.Fatalf("plan error = %v; want the 4 KB limit counted with the function's other variables", err)
	}
	noValues(t, "the plan error", err.Error())
	// At the limit exactly, the plan goes through.
	vars, _, _ := e.fake.FunctionEnv("", "api")
	desired := map[string]string{"STRIPE_SECRET_KEY": ""}
	desired["STRIPE_SECRET_KEY"] = strings.Repeat("s", LambdaEnvLimit-lambdaEnvSize(withRecord(vars, nil, desired)))
	plans = Plan(context.Background(), []Component{e.component(t, "api", desired, lambdaDeploy("api"))}, 1)
	if err := plans[0].Err(); err != nil {
		t.Fatalf("at exactly %d bytes: %v", LambdaEnvLimit, err)
	}
	if n := e.fake.Calls("lambda:UpdateFunctionConfiguration"); n != 0 {
		t.Fatalf("%d updates were sent by a plan", n)
	}
}
