package config

import (
	"fmt"
	"strings"
)

// Message is one problem found in a configuration file. File, Line and Column say where,
// when that can be known (Line and Column count from 1; 0 means unknown); Path names the
// configuration value it is about, such as components.web.secrets[2], when there is one.
type Message struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
	Path   string `json:"path,omitempty"`
	Text   string `json:"text"`

	// find is text whose one occurrence in the sources locates the message: a quoted
	// string value, or with findKey, an object key.
	find    string
	findKey bool
}

func (m Message) String() string {
	var b strings.Builder
	if m.File != "" {
		b.WriteString(m.File)
		if m.Line > 0 {
			fmt.Fprintf(&b, ":%d", m.Line)
			if m.Column > 0 {
				fmt.Fprintf(&b, ":%d", m.Column)
			}
		}
		b.WriteString(": ")
	}
	if m.Path != "" {
		b.WriteString(m.Path)
		b.WriteString(": ")
	}
	b.WriteString(m.Text)
	return b.String()
}

// Error is a configuration that could not be loaded, with every problem found.
type Error struct {
	Messages []Message
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		lines[i] = m.String()
	}
	return strings.Join(lines, "\n")
}

func errorOf(msgs ...Message) error { return &Error{Messages: msgs} }
