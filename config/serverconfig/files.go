package serverconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// CheckFiles refuses, before the server opens anything, files whose permissions let
// other users take the vault:
//   - a tls_key_file readable by group or others (mode & 0o077), which would hand them
//     the server's identity, as ssh refuses such a private key;
//   - a data folder (the folder of the sqlite path, and that of the local kms key_file)
//     writable by group or others (mode & 0o022), where they could swap the database or
//     the root key for their own, or plant a journal file beside them.
//
// A folder that does not exist yet passes: the server creates it with mode 0700.
func (s Config) CheckFiles() error {
	if !s.Listener.TLSDisable && s.Listener.TLSKeyFile != "" {
		path := s.Listener.TLSKeyFile
		fi, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("tls_key_file: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return fmt.Errorf("tls_key_file %s can be read by others (mode %04o): run chmod 600 %s", path, perm, path)
		}
	}
	var dirs []string
	if s.Storage.Type == "sqlite" && s.Storage.Path != "" {
		dirs = append(dirs, filepath.Dir(s.Storage.Path))
	}
	if s.KMS.Type == "local" && s.KMS.KeyFile != "" {
		dirs = append(dirs, filepath.Dir(s.KMS.KeyFile))
	}
	for _, dir := range dirs {
		fi, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("data folder: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o022 != 0 {
			return fmt.Errorf("data folder %s can be written by others (mode %04o): run chmod 700 %s", dir, perm, dir)
		}
	}
	return nil
}
