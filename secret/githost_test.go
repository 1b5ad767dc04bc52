package secret

import (
	"strings"
	"testing"
)

func TestValidateGitHost(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"github.com", ""},
		{"git.example.com:8443", ""},
		{"[::1]:3000", ""},
		{"https://github.com/x", "use github.com as host and x as path"},
		{"https://github.com", "use github.com"},
		{"https://gitlab.example.com:8443/acme/app.git", "use gitlab.example.com:8443 as host and acme/app.git as path"},
		{"github.com/acme/app", "use github.com as host and acme/app as path"},
		{"git@github.com:acme/app.git", "use github.com as host and acme/app.git as path"},
		{"bot@github.com", "user name goes in the field username"},
		{"https://", "host is a host name only, such as github.com"},
		{"github .com", "byte 6"},
	} {
		err := ValidateGitHost(tc.host)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.host, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v, want %q", tc.host, err, tc.want)
		}
	}
}

func TestValidateFieldsGitHostURL(t *testing.T) {
	err := ValidateFields(TypeGit, map[string]string{"host": "https://github.com/x", "username": "u", "password": "p"})
	if err == nil || !strings.Contains(err.Error(), `field "host"`) || !strings.Contains(err.Error(), "use github.com") {
		t.Fatalf("got %v", err)
	}
	// A reference is checked where it points, not here.
	if err := ValidateFields(TypeGit, map[string]string{"host": "${secret.3f2a1c4e-0000-4000-8000-000000000000.value}", "username": "u", "password": "p"}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateFieldsEmptyString(t *testing.T) {
	if err := ValidateFields(TypeString, map[string]string{"value": ""}); err != nil {
		t.Error(err)
	}
}
