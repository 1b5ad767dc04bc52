//go:build linux

package cmd

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kazzle/kazzle/deployer"
	"github.com/kazzle/kazzle/secret"
)

// openPTY returns the controller and the terminal of a new pseudo-terminal pair.
func openPTY(t *testing.T) (controller, terminal *os.File) {
	t.Helper()
	controller, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(controller.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	terminal, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { terminal.Close(); controller.Close() })
	return controller, terminal
}

// syncBuffer is a bytes.Buffer safe to read while the CLI writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPromptDoesNotEcho types each field only once its prompt is shown and the terminal
// has echo off, as a person does after the prompt, and checks that the terminal echoes
// none of it.
func TestPromptDoesNotEcho(t *testing.T) {
	controller, terminal := openPTY(t)
	var stderr syncBuffer
	c := &cli{stdin: terminal, stdout: &bytes.Buffer{}, stderr: &stderr}

	type echo struct {
		out string
		err error
	}
	echoed := make(chan echo, 1)
	go func() {
		var seen bytes.Buffer
		buf := make([]byte, 256)
		for {
			if err := controller.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
				echoed <- echo{err: err}
				return
			}
			n, err := controller.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				echoed <- echo{out: seen.String()}
				return
			}
		}
	}()
	typed := []struct{ prompt, input string }{
		{"DB username: ", "alice"},
		{"DB password: ", "hunter2-typed"},
		{"DB url (optional): ", ""},
	}
	typing := make(chan error, 1)
	go func() {
		typing <- func() error {
			for _, f := range typed {
				if err := waitFor(5*time.Second, func() (bool, error) {
					if !strings.Contains(stderr.String(), f.prompt) {
						return false, nil
					}
					// The prompt comes out before echo goes off: wait for that too.
					tio, err := unix.IoctlGetTermios(int(terminal.Fd()), unix.TCGETS)
					return err == nil && tio.Lflag&unix.ECHO == 0, err
				}); err != nil {
					return fmt.Errorf("waiting for the prompt %q with echo off: %w", f.prompt, err)
				}
				if _, err := controller.Write([]byte(f.input + "\n")); err != nil {
					return err
				}
			}
			return nil
		}()
	}()
	fields, err := c.readFields("DB", secret.TypeLogin, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-typing; err != nil {
		t.Fatal(err)
	}
	if fields["username"] != "alice" || fields["password"] != "hunter2-typed" || fields["url"] != "" {
		t.Fatalf("fields = %q", fields)
	}
	terminal.Close()
	e := <-echoed
	if e.err != nil {
		t.Fatal(e.err)
	}
	if strings.Contains(e.out, "hunter2-typed") || strings.Contains(e.out, "alice") {
		t.Fatalf("the terminal echoed what was typed: %q", e.out)
	}
}

// waitFor polls cond until it holds, fails, or the time is up.
func waitFor(limit time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := cond()
		if ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDeployAsksOnATerminalOnly: on a terminal deploy asks and applies only on y or yes;
// without one it needs --yes.
func TestDeployAsksOnATerminalOnly(t *testing.T) {
	_, terminal := openPTY(t)
	c := &cli{stdin: terminal, stderr: &bytes.Buffer{}}
	if ask, err := c.canConfirm(false, false); !ask || err != nil {
		t.Fatalf("on a terminal: ask=%v err=%v, want a question", ask, err)
	}
	if ask, err := c.canConfirm(false, true); ask || err != nil {
		t.Fatalf("--yes on a terminal: ask=%v err=%v, want no question", ask, err)
	}
	c.stdin = strings.NewReader("")
	if _, err := c.canConfirm(false, false); err == nil || !strings.Contains(err.Error(), "pass --yes") {
		t.Fatalf("without a terminal: err=%v, want a request for --yes", err)
	}
	if ask, err := c.canConfirm(true, false); ask || err != nil {
		t.Fatalf("--plan without a terminal: ask=%v err=%v", ask, err)
	}
	for answer, want := range map[string]bool{"y\n": true, "YES\n": true, "\n": false, "n\n": false, "sure\n": false, "": false} {
		var stderr bytes.Buffer
		c := &cli{stdin: strings.NewReader(answer), stderr: &stderr}
		if got := c.confirm("Apply? [y/N] "); got != want || stderr.String() != "Apply? [y/N] " {
			t.Errorf("answer %q: confirm = %v (asked %q), want %v", answer, got, stderr.String(), want)
		}
	}
}

// TestDeployProgressRedrawsOneLinePerComponent: on a terminal each component keeps one
// line, rewritten in place as its deploy goes on.
func TestDeployProgressRedrawsOneLinePerComponent(t *testing.T) {
	controller, terminal := openPTY(t)
	c := &cli{stderr: terminal}
	plans := []deployer.ComponentPlan{
		{Component: "api", Targets: []deployer.TargetPlan{{Target: "aws.lambda api (us-east-1)", Changes: []deployer.Change{{Key: "A", Op: deployer.Add}}}}},
		{Component: "idle", Targets: []deployer.TargetPlan{{Target: "aws.lambda idle (us-east-1)"}}},
		{Component: "worker", Targets: []deployer.TargetPlan{{Target: "aws.ssm /w/ (us-east-1)", Changes: []deployer.Change{{Key: "B", Op: deployer.Add}}}}},
	}
	progress := c.progressView(plans)
	progress(deployer.Progress{Component: "api", Target: "aws.lambda api (us-east-1)", Step: "writing"})
	progress(deployer.Progress{Component: "worker", Target: "aws.ssm /w/ (us-east-1)", Step: "done"})
	terminal.Close()
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		if err := controller.SetReadDeadline(time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		n, err := controller.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	got := out.String()
	for _, want := range []string{
		"\x1b[2K  api                  aws.lambda api (us-east-1): writing",
		"\x1b[2K  worker               waiting",
		"\x1b[2A", // the second update goes back over the two lines
		"\x1b[2K  worker               aws.ssm /w/ (us-east-1): done",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the terminal did not get %q; it got %q", want, got)
		}
	}
	if strings.Contains(got, "idle") {
		t.Errorf("a component with nothing to do has a progress line: %q", got)
	}
}
