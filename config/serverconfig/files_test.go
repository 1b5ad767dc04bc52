package serverconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServerRefusesAReadableTLSKeyOrAWritableDataFolder: a TLS key readable by group
// or others, or a data folder writable by them, is refused with the chmod that fixes
// it; 0600 and 0700 (or a folder yet to be made) pass.
func TestServerRefusesAReadableTLSKeyOrAWritableDataFolder(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "tls.key")
	if err := os.WriteFile(key, []byte("not read here"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Config{
		Listener: Listener{Type: "tcp", Address: "0.0.0.0:8443", TLSCertFile: filepath.Join(dir, "tls.crt"), TLSKeyFile: key},
		Storage:  Storage{Type: "sqlite", Path: filepath.Join(data, "kazzle.db")},
		KMS:      KMS{Type: "local", KeyFile: filepath.Join(data, "root.key")},
	}
	if err := s.CheckFiles(); err != nil {
		t.Fatalf("key 0600, folder 0700: %v", err)
	}
	fresh := s
	fresh.Storage.Path = filepath.Join(dir, "not-yet", "kazzle.db")
	if err := fresh.CheckFiles(); err != nil {
		t.Fatalf("a data folder yet to be made: %v", err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o400 | 0o040} {
		chmod(t, key, mode)
		err := s.CheckFiles()
		if err == nil || !strings.Contains(err.Error(), "tls_key_file "+key+" can be read by others") || !strings.Contains(err.Error(), "chmod 600 "+key) {
			t.Errorf("key mode %04o: %v", mode, err)
		}
	}
	chmod(t, key, 0o400)
	if err := s.CheckFiles(); err != nil {
		t.Fatalf("key 0400: %v", err)
	}
	for _, mode := range []os.FileMode{0o770, 0o707, 0o777, 0o720} {
		chmod(t, data, mode)
		err := s.CheckFiles()
		if err == nil || !strings.Contains(err.Error(), "data folder "+data+" can be written by others") || !strings.Contains(err.Error(), "chmod 700 "+data) {
			t.Errorf("folder mode %04o: %v", mode, err)
		}
	}
	chmod(t, data, 0o750) // readable by the group, but not writable: allowed
	if err := s.CheckFiles(); err != nil {
		t.Fatalf("folder 0750: %v", err)
	}
	plain := s
	plain.Listener = Listener{Type: "tcp", Address: "127.0.0.1:7878", TLSDisable: true}
	chmod(t, key, 0o644)
	if err := plain.CheckFiles(); err != nil {
		t.Fatalf("tls_disable with no key: %v", err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}
