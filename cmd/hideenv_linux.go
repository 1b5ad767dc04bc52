package cmd

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// hideEnviron makes this process non-dumpable: its /proc files, environ among them,
// then belong to root, and other processes of the same user cannot read them.
func hideEnviron() error { return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) }

// scrubEnviron zeroes the variables names in the environment block the process started
// with, which /proc/<pid>/environ shows and os.Unsetenv leaves as it was: a reader that
// may still read that file (root, or a process with CAP_SYS_PTRACE) no longer finds them
// there. Call it before hideEnviron, which closes /proc/self/mem to this process too.
func scrubEnviron(names ...string) error {
	start, err := environStart()
	if err != nil {
		return err
	}
	block, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		return err
	}
	mem, err := os.OpenFile("/proc/self/mem", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer mem.Close()
	off := 0
	for _, entry := range bytes.Split(block, []byte{0}) {
		name, _, _ := bytes.Cut(entry, []byte("="))
		for _, n := range names {
			if string(name) == n {
				if _, err := mem.WriteAt(make([]byte, len(entry)), int64(start)+int64(off)); err != nil {
					return fmt.Errorf("zero %s in the process's environment block: %w", n, err)
				}
			}
		}
		off += len(entry) + 1
	}
	return nil
}

// environStart is the address of the environment block: env_start, field 50 of
// /proc/self/stat (Linux 3.5 and later).
func environStart() (uint64, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// Fields start at 3 after the command name, which is in parentheses and may hold anything.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/self/stat has no command name")
	}
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 50-2 {
		return 0, fmt.Errorf("/proc/self/stat has no env_start field")
	}
	return strconv.ParseUint(fields[50-3], 10, 64)
}
