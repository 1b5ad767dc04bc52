package cmd

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// Questions to a person before a change that cannot be undone. Commands that deploy or
// delete ask on a terminal; without one (a script, CI) nobody can answer, so they need
// --yes instead of going on by themselves.

// stdinIsTerminal reports whether stdin is a terminal a person can answer on.
func (c *cli) stdinIsTerminal() bool {
	f, ok := c.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// mayAsk says whether a command that does what (a clause such as "kazzle deploy changes
// cloud resources") asks first: not with --yes, yes on a terminal. Without a terminal
// and --yes it cannot go on; the error says so, with advice (which names --yes).
func (c *cli) mayAsk(yes bool, what, advice string) (bool, error) {
	if yes {
		return false, nil
	}
	if c.stdinIsTerminal() {
		return true, nil
	}
	return false, usagef("%s and there is no terminal to confirm on: %s", what, advice)
}

// answer asks question on stderr and returns the line typed, trimmed.
func (c *cli) answer(question string) string {
	fmt.Fprint(c.stderr, question)
	line, _ := bufio.NewReader(c.stdin).ReadString('\n')
	return strings.TrimSpace(line)
}

// confirm asks a yes/no question; only y or yes (any case) is a yes.
func (c *cli) confirm(question string) bool {
	a := strings.ToLower(c.answer(question))
	return a == "y" || a == "yes"
}

// mayDelete is mayAsk for a command that deletes what (a noun phrase such as "a
// collection with its environments and secrets").
func (c *cli) mayDelete(yes bool, command, what string) (bool, error) {
	return c.mayAsk(yes, fmt.Sprintf("kazzle %s deletes %s for good", command, what), "pass --yes to delete it")
}

// confirmDeletion, when ask, says what is about to go and has the person type its name:
// a deletion is one slip of a finger away from the wrong one, so a y is not enough.
// Anything but the exact name cancels it, and nothing is changed.
func (c *cli) confirmDeletion(ask bool, what, name string) error {
	if !ask {
		return nil
	}
	if c.answer(fmt.Sprintf("%s\nType %s to confirm: ", what, name)) != name {
		return fmt.Errorf("cancelled: the answer was not %s, so nothing was changed", name)
	}
	return nil
}
