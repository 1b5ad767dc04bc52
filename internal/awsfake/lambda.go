package awsfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Lambda speaks restJson1: the operation is the method and path under lambdaPrefix.
const lambdaPrefix = "/2015-03-31/functions/"

// lambdaEnvLimit is Lambda's limit on the environment: the JSON of the variables map.
const lambdaEnvLimit = 4096

var lambdaKeyPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]+$`)

// lambdaReserved are the keys the Lambda runtime sets; an update may not set them.
var lambdaReserved = []string{
	"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_DEFAULT_REGION",
	"AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_NAME",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
	"AWS_LAMBDA_LOG_STREAM_NAME", "AWS_LAMBDA_RUNTIME_API", "AWS_REGION", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "LAMBDA_RUNTIME_DIR", "LAMBDA_TASK_ROOT", "TZ",
}

type lambdaState struct {
	mu        sync.Mutex
	functions map[string]*lambdaFunction // region/name → function
}

type lambdaFunction struct {
	name, region, arn string
	vars              map[string]string
	revision          string
	modified          time.Time
	busyUntil         time.Time // LastUpdateStatus is InProgress until then
}

func newLambdaState() *lambdaState {
	return &lambdaState{functions: map[string]*lambdaFunction{}}
}

// PutFunction creates a Lambda function in region (the default region when empty) with
// the environment vars, or replaces an existing one's environment as a person in the
// console would: a new RevisionId, and no update in progress afterwards.
func (s *Server) PutFunction(region, name string, vars map[string]string) {
	region = s.regionOr(region)
	st := s.lambda
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.functions[region+"/"+name]
	if f == nil {
		f = &lambdaFunction{name: name, region: region,
			arn: fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", region, s.opts.Account, name)}
		st.functions[region+"/"+name] = f
	}
	f.vars = maps.Clone(vars)
	f.revision = uuid.NewString()
	f.modified = s.opts.Now()
	f.busyUntil = time.Time{}
}

// UpdateFunctionCode starts an update of a function's code, as a deploy by another tool
// would: a new RevisionId, the environment unchanged, and InProgress for UpdateDelay.
func (s *Server) UpdateFunctionCode(region, name string) {
	st := s.lambda
	st.mu.Lock()
	defer st.mu.Unlock()
	if f := st.functions[s.regionOr(region)+"/"+name]; f != nil {
		f.revision = uuid.NewString()
		f.modified = s.opts.Now()
		f.busyUntil = f.modified.Add(s.opts.UpdateDelay)
	}
}

// FunctionEnv returns a function's environment variables and its RevisionId; ok is false
// when there is no such function.
func (s *Server) FunctionEnv(region, name string) (vars map[string]string, revision string, ok bool) {
	st := s.lambda
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.functions[s.regionOr(region)+"/"+name]
	if f == nil {
		return nil, "", false
	}
	return maps.Clone(f.vars), f.revision, true
}

func (s *Server) regionOr(region string) string {
	if region == "" {
		return s.opts.Region
	}
	return region
}

// serveLambda routes GetFunction, GetFunctionConfiguration and
// UpdateFunctionConfiguration by method and path, as Lambda's restJson1 protocol does.
func (s *Server) serveLambda(w http.ResponseWriter, r *http.Request, body []byte) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), lambdaPrefix)
	escapedName, sub, _ := strings.Cut(rest, "/")
	name, err := url.PathUnescape(escapedName)
	var op string
	switch {
	case r.Method == http.MethodGet && sub == "":
		op = "GetFunction"
	case r.Method == http.MethodGet && sub == "configuration":
		op = "GetFunctionConfiguration"
	case r.Method == http.MethodPut && sub == "configuration":
		op = "UpdateFunctionConfiguration"
	default:
		writeRESTError(w, errorf(http.StatusBadRequest, "UnknownOperationException", "awsfake Lambda does not serve %s %s", r.Method, r.URL.Path))
		return
	}
	s.count("lambda:" + op)
	region, verr := s.verify(r, body, "lambda")
	if verr != nil {
		writeRESTError(w, verr)
		return
	}
	if err != nil || name == "" {
		writeRESTError(w, errorf(http.StatusBadRequest, "ValidationException", "function name is malformed"))
		return
	}
	out, cerr := s.lambda.call(s, region, op, functionName(name), body)
	s.runHooks("lambda:" + op)
	if cerr != nil {
		writeRESTError(w, cerr)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// functionName accepts a name or an ARN, as Lambda does.
func functionName(nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		parts := strings.Split(nameOrARN, ":")
		if len(parts) >= 7 {
			return parts[6]
		}
	}
	return nameOrARN
}

func (st *lambdaState) call(s *Server, region, op, name string, body []byte) (any, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := st.functions[region+"/"+name]
	if f == nil {
		return nil, errorf(http.StatusNotFound, "ResourceNotFoundException",
			"Function not found: arn:aws:lambda:%s:%s:function:%s", region, s.opts.Account, name)
	}
	now := s.opts.Now()
	switch op {
	case "GetFunction":
		return map[string]any{"Configuration": f.configuration(now),
			"Code": map[string]string{"RepositoryType": "S3"}}, nil
	case "GetFunctionConfiguration":
		return f.configuration(now), nil
	}
	var in struct {
		Environment *struct{ Variables map[string]string }
		RevisionId  *string
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		return nil, errorf(http.StatusBadRequest, "InvalidRequestContentException", "Could not parse request body into json")
	}
	if now.Before(f.busyUntil) {
		return nil, errorf(http.StatusConflict, "ResourceConflictException",
			"The operation cannot be performed at this time. An update is in progress for resource: %s", f.arn)
	}
	if in.RevisionId != nil && *in.RevisionId != f.revision {
		return nil, errorf(http.StatusPreconditionFailed, "PreconditionFailedException",
			"The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	if in.Environment != nil {
		if err := checkLambdaEnv(in.Environment.Variables); err != nil {
			return nil, err
		}
		f.vars = in.Environment.Variables
	}
	f.revision = uuid.NewString()
	f.modified = now
	f.busyUntil = now.Add(s.opts.UpdateDelay)
	return f.configuration(now), nil
}

// checkLambdaEnv applies Lambda's rules, with its messages: the 4 KB one echoes every
// value, as AWS's does, so clients must redact it.
func checkLambdaEnv(vars map[string]string) error {
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		if !lambdaKeyPattern.MatchString(k) {
			return errorf(http.StatusBadRequest, "ValidationException",
				"1 validation error detected: Value at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")
		}
	}
	var reserved []string
	for k := range vars {
		if slices.Contains(lambdaReserved, k) {
			reserved = append(reserved, k)
		}
	}
	if len(reserved) > 0 {
		slices.Sort(reserved)
		return errorf(http.StatusBadRequest, "InvalidParameterValueException",
			"Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s", strings.Join(reserved, ","))
	}
	var measured bytes.Buffer
	enc := json.NewEncoder(&measured)
	enc.SetEscapeHTML(false)
	enc.Encode(vars)
	if n := measured.Len() - 1; n > lambdaEnvLimit { // Encode adds a newline
		return errorf(http.StatusBadRequest, "InvalidParameterValueException",
			"Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s", bytes.TrimSpace(measured.Bytes()))
	}
	return nil
}

func (f *lambdaFunction) configuration(now time.Time) map[string]any {
	status := "Successful"
	if now.Before(f.busyUntil) {
		status = "InProgress"
	}
	c := map[string]any{
		"FunctionName": f.name, "FunctionArn": f.arn, "Runtime": "nodejs22.x", "Handler": "index.handler",
		"Role":       fmt.Sprintf("arn:aws:iam::%s:role/%s", strings.Split(f.arn, ":")[4], f.name),
		"MemorySize": 128, "Timeout": 3, "Version": "$LATEST", "State": "Active",
		"LastModified": f.modified.UTC().Format("2006-01-02T15:04:05.000-0700"),
		"RevisionId":   f.revision, "LastUpdateStatus": status,
	}
	if f.vars != nil {
		c["Environment"] = map[string]any{"Variables": f.vars}
	}
	return c
}

// writeRESTError writes a restJson1 error: the code in X-Amzn-ErrorType, the message in
// the body.
func writeRESTError(w http.ResponseWriter, err error) {
	ae, ok := err.(*apiError)
	if !ok {
		ae = errorf(http.StatusInternalServerError, "ServiceException", "%v", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", ae.code)
	w.WriteHeader(ae.status)
	json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": ae.msg})
}
