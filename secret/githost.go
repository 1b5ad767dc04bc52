package secret

import (
	"fmt"
	"net/url"
	"strings"
)

// ValidateGitHost checks a git secret's host: a host name, with an optional port, as git
// names it in a credential request (github.com, git.example.com:8443). A URL, or a host
// followed by a path, is refused with the spelling to use instead: git would never ask
// for it, so the secret would silently never be used. A host is not a secret value;
// the suggestion repeats only what parses as a host and a path.
func ValidateGitHost(host string) error {
	spell := func(h, p string) error {
		h, p = Excerpt(h), strings.Trim(p, "/")
		if h == "" || strings.HasSuffix(h, "…") {
			return fmt.Errorf("it is a URL, and host is a host name only, such as github.com; a repository path goes in the field path")
		}
		if p != "" && !strings.HasSuffix(Excerpt(p), "…") {
			return fmt.Errorf("it is a URL, and host is a host name only: use %s as host and %s as path", h, p)
		}
		return fmt.Errorf("it is a URL, and host is a host name only: use %s", h)
	}
	if i := strings.Index(host, "://"); i >= 0 {
		u, err := url.Parse(host)
		if err != nil || u.Host == "" {
			return spell("", "")
		}
		return spell(u.Host, u.Path)
	}
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		// git@github.com:acme/app.git, as ssh remotes are written
		if h, p, ok := strings.Cut(host[at+1:], ":"); ok && p != "" && (p[0] < '0' || p[0] > '9') {
			return spell(h, p)
		}
		return fmt.Errorf("it holds @: host is a host name only, and the user name goes in the field username")
	}
	if h, p, ok := strings.Cut(host, "/"); ok {
		return spell(h, p)
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		ok := c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_' ||
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80
		if !ok {
			return fmt.Errorf("a character at byte %d that no host name holds: host is a host name, with an optional port, such as github.com", i)
		}
	}
	return nil
}
