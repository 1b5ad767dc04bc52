#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for the tests, make bench and trying
# several server replicas by hand.
#
#   scripts/postgres.sh start DIR   initdb in DIR, start on a free 127.0.0.1 port, and print
#                                   KAZZLE_TEST_POSTGRES=postgres://…/postgres (an export line)
#   scripts/postgres.sh stop DIR    stop it (DIR can then be removed)
#
# PostgreSQL refuses to run as root, so as root the cluster runs as the postgres user
# that Debian's package creates. Authentication is trust: the cluster listens on
# loopback only and lives as long as the test run.
set -euo pipefail
cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}

bindir=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir=$d; done
if [ -z "$bindir" ] && command -v initdb >/dev/null; then bindir=$(dirname "$(command -v initdb)"); fi
[ -n "$bindir" ] || { echo "postgres.sh: no PostgreSQL server here (Debian: apt-get install postgresql)" >&2; exit 1; }

as_owner() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
	mkdir -p "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir"
		chmod o+x "$(dirname "$dir")" # a mktemp -d folder is root's alone
	fi
	as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	for _ in $(seq 20); do
		port=$((20000 + RANDOM % 30000))
		if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c max_connections=200 -c fsync=on" \
			start >/dev/null 2>&1; then
			echo "export KAZZLE_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
			exit 0
		fi
	done
	cat "$dir/server.log" >&2
	exit 1
	;;
stop)
	as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
	;;
*)
	echo "usage: postgres.sh start|stop DIR" >&2
	exit 2
	;;
esac
