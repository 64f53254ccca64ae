#!/usr/bin/env bash
# The OrdersPage benchmark in one command:   bash bench/run.sh
#
# Our server (one `crm serve` process), PostGraphile 5 (one Node 22 process) and a hand-written
# asyncpg baseline over the same 100k orders, measured with wrk at concurrency 10 and 50, plus a
# py-spy profile of our server. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth;
# change with PG_URL) and the project's virtualenv (.venv, `pip install -e .`). Installs what is
# missing: wrk (apt-get, when root), py-spy (pip, into the venv), PostGraphile and Node 22 (npm,
# into bench/postgraphile/node_modules). All traffic goes to 127.0.0.1; every load run lasts a
# fixed time; about 6 minutes in all. Servers are stopped and the database dropped on exit.
# Settings: see the docstring of bench/bench.py (DURATION, CONCURRENCY, SERVERS, KEEP_DB...).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=$PWD/bench

VENV=${VENV:-$PWD/.venv}
[ -x "$VENV/bin/python" ] || { echo "no virtualenv at $VENV: python3 -m venv .venv && .venv/bin/pip install -e ." >&2; exit 1; }
# shellcheck disable=SC1091
. "$VENV/bin/activate"
command -v crm >/dev/null || { echo "the crm command is missing: pip install -e ." >&2; exit 1; }

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "[bench] installing wrk (apt-get)"
    { apt-get update -q && apt-get install -y -q wrk; } >/dev/null
  else
    echo "wrk is needed: sudo apt-get install wrk" >&2; exit 1
  fi
fi
if ! command -v py-spy >/dev/null; then
  echo "[bench] installing py-spy (pip)"
  pip install -q py-spy
fi
if [ ! -x "$BENCH/postgraphile/node_modules/.bin/node" ] || [ ! -d "$BENCH/postgraphile/node_modules/postgraphile" ]; then
  command -v npm >/dev/null || { echo "npm is needed to install PostGraphile: apt-get install npm" >&2; exit 1; }
  echo "[bench] installing PostGraphile 5 and Node 22 into bench/postgraphile/node_modules (npm ci)"
  (cd "$BENCH/postgraphile" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

mkdir -p "$BENCH/results"
PIDFILE=$BENCH/results/servers.pid
: >"$PIDFILE"
cleanup() {
  # bench.py stops its servers itself (also on Ctrl-C and SIGTERM); this is the safety net.
  local pid
  while read -r pid; do
    [ -n "$pid" ] && kill -TERM -- "-$pid" 2>/dev/null || true
  done <"$PIDFILE"
  rm -f "$PIDFILE"
}
trap cleanup EXIT

start=$(date +%s)
status=0
python "$BENCH/bench.py" || status=$?
echo "[bench] whole run: $(( $(date +%s) - start )) s (exit status $status)"
exit "$status"
