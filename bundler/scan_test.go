package bundler

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestMatcherAgreesWithContains: the one-pass matcher finds a value exactly when
// bytes.Contains does, at every offset, for values of every length around its prefix
// size, among many others.
func TestMatcherAgreesWithContains(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var secrets []Secret
	for i := 0; i < 200; i++ {
		v := make([]byte, MinScanLength+rng.IntN(20))
		for j := range v {
			v[j] = "abcdef012345-_"[rng.IntN(14)]
		}
		secrets = append(secrets, Secret{Name: fmt.Sprintf("S%d", i), Value: string(v)})
	}
	m := newMatcher(secrets)
	for trial := 0; trial < 300; trial++ {
		data := make([]byte, rng.IntN(400))
		for j := range data {
			data[j] = "abcdef012345-_ xyz"[rng.IntN(18)]
		}
		if trial%3 == 0 && len(data) > 40 { // plant a value at a random offset
			s := secrets[rng.IntN(len(secrets))].Value
			at := rng.IntN(len(data) - len(s))
			copy(data[at:], s)
		}
		want := false
		for _, s := range secrets {
			want = want || bytes.Contains(data, []byte(s.Value))
		}
		if _, got := m.find(data); got != want {
			t.Fatalf("trial %d: matcher found %v, bytes.Contains %v", trial, got, want)
		}
	}
}

// BenchmarkScan500Secrets: the scan of a 1 MB bundle for 500 secrets, in one pass.
// Many values share their first bytes (postgres://…), as real environments' do.
func BenchmarkScan500Secrets(b *testing.B) {
	secrets := benchSecrets()
	chunk := []byte(`function(e,t){return e.postgresUrl+t.value-0042},sk_live_mode:"postgres://localhost",`)
	data := bytes.Repeat(chunk, 1<<20/len(chunk))
	files := map[string][]byte{"assets/main.js": data}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if leak := scan(files, nil, secrets); leak != nil {
			b.Fatal(leak)
		}
	}
}

// BenchmarkScan500SecretsEscapedOutput: the same scan of a 1 MB bundle whose string
// literals hold escapes, as real bundles' do, so that they are read as JavaScript reads
// them too.
func BenchmarkScan500SecretsEscapedOutput(b *testing.B) {
	secrets := benchSecrets()
	chunk := []byte(`function(e,t){return e.postgresUrl+"line\none\t\"q\" \u00e9\\"+t.value-0042},sk_live_mode:'it\'s postgres://localhost',`)
	data := bytes.Repeat(chunk, 1<<20/len(chunk))
	files := map[string][]byte{"assets/main.js": data}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if leak := scan(files, nil, secrets); leak != nil {
			b.Fatal(leak)
		}
	}
}

// benchSecrets are 500 secrets, many of whose values share their first bytes
// (postgres://…), as real environments' do.
func benchSecrets() []Secret {
	var secrets []Secret
	for i := 0; i < 500; i++ {
		v := fmt.Sprintf("sk_live_%04dQw3ErT5yU7iO1pA", i)
		if i%2 == 0 {
			v = fmt.Sprintf("postgres://app:pw-%04d@db:5432/app", i)
		}
		secrets = append(secrets, Secret{Name: fmt.Sprintf("S%d", i), Value: v})
	}
	return secrets
}
