package secret

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// Hosts binds a secret to the hosts its value may be sent to. nil means unbound: the
// value may go anywhere. A bound secret has at least one entry, each in the normal form
// ParseHosts gives:
//
//   - host — https to host, on any port;
//   - host:port — https to host on that port only;
//   - *.suffix, *.suffix:port — the same for every name one or more labels under suffix,
//     never suffix itself;
//   - http://host:port — plain http, only to a loopback host (localhost, 127.0.0.0/8,
//     [::1]) and only on that port.
//
// Names are lower-case ASCII (IDNA names in their xn-- form) without a trailing dot;
// IPv6 addresses are written in brackets. The entries are sorted and distinct.
type Hosts []string

// Limits of a secret's hosts.
const (
	// MaxHosts caps the entries a secret's hosts may list.
	MaxHosts = 32
	// MaxHostLen caps the host name of an entry, in its ASCII form: DNS's limit.
	MaxHostLen = 253
	// maxHostEntry caps an entry as given, before any work on it: room for a scheme, a
	// port and a name in Unicode whose ASCII form fits MaxHostLen.
	maxHostEntry = 512
)

// entry is one parsed hosts entry.
type entry struct {
	http     bool   // plain http; else https
	wildcard bool   // host is the suffix of *.host
	host     string // lower-case ASCII name, or an IP address in netip's form
	port     int    // 0: any port (https only)
}

func (e entry) String() string {
	var b strings.Builder
	if e.http {
		b.WriteString("http://")
	}
	if e.wildcard {
		b.WriteString("*.")
	}
	if strings.Contains(e.host, ":") {
		b.WriteString("[" + e.host + "]")
	} else {
		b.WriteString(e.host)
	}
	if e.port != 0 {
		b.WriteString(":" + strconv.Itoa(e.port))
	}
	return b.String()
}

// ParseHosts checks and normalizes the entries of a secret's hosts (see Hosts for their
// forms). A scheme is optional: https:// is the default and is dropped; http:// needs a
// loopback host and a port. IP addresses other than loopback ones are refused, and so
// are a bare *, a * anywhere but as the whole first label, and *.s where s is a public
// suffix (*.com, *.co.uk, *.github.io): such a wildcard would take in sites of unrelated
// owners. No entries give nil, unbound. Errors name the entry by its position and
// Excerpt, never more of it.
func ParseHosts(entries []string) (Hosts, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	if len(entries) > MaxHosts {
		return nil, fmt.Errorf("%w hosts: %d entries, the limit is %d", ErrInvalid, len(entries), MaxHosts)
	}
	out := make(Hosts, 0, len(entries))
	for i, s := range entries {
		e, err := parseEntry(s)
		if err != nil {
			return nil, fmt.Errorf("%w hosts entry %d %q: %w", ErrInvalid, i+1, hostExcerpt(s), err)
		}
		out = append(out, e.String())
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// hostExcerpt is Excerpt for a hosts entry, which may start with a wildcard label.
func hostExcerpt(s string) string {
	if rest, ok := strings.CutPrefix(s, "*."); ok {
		return "*." + Excerpt(rest)
	}
	return Excerpt(s)
}

func parseEntry(s string) (entry, error) {
	var e entry
	if s == "" {
		return e, fmt.Errorf("it is empty")
	}
	if len(s) > maxHostEntry {
		return e, fmt.Errorf("%d bytes, far past a host name's %d", len(s), MaxHostLen)
	}
	rest := s
	if i := strings.Index(rest, "://"); i >= 0 {
		switch strings.ToLower(rest[:i]) {
		case "https":
		case "http":
			e.http = true
		default:
			return e, fmt.Errorf("the scheme must be https:// or, to a loopback host, http://")
		}
		rest = rest[i+3:]
	}
	if i := strings.IndexAny(rest, "/?#@\\"); i >= 0 {
		return e, fmt.Errorf("an entry is a host and an optional port: no user, path, query or fragment")
	}
	host, portText, err := splitHostPort(rest)
	if err != nil {
		return e, err
	}
	if portText != "" {
		if e.port, err = parsePort(portText); err != nil {
			return e, err
		}
	}
	if h, ok := strings.CutPrefix(host, "*."); ok {
		e.wildcard = true
		host = h
	}
	if strings.Contains(host, "*") {
		return e, fmt.Errorf("a wildcard is allowed only as the whole first label of a name, as in *.example.com")
	}
	var isIP bool
	if e.host, isIP, err = normalHost(host); err != nil {
		return e, err
	}
	switch {
	case isIP && e.wildcard:
		return e, fmt.Errorf("a wildcard needs a name, not an IP address")
	case isIP && !isLoopback(e.host):
		return e, fmt.Errorf("an IP address is allowed only for loopback (127.0.0.0/8, ::1); name the host")
	case e.wildcard:
		if ps, _ := publicsuffix.PublicSuffix(e.host); ps == e.host {
			return e, fmt.Errorf("%s is a public suffix, under which unrelated owners register names; name the hosts under it", e.host)
		}
	}
	if e.http {
		if e.wildcard || !isLoopback(e.host) {
			return e, fmt.Errorf("plain http is allowed only to a loopback host (localhost, 127.0.0.1, [::1]); use https")
		}
		if e.port == 0 {
			return e, fmt.Errorf("plain http needs a port, as in http://localhost:8080")
		}
	}
	return e, nil
}

// splitHostPort splits host[:port] and [ipv6][:port]; a bare IPv6 address has no port.
func splitHostPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", fmt.Errorf("an IPv6 address is missing its ]")
		}
		host, rest := s[:end+1], s[end+1:]
		if rest == "" {
			return host, "", nil
		}
		port, ok := strings.CutPrefix(rest, ":")
		if !ok {
			return "", "", fmt.Errorf("only a :port may follow an IPv6 address")
		}
		if port == "" {
			return "", "", fmt.Errorf("the port is empty")
		}
		return host, port, nil
	}
	if strings.Count(s, ":") > 1 {
		return s, "", nil // a bare IPv6 address; parseIP decides
	}
	host, port, found := strings.Cut(s, ":")
	if found && port == "" {
		return "", "", fmt.Errorf("the port is empty")
	}
	return host, port, nil
}

