package awsfake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// kmsState holds symmetric KMS keys and aliases. A ciphertext blob is
// 0x01 | key uuid (36 bytes) | 12-byte nonce | AES-GCM output, with the canonical JSON of
// the encryption context as additional data: like AWS, a blob names its key, and the same
// encryption context must be given to decrypt it.
type kmsState struct {
	mu      sync.Mutex
	keys    map[string]*kmsKey // by key uuid
	aliases map[string]string  // alias/name → key uuid
}

type kmsKey struct {
	id      string
	arn     string
	aead    cipher.AEAD
	enabled bool
	created time.Time
}

func newKMSState() *kmsState {
	return &kmsState{keys: map[string]*kmsKey{}, aliases: map[string]string{}}
}

func kmsNotFound(format string, args ...any) error {
	return errorf(http.StatusBadRequest, "NotFoundException", format, args...)
}

func kmsInvalid(format string, args ...any) error {
	return errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

// CreateKey makes a new enabled symmetric key and returns its ARN; a non-empty alias
// (without the alias/ prefix) is pointed at it.
func (s *Server) CreateKey(alias string) (string, error) {
	k, err := s.kms.createKey(s)
	if err != nil {
		return "", err
	}
	if alias != "" {
		s.kms.mu.Lock()
		s.kms.aliases["alias/"+alias] = k.id
		s.kms.mu.Unlock()
	}
	return k.arn, nil
}

// SetKeyEnabled enables or disables a key, as KMS's EnableKey and DisableKey do.
func (s *Server) SetKeyEnabled(keyID string, enabled bool) error {
	s.kms.mu.Lock()
	defer s.kms.mu.Unlock()
	k, err := s.kms.resolveLocked(s, keyID)
	if err != nil {
		return err
	}
	k.enabled = enabled
	return nil
}

func (st *kmsState) createKey(s *Server) (*kmsKey, error) {
	material := make([]byte, 32)
	if _, err := rand.Read(material); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(material)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	id := uuid.NewString()
	k := &kmsKey{id: id, arn: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", s.opts.Region, s.opts.Account, id), aead: aead, enabled: true, created: s.opts.Now()}
	st.mu.Lock()
	st.keys[id] = k
	st.mu.Unlock()
	return k, nil
}

// resolveLocked finds a key by id, ARN, alias name or alias ARN.
func (st *kmsState) resolveLocked(s *Server, keyID string) (*kmsKey, error) {
	arnPrefix := fmt.Sprintf("arn:aws:kms:%s:%s:", s.opts.Region, s.opts.Account)
	id := strings.TrimPrefix(keyID, arnPrefix)
	if strings.HasPrefix(id, "alias/") {
		target, ok := st.aliases[id]
		if !ok {
			return nil, kmsNotFound("Alias %s is not found.", keyID)
		}
		id = target
	}
	k, ok := st.keys[strings.TrimPrefix(id, "key/")]
	if !ok {
		return nil, kmsNotFound("Key '%s' does not exist", keyID)
	}
	return k, nil
}

func (st *kmsState) usable(s *Server, keyID string) (*kmsKey, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if keyID == "" {
		return nil, kmsInvalid("1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	k, err := st.resolveLocked(s, keyID)
	if err != nil {
		return nil, err
	}
	if !k.enabled {
		return nil, errorf(http.StatusBadRequest, "DisabledException", "%s is disabled.", k.arn)
	}
	return k, nil
}

func contextAD(ec map[string]string) []byte {
	if len(ec) == 0 {
		return nil // no context and an empty one are the same to KMS
	}
	b, _ := json.Marshal(ec) // map keys marshal sorted: a canonical form
	return b
}

func (k *kmsKey) encrypt(plaintext []byte, ec map[string]string) ([]byte, error) {
	out := make([]byte, 0, 1+36+12+len(plaintext)+k.aead.Overhead())
	out = append(out, 0x01)
	out = append(out, k.id...)
	nonce := make([]byte, 12)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, contextAD(ec)), nil
}

var errInvalidCiphertext = errorf(http.StatusBadRequest, "InvalidCiphertextException", "")

type kmsRequest struct {
	KeyID             string            `json:"KeyId"`
	KeySpec           string            `json:"KeySpec"`
	NumberOfBytes     int               `json:"NumberOfBytes"`
	EncryptionContext map[string]string `json:"EncryptionContext"`
	Plaintext         []byte            `json:"Plaintext"`
	CiphertextBlob    []byte            `json:"CiphertextBlob"`
	Description       string            `json:"Description"`
	AliasName         string            `json:"AliasName"`
	TargetKeyID       string            `json:"TargetKeyId"`
}

type keyMetadata struct {
	KeyID        string  `json:"KeyId"`
	Arn          string  `json:"Arn"`
	Enabled      bool    `json:"Enabled"`
	KeyState     string  `json:"KeyState"`
	KeyUsage     string  `json:"KeyUsage"`
	KeySpec      string  `json:"KeySpec"`
	CreationDate float64 `json:"CreationDate"`
}

func (k *kmsKey) metadata() keyMetadata {
	state := "Enabled"
	if !k.enabled {
		state = "Disabled"
	}
	return keyMetadata{KeyID: k.id, Arn: k.arn, Enabled: k.enabled, KeyState: state, KeyUsage: "ENCRYPT_DECRYPT", KeySpec: "SYMMETRIC_DEFAULT", CreationDate: float64(k.created.Unix())}
}

// call serves one KMS operation.
func (st *kmsState) call(s *Server, op string, body []byte) (any, error) {
	var in kmsRequest
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, errorf(http.StatusBadRequest, "SerializationException", "request body is not valid JSON")
	}
	switch op {
	case "CreateKey":
		k, err := st.createKey(s)
		if err != nil {
			return nil, err
		}
		return map[string]any{"KeyMetadata": k.metadata()}, nil
	case "CreateAlias":
		if !strings.HasPrefix(in.AliasName, "alias/") || strings.HasPrefix(in.AliasName, "alias/aws/") {
			return nil, kmsInvalid("Alias must start with the prefix \"alias/\" and not use the reserved alias/aws/ prefix")
		}
		k, err := st.usable(s, in.TargetKeyID)
		if err != nil {
			return nil, err
		}
		st.mu.Lock()
		defer st.mu.Unlock()
		if _, taken := st.aliases[in.AliasName]; taken {
			return nil, errorf(http.StatusBadRequest, "AlreadyExistsException", "An alias with the name %s already exists", in.AliasName)
		}
		st.aliases[in.AliasName] = k.id
		return struct{}{}, nil
	case "DescribeKey":
		st.mu.Lock()
		defer st.mu.Unlock()
		k, err := st.resolveLocked(s, in.KeyID)
		if err != nil {
			return nil, err
		}
		return map[string]any{"KeyMetadata": k.metadata()}, nil
	case "GenerateDataKey":
		k, err := st.usable(s, in.KeyID)
		if err != nil {
			return nil, err
		}
		n := in.NumberOfBytes
		switch {
		case in.KeySpec == "AES_256" && n == 0:
			n = 32
		case in.KeySpec == "AES_128" && n == 0:
			n = 16
		case (in.KeySpec == "") == (n == 0) || n < 0 || n > 1024:
			return nil, kmsInvalid("Please specify either number of bytes or key spec.")
		}
		plain := make([]byte, n)
		if _, err := rand.Read(plain); err != nil {
			return nil, err
		}
		blob, err := k.encrypt(plain, in.EncryptionContext)
		if err != nil {
			return nil, err
		}
		return map[string]any{"KeyId": k.arn, "Plaintext": plain, "CiphertextBlob": blob}, nil
	case "Encrypt":
		k, err := st.usable(s, in.KeyID)
		if err != nil {
			return nil, err
		}
		if len(in.Plaintext) == 0 || len(in.Plaintext) > 4096 {
			return nil, kmsInvalid("Plaintext must be 1 to 4096 bytes")
		}
		blob, err := k.encrypt(in.Plaintext, in.EncryptionContext)
		if err != nil {
			return nil, err
		}
		return map[string]any{"KeyId": k.arn, "CiphertextBlob": blob, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
	case "Decrypt":
		blob := in.CiphertextBlob
		if len(blob) < 1+36+12+16 || blob[0] != 0x01 {
			return nil, errInvalidCiphertext
		}
		k, err := st.usable(s, string(blob[1:37]))
		if err != nil {
			if ae, ok := err.(*apiError); ok && ae.code == "NotFoundException" {
				return nil, errInvalidCiphertext
			}
			return nil, err
		}
		if in.KeyID != "" {
			want, err := st.usable(s, in.KeyID)
			if err != nil {
				return nil, err
			}
			if want != k {
				return nil, errorf(http.StatusBadRequest, "IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
			}
		}
		plain, err := k.aead.Open(nil, blob[37:49], blob[49:], contextAD(in.EncryptionContext))
		if err != nil {
			return nil, errInvalidCiphertext // a wrong encryption context lands here too, as on AWS
		}
		return map[string]any{"KeyId": k.arn, "Plaintext": plain, "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}, nil
	}
	return nil, errorf(http.StatusBadRequest, "UnknownOperationException", "awsfake KMS does not serve %s", op)
}
