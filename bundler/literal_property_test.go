package bundler

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dop251/goja"
	"github.com/evanw/esbuild/pkg/api"
)

// TestLeakScanFindsEveryValueEsbuildPrints: for 10,000 random values made of the
// characters esbuild escapes or quotes around (quotes of all kinds, backslashes, ${,
// control characters, line terminators, non-ASCII, astral), exported by a JSON module
// and by a TypeScript module that spells each with random escapes and quotes, and
// printed by esbuild minified and not, in UTF-8 and in ASCII: whenever the printed
// module evaluates to the value, the scan finds the value in it, and in the TypeScript
// module's source map, whose sourcesContent holds the source.
//
// For speed a module exports 25 values as an array. No value holds a comma, so none
// can be found across two literals, and a value that another of its module holds is
// left for the next module.
func TestLeakScanFindsEveryValueEsbuildPrints(t *testing.T) {
	n := 10_000
	if testing.Short() {
		n = 1_000
	}
	rng := rand.New(rand.NewPCG(16, 3))
	vm := goja.New()
	checked := 0
	for batch := 0; checked < n; batch++ {
		var values []string
		for len(values) < 25 {
			v := randomValue(rng)
			if !slices.ContainsFunc(values, func(w string) bool { return strings.Contains(w, v) || strings.Contains(v, w) }) {
				values = append(values, v)
			}
		}
		minify := batch%2 == 0
		charset := api.CharsetUTF8
		if batch%4 >= 2 {
			charset = api.CharsetASCII
		}
		opts := api.TransformOptions{
			Format: api.FormatIIFE, GlobalName: "out", Charset: charset,
			MinifyWhitespace: minify, MinifySyntax: minify, MinifyIdentifiers: minify,
		}
		jsonOpts := opts
		jsonOpts.Loader = api.LoaderJSON
		tsOpts := opts
		tsOpts.Loader = api.LoaderTS
		tsOpts.Sourcemap = api.SourceMapExternal
		tsOpts.Sourcefile = "value.ts"
		literals := make([]string, len(values))
		for i, v := range values {
			literals[i] = randomLiteral(rng, v)
		}
		ts := "export default [\n" + strings.Join(literals, ",\n") + "\n];\n"
		for _, m := range []struct {
			kind, source string
			opts         api.TransformOptions
		}{{"json", jsonOf(values), jsonOpts}, {"ts", ts, tsOpts}} {
			res := api.Transform(m.source, m.opts)
			if len(res.Errors) > 0 {
				t.Fatalf("module %d (%s): esbuild: %s\n%s", batch, m.kind, res.Errors[0].Text, m.source)
			}
			got, err := evalDefault(vm, res.Code)
			if err != nil {
				t.Fatalf("module %d (%s): %v\n%s", batch, m.kind, err, res.Code)
			}
			for i, v := range values {
				if i >= len(got) || got[i] != v {
					t.Fatalf("module %d (%s): value %d does not evaluate to %q: the test's spelling is wrong\n%s", batch, m.kind, i, v, m.source)
				}
				secrets := []Secret{{"VALUE", v}}
				if leak := scan(map[string][]byte{"assets/value.js": res.Code}, nil, secrets); leak == nil {
					t.Fatalf("module %d (%s, minify %v, ascii %v): the scan misses %q in\n%s", batch, m.kind, minify, charset == api.CharsetASCII, v, res.Code)
				}
				if m.kind == "ts" {
					if leak := scan(map[string][]byte{"assets/value.js.map": res.Map}, nil, secrets); leak == nil || leak.Source != "value.ts" {
						t.Fatalf("module %d: the scan misses %q in the source of the map (%v)\n%s", batch, v, leak, res.Map)
					}
				}
			}
		}
		checked += len(values)
	}
}

// evalDefault runs an IIFE module that esbuild printed with the global name out and
// returns the strings of the array it exports.
func evalDefault(vm *goja.Runtime, code []byte) ([]string, error) {
	if _, err := vm.RunString(string(code)); err != nil {
		return nil, err
	}
	exported := vm.Get("out").ToObject(vm)
	if def := exported.Get("default"); def != nil && !goja.IsUndefined(def) {
		exported = def.ToObject(vm)
	}
	var values []string
	if err := vm.ExportTo(exported, &values); err != nil {
		return nil, err
	}
	return values, nil
}

// valueAlphabet are the characters of random values: those that change how esbuild
// quotes and escapes a string, and plain ones between them.
var valueAlphabet = []string{
	`"`, `'`, "`", `\`, "$", "{", "}", "${", "$${", "\\'", "</script", "*/", "//",
	"\x00", "\x01", "\a", "\b", "\t", "\n", "\v", "\f", "\r", "\r\n", "\x1b", "\x7f",
	"\u0085", "\u00a0", "\u2028", "\u2029", "\ufeff", "é", "ß", "日本", "\u0301",
	"😀", "🔑", "𝒳", "\U0010FFFD",
	"a", "b", "Q", "z", "0", "9", "-", "_", " ", "/", "=", "+", "%", "&", "<", ">",
}

// randomValue is a value of 6 to 24 pieces, at least MinScanLength bytes long.
func randomValue(rng *rand.Rand) string {
	var b strings.Builder
	for b.Len() < MinScanLength || rng.IntN(24) > 5 {
		b.WriteString(valueAlphabet[rng.IntN(len(valueAlphabet))])
		if b.Len() > 96 {
			break
		}
	}
	return b.String()
}

// randomLiteral spells v as a JavaScript string or template literal with a random quote,
// each character written plainly where that quote allows it or with one of the escapes
// that stand for it.
func randomLiteral(rng *rand.Rand, v string) string {
	quote := []byte{'"', '\'', '`'}[rng.IntN(3)]
	var b strings.Builder
	b.WriteByte(quote)
	for i, r := range v {
		next := v[i+utf8.RuneLen(r):]
		escaped := []string{fmt.Sprintf(`\u{%x}`, r)}
		if r <= 0xFFFF {
			escaped = append(escaped, fmt.Sprintf(`\u%04X`, r))
		} else {
			hi, lo := (r-0x10000)>>10+0xD800, (r-0x10000)&0x3FF+0xDC00
			escaped = append(escaped, fmt.Sprintf(`\u%04x\u%04x`, hi, lo))
		}
		if r < 0x100 {
			escaped = append(escaped, fmt.Sprintf(`\x%02x`, r))
		}
		switch r {
		case '\n':
			escaped = append(escaped, `\n`)
		case '\t':
			escaped = append(escaped, `\t`)
		case '\v':
			escaped = append(escaped, `\v`)
		case 0:
			if next == "" || next[0] < '0' || next[0] > '9' {
				escaped = append(escaped, `\0`)
			}
		}
		plain := r != '\\' && r != '\r' && r != rune(quote) &&
			(quote == '`' || (r != '\n' && r != '\u2028' && r != '\u2029')) &&
			!(quote == '`' && r == '$' && strings.HasPrefix(next, "{"))
		if plain && rng.IntN(3) > 0 {
			b.WriteRune(r)
			continue
		}
		if !strings.ContainsRune("xu0123456789nrtbfv\n\r\u2028\u2029", r) && rng.IntN(4) == 0 {
			b.WriteString(`\` + string(r)) // a needless escape stands for the character
			continue
		}
		b.WriteString(escaped[rng.IntN(len(escaped))])
	}
	b.WriteByte(quote)
	return b.String()
}
