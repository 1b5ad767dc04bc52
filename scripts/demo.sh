#!/usr/bin/env bash
# make demo: the journey a new user takes, on the embedded defaults. A dev server in a
# temporary folder on a free loopback port; a collection with dev and prod environments;
# secrets from fixtures/demo (untagged, tagged, a login, a reference, a TOTP seed);
# kazzle run with a command that reports what it received; export; the audit trail;
# the fixture project built and deployed to a local AWS endpoint;
# a clean stop. Then the vault's own demo: encryption at rest and KMS re-wrap.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/kazzle ./cmd/kazzle
export PATH="$PWD/bin:$PATH"
data=$(mktemp -d)
log="$data/server.log"
cleanup() {
	[ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null
	[ -n "${aws_pid:-}" ] && kill "$aws_pid" 2>/dev/null
	rm -rf "$data"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }
show() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; }

step "start a dev server (SQLite and a local root key in $data)"
kazzle server --dev --data "$data" --listen 127.0.0.1:0 2>"$log" &
server_pid=$!
for _ in $(seq 100); do grep -q 'server listening on' "$log" && break; sleep 0.05; done
export KAZZLE_SERVER=$(sed -n 's/^kazzle: server listening on //p' "$log")
export KAZZLE_API_KEY=$(sed -n 's/^kazzle: admin API key: //p' "$log")
echo "    listening on $KAZZLE_SERVER (admin UI: $KAZZLE_SERVER/ui/); the first start printed an admin key: ${KAZZLE_API_KEY:0:8}…"

export KAZZLE_COLLECTION=my-saas
step "a collection with two environments"
show kazzle collections create my-saas
show kazzle envs create dev
show kazzle envs create prod

step "secrets: values come from stdin, never from the command line"
printf %s 'http://localhost:8080'            | kazzle secrets set API_URL >/dev/null
printf %s 'https://api.my-saas.example'      | kazzle secrets set API_URL --env prod >/dev/null
printf %s 'sk_test_demo_51HxZ2pLq8R7tY0uV'   | kazzle secrets set STRIPE_SECRET_KEY --env dev >/dev/null
printf %s 'sk_live_demo_9kQw3ErT5yU7iO1pA'   | kazzle secrets set STRIPE_SECRET_KEY --env prod >/dev/null
db_id=$(printf %s '{"username":"saas_app_rw","password":"demo-db-password-7f3a9c1e"}' | kazzle secrets set DB --type login)
printf 'postgres://${secret.%s.username}:${secret.%s.password}@db.internal:5432/app' "$db_id" "$db_id" \
	| kazzle secrets set DATABASE_URL >/dev/null
printf %s '{"seed":"JBSWY3DPEHPK3PXP"}'       | kazzle secrets set ADMIN_2FA --type totp >/dev/null
show kazzle secrets list

vars="API_URL STRIPE_SECRET_KEY DATABASE_URL DB_USERNAME DB_PASSWORD ADMIN_2FA_CODE"
for env in dev prod; do
	step "kazzle run --env $env: what the command received"
	printf '$ kazzle run --env %s -- fixtures/demo/report-env.sh …\n' "$env"
	kazzle run --env "$env" -- fixtures/demo/report-env.sh $vars
done

step "kazzle run --redact: values the command prints come out as references"
show kazzle run --env dev --redact -- sh -c 'echo "connecting to $DATABASE_URL"'

step "export for tools that read a .env file (values masked here by the demo itself)"
printf '$ kazzle secrets export --env prod\n'
kazzle secrets export --env prod | sed -E "s/=('.{4}).*'$/=\1…'/"

step "the audit trail: every change and every read of plaintext, no values"
show kazzle audit --limit 8

step "the project configuration: which component gets which secrets (fixtures/saas/kazzle.config.ts)"
show kazzle config print --dir fixtures/saas --env prod

step "the rest of the project's secrets"
printf %s 'redis://cache.internal:6379/0'           | kazzle secrets set REDIS_URL >/dev/null
printf %s 'sk-proj-demo-4Tq9wXe2Rb7Yu1Io'           | kazzle secrets set OPENAI_API_KEY >/dev/null
printf %s 'SG.demo-sendgrid.k3y-8Jd7Hs6Ga5'          | kazzle secrets set SENDGRID_API_KEY >/dev/null
printf %s 'pk_live_demo_7Hh6Gg5Ff4Dd3Ss2'           | kazzle secrets set VITE_STRIPE_PUBLISHABLE_KEY --env prod >/dev/null
printf %s 'https://my-saas.example/api'             | kazzle secrets set VITE_API_URL --env prod >/dev/null
show kazzle secrets list --env prod

# A copy of the fixture project, so that its build output stays out of the repository.
[ -d fixtures/saas/web/node_modules ] || (cd fixtures/saas/web && npm ci --no-audit --no-fund --silent)
proj="$data/saas"
(cd fixtures && tar cf - --exclude=node_modules --exclude=dist saas) | (cd "$data" && tar xf -)
ln -s "$PWD/fixtures/saas/web/node_modules" "$proj/web/node_modules"

step "kazzle build: the React UI with its two VITE_ values inlined, every other value scanned for"
show kazzle build web --dir "$proj" --env prod

step "a local AWS endpoint (internal/awsfake: real wire protocols, signatures checked), seeded with the app's function, service and parameters (fixtures/demo/aws.json)"
go build -o bin/awsfake ./internal/awsfake/cmd/awsfake
bin/awsfake -seed fixtures/demo/aws.json -update-delay 300ms >"$data/aws.env" 2>"$data/aws.log" &
aws_pid=$!
for _ in $(seq 100); do [ -s "$data/aws.env" ] && break; sleep 0.05; done
. "$data/aws.env"
echo "    AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"

step "kazzle deploy --plan: what would change on each target, values masked"
show kazzle deploy --dir "$proj" --env prod --plan

step "kazzle deploy --yes: Lambda, a new ECS task definition revision, SSM parameters, and the UI"
show kazzle deploy --dir "$proj" --env prod --yes

step "deploy again: kazzle changed only its own keys, and there is nothing left to change"
show kazzle deploy api worker --dir "$proj" --env prod --plan

step "stop the server (SIGTERM: requests in flight finish first)"
kill -TERM "$server_pid"; wait "$server_pid"; server_pid=
tail -n 2 "$log" | sed 's/^/    /'

step "the vault underneath: encryption at rest, and a re-wrap under AWS KMS on a local endpoint"
go run ./internal/demo
