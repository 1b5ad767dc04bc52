package secret

import "testing"

// TestGitPathRefusesDotSegments: a repository path is percent-decoded before it is
// checked, and one with ".", ".." or empty segments, a backslash, a control character
// or a second layer of encoding is refused, so no prefix can match it.
func TestGitPathRefusesDotSegments(t *testing.T) {
	for _, tc := range []struct {
		raw, want string
		ok        bool
	}{
		{"acme/app.git", "acme/app.git", true},
		{"/acme/app.git/", "acme/app.git", true},
		{"", "", true},
		{"acme/my%20app.git", "acme/my app.git", true},
		{"acme/app/../../evil/y.git", "", false},
		{"/acme/app/%2e%2e/%2e%2e/evil/y.git", "", false},
		{"acme/app/%2E%2E/evil", "", false},
		{"acme/app/%2e/x", "", false},
		{"acme/./app", "", false},
		{"acme/app/..", "", false},
		{"acme//app", "", false},
		{"acme/app%2f%2f..%2fevil", "", false},
		{"acme/app\\..\\evil", "", false},
		{"acme/app%5c..%5cevil", "", false},
		{"acme/app/%252e%252e/evil", "", false},
		{"acme/app%zz", "", false},
		{"acme/app%0a", "", false},
		{"acme/app\x7f", "", false},
		// Segments that some servers read as "..".
		{"acme/app/..;/evil", "", false},
		{"acme/app/%2e%2e%3b/evil", "", false},
		{"acme/app/..%20/evil", "", false},
		{"acme/app/...;jsessionid=x/evil", "", false},
		{"acme/app/%C0%AE%C0%AE/evil", "", false},
		{"acme/app/\uff0e\uff0e/evil", "", false},
		{"acme/app/.../evil", "", false},
		// Dots inside a name are a name.
		{"acme/app/..x/y", "acme/app/..x/y", true},
		{"acme/.github", "acme/.github", true},
	} {
		got, ok := GitRepoPath(tc.raw)
		if got != tc.want || ok != tc.ok {
			t.Errorf("GitRepoPath(%q) = %q, %v; want %q, %v", tc.raw, got, ok, tc.want, tc.ok)
		}
	}
}
