package mcp

import (
	"context"
	"strings"
)

// rotation says, for an update, which components of the project's config declare the
// secret, and what the assistant should do next: the new version reaches them on the
// next deploy, and a provider that checks the value (a database, an API) may need it too.
func (t *tools) rotation(ctx context.Context, name, collection string, changesValues bool) ([]string, string) {
	if !changesValues {
		return nil, ""
	}
	var declared []string
	if t.o.Declaring != nil {
		declared = t.o.Declaring(ctx, collection, name)
	}
	next := "The secret keeps its id and references; its new version is what they resolve to from now on. " +
		"If a provider checks this value (a database user's password, an API's webhook secret), it needs the new value too: " +
		"set it there with run_command or http_request and the reference."
	if len(declared) > 0 {
		next += " The project's config declares it in " + strings.Join(declared, ", ") + ": run `kazzle deploy --plan` to see what a deploy would change, then `kazzle deploy`."
	}
	return declared, next
}
