package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SSM's limits for standard-tier parameters.
const (
	ssmMaxValue       = 4096
	ssmMaxName        = 1011
	ssmMaxLevels      = 15
	ssmMaxPageResults = 10
)

var ssmNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_./-]+$`)

type ssmState struct {
	account string
	mu      sync.Mutex
	params  map[string]*ssmParameter // region/name → parameter
}

type ssmParameter struct {
	name, typ, value, keyID string
	version                 int64
	modified                time.Time
}

func newSSMState(account string) *ssmState {
	return &ssmState{account: account, params: map[string]*ssmParameter{}}
}

// PutParameter writes a parameter in region as someone other than kazzle would.
func (s *Server) PutParameter(region, name, typ, value string) error {
	body, _ := json.Marshal(map[string]any{"Name": name, "Type": typ, "Value": value, "Overwrite": true})
	_, err := s.ssm.call(s, s.regionOr(region), "PutParameter", body)
	return err
}

// Parameter returns a parameter's decrypted value and type.
func (s *Server) Parameter(region, name string) (value, typ string, ok bool) {
	st := s.ssm
	st.mu.Lock()
	defer st.mu.Unlock()
	p := st.params[s.regionOr(region)+"/"+name]
	if p == nil {
		return "", "", false
	}
	return p.value, p.typ, true
}

func ssmInvalid(format string, args ...any) error {
	return errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

// checkSSMName applies SSM's naming rules for a parameter.
func checkSSMName(name string) error {
	lower := strings.ToLower(strings.TrimPrefix(name, "/"))
	switch {
	case name == "" || len(name) > ssmMaxName:
		return ssmInvalid("Parameter name must be 1 to %d characters", ssmMaxName)
	case !ssmNamePattern.MatchString(name):
		return ssmInvalid("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
	case strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm"):
		return ssmInvalid("No access to reserved parameter name: %s.", name)
	case strings.Count(name, "/") > ssmMaxLevels:
		return errorf(http.StatusBadRequest, "HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of %d levels.", ssmMaxLevels)
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return ssmInvalid("Parameter name must be a fully qualified name.")
	}
	return nil
}

func (st *ssmState) call(s *Server, region, op string, body []byte) (any, error) {
	var in struct {
		Name, Value, Type, KeyId, Path, NextToken, Tier string
		Names                                           []string
		Overwrite, Recursive, WithDecryption            bool
		MaxResults                                      int
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "request body is not valid JSON")
	}
	switch op {
	case "PutParameter":
		if err := checkSSMName(in.Name); err != nil {
			return nil, err
		}
		if in.Value == "" || len(in.Value) > ssmMaxValue {
			return nil, ssmInvalid("Standard tier parameters support a maximum parameter value of %d characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.", ssmMaxValue)
		}
		if !slices.Contains([]string{"String", "StringList", "SecureString"}, in.Type) {
			return nil, ssmInvalid("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]", in.Type)
		}
		if in.KeyId != "" {
			if in.Type != "SecureString" {
				return nil, ssmInvalid("KeyId is required for SecureString type parameter only.")
			}
			if in.KeyId != "alias/aws/ssm" {
				if _, err := s.kms.usable(s, in.KeyId); err != nil {
					return nil, errorf(http.StatusBadRequest, "InvalidKeyId", "Invalid KeyId: %s", in.KeyId)
				}
			}
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		p := st.params[region+"/"+in.Name]
		if p != nil && !in.Overwrite {
			return nil, errorf(http.StatusBadRequest, "ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
		}
		if p == nil {
			p = &ssmParameter{name: in.Name}
			st.params[region+"/"+in.Name] = p
		}
		p.typ, p.value, p.keyID = in.Type, in.Value, in.KeyId
		p.version++
		p.modified = s.opts.Now()
		return map[string]any{"Version": p.version, "Tier": "Standard"}, nil
	case "GetParametersByPath":
		if !strings.HasPrefix(in.Path, "/") {
			return nil, ssmInvalid("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\".")
		}
		limit := in.MaxResults
		if limit == 0 {
			limit = ssmMaxPageResults
		}
		if limit < 1 || limit > ssmMaxPageResults {
			return nil, ssmInvalid("1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", limit, ssmMaxPageResults)
		}
		start := 0
		if in.NextToken != "" {
			n, err := strconv.Atoi(in.NextToken)
			if err != nil || n < 0 {
				return nil, errorf(http.StatusBadRequest, "InvalidNextToken", "The specified token isn't valid.")
			}
			start = n
		}
		prefix := strings.TrimSuffix(in.Path, "/") + "/"
		st.mu.Lock()
		defer st.mu.Unlock()
		var names []string
		for key, p := range st.params {
			if !strings.HasPrefix(key, region+"/") || !strings.HasPrefix(p.name, prefix) {
				continue
			}
			if !in.Recursive && strings.Contains(p.name[len(prefix):], "/") {
				continue
			}
			names = append(names, p.name)
		}
		slices.Sort(names)
		page := []any{}
		for i := start; i < len(names) && i < start+limit; i++ {
			page = append(page, st.params[region+"/"+names[i]].describe(region, st.account, in.WithDecryption))
		}
		out := map[string]any{"Parameters": page}
		if start+limit < len(names) {
			out["NextToken"] = strconv.Itoa(start + limit)
		}
		return out, nil
	case "DeleteParameters":
		if len(in.Names) == 0 || len(in.Names) > 10 {
			return nil, ssmInvalid("1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10")
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		deleted, invalid := []string{}, []string{}
		for _, n := range in.Names {
			if st.params[region+"/"+n] == nil {
				invalid = append(invalid, n)
				continue
			}
			delete(st.params, region+"/"+n)
			deleted = append(deleted, n)
		}
		return map[string]any{"DeletedParameters": deleted, "InvalidParameters": invalid}, nil
	}
	return nil, errorf(http.StatusBadRequest, "UnknownOperationException", "awsfake SSM does not serve %s", op)
}

func (p *ssmParameter) describe(region, account string, decrypt bool) map[string]any {
	value := p.value
	if p.typ == "SecureString" && !decrypt {
		// What AWS returns is a KMS ciphertext; any opaque text will do for a client.
		value = base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("kms:%s:%d", p.keyID, p.version)))
	}
	return map[string]any{
		"Name": p.name, "Type": p.typ, "Value": value, "Version": p.version, "DataType": "text",
		"LastModifiedDate": float64(p.modified.UnixMilli()) / 1000,
		"ARN":              fmt.Sprintf("arn:aws:ssm:%s:%s:parameter/%s", region, account, strings.TrimPrefix(p.name, "/")),
	}
}
