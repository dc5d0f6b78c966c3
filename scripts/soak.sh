#!/usr/bin/env bash
# make soak: the bridge under continuous load, killed with kill -9 at random moments every 2-10 s and
# restarted, then one final `run --until-caught-up` and an exactly-once check: every target partition's
# sequence of regionbridge.source offsets must equal its source partition's offsets exactly.
# Exits non-zero when a record was lost, duplicated or reordered. Everything it starts is stopped on exit.
#
# Knobs (environment): SCRATCH_PATH=.build (or BIN), SOAK_MINUTES=5, SOAK_RATE=3000 records/s,
# SOAK_MIN_KILL=2 and SOAK_MAX_KILL=10 seconds between kills.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/${SCRATCH_PATH:-.build}/release}"
TANSU="$ROOT/.tools/bin/tansu"
MINUTES=${SOAK_MINUTES:-5}
RATE=${SOAK_RATE:-3000}
MIN_KILL=${SOAK_MIN_KILL:-2}
MAX_KILL=${SOAK_MAX_KILL:-10}
RECORDS=$(python3 -c "print(int($RATE * 60 * $MINUTES))")
WORK="$(mktemp -d -t regionbridge-soak.XXXXXX)"

pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then echo "soak: failed (exit $status); logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "soak: $*" >&2; exit 1; }
forget() { local keep=(); for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; pids=("${keep[@]}"); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

for tool in regionbridge loadgen latencyprobe; do
  [ -x "$BIN/$tool" ] || die "$BIN/$tool not found: run 'make soak' (or swift build -c release first)"
done
[ -x "$TANSU" ] || die "tansu not found at $TANSU: run 'make setup'"

start_broker() { # name -> BROKER
  local name=$1 port; port=$(free_port); BROKER="127.0.0.1:$port"
  "$TANSU" broker --listener-url "tcp://$BROKER" --advertised-listener-url "tcp://$BROKER" >"$WORK/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
  tail "$WORK/$name.log" >&2; die "broker $name did not start on port $port"
}

echo "== soak: $MINUTES min at $RATE records/s ($RECORDS records), bridge killed with kill -9 every $MIN_KILL-$MAX_KILL s"
start_broker source; SRC=$BROKER
start_broker target; DST=$BROKER
echo "   source $SRC, target $DST (tansu)"
"$BIN/loadgen" --bootstrap "$SRC" --topic soak --partitions 3 --records 0 >/dev/null 2>&1
cat >"$WORK/soak.yaml" <<EOF
pair: soak
source:
  region: src
  bootstrap_servers: "$SRC"
  properties: {}
target:
  region: dst
  bootstrap_servers: "$DST"
  properties: {}
topics:
  include: ["soak"]
  exclude: []
  rename: prefix
  replication_factor: -1
  discovery_interval: 1s
EOF

"$BIN/loadgen" --bootstrap "$SRC" --topic soak --records "$RECORDS" --rate "$RATE" >"$WORK/loadgen.log" 2>&1 &
LOADGEN=$!; pids+=($LOADGEN)

kills=0
while kill -0 "$LOADGEN" 2>/dev/null; do
  "$BIN/regionbridge" run --topology "$WORK/soak.yaml" --log-level notice >>"$WORK/bridge.log" 2>&1 &
  bridge=$!; pids+=($bridge)
  sleep "$(python3 -c "import random; print(round(random.uniform($MIN_KILL, $MAX_KILL), 2))")"
  if kill -0 "$bridge" 2>/dev/null; then
    kill -9 "$bridge"; kills=$((kills + 1))
    wait "$bridge" 2>/dev/null || true
  else
    wait "$bridge" || { tail -20 "$WORK/bridge.log" >&2; die "the bridge exited with an error before it was killed"; }
  fi
  forget "$bridge"
  printf '\r   kills: %d, %s' "$kills" "$(date +%T)"
done
echo
wait "$LOADGEN" || { cat "$WORK/loadgen.log" >&2; die "loadgen failed"; }
forget "$LOADGEN"
echo "   $(tail -1 "$WORK/loadgen.log"); the bridge was killed $kills times"

echo "== final run: regionbridge run --until-caught-up"
"$BIN/regionbridge" run --topology "$WORK/soak.yaml" --until-caught-up --log-level notice >"$WORK/final.out" 2>>"$WORK/bridge.log" \
  || { tail -20 "$WORK/bridge.log" >&2; die "the final run failed"; }
cat "$WORK/final.out"

echo "== exactly-once check (latencyprobe check): source offsets vs target regionbridge.source offsets, per partition"
if "$BIN/latencyprobe" check --source "$SRC" --source-topic soak --target "$DST" --target-topic src.soak >"$WORK/check.txt" 2>&1; then
  cat "$WORK/check.txt"
  echo "== soak passed: $RECORDS records, $kills kill -9 restarts, nothing lost or duplicated"
else
  cat "$WORK/check.txt"
  python3 - "$WORK/check.txt" <<'EOF' || true
import json, sys
line = [l for l in open(sys.argv[1]) if l.startswith("{")][-1]
r = json.loads(line)
print(f"soak: FAILED: lost {r['lost']}, duplicated {r['duplicated']}, out of order {r['out_of_order']}")
EOF
  exit 1
fi
