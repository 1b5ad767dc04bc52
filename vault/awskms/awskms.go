// Package awskms wraps data keys with AWS KMS through aws-sdk-go-v2: GenerateDataKey to
// make a space's key, Decrypt to unwrap it, Encrypt to re-wrap it under another KMS key.
// Every call carries the encryption context {"kazzle:space": <space id>}, so KMS refuses
// to unwrap a key for any other space, and CloudTrail shows which space a call served.
package awskms

import (
	"context"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kazzle/kazzle/vault"
)

// API is the part of the KMS client that the Wrapper calls.
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, opts ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, opts ...func(*kms.Options)) (*kms.DecryptOutput, error)
	Encrypt(ctx context.Context, in *kms.EncryptInput, opts ...func(*kms.Options)) (*kms.EncryptOutput, error)
	DescribeKey(ctx context.Context, in *kms.DescribeKeyInput, opts ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
}

var _ API = (*kms.Client)(nil)

// ContextKey is the encryption-context key that names the space.
const ContextKey = "kazzle:space"

// Wrapper wraps data keys under one KMS key and unwraps them under whichever KMS key
// wrapped them (its ARN is stored with each wrapped key).
type Wrapper struct {
	api   API
	keyID string

	mu  sync.Mutex
	arn string // keyID resolved, once known
}

var _ vault.KeyWrapper = (*Wrapper)(nil)

// New returns a Wrapper that makes new data keys under keyID: a key id, key ARN, alias
// name or alias ARN.
func New(api API, keyID string) *Wrapper { return &Wrapper{api: api, keyID: keyID} }

// KeyID resolves the configured key id or alias to its key ARN (once; DescribeKey).
func (w *Wrapper) KeyID(ctx context.Context) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.arn != "" {
		return w.arn, nil
	}
	out, err := w.api.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(w.keyID)})
	if err != nil {
		return "", fmt.Errorf("kms DescribeKey %s: %w", w.keyID, err)
	}
	if out.KeyMetadata == nil || out.KeyMetadata.Arn == nil {
		return "", fmt.Errorf("kms DescribeKey %s: no ARN in the response", w.keyID)
	}
	w.arn = *out.KeyMetadata.Arn
	return w.arn, nil
}

func encryptionContext(spaceID string) map[string]string {
	return map[string]string{ContextKey: spaceID}
}

// GenerateDataKey asks KMS for a new AES-256 data key.
func (w *Wrapper) GenerateDataKey(ctx context.Context, spaceID string) ([]byte, vault.WrappedKey, error) {
	out, err := w.api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(w.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: encryptionContext(spaceID),
	})
	if err != nil {
		return nil, vault.WrappedKey{}, fmt.Errorf("kms GenerateDataKey under %s: %w", w.keyID, err)
	}
	if len(out.Plaintext) != vault.DataKeySize || out.KeyId == nil {
		return nil, vault.WrappedKey{}, fmt.Errorf("kms GenerateDataKey under %s: unexpected response", w.keyID)
	}
	return out.Plaintext, vault.WrappedKey{KeyID: *out.KeyId, Blob: out.CiphertextBlob}, nil
}

// UnwrapDataKey asks KMS to decrypt a wrapped data key. The stored key ARN is passed
// along, so KMS refuses a blob that some other key produced.
func (w *Wrapper) UnwrapDataKey(ctx context.Context, spaceID string, wrapped vault.WrappedKey) ([]byte, error) {
	out, err := w.api.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob:    wrapped.Blob,
		KeyId:             aws.String(wrapped.KeyID),
		EncryptionContext: encryptionContext(spaceID),
	})
	if err != nil {
		return nil, fmt.Errorf("kms Decrypt under %s: %w", wrapped.KeyID, err)
	}
	if len(out.Plaintext) != vault.DataKeySize {
		return nil, fmt.Errorf("kms Decrypt under %s: the data key is %d bytes, want %d", wrapped.KeyID, len(out.Plaintext), vault.DataKeySize)
	}
	return out.Plaintext, nil
}

// WrapDataKey encrypts an existing data key under this Wrapper's KMS key.
func (w *Wrapper) WrapDataKey(ctx context.Context, spaceID string, key []byte) (vault.WrappedKey, error) {
	out, err := w.api.Encrypt(ctx, &kms.EncryptInput{
		KeyId:             aws.String(w.keyID),
		Plaintext:         key,
		EncryptionContext: encryptionContext(spaceID),
	})
	if err != nil {
		return vault.WrappedKey{}, fmt.Errorf("kms Encrypt under %s: %w", w.keyID, err)
	}
	if out.KeyId == nil {
		return vault.WrappedKey{}, fmt.Errorf("kms Encrypt under %s: no key id in the response", w.keyID)
	}
	return vault.WrappedKey{KeyID: *out.KeyId, Blob: out.CiphertextBlob}, nil
}
