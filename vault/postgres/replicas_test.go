package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kazzle/kazzle/internal/awsfake"
	"github.com/kazzle/kazzle/internal/pgtest"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/awskms"
	"github.com/kazzle/kazzle/vault/postgres"
	"github.com/kazzle/kazzle/vault/storetest"
)

// replicas are two vaults, each on its own connection pool to one database, as two
// server processes are; they share nothing else but a clock the test moves and the
// KMS endpoint.
type replicas struct {
	a, b  *vault.Vault
	clock *storetest.Clock
	kms   *awsfake.Server
	key1  string
	actor vault.Actor
}

func newReplicas(t *testing.T) *replicas {
	t.Helper()
	ctx := context.Background()
	url := pgtest.Database(t)
	fake, err := awsfake.Start(awsfake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	key1, err := fake.CreateKey("kazzle")
	if err != nil {
		t.Fatal(err)
	}
	r := &replicas{clock: &storetest.Clock{}, kms: fake, key1: key1, actor: vault.Actor{KeyID: "k", Name: "tester"}}
	r.clock.Advance(time.Since(time.Time{}))
	open := func() *vault.Vault {
		s, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return vault.New(s, awskms.New(r.kmsClient(), key1), vault.Options{Now: r.clock.Now})
	}
	r.a, r.b = open(), open()
	return r
}

func (r *replicas) kmsClient() *kms.Client {
	akid, secret := r.kms.Credentials()
	return kms.New(kms.Options{Region: r.kms.Region(), BaseEndpoint: aws.String(r.kms.URL),
		Credentials: credentials.NewStaticCredentialsProvider(akid, secret, "")})
}

// secret bootstraps the vault through replica a and creates a secret in collection app.
func (r *replicas) secret(t *testing.T, name, value string) (vault.Space, vault.SecretMeta) {
	t.Helper()
	ctx := context.Background()
	space, _, _, err := r.a.Bootstrap(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.a.CreateCollection(ctx, r.actor, space.ID, "app", "App"); err != nil {
		t.Fatal(err)
	}
	m, err := r.a.CreateSecret(ctx, r.actor, vault.SecretInput{SpaceID: space.ID, Collection: "app", Name: name, Fields: map[string]string{"value": value}})
	if err != nil {
		t.Fatal(err)
	}
	return space, m
}

func TestOnlyOneReplicaCreatesTheFirstSpace(t *testing.T) {
	r := newReplicas(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v := r.a
			if i%2 == 1 {
				v = r.b
			}
			_, token, ok, err := v.Bootstrap(context.Background(), "default")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if ok {
				created++
				if token == "" {
					t.Error("the replica that created the space printed no key")
				}
			}
		}()
	}
	wg.Wait()
	spaces, err := r.a.Store().Spaces(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if created != 1 || len(spaces) != 1 {
		t.Fatalf("%d bootstraps created a space, %d spaces exist; want exactly one", created, len(spaces))
	}
}

func TestARevocationReachesTheOtherReplicaWithinKeyCacheTTL(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	space, _, _, err := r.a.Bootstrap(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	key, token, err := r.a.CreateAPIKey(ctx, r.actor, vault.NewAPIKey{SpaceID: space.ID, Name: "ci", Role: vault.RoleRead})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.b.Authenticate(ctx, token); err != nil {
		t.Fatalf("the other replica refuses a new key: %v", err)
	}
	if err := r.a.RevokeAPIKey(ctx, r.actor, space.ID, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.a.Authenticate(ctx, token); !errors.Is(err, vault.ErrUnauthenticated) {
		t.Fatalf("the replica that revoked it still accepts the key: %v", err)
	}
	// The other replica may trust its cache until KeyCacheTTL has passed, not longer.
	r.clock.Advance(vault.KeyCacheTTL)
	if _, err := r.b.Authenticate(ctx, token); !errors.Is(err, vault.ErrUnauthenticated) {
		t.Fatalf("%v after the revocation the other replica still accepts the key: %v", vault.KeyCacheTTL, err)
	}
}

func TestARewrapReachesTheOtherReplicaWithinTheDataKeyCacheTTL(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	space, m := r.secret(t, "TOKEN", "before-rewrap")
	read := func(v *vault.Vault) error {
		_, err := v.Reveal(ctx, r.actor, space.ID, m.ID, 0, true)
		return err
	}
	if err := read(r.b); err != nil { // replica b now holds the data key
		t.Fatal(err)
	}
	key2, err := r.kms.CreateKey("kazzle-2026")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.a.Rewrap(ctx, r.actor, awskms.New(r.kmsClient(), key2)); err != nil || n != 1 {
		t.Fatalf("rewrap: %d spaces, %v", n, err)
	}
	// The old key is retired: whoever still needs it fails.
	if err := r.kms.SetKeyEnabled(r.key1, false); err != nil {
		t.Fatal(err)
	}
	decrypts := r.kms.Calls("kms:Decrypt")
	if err := read(r.b); err != nil {
		t.Fatalf("within the cache's lifetime: %v", err)
	}
	if r.kms.Calls("kms:Decrypt") != decrypts {
		t.Fatal("replica b unwrapped again within the cache's lifetime")
	}
	// After the data key cache's TTL (10 minutes by default), b unwraps what the
	// database holds now, under the new key.
	r.clock.Advance(10*time.Minute + time.Second)
	if err := read(r.b); err != nil {
		t.Fatalf("after the cache's lifetime the other replica cannot read: %v", err)
	}
	if r.kms.Calls("kms:Decrypt") != decrypts+1 {
		t.Fatalf("replica b made %d Decrypt calls, want 1 under the new key", r.kms.Calls("kms:Decrypt")-decrypts)
	}
}

func TestConcurrentUpdatesThroughTwoReplicasLoseNothing(t *testing.T) {
	r := newReplicas(t)
	space, m := r.secret(t, "COUNTER", "v0")
	storetest.RaceUpdates(t, []*vault.Vault{r.a, r.b}, r.actor, space.ID, m.ID, 6, 5)
}

// TestADeletedSpaceIsGoneOnTheOtherReplicaWithinKeyCacheTTL: the other replica may
// trust a deleted space's key it verified for KeyCacheTTL, not longer, and a write it
// lets through meanwhile leaves nothing in the deleted space.
func TestADeletedSpaceIsGoneOnTheOtherReplicaWithinKeyCacheTTL(t *testing.T) {
	r := newReplicas(t)
	ctx := context.Background()
	if _, _, _, err := r.a.Bootstrap(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	space, token, err := r.a.CreateSpaceWithAdmin(ctx, r.actor, "globex")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.b.Authenticate(ctx, token); err != nil {
		t.Fatalf("the other replica refuses the new space's key: %v", err)
	}
	if _, err := r.a.DeleteSpace(ctx, r.actor, "globex"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.a.Authenticate(ctx, token); !errors.Is(err, vault.ErrUnauthenticated) {
		t.Fatalf("the replica that deleted the space still accepts its key: %v", err)
	}
	if _, err := r.b.CreateCollection(ctx, r.actor, space.ID, "app", "App"); err == nil {
		t.Fatal("the other replica created a collection in the deleted space")
	}
	if cs, err := r.b.Store().Collections(ctx, space.ID); err != nil || len(cs) != 0 {
		t.Fatalf("collections of the deleted space: %d, %v", len(cs), err)
	}
	r.clock.Advance(vault.KeyCacheTTL)
	if _, err := r.b.Authenticate(ctx, token); !errors.Is(err, vault.ErrUnauthenticated) {
		t.Fatalf("%v after the deletion the other replica still accepts the deleted space's key: %v", vault.KeyCacheTTL, err)
	}
}
