package deployer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/kazzle/kazzle/config"
)

// SSMAPI is what the SSM target calls.
type SSMAPI interface {
	ssm.GetParametersByPathAPIClient
	PutParameter(context.Context, *ssm.PutParameterInput, ...func(*ssm.Options)) (*ssm.PutParameterOutput, error)
	DeleteParameters(context.Context, *ssm.DeleteParametersInput, ...func(*ssm.Options)) (*ssm.DeleteParametersOutput, error)
}

var _ SSMAPI = (*ssm.Client)(nil)

// SSM's rules for standard-tier parameters.
const (
	ssmMaxValue  = 4096
	ssmMaxName   = 1011
	ssmMaxLevels = 15
	// ssmRecordName is the parameter, under the target's path, that lists the names
	// kazzle manages there. A secret's name cannot hold a hyphen, so it never collides.
	ssmRecordName = "kazzle-managed"
	// ssmDeleteBatch is how many names one DeleteParameters call takes.
	ssmDeleteBatch = 10
)

// ssmTarget is the SecureString parameters directly under a path, one per variable.
type ssmTarget struct {
	api    SSMAPI
	path   string // ends with "/"
	keyID  string
	region string
	id     config.TargetID
	// pathErr is why the path as configured is refused: a . or .. segment, say.
	pathErr error
}

func (t *ssmTarget) identity() config.TargetID { return t.id }

func newSSMTarget(api SSMAPI, path, keyID, region string) *ssmTarget {
	return &ssmTarget{api: api, path: strings.TrimSuffix(path, "/") + "/", keyID: keyID, region: region}
}

func (t *ssmTarget) String() string {
	return fmt.Sprintf("aws.ssm %s (%s)", t.path, t.region)
}

func (t *ssmTarget) Check(desired map[string]string) []string {
	var problems []string
	if t.pathErr != nil {
		problems = append(problems, t.pathErr.Error())
	}
	if levels := strings.Count(t.path, "/") - 1; levels+1 > ssmMaxLevels {
		problems = append(problems, fmt.Sprintf("path %s has %d levels; SSM allows %d including the parameter's own name", t.path, levels, ssmMaxLevels))
	}
	if lower := strings.ToLower(strings.TrimPrefix(t.path, "/")); strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		problems = append(problems, fmt.Sprintf("path %s starts with a prefix SSM reserves (aws, ssm): choose another path", t.path))
	}
	for _, k := range slices.Sorted(maps.Keys(desired)) {
		if n := len(t.path) + len(k); n > ssmMaxName {
			problems = append(problems, fmt.Sprintf("parameter %s%s would be %d characters; SSM allows %d: shorten the path", t.path, k, n, ssmMaxName))
		}
		switch v := desired[k]; {
		case v == "":
			problems = append(problems, fmt.Sprintf("%s is empty, and SSM refuses an empty parameter: give it a value or stop declaring it", k))
		case len(v) > ssmMaxValue:
			problems = append(problems, fmt.Sprintf("%s is %d bytes; a standard SSM parameter holds at most %d: shorten it or deploy it to another target", k, len(v), ssmMaxValue))
		}
	}
	return problems
}

// ssmVersion is each parameter's version under the path, as read.
type ssmVersion map[string]int64

func (t *ssmTarget) read(ctx context.Context) (vars map[string]string, record string, versions ssmVersion, err error) {
	vars, versions = map[string]string{}, ssmVersion{}
	pages := ssm.NewGetParametersByPathPaginator(t.api, &ssm.GetParametersByPathInput{
		Path: aws.String(t.path), Recursive: aws.Bool(false), WithDecryption: aws.Bool(true),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, "", nil, fmt.Errorf("read the parameters under %s: %w", t.path, err)
		}
		for _, p := range page.Parameters {
			name := strings.TrimPrefix(aws.ToString(p.Name), t.path)
			versions[name] = p.Version
			if name == ssmRecordName {
				record = aws.ToString(p.Value)
			} else {
				vars[name] = aws.ToString(p.Value)
			}
		}
	}
	return vars, record, versions, nil
}

func (t *ssmTarget) Read(ctx context.Context) (State, error) {
	vars, record, versions, err := t.read(ctx)
	if err != nil {
		return State{}, err
	}
	return State{Vars: vars, Managed: splitNames(record), version: versions}, nil
}

// Write puts and deletes parameters one call at a time, as SSM requires. The record is
// widened first to every name the write touches and narrowed last, so that a write cut
// short leaves kazzle owning no less than it wrote.
func (t *ssmTarget) Write(ctx context.Context, st State, desired map[string]string, progress func(string)) error {
	_, _, versions, err := t.read(ctx)
	if err != nil {
		return err
	}
	if !maps.Equal(versions, st.version.(ssmVersion)) {
		return fmt.Errorf("%w: parameters under %s were written since; nothing was written, run the deploy again to see the new plan", ErrChanged, t.path)
	}
	final := slices.Sorted(maps.Keys(desired))
	widened := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(st.Managed), final...))))
	if err := t.putRecord(ctx, widened); err != nil {
		return err
	}
	for _, k := range final {
		if old, ok := st.Vars[k]; ok && old == desired[k] {
			continue
		}
		progress("writing " + k)
		in := &ssm.PutParameterInput{
			Name: aws.String(t.path + k), Value: aws.String(desired[k]), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true),
		}
		if t.keyID != "" {
			in.KeyId = aws.String(t.keyID)
		}
		if _, err := t.api.PutParameter(ctx, in); err != nil {
			return fmt.Errorf("put parameter %s%s: %w", t.path, k, err)
		}
	}
	var gone []string
	for _, k := range st.Managed {
		if _, keep := desired[k]; !keep {
			if _, present := st.Vars[k]; present {
				gone = append(gone, t.path+k)
			}
		}
	}
	for batch := range slices.Chunk(gone, ssmDeleteBatch) {
		progress("deleting")
		if _, err := t.api.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: batch}); err != nil {
			return fmt.Errorf("delete parameters under %s: %w", t.path, err)
		}
	}
	return t.putRecord(ctx, final)
}

func (t *ssmTarget) putRecord(ctx context.Context, names []string) error {
	name := t.path + ssmRecordName
	if len(names) == 0 {
		_, err := t.api.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: []string{name}})
		if err != nil {
			return fmt.Errorf("delete parameter %s: %w", name, err)
		}
		return nil
	}
	_, err := t.api.PutParameter(ctx, &ssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(strings.Join(names, ",")), Type: types.ParameterTypeString, Overwrite: aws.Bool(true),
		Description: aws.String("The parameters under this path that kazzle manages; kazzle changes no others."),
	})
	if err != nil {
		return fmt.Errorf("put parameter %s: %w", name, err)
	}
	return nil
}
