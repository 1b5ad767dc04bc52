package bundler

import (
	"os"
	"path/filepath"
	"testing"
)

// TestScanOutputRemovesOnlyTheFilesThatLeak: each file that holds a value is named with
// its secret and removed; the folder, clean files and what a symlink points at stay.
func TestScanOutputRemovesOnlyTheFilesThatLeak(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "outside.js")
	files := map[string]string{
		"dist/index.html":      "<script src=/assets/a.js></script>",
		"dist/assets/a.js":     `const api="https://api.example/v1"`,
		"dist/assets/b.js":     `const k="sk_live_\u0034242abcdef"`, // escaped as esbuild may
		"dist/assets/b.js.map": `{"sources":["src/pay.ts"],"sourcesContent":["export const k = 'sk_live_4242abcdef'"]}`,
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(outside, []byte("sk_live_4242abcdef"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "dist", "link.js")); err != nil {
		t.Fatal(err)
	}
	inline := []Secret{{Name: "VITE_API_URL", Value: "https://api.example/v1"}}
	others := []Secret{{Name: "STRIPE_SECRET_KEY", Value: "sk_live_4242abcdef"}}
	leaks, err := ScanOutput(dir, "dist", inline, others)
	if err != nil {
		t.Fatal(err)
	}
	if len(leaks) != 2 || leaks[0].File != "assets/b.js" || leaks[1].File != "assets/b.js.map" || leaks[1].Source != "src/pay.ts" || leaks[0].Secret != "STRIPE_SECRET_KEY" {
		t.Fatalf("leaks = %+v", leaks)
	}
	for _, gone := range []string{"dist/assets/b.js", "dist/assets/b.js.map"} {
		if _, err := os.Lstat(filepath.Join(dir, gone)); !os.IsNotExist(err) {
			t.Errorf("%s: %v, want it removed", gone, err)
		}
	}
	for _, kept := range []string{"dist/index.html", "dist/assets/a.js", "dist/link.js"} {
		if _, err := os.Lstat(filepath.Join(dir, kept)); err != nil {
			t.Errorf("%s: %v, want it kept", kept, err)
		}
	}
	if _, err := os.Stat(outside); err != nil {
		t.Errorf("the symlink's target: %v", err)
	}
	if _, err := ScanOutput(dir, "..", inline, others); err == nil {
		t.Error("an outDir outside the project was scanned")
	}
}
