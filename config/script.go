package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"
)

var (
	errTimeLimit   = errors.New("time limit")
	errMemoryLimit = errors.New("memory limit")
)

// allocationLimits stops, with V8's errors, the built-ins that allocate a large result at
// once, since such a call runs in Go without yielding to an interrupt: the string
// methods get V8's length limit (Node's "Invalid string length"), and buffers and typed
// arrays may not be larger than the config's memory limit (an allocation larger than the
// machine would end the process).
const allocationLimits = `((maxBytes) => {
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

  // A wrapper rather than a Proxy, which goja's instanceof refuses: it shares the
  // original's prototype, so every buffer is an instance of it, however made.
  const sized = (name, bytesPer) => {
    const original = globalThis[name];
    const wrapper = function (...args) {
      if (!new.target) throw new TypeError("Constructor " + name + " requires 'new'");
      // A length, or the length of an array-like the result is sized by at once.
      const first = args[0];
      const isObject = first !== null && (typeof first === "object" || typeof first === "function");
      const length = !isObject || name === "ArrayBuffer" ? Number(first) : Number(first.length);
      if (length * bytesPer > maxBytes) {
        throw new RangeError("Array buffer allocation failed");
      }
      return Reflect.construct(original, args, new.target === wrapper ? original : new.target);
    };
    Object.setPrototypeOf(wrapper, original);
    Object.defineProperty(wrapper, "name", { value: name });
    Object.defineProperty(wrapper, "prototype", { value: original.prototype });
    Object.defineProperty(original.prototype, "constructor", { value: wrapper, writable: true, configurable: true });
    globalThis[name] = wrapper;
  };
  sized("ArrayBuffer", 1);
  for (const name of ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
    "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]) {
    if (globalThis[name]) sized(name, globalThis[name].BYTES_PER_ELEMENT);
  }
})`

// maxDepth bounds how deeply a config's value may nest, which also stops a cycle.
const maxDepth = 32

// runScript runs a bundled config in goja, with nothing but the language and a console:
// no file system, network, process or timers. It returns the default export's value
// (called with { env } if it is a function, awaited if it is a promise) as JSON.
func runScript(rt *goja.Runtime, req evalRequest, stderr io.Writer) (json.RawMessage, *Message) {
	rt.SetMaxCallStackSize(req.MaxStack)
	installConsole(rt, stderr)
	if _, err := rt.RunString(fmt.Sprintf("%s(%d);", allocationLimits, max(req.MemoryLimit, 1<<20))); err != nil {
		return nil, &Message{Text: "set up the config runtime: " + err.Error()}
	}

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
		why, _ := interrupted.Value().(error)
		m := limitMessage(req, why)
		if why == errMemoryLimit {
			// Not located: where the allocation that crossed the limit happened is chance.
			return m
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

// limitMessage says why evaluate stopped a config: its time limit, its memory limit, or
// the end of the command's context.
func limitMessage(req evalRequest, why error) *Message {
	m := &Message{File: req.ScriptName}
	switch why {
	case errTimeLimit:
		m.Text = fmt.Sprintf("the config did not finish within %v; look for a loop that never ends", req.Timeout)
	case errMemoryLimit:
		m.Text = fmt.Sprintf("the config used more than its %d MiB of memory and was stopped; look for a loop that keeps allocating", req.MemoryLimit>>20)
	default:
		m.Text = fmt.Sprintf("the config was stopped: %v", why)
	}
	return m
}

// installConsole gives the config console.log and friends, writing to stderr.
func installConsole(rt *goja.Runtime, stderr io.Writer) {
	if stderr == nil {
		stderr = io.Discard
	}
	stderr = &capped{w: stderr, room: maxConsoleOutput}
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

// maxConsoleOutput bounds what a config may print, so that one logging in a loop until
// its time limit does not flood the terminal.
const maxConsoleOutput = 64 << 10

// capped passes on the first room bytes written to w and drops the rest.
type capped struct {
	w    io.Writer
	room int
}

func (c *capped) Write(p []byte) (int, error) {
	if c.room > 0 {
		n := min(len(p), c.room)
		c.room -= n
		c.w.Write(p[:n])
	}
	return len(p), nil
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
