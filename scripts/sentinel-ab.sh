#!/usr/bin/env bash
# What waiting for replicas costs (docs/sentinel.md): ./faas up behind Sentinel with --redis-min-replicas 0
# and 1, alternated, R rounds each, measured by ./faas bench; then Redis's command stats of one run of each.
#   scripts/sentinel-ab.sh [--rounds R] [--tasks T]
# Starts a master, two replicas and three redis-sentinels on free loopback ports in a temporary folder, and
# stops them at the end. Prints each bench line and DIR/bench.csv. Needs redis-server and redis-sentinel.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS=3 TASKS=3000
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --tasks) TASKS=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds R] [--tasks T]" >&2; exit 2 ;;
  esac
done
DIR=$(mktemp -d /tmp/sentinel-ab-XXXX)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
stop_all() { for pid in "$DIR"/*/pid; do [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true; done; }
trap stop_all EXIT

MASTER=$(free_port)
for port in "$MASTER" "$(free_port)" "$(free_port)"; do
  mkdir -p "$DIR/redis-$port"
  replica=()
  [ "$port" != "$MASTER" ] && replica=(--replicaof 127.0.0.1 "$MASTER")
  redis-server --port "$port" --bind 127.0.0.1 --dir "$DIR/redis-$port" --save "" --appendonly no \
    --daemonize yes --pidfile "$DIR/redis-$port/pid" --logfile redis.log "${replica[@]}"
done
SENTINELS=""
for _ in 1 2 3; do
  port=$(free_port)
  mkdir -p "$DIR/sentinel-$port"
  printf 'port %s\nbind 127.0.0.1\ndaemonize yes\npidfile %s\ndir %s\nlogfile sentinel.log\n%s\n%s\n' "$port" \
    "$DIR/sentinel-$port/pid" "$DIR/sentinel-$port" "sentinel monitor faasmaster 127.0.0.1 $MASTER 2" \
    "sentinel down-after-milliseconds faasmaster 2000" > "$DIR/sentinel-$port/sentinel.conf"
  redis-sentinel "$DIR/sentinel-$port/sentinel.conf"
  SENTINELS="$SENTINELS${SENTINELS:+,}127.0.0.1:$port"
done
sleep 3

# run LABEL MIN_REPLICAS [bench options...]: a fresh ./faas up, one bench run, then the up stops.
run() {
  local label=$1 replicas=$2 port up
  shift 2
  port=$(free_port)
  "$HERE/faas" up --port "$port" -w 2 --redis-sentinels "$SENTINELS" --redis-master faasmaster \
    --redis-min-replicas "$replicas" --prefix "$label:" > "$DIR/up-$label.log" 2>&1 &
  up=$!
  for _ in $(seq 200); do
    curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" | grep -q 200 && break
    sleep 0.3
  done
  redis-cli -p "$MASTER" config resetstat > /dev/null
  "$HERE/faas" bench --url "http://127.0.0.1:$port" --tasks "$TASKS" --concurrency 16 \
    --label "min-replicas-$replicas" "$@" | tail -1
  redis-cli -p "$MASTER" info commandstats | grep -E 'cmdstat_(wait|evalsha|publish):' > "$DIR/stats-$label.txt"
  kill "$up"
  wait "$up" || true
}

for round in $(seq "$ROUNDS"); do
  for replicas in 0 1; do
    run "r$round-$replicas" "$replicas" --out "$DIR"
  done
done
cat "$DIR/bench.csv"
for replicas in 0 1; do
  echo "Redis commands of the last run with min-replicas $replicas ($TASKS tasks and the bench's warm-up):"
  cat "$DIR/stats-r$ROUNDS-$replicas.txt"
done
