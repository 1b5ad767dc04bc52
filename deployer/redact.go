package deployer

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/kazzle/kazzle/resolver"
)

// replacements redacts each value of vars as it is and as a JSON string spells it:
// AWS echoes values in some error messages, inside JSON (Lambda's 4 KB error).
func replacements(vars map[string]string) []resolver.Replacement {
	reps := make([]resolver.Replacement, 0, 2*len(vars))
	for name, v := range vars {
		with := "[value of " + name + "]"
		reps = append(reps, resolver.Replacement{Value: v, With: with})
		quoted, _ := json.Marshal(v)
		escaped := string(quoted[1 : len(quoted)-1])
		if escaped != v {
			reps = append(reps, resolver.Replacement{Value: escaped, With: with})
		}
		if html := htmlUnescaped(escaped); html != escaped {
			reps = append(reps, resolver.Replacement{Value: html, With: with})
		}
	}
	return reps
}

// htmlUnescaped undoes encoding/json's \u003c-style escapes, which other JSON encoders
// (AWS's among them) do not make.
func htmlUnescaped(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\u2028`, "\u2028", `\u2029`, "\u2029").Replace(s)
}

// redactedError is an error whose text has had every value replaced. It keeps only
// ErrChanged of the chain: the original errors still hold the values.
type redactedError struct {
	msg     string
	changed bool
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error {
	if e.changed {
		return ErrChanged
	}
	return nil
}

func redactErr(err error, reps []resolver.Replacement) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: resolver.Redact(err.Error(), reps), changed: errors.Is(err, ErrChanged)}
}
