#!/usr/bin/env bash
# The capacity plan's measurement (docs/scaling.md): throughput, CPU time per no-op task of each part (Redis, API,
# dispatchers, their interpreters or simulated peers) and Redis commands per task; or Redis memory per task.
#   scripts/capacity.sh [--mode local|push|pull|cluster] [--dispatchers N] [--workers W] [--peers N] [--slots S]
#                       [--driver bench|batch] [--concurrency C] [--tasks T] [--rounds R] [--warmup T]
#                       [--memory N]
# Starts its own redis-server, one API and N dispatchers on free loopback ports. In local mode each dispatcher
# runs W Python interpreters; in push, pull and cluster mode `./faas peers` runs --peers simulated workers of
# --slots each in one JVM (split over the dispatchers), which end every task at once. The driver is `./faas
# bench` (one task per request, C clients) or scripts/capacity_batch.py (batches of 1000 through
# /execute_function/batch, C threads, 503s retried). After a warm-up of --warmup tasks it reads what 10 s of
# idling costs each part (the fleet's heartbeats), then runs R rounds of T tasks, reading each process's CPU
# time (/proc/PID/stat) and Redis's total_commands_processed before and after.
# --memory N instead queues N tasks with no dispatcher, reads Redis's used_memory before and after (bytes per
# queued task), then starts the dispatchers and peers, runs them all, and reads it again (bytes per finished
# task, kept for --result-ttl). Needs the jar (./faas builds it), redis-server and redis-cli.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JAR="$HERE/target/mpcsfaas.jar"
MODE=local DISPATCHERS=1 WORKERS=2 PEERS=1000 SLOTS=4 DRIVER=bench CONCURRENCY=64 TASKS=20000 ROUNDS=3
WARMUP=20000 MEMORY=0
usage() { sed -n 4,6p "$0" | sed 's/^# *//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || usage
  case "$1" in
    --mode) MODE=$2 ;;
    --dispatchers) DISPATCHERS=$2 ;;
    --workers) WORKERS=$2 ;;
    --peers) PEERS=$2 ;;
    --slots) SLOTS=$2 ;;
    --driver) DRIVER=$2 ;;
    --concurrency) CONCURRENCY=$2 ;;
    --tasks) TASKS=$2 ;;
    --rounds) ROUNDS=$2 ;;
    --warmup) WARMUP=$2 ;;
    --memory) MEMORY=$2 ;;
    *) usage ;;
  esac
  shift 2
done
case "$MODE" in local|push|pull|cluster) ;; *) usage ;; esac
case "$DRIVER" in bench|batch) ;; *) usage ;; esac
[ -f "$JAR" ] || { echo "no $JAR: run ./faas --version first" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
DIR=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$DIR"' EXIT
RPORT=$(free_port); APORT=$(free_port)
API_URL="http://127.0.0.1:$APORT"
redis-server --port "$RPORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" >"$DIR/redis.log" 2>&1 &
REDIS=$!; PIDS+=("$REDIS")
JAVA="java -Xms64m -Xmx1g -jar $JAR"
$JAVA api --port "$APORT" --redis "redis://127.0.0.1:$RPORT" >"$DIR/api.log" 2>&1 &
API=$!; PIDS+=("$API")
for _ in $(seq 120); do curl -sf "$API_URL/health" >/dev/null && break; sleep 0.5; done
rinfo() { redis-cli -p "$RPORT" info "$1" | tr -d '\r' | awk -F: -v k="$2" '$1 == k {print $2}'; }

DISP=() PEER_JVMS=()
start_dispatchers() {
  local i hz1="" hz zport
  for i in $(seq "$DISPATCHERS"); do
    local common=(--name "d$i" --redis "redis://127.0.0.1:$RPORT")
    case "$MODE" in
      local) $JAVA dispatcher -m local -w "$WORKERS" "${common[@]}" >"$DIR/d$i.log" 2>&1 & ;;
      push|pull)
        zport=$(free_port)
        $JAVA dispatcher -m "$MODE" -p "$zport" "${common[@]}" >"$DIR/d$i.log" 2>&1 &
        DISP+=($!); PIDS+=($!)
        $JAVA peers --mode "$MODE" --count $((PEERS / DISPATCHERS)) --slots "$SLOTS" "tcp://127.0.0.1:$zport" \
          >"$DIR/peers$i.log" 2>&1 &
        PEER_JVMS+=($!); PIDS+=($!)
        continue ;;
      cluster)
        hz=$(free_port); hz1=${hz1:-$hz}
        $JAVA dispatcher -m cluster --cluster-port "$hz" --join "127.0.0.1:$hz1" "${common[@]}" >"$DIR/d$i.log" 2>&1 &
        DISP+=($!); PIDS+=($!)
        $JAVA peers --mode cluster --count $((PEERS / DISPATCHERS)) --slots "$SLOTS" --name "d$i" \
          --join "127.0.0.1:$hz1" --cluster-port "$(free_port)" >"$DIR/peers$i.log" 2>&1 &
        PEER_JVMS+=($!); PIDS+=($!)
        [ "$i" -gt 1 ] || sleep 8 # the first dispatcher's Hazelcast member is up before others join it
        continue ;;
    esac
    DISP+=($!); PIDS+=($!)
  done
  if [ "$MODE" != local ]; then # every peer has started (registering follows within a heartbeat)
    local log
    for i in $(seq "$DISPATCHERS"); do
      log="$DIR/peers$i.log"
      for _ in $(seq 240); do grep -qs "peers of" "$log" && break; sleep 0.5; done
      grep -qs "peers of" "$log" || { echo "peers did not start: $(tail -5 "$log")" >&2; exit 1; }
    done
  fi
}

