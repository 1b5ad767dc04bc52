package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdMarkWrites writes the writes acknowledged so far (secret id → value) to FILE: what
// a backup that begins after it must hold.
func cmdMarkWrites(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: markwrites FILE")
	}
	w := ts.Value(writersKey{}).(*writersSlot).w
	if w == nil {
		ts.Fatalf("no writers: run startwriters first")
	}
	w.mu.Lock()
	data, err := json.Marshal(w.acked)
	n := len(w.acked)
	w.mu.Unlock()
	ts.Check(err)
	if n == 0 {
		ts.Fatalf("markwrites: no write acknowledged yet")
	}
	ts.Logf("markwrites: %d writes acknowledged", n)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o600))
}

// cmdCheckMarked reads back every write that markwrites recorded in FILE.
func cmdCheckMarked(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: checkmarked FILE")
	}
	var marked map[string]string
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &marked))
	client := scriptClient(ts)
	for id, want := range marked {
		s, err := client.Reveal(context.Background(), id)
		if err != nil {
			ts.Fatalf("write acknowledged before the backup, secret %s: %v", id, err)
		}
		if s.Fields["value"] != want {
			ts.Fatalf("write acknowledged before the backup, secret %s, reads back a different value", id)
		}
	}
	ts.Logf("all %d writes acknowledged before the backup read back", len(marked))
}

// cmdCheckMode requires FILE's permission bits to be MODE (octal).
func cmdCheckMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: checkmode MODE FILE")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := fi.Mode().Perm(); got != os.FileMode(want) {
		ts.Fatalf("%s has mode %04o, want %04o", args[1], got, want)
	}
}

// cmdNoKey requires that FILE holds the local root key in KEYFILE neither as the file
// has it (base64) nor as raw bytes.
func cmdNoKey(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: nokey FILE KEYFILE")
	}
	data := []byte(ts.ReadFile(args[0]))
	encoded := strings.TrimSpace(ts.ReadFile(args[1]))
	raw, err := base64.StdEncoding.DecodeString(encoded)
	ts.Check(err)
	if bytes.Contains(data, []byte(encoded)) || bytes.Contains(data, raw) {
		ts.Fatalf("%s holds the root key of %s", args[0], args[1])
	}
}
