#!/usr/bin/env bash
# make outages: the outage matrix. On real tansu brokers under steady load (loadgen, OUTAGES_RATE records/s over
# the 3 partitions of payment-events), each of {target, source} frozen with SIGSTOP for each of OUTAGES_FREEZES
# seconds, in single mode (one bridge) and group mode (two instances of the pair); plus, per mode, the target
# frozen while the bridge starts (thawed after 60 s, inside the 2-minute --start-timeout).
#
# Each case runs on brokers of its own (each in a session of its own: a stopped process in an orphaned process
# group gets SIGHUP from the kernel, which killed a frozen broker when the script ran detached), with every bridge
# option at its default. For each case:
#   - kept running: no bridge instance exited while the case ran (an exit we did not cause fails the case);
#   - recovery: the time from the thaw until every payment-events partition is at most 1 s behind, read from the
#     instances' own /metrics (regionbridge_lag_seconds) every second; the load goes on meanwhile, so "caught up"
#     is "back to the steady state", not "no record left";
#   - SIGTERM once the load has ended and every record is copied: every instance exits 0 within the drain
#     timeout (30 s) plus 5 s;
#   - exactly once: every source record in the target once, in order, by provenance (latencyprobe check);
#   - one page: `cluster_unreachable` fired at most once over all instances (group mode: only the instance that
#     leads the group speaks for the pair), and resolved as often as it fired (waited for up to 90 s after the
#     catch-up, as it resolves only after `lag.for` of answers).
# Prints one table row per case (also written to $OUTAGES_RESULTS when set) and exits non-zero when a case fails.
#
# Knobs (environment): OUTAGES_FREEZES="15 75 150 360", OUTAGES_SIDES="target source", OUTAGES_MODES="single group",
# OUTAGES_INSTANCES=2 (instances in group mode),
# OUTAGES_RATE=200, OUTAGES_START=1 (the start-up cases; 0 skips them), OUTAGES_PARALLEL=0 (1: the modes side by side,
# each on brokers of its own: about half the wall time, on a loaded machine), SCRATCH_PATH=.build (or BIN).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/${SCRATCH_PATH:-.build}/release}"
TANSU="$ROOT/.tools/bin/tansu"
FREEZES=${OUTAGES_FREEZES:-15 75 150 360}
SIDES=${OUTAGES_SIDES:-target source}
MODES=${OUTAGES_MODES:-single group}
RATE=${OUTAGES_RATE:-200}
WITH_START=${OUTAGES_START:-1}
GROUP_INSTANCES=${OUTAGES_INSTANCES:-2}
PARALLEL=${OUTAGES_PARALLEL:-0}
WARM=15        # seconds of load before the freeze
AFTER=20       # seconds of load after the thaw
DRAIN=30       # the bridge's default --drain-timeout
FETCH_WAIT_MS=500
WORK="$(mktemp -d -t regionbridge-outages.XXXXXX)"

for tool in regionbridge loadgen latencyprobe; do [ -x "$BIN/$tool" ] || { echo "outages: $BIN/$tool not built" >&2; exit 1; }; done
[ -x "$TANSU" ] || { echo "outages: tansu not found at $TANSU: run 'make setup'" >&2; exit 1; }

