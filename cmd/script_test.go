package cmd

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"kazzle":     func() { os.Exit(Main(os.Args[1:])) },
		"kzl-encode": encodeMain,
	})
}

// TestScripts runs cmd/testdata/script/*.txtar: the real kazzle binary against a real
// dev server on loopback.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("KAZZLE_SERVER", "")
			env.Setenv("KAZZLE_API_KEY", "")
			env.Setenv("KAZZLE_API_KEY_FILE", "")
			for _, name := range []string{"KAZZLE_OIDC_TOKEN", "KAZZLE_OIDC_PROVIDER", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"} {
				env.Setenv(name, "")
			}
			fixtures, err := filepath.Abs("../fixtures")
			if err != nil {
				return err
			}
			env.Setenv("FIXTURES", fixtures)
			env.Values[serverKey{}] = &serverSlot{}
			env.Values[writersKey{}] = &writersSlot{}
			env.Values[awsfakeKey{}] = &awsfakeSlot{}
			env.Values[mcpKey{}] = &mcpSlot{}
			env.Values[elicitKey{}] = &elicitSlot{}
			env.Values[oidcFakeKey{}] = &oidcFakeSlot{}
			env.Values[upstreamsKey{}] = &upstreams{byName: map[string]*upstream{}}
			return nil
		},
		Condition: toolsCondition,
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"startserver":    cmdStartServer,
			"stopserver":     cmdStopServer,
			"killserver":     cmdKillServer,
			"envfromstdout":  cmdEnvFromStdout,
			"startwriters":   cmdStartWriters,
			"stopwriters":    cmdStopWriters,
			"checkwrites":    cmdCheckWrites,
			"markwrites":     cmdMarkWrites,
			"checkmarked":    cmdCheckMarked,
			"checkmode":      cmdCheckMode,
			"nokey":          cmdNoKey,
			"checkdb":        cmdCheckDB,
			"sqlexec":        cmdSQLExec,
			"gencert":        cmdGenCert,
			"startawsfake":   cmdStartAWSFake,
			"awscalls":       cmdAWSCalls,
			"awsput":         cmdAWSPut,
			"startmcp":       cmdStartMCP,
			"mcpcall":        cmdMCPCall,
			"mcpinit":        cmdMCPInit,
			"mcpnoleak":      cmdMCPNoLeak,
			"mcpvar":         cmdMCPVar,
			"elicitfill":     cmdElicitFill,
			"browserfill":    cmdBrowserFill,
			"elicited":       cmdElicited,
			"startreflector": cmdStartReflector,
			"starttls":       cmdStartTLS,
			"tlshits":        cmdTLSHits,
			"pgdatabase":     cmdPGDatabase,
			"awsshow":        cmdAWSShow,
			"copyfixture":    cmdCopyFixture,
			"golden":         cmdGolden,
			"startoidcfake":  cmdStartOIDCFake,
			"oidcfake":       cmdOIDCFake,
			"expandenv":      cmdExpandEnv,
		},
	})
}

type runningServer struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	log  bytes.Buffer
	done chan error
}

func (s *runningServer) logText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// cmdStartServer starts `kazzle server` (by default --dev with its data in $WORK/data on
// a free port; else with the given arguments), waits until it listens, and sets
// KAZZLE_SERVER, plus KAZZLE_API_KEY on a first start.
func cmdStartServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! startserver")
	}
	kazzle, err := lookPathIn("kazzle", ts.Getenv("PATH"))
	ts.Check(err)
	if len(args) == 0 {
		args = []string{"--dev", "--data", ts.MkAbs("data"), "--listen", "127.0.0.1:0"}
	}
	cmd := exec.Command(kazzle, append([]string{"server"}, args...)...)
	cmd.Dir = ts.MkAbs(".")
	cmd.Env = []string{"PATH=" + ts.Getenv("PATH"), "HOME=" + ts.Getenv("HOME")}
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "KAZZLE_POSTGRES_URL"} {
		if v := ts.Getenv(name); v != "" {
			cmd.Env = append(cmd.Env, name+"="+v)
		}
	}
	stderr, err := cmd.StderrPipe()
	ts.Check(err)
	ts.Check(cmd.Start())
	s := &runningServer{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.log.WriteString(line + "\n")
			s.mu.Unlock()
			if key, ok := strings.CutPrefix(line, "kazzle: admin API key: "); ok {
				ts.Setenv("KAZZLE_API_KEY", key)
			}
			if url, ok := strings.CutPrefix(line, "kazzle: server listening on "); ok {
				ready <- url
			}
		}
		s.done <- cmd.Wait()
	}()
	select {
	case url := <-ready:
		ts.Setenv("KAZZLE_SERVER", url)
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		ts.Fatalf("the server did not start:\n%s", s.logText())
	}
	ts.Value(serverKey{}).(*serverSlot).s = s
	ts.Defer(func() { cmd.Process.Kill() })
}

type serverKey struct{}

// serverSlot holds a script's server between commands.
type serverSlot struct{ s *runningServer }

func currentServer(ts *testscript.TestScript) *runningServer {
	s := ts.Value(serverKey{}).(*serverSlot).s
	if s == nil {
		ts.Fatalf("no server: run startserver first")
	}
	return s
}

// cmdStopServer sends SIGTERM and requires a clean, graceful exit.
func cmdStopServer(ts *testscript.TestScript, neg bool, args []string) {
	s := currentServer(ts)
	ts.Check(s.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-s.done:
		if err != nil {
			ts.Fatalf("server exited with %v:\n%s", err, s.logText())
		}
	case <-time.After(15 * time.Second):
		ts.Fatalf("server did not stop on SIGTERM:\n%s", s.logText())
	}
	if !strings.Contains(s.logText(), "kazzle: server stopped") {
		ts.Fatalf("server stopped without saying so:\n%s", s.logText())
	}
	// The log goes to $WORK/server.log, so that scripts can check what it holds.
	ts.Check(os.WriteFile(ts.MkAbs("server.log"), []byte(s.logText()), 0o600))
}

// cmdKillServer kills the server with SIGKILL: no chance to clean up.
func cmdKillServer(ts *testscript.TestScript, neg bool, args []string) {
	s := currentServer(ts)
	ts.Check(s.cmd.Process.Kill())
	<-s.done
}

// cmdEnvFromStdout sets an environment variable to the previous command's stdout, trimmed.
func cmdEnvFromStdout(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: envfromstdout NAME")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile("stdout")))
}

func lookPathIn(name, path string) (string, error) {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return exec.LookPath(name)
}
