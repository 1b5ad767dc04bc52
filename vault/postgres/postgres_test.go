package postgres_test

import (
	"context"
	"testing"

	"github.com/kazzle/kazzle/internal/pgtest"
	"github.com/kazzle/kazzle/vault"
	"github.com/kazzle/kazzle/vault/postgres"
	"github.com/kazzle/kazzle/vault/storetest"
)

func openTemp(t *testing.T) vault.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreSuite(t *testing.T) { storetest.Run(t, openTemp) }
