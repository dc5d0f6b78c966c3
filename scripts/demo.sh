#!/usr/bin/env bash
# make demo: two local tansu brokers (us-east on 19092, eu-west on 29092), payment and ledger traffic
# in us-east, the bridge until caught up, then per-partition record counts on both sides.
# Then a local Postgres with deploy/postgres/payments.sql: payments committed there and published to
# `payments` in us-east (one withheld, one published after the bridge's last run), and the reconcile
# report, which must name exactly those two, each with its class.
# Last, synchronous confirmation: with the bridge running, a payment publisher confirms a few payments only after
# the bridge's GET /v1/replicated says eu-west holds them, and prints how long each confirmation waited.
# Everything it starts is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$ROOT/.build/debug"
SHIPPED_TOPOLOGY="$ROOT/topologies/us-east-to-eu-west.yaml"
SOURCE=127.0.0.1:19092
TARGET=127.0.0.1:29092
RECORDS=${DEMO_RECORDS:-20000}
PAYMENTS=${DEMO_PAYMENTS:-2000}
METRICS_PORT=${DEMO_METRICS_PORT:-19464}
WORK="$(mktemp -d)"
# shellcheck source=postgres.sh
. "$ROOT/scripts/postgres.sh"
pids=()
cleanup() {
  pg_stop "$WORK"
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

echo "== starting Postgres (the payment system of record) and loading deploy/postgres/payments.sql"
pg_start "$WORK"

# The demo's topology: the shipped one, also replicating `payments`, with a reconcile section.
TOPOLOGY="$WORK/us-east-to-eu-west.yaml"
sed 's/include: \["payment-events", "ledger-events"\]/include: ["payment-events", "ledger-events", "payments"]/' "$SHIPPED_TOPOLOGY" >"$TOPOLOGY"
cat >>"$TOPOLOGY" <<YAML
reconcile:
  postgres_dsn: "host=127.0.0.1 port=$PG_PORT user=postgres dbname=payments"
  committed_query: |
    SELECT event_id, committed_at, amount, currency FROM payments
    WHERE status = 'committed' AND committed_at >= \$1 AND committed_at < \$2
  topics: [payments]
  event_id: key
  compare: {amount: amount, currency: currency}
metrics:
  listen: "127.0.0.1:$METRICS_PORT"
YAML

# Commits payments with their outbox rows in one transaction each batch, committed a few minutes ago.
commit_payments() { # first last
  "${PSQL[@]}" -d payments -c "
    WITH p AS (
      INSERT INTO payments (event_id, account, amount, currency, status, committed_at)
      SELECT 'pay-' || n, 'acct-' || (n % 97), (n % 5000) + 0.25, 'EUR', 'committed', now() - interval '3 minutes'
      FROM generate_series($1, $2) AS n RETURNING event_id, account, amount, currency)
    INSERT INTO payment_outbox (event_id, payload)
    SELECT event_id, jsonb_build_object('event_id', event_id, 'account', account, 'amount', amount, 'currency', currency) FROM p"
}
# The publisher: sends unpublished outbox rows (except those named) to us-east's `payments`, then marks them.
publish_outbox() { # event ids to withhold...
  local skip="'-'"; for id in "$@"; do skip="$skip,'$id'"; done
  "${PSQL[@]}" -d payments -At -F '|' -c "SELECT event_id, payload::text FROM payment_outbox WHERE published_at IS NULL AND event_id NOT IN ($skip) ORDER BY event_id" \
    | kcat -P -b "$SOURCE" -t payments -K '|' -X topic.partitioner=murmur2_random
  "${PSQL[@]}" -d payments -c "UPDATE payment_outbox SET published_at = now() WHERE published_at IS NULL AND event_id NOT IN ($skip)"
}

echo "== starting brokers: us-east at $SOURCE, eu-west at $TARGET"
start_broker us-east "$SOURCE"
start_broker eu-west "$TARGET"

echo "== committing $PAYMENTS payments in Postgres; publishing all but pay-1000 (withheld by the publisher) to us-east"
"$BIN/loadgen" --bootstrap "$SOURCE" --topic payments --partitions 3 --records 0 --kind payment >/dev/null  # creates the topic
commit_payments 1 "$PAYMENTS"
publish_outbox pay-1000

echo "== writing $RECORDS payment and $RECORDS ledger events to us-east"
"$BIN/loadgen" --bootstrap "$SOURCE" --topic payment-events --partitions 3 --records "$RECORDS" --kind payment
"$BIN/loadgen" --bootstrap "$SOURCE" --topic ledger-events --partitions 3 --records "$RECORDS" --kind ledger

echo "== replicating with: regionbridge run --topology <demo topology> --until-caught-up"
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

LATE=$((PAYMENTS + 1))
echo
echo "== committing and publishing pay-$LATE after the bridge's last run: in us-east, not yet in eu-west"
commit_payments "$LATE" "$LATE"
publish_outbox pay-1000

echo "== regionbridge reconcile --topology <demo topology> --since 1h"
set +e
"$BIN/regionbridge" reconcile --topology "$TOPOLOGY" --since 1h --log-level warning | tee "$WORK/reconcile.txt"
code=${PIPESTATUS[0]}
set -e
echo "== reconcile exit code: $code (3: RPO=0 violated)"
expect() { grep -Eq "$1" "$WORK/reconcile.txt" || { echo "demo: the report does not show: $2" >&2; status=1; }; }
[ "$code" = 3 ] || { echo "demo: expected exit code 3" >&2; status=1; }
expect "^RPO=0 VIOLATED: at risk: 2 payments[ ,].*; of $LATE committed\\); behind: " "exactly 2 violations among $LATE payments"
expect "^never_published +pay-1000 " "pay-1000 classified as never_published"
expect "^not_replicated +pay-$LATE " "pay-$LATE classified as not_replicated"
[ $status -eq 0 ] && echo "== as expected: RPO=0 holds for the other $((LATE - 2)) payments; pay-1000 was never published, pay-$LATE is not replicated yet"

echo
echo "== synchronous confirmation: regionbridge run in the background; the payment publisher confirms each new payment"
echo "   only once GET http://127.0.0.1:$METRICS_PORT/v1/replicated says eu-west holds it (RPO=0 for these by construction)"
"$BIN/regionbridge" run --topology "$TOPOLOGY" --log-level warning >"$WORK/bridge-sync.log" 2>&1 &
BRIDGE_PID=$!
pids+=("$BRIDGE_PID")
ready=0
for _ in $(seq 1 300); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$METRICS_PORT/v1/replicated?topic=payments&partition=0&offset=0&timeout=0s" || true)
  if [ "$code" = 200 ] || [ "$code" = 504 ]; then ready=1; break; fi
  sleep 0.1
done
if [ $ready = 1 ]; then
  "$BIN/loadgen" --bootstrap "$SOURCE" --topic payments --records 5 --rate 2 --first 900001 --kind payment \
    --confirm "http://127.0.0.1:$METRICS_PORT" --confirm-timeout 10s --print-confirmations \
    || { echo "demo: a payment was not confirmed by /v1/replicated; the bridge said:" >&2; tail -20 "$WORK/bridge-sync.log" >&2; status=1; }
else
  echo "demo: the bridge's /v1/replicated did not answer; its log:" >&2; tail -20 "$WORK/bridge-sync.log" >&2; status=1
fi
kill -TERM "$BRIDGE_PID" 2>/dev/null || true
wait "$BRIDGE_PID" 2>/dev/null || true
exit $status
