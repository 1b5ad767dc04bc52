package cmd

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/internal/pgtest"
)

// writers write secrets through the API until stopped, remembering each write the server
// acknowledged, so that a script can kill the server under them and check afterwards
// that every acknowledged write survived.
type writers struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	acked  map[string]string // secret id → value
	failed int
}

type writersKey struct{}

type writersSlot struct{ w *writers }

func scriptClient(ts *testscript.TestScript) *api.Client {
	c, err := api.NewClient(ts.Getenv("KAZZLE_SERVER"), ts.Getenv("KAZZLE_API_KEY"), &http.Client{Timeout: 10 * time.Second})
	ts.Check(err)
	return c
}

// cmdStartWriters starts N writers that create secrets in $KAZZLE_COLLECTION.
func cmdStartWriters(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: startwriters N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	client := scriptClient(ts)
	collection := ts.Getenv("KAZZLE_COLLECTION")
	w := &writers{stop: make(chan struct{}), acked: map[string]string{}}
	for i := 0; i < n; i++ {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for j := 0; ; j++ {
				select {
				case <-w.stop:
					return
				default:
				}
				raw := make([]byte, 16)
				rand.Read(raw)
				value := "crash-" + hex.EncodeToString(raw)
				s, err := client.CreateSecret(context.Background(), api.CreateSecretRequest{
					Collection: collection, Name: fmt.Sprintf("W%d_%d", i, j), Fields: map[string]string{"value": value}})
				w.mu.Lock()
				if err == nil {
					w.acked[s.ID] = value
				} else {
					w.failed++
				}
				w.mu.Unlock()
				if err != nil {
					time.Sleep(10 * time.Millisecond)
				}
			}
		}()
	}
	ts.Value(writersKey{}).(*writersSlot).w = w
}

func cmdStopWriters(ts *testscript.TestScript, neg bool, args []string) {
	w := ts.Value(writersKey{}).(*writersSlot).w
	close(w.stop)
	w.wg.Wait()
	ts.Logf("writers: %d writes acknowledged, %d failed", len(w.acked), w.failed)
	if len(w.acked) == 0 {
		ts.Fatalf("no write was acknowledged before the server went away")
	}
}

// cmdCheckWrites reads back every acknowledged write.
func cmdCheckWrites(ts *testscript.TestScript, neg bool, args []string) {
	w := ts.Value(writersKey{}).(*writersSlot).w
	client := scriptClient(ts)
	for id, want := range w.acked {
		s, err := client.Reveal(context.Background(), id)
		if err != nil {
			ts.Fatalf("acknowledged secret %s: %v", id, err)
		}
		if s.Fields["value"] != want {
			ts.Fatalf("acknowledged secret %s reads back a different value", id)
		}
	}
	ts.Logf("all %d acknowledged writes are present and decrypt", len(w.acked))
}

// cmdCheckDB runs SQLite's integrity and foreign-key checks on a database file.
func cmdCheckDB(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: checkdb FILE")
	}
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	var result string
	ts.Check(db.QueryRow("PRAGMA integrity_check").Scan(&result))
	if result != "ok" {
		ts.Fatalf("integrity_check: %s", result)
	}
	rows, err := db.Query("PRAGMA foreign_key_check")
	ts.Check(err)
	defer rows.Close()
	if rows.Next() {
		ts.Fatalf("foreign_key_check found dangling rows")
	}
}

// cmdSQLExec runs SQL statements on a stopped server's SQLite file: how a script plants
// a row that no write would accept today, as an older kazzle may have stored it.
func cmdSQLExec(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: sqlexec FILE STATEMENT...")
	}
	db, err := sql.Open("sqlite", "file:"+ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	for _, stmt := range args[1:] {
		res, err := db.Exec(stmt)
		ts.Check(err)
		n, err := res.RowsAffected()
		ts.Check(err)
		if n == 0 {
			ts.Fatalf("%s: no row changed", stmt)
		}
	}
}

// cmdPGDatabase sets the variable NAME to the URL of a new, empty PostgreSQL database
// (internal/pgtest), dropped when the script ends.
func cmdPGDatabase(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: pgdatabase NAME")
	}
	url, drop, err := pgtest.Create(context.Background())
	ts.Check(err)
	ts.Defer(drop)
	ts.Setenv(args[0], url)
}
