#!/usr/bin/env bash
# make test: every test with the race detector. The PostgreSQL tests need a cluster:
# KAZZLE_TEST_POSTGRES names one, or this script starts a throwaway one when PostgreSQL
# is installed (scripts/postgres.sh) and stops it afterwards. Without either they skip,
# except under CI=true, where they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
if [ -z "${KAZZLE_TEST_POSTGRES:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	pgdir=$(mktemp -d)
	trap 'bash scripts/postgres.sh stop "$pgdir/pg"; rm -rf "$pgdir"' EXIT
	eval "$(bash scripts/postgres.sh start "$pgdir/pg")"
	echo "make test: PostgreSQL on ${KAZZLE_TEST_POSTGRES%%/postgres?*}"
fi
"$go" test -count=1 -race ./...
