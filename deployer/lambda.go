package deployer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/kazzle/kazzle/config"
)

// LambdaAPI is what the Lambda target calls.
type LambdaAPI interface {
	GetFunctionConfiguration(context.Context, *lambda.GetFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.GetFunctionConfigurationOutput, error)
	UpdateFunctionConfiguration(context.Context, *lambda.UpdateFunctionConfigurationInput, ...func(*lambda.Options)) (*lambda.UpdateFunctionConfigurationOutput, error)
	lambda.GetFunctionAPIClient // for the FunctionUpdatedV2 waiter
}

var _ LambdaAPI = (*lambda.Client)(nil)

// LambdaEnvLimit is Lambda's limit on a function's environment: the size of the JSON
// object of its variables.
const LambdaEnvLimit = 4096

// lambdaReserved are the keys the Lambda runtime sets and an update may not.
var lambdaReserved = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION",
	"AWS_EXECUTION_ENV", "AWS_REGION", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT", "TZ",
}

// lambdaReservedName reports whether Lambda refuses name: the list above, and the
// runtime's AWS_LAMBDA_ names but the one users may set.
func lambdaReservedName(name string) bool {
	return slices.Contains(lambdaReserved, name) ||
		strings.HasPrefix(name, "AWS_LAMBDA_") && name != "AWS_LAMBDA_EXEC_WRAPPER"
}

// lambdaKeyOK is Lambda's key pattern, [a-zA-Z]([a-zA-Z0-9_])+.
func lambdaKeyOK(k string) bool {
	if len(k) < 2 || !isLetter(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if c := k[i]; !isLetter(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// lambdaEnvSize is the size Lambda measures: the variables as a JSON object.
func lambdaEnvSize(vars map[string]string) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(vars)
	return b.Len() - 1 // Encode ends with a newline
}

// lambdaTarget is the environment of a Lambda function.
type lambdaTarget struct {
	api      LambdaAPI
	function string
	region   string
	aws      *AWS
	id       config.TargetID
}

func (t *lambdaTarget) identity() config.TargetID { return t.id }

func (t *lambdaTarget) String() string {
	return fmt.Sprintf("aws.lambda %s (%s)", t.function, t.region)
}

func (t *lambdaTarget) Check(desired map[string]string) []string {
	var problems []string
	for _, k := range slices.Sorted(maps.Keys(desired)) {
		switch {
		case lambdaReservedName(k):
			problems = append(problems, fmt.Sprintf("%s is reserved by the Lambda runtime: rename the secret", k))
		case !lambdaKeyOK(k):
			problems = append(problems, fmt.Sprintf("%s is not a valid Lambda variable name (a letter, then letters, digits or _; at least 2 characters): rename the secret", k))
		}
	}
	if n := lambdaEnvSize(withRecord(desired, nil, desired)); n > LambdaEnvLimit {
		problems = append(problems, fmt.Sprintf("the environment would take %d bytes, over Lambda's limit of %d for all variables together: move some secrets to SSM", n, LambdaEnvLimit))
	}
	return problems
}

// checkState is the 4 KB check with the variables already on the function, others'
// included: the plan runs it after reading, so that --plan reports what apply would.
func (t *lambdaTarget) checkState(st State, desired map[string]string) []string {
	if n := lambdaEnvSize(withRecord(st.Vars, st.Managed, desired)); n > LambdaEnvLimit {
		return []string{fmt.Sprintf("with the variables already there, the environment would take %d bytes, over Lambda's limit of %d: move some secrets to SSM", n, LambdaEnvLimit)}
	}
	return nil
}

func (t *lambdaTarget) Read(ctx context.Context) (State, error) {
	out, err := t.api.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(t.function)})
	if err != nil {
		return State{}, fmt.Errorf("read the function's configuration: %w", err)
	}
	return splitRecord(variables(out.Environment), aws.ToString(out.RevisionId)), nil
}

// variables are the variables of a function's environment; nil when it has none.
func variables(e *types.EnvironmentResponse) map[string]string {
	if e == nil {
		return nil
	}
	return e.Variables
}

