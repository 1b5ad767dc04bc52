// Package awsfake is an AWS endpoint on loopback for tests and the demo. It speaks the
// real wire protocols (awsJson1_1 for KMS, ECS and SSM; restJson1 for Lambda), verifies
// the SigV4 signature of every request, keeps state per region, answers with AWS's error
// shapes, and counts calls per operation so tests can assert how many calls a workload
// made. Point an aws-sdk-go-v2 client at URL with BaseEndpoint and the static credentials
// of Credentials; any well-formed region is served, each with its own resources.
package awsfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Zero fields take the defaults below.
type Options struct {
	Region          string // default us-east-1
	Account         string // default 111122223333
	AccessKeyID     string // default AKIDKAZZLEFAKE
	SecretAccessKey string // default a fixed test secret
	// Now is the clock for signature freshness checks; default time.Now.
	Now func() time.Time
	// UpdateDelay is how long a Lambda function stays LastUpdateStatus InProgress after
	// an update, refusing other updates with ResourceConflictException; default 200ms.
	UpdateDelay time.Duration
}

// Server is a running fake AWS endpoint.
type Server struct {
	// URL is the endpoint, http://127.0.0.1:port.
	URL string

	opts Options
	ln   net.Listener
	srv  *http.Server

	mu     sync.Mutex
	calls  map[string]int
	hooks  map[string][]func()
	kms    *kmsState
	lambda *lambdaState
	ecs    *ecsState
	ssm    *ssmState
}

// Start listens on a free loopback port and serves until Close.
func Start(o Options) (*Server, error) {
	if o.Region == "" {
		o.Region = "us-east-1"
	}
	if o.Account == "" {
		o.Account = "111122223333"
	}
	if o.AccessKeyID == "" {
		o.AccessKeyID = "AKIDKAZZLEFAKE"
	}
	if o.SecretAccessKey == "" {
		o.SecretAccessKey = "kazzle-fake-secret-access-key"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.UpdateDelay == 0 {
		o.UpdateDelay = 200 * time.Millisecond
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("awsfake: listen: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), opts: o, ln: ln, calls: map[string]int{},
		kms: newKMSState(), lambda: newLambdaState(), ecs: newECSState(o.Account), ssm: newSSMState(o.Account)}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Region is the default region: the one the test helpers use when given none.
func (s *Server) Region() string { return s.opts.Region }

// Credentials returns the access key pair the server accepts.
func (s *Server) Credentials() (accessKeyID, secretAccessKey string) {
	return s.opts.AccessKeyID, s.opts.SecretAccessKey
}

// Calls reports how many requests an operation, such as "kms:Decrypt", has answered
// (including the ones it refused after the signature check).
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// ResetCalls zeroes every call counter.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
}

// OnCall runs f once, right after awsfake has carried out the next call of op (such as
// "ecs:UpdateService") and before it answers: what another client acting at that moment
// would do, such as a deploy by someone else.
func (s *Server) OnCall(op string, f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hooks == nil {
		s.hooks = map[string][]func(){}
	}
	s.hooks[op] = append(s.hooks[op], f)
}

// runHooks runs and forgets the hooks waiting for op.
func (s *Server) runHooks(op string) {
	s.mu.Lock()
	hooks := s.hooks[op]
	delete(s.hooks, op)
	s.mu.Unlock()
	for _, f := range hooks {
		f()
	}
}

func (s *Server) count(op string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
}

// apiError is an AWS error: its code goes to __type and X-Amzn-ErrorType.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

const maxBody = 1 << 20

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil || len(body) > maxBody {
		writeJSONError(w, errorf(http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException", "request body too large or unreadable"))
		return
	}
	if strings.HasPrefix(r.URL.Path, lambdaPrefix) {
		s.serveLambda(w, r, body)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	service, op, _ := strings.Cut(target, ".")
	var sigName, opPrefix string
	var call func(region, op string, body []byte) (any, error)
	switch service {
	case "TrentService":
		sigName, opPrefix = "kms", "kms:"
		call = func(_, op string, body []byte) (any, error) { return s.kms.call(s, op, body) }
	case "AmazonEC2ContainerServiceV20141113":
		sigName, opPrefix, call = "ecs", "ecs:", s.ecs.call
	case "AmazonSSM":
		sigName, opPrefix = "ssm", "ssm:"
		call = func(region, op string, body []byte) (any, error) { return s.ssm.call(s, region, op, body) }
	default:
		writeJSONError(w, errorf(http.StatusBadRequest, "UnknownOperationException", "awsfake does not serve %q", target))
		return
	}
	s.count(opPrefix + op)
	region, err := s.verify(r, body, sigName)
	if err != nil {
		writeJSONError(w, err)
		return
	}
	s.serveJSON(w, func() (any, error) {
		out, err := call(region, op, body)
		s.runHooks(opPrefix + op)
		return out, err
	})
}

// serveJSON writes an awsJson1_1 response.
func (s *Server) serveJSON(w http.ResponseWriter, call func() (any, error)) {
	out, err := call()
	if err != nil {
		writeJSONError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(out)
}

func writeJSONError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = errorf(http.StatusInternalServerError, "InternalFailure", "%v", err)
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", ae.code)
	w.WriteHeader(ae.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": ae.code, "message": ae.msg})
}
