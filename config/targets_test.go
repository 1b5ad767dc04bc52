package config

import (
	"strings"
	"testing"
)

// twoComponents is a project of components a and b with the given deploy blocks.
func twoComponents(a, b AWSDeploy) *Project {
	return &Project{Components: map[string]Component{
		"a": {Kind: KindProcess, Secrets: []string{}, Deploy: &Deploy{AWS: &a}},
		"b": {Kind: KindProcess, Secrets: []string{}, Deploy: &Deploy{AWS: &b}},
	}}
}

func messages(p *Project) string {
	var texts []string
	for _, m := range p.validate() {
		texts = append(texts, m.Path+": "+m.Text)
	}
	return strings.Join(texts, "\n")
}

func TestOneDeployTargetSpelledTwoWaysIsADuplicate(t *testing.T) {
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:my-fn"
	lambda := func(name, region string) AWSDeploy {
		return AWSDeploy{Lambda: &LambdaTarget{FunctionName: name, Region: region}}
	}
	ecs := func(cluster, service, container, region string) AWSDeploy {
		return AWSDeploy{ECS: &ECSTarget{Cluster: cluster, Service: service, Container: container, Region: region}}
	}
	ssm := func(path, region string) AWSDeploy {
		return AWSDeploy{SSM: &SSMTarget{Path: path, Region: region}}
	}
	dups := []struct {
		name string
		a, b AWSDeploy
		want string
	}{
		{"lambda name and ARN", lambda("my-fn", "us-east-1"), lambda(arn, ""), "both deploy to lambda function my-fn of account 123456789012 in us-east-1"},
		{"lambda ARN and qualified ARN", lambda(arn, ""), lambda(arn+":live", ""), "both deploy to lambda function my-fn"},
		{"lambda name and qualified name", lambda("my-fn", ""), lambda("my-fn:3", ""), "both deploy to lambda function my-fn in the default region"},
		{"lambda ARN and name in the default region", lambda(arn, ""), lambda("my-fn", ""), "may both deploy to lambda function my-fn of account 123456789012 in us-east-1 (b gives no region"},
		{"lambda region and no region", lambda("my-fn", ""), lambda("my-fn", "eu-west-1"), "may both deploy to lambda function my-fn in eu-west-1 (a gives no region"},
		{"ecs cluster name and ARN", ecs("prod", "worker", "app", "eu-west-1"), ecs("arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "worker", "app", ""), "both deploy to ecs container app of service prod/worker"},
		{"ecs service ARN", ecs("prod", "worker", "app", ""), ecs("prod", "arn:aws:ecs:eu-west-1:123456789012:service/prod/worker", "app", ""), "may both deploy to ecs container app of service prod/worker"},
		{"ssm trailing slash", ssm("/shop/prod", "eu-west-1"), ssm("/shop/prod/", "eu-west-1"), "both deploy to ssm path /shop/prod/ in eu-west-1"},
		{"ssm region unset", ssm("/shop/prod/", ""), ssm("/shop/prod", "eu-west-1"), "may both deploy to ssm path /shop/prod/ in eu-west-1"},
	}
	for _, tt := range dups {
		t.Run(tt.name, func(t *testing.T) {
			got := messages(twoComponents(tt.a, tt.b))
			if !strings.Contains(got, tt.want) || !strings.Contains(got, "each would remove the other's keys") {
				t.Fatalf("messages:\n%s\nwant one saying %q", got, tt.want)
			}
		})
	}
	apart := []struct {
		name string
		a, b AWSDeploy
	}{
		{"lambda in two regions", lambda("my-fn", "us-east-1"), lambda("my-fn", "eu-west-1")},
		{"lambda ARN in another region", lambda(arn, ""), lambda("my-fn", "eu-west-1")},
		{"lambda in two accounts", lambda(arn, ""), lambda(strings.Replace(arn, "123456789012", "210987654321", 1), "")},
		{"two containers of one ECS service", ecs("prod", "worker", "worker", ""), ecs("arn:aws:ecs:eu-west-1:123456789012:cluster/prod", "worker", "otel-collector", "")},
		{"ssm sibling paths", ssm("/shop/prod/", ""), ssm("/shop/prod/worker/", "")},
	}
	for _, tt := range apart {
		t.Run(tt.name, func(t *testing.T) {
			if got := messages(twoComponents(tt.a, tt.b)); got != "" {
				t.Fatalf("two different targets were refused:\n%s", got)
			}
		})
	}
	got := messages(twoComponents(lambda(arn, "eu-west-1"), ssm("/x/", "")))
	if !strings.Contains(got, "is in region us-east-1, but the target's region is eu-west-1") {
		t.Fatalf("an ARN in another region than the target's: %q", got)
	}
}

func TestSSMPathsWithDotEmptyOrEncodedSegmentsAreRefused(t *testing.T) {
	for path, want := range map[string]string{
		"/shop/../other/": `has a ".." segment (segment 2)`,
		"/shop/./x/":      `has a "." segment (segment 2)`,
		"/shop/..":        `has a ".." segment`,
		"/shop//x/":       "has an empty segment (segment 2)",
		"//shop/":         "has an empty segment (segment 1)",
		"/":               "has an empty segment",
		"/shop/%2e%2e/x/": "has a % in segment 2",
		"/shop/%2E/":      "has a % in segment 2",
		"/shop/a b/":      `has ' ' in segment 2`,
		"shop/prod/":      "start it with /",
	} {
		t.Run(path, func(t *testing.T) {
			err := ValidateSSMPath(path)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("ValidateSSMPath(%q) = %v, want it to say %q", path, err, want)
			}
			got := messages(twoComponents(AWSDeploy{SSM: &SSMTarget{Path: path}}, AWSDeploy{SSM: &SSMTarget{Path: "/ok/"}}))
			if !strings.Contains(got, "components.a.deploy.aws.ssm.path: ") || !strings.Contains(got, want) {
				t.Fatalf("config check of %q:\n%s", path, got)
			}
		})
	}
	for _, path := range []string{"/shop/prod/", "/shop/prod", "/a.b/c-d/e_f/", "/shop/..x/", "/shop/.env/"} {
		if err := ValidateSSMPath(path); err != nil {
			t.Errorf("ValidateSSMPath(%q) = %v, want it accepted", path, err)
		}
	}
}
