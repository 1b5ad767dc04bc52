package bundler

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkBuildFixture builds fixtures/saas's React UI in process: the share of
// kazzle build that is esbuild, the leak scan and the write (needs npm ci in
// fixtures/saas/web).
func BenchmarkBuildFixture(b *testing.B) {
	if _, err := os.Stat("../fixtures/saas/web/node_modules/react"); err != nil {
		b.Skip("run npm ci in fixtures/saas/web first")
	}
	dir := b.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../fixtures/saas")); err != nil {
		b.Fatal(err)
	}
	web, err := filepath.Abs("../fixtures/saas/web/node_modules")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "web", "node_modules")); err != nil {
		b.Fatal(err)
	}
	if err := os.Symlink(web, filepath.Join(dir, "web", "node_modules")); err != nil {
		b.Fatal(err)
	}
	opts := Options{Dir: dir, Entry: "web/index.html", OutDir: "web/dist", Mode: "prod",
		Inline: []Secret{{"VITE_API_URL", "https://api.bench.example/v1"}, {"VITE_STRIPE_PUBLISHABLE_KEY", "pk_test_51HbenchKEY0000000000"}},
		Others: []Secret{{"DATABASE_URL", "postgres://app:bench-pw@db/app"}, {"STRIPE_SECRET_KEY", "sk_live_bench000000000000"}}}
	for b.Loop() {
		if _, err := Build(context.Background(), opts); err != nil {
			b.Fatal(err)
		}
	}
}
