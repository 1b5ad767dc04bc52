package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrUntrustedConfig means a configuration file was found that kazzle will not evaluate:
// it belongs to another user, or others may write it. Evaluating it would run what they
// wrote, with this user's API key at hand.
var ErrUntrustedConfig = errors.New("not evaluated")

// locator walks from a folder up to its project's configuration. Its stat and uid are
// the system's, but for tests.
type locator struct {
	stat func(string) (fs.FileInfo, error)
	uid  int
	home string
}

func systemLocator() locator {
	home, _ := os.UserHomeDir()
	return locator{stat: os.Stat, uid: os.Geteuid(), home: home}
}

// Locate finds the project configuration for start: in start or its nearest parent
// that has one. The walk stops at a folder that holds .git (the repository's top), at
// the home folder, and before a folder that does not belong to the user (such as /tmp
// or /home): what others can write there is not this user's project. It returns the
// folder the configuration is in, as start joined with a relative path ("..", "../.."),
// and the file's name. A configuration file that belongs to another user, or that group
// or others may write, is an ErrUntrustedConfig error: never evaluated.
func Locate(start string) (dir, file string, err error) {
	return systemLocator().locate(start)
}

func (l locator) locate(start string) (string, string, error) {
	abs, err := filepath.Abs(start)
	if err != nil {
		return "", "", err
	}
	home := ""
	if l.home != "" {
		home, _ = filepath.Abs(l.home)
	}
	dir, stop := abs, ""
	for {
		if dir != abs && !l.owned(dir) {
			stop = fmt.Sprintf(" (the search stops below %s, which belongs to another user)", dir)
			break
		}
		file, err := l.find(dir)
		if err == nil {
			if err := l.trusted(filepath.Join(dir, file)); err != nil {
				return "", "", err
			}
			rel, err := filepath.Rel(abs, dir)
			if err != nil {
				return "", "", err
			}
			return filepath.Join(start, rel), file, nil
		}
		if !errors.Is(err, ErrNoConfig) {
			return "", "", err
		}
		if _, err := l.stat(filepath.Join(dir, ".git")); err == nil {
			if dir != abs {
				stop = fmt.Sprintf(" (the search stops at %s, the top of its git repository)", dir)
			}
			break
		}
		if dir == home {
			if dir != abs {
				stop = fmt.Sprintf(" (the search stops at %s, the home folder)", dir)
			}
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	where := "in " + start
	if dir != abs {
		where += " or its parents"
	}
	return "", "", fmt.Errorf("%w %s%s; kazzle init writes a starter", ErrNoConfig, where, stop)
}

// find is Find through l.stat.
func (l locator) find(dir string) (string, error) {
	var found []string
	for _, name := range ConfigFiles {
		if _, err := l.stat(filepath.Join(dir, name)); err == nil {
			found = append(found, name)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w in %s; kazzle init writes a starter", ErrNoConfig, dir)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("the project has both %s: keep one configuration file", strings.Join(found, " and "))
}

// owned says whether the folder belongs to the user.
func (l locator) owned(dir string) bool {
	fi, err := l.stat(dir)
	if err != nil {
		return false
	}
	uid, ok := ownerOf(fi)
	return ok && uid == l.uid
}

// trusted refuses a configuration file of another user, or one that group or others may
// write: evaluating it would run their code as this user.
func (l locator) trusted(path string) error {
	fi, err := l.stat(path)
	if err != nil {
		return err
	}
	if uid, ok := ownerOf(fi); ok && uid != l.uid {
		return fmt.Errorf("%s belongs to user id %d, not to the user running kazzle (%d), so it is %w: it could run anything as you; if you trust what it holds, put a copy of your own in its place",
			path, uid, l.uid, ErrUntrustedConfig)
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s may be written by other users (mode %04o), so it is %w: anyone who can write it could run anything as you; run chmod go-w %s",
			path, perm, ErrUntrustedConfig, path)
	}
	return nil
}

// ownerOf returns the user id that owns fi, where the system says.
func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
