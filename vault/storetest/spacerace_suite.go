package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/kazzle/kazzle/vault"
)

// concurrently runs fn(i) for i in [0, n) at once and returns the errors by i.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// testConcurrentCreatesOfOneNameMakeOneSpace: of creations of one name racing, through
// two vaults on one store as through two replicas, one wins and the others are told the
// name is taken; deleting a space while its name is created again leaves it deleted and
// taken.
func testConcurrentCreatesOfOneNameMakeOneSpace(t *testing.T, f *Fixture) {
	ctx := context.Background()
	other := vault.New(f.Store, f.Wrapper, vault.Options{Now: f.Clock.Now})
	vaults := []*vault.Vault{f.Vault, other}
	errs := concurrently(8, func(i int) error {
		_, err := vaults[i%2].CreateSpace(ctx, f.Actor, "initech")
		return err
	})
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, vault.ErrExists):
			t.Fatalf("a creation that lost the race: %v, want the name taken", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d of 8 racing creations of one name succeeded, want 1", won)
	}

	if _, err := f.Vault.CreateSpace(ctx, f.Actor, "globex"); err != nil {
		t.Fatal(err)
	}
	errs = concurrently(8, func(i int) error {
		if i == 0 {
			_, err := f.Vault.DeleteSpace(ctx, f.Actor, "globex")
			return err
		}
		_, err := vaults[i%2].CreateSpace(ctx, f.Actor, "globex")
		if !errors.Is(err, vault.ErrExists) {
			return fmt.Errorf("a creation of globex while it is deleted: %v, want the name taken", err)
		}
		return nil
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	all, err := f.Store.AllSpaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]int{}
	for _, s := range all {
		names[s.Name]++
		if s.Name == "globex" && s.DeletedAt.IsZero() {
			t.Fatal("globex is live after its deletion raced its creation")
		}
	}
	if names["initech"] != 1 || names["globex"] != 1 {
		t.Fatalf("names held: %v, want initech and globex once each", names)
	}
}

// testTheSpaceCapHoldsUnderConcurrentCreates: creations racing through two vaults on
// one store, as through two replicas, never take the server past MaxSpaces.
func testTheSpaceCapHoldsUnderConcurrentCreates(t *testing.T, f *Fixture) {
	ctx := context.Background()
	vaults := []*vault.Vault{
		vault.New(f.Store, f.Wrapper, vault.Options{MaxSpaces: 3, Now: f.Clock.Now}),
		vault.New(f.Store, f.Wrapper, vault.Options{MaxSpaces: 3, Now: f.Clock.Now}),
	}
	errs := concurrently(8, func(i int) error {
		_, err := vaults[i%2].CreateSpace(ctx, f.Actor, fmt.Sprintf("space-%d", i))
		return err
	})
	made := 0
	for _, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, vault.ErrLimit):
			t.Fatalf("a creation past the cap: %v, want the limit", err)
		}
	}
	live, err := f.Store.Spaces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if made != 2 || len(live) != 3 {
		t.Fatalf("%d racing creations succeeded and %d spaces are live; want 2 beside acme, 3 in all (the cap)", made, len(live))
	}
}

// testRacingOperatorKeyRotationsLeaveOne: of new operator keys that each revoke the
// others, made at once through two vaults as through two hosts, exactly one works.
func testRacingOperatorKeyRotationsLeaveOne(t *testing.T, f *Fixture) {
	ctx := context.Background()
	other := vault.New(f.Store, f.Wrapper, vault.Options{Now: f.Clock.Now})
	vaults := []*vault.Vault{f.Vault, other}
	tokens := make([]string, 6)
	errs := concurrently(len(tokens), func(i int) (err error) {
		_, tokens[i], err = vaults[i%2].CreateOperatorKey(ctx, f.Actor, true)
		return err
	})
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	f.Clock.Advance(2 * vault.KeyCacheTTL)
	working := 0
	for _, tok := range tokens {
		if _, err := f.Vault.Authenticate(ctx, tok); err == nil {
			working++
		}
	}
	if working != 1 {
		t.Fatalf("%d of %d racing operator keys that revoke the others work, want 1", working, len(tokens))
	}
}