// parsePort accepts a port as 1 to 65535 decimal digits, without sign or leading zero,
// so that each port has one spelling.
func parsePort(s string) (int, error) {
	const rule = "a port is a number from 1 to 65535, without sign or leading zero"
	if s == "" || len(s) > 5 || s[0] == '0' {
		return 0, fmt.Errorf("%s", rule)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%s", rule)
		}
	}
	n, _ := strconv.Atoi(s)
	if n > 65535 {
		return 0, fmt.Errorf("%s", rule)
	}
	return n, nil
}

// normalHost is host's normal form, and whether it is an IP address. An address in
// brackets must be IPv6; a name whose last label, after IDNA's mapping, is numeric is
// taken for an IPv4 address in one of the forms some resolvers accept (127.1,
// 0x7f.0.0.1, 2130706433), and refused unless it is one in dotted-decimal form.
func normalHost(host string) (string, bool, error) {
	if inner, ok := strings.CutPrefix(host, "["); ok {
		inner = strings.TrimSuffix(inner, "]")
		ip, err := netip.ParseAddr(inner)
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return "", true, fmt.Errorf("the brackets hold no IPv6 address")
		}
		return ip.Unmap().String(), true, nil
	}
	if strings.Contains(host, ":") {
		ip, err := netip.ParseAddr(host)
		if err != nil || ip.Zone() != "" {
			return "", true, fmt.Errorf("not a host name or IP address; write an IPv6 address in brackets, as in [::1]:8080")
		}
		return ip.Unmap().String(), true, nil
	}
	name, err := normalName(host)
	if err != nil {
		return "", false, err
	}
	if !numericLabel(name[strings.LastIndexByte(name, '.')+1:]) {
		return name, false, nil
	}
	ip, err := netip.ParseAddr(name)
	if err != nil || !ip.Is4() {
		return "", true, fmt.Errorf("a name ending in a number is read as an IP address by some resolvers; write an IPv4 address as four decimal numbers")
	}
	return ip.String(), true, nil
}

// numericLabel reports whether a last label looks like a number in any base resolvers
// read: all digits, or 0x and hex digits.
func numericLabel(l string) bool {
	l = strings.ToLower(l)
	if h, ok := strings.CutPrefix(l, "0x"); ok {
		l = h
		if l == "" {
			return true
		}
		return strings.Trim(l, "0123456789abcdef") == ""
	}
	return strings.Trim(l, "0123456789") == ""
}

