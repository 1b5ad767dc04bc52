package secret

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// The names a secret may not set, as a process would read them: each must be refused
// whatever its case, and through any variable a secret exports.
func TestReservedVariablesAreRefusedAtWrite(t *testing.T) {
	refused := []string{
		"PATH", "HOME", "SHELL", "USER", "IFS", "PS4", "PROMPT_COMMAND", "SHELLOPTS", "BASH_ENV", "ENV",
		"LD_PRELOAD", "LD_LIBRARY_PATH", "DYLD_INSERT_LIBRARIES", "GCONV_PATH", "NODE_OPTIONS", "NODE_PATH",
		"NODE_EXTRA_CA_CERTS", "NODE_USE_ENV_PROXY", "PYTHONPATH", "PYTHONSTARTUP", "PERL5OPT", "PERL5LIB",
		"RUBYOPT", "RUBYLIB", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "GIT_SSH_COMMAND",
		"GIT_CONFIG_GLOBAL", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE",
		"SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "KAZZLE_API_KEY", "KAZZLE_SERVER",
		"npm_config_script_shell", "NPM_CONFIG_NODE_OPTIONS", "GOFLAGS", "RUSTC_WRAPPER", "LOCPATH",
		"NODE_TLS_REJECT_UNAUTHORIZED", "PAGER", "EDITOR", "VISUAL", "SSH_ASKPASS",
		// Case does not matter: curl reads http_proxy, and some systems fold case.
		"path", "http_proxy", "Ld_Preload", "kazzle_api_key", "node_options",
	}
	for _, name := range refused {
		t.Run(name, func(t *testing.T) {
			err := ValidateExports(name, TypeString)
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, ErrReservedName) {
				t.Fatalf("ValidateExports(%s) = %v, want ErrInvalid and ErrReservedName", name, err)
			}
			if !strings.Contains(err.Error(), name) {
				t.Errorf("the error does not name the secret: %v", err)
			}
		})
	}
	// A login or git secret exports NAME_USERNAME, NAME_PASSWORD and NAME_URL.
	for _, tc := range []struct {
		name string
		typ  Type
	}{{"GIT", TypeGit}, {"LD", TypeLogin}, {"KAZZLE", TypeLogin}, {"DYLD", TypeGit}, {"PYTHON", TypeTOTP}} {
		t.Run(string(tc.typ)+"/"+tc.name, func(t *testing.T) {
			err := ValidateExports(tc.name, tc.typ)
			if !errors.Is(err, ErrReservedName) {
				t.Fatalf("ValidateExports(%s, %s) = %v, want ErrReservedName", tc.name, tc.typ, err)
			}
			if !strings.Contains(err.Error(), tc.name+"_") {
				t.Errorf("the error does not name the variable: %v", err)
			}
		})
	}
	allowed := []struct {
		name string
		typ  Type
	}{
		{"STRIPE_SECRET_KEY", TypeString}, {"PATHNAME", TypeString}, {"NODE_ENV", TypeString},
		{"GITHUB_TOKEN", TypeString}, {"DB", TypeLogin}, {"PATH", TypeLogin}, {"HOMEPAGE_URL", TypeString},
		{"APP_HTTP_PROXY", TypeString}, {"MY_LD_PRELOAD", TypeString}, {"ENVIRONMENT", TypeString},
	}
	for _, tc := range allowed {
		t.Run("allowed/"+tc.name, func(t *testing.T) {
			if err := ValidateExports(tc.name, tc.typ); err != nil {
				t.Fatalf("ValidateExports(%s, %s) = %v, want nil", tc.name, tc.typ, err)
			}
		})
	}
}

func TestReservedNameCheckHandlesEveryLength(t *testing.T) {
	for _, name := range []string{"", "P", strings.Repeat("A", MaxNameLen), strings.Repeat("A", MaxNameLen) + "_USERNAME", strings.Repeat("K", 1000)} {
		if IsReservedVar(name) {
			t.Errorf("IsReservedVar(%d bytes) = true", len(name))
		}
	}
	if !IsReservedVar("KAZZLE_" + strings.Repeat("A", MaxNameLen)) {
		t.Error("a long KAZZLE_ name is not reserved")
	}
}

func TestANameErrorNeverRepeatsWhatFollowsABadCharacter(t *testing.T) {
	for _, name := range []string{"FOO supersecret", "FOO:supersecret", "FOO-supersecret", "FOO\tsupersecret", "1supersecret", "FOO\u00e9supersecret"} {
		err := ValidateName(name)
		if err == nil || strings.Contains(err.Error(), "supersecret") {
			t.Errorf("ValidateName(a name with a bad character) = %v, want an error that stops before it", err)
		}
	}
	for _, name := range []string{"FOO=bar-secret-value", "FOO=", "=bar-secret-value", "A_B=bar-secret value"} {
		err := ValidateName(name)
		if err == nil {
			t.Fatalf("ValidateName accepted a name with =")
		}
		if strings.Contains(err.Error(), "bar-secret-value") {
			t.Errorf("error %q repeats the text after =", err)
		}
		if !strings.Contains(err.Error(), "stdin") {
			t.Errorf("error %q does not say where the value goes", err)
		}
	}
}

// The security documentation lists every reserved name, so what users read is what
// kazzle refuses.
func TestTheDocsListEveryReservedName(t *testing.T) {
	doc, err := os.ReadFile("../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range ReservedNames() {
		if !strings.Contains(string(doc), "`"+name+"`") {
			t.Errorf("docs/security.md does not list `%s`", name)
		}
	}
}

func TestExcerptStopsBeforeWhatCouldBeAValue(t *testing.T) {
	for in, want := range map[string]string{
		"STRIPE_KEY":                 "STRIPE_KEY",
		"my-saas":                    "my-saas",
		"00000000-0000-4000-8000-0a": "00000000-0000-4000-8000-0a",
		"github.com/acme":            "github.com/acme",
		"FOO=supersecret":            "FOO…",
		"FOO supersecret":            "FOO…",
		"c1=supersecret":             "c1…",
		"\x1b]0;title\x07":           "…",
		strings.Repeat("a", 100):     strings.Repeat("a", 64) + "…",
	} {
		if got := Excerpt(in); got != want {
			t.Errorf("Excerpt(%q) = %q, want %q", in, got, want)
		}
	}
}
