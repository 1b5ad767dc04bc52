// Package pgtest gives tests a fresh PostgreSQL database on the cluster that
// KAZZLE_TEST_POSTGRES names (make test and .ci/run start one with
// scripts/postgres.sh). Without it a test skips, saying how to run it; under CI=true it
// fails instead, so that no PostgreSQL test is ever skipped in CI.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kazzle/kazzle/internal/testenv"
)

// EnvVar names the cluster: a postgres:// URL of a database that may create databases.
const EnvVar = "KAZZLE_TEST_POSTGRES"

// Database creates an empty database for the test, dropped when it ends, and returns
// its URL.
func Database(t testing.TB) string {
	t.Helper()
	if os.Getenv(EnvVar) == "" {
		testenv.Missing(t, "PostgreSQL", fmt.Sprintf("set %s (eval \"$(scripts/postgres.sh start /tmp/kazzle-pg)\"), or run make test, which starts one when PostgreSQL is installed", EnvVar))
		return ""
	}
	url, drop, err := Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return url
}

// Create makes an empty database on the cluster of EnvVar and returns its URL and the
// function that drops it.
func Create(ctx context.Context) (string, func(), error) {
	admin := os.Getenv(EnvVar)
	if admin == "" {
		return "", nil, fmt.Errorf("%s is not set", EnvVar)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", EnvVar, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("connect to %s: %w", EnvVar, err)
	}
	defer conn.Close(ctx)
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := "kazzle_test_" + hex.EncodeToString(suffix)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("create database %s: %w", name, err)
	}
	drop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, admin); err == nil {
			conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			conn.Close(ctx)
		}
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}