// splitRecord makes the State of an environment that keeps its record in ManagedVar.
func splitRecord(env map[string]string, version any) State {
	st := State{Vars: maps.Clone(env), version: version}
	if st.Vars == nil {
		st.Vars = map[string]string{}
	}
	st.Managed = splitNames(st.Vars[ManagedVar])
	delete(st.Vars, ManagedVar)
	return st
}

// withRecord returns the environment that results from making the managed keys of vars
// (listed in managed) hold desired: others' keys stay, with the record in ManagedVar.
func withRecord(vars map[string]string, managed []string, desired map[string]string) map[string]string {
	env := maps.Clone(vars)
	if env == nil {
		env = map[string]string{}
	}
	for _, k := range managed {
		delete(env, k)
	}
	maps.Copy(env, desired)
	if len(desired) > 0 {
		env[ManagedVar] = strings.Join(slices.Sorted(maps.Keys(desired)), ",")
	}
	return env
}

// recordOf is the environment st was read from: its variables and its record.
func recordOf(st State) map[string]string {
	env := maps.Clone(st.Vars)
	if len(st.Managed) > 0 {
		env[ManagedVar] = strings.Join(st.Managed, ",")
	}
	return env
}

// maxConflictRetries bounds how often an update waits for another one in progress.
const maxConflictRetries = 10

func (t *lambdaTarget) Write(ctx context.Context, st State, desired map[string]string, progress func(string)) error {
	if problems := t.checkState(st, desired); len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	env := withRecord(st.Vars, st.Managed, desired)
	in := &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String(t.function),
		Environment:  &types.Environment{Variables: env},
		RevisionId:   aws.String(st.version.(string)),
	}
	for attempt := 0; ; attempt++ {
		_, err := t.api.UpdateFunctionConfiguration(ctx, in)
		switch code := apiErrorCode(err); {
		case err == nil:
			progress("waiting for the update")
			conf, err := t.waitUpdated(ctx)
			if err != nil {
				return err
			}
			// The configuration read after the update ends: the environment kazzle wrote,
			// unless someone changed it again in between.
			if !maps.Equal(variables(conf.Environment), env) {
				return fmt.Errorf("right after kazzle's update (RevisionId %s) the function's environment was changed again: run the deploy again to see the new plan", aws.ToString(conf.RevisionId))
			}
			return nil
		case code == "PreconditionFailedException":
			return fmt.Errorf("%w: its RevisionId is no longer %s; nothing was written, run the deploy again to see the new plan", ErrChanged, st.version)
		case code == "ResourceConflictException" && attempt < maxConflictRetries:
			// Another update is in progress, and it changes the RevisionId. If it left
			// the environment as planned (a code deploy, say), the new RevisionId is
			// safe to write against; otherwise the plan is stale.
			progress("waiting for an update in progress")
			conf, err := t.waitUpdated(ctx)
			if err != nil {
				return err
			}
			if !maps.Equal(variables(conf.Environment), recordOf(st)) {
				return fmt.Errorf("%w: an update made while kazzle waited changed its environment; nothing was written, run the deploy again to see the new plan", ErrChanged)
			}
			in.RevisionId = conf.RevisionId
		default:
			return fmt.Errorf("update the function's configuration: %w", err)
		}
	}
}

// waitUpdated waits until the function's last update has finished and returns its
// configuration then.
func (t *lambdaTarget) waitUpdated(ctx context.Context) (*types.FunctionConfiguration, error) {
	w := lambda.NewFunctionUpdatedV2Waiter(t.api, func(o *lambda.FunctionUpdatedV2WaiterOptions) {
		o.MinDelay, o.MaxDelay = t.aws.Poll, t.aws.MaxPoll
	})
	out, err := w.WaitForOutput(ctx, &lambda.GetFunctionInput{FunctionName: aws.String(t.function)}, t.aws.Timeout)
	if err != nil {
		return nil, fmt.Errorf("wait for the function's update to finish: %w", err)
	}
	if out.Configuration == nil {
		return nil, fmt.Errorf("wait for the function's update to finish: GetFunction returned no configuration")
	}
	return out.Configuration, nil
}
