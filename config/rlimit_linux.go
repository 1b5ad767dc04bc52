package config

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// limitAddressSpace caps the evaluator's address space at what it maps now plus limit
// and some room for the Go runtime, so that one huge allocation fails in this process
// (a fatal out-of-memory error, which the parent reports) instead of swapping the machine.
// The garbage collector is told the same limit, so garbage does not count against it.
func limitAddressSpace(limit int64) error {
	if limit <= 0 {
		return nil
	}
	debug.SetMemoryLimit(limit)
	if raceEnabled {
		return nil
	}
	now, err := mappedBytes()
	if err != nil {
		return err
	}
	const runtimeRoom = 256 << 20
	max := uint64(now) + uint64(limit) + runtimeRoom
	return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: max, Max: max})
}

// mappedBytes reads VmSize from /proc/self/status.
func mappedBytes() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmSize:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, sc.Err()
}
