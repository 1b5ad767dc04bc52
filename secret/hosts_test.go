package secret

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseHostsNormalizes(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want Hosts
	}{
		{"no entries are unbound", nil, nil},
		{"empty list is unbound", []string{}, nil},
		{"plain name", []string{"api.stripe.com"}, Hosts{"api.stripe.com"}},
		{"upper case folds", []string{"API.Stripe.COM"}, Hosts{"api.stripe.com"}},
		{"trailing dot dropped", []string{"api.stripe.com."}, Hosts{"api.stripe.com"}},
		{"https scheme dropped", []string{"https://api.stripe.com"}, Hosts{"api.stripe.com"}},
		{"upper-case scheme", []string{"HTTPS://api.stripe.com:8443"}, Hosts{"api.stripe.com:8443"}},
		{"port kept", []string{"api.stripe.com:443"}, Hosts{"api.stripe.com:443"}},
		{"highest port", []string{"a.example.com:65535"}, Hosts{"a.example.com:65535"}},
		{"wildcard", []string{"*.Stripe.com"}, Hosts{"*.stripe.com"}},
		{"wildcard with port", []string{"*.stripe.com:443"}, Hosts{"*.stripe.com:443"}},
		{"sorted and deduplicated", []string{"b.example.com", "A.example.com", "a.example.com."}, Hosts{"a.example.com", "b.example.com"}},
		{"unicode becomes xn--", []string{"bücher.example"}, Hosts{"xn--bcher-kva.example"}},
		{"confusable stays apart", []string{"ѕtripe.com"}, Hosts{"xn--tripe-g2e.com"}},
		{"full-width folds", []string{"ｓｔｒｉｐｅ.com"}, Hosts{"stripe.com"}},
		{"localhost", []string{"localhost"}, Hosts{"localhost"}},
		{"http to localhost with port", []string{"http://localhost:8080"}, Hosts{"http://localhost:8080"}},
		{"http to 127.0.0.1", []string{"http://127.0.0.1:8080"}, Hosts{"http://127.0.0.1:8080"}},
		{"http to 127.5.6.7", []string{"http://127.5.6.7:1"}, Hosts{"http://127.5.6.7:1"}},
		{"http to [::1]", []string{"http://[::1]:8080"}, Hosts{"http://[::1]:8080"}},
		{"IPv6 loopback long form", []string{"[0:0:0:0:0:0:0:1]"}, Hosts{"[::1]"}},
		{"bare IPv6 loopback", []string{"::1"}, Hosts{"[::1]"}},
		{"IPv4-mapped loopback", []string{"[::ffff:127.0.0.1]:8080"}, Hosts{"127.0.0.1:8080"}},
		{"exact public suffix is a host", []string{"github.io"}, Hosts{"github.io"}},
		{"wildcard under a private registry's name", []string{"*.kazzle.github.io"}, Hosts{"*.kazzle.github.io"}},
		{"253-byte name", []string{longName(253)}, Hosts{longName(253)}},
		{"32 entries", numbered(32), sortedNumbered(32)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHosts(tt.in)
			if err != nil {
				t.Fatalf("ParseHosts: %v", err)
			}
			if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Fatalf("ParseHosts = %#v, want %#v", got, tt.want)
			}
			// The normal form parses to itself.
			again, err := ParseHosts(got)
			if err != nil || !slices.Equal(again, got) {
				t.Fatalf("ParseHosts(normal form) = %#v, %v", again, err)
			}
		})
	}
}

