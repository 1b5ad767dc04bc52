package cmd

import (
	"regexp"
	"strings"
)

// jsSpace is JavaScript's \s, which node's dotenv's expressions and String.prototype.trim use.
const jsSpace = `\t\n\v\f\r \x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}\x{feff}`

// dotenvLine is node's dotenv's LINE expression (16 and 17), with JavaScript's \s and .
// spelled out: Go's regexp prefers alternatives and repetitions as JavaScript's does.
var dotenvLine = regexp.MustCompile(`(?m)(?:^|^)[` + jsSpace + `]*(?:export[` + jsSpace + `]+)?([\w.-]+)(?:[` + jsSpace + `]*=[` + jsSpace + `]*?|:[` + jsSpace + `]+?)([` + jsSpace + `]*'(?:\\'|[^'])*'|[` + jsSpace + `]*"(?:\\"|[^"])*"|[` + jsSpace + "]*`(?:\\\\`|[^`])*`|[^#\\r\\n]+)?[" + jsSpace + `]*(?:#[^\n\r\x{2028}\x{2029}]*)?(?:$|$)`)

// parseDotenv reads a .env file as node's dotenv does: NAME=value lines, optionally
// after export; values unquoted (up to a #), or in single quotes, double quotes or
// backticks, over several lines if need be; \n and \r decoded in double quotes only.
// Later lines win. It returns the names in the order they first appear.
func parseDotenv(src string) (names []string, values map[string]string) {
	values = map[string]string{}
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	for _, m := range dotenvLine.FindAllStringSubmatch(src, -1) {
		key, value := m[1], strings.Trim(m[2], jsTrimSet)
		quote := byte(0)
		if value != "" {
			quote = value[0]
		}
		if len(value) >= 2 && strings.IndexByte("'\"`", quote) >= 0 && value[len(value)-1] == quote {
			value = value[1 : len(value)-1]
		}
		if quote == '"' {
			value = strings.ReplaceAll(value, `\n`, "\n")
			value = strings.ReplaceAll(value, `\r`, "\r")
		}
		if _, seen := values[key]; !seen {
			names = append(names, key)
		}
		values[key] = value
	}
	return names, values
}

// jsTrimSet is what JavaScript's trim removes.
const jsTrimSet = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
