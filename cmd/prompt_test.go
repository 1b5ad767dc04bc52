//go:build linux

package cmd

import (
	"bytes"
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

// TestPromptDoesNotEcho types each field only once its prompt is shown, as a person
// does, and checks that the terminal echoes none of it.
func TestPromptDoesNotEcho(t *testing.T) {
	controller, terminal := openPTY(t)
	var stderr syncBuffer
	c := &cli{stdin: terminal, stdout: &bytes.Buffer{}, stderr: &stderr}

	echoed := make(chan string)
	go func() {
		var seen bytes.Buffer
		buf := make([]byte, 256)
		for {
			controller.SetReadDeadline(time.Now().Add(3 * time.Second))
			n, err := controller.Read(buf)
			seen.Write(buf[:n])
			if err != nil {
				echoed <- seen.String()
				return
			}
		}
	}()
	typed := []struct{ prompt, input string }{
		{"DB username: ", "alice"},
		{"DB password: ", "hunter2-typed"},
		{"DB url (optional): ", ""},
	}
	go func() {
		for _, f := range typed {
			deadline := time.Now().Add(5 * time.Second)
			for !strings.Contains(stderr.String(), f.prompt) && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // the prompt is out; echo is already off
			controller.Write([]byte(f.input + "\n"))
		}
	}()
	fields, err := c.readFields("DB", secret.TypeLogin)
	if err != nil {
		t.Fatal(err)
	}
	if fields["username"] != "alice" || fields["password"] != "hunter2-typed" || fields["url"] != "" {
		t.Fatalf("fields = %q", fields)
	}
	terminal.Close()
	if out := <-echoed; strings.Contains(out, "hunter2-typed") || strings.Contains(out, "alice") {
		t.Fatalf("the terminal echoed what was typed: %q", out)
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
		controller.SetReadDeadline(time.Now().Add(time.Second))
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
