package bundler

import (
	"compress/flate"
	"runtime"
	"strings"
	"sync"
)

// gzipSizes are the gzipped sizes of the files that are not source maps.
func gzipSizes(files map[string][]byte) map[string]int {
	sizes := make(map[string]int, len(files))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, data := range files {
		if strings.HasSuffix(name, ".map") {
			continue
		}
		wg.Go(func() {
			n := gzipSize(data)
			mu.Lock()
			sizes[name] = n
			mu.Unlock()
		})
	}
	wg.Wait()
	return sizes
}

// minGzipPiece is the least share of a file worth a goroutine: each piece also reads
// the 32 KiB before it.
const minGzipPiece = 96 << 10

// gzipSize is the size of data gzipped at the default level. The pieces of a large file
// are compressed at once, each primed with the 32 KiB before it as pigz does, so the
// size is within a few bytes per piece of one stream's at a fraction of the wait.
func gzipSize(data []byte) int {
	pieces := max(1, min(runtime.GOMAXPROCS(0), len(data)/minGzipPiece))
	piece := (len(data) + pieces - 1) / pieces
	sizes := make([]int, pieces)
	var wg sync.WaitGroup
	for i := range pieces {
		wg.Go(func() {
			start, end := i*piece, min(len(data), (i+1)*piece)
			dict := data[max(0, start-32<<10):start]
			var n byteCounter
			zw, _ := flate.NewWriterDict(&n, flate.DefaultCompression, dict)
			zw.Write(data[start:end])
			zw.Close()
			sizes[i] = int(n)
		})
	}
	wg.Wait()
	total := 10 + 8 // gzip's header and trailer
	for _, n := range sizes {
		total += n
	}
	return total
}

type byteCounter int

func (c *byteCounter) Write(p []byte) (int, error) {
	*c += byteCounter(len(p))
	return len(p), nil
}
