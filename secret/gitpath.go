package secret

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// GitRepoPath is the repository path of a git credential request as it is matched
// against the path prefixes of git secrets: percent-decoded, without leading or
// trailing slashes. ok is false, and the request must get no credential, when the path
// does not decode, holds a backslash, a control character or a '%' left after
// decoding (a second layer of encoding), or has an empty, "." or ".." segment: a host
// that resolves such segments would serve another repository than the one whose
// prefix the path appears to match (acme/app/%2e%2e/%2e%2e/evil is evil, not acme/app).
func GitRepoPath(raw string) (path string, ok bool) {
	p, err := url.PathUnescape(raw)
	if err != nil {
		return "", false
	}
	if strings.ContainsAny(p, "\\%") || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "", false
	}
	p = strings.TrimPrefix(strings.TrimSuffix(p, "/"), "/")
	if p == "" {
		return "", true
	}
	if !utf8.ValidString(p) {
		return "", false // overlong forms of '.' among others
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "" || dotsOnly(seg) {
			return "", false
		}
	}
	return p, true
}

// dotsOnly reports whether a path segment is dots and nothing a server would keep:
// "..", "...", "..;" (a path parameter, which Java servers drop), ".. " and the
// full-width "．．" all climb on some server.
func dotsOnly(seg string) bool {
	seg = strings.TrimRight(seg, " ;")
	if i := strings.IndexByte(seg, ';'); i >= 0 {
		seg = seg[:i]
	}
	return seg != "" && strings.Trim(seg, ".\uff0e\u2024") == ""
}
