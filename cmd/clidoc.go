package cmd

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// cliDoc is docs/cli.md: every command's help, from the tree itself. Flag defaults are
// those of an empty environment, with the home folder written as ~.
func cliDoc() []byte {
	getenv := func(k string) string {
		if k == "HOME" {
			return "~"
		}
		return ""
	}
	c := &cli{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard, getenv: getenv, environ: func() []string { return nil }}
	root := c.newRoot(nil)
	var b bytes.Buffer
	b.WriteString("<!-- Generated from the command tree by go test ./cmd -run TestCLIDoc -update; do not edit. -->\n\n")
	b.WriteString("# The kazzle command line\n\n")
	b.WriteString("```\n")
	writeHelp(&b, root)
	b.WriteString("```\n\nEvery command below prints the same with `--help`, or `kazzle help COMMAND`. A mistake in how\n" +
		"a command is called exits with status 2.\n")
	walk(root, func(cmd *cobra.Command) {
		if !cmd.HasParent() || cmd.Hidden || cmd.Name() == "help" {
			return
		}
		fmt.Fprintf(&b, "\n%s %s\n\n%s\n\n```\n", strings.Repeat("#", min(len(strings.Fields(cmd.CommandPath())), 3)), cmd.CommandPath(), cmd.Short)
		writeHelp(&b, cmd)
		b.WriteString("```\n")
	})
	return b.Bytes()
}
