package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

var (
	errTimeLimit   = errors.New("time limit")
	errMemoryLimit = errors.New("memory limit")
)

// stringLimits gives the string methods that build a long result at once the limit
// V8 has (Node's "Invalid string length"): goja has none, and such a call runs in Go
// without yielding to the time limit, allocating all it is asked for.
const stringLimits = `(() => {
  const max = 536870888;
  const guard = (name, length) => {
    const original = String.prototype[name];
    Object.defineProperty(String.prototype, name, {
      value: function (...args) {
        if (length(String(this), ...args) > max) throw new RangeError("Invalid string length");
        return original.apply(this, args);
      },
      writable: true, configurable: true,
    });
  };
  guard("repeat", (s, n) => s.length * Math.max(0, Math.floor(Number(n)) || 0));
  guard("padStart", (s, n) => Number(n));
  guard("padEnd", (s, n) => Number(n));
})();`

// maxDepth bounds how deeply a config's value may nest, which also stops a cycle.
const maxDepth = 32

// runScript runs a bundled config in goja, with nothing but the language and a console:
// no file system, network, process or timers. It returns the default export's value
// (called with { env } if it is a function, awaited if it is a promise) as JSON.
func runScript(req evalRequest, stderr io.Writer) (json.RawMessage, *Message) {
	rt := goja.New()
	rt.SetMaxCallStackSize(req.MaxStack)
	installConsole(rt, stderr)
	if _, err := rt.RunString(stringLimits); err != nil {
		return nil, &Message{Text: "set up the config runtime: " + err.Error()}
	}

	limit := time.AfterFunc(time.Duration(req.TimeoutMS)*time.Millisecond, func() { rt.Interrupt(errTimeLimit) })
	defer limit.Stop()
	stopWatch := watchMemory(rt, req.MemoryLimit)
	defer stopWatch()

	ast, err := goja.Parse(req.ScriptName, req.Script, parser.WithSourceMapLoader(func(string) ([]byte, error) {
		return nil, errors.New("the config's source map is inline")
	}))
	if err != nil {
		return nil, &Message{File: req.ScriptName, Text: "parse the bundled config: " + err.Error()}
	}
	prg, err := goja.CompileAST(ast, true)
	if err != nil {
		return nil, &Message{File: req.ScriptName, Text: "compile the bundled config: " + err.Error()}
	}
	if _, err := rt.RunProgram(prg); err != nil {
		return nil, scriptError(req, err)
	}
	exports := rt.Get(bundleGlobal)
	var value goja.Value
	if exports != nil && !goja.IsUndefined(exports) {
		value = exports.ToObject(rt).Get("default")
	}
	if value == nil || goja.IsUndefined(value) {
		return nil, &Message{File: req.ScriptName, Text: "the config has no default export: end it with export default defineConfig({ ... })"}
	}
	if fn, ok := goja.AssertFunction(value); ok {
		arg := rt.NewObject()
		arg.Set("env", req.Env)
		if value, err = fn(goja.Undefined(), arg); err != nil {
			return nil, scriptError(req, err)
		}
	}
	// Promise jobs run when a call into the runtime returns, so by now a promise that
	// can settle has; with no timers and no I/O, one still pending never will.
	if p, ok := value.Export().(*goja.Promise); ok {
		switch p.State() {
		case goja.PromiseStateRejected:
			return nil, scriptError(req, &rejection{value: p.Result()})
		case goja.PromiseStatePending:
			return nil, &Message{File: req.ScriptName, Text: "the config's promise never settled: with no timers or I/O, it waits on something that cannot happen"}
		}
		value = p.Result()
	}
	tree, err := exportValue(value, "", 0)
	if err != nil {
		var pe *pathError
		if errors.As(err, &pe) {
			return nil, &Message{Path: pe.path, Text: pe.text}
		}
		return nil, &Message{File: req.ScriptName, Text: err.Error()}
	}
	out, err := json.Marshal(tree)
	if err != nil {
		return nil, &Message{File: req.ScriptName, Text: err.Error()}
	}
	return out, nil
}

// rejection is the value a config's promise was rejected with, as an error.
type rejection struct{ value goja.Value }

func (r *rejection) Error() string { return r.value.String() }

// scriptError turns what stopped the script into a message located in the original
// source (goja maps positions through the bundle's inline source map).
func scriptError(req evalRequest, err error) *Message {
	var interrupted *goja.InterruptedError
	if errors.As(err, &interrupted) {
		m := &Message{File: req.ScriptName}
		switch interrupted.Value() {
		case errTimeLimit:
			m.Text = fmt.Sprintf("the config did not finish within %v; look for a loop that never ends", time.Duration(req.TimeoutMS)*time.Millisecond)
		case errMemoryLimit:
			// Not located: where the allocation that crossed the limit happened is
			// chance, and the address-space limit, which can stop it first, cannot say.
			m.Text = fmt.Sprintf("the config used more than its %d MiB of memory and was stopped; look for a loop that keeps allocating", req.MemoryLimit>>20)
			return m
		default:
			m.Text = fmt.Sprint(interrupted.Value())
		}
		locate(m, interrupted.Stack())
		return m
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		m := &Message{File: req.ScriptName, Text: "the config threw " + describeThrown(ex.Value())}
		locate(m, ex.Stack())
		return m
	}
	var rej *rejection
	if errors.As(err, &rej) {
		m := &Message{File: req.ScriptName, Text: "the config's promise was rejected with " + describeThrown(rej.value)}
		if obj, ok := rej.value.(*goja.Object); ok {
			if stack, ok := obj.Get("stack").Export().(string); ok {
				locateFromStackText(m, stack)
			}
		}
		return m
	}
	var se *goja.StackOverflowError
	if errors.As(err, &se) {
		m := &Message{File: req.ScriptName, Text: "the config recursed too deeply (call stack limit reached)"}
		locate(m, se.Stack())
		return m
	}
	return &Message{File: req.ScriptName, Text: err.Error()}
}

