package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/kazzle/kazzle/vault"
)

// maxKeyFileSize bounds a key file: it holds one key of a few dozen characters.
const maxKeyFileSize = 4 << 10

// apiKey is the key a command uses and where it came from, for messages.
type apiKey struct {
	value string
	from  string // "--api-key-file", "KAZZLE_API_KEY_FILE", "KAZZLE_API_KEY" or "OIDC"; "" when there is none
	file  string // the key file's path, when it came from one
	// oidc, when there is no key but the environment offers an identity token, exchanges
	// it for a key at the first request.
	oidc *oidcSignIn
}

// apiKey reads the API key: from the file flagFile names, else from the file
// KAZZLE_API_KEY_FILE names, else from KAZZLE_API_KEY. A file beats the variable so that
// a key kept out of the environment is the one used wherever both are set. Without any,
// a CI job's identity token stands for one (oidcWanted); nothing is fetched until a
// request needs the key.
func (c *cli) apiKey(flagFile string) (apiKey, error) {
	key, err := c.storedKey(flagFile)
	if err == nil && key.value == "" && c.oidcWanted() {
		key = apiKey{from: "OIDC", oidc: &oidcSignIn{getenv: c.getenv}}
	}
	return key, err
}

// storedKey is the key of a file or of KAZZLE_API_KEY, as apiKey reads it.
func (c *cli) storedKey(flagFile string) (apiKey, error) {
	from, path := "--api-key-file", flagFile
	if path == "" {
		from, path = "KAZZLE_API_KEY_FILE", c.getenv("KAZZLE_API_KEY_FILE")
	}
	if path == "" {
		if v := c.getenv("KAZZLE_API_KEY"); v != "" {
			return apiKey{value: v, from: "KAZZLE_API_KEY"}, nil
		}
		return apiKey{}, nil
	}
	key, err := readKeyFile(path)
	if err != nil {
		return apiKey{}, fmt.Errorf("%s: %w", from, err)
	}
	return apiKey{value: key, from: from, file: path}, nil
}

// readKeyFile reads an API key from path, which must be a regular file (not a symbolic
// link, FIFO or device) of this user that no one else may read or write. The checks are
// made on the opened file, so that the path cannot be swapped between check and read.
// No error holds the file's content.
func readKeyFile(path string) (string, error) {
	// O_NONBLOCK: opening a FIFO does not wait for a writer; it is then refused.
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EMLINK) {
			return "", fmt.Errorf("API key file %s is a symbolic link: name the file itself", path)
		}
		return "", &os.PathError{Op: "open API key file", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", fmt.Errorf("stat API key file %s: %w", path, err)
	}
	if err := checkKeyFile(path, keyFileStat{mode: uint32(st.Mode), uid: st.Uid, size: st.Size}, os.Geteuid()); err != nil {
		return "", err
	}
	// The limit holds for a file that grows after the stat too.
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return "", fmt.Errorf("read API key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return "", fmt.Errorf("API key file %s is larger than %d bytes: it should hold only the API key", path, maxKeyFileSize)
	}
	key := strings.TrimSpace(string(data))
	switch {
	case key == "":
		return "", fmt.Errorf("API key file %s is empty: put the API key (kzl_…) in it", path)
	case !looksLikeKey(key):
		return "", fmt.Errorf("API key file %s does not hold a kazzle API key (kzl_ and letters and digits, on one line)", path)
	}
	return key, nil
}

// keyFileStat is what checkKeyFile needs of a file's status.
type keyFileStat struct {
	mode uint32 // st_mode: type and permission bits
	uid  uint32
	size int64
}

// checkKeyFile refuses a key file that is not a regular file, belongs to another user
// than uid, or that others may read or write.
func checkKeyFile(path string, st keyFileStat, uid int) error {
	if t := st.mode & unix.S_IFMT; t != unix.S_IFREG {
		return fmt.Errorf("API key file %s is %s, not a regular file: name a file that holds the key", path, fileKind(t))
	}
	if int64(st.uid) != int64(uid) {
		return fmt.Errorf("API key file %s belongs to user id %d, not to the user running kazzle (%d): create it as this user, with mode 600", path, st.uid, uid)
	}
	if perm := st.mode & 0o777; perm&0o077 != 0 {
		return fmt.Errorf("API key file %s may be read or written by other users (mode %04o): run chmod 600 %s", path, perm, path)
	}
	if st.size > maxKeyFileSize {
		return fmt.Errorf("API key file %s is larger than %d bytes: it should hold only the API key", path, maxKeyFileSize)
	}
	return nil
}

func fileKind(t uint32) string {
	switch t {
	case unix.S_IFDIR:
		return "a directory"
	case unix.S_IFLNK:
		return "a symbolic link"
	case unix.S_IFIFO:
		return "a named pipe"
	case unix.S_IFCHR, unix.S_IFBLK:
		return "a device"
	case unix.S_IFSOCK:
		return "a socket"
	}
	return "a special file"
}

// looksLikeKey says whether s has the shape of a kazzle API key: the prefix, then base62.
func looksLikeKey(s string) bool {
	rest, ok := strings.CutPrefix(s, vault.APIKeyPrefix)
	if !ok || rest == "" {
		return false
	}
	for _, r := range rest {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}
