package secret

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrReservedName marks a secret whose name, or a variable it exports, is one that
// changes how the processes reading it behave: where they look for programs or code,
// which proxy or CA they trust, what a shell runs before a command. A secret may never
// set one, whoever wrote it.
var ErrReservedName = errors.New("a reserved variable name")

// reservedVars are the exact names, in upper case; reservedPrefixes, the families.
// Names are compared without regard to case: some programs read http_proxy as well as
// HTTP_PROXY, and a secret named path would be PATH on a case-insensitive system.
var reservedVars = map[string]bool{
	// Shells and the login environment.
	"PATH": true, "HOME": true, "SHELL": true, "USER": true, "LOGNAME": true, "IFS": true,
	"PS0": true, "PS1": true, "PS2": true, "PS3": true, "PS4": true, "PROMPT_COMMAND": true,
	"SHELLOPTS": true, "BASHOPTS": true, "BASH_ENV": true, "ENV": true, "CDPATH": true,
	"GLOBIGNORE": true, "ZDOTDIR": true,
	// The C library and the runtimes' code-loading options.
	"GCONV_PATH": true, "NODE_OPTIONS": true, "NODE_PATH": true, "NODE_EXTRA_CA_CERTS": true,
	"NODE_USE_ENV_PROXY": true, "PERL5OPT": true, "PERL5LIB": true, "PERLLIB": true, "PERL5DB": true,
	"RUBYOPT": true, "RUBYLIB": true, "JAVA_TOOL_OPTIONS": true, "_JAVA_OPTIONS": true,
	"JDK_JAVA_OPTIONS": true,
	// Build tools that run a program they are told to: npm's script shell (NPM_CONFIG_*),
	// go's -toolexec, cargo's wrapper, and the programs git, ssh and others start.
	"GOFLAGS": true, "RUSTC_WRAPPER": true, "LOCPATH": true, "PAGER": true, "EDITOR": true,
	"VISUAL": true, "SSH_ASKPASS": true,
	// Where requests go and which certificates are trusted.
	"HTTP_PROXY": true, "HTTPS_PROXY": true, "ALL_PROXY": true, "NO_PROXY": true,
	"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "REQUESTS_CA_BUNDLE": true, "CURL_CA_BUNDLE": true,
	"NODE_TLS_REJECT_UNAUTHORIZED": true,
}

var reservedPrefixes = []string{"LD_", "DYLD_", "PYTHON", "GIT_", "KAZZLE_", "NPM_CONFIG_"}

// ReservedNames describes the reserved names for people: the exact ones and the
// families (with a *), in a stable order.
func ReservedNames() []string {
	names := make([]string, 0, len(reservedVars)+len(reservedPrefixes))
	for n := range reservedVars {
		names = append(names, n)
	}
	for _, p := range reservedPrefixes {
		names = append(names, p+"*")
	}
	sort.Strings(names)
	return names
}

// IsReservedVar reports whether a secret may not set the environment variable name.
// It allocates nothing: a resolve asks it for every variable.
func IsReservedVar(name string) bool {
	if name == "" || len(name) > MaxNameLen+len("_USERNAME") {
		return false
	}
	var buf [MaxNameLen + len("_USERNAME")]byte
	upper := buf[:len(name)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper[i] = c
	}
	if reservedVars[string(upper)] {
		return true
	}
	// Every prefix starts with one of these letters: most names stop here.
	switch upper[0] {
	case 'L', 'D', 'P', 'G', 'K', 'N':
		for _, p := range reservedPrefixes {
			if len(upper) >= len(p) && string(upper[:len(p)]) == p {
				return true
			}
		}
	}
	return false
}

// ValidateExports checks that none of the variables a secret of this name and type
// exports is reserved (NAME for a string, NAME_PASSWORD for a login, …). Its error
// wraps both ErrInvalid and ErrReservedName.
func ValidateExports(name string, t Type) error {
	var buf [3]VarField
	for _, vf := range AppendEnvVars(buf[:0], name, t) {
		if IsReservedVar(vf.Var) {
			return fmt.Errorf("%w secret name %s: %w", ErrInvalid, name, reservedReason(name, vf.Var))
		}
	}
	return nil
}

// ReservedError is the error for a stored secret that exports a reserved variable
// (written before the rule held): it names the secret and how to move it.
func ReservedError(secret, variable string) error {
	return fmt.Errorf("secret %s: %w; store it under another name and delete this one (kazzle secrets delete %s)", secret, reservedReason(secret, variable), secret)
}

func reservedReason(secret, variable string) error {
	what := variable
	if variable != secret {
		what = variable + ", which it exports,"
	}
	return fmt.Errorf("%s is %w: it changes where the programs that read it find code, proxies or certificates; choose another name, such as APP_%s",
		what, ErrReservedName, strings.ToUpper(strings.TrimLeft(secret, "_")))
}
