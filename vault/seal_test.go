package vault

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

func testAEAD(t testing.TB) []byte {
	key := make([]byte, DataKeySize)
	rand.Read(key)
	return key
}

func TestSealOpenBindsPlace(t *testing.T) {
	aead, err := newAEAD(testAEAD(t))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("-----BEGIN KEY-----\nline\n-----END KEY-----\n")
	sealed, err := sealField(aead, "space-1", "secret-1", 3, "password", plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) || sealed[0] != formatAESGCM {
		t.Fatal("sealed field holds the plaintext or lacks its format byte")
	}
	got, err := openField(aead, "space-1", "secret-1", 3, "password", sealed)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v", got, err)
	}
	other, err := newAEAD(testAEAD(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		desc          string
		space, secret string
		version       int
		field         string
	}{
		{"another space", "space-2", "secret-1", 3, "password"},
		{"another secret", "space-1", "secret-2", 3, "password"},
		{"another version", "space-1", "secret-1", 4, "password"},
		{"another field", "space-1", "secret-1", 3, "username"},
		{"another data key", "space-1", "secret-1", 3, "password"},
	} {
		a := aead
		if tc.desc == "another data key" {
			a = other
		}
		if _, err := openField(a, tc.space, tc.secret, tc.version, tc.field, sealed); !errors.Is(err, ErrCiphertext) {
			t.Errorf("%s: err = %v, want ErrCiphertext", tc.desc, err)
		}
	}
	// The additional data is length-prefixed: shifting a character between parts changes it.
	if bytes.Equal(fieldAD(1, "ab", "c", 1, "f"), fieldAD(1, "a", "bc", 1, "f")) {
		t.Fatal("additional data is ambiguous")
	}
	for _, bad := range [][]byte{nil, {formatAESGCM}, append([]byte{0x02}, sealed[1:]...), sealed[:len(sealed)-1]} {
		if _, err := openField(aead, "space-1", "secret-1", 3, "password", bad); !errors.Is(err, ErrCiphertext) {
			t.Errorf("damaged ciphertext (%d bytes): err = %v", len(bad), err)
		}
	}
}

// FuzzOpenField feeds the ciphertext decoder arbitrary bytes: it must never panic, and
// never open anything but a ciphertext sealed for exactly this place.
func FuzzOpenField(f *testing.F) {
	key := bytes.Repeat([]byte{7}, DataKeySize)
	aead, err := newAEAD(key)
	if err != nil {
		f.Fatal(err)
	}
	good, err := sealField(aead, "s", "x", 1, "value", []byte("hello"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte{})
	f.Add([]byte{formatAESGCM})
	f.Add(append([]byte{0x02}, good[1:]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		plain, err := openField(aead, "s", "x", 1, "value", data)
		if err != nil {
			if !errors.Is(err, ErrCiphertext) {
				t.Fatalf("error %v is not ErrCiphertext", err)
			}
			return
		}
		if !bytes.Equal(data, good) && !bytes.Equal(plain, []byte("hello")) {
			t.Fatalf("opened a forged ciphertext to %q", plain)
		}
	})
}

func BenchmarkSealField(b *testing.B) {
	aead, err := newAEAD(testAEAD(b))
	if err != nil {
		b.Fatal(err)
	}
	plain := []byte("sk_live_4eC39HqLyjWDarjtT1zdp7dc")
	b.SetBytes(int64(len(plain)))
	for b.Loop() {
		if _, err := sealField(aead, "3f0c2a52-6d1b-4c57-9b8e-1f6f2b1c0d9e", "5d1e0f9a-2b3c-4d5e-8f70-112233445566", 7, "value", plain); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenField(b *testing.B) {
	aead, err := newAEAD(testAEAD(b))
	if err != nil {
		b.Fatal(err)
	}
	plain := []byte("sk_live_4eC39HqLyjWDarjtT1zdp7dc")
	sealed, err := sealField(aead, "3f0c2a52-6d1b-4c57-9b8e-1f6f2b1c0d9e", "5d1e0f9a-2b3c-4d5e-8f70-112233445566", 7, "value", plain)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(plain)))
	var o opener // as a resolve opens one field after another
	for b.Loop() {
		if _, err := o.open(aead, "3f0c2a52-6d1b-4c57-9b8e-1f6f2b1c0d9e", "5d1e0f9a-2b3c-4d5e-8f70-112233445566", 7, "value", sealed); err != nil {
			b.Fatal(err)
		}
	}
}
