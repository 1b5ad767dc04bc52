package deployer

import (
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/kazzle/kazzle/config"
)

// AWS makes the targets of a component's aws deploy block, sharing one SDK client per
// service and region.
type AWS struct {
	cfg aws.Config
	// Poll is the first delay between reads while waiting for a Lambda update; later
	// delays grow up to MaxPoll. Timeout bounds one wait.
	Poll, MaxPoll, Timeout time.Duration

	mu      sync.Mutex
	clients map[string]any // service/region → client
}

// NewAWS returns the AWS target factory for cfg, as awsconfig.LoadDefaultConfig makes
// it (region, credentials, AWS_ENDPOINT_URL).
func NewAWS(cfg aws.Config) *AWS {
	return &AWS{cfg: cfg, Poll: 250 * time.Millisecond, MaxPoll: 5 * time.Second, Timeout: 5 * time.Minute, clients: map[string]any{}}
}

// Targets returns the targets of d, in the order lambda, ecs, ssm.
func (a *AWS) Targets(d *config.Deploy) ([]Target, error) {
	if d == nil || d.AWS == nil {
		return nil, nil
	}
	var ts []Target
	// Each target's region is the config's, else its ARN's, else the SDK's default.
	if l := d.AWS.Lambda; l != nil {
		id := l.ID()
		region, err := a.region(id.Region)
		if err != nil {
			return nil, err
		}
		id.Region = region
		c := client(a, "lambda", region, func(o func(*lambda.Options)) *lambda.Client { return lambda.NewFromConfig(a.cfg, o) },
			func(o *lambda.Options) { o.Region = region })
		ts = append(ts, &lambdaTarget{api: c, function: l.FunctionRef(), region: region, aws: a, id: id})
	}
	if e := d.AWS.ECS; e != nil {
		id := e.ID()
		region, err := a.region(id.Region)
		if err != nil {
			return nil, err
		}
		id.Region = region
		c := client(a, "ecs", region, func(o func(*ecs.Options)) *ecs.Client { return ecs.NewFromConfig(a.cfg, o) },
			func(o *ecs.Options) { o.Region = region })
		ts = append(ts, &ecsTarget{api: c, cluster: e.Cluster, service: e.Service, container: e.Container, region: region, id: id})
	}
	if s := d.AWS.SSM; s != nil {
		id := s.ID()
		region, err := a.region(id.Region)
		if err != nil {
			return nil, err
		}
		id.Region = region
		c := client(a, "ssm", region, func(o func(*ssm.Options)) *ssm.Client { return ssm.NewFromConfig(a.cfg, o) },
			func(o *ssm.Options) { o.Region = region })
		t := newSSMTarget(c, s.Path, s.KMSKeyID, region)
		t.id, t.pathErr = id, config.ValidateSSMPath(s.Path)
		ts = append(ts, t)
	}
	return ts, nil
}

func (a *AWS) region(r string) (string, error) {
	if r != "" {
		return r, nil
	}
	if a.cfg.Region != "" {
		return a.cfg.Region, nil
	}
	return "", errors.New("no AWS region: set region in the target, or AWS_REGION")
}

// client returns the shared client of service in region, making it on first use.
func client[C any, O any](a *AWS, service, region string, newClient func(func(*O)) C, opt func(*O)) C {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := service + "/" + region
	if c, ok := a.clients[key]; ok {
		return c.(C)
	}
	c := newClient(opt)
	a.clients[key] = c
	return c
}

// apiErrorCode is the AWS error code of err, or "".
func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// splitNames reads a managed-keys record: names joined by commas.
func splitNames(record string) []string {
	var names []string
	for n := range strings.SplitSeq(record, ",") {
		if n != "" {
			names = append(names, n)
		}
	}
	return names
}