drive() { # TASKS -> one line with "N tasks/s"
  if [ "$DRIVER" = batch ]; then
    /usr/bin/python3 "$HERE/scripts/capacity_batch.py" "$API_URL" "$1" --concurrency "$CONCURRENCY"
  else
    java -Xmx512m -XX:TieredStopAtLevel=1 -jar "$JAR" bench --url "$API_URL" --concurrency "$CONCURRENCY" \
      --warmup 0 --tasks "$1" | grep -m1 'tasks/s'
  fi
}

echo "$(date -u +%FT%TZ) mode=$MODE dispatchers=$DISPATCHERS $( [ "$MODE" = local ] && echo "interpreters each=$WORKERS" \
  || echo "peers=$PEERS slots each=$SLOTS") driver=$DRIVER concurrency=$CONCURRENCY; $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$MEMORY" -gt 0 ]; then
  base=$(rinfo memory used_memory)
  /usr/bin/python3 "$HERE/scripts/capacity_batch.py" "$API_URL" "$MEMORY" --concurrency 4 --queue-only
  queued=$(rinfo memory used_memory)
  echo "$MEMORY tasks queued: Redis used_memory $base B empty, $queued B queued:" \
    "$(( (queued - base) / MEMORY )) B per queued task"
  start_dispatchers
  t0=$(date +%s)
  while :; do
    # Redis's own counters: the API's /stats may answer 503 while Redis is busy with a million tasks.
    ended=$(redis-cli -p "$RPORT" hmget faas:stats completed failed | awk '{s += $1} END {print s + 0}')
    [ "$ended" -ge "$MEMORY" ] && break
    sleep 2
  done
  t1=$(date +%s)
  sleep 3 # claims acknowledged, counters written
  finished=$(rinfo memory used_memory)
  echo "$MEMORY tasks finished in $((t1 - t0)) s ($((MEMORY / (t1 - t0 + 1))) tasks/s from a full queue):" \
    "Redis used_memory $finished B: $(( (finished - base) / MEMORY )) B per finished task"
  exit 0
fi

start_dispatchers
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
children() { local s=0 p; for p in $(pgrep -P "$1"); do s=$((s + $(ticks "$p"))); done; echo "$s"; }
sum_ticks() { local s=0 p; for p in "$@"; do s=$((s + $(ticks "$p"))); done; echo "$s"; }
snapshot() { # redis api dispatchers interpreters peers redis-commands
  local k=0 p
  for p in "${DISP[@]}"; do k=$((k + $(children "$p"))); done
  echo "$(ticks "$REDIS") $(ticks "$API") $(sum_ticks "${DISP[@]}") $k $(sum_ticks "${PEER_JVMS[@]}")" \
    "$(rinfo stats total_commands_processed)"
}
if [ "$WARMUP" -gt 0 ]; then
  out=$(drive "$WARMUP") || { echo "warm-up failed: $out"; exit 1; }
fi
HZ=$(getconf CLK_TCK)
# What the fleet costs with no task at all (heartbeats, registrations, presence): share of a core over 10 s.
read -r r0 a0 d0 k0 p0 c0 < <(snapshot); sleep 10; read -r r1 a1 d1 k1 p1 c1 < <(snapshot)
python3 - "$HZ" $((r1 - r0)) $((a1 - a0)) $((d1 - d0)) $((p1 - p0)) $((c1 - c0)) <<'PY'
import sys
hz = int(sys.argv[1])
parts = dict(zip(["redis", "api", "dispatchers", "peers"], (int(t) * 100 / hz / 10 for t in sys.argv[2:6])))
print("idle: " + "; ".join(f"{k} {v:.1f} % of a core" for k, v in parts.items())
      + f"; {int(sys.argv[6]) / 10:.0f} Redis commands/s")
PY
echo "CPU microseconds per task (ceiling = tasks/s one core of it could carry); Redis commands per task"
for r in $(seq "$ROUNDS"); do
  read -r r0 a0 d0 k0 p0 c0 < <(snapshot)
  out=$(drive "$TASKS") || { echo "round failed: $out"; exit 1; }
  rate=$(grep -o '[0-9]* tasks/s' <<<"$out" | head -1)
  retried=$(grep -o '[0-9]* submits or reads retried after 503' <<<"$out" || true)
  read -r r1 a1 d1 k1 p1 c1 < <(snapshot)
  python3 - "$HZ" "$TASKS" "$rate" $((r1 - r0)) $((a1 - a0)) $((d1 - d0)) $((k1 - k0)) $((p1 - p0)) $((c1 - c0)) \
    "$(cut -d' ' -f1 /proc/loadavg)" "$retried" <<'PY'
import sys
hz, tasks, rate = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
parts = dict(zip(["redis", "api", "dispatchers", "interpreters", "peers"], map(int, sys.argv[4:9])))
cells = []
for name, t in parts.items():
    us = t * 1e6 / hz / tasks
    if us:
        cells.append(f"{name} {us:.0f} us (ceiling {1e6 / us:,.0f}/s)")
retried = f"; {sys.argv[11]}" if sys.argv[11] else ""
print(f"{rate}: " + "; ".join(cells) + f"; {int(sys.argv[9]) / tasks:.1f} Redis commands/task; load {sys.argv[10]}"
      + retried)
PY
done
