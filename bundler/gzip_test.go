package bundler

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func gzipLen(t *testing.T, data []byte) int {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Len()
}

// TestGzipSizeInPieces: a file compressed in pieces reports within 1% of what one gzip
// stream of it takes, the figure Vite's report shows.
func TestGzipSizeInPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var js strings.Builder
	for js.Len() < 5*minGzipPiece { // minified-looking code with repeats and noise
		fmt.Fprintf(&js, "function f%d(e,t){return e.v%d+t.w(%q)}", rng.IntN(500), rng.IntN(50), fmt.Sprint(rng.Uint64()))
	}
	for _, data := range [][]byte{[]byte(js.String()), []byte("tiny"), nil} {
		got, want := gzipSize(data), gzipLen(t, data)
		if diff := float64(got-want) / float64(want); diff < -0.01 || diff > 0.01 {
			t.Errorf("%d bytes: gzipSize %d, one gzip stream %d", len(data), got, want)
		}
	}
}

// TestReportCompressedSize: with the option every file but the source maps carries its
// gzipped size; without it none does.
func TestReportCompressedSize(t *testing.T) {
	dir := project(t, map[string]string{
		"src/main.ts":   "import \"./style.css\";\nconsole.log(import.meta.env.MODE.repeat(3));\n",
		"src/style.css": "body { color: rebeccapurple; }\n",
	})
	for _, report := range []bool{true, false} {
		res, err := Build(context.Background(), Options{Dir: dir, Entry: "src/main.ts", OutDir: "dist", Mode: "prod", ReportCompressedSize: report})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Files {
			data, err := os.ReadFile(filepath.Join(dir, "dist", f.Path))
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if report && !strings.HasSuffix(f.Path, ".map") {
				want = gzipLen(t, data)
			}
			if f.Gzip != want {
				t.Errorf("report %v: %s gzip size %d, want %d", report, f.Path, f.Gzip, want)
			}
		}
	}
}
