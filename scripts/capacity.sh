#!/usr/bin/env bash
# The capacity plan's measurement (docs/scaling.md): CPU time per no-op task of each part of a local-mode
# platform, and the ceiling it implies for one core of each.
#   scripts/capacity.sh [--dispatchers N] [--workers W] [--tasks T] [--rounds R]
# Starts its own redis-server, one API and N local dispatchers (W interpreters each) on free loopback ports,
# warms them with 20,000 tasks, then runs R rounds of T tasks with 64 clients, reading each process's CPU time
# (/proc/PID/stat) before and after. Needs the jar (./faas builds it) and redis-server.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$HERE/target/mpcsfaas.jar"
DISPATCHERS=1 WORKERS=2 TASKS=20000 ROUNDS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --dispatchers) DISPATCHERS=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --tasks) TASKS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "usage: $0 [--dispatchers N] [--workers W] [--tasks T] [--rounds R]" >&2; exit 2 ;;
  esac
done
[ -f "$JAR" ] || { echo "no $JAR: run ./faas --version first" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DIR=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
RPORT=$(free_port); APORT=$(free_port)
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" >"$DIR/redis.log" 2>&1 &
REDIS=$!; PIDS+=("$REDIS")
JAVA="java -Xms64m -Xmx512m -jar $JAR"
$JAVA api --port "$APORT" --redis "redis://127.0.0.1:$RPORT" >"$DIR/api.log" 2>&1 &
API=$!; PIDS+=("$API")
DISP=()
for i in $(seq "$DISPATCHERS"); do
  $JAVA dispatcher -m local -w "$WORKERS" --name "d$i" --redis "redis://127.0.0.1:$RPORT" >"$DIR/d$i.log" 2>&1 &
  DISP+=($!); PIDS+=($!)
done
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$APORT/health" >/dev/null && break; sleep 0.5; done
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
children() { local s=0 p; for p in $(pgrep -P "$1"); do s=$((s + $(ticks "$p"))); done; echo "$s"; }
snapshot() { # redis api dispatchers interpreters
  local d=0 k=0 p
  for p in "${DISP[@]}"; do d=$((d + $(ticks "$p"))); k=$((k + $(children "$p"))); done
  echo "$(ticks "$REDIS") $(ticks "$API") $d $k"
}
BENCH="java -Xmx512m -XX:TieredStopAtLevel=1 -jar $JAR bench --url http://127.0.0.1:$APORT --concurrency 64 --warmup 0"
$BENCH --tasks 20000 >/dev/null
HZ=$(getconf CLK_TCK)
echo "dispatchers=$DISPATCHERS interpreters each=$WORKERS tasks/round=$TASKS (CPU microseconds per task; ceiling = tasks/s one core of it could carry)"
for r in $(seq "$ROUNDS"); do
  read -r r0 a0 d0 k0 < <(snapshot)
  rate=$($BENCH --tasks "$TASKS" | grep -o '[0-9]* tasks/s' | head -1)
  read -r r1 a1 d1 k1 < <(snapshot)
  python3 - "$HZ" "$TASKS" "$rate" $((r1 - r0)) $((a1 - a0)) $((d1 - d0)) $((k1 - k0)) <<'PY'
import sys
hz, tasks, rate = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
parts = dict(zip(["redis", "api", "dispatchers", "interpreters"], map(int, sys.argv[4:8])))
cells = []
for name, t in parts.items():
    us = t * 1e6 / hz / tasks
    cells.append(f"{name} {us:.0f} us (ceiling {1e6 / us:,.0f}/s)" if us else f"{name} 0 us")
print(f"{rate}: " + "; ".join(cells))
PY
done
