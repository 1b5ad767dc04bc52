package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrInUse means another process, such as a running server, has the database open.
var ErrInUse = errors.New("in use by another kazzle process")

// lockFile takes an exclusive lock on path+".lock" for as long as the store is open: one
// process serves an SQLite vault (several server replicas share PostgreSQL instead), and
// the store's in-memory caches rely on seeing every write. The kernel drops the lock when
// the process dies, however it dies.
//
// The lock sits beside the file a symbolic link points to, so that every path naming
// one database, a configuration's link included, finds the same lock.
func lockFile(path string) (*os.File, error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s is %w: one process serves an SQLite vault (use PostgreSQL for several server replicas)", path, ErrInUse)
	}
	return f, nil
}
