package deployer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/kazzle/kazzle/config"
)

// ECSAPI is what the ECS target calls.
type ECSAPI interface {
	DescribeServices(context.Context, *ecs.DescribeServicesInput, ...func(*ecs.Options)) (*ecs.DescribeServicesOutput, error)
	DescribeTaskDefinition(context.Context, *ecs.DescribeTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error)
	RegisterTaskDefinition(context.Context, *ecs.RegisterTaskDefinitionInput, ...func(*ecs.Options)) (*ecs.RegisterTaskDefinitionOutput, error)
	UpdateService(context.Context, *ecs.UpdateServiceInput, ...func(*ecs.Options)) (*ecs.UpdateServiceOutput, error)
}

var _ ECSAPI = (*ecs.Client)(nil)

// ecsTaskDefinitionLimit is ECS's limit on a registered task definition's JSON; the
// variables alone must leave room for the rest of it.
const ecsTaskDefinitionLimit = 64 << 10

// ecsTarget is the environment of one container in the task definition an ECS service
// runs. A change registers a new revision, everything else copied (but inference
// accelerators, which AWS retired and no longer registers), and points the service at it.
type ecsTarget struct {
	api                         ECSAPI
	cluster, service, container string
	region                      string
	id                          config.TargetID
}

// ecsVersion is what an ECS target's state was read from.
type ecsVersion struct {
	taskDefinition *types.TaskDefinition
	tags           []types.Tag
}

func (t *ecsTarget) String() string {
	return fmt.Sprintf("aws.ecs %s/%s container %s (%s)", t.cluster, t.service, t.container, t.region)
}

func (t *ecsTarget) Check(desired map[string]string) []string {
	size := 0
	for k, v := range desired {
		size += len(k) + len(v) + len(`{"name":"","value":""},`)
	}
	if size > ecsTaskDefinitionLimit {
		return []string{fmt.Sprintf("the variables take %d bytes, over the %d bytes of a whole ECS task definition: move some secrets to SSM", size, ecsTaskDefinitionLimit)}
	}
	return nil
}

// currentTaskDefinition returns the ARN of the task definition the service runs.
func (t *ecsTarget) currentTaskDefinition(ctx context.Context) (string, error) {
	out, err := t.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(t.cluster), Services: []string{t.service}})
	if err != nil {
		return "", fmt.Errorf("describe the service: %w", err)
	}
	if len(out.Services) == 0 {
		reason := "MISSING"
		if len(out.Failures) > 0 {
			reason = aws.ToString(out.Failures[0].Reason)
		}
		return "", fmt.Errorf("no service %s in cluster %s (%s)", t.service, t.cluster, reason)
	}
	return aws.ToString(out.Services[0].TaskDefinition), nil
}

func (t *ecsTarget) Read(ctx context.Context) (State, error) {
	arn, err := t.currentTaskDefinition(ctx)
	if err != nil {
		return State{}, err
	}
	out, err := t.api.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(arn), Include: []types.TaskDefinitionField{types.TaskDefinitionFieldTags},
	})
	if err != nil {
		return State{}, fmt.Errorf("describe task definition %s: %w", arn, err)
	}
	td := out.TaskDefinition
	i := t.containerIndex(td)
	if i < 0 {
		var names []string
		for _, c := range td.ContainerDefinitions {
			names = append(names, aws.ToString(c.Name))
		}
		return State{}, fmt.Errorf("task definition %s has no container %s; it has %s", arn, t.container, strings.Join(names, ", "))
	}
	env := map[string]string{}
	for _, kv := range td.ContainerDefinitions[i].Environment {
		env[aws.ToString(kv.Name)] = aws.ToString(kv.Value)
	}
	st := splitRecord(env, ecsVersion{taskDefinition: td, tags: out.Tags})
	for _, s := range td.ContainerDefinitions[i].Secrets {
		st.Taken = append(st.Taken, aws.ToString(s.Name))
	}
	return st, nil
}

func (t *ecsTarget) containerIndex(td *types.TaskDefinition) int {
	return slices.IndexFunc(td.ContainerDefinitions, func(c types.ContainerDefinition) bool {
		return aws.ToString(c.Name) == t.container
	})
}

func (t *ecsTarget) Write(ctx context.Context, st State, desired map[string]string, progress func(string)) error {
	return writeECSService(ctx, []ecsMember{{t: t, st: st, desired: desired}}, progress)
}

// serviceKey names the service t is a container of: targets with one key share a task
// definition, however their config spells the cluster and service.
func (t *ecsTarget) serviceKey() string {
	return t.id.Region + "/" + t.id.Name
}

