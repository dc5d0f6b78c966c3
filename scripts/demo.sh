#!/usr/bin/env bash
# make demo: two local tansu brokers (us-east on 19092, eu-west on 29092), payment and ledger traffic
# in us-east, the bridge until caught up, then per-partition record counts on both sides.
# Everything it starts is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.build/debug"
TOPOLOGY="$ROOT/topologies/us-east-to-eu-west.yaml"
SOURCE=127.0.0.1:19092
TARGET=127.0.0.1:29092
RECORDS=${DEMO_RECORDS:-20000}
WORK="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start_broker() { # name address
  local port="${2##*:}"
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "demo: port $port is in use; stop whatever listens there and run again" >&2; exit 1
  fi
  "$ROOT/.tools/bin/tansu" broker --listener-url "tcp://$2" --advertised-listener-url "tcp://$2" >"$WORK/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; sleep 0.1; done
  echo "demo: broker $1 did not start; its log:" >&2; tail "$WORK/$1.log" >&2; exit 1
}

echo "== starting brokers: us-east at $SOURCE, eu-west at $TARGET"
start_broker us-east "$SOURCE"
start_broker eu-west "$TARGET"

echo "== writing $RECORDS payment and $RECORDS ledger events to us-east"
"$BIN/loadgen" --bootstrap "$SOURCE" --topic payment-events --partitions 3 --records "$RECORDS" --kind payment
"$BIN/loadgen" --bootstrap "$SOURCE" --topic ledger-events --partitions 3 --records "$RECORDS" --kind ledger

echo "== replicating with: regionbridge run --topology topologies/us-east-to-eu-west.yaml --until-caught-up"
"$BIN/regionbridge" run --topology "$TOPOLOGY" --until-caught-up --log-level notice

count() { # broker topic -> "partition count" lines
  kcat -C -b "$1" -t "$2" -e -q -f '%p\n' 2>/dev/null | sort -n | uniq -c | awk '{print $2, $1}'
}
echo
echo "== records per partition (read back with kcat)"
printf '%-16s %-9s %8s   %-26s %8s\n' SOURCE PARTITION RECORDS TARGET RECORDS
status=0
for topic in payment-events ledger-events; do
  join <(count "$SOURCE" "$topic") <(count "$TARGET" "us-east.$topic") | while read -r p s t; do
    printf '%-16s %-9s %8s   %-26s %8s\n' "$topic" "$p" "$s" "us-east.$topic" "$t"
  done
  src=$(count "$SOURCE" "$topic" | awk '{s+=$2} END {print s+0}')
  dst=$(count "$TARGET" "us-east.$topic" | awk '{s+=$2} END {print s+0}')
  [ "$src" = "$dst" ] || { echo "demo: $topic has $src records in us-east but $dst in eu-west" >&2; status=1; }
done
[ $status -eq 0 ] && echo "== every record is in eu-west"
exit $status
