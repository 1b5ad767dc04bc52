package cmd

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/rogpeppe/go-internal/testscript"
)

// encodeMain is the kzl-encode command of the MCP scripts: it prints each argument in
// every encoding kazzle mcp redacts, alone and inside longer encoded texts at each of
// the three byte alignments, the way an AI's command could print a secret.
func encodeMain() {
	for _, v := range os.Args[1:] {
		b := []byte(v)
		quoted, err := json.Marshal(v)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Printf("raw: %s\n", v)
		fmt.Printf("json: {\"v\":%s}\n", quoted)
		fmt.Printf("query: a=1&v=%s&b=2\n", url.QueryEscape(v))
		fmt.Printf("query %%20: v=%s\n", strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		fmt.Printf("hex: %s\nHEX: %s\n", hex.EncodeToString(b), strings.ToUpper(hex.EncodeToString(b)))
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
			fmt.Printf("base64: %s\n", enc.EncodeToString(b))
			for shift := range 3 {
				framed := append(append([]byte(strings.Repeat("k", shift)+"user:"), b...), "@end"...)
				fmt.Printf("base64 at %d: Basic %s\n", shift, enc.EncodeToString(framed))
			}
		}
	}
}

type mcpKey struct{}

// mcpSlot holds the script's MCP session and the text of its last result.
type mcpSlot struct {
	session *sdk.ClientSession
	last    string
	result  *sdk.CallToolResult
	// progress, when the client asks for it (startmcp -progress), gathers the progress
	// notifications of the current call, which join last.
	progress *strings.Builder
	mu       sync.Mutex
}

// cmdStartMCP starts `kazzle mcp ARGS…` with the script's environment and connects the
// go-sdk client to it over its stdin and stdout. Its stderr goes to $WORK/mcp.stderr: a
// file, so that what it wrote before answering the client is there once Connect returns.
func cmdStartMCP(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! startmcp")
	}
	slot := ts.Value(mcpKey{}).(*mcpSlot)
	if slot.session != nil {
		slot.session.Close()
	}
	slot.progress = nil
	// Options of the client come first: -protocol=VERSION (default the SDK's latest),
	// -elicit (it declares URL elicitation, handled as elicitfill arms it), -progress (its calls carry a progress
	// token, and the notifications they get are printed with the result).
	var clientOpts *sdk.ClientOptions
	protocol := ""
	for len(args) > 0 && strings.HasPrefix(args[0], "-") && !strings.HasPrefix(args[0], "--") {
		switch opt := args[0]; {
		case strings.HasPrefix(opt, "-protocol="):
			protocol = strings.TrimPrefix(opt, "-protocol=")
		case opt == "-progress":
			slot.progress = &strings.Builder{}
			if clientOpts == nil {
				clientOpts = &sdk.ClientOptions{}
			}
			clientOpts.ProgressNotificationHandler = func(_ context.Context, req *sdk.ProgressNotificationClientRequest) {
				slot.mu.Lock()
				defer slot.mu.Unlock()
				fmt.Fprintf(slot.progress, "progress: %.0f/%.0f %s\n", req.Params.Progress, req.Params.Total, req.Params.Message)
			}
		case opt == "-elicit":
			if clientOpts == nil {
				clientOpts = &sdk.ClientOptions{}
			}
			clientOpts.ElicitationHandler = elicitOf(ts).handle
			clientOpts.Capabilities = &sdk.ClientCapabilities{Elicitation: &sdk.ElicitationCapabilities{URL: &sdk.URLElicitationCapabilities{}}}
		default:
			ts.Fatalf("startmcp: unknown client option %s", opt)
		}
		args = args[1:]
	}
	es := elicitOf(ts)
	es.mu.Lock()
	es.asked, es.fill, es.decline = nil, nil, false
	es.mu.Unlock()
	kazzle, err := lookPathIn("kazzle", ts.Getenv("PATH"))
	ts.Check(err)
	cmd := exec.Command(kazzle, append([]string{"mcp"}, args...)...)
	cmd.Dir = ts.MkAbs(".")
	for _, name := range []string{"PATH", "HOME", "KAZZLE_SERVER", "KAZZLE_API_KEY", "KAZZLE_API_KEY_FILE", "KAZZLE_COLLECTION", "SSL_CERT_FILE"} {
		cmd.Env = append(cmd.Env, name+"="+ts.Getenv(name))
	}
	stderr, err := os.Create(ts.MkAbs("mcp.stderr"))
	ts.Check(err)
	defer stderr.Close() // the child has its own copy
	cmd.Stderr = stderr
	client := sdk.NewClient(&sdk.Implementation{Name: "kazzle-test", Version: "1"}, clientOpts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	session, err := client.Connect(ctx, &sdk.CommandTransport{Command: cmd}, &sdk.ClientSessionOptions{ProtocolVersion: protocol})
	ts.Check(err)
	slot.session = session
	ts.Defer(func() { session.Close() })
}

