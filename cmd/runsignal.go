package cmd

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwarded are the signals --redact passes on to the command.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// terminalSignals are those a terminal sends to its whole foreground process group:
// Ctrl-C, Ctrl-\ and a change of window size.
var terminalSignals = map[os.Signal]bool{syscall.SIGINT: true, syscall.SIGQUIT: true, syscall.SIGWINCH: true}

// signalFilter decides which signals kazzle passes on to the command it started in its
// own process group. The rule: a signal a terminal sends to its foreground group
// (SIGINT, SIGQUIT, SIGWINCH) is not forwarded while kazzle's group is the foreground
// group of its controlling terminal, since the command, in that group too, already got
// it, and a second Ctrl-C makes many tools quit without cleaning up. Otherwise, such as
// a kill -INT from a script or kazzle in the background, it is forwarded. SIGTERM,
// SIGHUP, SIGUSR1 and SIGUSR2 are always forwarded: they are sent to a process, not to
// a group, as a supervisor's SIGTERM is.
type signalFilter struct{ tty *os.File }

func newSignalFilter() *signalFilter {
	tty, err := os.OpenFile("/dev/tty", os.O_RDONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return &signalFilter{} // no controlling terminal: nothing reaches the group
	}
	return &signalFilter{tty: tty}
}

// forward says whether s must be sent on to the command.
func (f *signalFilter) forward(s os.Signal) bool {
	if !terminalSignals[s] || f.tty == nil {
		return true
	}
	fg, err := unix.IoctlGetInt(int(f.tty.Fd()), unix.TIOCGPGRP)
	return err != nil || fg != unix.Getpgrp()
}

func (f *signalFilter) close() {
	if f.tty != nil {
		f.tty.Close()
	}
}
