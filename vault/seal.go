package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// The sealed-field format: one format byte, then the format's own layout.
//
//	formatAESGCM: 0x01 | 12-byte random nonce | AES-256-GCM ciphertext and tag
//
// The additional data binds the format byte, space id, secret id, version and field name,
// so a ciphertext copied to another row, version or field fails to open. A new algorithm
// gets a new format byte; old rows keep opening.
const formatAESGCM byte = 0x01

const (
	nonceSize  = 12
	gcmTagSize = 16
	// DataKeySize is the size of a space's data key: AES-256.
	DataKeySize = 32
)

// ErrCiphertext means a sealed field did not open: damaged, or not sealed for this place.
var ErrCiphertext = errors.New("ciphertext does not open: damaged, or sealed for another space, secret, version or field")

// fieldAD is the additional data that binds a sealed field to where it belongs.
func fieldAD(format byte, spaceID, secretID string, version int, field string) []byte {
	return appendFieldAD(make([]byte, 0, 16+len(spaceID)+len(secretID)+len(field)+24), format, spaceID, secretID, version, field)
}

// appendFieldAD appends fieldAD's bytes to ad.
func appendFieldAD(ad []byte, format byte, spaceID, secretID string, version int, field string) []byte {
	ad = append(ad, "kazzle-field"...)
	ad = append(ad, format)
	for _, s := range []string{spaceID, secretID, field} {
		ad = binary.BigEndian.AppendUint32(ad, uint32(len(s)))
		ad = append(ad, s...)
	}
	return binary.BigEndian.AppendUint64(ad, uint64(version))
}

// newAEAD returns AES-256-GCM under a data key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != DataKeySize {
		return nil, fmt.Errorf("data key is %d bytes, want %d", len(key), DataKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealField encrypts one field of one version of a secret.
func sealField(aead cipher.AEAD, spaceID, secretID string, version int, field string, plaintext []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+aead.Overhead())
	out[0] = formatAESGCM
	if _, err := rand.Read(out[1 : 1+nonceSize]); err != nil {
		return nil, fmt.Errorf("read nonce: %w", err)
	}
	return aead.Seal(out, out[1:1+nonceSize], plaintext, fieldAD(formatAESGCM, spaceID, secretID, version, field)), nil
}

// openField decrypts what sealField produced for the same space, secret, version and field.
func openField(aead cipher.AEAD, spaceID, secretID string, version int, field string, sealed []byte) ([]byte, error) {
	var o opener
	return o.open(aead, spaceID, secretID, version, field, sealed)
}

// opener opens fields one after another into buffers it reuses; what open returns is
// valid until the next call.
type opener struct{ ad, plain []byte }

func (o *opener) open(aead cipher.AEAD, spaceID, secretID string, version int, field string, sealed []byte) ([]byte, error) {
	if err := checkSealed(sealed); err != nil {
		return nil, err
	}
	o.ad = appendFieldAD(o.ad[:0], sealed[0], spaceID, secretID, version, field)
	plain, err := aead.Open(o.plain[:0], sealed[1:1+nonceSize], sealed[1+nonceSize:], o.ad)
	if err != nil {
		return nil, ErrCiphertext
	}
	o.plain = plain
	return plain, nil
}

// checkSealed says whether sealed has the shape of a sealed field, before opening it.
func checkSealed(sealed []byte) error {
	if len(sealed) < 1+nonceSize+gcmTagSize {
		return fmt.Errorf("%w (%d bytes is too short)", ErrCiphertext, len(sealed))
	}
	if sealed[0] != formatAESGCM {
		return fmt.Errorf("%w (unknown format byte 0x%02x)", ErrCiphertext, sealed[0])
	}
	return nil
}
