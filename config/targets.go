package config

import (
	"fmt"
	"strings"
)

// TargetID is the place in AWS a deploy target writes to, however the config spells it:
// names are taken out of ARNs, a Lambda qualifier is dropped (a function has one
// environment, its unpublished version's), and an SSM path always ends with "/".
// Two targets with equal IDs hold one environment, and two components deploying there
// would each remove the other's keys.
type TargetID struct {
	// Kind is "lambda function", "ecs container" or "ssm path".
	Kind string
	// Region and Account are "" when the spelling does not say: a name without region
	// is in the default region, a name without ARN is in the credentials' account.
	Region, Account string
	// Name is the function name, cluster/service, or the path.
	Name string
	// Container is the ECS container; "" for the other kinds.
	Container string
}

// Same reports whether a and b may be one place: everything known is equal, and a
// Region or Account that one of them leaves unknown matches any. Where the default
// region is unknown (a config check), a target without region may be any region's, so
// it is taken to be the other's: the safe answer for a check that refuses duplicates.
func (a TargetID) Same(b TargetID) bool {
	return a.Kind == b.Kind && a.Name == b.Name && a.Container == b.Container &&
		unknownOrEqual(a.Region, b.Region) && unknownOrEqual(a.Account, b.Account)
}

// SameService reports whether a and b are containers of one ECS service (perhaps the same
// container), by the rule of Same.
func (a TargetID) SameService(b TargetID) bool {
	a.Container, b.Container = "", ""
	return a.Kind == "ecs container" && a.Same(b)
}

func unknownOrEqual(a, b string) bool { return a == "" || b == "" || a == b }

func (a TargetID) String() string {
	s := a.Kind + " " + a.Name
	if a.Kind == "ecs container" {
		s = "ecs container " + a.Container + " of service " + a.Name
	}
	if a.Account != "" {
		s += " of account " + a.Account
	}
	return s + " in " + regionOr(a.Region)
}

// arnParts splits arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE; ok is false for
// anything else.
func arnParts(s string) (service, region, account, resource string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", "", "", "", false
	}
	return parts[2], parts[3], parts[4], parts[5], true
}

// FunctionRef is how to name the function in a call: its ARN without qualifier when
// the config gives an ARN (which keeps its account), its name otherwise.
func (l LambdaTarget) FunctionRef() string {
	if _, _, _, res, ok := arnParts(l.FunctionName); ok {
		name, _, _ := strings.Cut(strings.TrimPrefix(res, "function:"), ":")
		return strings.TrimSuffix(l.FunctionName, res) + "function:" + name
	}
	name, _, _ := strings.Cut(l.FunctionName, ":")
	return name
}

// ID is the function l names. Region is l.Region, else the ARN's.
func (l LambdaTarget) ID() TargetID {
	id := TargetID{Kind: "lambda function", Region: l.Region}
	ref := l.FunctionRef()
	if _, region, account, res, ok := arnParts(ref); ok {
		id.Account, id.Name = account, strings.TrimPrefix(res, "function:")
		if id.Region == "" {
			id.Region = region
		}
		return id
	}
	id.Name = ref
	return id
}

// regionConflict names a region of an ARN that disagrees with the target's region.
func regionConflict(region string, arns ...string) string {
	for _, a := range arns {
		if _, r, _, _, ok := arnParts(a); ok && r != "" {
			if region != "" && r != region {
				return fmt.Sprintf("%s is in region %s, but the target's region is %s: make them agree, or drop region", a, r, region)
			}
			region = r
		}
	}
	return ""
}

// ID is the container e names. Region is e.Region, else the region of an ARN given
// for the cluster or the service.
func (e ECSTarget) ID() TargetID {
	id := TargetID{Kind: "ecs container", Region: e.Region, Container: e.Container}
	cluster, service := e.Cluster, e.Service
	if _, region, account, res, ok := arnParts(cluster); ok {
		cluster = strings.TrimPrefix(res, "cluster/")
		id.Account = account
		if id.Region == "" {
			id.Region = region
		}
	}
	if _, region, account, res, ok := arnParts(service); ok {
		// service/CLUSTER/NAME, or the older service/NAME.
		service = res[strings.LastIndex(res, "/")+1:]
		if id.Account == "" {
			id.Account = account
		}
		if id.Region == "" {
			id.Region = region
		}
	}
	id.Name = cluster + "/" + service
	return id
}

// ID is the path s names.
func (s SSMTarget) ID() TargetID {
	return TargetID{Kind: "ssm path", Region: s.Region, Name: strings.TrimSuffix(s.Path, "/") + "/"}
}

// IDs returns the places d deploys to, with the config path of each, in the order
// lambda, ecs, ssm.
func (d *Deploy) IDs() (ids []TargetID, paths []string) {
	if d == nil || d.AWS == nil {
		return nil, nil
	}
	if l := d.AWS.Lambda; l != nil && l.FunctionName != "" {
		ids, paths = append(ids, l.ID()), append(paths, "lambda.functionName")
	}
	if e := d.AWS.ECS; e != nil && e.Service != "" {
		ids, paths = append(ids, e.ID()), append(paths, "ecs")
	}
	if s := d.AWS.SSM; s != nil && s.Path != "" {
		ids, paths = append(ids, s.ID()), append(paths, "ssm.path")
	}
	return ids, paths
}

// ValidateSSMPath checks an SSM parameter path: "/" then segments of letters, digits,
// _ . and -, with or without a final "/". A segment may not be empty, "." or "..", and
// "%" is refused outright: SSM takes names literally, so "/shop/../other/" is not
// /other/ to SSM, but reads as it to people and to IAM policies written by them.
func ValidateSSMPath(path string) error {
	if !strings.HasPrefix(path, "/") {
		return fmt.Errorf("ssm path %q is not a parameter path: start it with /, as /segment/segment/", path)
	}
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) > 1 && segs[len(segs)-1] == "" {
		segs = segs[:len(segs)-1] // the final "/"
	}
	for i, seg := range segs {
		switch {
		case seg == "":
			return fmt.Errorf("ssm path %q has an empty segment (segment %d): write each / once", path, i+1)
		case seg == "." || seg == "..":
			return fmt.Errorf("ssm path %q has a %q segment (segment %d): SSM does not resolve . or .., write the path without them", path, seg, i+1)
		case strings.Contains(seg, "%"):
			return fmt.Errorf("ssm path %q has a %% in segment %d: SSM does not decode percent-encoding, write the characters themselves", path, i+1)
		}
		for _, c := range seg {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
				return fmt.Errorf("ssm path %q has %q in segment %d: use letters, digits, _ . and -", path, c, i+1)
			}
		}
	}
	return nil
}
