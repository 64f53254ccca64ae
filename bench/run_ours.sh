#!/usr/bin/env bash
# Loads 100k orders into a fresh PostgreSQL database with `crm demo-data`, serves them with ONE
# `crm serve` process and measures the OrdersPage query with wrk at concurrency 10 and 50.
# Bounded: about 3 minutes. Everything talks to 127.0.0.1 only and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB=crm_bench_$$
PORT=${PORT:-8190}
DURATION=${DURATION:-20s}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk"; exit 1; }

psql "$PG/postgres" -qc "CREATE DATABASE $DB"
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; wait 2>/dev/null; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"; }
trap cleanup EXIT
export DATABASE_URL="$PG/$DB"

crm migrate >/dev/null
crm org create bench --name "Bench shop" >/dev/null
echo "bench-password" | crm user create --org bench --email bench@example.com --role owner >/dev/null
start=$(date +%s.%N)
crm demo-data --org bench --accounts 20000 --orders 100000 --seed 1 >/dev/null
echo "demo-data: 20k accounts + 100k orders in $(echo "$(date +%s.%N) - $start" | bc) s"

crm serve --port "$PORT" >/tmp/crm-bench-server.log 2>&1 &
SERVER=$!
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done
TOKEN=$(curl -s "http://127.0.0.1:$PORT/graphql" -H 'Content-Type: application/json' \
  -d '{"query":"mutation { login(input: {email: \"bench@example.com\", password: \"bench-password\"}) { token } }"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["login"]["token"])')
export TOKEN

wrk -t2 -c10 -d5s -s bench/orders_page.lua "http://127.0.0.1:$PORT/graphql" >/dev/null  # warm-up
for c in 10 50; do
  echo -n "ours c=$c: "
  wrk -t2 -c"$c" -d"$DURATION" --timeout 10s -s bench/orders_page.lua "http://127.0.0.1:$PORT/graphql" | grep RESULT
done
