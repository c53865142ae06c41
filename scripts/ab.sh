#!/usr/bin/env bash
# Alternated A/B of two builds of the platform, each side against a fresh `up -w 2` in a temporary folder,
# with up's own append-only Redis (as ./faas up runs it) and the launcher's default heap:
#
#   scripts/ab.sh noop A.jar B.jar [ROUNDS]   warm no-op throughput (64 clients, submit then wait) and
#                                             one-client latency, by B's bench client for both sides
#   scripts/ab.sh big  A.jar B.jar [ROUNDS]   big echoes: scripts/big_payloads.py --sizes $SIZES --runs 5
#
# Rounds alternate which side goes first (the machine's load drifts). MODE picks the dispatch mode (default
# local), SIZES the big sizes in MiB (default 1,8), BODIES json, pickle or both (default; a side older than
# pickle bodies refuses them with 415, so use BODIES=json against it). Build a side with `mvn -q -Dmaven.test.skip=true package`
# and copy target/mpcsfaas.jar away; git worktree add gives an older commit its own folder. Needs java,
# curl, redis-server, and /usr/bin/python3 with dill and requests.
set -euo pipefail

WHAT=${1:?noop or big}
A=$(realpath "${2:?the A jar}")
B=$(realpath "${3:?the B jar}")
ROUNDS=${4:-3}
MODE=${MODE:-local}
SIZES=${SIZES:-1,8}
HERE=$(cd "$(dirname "$0")" && pwd)
OPENS="--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/sun.nio.ch=ALL-UNNAMED"

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One side: starts up, measures, stops it and its Redis. Prints one line.
side() {
  local jar=$1 name=$2 dir api redis up
  dir=$(mktemp -d)
  api=$(free_port)
  redis=$(free_port)
  (cd "$dir" && exec java -Xms64m -Xmx512m $OPENS -jar "$jar" up --port "$api" \
    --redis "redis://127.0.0.1:$redis" --dispatcher-port "$(free_port)" -w 2 --mode "$MODE" >up.log 2>&1) &
  up=$!
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$api/health" >/dev/null && break; sleep 0.2; done
  echo -n "$name (load $(cut -d' ' -f1 /proc/loadavg)): "
  if [ "$WHAT" = noop ]; then
    java -jar "$B" bench --url "http://127.0.0.1:$api" --tasks 20000 --concurrency 64 --warmup 20000 --two-step 2>&1 \
      | grep -o '[0-9]* tasks/s' | head -1 | tr -d '\n' || true
    echo -n ", 64 clients; "
    java -jar "$B" bench --url "http://127.0.0.1:$api" --tasks 2000 --concurrency 1 --warmup 500 --two-step 2>&1 \
      | grep -o 'p50 [0-9.]*' | head -1 | sed 's/$/ ms, one client/' || true
  else
    /usr/bin/python3 "$HERE/big_payloads.py" --url "http://127.0.0.1:$api" --sizes "$SIZES" --runs 5 --bodies "${BODIES:-json,pickle}" 2>&1 | tr '\n' ' ' || true
    echo
  fi
  kill "$up" && wait "$up" || true
  pkill -f "redis-server.*:$redis" || true
  rm -rf "$dir"
}

echo "A = $A"
echo "B = $B"
for round in $(seq 1 "$ROUNDS"); do
  echo "round $round, $MODE mode"
  if [ $((round % 2)) = 1 ]; then
    side "$A" A; side "$B" B
  else
    side "$B" B; side "$A" A
  fi
done
