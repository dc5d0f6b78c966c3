#!/usr/bin/env bash
# make chaos: a chaos soak. Steady payment traffic (payments committed in Postgres with their outbox rows, the
# outbox published to the source, plus a loadgen stream), and at random moments: kill -9 of a bridge instance,
# SIGSTOP/SIGCONT of the source broker, SIGSTOP/SIGCONT of the target broker (1 s to CHAOS_MAX_FREEZE s each,
# some longer than the request timeout and the critical lag threshold), alone and overlapping. The first half
# runs one single-mode bridge, the second half CHAOS_INSTANCES group-mode instances. Every instance that exits
# is started again (as Kubernetes would); exits we did not cause are counted.
#
# At the end, with every fault over: every source record in the target exactly once by provenance
# (latencyprobe check), every alert that fired resolved (alerts files), `regionbridge reconcile` exit 0 for the
# whole window, and the figures: faults of each kind, records, lost, duplicated, longest recovery.
# Exits non-zero when any of these fails. Everything it starts is stopped on exit.
#
# Knobs (environment): CHAOS_MINUTES=10, CHAOS_SEED (printed at the start; set it to replay the same faults),
# CHAOS_RATE=300 loadgen records/s, CHAOS_PAYMENTS=20 payments committed and published per second,
# CHAOS_INSTANCES=3 (group mode), CHAOS_MAX_FREEZE=90 s, CHAOS_KEEP=1 (keep the logs of a run that passed),
# SCRATCH_PATH=.build (or BIN).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN:-$ROOT/${SCRATCH_PATH:-.build}/release}"
TANSU="$ROOT/.tools/bin/tansu"
MINUTES=${CHAOS_MINUTES:-10}
SEED=${CHAOS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
RATE=${CHAOS_RATE:-300}
PAYMENTS_PER_SECOND=${CHAOS_PAYMENTS:-20}
INSTANCES=${CHAOS_INSTANCES:-3}
MAX_FREEZE=${CHAOS_MAX_FREEZE:-90}
REQUEST_TIMEOUT=10   # seconds; some freezes last longer
# tansu answers no fetch whose fetch.wait.max.ms is shorter than its scan of the partition, and its in-memory scan
# grows with the records: after ~20 min at this rate a 10 ms wait (the readers' default) is never answered, so
# `regionbridge lag` and `latencyprobe check` hung. Every client here waits 500 ms (a Kafka broker answers at once
# when records are there, so this only bounds idle fetches).
FETCH_WAIT_MS=500
WARN=5               # lag.warn_seconds
CRITICAL=20          # lag.critical_seconds; some freezes last longer
TOTAL=$((MINUTES * 60))
WORK="$(mktemp -d -t regionbridge-chaos.XXXXXX)"
# shellcheck source=postgres.sh
. "$ROOT/scripts/postgres.sh"

pids=()
SRC_PID=""; DST_PID=""
cleanup() {
  local status=$?
  [ -n "$SRC_PID" ] && kill -CONT "$SRC_PID" 2>/dev/null || true
  [ -n "$DST_PID" ] && kill -CONT "$DST_PID" 2>/dev/null || true
  touch "$WORK/stop-committer" "$WORK/stop-publisher" "$WORK/stop-monitor"
  for pid in "${pids[@]}" ${INSTANCE_PIDS[@]+"${INSTANCE_PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}" ${INSTANCE_PIDS[@]+"${INSTANCE_PIDS[@]}"}; do wait "$pid" 2>/dev/null || true; done
  pg_stop "$WORK"
  if [ $status -ne 0 ]; then echo "chaos: failed (exit $status), seed $SEED; logs kept in $WORK" >&2; elif [ "${CHAOS_KEEP:-0}" = 1 ]; then echo "chaos: logs kept in $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "chaos: $*" >&2; exit 1; }
now() { date +%s.%N; }
now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
note() { printf '%s %s\n' "$(now)" "$*" >>"$WORK/events.log"; }

for tool in regionbridge loadgen latencyprobe; do
  [ -x "$BIN/$tool" ] || die "$BIN/$tool not found: run 'make chaos' (or swift build -c release first)"
done
[ -x "$TANSU" ] || die "tansu not found at $TANSU: run 'make setup'"
command -v kcat >/dev/null || die "kcat not found: run 'make setup'"

start_broker() { # name -> BROKER, BROKER_PID
  local name=$1 port; port=$(free_port); BROKER="127.0.0.1:$port"
  setsid "$TANSU" broker --listener-url "tcp://$BROKER" --advertised-listener-url "tcp://$BROKER" >"$WORK/$name.log" 2>&1 &
  BROKER_PID=$!; pids+=("$BROKER_PID")
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
  tail "$WORK/$name.log" >&2; die "broker $name did not start on port $port"
}

echo "== chaos: $MINUTES min, seed $SEED (CHAOS_SEED=$SEED replays these faults)"
echo "   faults: kill -9 of a bridge instance, SIGSTOP of the source broker, SIGSTOP of the target broker (1-$MAX_FREEZE s),"
echo "   alone and overlapping; single mode for the first half, $INSTANCES group-mode instances for the second"
start_broker source; SRC=$BROKER; SRC_PID=$BROKER_PID
start_broker target; DST=$BROKER; DST_PID=$BROKER_PID
pg_start "$WORK" >/dev/null
echo "   source $SRC, target $DST (tansu), Postgres on 127.0.0.1:$PG_PORT"
"$BIN/loadgen" --bootstrap "$SRC" --topic payments --partitions 3 --records 0 --kind payment >/dev/null 2>&1
"$BIN/loadgen" --bootstrap "$SRC" --topic payment-events --partitions 3 --records 0 --kind payment >/dev/null 2>&1

write_topology() { # file mode metrics-port
  cat >"$1" <<EOF
pair: chaos
source: {region: src, bootstrap_servers: "$SRC", properties: {fetch.wait.max.ms: "$FETCH_WAIT_MS"}}
target: {region: dst, bootstrap_servers: "$DST", properties: {fetch.wait.max.ms: "$FETCH_WAIT_MS"}}
topics: {include: ["payments", "payment-events"], discovery_interval: 5s}
groups: {include: []}
lag: {warn_seconds: $WARN, critical_seconds: $CRITICAL, for: 2s}
metrics: {listen: "127.0.0.1:$3"}
instances: {mode: $2, session_timeout: 6s, commit_interval: 100ms}
reconcile:
  postgres_dsn: "host=127.0.0.1 port=$PG_PORT user=postgres dbname=payments"
  committed_query: "SELECT event_id, committed_at, amount, currency FROM payments WHERE status = 'committed' AND committed_at >= \$1 AND committed_at < \$2"
  topics: [payments]
  compare: {amount: amount, currency: currency}
EOF
}
for slot in $(seq 0 "$INSTANCES"); do
  port=$(free_port)
  write_topology "$WORK/single-$slot.yaml" single "$port"
  write_topology "$WORK/group-$slot.yaml" group "$port"
done

# The fault schedule, drawn from the seed: "start kind duration instance" lines, sorted by start. Freezes of one
# broker never overlap each other; anything else may overlap. All faults end 20 s before the end.
python3 - "$SEED" "$TOTAL" "$MAX_FREEZE" "$INSTANCES" >"$WORK/schedule.txt" <<'EOF'
import random, sys
seed, total, max_freeze, instances = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
end = total - 20
busy = {"freeze_source": 0.0, "freeze_target": 0.0}
t = 8.0
while t < end - 2:
    kind = rng.choice(["kill", "freeze_source", "freeze_target", "kill", "freeze_source", "freeze_target"])
    if kind == "kill":
        print(f"{int(t * 1000)} kill 0 {rng.randrange(instances)}")
    elif busy[kind] <= t:
        r = rng.random()
        duration = rng.uniform(1, 5) if r < 0.4 else rng.uniform(5, 20) if r < 0.7 else rng.uniform(20, 90)
        duration = round(max(1.0, min(duration, max_freeze, end - t)), 1)
        busy[kind] = t + duration + 2
        print(f"{int(t * 1000)} {kind} {duration} 0")
    t += rng.uniform(3, 15)
EOF

# Bridge instances: slot i runs `regionbridge run` with its own topology (metrics port) and alerts file.
declare -a INSTANCE_PIDS=()
declare -A KILLED=()
MODE=single
start_instance() { # slot
  "$BIN/regionbridge" run --topology "$WORK/$MODE-$1.yaml" --request-timeout "${REQUEST_TIMEOUT}s" --log-level notice \
    --alerts-file "$WORK/alerts-$1.jsonl" >>"$WORK/bridge-$1.out" 2>>"$WORK/bridge-$1.log" &
  INSTANCE_PIDS[$1]=$!
  note "start $1 ${INSTANCE_PIDS[$1]} $MODE"
}
unexpected=0
unexpected_codes=""
supervise() { # restarts instances that exited; counts exits we did not cause
  local slot pid code
  for slot in "${!INSTANCE_PIDS[@]}"; do
    pid=${INSTANCE_PIDS[$slot]}
    [ -n "$pid" ] || continue
    kill -0 "$pid" 2>/dev/null && continue
    code=0; { wait "$pid"; } 2>/dev/null || code=$?   # (the braces also silence bash's "Killed" notice)
    if [ -n "${KILLED[$pid]:-}" ]; then
      note "restart $slot after kill -9"
    else
      unexpected=$((unexpected + 1)); unexpected_codes="$unexpected_codes $code"
      note "exit $slot $pid $code"
      echo "   $(date +%T) instance $slot exited $code by itself: $(grep -E '^regionbridge: ' "$WORK/bridge-$slot.log" | tail -1 | cut -c1-200)"
    fi
    start_instance "$slot"
  done
}
stop_instances() { # SIGTERM every instance, wait; sets STOP_CODES to "slot:code" pairs (not in a subshell: it waits)
  local slot pid code codes=""
  for slot in "${!INSTANCE_PIDS[@]}"; do kill -TERM "${INSTANCE_PIDS[$slot]}" 2>/dev/null || true; done
  for slot in "${!INSTANCE_PIDS[@]}"; do
    pid=${INSTANCE_PIDS[$slot]}; code=0
    { wait "$pid"; } 2>/dev/null || code=$?
    [ -n "${KILLED[$pid]:-}" ] || codes="$codes $slot:$code"
  done
  INSTANCE_PIDS=()
  STOP_CODES=$codes
}

# Payment traffic: every 0.5 s the committer commits payments with their outbox rows in Postgres; the publisher
# sends unpublished outbox rows to the source's `payments` and marks them published only once kcat has them
# acknowledged (so a frozen source delays events, and loses none).
committer() {
  local n=1 batch=$(( (PAYMENTS_PER_SECOND + 1) / 2 ))
  while [ ! -e "$WORK/stop-committer" ]; do
    "${PSQL[@]}" -d payments -c "
      WITH p AS (
        INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
        SELECT 'pay-' || k, 'acct-' || (k % 97), (k % 5000) + 0.25, 'EUR', 'committed', now()
        FROM generate_series($n, $((n + batch - 1))) AS k RETURNING event_id, account, amount, currency)
      INSERT INTO payment_outbox (event_id, payload)
      SELECT event_id, jsonb_build_object('event_id', event_id, 'account', account, 'amount', amount, 'currency', currency) FROM p" \
      >/dev/null
    n=$((n + batch))
    sleep 0.5
  done
}
publisher() {
  while [ ! -e "$WORK/stop-publisher" ]; do
    publish_outbox || echo "$(date +%T) publish failed; retrying"
    sleep 0.5
  done
  for _ in $(seq 1 60); do publish_outbox && [ "$(unpublished)" = 0 ] && return 0; sleep 1; done
  return 1
}
unpublished() { "${PSQL[@]}" -d payments -At -c "SELECT count(*) FROM payment_outbox WHERE published_at IS NULL"; }
publish_outbox() {
  local rows="$WORK/outbox.rows"
  "${PSQL[@]}" -d payments -At -F '|' -c "SELECT event_id, payload::text FROM payment_outbox WHERE published_at IS NULL ORDER BY event_id" >"$rows"
  [ -s "$rows" ] || return 0
  kcat -P -b "$SRC" -t payments -K '|' -X topic.partitioner=murmur2_random -X message.timeout.ms=120000 <"$rows" 2>"$WORK/kcat.last" || return 1
  if grep -q "Delivery failed" "$WORK/kcat.last"; then cat "$WORK/kcat.last" >>"$WORK/kcat.log"; return 1; fi
  { echo "UPDATE payment_outbox SET published_at = now() WHERE event_id IN ("
    cut -d'|' -f1 "$rows" | sed "s/.*/'&'/" | paste -sd,
    echo ")"; } | "${PSQL[@]}" -d payments -f - >/dev/null
}

# Lag as the instances themselves report it on /metrics, every second: "time max_seconds_behind total_records_behind"
# over the 6 partitions of payments and payment-events, each from the instance that owns it ("?" while not every
# partition is reported: no instance answers, or a killed instance's partitions are not taken over yet).
# (`regionbridge lag` was used before: on the loaded tansu source its reads did not finish within 5 s, so almost
# every sample was unanswered and the recovery figure measured nothing.)
monitor() {
  local ports=() slot
  for slot in $(seq 0 "$INSTANCES"); do ports+=("$(sed -n 's/^metrics: {listen: "127.0.0.1:\([0-9]*\)"}$/\1/p' "$WORK/single-$slot.yaml")"); done
  while [ ! -e "$WORK/stop-monitor" ]; do
    local t body="" port; t=$(now)
    for port in "${ports[@]}"; do body+="$(curl -s -m 1 "http://127.0.0.1:$port/metrics" 2>/dev/null || true)"$'\n'; done
    python3 -c '
import re, sys
seconds, records = {}, {}
for line in sys.argv[2].splitlines():
    m = re.match(r"regionbridge_lag_(seconds|records)\{.*topic=\"(payments|payment-events)\",partition=\"(\d+)\"\} (\S+)", line)
    if m:
        key = (m.group(2), m.group(3))
        target = seconds if m.group(1) == "seconds" else records
        target[key] = max(target.get(key, 0.0), float(m.group(4)))
if len(seconds) == 6:
    print(sys.argv[1], max(seconds.values()), int(sum(records.values())))
else:
    print(sys.argv[1], "?", "?")
' "$t" "$body" >>"$WORK/lag.txt"
    sleep 1
  done
}

START=$(now)
START_MS=$(now_ms)
note "begin"
"$BIN/loadgen" --bootstrap "$SRC" --topic payment-events --records $((RATE * TOTAL)) --rate "$RATE" >"$WORK/loadgen.log" 2>&1 &
LOADGEN=$!; pids+=("$LOADGEN")
committer >"$WORK/committer.log" 2>&1 &
COMMITTER=$!; pids+=("$COMMITTER")
publisher >"$WORK/publisher.log" 2>&1 &
PUBLISHER=$!; pids+=("$PUBLISHER")
monitor &
pids+=($!)
start_instance 0

# Faults: a tick every 0.25 s runs what is due and restarts instances that exited.
kills=0; source_freezes=0; target_freezes=0; overlaps=0; longest_freeze=0
frozen_until_source=0; frozen_until_target=0
switched=0
mapfile -t schedule <"$WORK/schedule.txt"
next=0
while :; do
  t=$(now_ms); elapsed=$((t - START_MS))
  if [ $switched -eq 0 ] && [ $elapsed -ge $((TOTAL * 500)) ]; then
    echo "   $(date +%T) half time: single mode stops (SIGTERM), $INSTANCES group-mode instances start"
    stop_instances; codes=$STOP_CODES
    note "switch single->group exits:$codes"
    for code in $codes; do [ "${code#*:}" = 0 ] || { unexpected=$((unexpected + 1)); unexpected_codes="$unexpected_codes ${code#*:}"; }; done
    MODE=group
    for slot in $(seq 0 $((INSTANCES - 1))); do start_instance "$slot"; done
    switched=1
  fi
  while [ $next -lt ${#schedule[@]} ]; do
    read -r at kind duration instance <<<"${schedule[$next]}"
    [ $elapsed -ge "$at" ] || break
    next=$((next + 1))
    active=0
    { [ "$t" -lt $frozen_until_source ] || [ "$t" -lt $frozen_until_target ]; } && active=1
    duration_ms=$(awk -v d="$duration" 'BEGIN { printf "%d", d * 1000 }')
    case $kind in
      kill)
        slot=$((instance % ${#INSTANCE_PIDS[@]}))
        pid=${INSTANCE_PIDS[$slot]}
        if kill -0 "$pid" 2>/dev/null; then
          KILLED[$pid]=1; kill -9 "$pid"; kills=$((kills + 1)); overlaps=$((overlaps + active))
          note "fault kill $slot $pid end $(now)"
        fi
        ;;
      freeze_source|freeze_target)
        if [ "$kind" = freeze_source ]; then broker=$SRC_PID; source_freezes=$((source_freezes + 1)); frozen_until_source=$((t + duration_ms))
        else broker=$DST_PID; target_freezes=$((target_freezes + 1)); frozen_until_target=$((t + duration_ms)); fi
        overlaps=$((overlaps + active))
        longest_freeze=$(awk -v a="$longest_freeze" -v b="$duration" 'BEGIN { print (b > a ? b : a) }')
        kill -STOP "$broker"
        note "fault $kind $duration end $(awk -v t="$t" -v d="$duration_ms" 'BEGIN { printf "%.3f", (t + d) / 1000 }')"
        ( sleep "$duration"; kill -CONT "$broker" ) &
        ;;
    esac
    printf '   %s +%4ds %-14s %s\n' "$(date +%T)" "$((elapsed / 1000))" "$kind" "$([ "$kind" = kill ] && echo "instance $instance" || echo "${duration} s")"
  done
  supervise
  [ $elapsed -ge $((TOTAL * 1000)) ] && break
  sleep 0.25
done
kill -CONT "$SRC_PID" "$DST_PID" 2>/dev/null || true
faults_end=$(now)
note "faults over"

echo "== faults over: $kills kill -9, $source_freezes source freezes, $target_freezes target freezes ($overlaps overlapping another fault, longest ${longest_freeze} s)"
touch "$WORK/stop-committer"; wait "$COMMITTER" 2>/dev/null || true
touch "$WORK/stop-publisher"
wait "$PUBLISHER" || die "the outbox publisher could not publish every committed payment (see $WORK/publisher.log)"
forget_pid() { local keep=(); for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; pids=("${keep[@]}"); }
forget_pid "$PUBLISHER"; forget_pid "$COMMITTER"
kill "$LOADGEN" 2>/dev/null || true; wait "$LOADGEN" 2>/dev/null || true; forget_pid "$LOADGEN"

echo "== waiting for the instances to catch up (no record behind)"
caught_up=""
wait_until=$(python3 -c "print($(now) + 300)")
while python3 -c "import sys; sys.exit(0 if $(now) < $wait_until else 1)"; do
  supervise
  if "$BIN/regionbridge" lag --topology "$WORK/single-0.yaml" --format json --request-timeout 5s --log-level critical >"$WORK/lag-final.json" 2>/dev/null \
     && python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["total_records_behind"] == 0 else 1)' "$WORK/lag-final.json"; then
    caught_up=$(python3 -c "print(round($(now) - $faults_end, 1))"); break
  fi
  sleep 2
done
touch "$WORK/stop-monitor"
# The alerts of the last faults resolve once lag has been clear for `for`; give them the time.
sleep 6
stop_instances; codes=$STOP_CODES
note "final stop exits:$codes"
for code in $codes; do [ "${code#*:}" = 0 ] || { unexpected=$((unexpected + 1)); unexpected_codes="$unexpected_codes ${code#*:}"; }; done
echo "   caught up ${caught_up:-NOT within 300 s} s after the faults; SIGTERM exits (slot:code):$codes"

echo "== final run: regionbridge run --until-caught-up"
"$BIN/regionbridge" run --topology "$WORK/single-0.yaml" --until-caught-up --request-timeout 30s --log-level notice \
  >"$WORK/final.out" 2>>"$WORK/final.log" || { tail -20 "$WORK/final.log" >&2; die "the final run failed"; }

status=0
echo "== exactly-once check (latencyprobe check), per topic"
lost=0; duplicated=0; records=0
for topic in payments payment-events; do
  if ! "$BIN/latencyprobe" check --fetch-wait-ms "$FETCH_WAIT_MS" --source "$SRC" --source-topic "$topic" --target "$DST" --target-topic "src.$topic" >"$WORK/check-$topic.txt" 2>&1; then
    status=1
  fi
  cat "$WORK/check-$topic.txt"
  read -r l d r < <(python3 - "$WORK/check-$topic.txt" <<'EOF'
import json, sys
lines = [l for l in open(sys.argv[1]) if l.startswith("{")]
r = json.loads(lines[-1]) if lines else {"lost": -1, "duplicated": -1, "source_records": 0}
print(r["lost"], r["duplicated"], r["source_records"])
EOF
)
  lost=$((lost + l)); duplicated=$((duplicated + d)); records=$((records + r))
done

echo "== alerts: every (alert, severity, topic/partition or cluster) that fired must have resolved, per alerts file"
python3 - "$WORK" >"$WORK/alerts.txt" <<'EOF' || status=1
import glob, json, sys
fired = resolved = 0
unresolved = []
for path in sorted(glob.glob(sys.argv[1] + "/alerts-*.jsonl")):
    last = {}
    for line in open(path):
        e = json.loads(line)
        key = (e["alert"], e["severity"], e.get("cluster"), e.get("topic"), e.get("partition"))
        if e["state"] == "firing": fired += 1
        else: resolved += 1
        last[key] = e["state"]
    unresolved += [f"{path.rsplit('/', 1)[1]}: {k}" for k, state in last.items() if state == "firing"]
print(f"fired {fired}, resolved {resolved}, still firing {len(unresolved)}")
for u in unresolved: print("  still firing:", u)
sys.exit(1 if unresolved else 0)
EOF
cat "$WORK/alerts.txt"

echo "== reconcile: every payment committed during the run is in the target"
window=$(python3 -c "print(int($(now) - $START) + 120)")
set +e
"$BIN/regionbridge" reconcile --topology "$WORK/single-0.yaml" --since "${window}s" --grace 0s --log-level warning >"$WORK/reconcile.txt" 2>>"$WORK/reconcile.log"
reconcile_code=$?
set -e
head -3 "$WORK/reconcile.txt"
[ $reconcile_code -eq 0 ] || status=1

longest_recovery=$(python3 - "$WORK/events.log" "$WORK/lag.txt" "$WARN" <<'EOF'
# Faults that overlap make one episode (a kill during a freeze is part of it); recovery is the time from an
# episode's end until the instances' /metrics show every partition at most warn_seconds behind. An episode whose
# next one starts before that is cut short: it has no recovery of its own, and is counted apart.
import statistics, sys
intervals, begin = [], None
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) >= 2 and parts[1] == "begin" and begin is None:
        begin = float(parts[0])
    if len(parts) >= 2 and parts[1] == "fault":
        intervals.append((float(parts[0]), float(parts[-1])))
episodes = []
for start, end in sorted(intervals):
    if episodes and start <= episodes[-1][1]:
        episodes[-1][1] = max(episodes[-1][1], end)
    else:
        episodes.append([start, end])
samples = []
for line in open(sys.argv[2]):
    t, seconds, _ = line.split()
    samples.append((float(t), None if seconds == "?" else float(seconds)))
warn = float(sys.argv[3])
begin = begin if begin is not None else (samples[0][0] if samples else 0.0)
recoveries, cut, never = [], 0, 0
for index, (start, end) in enumerate(episodes):
    following = episodes[index + 1][0] if index + 1 < len(episodes) else float("inf")
    ok = next((t for t, s in samples if t >= end and s is not None and s <= warn), None)
    if ok is None and following == float("inf"):
        never += 1
    elif ok is None or ok > following:
        cut += 1
    else:
        recoveries.append((ok - end, start, end))
unanswered = sum(1 for _, s in samples if s is None)
if not episodes:
    print(f"none ({unanswered} of {len(samples)} lag samples incomplete)")
elif never:
    print(f"not recovered after the last episode ({unanswered} of {len(samples)} lag samples incomplete)")
elif not recoveries:
    print(f"none measured: every one of {len(episodes)} episodes was cut short by the next")
else:
    longest, start, end = max(recoveries)
    median = statistics.median(r for r, _, _ in recoveries)
    print(f"{longest:.1f} s (after the episode at +{start - begin:.0f}..+{end - begin:.0f} s; median {median:.1f} s over "
          f"{len(recoveries)} episodes, {cut} more cut short by the next fault; {unanswered} of {len(samples)} lag samples "
          f"incomplete: not every partition reported, as while a killed instance's partitions move)")
EOF
)

echo
echo "== chaos figures (seed $SEED, $MINUTES min)"
printf '   %-34s %s\n' \
  "faults: kill -9" "$kills" \
  "faults: source broker frozen" "$source_freezes" \
  "faults: target broker frozen" "$target_freezes" \
  "faults overlapping another" "$overlaps" \
  "longest freeze" "${longest_freeze} s" \
  "records (source, both topics)" "$records" \
  "lost" "$lost" \
  "duplicated" "$duplicated" \
  "bridge exits we did not cause" "$unexpected${unexpected_codes:+ (codes:$unexpected_codes)}" \
  "longest recovery after a fault episode" "$longest_recovery, until lag <= ${WARN} s" \
  "caught up after the faults" "${caught_up:-no} s" \
  "alerts" "$(head -1 "$WORK/alerts.txt")" \
  "reconcile exit code" "$reconcile_code"
[ "$lost" -eq 0 ] && [ "$duplicated" -eq 0 ] || status=1
[ "$unexpected" -eq 0 ] || status=1
[ -n "$caught_up" ] || status=1
if [ $status -eq 0 ]; then echo "== chaos passed"; else echo "== chaos FAILED (seed $SEED; logs in $WORK)"; fi
exit $status