// cmdMCPInit prints the instructions the MCP server gave the client when it connected.
func cmdMCPInit(ts *testscript.TestScript, neg bool, args []string) {
	slot := ts.Value(mcpKey{}).(*mcpSlot)
	if neg || slot.session == nil {
		ts.Fatalf("usage: startmcp, then mcpinit")
	}
	fmt.Fprintln(ts.Stdout(), slot.session.InitializeResult().Instructions)
}

// cmdMCPCall calls a tool with JSON arguments (in which ${NAME} is a variable of the
// script) and prints its result: "error: true" for
// a tool error, then the text content. ! mcpcall expects a tool error.
func cmdMCPCall(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mcpcall TOOL JSON-ARGUMENTS")
	}
	slot := ts.Value(mcpKey{}).(*mcpSlot)
	if slot.session == nil {
		ts.Fatalf("no MCP session: run startmcp first")
	}
	var arguments map[string]any
	// ${NAME} of the script's environment is expanded; ${secret.…} is left for kazzle.
	expanded := scriptVar.ReplaceAllStringFunc(args[1], func(m string) string { return ts.Getenv(m[2 : len(m)-1]) })
	ts.Check(json.Unmarshal([]byte(expanded), &arguments))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	params := &sdk.CallToolParams{Name: args[0], Arguments: arguments}
	if slot.progress != nil {
		slot.mu.Lock()
		slot.progress.Reset()
		slot.mu.Unlock()
		params.SetProgressToken("call-" + args[0])
	}
	res, err := slot.session.CallTool(ctx, params)
	ts.Check(err)
	var out bytes.Buffer
	if slot.progress != nil {
		slot.mu.Lock()
		out.WriteString(slot.progress.String())
		slot.mu.Unlock()
	}
	if res.IsError {
		out.WriteString("error: true\n")
	}
	for _, c := range res.Content {
		if text, ok := c.(*sdk.TextContent); ok {
			out.WriteString(text.Text + "\n")
		}
	}
	// The whole result as the client received it, structured content included.
	whole, err := json.Marshal(res)
	ts.Check(err)
	slot.last, slot.result = out.String()+"\n"+string(whole), res
	fmt.Fprint(ts.Stdout(), out.String())
	if res.IsError != neg {
		ts.Fatalf("%s: tool error = %v, want %v", args[0], res.IsError, neg)
	}
}

// cmdMCPNoLeak fails if the last MCP result carries the value in any of FILES (each
// holds one value) in any encoding: raw, JSON-escaped, URL-encoded, hex, or base64 at
// any alignment (found by decoding every run of base64 characters at each offset).
func cmdMCPNoLeak(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: mcpnoleak VALUE-FILE…")
	}
	last := ts.Value(mcpKey{}).(*mcpSlot).last
	for _, f := range args {
		v := strings.TrimSuffix(ts.ReadFile(f), "\n")
		where, err := leakIn(last, v)
		ts.Check(err)
		if where != "" {
			ts.Fatalf("the result carries the value of %s %s", f, where)
		}
	}
}

