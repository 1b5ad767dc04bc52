package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/kazzle/kazzle/api"
)

// Export formats. dotenv is the default.
var exportFormats = []string{"dotenv", "json", "shell", "yaml"}

// writeExport writes vars in a format that reads back exactly.
func writeExport(w io.Writer, format string, vars []api.Var) error {
	switch format {
	case "dotenv", "shell":
		prefix := ""
		if format == "shell" {
			prefix = "export "
		}
		for _, v := range vars {
			if _, err := fmt.Fprintf(w, "%s%s=%s\n", prefix, v.Name, shellQuote(v.Value)); err != nil {
				return err
			}
		}
		return nil
	case "json":
		obj := make(map[string]string, len(vars))
		for _, v := range vars {
			obj[v.Name] = v.Value
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(obj)
	case "yaml":
		// A JSON string is a valid YAML double-quoted scalar with the same meaning.
		for _, v := range vars {
			q, _ := json.Marshal(v.Value)
			if _, err := fmt.Fprintf(w, "%s: %s\n", v.Name, q); err != nil {
				return err
			}
		}
		return nil
	}
	return usagef("unknown format %q: use %s", format, strings.Join(exportFormats, ", "))
}

// shellQuote quotes a value so that both a POSIX shell (set -a; . ./file) and dotenv
// parsers read back exactly the value, where one spelling can serve both. A value with
// no single quote is 'value' (literal in sh and in dotenv, newlines included); one with
// a single quote but nothing special inside double quotes is "value"; any other takes
// sh's form, which sh reads exactly and simple dotenv parsers may not (no one spelling
// serves both there). For it's, that form is:
//
//	'it'\''s'
func shellQuote(v string) string {
	if !strings.Contains(v, "'") {
		return "'" + v + "'"
	}
	if !strings.ContainsAny(v, "\"\\$`\n\r") {
		return `"` + v + `"`
	}
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}
