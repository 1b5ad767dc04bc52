package server_test

import (
	"context"
	"strings"
	"testing"

	"github.com/kazzle/kazzle/api"
	"github.com/kazzle/kazzle/secret"
	"github.com/kazzle/kazzle/vault"
)

// TestGitCredentialIgnoresDotSegments: a repository path that climbs out of a secret's
// path prefix, however it is encoded, gets no credential; the path itself gets it.
func TestGitCredentialIgnoresDotSegments(t *testing.T) {
	w := newWorld(t)
	_, err := w.Vault.CreateSecret(context.Background(), w.Actor, vault.SecretInput{SpaceID: w.Space.ID, Collection: "my-saas", Name: "ACME_GIT",
		Type: secret.TypeGit, Fields: map[string]string{"host": "github.com", "path": "acme/app", "username": "acme-bot", "password": "ghp_acmeAppOnlyToken0000000000000"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := w.tokens["admin"]
	ask := func(path string) (int, string) {
		status, body := w.do(t, admin, "POST", "/v1/git/credential", api.GitCredentialRequest{Protocol: "https", Host: "github.com", Path: path})
		return status, string(body)
	}
	if status, body := ask("acme/app/sub/x.git"); status != 200 || !strings.Contains(body, "ghp_acmeAppOnlyToken") {
		t.Fatalf("the repository under the prefix: %d %s", status, body)
	}
	for _, path := range []string{
		"/acme/app/%2e%2e/%2e%2e/evil/y.git",
		"acme/app/../../evil/y.git",
		"acme/app/%2E%2E/x.git",
		"acme/app/./x.git",
		"acme/app//x.git",
		"acme/app\\..\\..\\evil",
		"acme/app/%252e%252e/%252e%252e/evil",
	} {
		status, body := ask(path)
		if status != 404 || strings.Contains(body, "ghp_acmeAppOnlyToken") {
			t.Errorf("path %q: %d %s, want 404 and no credential", path, status, body)
		}
	}
}
