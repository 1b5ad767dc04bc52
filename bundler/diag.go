package bundler

import (
	"path/filepath"
	"strings"

	"github.com/evanw/esbuild/pkg/api"
	"github.com/kazzle/kazzle/config"
)

// BuildError is a build esbuild refused, with each of its errors located in the
// project's sources, as config.Message locates a configuration's problems.
type BuildError struct {
	// Entry is Options.Entry of the build.
	Entry    string
	Messages []config.Message
}

func (e *BuildError) Error() string {
	lines := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		lines[i] = m.String()
	}
	return "build " + e.Entry + ":\n" + strings.Join(lines, "\n")
}

// messages turns esbuild's messages into located ones, their files relative to the
// project folder dir, in slashes, when they lie inside it.
func messages(dir string, msgs []api.Message) []config.Message {
	if len(msgs) == 0 {
		return nil
	}
	out := make([]config.Message, len(msgs))
	for i, e := range msgs {
		out[i] = message(dir, e)
	}
	return out
}

func message(dir string, e api.Message) config.Message {
	m := config.Message{Text: e.Text}
	if e.Location == nil {
		return m
	}
	file := e.Location.File
	if rel, err := filepath.Rel(dir, file); err == nil && !strings.HasPrefix(rel, "..") {
		file = rel
	}
	m.File, m.Line, m.Column = filepath.ToSlash(file), e.Location.Line, e.Location.Column+1
	return m
}