func TestParseHostsRefuses(t *testing.T) {
	tests := []struct {
		name, entry, why string
	}{
		{"empty entry", "", "empty"},
		{"bare star", "*", "wildcard"},
		{"star in a label", "a*.example.com", "wildcard"},
		{"star as a later label", "api.*.example.com", "wildcard"},
		{"double star", "**.example.com", "wildcard"},
		{"star without a name", "*.", "empty"},
		{"wildcard over a TLD", "*.com", "public suffix"},
		{"wildcard over a two-label suffix", "*.co.uk", "public suffix"},
		{"wildcard over a private suffix", "*.github.io", "public suffix"},
		{"wildcard over an unknown TLD", "*.internal", "public suffix"},
		{"public IPv4", "8.8.8.8", "loopback"},
		{"private IPv4", "10.0.0.1", "loopback"},
		{"public IPv6", "[2001:db8::1]", "loopback"},
		{"IPv6 with zone", "[fe80::1%25eth0]", "IPv6"},
		{"short IPv4", "127.1", "IP address"},
		{"hex IPv4", "0x7f.0.0.1", "IP address"},
		{"integer IPv4", "2130706433", "IP address"},
		{"full-width IPv4 digits", "１０.０.０.１", "loopback"},
		{"wildcard over an IP", "*.0.0.1", "IP address"},
		{"http to a name", "http://api.stripe.com:80", "loopback"},
		{"http without port", "http://localhost", "needs a port"},
		{"http wildcard", "http://*.localhost:80", "public suffix"},
		{"other scheme", "ftp://example.com", "scheme"},
		{"scheme without host", "https://", "empty"},
		{"path", "https://api.stripe.com/v1", "path"},
		{"query", "api.stripe.com?x=1", "path"},
		{"userinfo", "user@api.stripe.com", "user"},
		{"userinfo in URL", "https://api.stripe.com@evil.com", "user"},
		{"backslash", `api.stripe.com\evil.com`, "path"},
		{"percent-encoding", "api%2estripe.com", "valid host name"},
		{"port 0", "api.stripe.com:0", "port"},
		{"port 65536", "api.stripe.com:65536", "port"},
		{"port with sign", "api.stripe.com:+443", "port"},
		{"port with leading zero", "api.stripe.com:0443", "port"},
		{"port not a number", "api.stripe.com:https", "port"},
		{"empty port", "api.stripe.com:", "port"},
		{"two ports", "api.stripe.com:443:443", "IPv6"},
		{"empty label", "a..b.com", "labels"},
		{"two trailing dots", "stripe.com..", "labels"},
		{"leading dot", ".stripe.com", "labels"},
		{"space", "api stripe.com", "valid host name"},
		{"underscore", "api_x.stripe.com", "valid host name"},
		{"leading hyphen", "-a.stripe.com", "valid host name"},
		{"64-byte label", strings.Repeat("a", 64) + ".com", "labels"},
		{"254-byte name", longName(254), "limit"},
		{"huge entry", strings.Repeat("a.", 300) + "com", "bytes"},
		{"unclosed bracket", "[::1", "]"},
		{"junk after bracket", "[::1]x", "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHosts([]string{"ok.example.com", tt.entry})
			if err == nil {
				t.Fatalf("ParseHosts accepted it: %#v", got)
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), "entry 2") {
				t.Fatalf("error %q: want ErrInvalid naming entry 2 and %q", err, tt.why)
			}
		})
	}
	t.Run("33 entries", func(t *testing.T) {
		if _, err := ParseHosts(numbered(33)); err == nil || !strings.Contains(err.Error(), "limit is 32") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestParseHostsErrorRepeatsOnlyAnExcerpt(t *testing.T) {
	_, err := ParseHosts([]string{"api.stripe.com sk_live_abcdef"})
	if err == nil || strings.Contains(err.Error(), "sk_live") {
		t.Fatalf("err = %v", err)
	}
	_, err = ParseHosts([]string{"*.com=sk_live_abcdef"})
	if err == nil || strings.Contains(err.Error(), "sk_live") || !strings.Contains(err.Error(), `"*.com…"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestHostsAllows(t *testing.T) {
	stripe := mustHosts(t, "api.stripe.com", "*.stripe.net", "files.example.com:8443", "http://localhost:8080", "http://[::1]:9000", "127.0.0.1")
	tests := []struct {
		name   string
		scheme string
		host   string
		port   int
		want   bool
	}{
		{"exact", "https", "api.stripe.com", 0, true},
		{"exact on port 443", "https", "api.stripe.com", 443, true},
		{"exact on any port", "https", "api.stripe.com", 8443, true},
		{"upper case and trailing dot", "HTTPS", "API.STRIPE.COM.", 0, true},
		{"full-width", "https", "ａｐｉ.stripe.com", 0, true},
		{"confusable", "https", "аpi.stripe.com", 0, false},
		{"confusable in punycode", "https", "xn--pi-7ed.stripe.com", 0, false},
		{"plain http to a name", "http", "api.stripe.com", 0, false},
		{"other scheme", "ftp", "api.stripe.com", 0, false},
		{"suffix of another domain", "https", "api.stripe.com.evil.com", 0, false},
		{"prefix glued on", "https", "evilapi.stripe.com", 0, false},
		{"parent", "https", "stripe.com", 0, false},
		{"sub-domain of exact", "https", "x.api.stripe.com", 0, false},
		{"host with port", "https", "api.stripe.com:443", 0, false},
		{"userinfo", "https", "user@api.stripe.com", 0, false},
		{"percent-encoded", "https", "api%2estripe.com", 0, false},
		{"empty label", "https", "api..stripe.com", 0, false},
		{"two trailing dots", "https", "api.stripe.com..", 0, false},
		{"empty host", "https", "", 0, false},
		{"port past range", "https", "api.stripe.com", 65536, false},
		{"negative port", "https", "api.stripe.com", -1, false},
		{"wildcard one label", "https", "a.stripe.net", 0, true},
		{"wildcard two labels", "https", "a.b.stripe.net", 0, true},
		{"wildcard not its suffix", "https", "stripe.net", 0, false},
		{"wildcard at label boundary only", "https", "evilstripe.net", 0, false},
		{"wildcard as a name", "https", "*.stripe.net", 0, false},
		{"port entry on its port", "https", "files.example.com", 8443, true},
		{"port entry on default", "https", "files.example.com", 0, false},
		{"http loopback on its port", "http", "localhost", 8080, true},
		{"http loopback on another port", "http", "localhost", 8081, false},
		{"http loopback default port", "http", "localhost", 0, false},
		{"https to http entry", "https", "localhost", 8080, false},
		{"IPv6 loopback", "http", "[::1]", 9000, true},
		{"IPv6 loopback without brackets", "http", "::1", 9000, true},
		{"IPv6 loopback long form", "http", "[0:0:0:0:0:0:0:1]", 9000, true},
		{"IPv4 loopback", "https", "127.0.0.1", 0, true},
		{"IPv4-mapped loopback", "https", "[::ffff:127.0.0.1]", 0, true},
		{"short IPv4 loopback", "https", "127.1", 0, false},
		{"integer IPv4 loopback", "https", "2130706433", 0, false},
		{"other loopback", "https", "127.0.0.2", 0, false},
		{"other address", "https", "10.0.0.1", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stripe.Allows(tt.scheme, tt.host, tt.port); got != tt.want {
				t.Fatalf("Allows(%q, %q, %d) = %v, want %v", tt.scheme, tt.host, tt.port, got, tt.want)
			}
		})
	}
	t.Run("unbound allows all", func(t *testing.T) {
		if !Hosts(nil).Allows("http", "10.0.0.1", 80) {
			t.Fatal("nil Hosts refused")
		}
	})
	t.Run("garbage entry allows nothing", func(t *testing.T) {
		if (Hosts{"*.com"}).Allows("https", "a.com", 0) || (Hosts{"8.8.8.8"}).Allows("https", "8.8.8.8", 0) {
			t.Fatal("an entry ParseHosts refuses allowed a request")
		}
	})
}

func TestHostsWithin(t *testing.T) {
	tests := []struct {
		name          string
		narrow, wider []string // nil: unbound
		want          bool
	}{
		{"anything within unbound", []string{"a.com"}, nil, true},
		{"unbound within unbound", nil, nil, true},
		{"unbound not within bound", nil, []string{"a.com"}, false},
		{"equal", []string{"a.com"}, []string{"a.com"}, true},
		{"subset", []string{"a.com"}, []string{"a.com", "b.com"}, true},
		{"superset", []string{"a.com", "b.com"}, []string{"a.com"}, false},
		{"other host", []string{"b.com"}, []string{"a.com"}, false},
		{"exact within wildcard", []string{"x.a.com"}, []string{"*.a.com"}, true},
		{"deep exact within wildcard", []string{"x.y.a.com"}, []string{"*.a.com"}, true},
		{"suffix not within its wildcard", []string{"a.com"}, []string{"*.a.com"}, false},
		{"wildcard within wider wildcard", []string{"*.b.a.com"}, []string{"*.a.com"}, true},
		{"wildcard within itself", []string{"*.a.com"}, []string{"*.a.com"}, true},
		{"wildcard not within exact", []string{"*.a.com"}, []string{"x.a.com"}, false},
		{"wider wildcard not within", []string{"*.a.com"}, []string{"*.b.a.com"}, false},
		{"glued suffix not within", []string{"xa.com"}, []string{"*.a.com"}, false},
		{"port within any port", []string{"a.com:443"}, []string{"a.com"}, true},
		{"any port not within a port", []string{"a.com"}, []string{"a.com:443"}, false},
		{"other port", []string{"a.com:8443"}, []string{"a.com:443"}, false},
		{"http not within https", []string{"http://localhost:8080"}, []string{"localhost"}, false},
		{"https not within http", []string{"localhost:8080"}, []string{"http://localhost:8080"}, false},
		{"http within same http", []string{"http://localhost:8080"}, []string{"http://localhost:8080", "a.com"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			narrow, wider := mustHosts(t, tt.narrow...), mustHosts(t, tt.wider...)
			if got := narrow.Within(wider); got != tt.want {
				t.Fatalf("%v.Within(%v) = %v, want %v", narrow, wider, got, tt.want)
			}
		})
	}
}

// mustHosts parses entries; none gives nil, unbound.
func mustHosts(t *testing.T, entries ...string) Hosts {
	t.Helper()
	h, err := ParseHosts(entries)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// longName is a valid host name of n bytes.
func longName(n int) string {
	var b strings.Builder
	for b.Len() < n {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		l := min(63, n-b.Len())
		b.WriteString(strings.Repeat("a", l))
	}
	s := b.String()
	if strings.HasSuffix(s, ".") {
		s = s[:len(s)-2] + "ab"
	}
	return s[:len(s)-3] + "com"
}

func numbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("h%d.example.com", i)
	}
	return out
}

func sortedNumbered(n int) Hosts {
	out := Hosts(numbered(n))
	slices.Sort(out)
	return out
}

func TestAllowedByAllNeedsEveryList(t *testing.T) {
	stripe, inner := Hosts{"api.stripe.com"}, Hosts{"*.stripe.com"}
	tests := []struct {
		lists []Hosts
		host  string
		want  bool
	}{
		{[]Hosts{stripe}, "api.stripe.com", true},
		{[]Hosts{stripe, inner}, "api.stripe.com", true},
		{[]Hosts{inner}, "files.stripe.com", true},
		{[]Hosts{stripe, inner}, "files.stripe.com", false},
		{[]Hosts{stripe, {}}, "api.stripe.com", false}, // a list that did not parse
		{nil, "api.stripe.com", false},
	}
	for _, tt := range tests {
		if got := AllowedByAll(tt.lists, "https", tt.host, 443); got != tt.want {
			t.Errorf("AllowedByAll(%v, %s) = %v, want %v", tt.lists, tt.host, got, tt.want)
		}
	}
}