// describeThrown renders a thrown value: an Error as "Name: message", else its string.
func describeThrown(v goja.Value) string {
	if v == nil {
		return "undefined"
	}
	if obj, ok := v.(*goja.Object); ok {
		name, msg := obj.Get("name"), obj.Get("message")
		if name != nil && msg != nil && !goja.IsUndefined(msg) {
			return name.String() + ": " + msg.String()
		}
	}
	return v.String()
}

// locate points m at the innermost frame that has a source position.
func locate(m *Message, frames []goja.StackFrame) {
	for _, f := range frames {
		pos := f.Position()
		if pos.Line > 0 && pos.Filename != "" && !strings.HasPrefix(pos.Filename, "kazzle:") {
			m.File, m.Line, m.Column = pos.Filename, pos.Line, pos.Column
			return
		}
	}
}

// stackFrame matches a frame of goja's Error.stack: "at name (file:line:col(pc))" or
// "at file:line:col(pc)".
var stackFrame = lazyRegexp(`([^\s()]+):(\d+):(\d+)(?:\(\d+\))?\)?$`)

// locateFromStackText points m at the innermost located frame of an Error's stack.
func locateFromStackText(m *Message, stack string) {
	for _, line := range strings.Split(stack, "\n") {
		f := stackFrame().FindStringSubmatch(strings.TrimSpace(line))
		if f == nil || strings.HasPrefix(f[1], "kazzle:") {
			continue
		}
		m.File = f[1]
		m.Line, _ = strconv.Atoi(f[2])
		m.Column, _ = strconv.Atoi(f[3])
		return
	}
}

// watchMemory interrupts the script when the heap passes limit, checking often enough
// that a config growing its data stops near the limit; the address-space limit catches
// one allocation too large to wait for. (runtime.ReadMemStats rather than
// runtime/metrics, whose package init every kazzle command would pay.)
func watchMemory(rt *goja.Runtime, limit int64) (stop func()) {
	if limit <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				if ms.HeapAlloc > uint64(limit) {
					rt.Interrupt(errMemoryLimit)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

// installConsole gives the config console.log and friends, writing to stderr.
func installConsole(rt *goja.Runtime, stderr io.Writer) {
	console := rt.NewObject()
	print := func(call goja.FunctionCall) goja.Value {
		parts := make([]string, len(call.Arguments))
		for i, a := range call.Arguments {
			parts[i] = a.String()
		}
		fmt.Fprintln(stderr, strings.Join(parts, " "))
		return goja.Undefined()
	}
	for _, name := range []string{"log", "info", "warn", "error", "debug"} {
		console.Set(name, print)
	}
	rt.Set("console", console)
}

// pathError is a value of the config that cannot be configuration data.
type pathError struct{ path, text string }

func (e *pathError) Error() string { return e.path + ": " + e.text }

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// exportValue turns a JavaScript value into plain data (maps, slices, strings, numbers,
// booleans, nil), refusing what configuration cannot be: functions, symbols, promises,
// class instances such as Date or Map, NaN and infinities. Properties whose value is
// undefined are left out, as JSON.stringify does.
func exportValue(v goja.Value, path string, depth int) (any, error) {
	where := path
	if where == "" {
		where = "the default export"
	}
	if depth > maxDepth {
		return nil, &pathError{where, fmt.Sprintf("nests deeper than %d levels (a cycle?)", maxDepth)}
	}
	if v == nil || goja.IsUndefined(v) {
		return nil, &pathError{where, "is undefined"}
	}
	if goja.IsNull(v) {
		return nil, nil
	}
	obj, isObj := v.(*goja.Object)
	if !isObj {
		switch x := v.Export().(type) {
		case string, bool:
			return x, nil
		case int64:
			return x, nil
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, &pathError{where, fmt.Sprintf("is %v, not a number configuration can hold", x)}
			}
			return x, nil
		default:
			return nil, &pathError{where, fmt.Sprintf("is a %s, which configuration cannot hold", v.ExportType())}
		}
	}
	if _, ok := goja.AssertFunction(obj); ok {
		return nil, &pathError{where, "is a function: configuration is data; call the function or remove it"}
	}
	switch obj.ClassName() {
	case "Array":
		n := int(obj.Get("length").ToInteger())
		out := make([]any, n)
		for i := 0; i < n; i++ {
			el, err := exportValue(obj.Get(fmt.Sprint(i)), fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = el
		}
		return out, nil
	case "Object":
		if _, isPromise := obj.Export().(*goja.Promise); isPromise {
			return nil, &pathError{where, "is a promise: await it before returning the config"}
		}
		out := make(map[string]any, len(obj.Keys()))
		for _, k := range obj.Keys() {
			pv := obj.Get(k)
			if pv == nil || goja.IsUndefined(pv) {
				continue
			}
			el, err := exportValue(pv, join(path, k), depth+1)
			if err != nil {
				return nil, err
			}
			out[k] = el
		}
		return out, nil
	default:
		if _, isPromise := obj.Export().(*goja.Promise); isPromise {
			return nil, &pathError{where, "is a promise: await it before returning the config"}
		}
		return nil, &pathError{where, fmt.Sprintf("is a %s, which configuration cannot hold", obj.ClassName())}
	}
}