// normalName is a host name's lower-case ASCII form: IDNA's lookup mapping (which folds
// case and width, and turns Unicode labels into xn-- ones), one trailing dot dropped,
// every label 1 to 63 bytes, the whole at most MaxHostLen.
func normalName(host string) (string, error) {
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "", fmt.Errorf("the host name is empty")
	}
	a, err := idna.Lookup.ToASCII(host)
	if err != nil {
		return "", fmt.Errorf("not a valid host name (letters, digits and -, in labels split by dots)")
	}
	// The mapping may turn a character into a dot or strip one: check the result.
	if len(a) > MaxHostLen {
		return "", fmt.Errorf("the host name is %d bytes, the limit is %d", len(a), MaxHostLen)
	}
	for _, l := range strings.Split(a, ".") {
		if l == "" || len(l) > 63 {
			return "", fmt.Errorf("a host name's labels are 1 to 63 bytes, with no empty one")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c == '-' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
				return "", fmt.Errorf("not a valid host name (letters, digits and -, in labels split by dots)")
			}
		}
	}
	return a, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// entries parses h's entries; one that does not parse (which ParseHosts never gives)
// is left out, so it allows nothing.
func (h Hosts) entries() []entry {
	out := make([]entry, 0, len(h))
	for _, s := range h {
		if e, err := parseEntry(s); err == nil {
			out = append(out, e)
		}
	}
	return out
}

// AllowedByAll reports whether a request to scheme://host:port may carry a value whose
// binding is lists: the hosts of each bound secret it passed through, every one of
// which must allow it. An empty list allows nothing, and so do no lists: a caller
// asks only of a value that is bound.
func AllowedByAll(lists []Hosts, scheme, host string, port int) bool {
	for _, h := range lists {
		if len(h) == 0 || !h.Allows(scheme, host, port) {
			return false
		}
	}
	return len(lists) > 0
}

// Allows reports whether a request to scheme://host:port may carry a value bound to h.
// host is as a URL gives it (url.URL.Hostname, or with brackets): it is normalized as
// ParseHosts normalizes names, so case, a trailing dot, Unicode and width variants of
// an allowed name match it, and anything that is not a plain host name or IP address
// (a port, userinfo, percent-encoding, an empty label) matches nothing. port 0 is the
// scheme's default (443, 80). A nil h allows everything.
func (h Hosts) Allows(scheme, host string, port int) bool {
	if h == nil {
		return true
	}
	var isHTTP bool
	switch strings.ToLower(scheme) {
	case "https":
		if port == 0 {
			port = 443
		}
	case "http":
		isHTTP = true
		if port == 0 {
			port = 80
		}
	default:
		return false
	}
	if port < 1 || port > 65535 {
		return false
	}
	name, ok := NormalHost(host)
	if !ok {
		return false
	}
	for _, e := range h.entries() {
		if e.http != isHTTP || (e.port != 0 && e.port != port) {
			continue
		}
		if e.wildcard {
			if strings.HasSuffix(name, "."+e.host) {
				return true
			}
		} else if name == e.host {
			return true
		}
	}
	return false
}

// NormalHost is host (as Allows takes it) in the form Allows compares: lower-case
// ASCII without a trailing dot, or an IP address in netip's form, IPv6 without
// brackets. ok is false for a host Allows matches to nothing. A request made to this
// form goes where the check looked: other spellings of a name, which resolve to the
// same host, are not all treated alike by the rest of a client (an HTTP proxy rule
// passes localhost by its exact spelling).
func NormalHost(host string) (name string, ok bool) {
	if host == "" || len(host) > maxHostEntry || strings.ContainsAny(host, "*/?#@\\%") {
		return "", false
	}
	name, _, err := normalHost(host)
	return name, err == nil
}

// Within reports whether every request h allows, wider allows too: whether changing a
// secret's hosts from wider to h narrows them or keeps them. An entry is within an
// entry of the same scheme whose port is the same or any, and whose host is the same
// name or a wildcard over it (*.a.b.com is within *.b.com). nil, unbound, is the
// widest: everything is within nil, and nil is within nil alone.
func (h Hosts) Within(wider Hosts) bool {
	if wider == nil {
		return true
	}
	if h == nil {
		return false
	}
	ws := wider.entries()
	for _, e := range h.entries() {
		if !slices.ContainsFunc(ws, e.within) {
			return false
		}
	}
	// An entry that does not parse allows nothing, so it is within anything.
	return true
}

func (e entry) within(w entry) bool {
	if e.http != w.http || (w.port != 0 && w.port != e.port) {
		return false
	}
	if !w.wildcard {
		return !e.wildcard && e.host == w.host
	}
	return e.host == w.host && e.wildcard || strings.HasSuffix(e.host, "."+w.host)
}

// String is the entries joined by commas, as the CLI takes and shows them.
func (h Hosts) String() string { return strings.Join(h, ",") }
