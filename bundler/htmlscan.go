package bundler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// parsePage reads an index.html as a browser's tokenizer does and returns it with its
// module script: a <script type="module" src="…"></script> element that a browser would
// run. Markup a browser does not run is not one: a comment, the text of another
// element's attribute, raw text (<noscript>, <textarea>, <style>, another script's
// body), a <template>'s inert content, and SVG or MathML. found counts the module
// scripts with a src and an empty body; p describes the last one.
func parsePage(b []byte) (p *page, found int, err error) {
	p = &page{html: string(b), headEnd: -1}
	z := html.NewTokenizer(bytes.NewReader(b))
	offset := 0
	inert := 0            // open <template>, <svg> and <math> elements
	var script *moduleTag // the module script being read, until its end tag
	for {
		tt := z.Next()
		raw := z.Raw()
		start := offset
		offset += len(raw)
		switch tt {
		case html.ErrorToken:
			if errors.Is(z.Err(), io.EOF) {
				return p, found, nil
			}
			return nil, 0, z.Err()
		case html.TextToken:
			if script != nil && len(bytes.TrimSpace(raw)) > 0 {
				script = nil // a script with a body is an inline script
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "template": // a trailing slash does not close an HTML element
				inert++
			case "svg", "math":
				if tt == html.StartTagToken {
					inert++
				}
			case "script":
				if inert > 0 {
					continue
				}
				tag, err := moduleScript(z, raw, start)
				if err != nil {
					return nil, 0, err
				}
				script = tag
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "template", "svg", "math":
				inert = max(inert-1, 0)
			case "head":
				if p.headEnd < 0 && inert == 0 {
					p.headEnd = start
				}
			case "script":
				if script != nil {
					found++
					p.script, p.entry = script.src, script.value
				}
				script = nil
			}
		}
	}
}

// moduleTag is a <script type="module" src="…"> start tag: its decoded src, and the
// offsets of the value as written, quotes included.
type moduleTag struct {
	value string
	src   [2]int
}

// moduleScript reads the attributes of the script start tag z is at, whose raw text
// begins at offset start, and returns it if it is a module script with a src, or nil.
// As in a browser, names are case-insensitive, the first of a repeated attribute counts,
// values may be quoted either way or not at all and hold character references, and the
// type "module" is matched case-insensitively without surrounding spaces.
func moduleScript(z *html.Tokenizer, raw []byte, start int) (*moduleTag, error) {
	raw = slices.Clone(raw) // TagAttr may reuse the buffer
	attrs := map[string]string{}
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		if _, seen := attrs[string(k)]; !seen {
			attrs[string(k)] = string(v)
		}
	}
	src, hasSrc := attrs["src"]
	if !strings.EqualFold(strings.TrimSpace(attrs["type"]), "module") || !hasSrc {
		return nil, nil
	}
	span, ok := attrSpans(raw)["src"]
	if !ok || html.UnescapeString(string(raw[span.value[0]:span.value[1]])) != src {
		return nil, fmt.Errorf("cannot locate the src attribute of the module script at byte %d", start)
	}
	return &moduleTag{value: src, src: [2]int{start + span.outer[0], start + span.outer[1]}}, nil
}

// attrSpan locates an attribute value in a start tag: value is the text as written,
// outer adds its quotes.
type attrSpan struct {
	value, outer [2]int
}

// attrSpans returns where each attribute's value is in the raw text of a start tag
// (the first of a repeated name), following golang.org/x/net/html's tokenizer step by
// step (the WHATWG tag states), so that it finds the very attributes the tokenizer read.
func attrSpans(raw []byte) map[string]attrSpan {
	spans := map[string]attrSpan{}
	n, i := len(raw), 2 // past "<" and the tag name's first byte
	space := func(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' }
	skipSpace := func() {
		for i < n && space(raw[i]) {
			i++
		}
	}
	for i < n { // the tag name
		c := raw[i]
		if space(c) {
			i++
			break
		}
		if c == '/' || c == '>' {
			break
		}
		i++
	}
	skipSpace()
	for i < n && raw[i] != '>' {
		keyStart := i
		for i < n {
			c := raw[i]
			if c == '=' && i == keyStart {
				i++ // an equals sign that begins a name is part of it
				continue
			}
			if c == '=' || space(c) || c == '/' || c == '>' {
				break
			}
			i++
		}
		key := asciiLower(raw[keyStart:i])
		var s attrSpan
		s.value = [2]int{i, i}
		s.outer = s.value
		func() {
			skipSpace()
			if i >= n {
				return
			}
			c := raw[i]
			i++
			if c == '/' {
				return
			}
			if c != '=' {
				i--
				return
			}
			skipSpace()
			if i >= n {
				return
			}
			switch q := raw[i]; q {
			case '>':
				return
			case '\'', '"':
				i++
				s.value[0], s.outer[0] = i, i-1
				for i < n && raw[i] != q {
					i++
				}
				s.value[1], s.outer[1] = i, min(i+1, n)
				i = min(i+1, n)
			default:
				s.value[0], s.outer[0] = i, i
				for i < n && !space(raw[i]) && raw[i] != '>' {
					i++
				}
				s.value[1], s.outer[1] = i, i
			}
		}()
		if _, seen := spans[key]; key != "" && !seen {
			spans[key] = s
		}
		skipSpace()
	}
	return spans
}

// edit replaces text[from:to] with with.
type edit struct {
	from, to int
	with     string
}

// apply makes edits, which do not overlap, to text.
func apply(text string, edits []edit) string {
	slices.SortStableFunc(edits, func(a, b edit) int { return a.from - b.from })
	var b strings.Builder
	at := 0
	for _, e := range edits {
		b.WriteString(text[at:e.from])
		b.WriteString(e.with)
		at = e.to
	}
	b.WriteString(text[at:])
	return b.String()
}

// asciiLower lower-cases the ASCII letters of b, as the tokenizer does attribute names.
func asciiLower(b []byte) string {
	out := []byte(string(b))
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}
