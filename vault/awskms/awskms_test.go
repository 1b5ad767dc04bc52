package awskms_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/smithy-go"

	"github.com/kazzle/kazzle/internal/awsfake"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/awskms"
	"github.com/kazzle/kazzle/vault/sqlite"
	"github.com/kazzle/kazzle/vault/storetest"
)

func startFake(t testing.TB) *awsfake.Server {
	t.Helper()
	fake, err := awsfake.Start(awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	return fake
}

// client is the real SDK client pointed at the fake, signing with secretKey.
func client(fake *awsfake.Server, secretKey string) *kms.Client {
	akid, _ := fake.Credentials()
	return kms.New(kms.Options{
		Region:       fake.Region(),
		BaseEndpoint: aws.String(fake.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, secretKey, ""),
	})
}

func goodClient(fake *awsfake.Server) *kms.Client {
	_, secret := fake.Credentials()
	return client(fake, secret)
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestWrapUnwrapAndEncryptionContext(t *testing.T) {
	ctx := context.Background()
	fake := startFake(t)
	arn, err := fake.CreateKey("kazzle")
	if err != nil {
		t.Fatal(err)
	}
	w := awskms.New(goodClient(fake), "alias/kazzle")
	key, wrapped, err := w.GenerateDataKey(ctx, "space-a")
	if err != nil {
		t.Fatal(err)
	}
	if wrapped.KeyID != arn {
		t.Fatalf("stored key id %q, want the resolved ARN %q", wrapped.KeyID, arn)
	}
	got, err := w.UnwrapDataKey(ctx, "space-a", wrapped)
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("unwrap: %v", err)
	}
	// The space is the encryption context: the same blob presented for another space fails.
	_, err = w.UnwrapDataKey(ctx, "space-b", wrapped)
	if code := apiErrorCode(err); code != "InvalidCiphertextException" {
		t.Fatalf("unwrap under another space's context: err = %v, want InvalidCiphertextException", err)
	}
	// A blob claimed to be from another key is refused.
	other, err := fake.CreateKey("")
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.UnwrapDataKey(ctx, "space-a", vault.WrappedKey{KeyID: other, Blob: wrapped.Blob})
	if code := apiErrorCode(err); code != "IncorrectKeyException" {
		t.Fatalf("unwrap naming another key: err = %v", err)
	}
	// A disabled key wraps and unwraps nothing.
	if err := fake.SetKeyEnabled(arn, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.UnwrapDataKey(ctx, "space-a", wrapped); apiErrorCode(err) != "DisabledException" {
		t.Fatalf("unwrap under a disabled key: err = %v", err)
	}
}

func TestBadSignatureIsRefused(t *testing.T) {
	ctx := context.Background()
	fake := startFake(t)
	if _, err := fake.CreateKey("kazzle"); err != nil {
		t.Fatal(err)
	}
	w := awskms.New(client(fake, "the-wrong-secret-key"), "alias/kazzle")
	_, _, err := w.GenerateDataKey(ctx, "space-a")
	if code := apiErrorCode(err); code != "InvalidSignatureException" {
		t.Fatalf("wrong secret key: err = %v, want InvalidSignatureException", err)
	}
	if fake.Calls("kms:GenerateDataKey") == 0 {
		t.Fatal("the request never reached the fake")
	}

	// A correctly signed request whose body is changed on the way is refused too.
	var tamper sync.Once
	var tamperErr error
	tampered := false
	tampering := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		tamper.Do(func() {
			body := new(bytes.Buffer)
			if _, tamperErr = body.ReadFrom(r.Body); tamperErr != nil {
				return
			}
			changed := strings.Replace(body.String(), "AES_256", "AES_128", 1)
			tampered = changed != body.String()
			r.Body = readCloser{strings.NewReader(changed)}
		})
		if tamperErr != nil {
			return nil, tamperErr
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	_, secret := fake.Credentials()
	akid, _ := fake.Credentials()
	c := kms.New(kms.Options{Region: fake.Region(), BaseEndpoint: aws.String(fake.URL), HTTPClient: tampering,
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, "")})
	_, _, err = awskms.New(c, "alias/kazzle").GenerateDataKey(ctx, "space-a")
	if !tampered {
		t.Fatalf("the request body was not changed on the way (err = %v)", err)
	}
	if code := apiErrorCode(err); code != "InvalidSignatureException" {
		t.Fatalf("tampered body: err = %v, want InvalidSignatureException", err)
	}
	// And an unknown access key.
	c = kms.New(kms.Options{Region: fake.Region(), BaseEndpoint: aws.String(fake.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSOMEONEELSE", secret, "")})
	if _, _, err := awskms.New(c, "alias/kazzle").GenerateDataKey(ctx, "s"); apiErrorCode(err) != "UnrecognizedClientException" {
		t.Fatalf("unknown access key: err = %v", err)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// newVault opens a vault in dir whose data keys are wrapped by KMS key keyID.
func newVault(t *testing.T, dir string, fake *awsfake.Server, keyID string, o vault.Options) (*vault.Vault, *sqlite.Store) {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "kazzle.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return vault.New(store, awskms.New(goodClient(fake), keyID), o), store
}

func TestOneKMSCallPerSpaceWhileCached(t *testing.T) {
	ctx := context.Background()
	fake := startFake(t)
	if _, err := fake.CreateKey("kazzle"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	v, store := newVault(t, dir, fake, "alias/kazzle", vault.Options{})
	actor := vault.Actor{Name: "test"}
	space, err := v.CreateSpace(ctx, actor, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.CreateCollection(ctx, actor, space.ID, "app", ""); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 10; i++ {
		m, err := v.CreateSecret(ctx, actor, vault.SecretInput{SpaceID: space.ID, Collection: "app", Name: "S" + string(rune('A'+i)), Fields: map[string]string{"value": "v"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	if n := fake.Calls("kms:GenerateDataKey"); n != 1 {
		t.Fatalf("creating a space made %d GenerateDataKey calls, want 1", n)
	}
	if n := fake.Calls("kms:Decrypt"); n != 0 {
		t.Fatalf("the creating vault made %d Decrypt calls; it holds the key it made", n)
	}

	// A second vault on the same database starts with a cold cache: 1,000 reads, from
	// 8 goroutines at once, make exactly one Decrypt while the cache lives.
	clock := &storetest.Clock{}
	clock.Advance(time.Duration(time.Now().UnixNano()))
	cold := vault.New(store, awskms.New(goodClient(fake), "alias/kazzle"), vault.Options{Now: clock.Now, KeyCache: vault.KeyCacheOptions{TTL: 5 * time.Minute}})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < 1000; i += 8 {
				if _, err := cold.Secret(ctx, space.ID, ids[i%len(ids)], 0); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := fake.Calls("kms:Decrypt"); n != 1 {
		t.Fatalf("1,000 reads made %d Decrypt calls, want 1", n)
	}
	clock.Advance(6 * time.Minute)
	if _, err := cold.Secret(ctx, space.ID, ids[0], 0); err != nil {
		t.Fatal(err)
	}
	if n := fake.Calls("kms:Decrypt"); n != 2 {
		t.Fatalf("after the cache TTL: %d Decrypt calls, want 2", n)
	}
}

func TestRewrapMovesEveryKey(t *testing.T) {
	ctx := context.Background()
	fake := startFake(t)
	oldARN, err := fake.CreateKey("old")
	if err != nil {
		t.Fatal(err)
	}
	newARN, err := fake.CreateKey("new")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	v, store := newVault(t, dir, fake, "alias/old", vault.Options{})
	actor := vault.Actor{Name: "test"}
	want := map[string]string{} // secret id → value
	spaceOf := map[string]string{}
	for _, name := range []string{"acme", "globex", "initech"} {
		s, err := v.CreateSpace(ctx, actor, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.CreateCollection(ctx, actor, s.ID, "app", ""); err != nil {
			t.Fatal(err)
		}
		m, err := v.CreateSecret(ctx, actor, vault.SecretInput{SpaceID: s.ID, Collection: "app", Name: "TOKEN", Fields: map[string]string{"value": "token-of-" + name}})
		if err != nil {
			t.Fatal(err)
		}
		want[m.ID], spaceOf[m.ID] = "token-of-"+name, s.ID
	}
	sealedBefore := map[string][]byte{}
	for id, sp := range spaceOf {
		ss, err := store.Secret(ctx, sp, id)
		if err != nil {
			t.Fatal(err)
		}
		sealedBefore[id] = ss.Fields["value"]
	}

	moved, err := v.Rewrap(ctx, actor, awskms.New(goodClient(fake), "alias/new"))
	if err != nil || moved != 3 {
		t.Fatalf("Rewrap moved %d, %v", moved, err)
	}
	for _, sp := range spaceOf {
		k, err := store.SpaceKey(ctx, sp)
		if err != nil {
			t.Fatal(err)
		}
		if k.KeyID != newARN {
			t.Fatalf("space %s key is wrapped by %s, want %s", sp, k.KeyID, newARN)
		}
	}
	// The old key is gone; a fresh vault (no cache) reads every value through the new one.
	if err := fake.SetKeyEnabled(oldARN, false); err != nil {
		t.Fatal(err)
	}
	fresh := vault.New(store, awskms.New(goodClient(fake), "alias/new"), vault.Options{})
	for id, val := range want {
		s, err := fresh.Secret(ctx, spaceOf[id], id, 0)
		if err != nil || s.Fields["value"] != val {
			t.Fatalf("after rewrap, secret %s: %v", id, err)
		}
		ss, err := store.Secret(ctx, spaceOf[id], id)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ss.Fields["value"], sealedBefore[id]) {
			t.Fatalf("rewrap touched the sealed value of %s", id)
		}
	}
	// Running it again moves nothing.
	if moved, err := fresh.Rewrap(ctx, actor, awskms.New(goodClient(fake), "alias/new")); err != nil || moved != 0 {
		t.Fatalf("second Rewrap moved %d, %v", moved, err)
	}
	events, err := v.Audit(ctx, vault.AuditQuery{Action: "space.rewrap"})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[0].Target.WrappingKeyID != newARN {
		t.Fatalf("rewrap audit events: %+v", events)
	}
}
