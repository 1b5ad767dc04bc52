//go:build linux

package cmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kazzle/kazzle/api"
)

// TestCtrlCReachesARedactedCommandOnce: on a terminal, where kazzle run --redact and the
// command share the foreground process group, one Ctrl-C reaches the command once, not
// once from the terminal and again from kazzle, so a tool that quits hard on a second
// Ctrl-C still cleans up. A SIGTERM sent to kazzle alone is still passed on.
func TestCtrlCReachesARedactedCommandOnce(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 counts the signals here")
	}
	controller, terminal := openPTY(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.ResolveResponse{Vars: []api.Var{{Name: "TOKEN", Value: "tok_signal_test_value_0000"}}})
	}))
	defer srv.Close()
	dir := t.TempDir()
	// The command counts SIGINTs and SIGTERMs for a while after the first one, then
	// says how many it got.
	counter := `
import signal, sys, time
got = []
def note(s, f): got.append(s)
signal.signal(signal.SIGINT, note)
signal.signal(signal.SIGTERM, note)
open(sys.argv[1], "w").close()
while not got: time.sleep(0.01)
end = time.time() + 1
while time.time() < end: time.sleep(0.01)
print("INT=%d TERM=%d" % (got.count(signal.SIGINT), got.count(signal.SIGTERM)), flush=True)
`
	for _, tc := range []struct {
		name string
		send func(kazzle *os.Process) error
		want string
	}{
		{"ctrl-c", func(*os.Process) error { _, err := controller.Write([]byte{3}); return err }, "INT=1 TERM=0"},
		{"sigterm", func(p *os.Process) error { return p.Signal(syscall.SIGTERM) }, "INT=0 TERM=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ready, out := filepath.Join(dir, tc.name+".ready"), filepath.Join(dir, tc.name+".out")
			cmd := exec.Command(os.Args[0], "run", "--redact", "--collection", "app", "--env", "dev", "--",
				"sh", "-c", `exec python3 -c "$1" "$2" > "$3"`, "sh", counter, ready, out)
			cmd.Args[0] = "kazzle" // testscript's TestMain runs Main for it
			cmd.Env = append(os.Environ(), "KAZZLE_SERVER="+srv.URL, "KAZZLE_API_KEY=kzl_signalTestKey000000000000000000000")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = terminal, terminal, terminal
			// A session of its own with the terminal as its controlling terminal: kazzle
			// is then the foreground process group, as when a person runs it.
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { // keep the terminal's output flowing
				buf := make([]byte, 4096)
				for {
					if _, err := controller.Read(buf); err != nil {
						return
					}
				}
			}()
			deadline := time.Now().Add(10 * time.Second)
			for _, err := os.Stat(ready); err != nil; _, err = os.Stat(ready) {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatal("the command did not start")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if err := tc.send(cmd.Process); err != nil {
				cmd.Process.Kill()
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				t.Fatal("kazzle did not end")
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(string(got)) != tc.want {
				t.Fatalf("the command got %q, want %q", strings.TrimSpace(string(got)), tc.want)
			}
		})
	}
}
