package cmd

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

// printable is s as the CLI shows it in a table or a line: every control character
// (C0 with tab and newline, DEL, C1), Unicode format character (bidi overrides and
// isolates, zero-width characters), line and paragraph separator, and byte that is not
// UTF-8 is written as a Go escape (\n, \x1b, \u202e). What the server or another key's
// holder stored, such as a name, a note, a masked preview or an audited path, thus
// cannot move the cursor, retitle the terminal, forge a line or reorder what is shown.
// Output meant to be read back exactly (export, get --reveal, git's protocol) is data,
// not a table or a line, and is left alone.
func printable(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// unsafeRune says whether r may change what a terminal shows beyond its own glyph.
func unsafeRune(r rune) bool {
	return r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == utf8.RuneError ||
		unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// printablef is fmt.Sprintf with every string argument passed through printable.
func printablef(format string, args ...any) string {
	for i, a := range args {
		switch v := a.(type) {
		case string:
			args[i] = printable(v)
		case error:
			args[i] = printable(v.Error())
		case fmt.Stringer:
			args[i] = printable(v.String())
		}
	}
	return fmt.Sprintf(format, args...)
}

// table writes aligned columns whose cells all pass through printable, so a cell can
// neither break the columns with a tab nor the rows with a newline.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row writes one row.
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = printable(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// printableLines is printable for a message that may span lines, such as an error
// joined from several: its newlines stay, everything else unsafe is escaped.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	return strings.Join(lines, "\n")
}
