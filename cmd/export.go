package cmd

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/kazzle/kazzle/api"
)

// Export formats, each named by what reads it back. dotenv is the default.
var exportFormats = []string{"dotenv", "shell", "docker", "github", "json", "yaml"}

// exportFormatHelp is the --format flag's description.
const exportFormatHelp = "dotenv: python-dotenv, node's dotenv and node --env-file;\n" +
	"shell: set -a; . FILE in sh, bash and zsh;\n" +
	"docker: docker run --env-file (single-line values only);\n" +
	"github: lines for $GITHUB_ENV;\n" +
	"json, yaml: an object of names and values"

// exportRefused is a value a format cannot carry exactly: the export writes nothing.
type exportRefused struct{ name, format, why string }

func (e *exportRefused) Error() string {
	return fmt.Sprintf("%s cannot be exported as %s: its value holds %s", e.name, e.format, e.why)
}

// writeExport writes vars in a format that its readers read back exactly, or nothing
// when one value cannot be written so.
func writeExport(w io.Writer, format string, vars []api.Var) error {
	var buf bytes.Buffer
	switch format {
	case "shell":
		for _, v := range vars {
			fmt.Fprintf(&buf, "export %s=%s\n", v.Name, shellQuote(v.Value))
		}
	case "dotenv", "docker", "github":
		for _, v := range vars {
			line, why := exportLine(format, v.Name, v.Value)
			if why != "" {
				alt := "json"
				if format == "docker" {
					alt = "json, or mount the value as a file"
				}
				return withHint(&exportRefused{name: v.Name, format: format, why: why},
					"export it with --format %s, or leave it out with --only", alt)
			}
			buf.WriteString(line)
		}
	case "json":
		obj := make(map[string]string, len(vars))
		for _, v := range vars {
			obj[v.Name] = v.Value
		}
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(obj); err != nil {
			return err
		}
	case "yaml":
		// A JSON string is a valid YAML double-quoted scalar with the same meaning.
		for _, v := range vars {
			q, _ := json.Marshal(v.Value)
			fmt.Fprintf(&buf, "%s: %s\n", v.Name, q)
		}
	default:
		return usagef("unknown format %q: use %s", format, strings.Join(exportFormats, ", "))
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// exportLine is one variable in the dotenv, docker or github format, or why it cannot be.
func exportLine(format, name, value string) (line, why string) {
	switch format {
	case "dotenv":
		q, why := dotenvQuote(value)
		return name + "=" + q + "\n", why
	case "docker":
		return name + "=" + value + "\n", dockerRefusal(name, value)
	}
	return githubEnvLine(name, value)
}

// shellQuote quotes a value for a POSIX shell (sh, bash, zsh): inside single quotes
// nothing is special, and a single quote is closed, escaped and reopened: it's is
// 'it'\”s'.
func shellQuote(v string) string {
	return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'"
}

// pythonDotenvVariable is what python-dotenv 1.x expands by default in any value,
// quoted or not, with no escape: ${NAME} and ${NAME:-default}.
var pythonDotenvVariable = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\$\{[^}:]*(?::-[^}]*)?\}`) })

// dotenvQuote spells a value so that python-dotenv 1.x (interpolating, its default),
// node's dotenv 16 and 17 and node --env-file (Node 20) all read back exactly it, or
// says why no spelling serves them all:
//
//   - in single quotes all of them read text literally, newlines included, but
//     python-dotenv turns \\ into \ and cannot read a backslash before the closing quote;
//   - a value with a single quote takes double quotes, where python-dotenv decodes
//     backslash escapes, node's dotenv only \n and \r, and none of them \": so such a
//     value must hold neither a double quote nor a backslash;
//   - node's dotenv reads every carriage return as a newline, and node --env-file has
//     no escape for one;
//   - python-dotenv expands ${NAME} in every kind of value.
func dotenvQuote(v string) (string, string) {
	switch {
	case strings.Contains(v, "\r"):
		return "", "a carriage return, which node's dotenv reads as a newline"
	case pythonDotenvVariable().MatchString(v):
		return "", "${…}, which python-dotenv replaces with a variable's value"
	case !strings.Contains(v, "'"):
		switch {
		case strings.Contains(v, `\\`):
			return "", `two backslashes in a row, which python-dotenv reads as one`
		case strings.HasSuffix(v, `\`):
			return "", "a backslash at its end, which python-dotenv cannot read"
		}
		return "'" + v + "'", ""
	case strings.Contains(v, `"`):
		return "", "both kinds of quote, which no spelling gives all dotenv readers"
	case strings.Contains(v, `\`):
		return "", "a single quote and a backslash, which dotenv readers decode differently in double quotes"
	}
	return `"` + v + `"`, ""
}

// dockerMaxLine is the longest line docker's env-file reader takes (bufio.MaxScanTokenSize,
// its newline included).
const dockerMaxLine = 64*1024 - 1

// dockerRefusal says why docker run --env-file would not read NAME=value back as
// value: it takes each line as it is, but a value can have no newline, a carriage
// return at its end is dropped, and newer releases strip one pair of quotes around it.
func dockerRefusal(name, v string) string {
	switch {
	case strings.Contains(v, "\n"):
		return "a newline, and docker reads one line per variable"
	case strings.HasSuffix(v, "\r"):
		return "a carriage return at its end, which docker drops"
	case len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0]:
		return "quotes around it, which docker removes"
	case len(name)+1+len(v) > dockerMaxLine:
		return fmt.Sprintf("%d bytes, more than docker reads on one line", len(v))
	}
	return ""
}

// githubEnvLine is a variable for $GITHUB_ENV: NAME=value, or for a value over several
// lines NAME<<DELIMITER, the value, and DELIMITER, a random word (as GitHub advises) that
// no one who wrote the value could have known.
func githubEnvLine(name, v string) (string, string) {
	if !strings.ContainsAny(v, "\r\n") {
		return name + "=" + v + "\n", ""
	}
	if strings.HasSuffix(v, "\r") {
		return "", "a carriage return at its end, which a runner on Windows drops"
	}
	var delim string
	for {
		b := make([]byte, 16)
		rand.Read(b)
		delim = "ghadelimiter_" + hex.EncodeToString(b)
		if !strings.Contains(v, delim) {
			break
		}
	}
	return name + "<<" + delim + "\n" + v + "\n" + delim + "\n", ""
}