func (t *ecsTarget) identity() config.TargetID { return t.id }

// ecsMember is one container's part of a service's new revision.
type ecsMember struct {
	t       *ecsTarget
	st      State
	desired map[string]string
}

// writeECSService registers one revision of the task definition the members read, each
// member's container holding its desired variables, points the service at it, and then
// checks that the service runs it: a deploy by someone else in between would otherwise
// go unnoticed, the secrets written but not running.
func writeECSService(ctx context.Context, members []ecsMember, progress func(string)) error {
	t := members[0].t
	v := members[0].st.version.(ecsVersion)
	planned := aws.ToString(v.taskDefinition.TaskDefinitionArn)
	td := v.taskDefinition
	containers := slices.Clone(td.ContainerDefinitions)
	written := map[int]bool{}
	for _, m := range members {
		if arn := aws.ToString(m.st.version.(ecsVersion).taskDefinition.TaskDefinitionArn); arn != planned {
			return fmt.Errorf("%w: the plan read %s for container %s and %s for container %s; nothing was written, run the deploy again to see the new plan",
				ErrChanged, planned, t.container, arn, m.t.container)
		}
		i := m.t.containerIndex(td)
		if i < 0 || written[i] {
			return fmt.Errorf("two components write container %s of %s/%s: each would remove the other's keys; nothing was written", m.t.container, t.cluster, t.service)
		}
		written[i] = true
		env := withRecord(m.st.Vars, m.st.Managed, m.desired)
		pairs := make([]types.KeyValuePair, 0, len(env))
		for _, k := range slices.Sorted(maps.Keys(env)) {
			pairs = append(pairs, types.KeyValuePair{Name: aws.String(k), Value: aws.String(env[k])})
		}
		containers[i].Environment = pairs
	}
	// ECS has no conditional update: reading the service again right before keeps the
	// window for a lost update to the few milliseconds of two calls, and the check after
	// the update reports what that window lets through.
	arn, err := t.currentTaskDefinition(ctx)
	if err != nil {
		return err
	}
	if arn != planned {
		return fmt.Errorf("%w: the service now runs %s, not %s; nothing was written, run the deploy again to see the new plan", ErrChanged, arn, planned)
	}
	reg, err := t.api.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family:                  td.Family,
		ContainerDefinitions:    containers,
		Cpu:                     td.Cpu,
		Memory:                  td.Memory,
		EnableFaultInjection:    td.EnableFaultInjection,
		EphemeralStorage:        td.EphemeralStorage,
		ExecutionRoleArn:        td.ExecutionRoleArn,
		TaskRoleArn:             td.TaskRoleArn,
		IpcMode:                 td.IpcMode,
		PidMode:                 td.PidMode,
		NetworkMode:             td.NetworkMode,
		PlacementConstraints:    td.PlacementConstraints,
		ProxyConfiguration:      td.ProxyConfiguration,
		RequiresCompatibilities: td.RequiresCompatibilities,
		RuntimePlatform:         td.RuntimePlatform,
		Volumes:                 td.Volumes,
		Tags:                    v.tags,
	})
	if err != nil {
		return fmt.Errorf("register a new revision of %s: %w", aws.ToString(td.Family), err)
	}
	newARN := aws.ToString(reg.TaskDefinition.TaskDefinitionArn)
	progress("updating the service")
	if _, err := t.api.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(t.cluster), Service: aws.String(t.service), TaskDefinition: aws.String(newARN),
	}); err != nil {
		return fmt.Errorf("point the service at %s: %w", newARN, err)
	}
	progress("checking the service runs the new revision")
	return t.checkRuns(ctx, newARN)
}

// checkRuns checks that the service's task definition, and its PRIMARY deployment's,
// is arn.
func (t *ecsTarget) checkRuns(ctx context.Context, arn string) error {
	out, err := t.api.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(t.cluster), Services: []string{t.service}})
	if err != nil {
		return fmt.Errorf("registered %s and pointed the service at it, but could not check it runs it: %w", arn, err)
	}
	if len(out.Services) == 0 {
		return fmt.Errorf("registered %s and pointed the service at it, but the service is gone", arn)
	}
	svc := out.Services[0]
	runs := aws.ToString(svc.TaskDefinition)
	for _, d := range svc.Deployments {
		if aws.ToString(d.Status) == "PRIMARY" && aws.ToString(d.TaskDefinition) != arn {
			runs = aws.ToString(d.TaskDefinition)
		}
	}
	if runs != arn {
		return fmt.Errorf("the service runs %s, not %s that kazzle registered: another deploy replaced it, so these secrets are not running; run the deploy again", runs, arn)
	}
	return nil
}
