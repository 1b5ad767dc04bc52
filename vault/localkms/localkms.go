// Package localkms wraps data keys under a root key kept in a local file: kazzle's
// embedded default, for a single machine. The file is created with mode 0600 on first use,
// and a file that others can read is refused.
package localkms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kazzle/kazzle/vault"
)

const (
	rootKeySize = 32
	formatGCM   = 0x01
	nonceSize   = 12
)

// Wrapper wraps data keys with AES-256-GCM under the root key; the space id is bound as
// additional data.
type Wrapper struct {
	keyID string
	aead  cipher.AEAD
}

var _ vault.KeyWrapper = (*Wrapper)(nil)

// Open loads the root key at path, creating a new random one (mode 0600, in a 0700
// folder) when the file does not exist.
func Open(path string) (*Wrapper, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return create(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read root key: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read root key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("root key %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("root key %s can be read by others (mode %04o): run chmod 600 %s", path, perm, path)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != rootKeySize {
		return nil, fmt.Errorf("root key %s is not %d base64-encoded bytes: restore it from your backup", path, rootKeySize)
	}
	return fromKey(key)
}

func create(path string) (*Wrapper, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create root key folder: %w", err)
	}
	key := make([]byte, rootKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// O_EXCL: if another process created the file meanwhile, use its key, not ours.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create root key: %w", err)
	}
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err = errors.Join(err, f.Sync(), f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("write root key %s: %w", path, err)
	}
	return fromKey(key)
}

func fromKey(key []byte) (*Wrapper, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("kazzle-localkms-id"), key...))
	return &Wrapper{keyID: "local:" + hex.EncodeToString(sum[:8]), aead: aead}, nil
}

// KeyID names the root key by a fingerprint that reveals nothing of it.
func (w *Wrapper) KeyID(context.Context) (string, error) { return w.keyID, nil }

func ad(spaceID string) []byte { return append([]byte("kazzle-localkms-v1\x00"), spaceID...) }

// GenerateDataKey returns a new random data key and its wrapped form.
func (w *Wrapper) GenerateDataKey(ctx context.Context, spaceID string) ([]byte, vault.WrappedKey, error) {
	key := make([]byte, vault.DataKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, vault.WrappedKey{}, err
	}
	wrapped, err := w.WrapDataKey(ctx, spaceID, key)
	return key, wrapped, err
}

// WrapDataKey seals a data key under the root key.
func (w *Wrapper) WrapDataKey(_ context.Context, spaceID string, key []byte) (vault.WrappedKey, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(key)+w.aead.Overhead())
	out[0] = formatGCM
	if _, err := rand.Read(out[1:]); err != nil {
		return vault.WrappedKey{}, err
	}
	return vault.WrappedKey{KeyID: w.keyID, Blob: w.aead.Seal(out, out[1:], key, ad(spaceID))}, nil
}

// UnwrapDataKey opens a data key this root key wrapped for this space.
func (w *Wrapper) UnwrapDataKey(_ context.Context, spaceID string, wrapped vault.WrappedKey) ([]byte, error) {
	if wrapped.KeyID != w.keyID {
		return nil, fmt.Errorf("data key of space %s is wrapped by %s, and this root key is %s", spaceID, wrapped.KeyID, w.keyID)
	}
	b := wrapped.Blob
	if len(b) < 1+nonceSize+w.aead.Overhead() || b[0] != formatGCM {
		return nil, fmt.Errorf("wrapped data key of space %s is damaged", spaceID)
	}
	key, err := w.aead.Open(nil, b[1:1+nonceSize], b[1+nonceSize:], ad(spaceID))
	if err != nil {
		return nil, fmt.Errorf("wrapped data key does not open for space %s: damaged, or wrapped for another space", spaceID)
	}
	return key, nil
}
