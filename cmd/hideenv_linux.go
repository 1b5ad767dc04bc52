package cmd

import "golang.org/x/sys/unix"

// hideEnviron makes this process non-dumpable: its /proc files, environ among them,
// then belong to root, and other processes of the same user cannot read them.
func hideEnviron() error { return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) }
