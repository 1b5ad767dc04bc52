// Package pgtest gives tests a fresh PostgreSQL database on the cluster that
// KAZZLE_TEST_POSTGRES names (make test and .ci/run start one with
// scripts/postgres.sh). Without it a test skips, saying how to run it; under CI=true it
// fails instead, so that no PostgreSQL test is ever skipped in CI.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvVar names the cluster: a postgres:// URL of a database that may create databases.
const EnvVar = "KAZZLE_TEST_POSTGRES"

// Database creates an empty database for the test, dropped when it ends, and returns
// its URL.
func Database(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvVar)
	if admin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: under CI, .ci/run starts PostgreSQL (scripts/postgres.sh) and the PostgreSQL tests must run", EnvVar)
		}
		t.Skipf("no PostgreSQL: set %s (eval \"$(scripts/postgres.sh start /tmp/kazzle-pg)\"), or run make test, which starts one when PostgreSQL is installed", EnvVar)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvVar, err)
	}
	defer conn.Close(ctx)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := "kazzle_test_" + hex.EncodeToString(suffix)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, admin); err == nil {
			conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", EnvVar, err)
	}
	u.Path = "/" + name
	return u.String()
}
