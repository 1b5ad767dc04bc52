package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/vault"
)

// TestAnOIDCRuleOfADeletedSpaceMakesNoKey: once the space a rule names is deleted, a
// token the rule matches gets no key, in no space, and the name cannot be taken again.
func TestAnOIDCRuleOfADeletedSpaceMakesNoKey(t *testing.T) {
	w := newOIDCWorld(t)
	ctx := context.Background()
	if status, _, body := w.exchange(t, "github", w.token(t, nil)); status != http.StatusOK {
		t.Fatalf("exchange before the deletion: %d %s", status, body)
	}
	if _, err := w.Vault.CreateSpace(ctx, w.Actor, "globex"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Vault.DeleteSpace(ctx, w.Actor, "acme"); err != nil {
		t.Fatal(err)
	}
	status, _, body := w.exchange(t, "github", w.token(t, nil))
	if status != http.StatusForbidden || !strings.Contains(body, `space "acme" is not a live space`) {
		t.Fatalf("exchange for the deleted space: %d %s, want 403 saying the rule's space is not live", status, body)
	}
	spaces, err := w.Store.Spaces(ctx)
	if err != nil || len(spaces) != 1 {
		t.Fatalf("live spaces: %+v, %v", spaces, err)
	}
	if keys, err := w.Store.APIKeys(ctx, spaces[0].ID); err != nil || len(keys) != 0 {
		t.Fatalf("keys of globex after the exchange: %d, %v; want none", len(keys), err)
	}
	if _, err := w.Vault.CreateSpace(ctx, w.Actor, "acme"); !errors.Is(err, vault.ErrExists) {
		t.Fatalf("a new space named as the deleted one: %v, want the name taken", err)
	}
}
