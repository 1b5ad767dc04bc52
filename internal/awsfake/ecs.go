package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// ecsState holds task definitions as the JSON objects they were registered with, so
// that every field a client sends comes back unchanged, and services pointing at them.
type ecsState struct {
	account  string
	mu       sync.Mutex
	families map[string][]map[string]any // region/family → revisions, 1-based by index+1
	tags     map[string][]any            // task definition ARN → tags
	services map[string]*ecsService      // region/cluster/service → service
}

type ecsService struct {
	name, cluster, arn string
	taskDefinition     string // ARN
}

func newECSState(account string) *ecsState {
	return &ecsState{account: account, families: map[string][]map[string]any{}, tags: map[string][]any{}, services: map[string]*ecsService{}}
}

// PutService registers taskDefinition (a RegisterTaskDefinition request as JSON) and
// creates or repoints the service cluster/service in region at the new revision, as a
// deployment by someone else would. It returns the task definition ARN.
func (s *Server) PutService(region, cluster, service string, taskDefinition map[string]any) (string, error) {
	region = s.regionOr(region)
	body, err := json.Marshal(taskDefinition)
	if err != nil {
		return "", err
	}
	out, err := s.ecs.call(region, "RegisterTaskDefinition", body)
	if err != nil {
		return "", err
	}
	arn := out.(map[string]any)["taskDefinition"].(map[string]any)["taskDefinitionArn"].(string)
	st := s.ecs
	st.mu.Lock()
	defer st.mu.Unlock()
	st.services[region+"/"+cluster+"/"+service] = &ecsService{name: service, cluster: cluster,
		arn:            fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", region, st.account, cluster, service),
		taskDefinition: arn}
	return arn, nil
}

// ServiceTaskDefinition returns the task definition a service runs, as DescribeTaskDefinition
// returns it.
func (s *Server) ServiceTaskDefinition(region, cluster, service string) (map[string]any, bool) {
	region = s.regionOr(region)
	st := s.ecs
	st.mu.Lock()
	defer st.mu.Unlock()
	svc := st.services[region+"/"+cluster+"/"+service]
	if svc == nil {
		return nil, false
	}
	td, err := st.taskDefinitionLocked(region, svc.taskDefinition)
	return td, err == nil
}

func ecsInvalid(format string, args ...any) error {
	return errorf(http.StatusBadRequest, "ClientException", format, args...)
}

// taskDefinitionLocked finds a revision by ARN, family:revision or family (the latest).
func (st *ecsState) taskDefinitionLocked(region, ref string) (map[string]any, error) {
	family, rev := ref, 0
	if strings.HasPrefix(ref, "arn:") {
		_, family, _ = strings.Cut(ref, ":task-definition/")
	}
	if f, r, ok := strings.Cut(family, ":"); ok {
		family = f
		fmt.Sscan(r, &rev)
	}
	revs := st.families[region+"/"+family]
	if rev == 0 {
		rev = len(revs)
	}
	if rev < 1 || rev > len(revs) {
		return nil, ecsInvalid("Unable to describe task definition.")
	}
	return revs[rev-1], nil
}

func (st *ecsState) call(region, op string, body []byte) (any, error) {
	var in map[string]any
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "request body is not valid JSON")
	}
	str := func(k string) string { v, _ := in[k].(string); return v }
	st.mu.Lock()
	defer st.mu.Unlock()
	account := st.account
	switch op {
	case "RegisterTaskDefinition":
		family := str("family")
		if family == "" {
			return nil, ecsInvalid("Family is required.")
		}
		if defs, _ := in["containerDefinitions"].([]any); len(defs) == 0 {
			return nil, ecsInvalid("Container list cannot be empty.")
		}
		td := map[string]any{}
		for k, v := range in {
			if k != "tags" {
				td[k] = v
			}
		}
		key := region + "/" + family
		rev := len(st.families[key]) + 1
		td["revision"] = rev
		td["status"] = "ACTIVE"
		td["taskDefinitionArn"] = fmt.Sprintf("arn:aws:ecs:%s:%s:task-definition/%s:%d", region, account, family, rev)
		st.families[key] = append(st.families[key], td)
		tags, _ := in["tags"].([]any)
		st.tags[td["taskDefinitionArn"].(string)] = tags
		return map[string]any{"taskDefinition": td, "tags": tags}, nil
	case "DescribeTaskDefinition":
		td, err := st.taskDefinitionLocked(region, str("taskDefinition"))
		if err != nil {
			return nil, err
		}
		out := map[string]any{"taskDefinition": td}
		if include, _ := in["include"].([]any); len(include) > 0 && include[0] == "TAGS" {
			out["tags"] = st.tags[td["taskDefinitionArn"].(string)]
		}
		return out, nil
	case "DescribeServices":
		cluster := clusterName(str("cluster"))
		names, _ := in["services"].([]any)
		services, failures := []any{}, []any{}
		for _, n := range names {
			name, _ := n.(string)
			svc := st.services[region+"/"+cluster+"/"+serviceName(name)]
			if svc == nil {
				failures = append(failures, map[string]any{"arn": name, "reason": "MISSING"})
				continue
			}
			services = append(services, svc.describe(region, account))
		}
		return map[string]any{"services": services, "failures": failures}, nil
	case "UpdateService":
		cluster := clusterName(str("cluster"))
		svc := st.services[region+"/"+cluster+"/"+serviceName(str("service"))]
		if svc == nil {
			return nil, errorf(http.StatusBadRequest, "ServiceNotFoundException", "Service not found.")
		}
		if ref := str("taskDefinition"); ref != "" {
			td, err := st.taskDefinitionLocked(region, ref)
			if err != nil {
				return nil, err
			}
			svc.taskDefinition = td["taskDefinitionArn"].(string)
		}
		return map[string]any{"service": svc.describe(region, account)}, nil
	}
	return nil, errorf(http.StatusBadRequest, "UnknownOperationException", "awsfake ECS does not serve %s", op)
}

func (svc *ecsService) describe(region, account string) map[string]any {
	return map[string]any{
		"serviceName": svc.name, "serviceArn": svc.arn, "status": "ACTIVE",
		"clusterArn":     fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, account, svc.cluster),
		"taskDefinition": svc.taskDefinition,
		"deployments":    []any{map[string]any{"status": "PRIMARY", "taskDefinition": svc.taskDefinition, "rolloutState": "COMPLETED"}},
	}
}

// clusterName and serviceName accept names or ARNs, as ECS does.
func clusterName(ref string) string {
	if ref == "" {
		return "default"
	}
	if _, name, ok := strings.Cut(ref, ":cluster/"); ok {
		return name
	}
	return ref
}

func serviceName(ref string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref[strings.LastIndex(ref, "/")+1:]
	}
	return ref
}
