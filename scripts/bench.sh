#!/usr/bin/env bash
# make bench: throughput, memory, CPU and latency of the bridge, on two local tansu brokers and on librdkafka
# mock clusters with a cross-region round-trip time. Prints each figure next to its target, and a summary
# block for the README's performance section. Everything it starts is stopped on exit.
#
# Knobs (environment):
#   SCRATCH_PATH=.build        where `swift build -c release` put the binaries (BIN overrides the whole path)
#   BENCH_RECORDS=1000000      records for each throughput run
#   BENCH_PARTITIONS="6 60"    partition counts of the throughput runs
#   BENCH_SIZE=200             value size in bytes (loadgen pads its JSON to it)
#   BENCH_RATE=5000            records/s for the latency run
#   BENCH_LATENCY_SECONDS=20   duration of the latency run
#   BENCH_MOCK_RECORDS=240000  records for each mock-cluster run, over BENCH_MOCK_PARTITIONS=24 partitions
#   BENCH_RTT_MS="80 150"      round-trip times of the "remote" mock cluster (each on the source side and on the target side)
#   BENCH_SOURCE_PROPERTIES={} BENCH_TARGET_PROPERTIES={}   librdkafka properties for the bridge's topology
#                              (the source ones also for the native loop's consumer)
#   BENCH_VERIFY=1             check the copies (pipe: sorted key/value checksum; native: counts; bridge: exactly-once)
#   BENCH_SCALE_RECORDS=200000 records for the scale-out runs (1, 2 and 3 instances in group mode, 6 partitions)
#   BENCH_SYNC_SECONDS=20      duration of the synchronous-confirmation run (at BENCH_RATE), BENCH_SYNC_WAITS=1000 parked waits
#   BENCH_SKIP=                space-separated sections to skip: throughput group latency sync rtt scale reconcile rpo wire
#                              (reconcile reads the throughput section's copy at the first partition count)
#   BENCH_WIRE_RECORDS=200000  records for each bytes-over-the-link run (the wire section; needs tcpdump)
#   BENCH_RPO_HISTORY=1000000  committed (and indexed) payments under the rpo section's one incremental check,
#   BENCH_RPO_NEW=1000         and the new payments that check finds
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/${SCRATCH_PATH:-.build}/release}"
TANSU="$ROOT/.tools/bin/tansu"
RECORDS=${BENCH_RECORDS:-1000000}
PARTITION_COUNTS=${BENCH_PARTITIONS:-"6 60"}
SIZE=${BENCH_SIZE:-200}
RATE=${BENCH_RATE:-5000}
LATENCY_SECONDS=${BENCH_LATENCY_SECONDS:-20}
MOCK_RECORDS=${BENCH_MOCK_RECORDS:-240000}
RTT_MS=${BENCH_RTT_MS:-"80 150"}
SOURCE_PROPERTIES=${BENCH_SOURCE_PROPERTIES:-"{}"}
TARGET_PROPERTIES=${BENCH_TARGET_PROPERTIES:-"{}"}
VERIFY=${BENCH_VERIFY:-1}
SKIP=" ${BENCH_SKIP:-} "
WORK="$(mktemp -d -t regionbridge-bench.XXXXXX)"

# Targets.
TARGET_PIPE_RATIO=1.0    # bridge records/s >= the kcat pipe's
TARGET_NATIVE_RATIO=0.8  # bridge records/s >= 0.8 x the native C forward loop's
TARGET_ADDED_P99_MS=10   # the bridge adds at most 10 ms at p99 over the source hop
TARGET_RSS_MB=150        # peak resident memory of the bridge
TARGET_RTT_RATIO=0.8     # throughput with the remote target >= 0.8 x with a local one
TARGET_RECONCILE_S=60    # reconcile of 1,000,000 committed payments

pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  pg_stop "$WORK"
  pg_stop "$WORK/rpo"
  if [ $status -ne 0 ]; then
    echo "bench: failed (exit $status); logs kept in $WORK" >&2
  else
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '\n== %s\n' "$*"; }
# shellcheck source=postgres.sh
. "$ROOT/scripts/postgres.sh"
die() { echo "bench: $*" >&2; exit 1; }
skipped() { [[ "$SKIP" == *" $1 "* ]]; }
now() { date +%s.%N; }
calc() { python3 -c "import sys; print($1)"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
json() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
forget() { local keep=() q; for q in "${pids[@]}"; do [ "$q" = "$1" ] || keep+=("$q"); done; pids=("${keep[@]}"); }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # user + system time of a running process, in ticks

for tool in regionbridge loadgen latencyprobe mockcluster; do
  [ -x "$BIN/$tool" ] || die "$BIN/$tool not found: run 'make bench' (or swift build -c release first)"
done
[ -x "$TANSU" ] || die "tansu not found at $TANSU: run 'make setup'"
command -v kcat >/dev/null || die "kcat not found: run 'make setup'"
command -v gcc >/dev/null || die "gcc not found: run 'make setup'"

# The reference: a minimal forward loop in C against the same librdkafka (scripts/bench/native-forward.c).
NATIVE="$WORK/native-forward"
# shellcheck disable=SC2046
gcc -O2 -Wall -o "$NATIVE" "$ROOT/scripts/bench/native-forward.c" $(pkg-config --cflags --libs rdkafka) \
  || die "cannot compile scripts/bench/native-forward.c"

start_broker() { # name -> sets BROKER to host:port, BROKER_PID
  local name=$1 port
  port=$(free_port)
  BROKER="127.0.0.1:$port"
  "$TANSU" broker --listener-url "tcp://$BROKER" --advertised-listener-url "tcp://$BROKER" >"$WORK/$name.log" 2>&1 &
  BROKER_PID=$!; pids+=($BROKER_PID)
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
  tail "$WORK/$name.log" >&2; die "broker $name did not start on port $port"
}

topology() { # file source target topic discovery_interval [source-region]
  cat >"$1" <<EOF
pair: bench-${6:-src}
source:
  region: ${6:-src}
  bootstrap_servers: "$2"
  properties: $SOURCE_PROPERTIES
target:
  region: dst
  bootstrap_servers: "$3"
  properties: $TARGET_PROPERTIES
topics:
  include: ["$4"]
  exclude: []
  rename: prefix
  replication_factor: -1
  discovery_interval: $5
groups: {include: []}
EOF
}

# Runs a command under /usr/bin/time -v; sets ELAPSED (s), PEAK_KB (peak resident set) and CPU_S (user + system).
timed() { # log-file command...
  local log=$1 start end; shift
  start=$(now)
  /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$log" 2>&1 || { tail -20 "$log" >&2; die "$1 failed (log above)"; }
  end=$(now)
  ELAPSED=$(calc "$end - $start")
  PEAK_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
  CPU_S=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u + s}' "$WORK/time.txt")
}

verdict() { # value op target -> "ok" or "MISSED"
  if python3 -c "import sys; sys.exit(0 if $1 $2 $3 else 1)"; then echo "ok"; else echo "MISSED"; fi
}

RESULTS=()
result() { RESULTS+=("$(printf '%-46s %-34s %-22s %s' "$1" "$2" "$3" "$4")"); printf '   %-44s %-34s %-22s %s\n' "$1" "$2" "$3" "$4"; }
rate() { calc "int($RECORDS / $1)"; }  # records/s from seconds

KEY_BYTES=17   # loadgen keys are "payment-%09d"
RECORD_BYTES=$((KEY_BYTES + SIZE))
MB=$(calc "$RECORDS * $RECORD_BYTES / 1e6")

