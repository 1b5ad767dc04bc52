package deployer

import (
	"errors"

	"github.com/kazzle/kazzle/redact"
)

// replacements redacts each value of vars in the encodings redact.EncodedForms
// lists: AWS echoes values in some error messages, inside JSON (Lambda's 4 KB error).
func replacements(vars map[string]string) []redact.Replacement {
	var reps []redact.Replacement
	for name, v := range vars {
		reps = append(reps, redact.EncodedReplacements(v, "[value of "+name+"]")...)
	}
	return reps
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

func redactErr(err error, reps []redact.Replacement) error {
	if err == nil {
		return nil
	}
	return &redactedError{msg: redact.Redact(err.Error(), reps), changed: errors.Is(err, ErrChanged)}
}
