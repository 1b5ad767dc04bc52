package resolver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kazzle/kazzle/secret"
)

// Caps on what expanding references may build. A reference is some fifty bytes and may
// stand for a whole field, so a few kilobytes of nested references could otherwise
// stand for gigabytes. Each cap is checked before the value that would pass it is built.
const (
	// MaxExpandedField caps one field with its references expanded: as much as a stored
	// field may hold.
	MaxExpandedField = secret.MaxFieldSize
	// MaxExpandedTotal caps what one request expands in all: the values of a resolve,
	// or the texts of one substitution.
	MaxExpandedTotal = 1 << 20
)

// ErrExpansionTooLarge means references would expand a value, or a request's values
// together, past MaxExpandedField or MaxExpandedTotal.
var ErrExpansionTooLarge = errors.New("references expand past the size limit")

// ExpansionError names what expanding references would have made too large, and the limit.
type ExpansionError struct {
	// Where is the field (NAME.field) or text whose expansion passed Limit.
	Where string
	Limit int
	// Total is set when the request's values together passed the limit, not one of them.
	Total bool
}

func (e *ExpansionError) Error() string {
	if e.Total {
		return fmt.Sprintf("%s: the expanded values of one request total more than %d bytes, the limit; ask for fewer secrets or reference smaller values", e.Where, e.Limit)
	}
	return fmt.Sprintf("%s: its references expand to more than %d bytes, the limit of an expanded field; reference smaller values or fewer of them", e.Where, e.Limit)
}

// Unwrap lets errors.Is match ErrExpansionTooLarge.
func (e *ExpansionError) Unwrap() error { return ErrExpansionTooLarge }

// errOverCap is what joining parts reports when they would pass its room; callers turn
// it into an ExpansionError that names their field and limit.
var errOverCap = errors.New("over the cap")

// joinWithin concatenates vals, or returns errOverCap without building anything when
// they would be longer than room.
func joinWithin(vals []string, room int) (string, error) {
	n := 0
	for _, v := range vals {
		if n += len(v); n > room {
			return "", errOverCap
		}
	}
	if len(vals) == 1 {
		return vals[0], nil
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range vals {
		b.WriteString(v)
	}
	return b.String(), nil
}