echo "RegionBridge benchmark: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(uname -m), $(nproc) cores, binaries in $BIN"
log "starting two tansu brokers"
start_broker source; SRC=$BROKER; SRC_PID=$BROKER_PID
start_broker target; DST=$BROKER; DST_PID=$BROKER_PID
echo "   source $SRC, target $DST (tansu, in-memory storage)"

# 1. Throughput at each partition count ------------------------------------------------------------------
# On the same brokers and the same records, one after the other: the kcat pipe, the native C loop, the setup's
# limit (a kcat consume-only from the source and a kcat produce-only into the target at the same time), the bridge
# in single mode and in group mode (one instance). Each writes into its own empty target topic.
count_records() { kcat -C -b "$1" -t "$2" -e -o beginning -q -f '%p\n' 2>/dev/null | wc -l; }
group_topology() { # file topic region metrics-port
  topology "$1" "$SRC" "$DST" "$2" 5s "$3"
  printf 'metrics: {listen: "127.0.0.1:%s"}\ninstances: {mode: group, session_timeout: 6s, commit_interval: 100ms}\n' "$4" >>"$1"
}
declare -A GROUP_RSS_KB=()
throughput() { # partitions
  local p=$1 topic="bench$1" start end
  log "1. throughput, $p partitions: $RECORDS records of $SIZE bytes (key $KEY_BYTES bytes), the same records for every copier"
  "$BIN/loadgen" --bootstrap "$SRC" --topic "$topic" --partitions "$p" --records "$RECORDS" --size "$SIZE" >"$WORK/loadgen-$p.log" 2>&1 \
    || { cat "$WORK/loadgen-$p.log" >&2; die "loadgen failed"; }
  echo "   $(tail -1 "$WORK/loadgen-$p.log")"
  for t in "pipe$p" "native$p" "limit$p"; do
    "$BIN/loadgen" --bootstrap "$DST" --topic "$t" --partitions "$p" --records 0 >/dev/null 2>&1
  done

  # The kcat pipe. Loadgen keys and JSON values contain neither tabs nor newlines: key<TAB>value<LF> round-trips.
  start=$(now)
  kcat -C -b "$SRC" -t "$topic" -e -o beginning -q -f '%k\t%s\n' | kcat -P -b "$DST" -t "pipe$p" -K $'\t' -X acks=all
  end=$(now); PIPE_S=$(calc "$end - $start")
  result "kcat -C | kcat -P (acks=all), $p partitions" "$(rate "$PIPE_S") records/s" "$(calc "round($PIPE_S, 2)") s" ""
  if [ "$VERIFY" = 1 ]; then
    sum() { kcat -C -b "$1" -t "$2" -e -o beginning -q -f '%k\t%s\n' | LC_ALL=C sort -S 25% | md5sum | cut -c1-32; }
    local s1 s2 n
    n=$(count_records "$DST" "pipe$p"); s1=$(sum "$SRC" "$topic"); s2=$(sum "$DST" "pipe$p")
    [ "$n" = "$RECORDS" ] && [ "$s1" = "$s2" ] || die "the pipe's copy differs: $n records, checksums $s1 / $s2"
  fi

  # The native forward loop (idempotent, acks=all, headers copied in C plus the provenance header).
  local n0
  n0=$(cpu_ticks "$SRC_PID")
  # The bridge's source properties apply to the native loop's consumer too.
  local native_extra
  mapfile -t native_extra < <(python3 -c 'import json,sys; [print(f"{k}={v}") for k, v in json.loads(sys.argv[1]).items()]' "$SOURCE_PROPERTIES")
  timed "$WORK/native-$p.json" "$NATIVE" "$SRC" "$DST" "$topic" "native$p" "$p" "${native_extra[@]}"
  NATIVE_S=$ELAPSED
  NATIVE_SOURCE_CPU=$(calc "round(($(cpu_ticks "$SRC_PID") - $n0) / 100, 1)")
  [ "$(json delivered <"$WORK/native-$p.json")" = "$RECORDS" ] || die "the native loop delivered $(cat "$WORK/native-$p.json")"
  result "native C forward loop, $p partitions" "$(rate "$NATIVE_S") records/s" "$(calc "round($NATIVE_S, 2)") s" "$(calc "round($PEAK_KB / 1024, 1)") MB RSS, source broker CPU $NATIVE_SOURCE_CPU s"

  # The setup's limit: reading the source and writing the target at the same time, by two kcat processes.
  kcat -C -b "$SRC" -t "$topic" -e -o beginning -q -f '%k\t%s\n' >"$WORK/records.tsv"
  start=$(now)
  kcat -C -b "$SRC" -t "$topic" -e -o beginning -q -f '%k\t%s\n' >/dev/null &
  local reader=$!
  kcat -P -b "$DST" -t "limit$p" -K $'\t' -X acks=all <"$WORK/records.tsv"
  wait "$reader"
  end=$(now); LIMIT_S=$(calc "$end - $start")
  rm -f "$WORK/records.tsv"
  result "limit: kcat -C and kcat -P at once, $p partitions" "$(rate "$LIMIT_S") records/s" "$(calc "round($LIMIT_S, 2)") s" ""

  # The bridge, single mode, until caught up: process start to exit, as an operator runs it.
  topology "$WORK/bench-$p.yaml" "$SRC" "$DST" "$topic" 5s
  local b0 d0
  b0=$(cpu_ticks "$SRC_PID"); d0=$(cpu_ticks "$DST_PID")
  timed "$WORK/bridge-$p.log" "$BIN/regionbridge" run --topology "$WORK/bench-$p.yaml" --until-caught-up --log-level notice
  BRIDGE_S=$ELAPSED; BRIDGE_KB=$PEAK_KB; BRIDGE_CPU=$CPU_S
  local pipe_ratio native_ratio limit_ratio
  pipe_ratio=$(calc "round($PIPE_S / $BRIDGE_S, 2)")
  native_ratio=$(calc "round($NATIVE_S / $BRIDGE_S, 2)")
  limit_ratio=$(calc "round($LIMIT_S / $BRIDGE_S, 2)")
  result "bridge (single mode), $p partitions" "$(rate "$BRIDGE_S") records/s, $(calc "round($MB / $BRIDGE_S, 1)") MB/s" "$(calc "round($BRIDGE_S, 2)") s" ""
  result "  bridge / pipe" "$pipe_ratio" "" "target >= $TARGET_PIPE_RATIO: $(verdict "$pipe_ratio" '>=' "$TARGET_PIPE_RATIO")"
  result "  bridge / native loop" "$native_ratio" "" "target >= $TARGET_NATIVE_RATIO: $(verdict "$native_ratio" '>=' "$TARGET_NATIVE_RATIO")"
  result "  bridge / limit" "$limit_ratio" "" ""
  result "  bridge peak RSS" "$(calc "round($BRIDGE_KB / 1024, 1)") MB" "" "target <= $TARGET_RSS_MB MB: $(verdict "$(calc "$BRIDGE_KB / 1024")" '<=' "$TARGET_RSS_MB")"
  result "  bridge CPU per record (user + system)" "$(calc "round($BRIDGE_CPU / $RECORDS * 1e6, 2)") us" "" ""
  local phase
  phase=$(sed -n 's/.*caught up: copied [0-9]* records in \([0-9.]*\) s.*/\1/p' "$WORK/bridge-$p.log" | tail -1)
  [ -z "$phase" ] || result "  copy phase (first record sent to last acknowledged)" "$(rate "$phase") records/s" "$phase s" "the rest: start-up and exit"
  result "  brokers' CPU during the bridge run" "source $(calc "round(($(cpu_ticks "$SRC_PID") - $b0) / 100, 1)") s, target $(calc "round(($(cpu_ticks "$DST_PID") - $d0) / 100, 1)") s" "" ""
  if [ "$VERIFY" = 1 ]; then
    "$BIN/latencyprobe" check --source "$SRC" --source-topic "$topic" --target "$DST" --target-topic "src.$topic" >"$WORK/check-$p.txt" 2>&1 \
      || { cat "$WORK/check-$p.txt" >&2; die "the bridge's copy is not exact"; }
    echo "   verified (latencyprobe check): $(tail -1 "$WORK/check-$p.txt")"
  fi

  # Group mode, one instance. Its own region name makes its own target topic (g$p.bench$p), pair, consumer group
  # and transactional ids. Timed two ways: from its start until the target holds every record (counted with kcat
  # every 0.5 s), so joining the group (tansu answers a first JoinGroup after about 3 s) is inside the figure; and
  # its copy phase, from the first record its /metrics counts as replicated (committed) to the last (sampled every
  # 0.1 s), against single mode's copy phase: the same span, without the join.
  if ! skipped group; then
    local port
    port=$(free_port)
    group_topology "$WORK/group-$p.yaml" "$topic" "g$p" "$port"
    start=$(now)
    "$BIN/regionbridge" run --topology "$WORK/group-$p.yaml" --log-level notice >"$WORK/group-$p.log" 2>&1 &
    local pid=$! peak=0 hwm clients copied first="" last=""
    pids+=($pid)
    while :; do
      kill -0 "$pid" 2>/dev/null || { tail -20 "$WORK/group-$p.log" >&2; die "the group-mode instance exited early"; }
      hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status"); [ "${hwm:-0}" -gt "$peak" ] && peak=$hwm
      [ "$(calc "int($(now) - $start)")" -lt 600 ] || die "the group-mode run did not finish in 600 s"
      copied=$(curl -sf "http://127.0.0.1:$port/metrics" 2>/dev/null \
        | awk '/^regionbridge_records_replicated_total\{/ && /topic="'"$topic"'"/ {n += $NF} END {printf "%d", n}')
      [ -z "$first" ] && [ "${copied:-0}" -gt 0 ] && first=$(now)
      if [ "${copied:-0}" -ge "$RECORDS" ]; then last=$(now); break; fi
      sleep 0.1
    done
    while [ "$(count_records "$DST" "g$p.$topic")" -lt "$RECORDS" ]; do sleep 0.5; done
    end=$(now); GROUP_S=$(calc "$end - $start")
    hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status"); [ "$hwm" -gt "$peak" ] && peak=$hwm
    clients=$(cat /proc/"$pid"/task/*/comm 2>/dev/null | grep -c '^rdk:main' || true)
    kill -TERM "$pid"; wait "$pid" || die "the group-mode instance did not drain cleanly (log in $WORK/group-$p.log)"; forget "$pid"
    result "bridge (group mode, 1 instance), $p partitions" "$(rate "$GROUP_S") records/s" "$(calc "round($GROUP_S, 1)") s" "vs single: $(calc "round($BRIDGE_S / $GROUP_S, 2)")x (process start to last record)"
    local gphase
    gphase=$(calc "$last - $first")
    result "  group copy phase (first record committed to last)" "$(rate "$gphase") records/s" "$(calc "round($gphase, 2)") s" \
      "${phase:+vs single copy phase: $(calc "round($phase / $gphase, 2)")x (target >= 0.8); }joined and copying after $(calc "round($first - $start, 1)") s"
    result "  group mode peak RSS, librdkafka clients" "$(calc "round($peak / 1024, 1)") MB, $clients clients" "" \
      "target <= $TARGET_RSS_MB MB: $(verdict "$(calc "$peak / 1024")" '<=' "$TARGET_RSS_MB")"
    GROUP_RSS_KB[$p]=$peak
    if [ "$VERIFY" = 1 ]; then
      "$BIN/latencyprobe" check --source "$SRC" --source-topic "$topic" --target "$DST" --target-topic "g$p.$topic" >"$WORK/check-g$p.txt" 2>&1 \
        || { cat "$WORK/check-g$p.txt" >&2; die "the group-mode copy is not exact"; }
      echo "   verified (latencyprobe check): $(tail -1 "$WORK/check-g$p.txt")"
    fi
  fi
}
if ! skipped throughput; then
  for p in $PARTITION_COUNTS; do throughput "$p"; done
  set -- $PARTITION_COUNTS
  if ! skipped group && [ $# -ge 2 ]; then
    per=$(calc "round((${GROUP_RSS_KB[$2]} - ${GROUP_RSS_KB[$1]}) / 1024 / ($2 - $1), 2)")
    result "group mode: memory per owned partition" "$per MB" "" "(peak RSS at $2 minus at $1 partitions)"
  fi
fi

# Latency runs (2 and 2b): tansu answers a fetch that finds nothing only when fetch.wait.max.ms runs out; a Kafka
# broker answers as soon as a record arrives. The bridge's source consumer there waits 5 ms, as the probes do, so
# that the figures show the bridge rather than its 100 ms default on this broker (BENCH_SOURCE_PROPERTIES wins).
LAT_SOURCE_PROPERTIES=$(python3 -c 'import json,sys; print(json.dumps({"fetch.wait.max.ms": "5", **json.loads(sys.argv[1])}))' "$SOURCE_PROPERTIES")

# 2. Latency at a steady rate --------------------------------------------------------------------------
if ! skipped latency; then
  LAT_RECORDS=$((RATE * LATENCY_SECONDS))
  log "2. latency: bridge running continuously, loadgen --rate $RATE for ${LATENCY_SECONDS} s ($LAT_RECORDS records), latencyprobe on the target"
  "$BIN/loadgen" --bootstrap "$SRC" --topic latency --partitions 3 --records 0 >/dev/null 2>&1
  echo "   bridge source properties: $LAT_SOURCE_PROPERTIES (tansu answers an empty fetch only at fetch.wait.max.ms)"
  SOURCE_PROPERTIES="$LAT_SOURCE_PROPERTIES" topology "$WORK/latency.yaml" "$SRC" "$DST" latency 1s
  "$BIN/regionbridge" run --topology "$WORK/latency.yaml" --log-level notice >"$WORK/bridge-latency.log" 2>&1 &
  BRIDGE_PID=$!; pids+=($BRIDGE_PID)
  "$BIN/latencyprobe" latency --bootstrap "$DST" --topic src.latency --records "$LAT_RECORDS" --arrivals "$WORK/arrivals-target.tsv" \
    --timeout $((LATENCY_SECONDS + 60)) --idle 10 >"$WORK/latency.json" 2>"$WORK/probe.log" &
  PROBE_PID=$!; pids+=($PROBE_PID)
  # The same records read at the source: the floor set by loadgen, tansu and one fetch, without the bridge.
  "$BIN/latencyprobe" latency --bootstrap "$SRC" --topic latency --records "$LAT_RECORDS" --arrivals "$WORK/arrivals-source.tsv" \
    --timeout $((LATENCY_SECONDS + 60)) --idle 10 >"$WORK/latency-source.json" 2>"$WORK/probe-source.log" &
  HOP_PID=$!; pids+=($HOP_PID)
  for _ in $(seq 1 300); do grep -q "reading" "$WORK/probe.log" 2>/dev/null && grep -q "reading" "$WORK/probe-source.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "reading" "$WORK/probe.log" && grep -q "reading" "$WORK/probe-source.log" \
    || { cat "$WORK/probe.log" "$WORK/probe-source.log" "$WORK/bridge-latency.log" >&2; die "latencyprobe did not start"; }
  sleep 2  # let the probe and the bridge settle on their positions
  cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
  cpu0=$(cpu "$BRIDGE_PID"); t0=$(now)
  "$BIN/loadgen" --bootstrap "$SRC" --topic latency --records "$LAT_RECORDS" --size "$SIZE" --rate "$RATE" --first 100000001 \
    >"$WORK/loadgen-latency.log" 2>&1 || { cat "$WORK/loadgen-latency.log" >&2; die "loadgen failed"; }
  cpu1=$(cpu "$BRIDGE_PID"); t1=$(now)
  wait "$PROBE_PID" || { cat "$WORK/probe.log" >&2; die "latencyprobe failed"; }
  forget "$PROBE_PID"
  wait "$HOP_PID" || { cat "$WORK/probe-source.log" >&2; die "latencyprobe (source) failed"; }
  forget "$HOP_PID"
  LAT_HWM_KB=$(awk '/^VmHWM/ {print $2}' "/proc/$BRIDGE_PID/status")
  kill -TERM "$BRIDGE_PID"
  wait "$BRIDGE_PID" || { tail -20 "$WORK/bridge-latency.log" >&2; die "the bridge did not stop cleanly on SIGTERM"; }
  forget "$BRIDGE_PID"
  L=$(cat "$WORK/latency.json")
  P50=$(json p50_ms <<<"$L"); P99=$(json p99_ms <<<"$L"); P999=$(json p999_ms <<<"$L"); PMAX=$(json max_ms <<<"$L"); LCOUNT=$(json count <<<"$L")
  echo "   $(tail -1 "$WORK/loadgen-latency.log")"
  echo "   latency = consume time at the probe (target) - record CreateTime set by loadgen at the source (tansu keeps"
  echo "   CreateTime, the bridge copies it): end to end, including the source producer's linger (loadgen: linger.ms=5),"
  echo "   the bridge, and one fetch by the probe (fetch.wait.max.ms=5). Timestamps have 1 ms resolution."
  echo "   A second probe reads the same records at the source the same way: that hop, without the bridge, is the floor;"
  echo "   What the bridge adds is measured per record: when the target's probe held it minus when the source's did"
  echo "   (the bridge's own fetch from the source, its produce and the target's acknowledgement, and one more fetch)."
  H=$(cat "$WORK/latency-source.json")
  result "source-only hop p50 / p99 / p99.9 / max" "$(json p50_ms <<<"$H") / $(json p99_ms <<<"$H") / $(json p999_ms <<<"$H") / $(json max_ms <<<"$H") ms" "$(json count <<<"$H") records" "(floor without the bridge)"
  result "end to end p50 / p99 / p99.9 / max" "$P50 / $P99 / $P999 / $PMAX ms" "$LCOUNT records" ""
  # Per record: when the target probe held it minus when the source probe held it (both read the same way).
  ADDED=$(python3 - "$WORK/arrivals-source.tsv" "$WORK/arrivals-target.tsv" <<'PY'
import sys
source = dict(line.split("\t") for line in open(sys.argv[1]).read().splitlines())
added = sorted((int(t) - int(source[k])) / 1000 for k, t in (line.split("\t") for line in open(sys.argv[2]).read().splitlines()) if k in source)
pick = lambda q: added[min(len(added) - 1, int(q * len(added)))]
print(f"{pick(0.5):.1f} {pick(0.99):.1f} {pick(0.999):.1f} {len(added)}")
PY
)
  read -r ADDED_P50 ADDED_P99 ADDED_P999 ADDED_COUNT <<<"$ADDED"
  result "the bridge adds, p50 / p99 / p99.9" "$ADDED_P50 / $ADDED_P99 / $ADDED_P999 ms" "$ADDED_COUNT records" \
    "p99 target <= $TARGET_ADDED_P99_MS ms: $(verdict "$ADDED_P99" '<=' "$TARGET_ADDED_P99_MS")"
  result "bridge CPU at $RATE records/s" "$(calc "round(($cpu1 - $cpu0) / 100 / ($t1 - $t0) * 100, 1)") % of one core" "" ""
  result "bridge peak RSS (VmHWM, continuous run)" "$(calc "round($LAT_HWM_KB / 1024, 1)") MB" "" "target <= $TARGET_RSS_MB MB: $(verdict "$(calc "$LAT_HWM_KB / 1024")" '<=' "$TARGET_RSS_MB")"
fi

# 2b. Synchronous confirmation (/v1/replicated) --------------------------------------------------------------
# What a payment service pays to confirm each payment only once the target holds it: loadgen at $RATE records/s
# asks GET /v1/replicated for every record right after its produce acknowledgement (up to 256 requests in flight)
# and times acknowledgement -> 200. Then 1,000 waits parked at once on records not written yet: the bridge's memory
# and CPU while they wait, and how long after the records are written all 1,000 are answered.
if ! skipped sync; then
  SYNC_SECONDS=${BENCH_SYNC_SECONDS:-$LATENCY_SECONDS}
  SYNC_RECORDS=$((RATE * SYNC_SECONDS))
  SYNC_WAITS=${BENCH_SYNC_WAITS:-1000}
  log "2b. synchronous confirmation: loadgen --rate $RATE for ${SYNC_SECONDS} s, each record confirmed with GET /v1/replicated; then $SYNC_WAITS concurrent waits"
  "$BIN/loadgen" --bootstrap "$SRC" --topic sync --partitions 3 --records 0 >/dev/null 2>&1
  "$BIN/loadgen" --bootstrap "$SRC" --topic syncwaits --partitions 1 --records 0 >/dev/null 2>&1
  echo "   bridge source properties: $LAT_SOURCE_PROPERTIES (as in section 2)"
  SOURCE_PROPERTIES="$LAT_SOURCE_PROPERTIES" topology "$WORK/sync.yaml" "$SRC" "$DST" "sync|syncwaits" 1s
  SYNC_PORT=$(free_port)
  echo "metrics: {listen: \"127.0.0.1:$SYNC_PORT\"}" >>"$WORK/sync.yaml"
  "$BIN/regionbridge" run --topology "$WORK/sync.yaml" --log-level notice >"$WORK/bridge-sync.log" 2>&1 &
  BRIDGE_PID=$!; pids+=($BRIDGE_PID)
  sync_ready=0
  for _ in $(seq 1 600); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SYNC_PORT/v1/replicated?topic=syncwaits&partition=0&offset=0&timeout=0s" || true)
    if [ "$code" = 504 ]; then sync_ready=1; break; fi
    sleep 0.1
  done
  [ $sync_ready = 1 ] || { tail -20 "$WORK/bridge-sync.log" >&2; die "the bridge's /v1/replicated did not answer"; }
  "$BIN/loadgen" --bootstrap "$SRC" --topic sync --records "$SYNC_RECORDS" --size "$SIZE" --rate "$RATE" --first 200000001 \
    --confirm "http://127.0.0.1:$SYNC_PORT" --confirm-timeout 30s >"$WORK/loadgen-sync.log" 2>&1 \
    || { tail -20 "$WORK/loadgen-sync.log" >&2; die "loadgen --confirm failed (a record not confirmed?)"; }
  CONFIRMED=$(grep '^confirmed with /v1/replicated' "$WORK/loadgen-sync.log")
  echo "   $CONFIRMED"
  read -r S50 S99 S999 SMAX SN <<<"$(python3 -c '
import re, sys
line = sys.argv[1]
q = dict(re.findall(r"(p50|p99\.9|p99|max) ([0-9.]+) ms", line))
print(q["p50"], q["p99"], q["p99.9"], q["max"], re.search(r"(\d+) of", line).group(1))' "$CONFIRMED")"
  result "sync confirmation: ack -> 200 p50 / p99 / p99.9 / max" "$S50 / $S99 / $S999 / $SMAX ms" "$SN records at $RATE/s" "(loadgen --confirm)"
  # Many waits parked at once, on offsets of syncwaits/0 that are not written yet.
  rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
  python3 - "$SYNC_PORT" "$SYNC_WAITS" "$WORK/syncwaits.json" "$WORK/syncwaits.go" "$WORK/syncwaits.written" <<'PY' &
import asyncio, json, os, sys, time
port, count, out, go, written = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
async def wait(offset):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET /v1/replicated?topic=syncwaits&partition=0&offset={offset}&timeout=30s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    return int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else 0, time.time()
async def main():
    tasks = [asyncio.create_task(wait(offset)) for offset in range(count)]
    await asyncio.sleep(0.5)
    open(go, "w").close()  # all sent: the bridge may be measured
    results = await asyncio.gather(*tasks)
    while not os.path.exists(written): await asyncio.sleep(0.01)
    done_writing = float(open(written).read())
    statuses = [s for s, _ in results]
    json.dump({"ok": statuses.count(200), "count": count, "last_answer_after_write_ms": round((max(t for _, t in results) - done_writing) * 1000, 1)}, open(out, "w"))
asyncio.run(main())
PY
  WAITERS_PID=$!; pids+=($WAITERS_PID)
  rss0=$(rss "$BRIDGE_PID")
  for _ in $(seq 1 300); do [ -f "$WORK/syncwaits.go" ] && break; sleep 0.05; done
  # Connections beyond the listen backlog (64) are retried by the client's kernel: wait until all are parked.
  for _ in $(seq 1 200); do
    parked=$(curl -s "http://127.0.0.1:$SYNC_PORT/metrics" | awk '/^regionbridge_sync_waits_in_flight/ {print int($2)}')
    [ "${parked:-0}" -ge "$SYNC_WAITS" ] && break
    sleep 0.05
  done
  rss1=$(rss "$BRIDGE_PID"); cpu0=$(cpu_ticks "$BRIDGE_PID"); t0=$(now)
  sleep 5
  cpu1=$(cpu_ticks "$BRIDGE_PID"); t1=$(now)
  "$BIN/loadgen" --bootstrap "$SRC" --topic syncwaits --records "$SYNC_WAITS" --size "$SIZE" --first 300000001 >"$WORK/loadgen-syncwaits.log" 2>&1 \
    || { cat "$WORK/loadgen-syncwaits.log" >&2; die "loadgen failed"; }
  now >"$WORK/syncwaits.written"
  wait "$WAITERS_PID" || die "the waiting clients failed"
  forget "$WAITERS_PID"
  W=$(cat "$WORK/syncwaits.json")
  kill -TERM "$BRIDGE_PID"
  wait "$BRIDGE_PID" || { tail -20 "$WORK/bridge-sync.log" >&2; die "the bridge did not stop cleanly on SIGTERM"; }
  forget "$BRIDGE_PID"
  [ "$(json ok <<<"$W")" = "$SYNC_WAITS" ] || die "only $(json ok <<<"$W") of $SYNC_WAITS parked waits were answered 200: $W"
  result "$SYNC_WAITS parked waits: in flight (gauge)" "${parked:-?}" "" ""
  result "$SYNC_WAITS parked waits: bridge RSS added" "$(calc "round(($rss1 - $rss0) / 1024, 1)") MB" "" "(VmRSS with them minus before)"
  result "$SYNC_WAITS parked waits: bridge CPU while idle" "$(calc "round(($cpu1 - $cpu0) / 100 / ($t1 - $t0) * 100, 1)") % of one core" "" "(5 s, nothing written)"
  result "$SYNC_WAITS parked waits: all answered 200" "$(json last_answer_after_write_ms <<<"$W") ms" "after loadgen's last ack" ""
fi

# 3. Cross-region round trip on mock clusters ------------------------------------------------------------
# Two librdkafka mock clusters (3 brokers each). One of them answers every request after the round trip, the other
# at once: the remote one is the target (the bridge runs in the source region) or the source (the bridge runs in
# the DR region: consume remote, produce local, Kafka's own advice for mirroring), for each round trip of
# BENCH_RTT_MS (a list), against a run with no round trip at all.
# The mock keeps only about 5 MB per partition, so the records are spread over 24 partitions (10,000 each at the
# default count). One bridge run per case, until caught up; the copy phase is what the bridge logs when it has
# caught up (from the first record sent to the last acknowledged), which leaves out the connection and start-up
# round trips that every run pays. Every run is checked exactly-once.
MOCK_PARTITIONS=${BENCH_MOCK_PARTITIONS:-24}
mock_run() { # source-rtt-ms target-rtt-ms -> sets MOCK_S (copy phase), MOCK_WALL_S (whole run)
  local name="$1-$2" out="$WORK/mock-$1-$2.out" pid
  "$BIN/mockcluster" --cluster "3/$1/bench:$MOCK_PARTITIONS" --cluster "3/$2/src.bench:$MOCK_PARTITIONS" >"$out" 2>"$WORK/mock-$name.log" &
  pid=$!; pids+=($pid)
  for _ in $(seq 1 100); do [ "$(wc -l <"$out")" -ge 2 ] && break; sleep 0.1; done
  [ "$(wc -l <"$out")" -ge 2 ] || { cat "$WORK/mock-$name.log" >&2; die "mockcluster did not start"; }
  local msrc mdst; msrc=$(sed -n 1p "$out"); mdst=$(sed -n 2p "$out")
  "$BIN/loadgen" --bootstrap "$msrc" --topic bench --records "$MOCK_RECORDS" --size "$SIZE" >"$WORK/loadgen-mock.log" 2>&1 \
    || { cat "$WORK/loadgen-mock.log" >&2; die "loadgen into the mock failed"; }
  topology "$WORK/mock-$name.yaml" "$msrc" "$mdst" bench 5s
  timed "$WORK/bridge-mock-$name.log" "$BIN/regionbridge" run --topology "$WORK/mock-$name.yaml" --until-caught-up --log-level notice
  MOCK_WALL_S=$ELAPSED
  MOCK_S=$(sed -n 's/.*caught up: copied [0-9]* records in \([0-9.]*\) s.*/\1/p' "$WORK/bridge-mock-$name.log")
  [ -n "$MOCK_S" ] || { tail -20 "$WORK/bridge-mock-$name.log" >&2; die "the bridge did not log its copy phase"; }
  if [ "$VERIFY" = 1 ]; then
    "$BIN/latencyprobe" check --source "$msrc" --source-topic bench --target "$mdst" --target-topic src.bench >"$WORK/check-mock-$name.txt" 2>&1 \
      || { cat "$WORK/check-mock-$name.txt" >&2; die "the bridge's copy on the mock is not exact"; }
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true; forget "$pid"
}
if ! skipped rtt; then
  log "3. cross-region: mock clusters (3 brokers each), the source or the target ${RTT_MS} ms away (every broker) vs 0 ms; $MOCK_RECORDS records over $MOCK_PARTITIONS partitions"
  mock_run 0 0; LOCAL_S=$MOCK_S; LOCAL_WALL=$MOCK_WALL_S
  MMB=$(calc "$MOCK_RECORDS * $RECORD_BYTES / 1e6")
  LOCAL_RPS=$(calc "$MOCK_RECORDS / $LOCAL_S")
  [ "$VERIFY" = 1 ] && echo "   every copy checked exactly-once (latencyprobe check)"
  result "mock, no round trip (copy phase)" "$(calc "int($LOCAL_RPS)") records/s, $(calc "round($MMB / $LOCAL_S, 1)") MB/s" "$(calc "round($LOCAL_S, 2)") s (run $(calc "round($LOCAL_WALL, 1)") s)" ""
  for rtt in $RTT_MS; do
    for side in source target; do
      if [ "$side" = source ]; then mock_run "$rtt" 0; else mock_run 0 "$rtt"; fi
      RPS=$(calc "$MOCK_RECORDS / $MOCK_S"); RATIO=$(calc "round($RPS / $LOCAL_RPS, 3)")
      where=$([ "$side" = source ] && echo "bridge in the DR region" || echo "bridge in the source region")
      result "mock, $side $rtt ms away ($where)" "$(calc "int($RPS)") records/s, $(calc "round($MMB / $MOCK_S, 1)") MB/s" "$(calc "round($MOCK_S, 2)") s (run $(calc "round($MOCK_WALL_S, 1)") s)" \
        "ratio $RATIO, target >= $TARGET_RTT_RATIO: $(verdict "$RATIO" '>=' "$TARGET_RTT_RATIO")"
    done
  done
fi

# 4. Scale-out: 1, 2 and 3 instances of one pair in group mode ------------------------------------------------
# Each run copies the same source topic (6 partitions) into its own empty target topic: the source region's name
# differs per run, so the target topic (<region>.scale), the pair, its consumer group and its transactional ids
# do too. Instances start together; the run is timed from their start until the target holds every record
# (counted with kcat once a second), so it includes joining the group (tansu answers the first JoinGroup after
# about 3 s) and fencing. The same count-based timing is used for a single-mode run (idempotent producer, no
# group, no transactions) on the same records: the difference is what group mode costs.
SCALE_RECORDS=${BENCH_SCALE_RECORDS:-200000}
scale_topology() { # file region mode metrics-port
  topology "$1" "$SRC" "$DST" scale 5s "$2"
  printf 'metrics: {listen: "127.0.0.1:%s"}\ninstances: {mode: %s, session_timeout: 6s, commit_interval: 100ms}\n' "$4" "$3" >>"$1"
}
target_count() { kcat -C -b "$DST" -t "$1" -e -o beginning -q -f '%p\n' 2>/dev/null | wc -l; }
scale_run() { # region mode instances -> sets SCALE_S
  local region=$1 mode=$2 n=$3 i started=() start
  start=$(now)
  for i in $(seq 1 "$n"); do
    scale_topology "$WORK/scale-$region-$i.yaml" "$region" "$mode" "$(free_port)"
    "$BIN/regionbridge" run --topology "$WORK/scale-$region-$i.yaml" --log-level notice >"$WORK/scale-$region-$i.log" 2>&1 &
    pids+=($!); started+=($!)
  done
  while [ "$(target_count "$region.scale")" -lt "$SCALE_RECORDS" ]; do
    for i in "${started[@]}"; do kill -0 "$i" 2>/dev/null || die "an instance of $region exited early (logs in $WORK)"; done
    [ "$(calc "int($(now) - $start)")" -lt 600 ] || die "scale-out run $region did not finish in 600 s"
    sleep 1
  done
  SCALE_S=$(calc "$(now) - $start")
  for i in "${started[@]}"; do kill -TERM "$i"; done
  for i in "${started[@]}"; do wait "$i" || die "an instance of $region did not drain cleanly (logs in $WORK)"; forget "$i"; done
  if [ "$VERIFY" = 1 ]; then
    "$BIN/latencyprobe" check --source "$SRC" --source-topic scale --target "$DST" --target-topic "$region.scale" >"$WORK/check-$region.txt" 2>&1 \
      || { cat "$WORK/check-$region.txt" >&2; die "the scale-out copy $region is not exact"; }
  fi
}
if ! skipped scale; then
  log "4. scale-out: $SCALE_RECORDS records, 6 partitions; single mode, then group mode with 1, 2 and 3 instances ($(nproc) cores)"
  "$BIN/loadgen" --bootstrap "$SRC" --topic scale --partitions 6 --records "$SCALE_RECORDS" --size "$SIZE" >"$WORK/loadgen-scale.log" 2>&1 \
    || { cat "$WORK/loadgen-scale.log" >&2; die "loadgen failed"; }
  SMB=$(calc "$SCALE_RECORDS * $RECORD_BYTES / 1e6")
  scale_run s0 single 1; SINGLE_S=$SCALE_S
  result "single mode, 1 instance (idempotent)" "$(calc "int($SCALE_RECORDS / $SINGLE_S)") records/s, $(calc "round($SMB / $SINGLE_S, 1)") MB/s" "$(calc "round($SINGLE_S, 1)") s" ""
  for n in 1 2 3; do
    scale_run "s$n" group "$n"
    result "group mode, $n instance(s) (transactional)" "$(calc "int($SCALE_RECORDS / $SCALE_S)") records/s, $(calc "round($SMB / $SCALE_S, 1)") MB/s" "$(calc "round($SCALE_S, 1)") s" "vs single: $(calc "round($SINGLE_S / $SCALE_S, 2)")x"
  done
  [ "$VERIFY" = 1 ] && echo "   every run verified exactly-once (latencyprobe check)"
  [ "$(nproc)" -le 2 ] && echo "   on $(nproc) cores the instances, both brokers and kcat share the CPUs: more instances show the cost of coordination, not a speed-up"
fi

# 5. Reconcile against Postgres ---------------------------------------------------------------------------
# One committed payment per record loadgen wrote (same event id, amount and currency), checked against the
# source topic and the bridge's copy of it: 2 x RECORDS records scanned, RECORDS payments compared.
FIRST_P=${PARTITION_COUNTS%% *}
if ! skipped reconcile && ! skipped throughput; then
  log "5. reconcile: $RECORDS committed payments in Postgres 15 against source bench$FIRST_P and target src.bench$FIRST_P"
  pg_start "$WORK"
  # loadgen's amounts include 0.00 (every 10,000th event), which the reference schema's CHECK refuses.
  "${PSQL[@]}" -d payments -c "ALTER TABLE payments DROP CONSTRAINT payments_amount_check"
  t0=$(now)
  "${PSQL[@]}" -d payments -c "
    INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
    SELECT 'pay-' || lpad(n::text, 9, '0'), 'acct-' || (n % 97), ((n % 10000) || '.' || lpad((n % 100)::text, 2, '0'))::numeric,
           (ARRAY['USD', 'EUR', 'GBP'])[n % 3 + 1], 'committed', now() - interval '10 minutes'
    FROM generate_series(1, $RECORDS) AS n"
  echo "   $RECORDS payments committed in $(calc "round($(now) - $t0, 1)") s"
  topology "$WORK/reconcile.yaml" "$SRC" "$DST" "bench$FIRST_P" 5s
  cat >>"$WORK/reconcile.yaml" <<EOF
reconcile:
  postgres_dsn: "host=127.0.0.1 port=$PG_PORT user=postgres dbname=payments"
  committed_query: "SELECT event_id, committed_at, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= \$1 AND committed_at < \$2"
  topics: [bench$FIRST_P]
  event_id: json:event_id
  compare: {amount: amount, currency: currency}
EOF
  reconcile_run() { # label
    local start end code
    start=$(now)
    set +e
    /usr/bin/time -v -o "$WORK/time-reconcile.txt" "$BIN/regionbridge" reconcile --topology "$WORK/reconcile.yaml" --since 1h \
      --format json --log-level warning >"$WORK/reconcile-$1.json" 2>"$WORK/reconcile-$1.log"
    code=$?
    set -e
    end=$(now)
    [ "$code" = 0 ] || { tail -20 "$WORK/reconcile-$1.log" >&2; head -c 3000 "$WORK/reconcile-$1.json" >&2; die "reconcile ($1) exited $code"; }
    RECONCILE_S=$(calc "$end - $start")
    RECONCILE_MB=$(calc "round($(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time-reconcile.txt") / 1024, 1)")
    COMMITTED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["committed"])' "$WORK/reconcile-$1.json")
    SCANNED=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["scan"]; print(s["source_records"] + s["target_records"])' "$WORK/reconcile-$1.json")
    [ "$COMMITTED" = "$RECORDS" ] || die "reconcile ($1) checked $COMMITTED payments, expected $RECORDS"
  }
  reconcile_run first
  result "reconcile, first run (RPO=0 holds)" "$(calc "round($RECONCILE_S, 1)") s, $COMMITTED payments" "$SCANNED records read" \
    "target <= $TARGET_RECONCILE_S s: $(verdict "$RECONCILE_S" '<=' "$TARGET_RECONCILE_S")"
  result "reconcile peak RSS (first run)" "$RECONCILE_MB MB" "" ""
  reconcile_run repeat
  result "reconcile, repeated run (nothing new to read)" "$(calc "round($RECONCILE_S, 1)") s, $COMMITTED payments" "$SCANNED records read" ""
  result "reconcile peak RSS (repeated run)" "$RECONCILE_MB MB" "" ""