cleanup() {
  local status=$?
  local pid
  for pid in $(cat "$WORK"/pids 2>/dev/null); do kill -CONT "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done
  if [ $status -ne 0 ]; then echo "outages: failed (exit $status); logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }

# "max_lag_seconds partitions_reported total_lag_records" over the instances' /metrics, for payment-events.
lag_of() {
  local port out=""
  for port in "$@"; do out+="$(curl -s -m 2 "http://127.0.0.1:$port/metrics" || true)"$'\n'; done
  python3 - "$out" <<'EOF'
import re, sys
seconds, records = {}, {}
for line in sys.argv[1].splitlines():
    m = re.match(r'regionbridge_lag_(seconds|records)\{.*topic="payment-events",partition="(\d+)"\} (\S+)', line)
    if m:
        (seconds if m.group(1) == "seconds" else records)[m.group(2)] = float(m.group(3))
print(max(seconds.values()) if seconds else -1, len(seconds), int(sum(records.values())) if records else -1)
EOF
}

# run_case MODE SIDE FREEZE: FREEZE in seconds, or "start" (the target frozen while the bridge starts).
run_case() {
  local mode=$1 side=$2 freeze=$3
  local dir="$WORK/$mode-$side-$freeze"; mkdir -p "$dir"
  local sp tp; sp=$(free_port); tp=$(free_port)
  setsid "$TANSU" broker --listener-url "tcp://127.0.0.1:$sp" --advertised-listener-url "tcp://127.0.0.1:$sp" >"$dir/source.log" 2>&1 &
  local spid=$!; echo $spid >>"$WORK/pids"
  setsid "$TANSU" broker --listener-url "tcp://127.0.0.1:$tp" --advertised-listener-url "tcp://127.0.0.1:$tp" >"$dir/target.log" 2>&1 &
  local tpid=$!; echo $tpid >>"$WORK/pids"
  sleep 1
  "$BIN/loadgen" --bootstrap "127.0.0.1:$sp" --topic payment-events --partitions 3 --records 300 --rate 0 >"$dir/load0.log" 2>&1
  local instances=1; [ "$mode" = group ] && instances=$GROUP_INSTANCES
  local ports=() pids=() i
  for ((i = 0; i < instances; i++)); do
    ports+=("$(free_port)")
    cat >"$dir/topology-$i.yaml" <<EOF
pair: us-east-to-eu-west
source: {region: us-east, bootstrap_servers: "127.0.0.1:$sp"}
target: {region: eu-west, bootstrap_servers: "127.0.0.1:$tp"}
topics: {include: ["payment-events"], rename: prefix}
groups: {include: []}
instances: {mode: $mode}
metrics: {listen: "127.0.0.1:${ports[$i]}"}
EOF
  done
  local hold=$freeze; [ "$freeze" = start ] && hold=60
  local frozen=$tpid; [ "$side" = source ] && frozen=$spid
  local records=$((RATE * (WARM + hold + AFTER)))
  [ "$freeze" = start ] && kill -STOP "$tpid"
  for ((i = 0; i < instances; i++)); do
    "$BIN/regionbridge" run --topology "$dir/topology-$i.yaml" >"$dir/bridge-$i.out" 2>"$dir/bridge-$i.log" &
    pids+=($!); echo $! >>"$WORK/pids"
  done
  "$BIN/loadgen" --bootstrap "127.0.0.1:$sp" --topic payment-events --partitions 3 --records "$records" --rate "$RATE" >"$dir/load.log" 2>&1 &
  local lpid=$!; echo $lpid >>"$WORK/pids"
  if [ "$freeze" != start ]; then sleep "$WARM"; kill -STOP "$frozen"; fi
  local exits=0 t0; t0=$(now)
  while [ "$(elapsed "$t0" "$(now)" | cut -d. -f1)" -lt "$hold" ]; do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || exits=$((exits + 1)); done
    [ $exits -gt 0 ] && break
    sleep 1
  done
  kill -CONT "$frozen"
  local thawed; thawed=$(now)
  local recovery="not recovered" lag n rec
  local deadline=$(( $(date +%s) + hold + 300 ))
  while [ "$(date +%s)" -lt $deadline ] && [ $exits -eq 0 ]; do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || exits=$((exits + 1)); done
    read -r lag n rec < <(lag_of "${ports[@]}")
    echo "$(now) $lag $n $rec" >>"$dir/lag.txt"
    if [ "$n" = 3 ] && python3 -c "import sys; sys.exit(0 if 0 <= float(sys.argv[1]) <= 1 else 1)" "$lag"; then
      recovery="$(elapsed "$thawed" "$(now)") s"; break
    fi
    sleep 1
  done
  wait "$lpid" || true
  # Every record copied (no lag left) before the stop, so the stop is the ordinary one.
  deadline=$(( $(date +%s) + 300 ))
  while [ "$(date +%s)" -lt $deadline ] && [ $exits -eq 0 ]; do
    read -r lag n rec < <(lag_of "${ports[@]}")
    [ "$n" = 3 ] && [ "$rec" = 0 ] && break
    sleep 1
  done
  # cluster_unreachable events over every instance's log (each event is logged at notice as `alert {...}`).
  pages() { cat "$dir"/bridge-*.log | grep -c "\"alert\":\"cluster_unreachable\",\"state\":\"$1\"" || true; }
  deadline=$(( $(date +%s) + 90 ))
  while [ "$(date +%s)" -lt $deadline ] && [ "$(pages resolved)" -lt "$(pages firing)" ]; do sleep 1; done
  local fired resolved; fired=$(pages firing); resolved=$(pages resolved)
  for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || exits=$((exits + 1)); done
  local asked; asked=$(now)
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local codes=() slowest=0
  for pid in "${pids[@]}"; do
    local rc=0 waited=0
    while kill -0 "$pid" 2>/dev/null && [ $waited -lt $((DRAIN + 5)) ]; do sleep 0.2; waited=$(elapsed "$asked" "$(now)" | cut -d. -f1); done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; rc=hung; fi
    wait "$pid" 2>/dev/null || rc=${rc/0/$?}
    codes+=("$rc")
  done
  local stopped; stopped=$(elapsed "$asked" "$(now)")
  local check lost=-1 duplicated=-1 total=-1
  if "$BIN/latencyprobe" check --fetch-wait-ms "$FETCH_WAIT_MS" --source "127.0.0.1:$sp" --source-topic payment-events \
      --target "127.0.0.1:$tp" --target-topic us-east.payment-events >"$dir/check.txt" 2>&1; then :; fi
  check=$(python3 - "$dir/check.txt" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
r = json.loads(lines[-1]) if lines else {"lost": -1, "duplicated": -1, "source_records": -1}
print(r["lost"], r["duplicated"], r["source_records"])
EOF
)
  read -r lost duplicated total <<<"$check"
  kill "$spid" "$tpid" 2>/dev/null || true
  wait "$spid" "$tpid" 2>/dev/null || true
  local verdict=PASS
  [ $exits -eq 0 ] || verdict=FAIL
  [ "$recovery" != "not recovered" ] || verdict=FAIL
  for rc in "${codes[@]}"; do [ "$rc" = 0 ] || verdict=FAIL; done
  [ "$lost" = 0 ] && [ "$duplicated" = 0 ] || verdict=FAIL
  [ "$fired" -le 1 ] && [ "$resolved" = "$fired" ] || verdict=FAIL
  local what="$side frozen ${freeze} s"; [ "$freeze" = start ] && what="target frozen at start, 60 s"
  printf '| %s | %s | %s | %s | %s | %s s, exit %s | %s | %s | %s | %s / %s | %s |\n' "$mode" "$instances" "$what" \
    "$([ $exits -eq 0 ] && echo yes || echo "no ($exits)")" "$recovery" "$stopped" "$(IFS=,; echo "${codes[*]}")" \
    "$total" "$lost" "$duplicated" "$fired" "$resolved" "$verdict" | tee -a "$WORK/results.md"
  [ $verdict = PASS ] || { echo "outages: $mode, $what failed; logs in $dir" >&2; cp -r "$dir" "$WORK/failed-$mode-$side-$freeze"; }
  return 0
}

run_mode() {
  local mode=$1 side freeze
  [ "$WITH_START" = 1 ] && run_case "$mode" target start
  for side in $SIDES; do
    for freeze in $FREEZES; do run_case "$mode" "$side" "$freeze"; done
  done
}

echo "outages: $(date -u +%FT%TZ), $(nproc) cores, librdkafka $(pkg-config --modversion rdkafka 2>/dev/null || echo '?'), $RATE records/s, logs in $WORK"
echo "| mode | instances | outage | kept running | caught up after the thaw | SIGTERM afterwards | source records | lost | duplicated | cluster_unreachable fired / resolved | verdict |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
: >"$WORK/results.md"
if [ "$PARALLEL" = 1 ]; then
  jobs_=()
  for mode in $MODES; do run_mode "$mode" >"$WORK/$mode.rows" 2>"$WORK/$mode.err" & jobs_+=($!); done
  for job in "${jobs_[@]}"; do wait "$job"; done
  for mode in $MODES; do cat "$WORK/$mode.rows"; cat "$WORK/$mode.err" >&2; done
else
  for mode in $MODES; do run_mode "$mode"; done
fi
[ -n "${OUTAGES_RESULTS:-}" ] && cp "$WORK/results.md" "$OUTAGES_RESULTS"
if grep -q "| FAIL |" "$WORK/results.md"; then echo "outages: some cases failed (logs in $WORK)" >&2; trap - EXIT; exit 1; fi
echo "outages: every case passed"
