#!/usr/bin/env bash
# with-postgres.sh COMMAND…: runs COMMAND with KAZZLE_TEST_POSTGRES naming a PostgreSQL
# cluster: the one already named, or else a throwaway one started here when PostgreSQL
# is installed (scripts/postgres.sh) and stopped afterwards. Without either, COMMAND
# runs without it, and the PostgreSQL tests skip (or fail, under CI=true).
set -euo pipefail
here=$(dirname "$0")
if [ -z "${KAZZLE_TEST_POSTGRES:-}" ] && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	pgdir=$(mktemp -d)
	trap 'bash "$here/postgres.sh" stop "$pgdir/pg"; rm -rf "$pgdir"' EXIT
	eval "$(bash "$here/postgres.sh" start "$pgdir/pg")"
	echo "with-postgres: a throwaway PostgreSQL cluster on ${KAZZLE_TEST_POSTGRES%%/postgres\?*}" >&2
fi
"$@"
