package cmd

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCheckKeyFile covers what a script cannot set up without root: a file of another
// user. Each refusal says what is wrong and, for the mode, what to run.
func TestCheckKeyFile(t *testing.T) {
	const me = 1000
	reg := func(perm uint32) uint32 { return unix.S_IFREG | perm }
	for _, tc := range []struct {
		name string
		st   keyFileStat
		want string // "" when the file is accepted
	}{
		{"mode 600", keyFileStat{mode: reg(0o600), uid: me, size: 48}, ""},
		{"mode 400", keyFileStat{mode: reg(0o400), uid: me, size: 48}, ""},
		{"mode 644", keyFileStat{mode: reg(0o644), uid: me}, "may be read or written by other users (mode 0644): run chmod 600 /k"},
		{"group writable", keyFileStat{mode: reg(0o620), uid: me}, "mode 0620"},
		{"other user", keyFileStat{mode: reg(0o600), uid: 1001}, "belongs to user id 1001, not to the user running kazzle (1000)"},
		{"root's", keyFileStat{mode: reg(0o600), uid: 0}, "belongs to user id 0"},
		{"symbolic link", keyFileStat{mode: unix.S_IFLNK | 0o777, uid: me}, "is a symbolic link, not a regular file"},
		{"named pipe", keyFileStat{mode: unix.S_IFIFO | 0o600, uid: me}, "is a named pipe"},
		{"character device", keyFileStat{mode: unix.S_IFCHR | 0o600, uid: me}, "is a device"},
		{"socket", keyFileStat{mode: unix.S_IFSOCK | 0o600, uid: me}, "is a socket"},
		{"oversized", keyFileStat{mode: reg(0o600), uid: me, size: maxKeyFileSize + 1}, "is larger than 4096 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkKeyFile("/k", tc.st, me)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("accepted, want an error with %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q lacks %q", err, tc.want)
			}
		})
	}
}

func TestLooksLikeKey(t *testing.T) {
	for s, want := range map[string]bool{
		"kzl_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg": true,
		"kzl_":              false,
		"kzl_abc def":       false,
		"kzl_abc\nkzl_def":  false,
		"KZL_abcdef":        false,
		"export KEY=kzl_ab": false,
		"kzl_abc-def":       false,
	} {
		if got := looksLikeKey(s); got != want {
			t.Errorf("looksLikeKey(%q) = %v, want %v", s, got, want)
		}
	}
}