fi

# 6. Continuous reconciliation (rpo) ------------------------------------------------------------------------
# `run` with reconcile.continuous over a history of RPO_HISTORY committed payments (a day old, so outside the
# 15-minute window) whose events the first check indexes; then RPO_NEW new payments are committed and published,
# and the next check is measured: its duration (regionbridge_rpo_check_duration_seconds) and what it cost
# Postgres (pg_stat_statements: statements, rows, buffers; pg_stat_user_tables: rows read by sequential scans and
# fetched through indexes). The check's cost must follow the window, not the history.
RPO_HISTORY=${BENCH_RPO_HISTORY:-1000000}
RPO_NEW=${BENCH_RPO_NEW:-1000}
rpo_metric() { # metric name -> the sum of its series at the bridge's /metrics, or nothing
  python3 - "$RPO_PORT" "$1" <<'PY'
import sys, urllib.request
try:
    body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
except Exception:
    sys.exit(0)
values = [float(l.split()[-1]) for l in body.splitlines() if l.startswith(sys.argv[2] + "{") or l.startswith(sys.argv[2] + " ")]
print(sum(values) if values else "")
PY
}
rpo_wait() { # seconds what condition (a shell expression, evaluated again every 0.2 s)
  local deadline=$(( $(date +%s) + $1 ))
  until eval "$3"; do
    [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$WORK/rpo-bridge.log" >&2; die "rpo: timed out waiting for $2"; }
    sleep 0.2
  done
}
rpo_sql() { "${PSQL[@]}" -d payments -At -c "/* bench */ $1"; }
rpo_commit() { # first count age: commits payments first...first+count-1 as loadgen numbers them, committed `age` ago
  rpo_sql "INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
    SELECT 'pay-' || lpad(n::text, 9, '0'), 'acct-' || (n % 97), ((n % 10000) || '.' || lpad((n % 100)::text, 2, '0'))::numeric,
           (ARRAY['USD', 'EUR', 'GBP'])[n % 3 + 1], 'committed', now() - interval '$3'
    FROM generate_series($1, $1 + $2 - 1) AS n" >/dev/null
}
rpo_tables() { # per table: rows read by sequential scans, rows fetched through indexes
  rpo_sql "SELECT relname, coalesce(seq_tup_read, 0), coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables
    WHERE relname IN ('reconcile_events', 'payments') ORDER BY relname"
}
if ! skipped rpo; then
  log "6. rpo: one continuous-reconciliation check of $RPO_NEW new payments on top of $RPO_HISTORY indexed committed payments"
  chmod 755 "$WORK"  # the postgres user runs initdb below it (pg_start opens up only its own folder)
  pg_start "$WORK/rpo"
  "${PSQL[@]}" -d postgres -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
  as_postgres "$PG_BIN/pg_ctl" restart -D "$WORK/rpo/pg/data" -m fast -w >/dev/null
  rpo_sql "CREATE EXTENSION pg_stat_statements"
  rpo_sql "ALTER TABLE payments DROP CONSTRAINT payments_amount_check"  # loadgen's amounts include 0.00
  t0=$(now)
  rpo_commit 1 "$RPO_HISTORY" "1 day"
  "$BIN/loadgen" --bootstrap "$SRC" --topic rpo --partitions 6 --records "$RPO_HISTORY" --size 120 >"$WORK/loadgen-rpo.log" 2>&1 \
    || { cat "$WORK/loadgen-rpo.log" >&2; die "loadgen failed"; }
  echo "   $RPO_HISTORY payments committed a day ago and published in $(calc "round($(now) - $t0, 1)") s"
  RPO_PORT=$(free_port)
  topology "$WORK/rpo.yaml" "$SRC" "$DST" rpo 5s rposrc
  cat >>"$WORK/rpo.yaml" <<RPOYAML
metrics: {listen: "127.0.0.1:$RPO_PORT"}
heartbeats: {interval: 0}
reconcile:
  postgres_dsn: "host=127.0.0.1 port=$PG_PORT user=postgres dbname=payments"
  committed_query: "SELECT event_id, committed_at, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= \$1 AND committed_at < \$2"
  topics: [rpo]
  event_id: json:event_id
  amount: amount
  currency: currency
  continuous: {interval: 30s, lookback: 15m, max_age: 60s}
RPOYAML
  "$BIN/regionbridge" run --topology "$WORK/rpo.yaml" --log-level notice >"$WORK/rpo-bridge.log" 2>&1 &
  RPO_PID=$!; pids+=($RPO_PID)
  rpo_wait 900 "the first check (it indexes the history)" '[ -n "$(rpo_metric regionbridge_rpo_last_success_timestamp_seconds)" ]'
  FIRST_CHECK_S=$(rpo_metric regionbridge_rpo_check_duration_seconds)
  result "rpo: first check (indexes the history)" "$(calc "round($FIRST_CHECK_S, 1)") s, $RPO_HISTORY events" "" ""
  rpo_wait 900 "the bridge to copy the history" '[ "$(rpo_metric regionbridge_records_replicated_total)" = "$RPO_HISTORY.0" ]'
  # Right after a check: reset the statistics, commit and publish the new payments; the next check is the measured one.
  last=$(rpo_metric regionbridge_rpo_last_success_timestamp_seconds)
  rpo_wait 60 "a check" '[ "$(rpo_metric regionbridge_rpo_last_success_timestamp_seconds)" != "$last" ]'
  last=$(rpo_metric regionbridge_rpo_last_success_timestamp_seconds)
  sleep 11  # a backend reports its table statistics within 10 s of going idle
  rpo_sql "SELECT pg_stat_statements_reset()" >/dev/null
  before=$(rpo_tables)
  rpo_commit $((RPO_HISTORY + 1)) "$RPO_NEW" "0 seconds"
  "$BIN/loadgen" --bootstrap "$SRC" --topic rpo --records "$RPO_NEW" --first $((RPO_HISTORY + 1)) --size 120 >"$WORK/loadgen-rpo-new.log" 2>&1 \
    || { cat "$WORK/loadgen-rpo-new.log" >&2; die "loadgen failed"; }
  rpo_wait 60 "the measured check" '[ "$(rpo_metric regionbridge_rpo_last_success_timestamp_seconds)" != "$last" ]'
  CHECK_S=$(rpo_metric regionbridge_rpo_check_duration_seconds)
  AT_RISK=$(rpo_metric regionbridge_rpo_payments_at_risk)
  sleep 11
  after=$(rpo_tables)
  STATEMENTS=$(rpo_sql "SELECT sum(calls)::bigint || ' statements, ' || sum(rows)::bigint || ' rows, '
    || sum(shared_blks_hit + shared_blks_read)::bigint || ' buffers, ' || round(sum(total_exec_time)::numeric, 1) || ' ms'
    FROM pg_stat_statements WHERE query NOT LIKE '%/* bench */%' AND query NOT LIKE '%pg_stat_statements%'")
  TABLES=$(python3 - "$before" "$after" <<'PY'
import sys
parse = lambda text: {f[0]: (int(f[1]), int(f[2])) for f in (line.split("|") for line in text.splitlines() if line)}
before, after = parse(sys.argv[1]), parse(sys.argv[2])
print("; ".join(f"{name}: {after[name][0] - before[name][0]} seq-read, {after[name][1] - before[name][1]} index-fetched"
                for name in sorted(after)))
PY
)
  result "rpo: one check, $RPO_NEW new on $RPO_HISTORY" "$(calc "round($CHECK_S, 3)") s, $(calc "int(float('${AT_RISK:-0}'))") at risk" "" ""
  result "rpo: its Postgres statements" "$STATEMENTS" "" ""
  result "rpo: its table rows" "$TABLES" "" ""
  kill "$RPO_PID" 2>/dev/null || true; wait "$RPO_PID" 2>/dev/null || true; forget "$RPO_PID"
  pg_stop "$WORK/rpo"
fi

# Summary ------------------------------------------------------------------------------------------------
RDKAFKA=$(pkg-config --modversion rdkafka 2>/dev/null || echo unknown)
echo
# 7. Bytes over the link --------------------------------------------------------------------------------
# What crosses the region link per record in each placement, counted by tcpdump on the loopback interface (TCP
# payload bytes): with the bridge in the DR region the link carries the source broker's fetch responses (the
# batches as the source stores them, compressed by their producer or not); with the bridge in the source region it
# carries the bridge's produce requests (compressed by the bridge's own producer, whatever the source did). The
# source topic is written by kcat with each codec; the bridge copies it with its target producer's
# compression.type set to the same codec (its default first).
WIRE_RECORDS=${BENCH_WIRE_RECORDS:-200000}
if ! skipped wire; then
  command -v tcpdump >/dev/null || die "tcpdump not found (apt-get install tcpdump) or skip the section: BENCH_SKIP=wire"
  log "7. bytes over the link: $WIRE_RECORDS records of $SIZE bytes, 6 partitions; source batches uncompressed, lz4, zstd"
  # loadgen pads its JSON with one repeated character, which compresses to almost nothing: these records carry
  # what a payment event has (ids, amounts, currencies, merchants, times, a random reference), about $SIZE bytes.
  python3 - "$WIRE_RECORDS" "$SIZE" >"$WORK/wire.tsv" <<'PY'
import json, random, sys
records, size = int(sys.argv[1]), int(sys.argv[2])
rng = random.Random(7)
merchants = [f"merchant-{rng.randrange(10**6):06d}" for _ in range(2000)]
for n in range(records):
    event = {"event_id": f"pay-{n:09d}", "account": f"acct-{rng.randrange(10**7):07d}",
             "amount": f"{rng.randrange(1, 10**6) / 100:.2f}", "currency": rng.choice(["EUR", "USD", "GBP", "CHF", "JPY"]),
             "status": "committed", "merchant": rng.choice(merchants), "country": rng.choice(["DE", "FR", "US", "GB", "NL", "ES"]),
             "created_at": f"2026-12-07T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
             "reference": "%032x" % rng.getrandbits(128)}
    text = json.dumps(event, separators=(",", ":"))
    while len(text) < size:
        event.setdefault("note", "")
        event["note"] += rng.choice(["card", "sepa", "instant", "refund", "fx", "fee", "batch", "retry"]) + " "
        text = json.dumps(event, separators=(",", ":"))
    print(f"pay-{n:09d}\t{text}")
PY
  # Sums the TCP payload bytes tcpdump saw in a file written by `tcpdump -q`.
  bytes_in() { awk '{n += $NF} END {printf "%d", n}' "$1"; }
  for codec in default none lz4 zstd; do
    source_codec=$codec; [ "$codec" = default ] && source_codec=none
    "$BIN/loadgen" --bootstrap "$SRC" --topic "wire-$codec" --partitions 6 --records 0 >/dev/null 2>&1
    kcat -P -b "$SRC" -t "wire-$codec" -K $'\t' -z "$source_codec" -X acks=all -X linger.ms=5 <"$WORK/wire.tsv"
    props='{}'; [ "$codec" = default ] || props="{\"compression.type\": \"$codec\"}"
    TARGET_PROPERTIES=$props topology "$WORK/wire-$codec.yaml" "$SRC" "$DST" "wire-$codec" 5s "w$codec"
    tcpdump -i lo -B 262144 -s 96 -nn -q -l "tcp src port ${SRC##*:}" >"$WORK/fetched-$codec.txt" 2>"$WORK/fetched-$codec.err" &
    fetch_pid=$!
    tcpdump -i lo -B 262144 -s 96 -nn -q -l "tcp dst port ${DST##*:}" >"$WORK/produced-$codec.txt" 2>"$WORK/produced-$codec.err" &
    produce_pid=$!
    sleep 1
    timed "$WORK/bridge-wire-$codec.log" "$BIN/regionbridge" run --topology "$WORK/wire-$codec.yaml" --until-caught-up --log-level notice
    sleep 0.5
    kill -INT "$fetch_pid" "$produce_pid"; wait "$fetch_pid" "$produce_pid" 2>/dev/null
    grep -h "dropped by kernel" "$WORK/fetched-$codec.err" "$WORK/produced-$codec.err" | grep -qv '^0 ' \
      && echo "   warning: tcpdump dropped packets: $(grep -h 'dropped by kernel' "$WORK"/*-"$codec".err | tr '\n' ' ')"
    fetched=$(calc "round($(bytes_in "$WORK/fetched-$codec.txt") / $WIRE_RECORDS, 1)")
    produced=$(calc "round($(bytes_in "$WORK/produced-$codec.txt") / $WIRE_RECORDS, 1)")
    phase=$(sed -n 's/.*caught up: copied [0-9]* records in \([0-9.]*\) s.*/\1/p' "$WORK/bridge-wire-$codec.log" | tail -1)
    label="source $source_codec, bridge producer ${codec}"
    [ "$codec" = default ] && label="source none, bridge producer default"
    result "$label" "fetched $fetched B/record, produced $produced B/record" "${phase:-?} s copy" \
      "$(calc "int($WIRE_RECORDS / ${phase:-1})") records/s, CPU $(calc "round($CPU_S, 1)") s"
  done
  rm -f "$WORK/wire.tsv"
  echo "   fetched: what the link carries with the bridge in the DR region (the source's stored batches); produced: with it in the source region"
fi

echo "----- summary (for the README's performance section) -----"
echo "date:        $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:     $(uname -m), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "librdkafka:  $RDKAFKA; brokers: tansu $("$TANSU" --version 2>/dev/null | awk '{print $NF}') (in-memory) on loopback; mock: librdkafka mock cluster"
echo "records:     $RECORDS x ($KEY_BYTES B key + $SIZE B value) = $MB MB per throughput run, at $PARTITION_COUNTS partitions; bridge properties: source $SOURCE_PROPERTIES, target $TARGET_PROPERTIES"
printf '%-46s %-34s %-22s %s\n' "measure" "figure" "" "target"
for line in "${RESULTS[@]}"; do echo "$line"; done
echo "-----------------------------------------------------------"