// cmdMCPVar sets NAME to the string at KEY (dot-separated) of the last result's
// structured content.
func cmdMCPVar(ts *testscript.TestScript, neg bool, args []string) {
	slot := ts.Value(mcpKey{}).(*mcpSlot)
	if neg || len(args) != 2 || slot.result == nil {
		ts.Fatalf("usage: mcpcall …, then mcpvar NAME KEY")
	}
	raw, err := json.Marshal(slot.result.StructuredContent)
	ts.Check(err)
	var v any
	ts.Check(json.Unmarshal(raw, &v))
	for _, k := range strings.Split(args[1], ".") {
		m, ok := v.(map[string]any)
		if !ok {
			ts.Fatalf("the last result has no %s", args[1])
		}
		v = m[k]
	}
	str, ok := v.(string)
	if !ok {
		ts.Fatalf("the last result's %s is %v, not a string", args[1], v)
	}
	ts.Setenv(args[0], str)
}

var scriptVar = regexp.MustCompile(`\$\{[A-Z_][A-Z0-9_]*\}`)

var base64Run = regexp.MustCompile(`[A-Za-z0-9+/_-]{8,}`)

func leakIn(text, v string) (string, error) {
	quoted, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	doubly, err := json.Marshal(string(quoted)) // inside JSON text inside JSON
	if err != nil {
		return "", err
	}
	forms := map[string]string{
		"raw":            v,
		"JSON-escaped":   string(quoted[1 : len(quoted)-1]),
		"twice escaped":  string(doubly[3 : len(doubly)-3]),
		"URL-encoded":    url.QueryEscape(v),
		"URL-encoded 20": strings.ReplaceAll(url.QueryEscape(v), "+", "%20"),
		"hex":            hex.EncodeToString([]byte(v)),
		"HEX":            strings.ToUpper(hex.EncodeToString([]byte(v))),
	}
	names := make([]string, 0, len(forms))
	for n := range forms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.Contains(text, forms[n]) {
			return "as " + n, nil
		}
	}
	// Dumps wrap and space out their lines: look again with line breaks (real, or
	// escaped in JSON) and spaces taken out.
	flat := strings.NewReplacer(`\r`, "", `\n`, "", "\r", "", "\n", "", " ", "", "\t", "").Replace(text)
	for _, n := range []string{"hex", "HEX"} {
		if strings.Contains(flat, forms[n]) {
			return "as " + n + ", wrapped", nil
		}
	}
	probe := []byte(v)
	if len(probe) > 12 {
		probe = probe[:12]
	}
	for _, run := range append(base64Run.FindAllString(text, -1), base64Run.FindAllString(flat, -1)...) {
		for off := range 4 {
			s := run[off:]
			s = s[:len(s)/4*4]
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				if b, err := enc.DecodeString(s); err == nil && bytes.Contains(b, probe) {
					return "in base64: " + run, nil
				}
			}
		}
	}
	return "", nil
}

// cmdStartReflector starts an HTTP server on loopback that answers with everything it
// was sent, as JSON and base64 in the body and in headers; /fail does so with a 500.
// REFLECTOR is its URL. A request it cannot echo whole gets a 400, which no script
// expects, so that mcpnoleak never passes on a partial echo.
func cmdStartReflector(ts *testscript.TestScript, neg bool, args []string) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "reflector: reading the body: "+err.Error(), http.StatusBadRequest)
			return
		}
		echo, err := json.Marshal(map[string]any{"method": r.Method, "url": r.URL.String(), "headers": r.Header, "body": string(body)})
		if err != nil {
			http.Error(w, "reflector: "+err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Echo-Authorization", r.Header.Get("Authorization"))
		w.Header().Set("X-Echo-Base64", base64.StdEncoding.EncodeToString(body))
		status := http.StatusOK
		if r.URL.Path == "/fail" {
			status = http.StatusInternalServerError
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s\nbase64: %s\n", echo, base64.StdEncoding.EncodeToString(echo))
	}))
	ts.Defer(srv.Close)
	ts.Setenv("REFLECTOR", srv.URL)
}
