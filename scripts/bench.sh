#!/usr/bin/env bash
# make bench: run the benchmarks and print each figure beside its target, where one is set.
set -euo pipefail
benchtime=${1:-1s}
out=$(go test -run '^$' -bench . -benchmem -benchtime "$benchtime" ./... 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -E '^(Benchmark|goos|goarch|cpu)' | sed 's/^/  /'
echo
printf '%-44s %14s %14s %s\n' "benchmark" "ns/op" "per second" "note"
echo "$out" | awk '/^Benchmark/ {
	name=$1; sub(/-[0-9]+$/, "", name); ns=$3
	note=""
	if (name == "BenchmarkResolve100") note="100-secret environment from SQLite, decrypt + audit write (fsync) included"
	if (name == "BenchmarkSealField" || name == "BenchmarkOpenField") note="one 32-byte field, AES-256-GCM"
	if (name == "BenchmarkRedactor") note="streaming redaction, 106 values"
	if (name == "BenchmarkResolveHTTP") note="50 secrets over HTTP, 32 parallel clients in the same process"
	if (name == "BenchmarkBuildFixture") note="fixtures/saas React UI in process: esbuild, the leak scan, the write"
	if (name == "BenchmarkScan500Secrets") note="leak scan of a 1 MB bundle for 500 secrets, one pass"
	if (name == "BenchmarkLoadFixture") note="fixtures/saas: esbuild bundle, then goja, in process; target < 20 ms"
	if (name == "BenchmarkApply/components=1") { note="one Lambda deploy on awsfake; its update takes 100 ms to finish"; one=ns }
	if (name == "BenchmarkApply/components=20") { note="20 at once, 8 in parallel"; twenty=ns }
	if (name == "BenchmarkCurlDirect") { note="curl to a loopback HTTPS host, no proxy"; pdirect=ns }
	if (name == "BenchmarkCurlThroughProxy") { note="the same through the proxy, placeholder substituted"; pthrough=ns }
	if (name == "BenchmarkRunCommandCurl/direct") { note="curl run directly, value in argv"; cdirect=ns }
	if (name == "BenchmarkRunCommandCurl/run_command_unbound") { note="run_command of it, unbound value: the call'"'"'s proxy tunnels"; cunbound=ns }
	if (name == "BenchmarkRunCommandCurl/run_command_bound") { note="run_command of it, bound value: placeholder, proxy substitutes"; cbound=ns }
	printf "%-44s %14.0f %14.0f %s\n", name, ns, 1e9/ns, note
}
END {
	if (one > 0 && twenty > 0) printf "deploy of 20 components: %.1fx one component (target: well under 20x)\n", twenty/one
	if (pdirect > 0 && pthrough > 0) printf "the proxy adds %.1f ms to a curl call\n", (pthrough-pdirect)/1e6
	if (cdirect > 0 && cbound > 0) printf "run_command of curl through the proxy adds %.1f ms over a direct curl (%.1f ms unbound; target: under 15 ms)\n", (cbound-cdirect)/1e6, (cunbound-cdirect)/1e6
}'

echo
echo "end to end: a dev server on loopback, the kazzle binary, a load generator on the same 2 cores"
go build -o bin/kazzle ./cmd/kazzle
go run ./internal/serverbench -kazzle bin/kazzle
