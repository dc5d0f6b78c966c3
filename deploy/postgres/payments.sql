-- RegionBridge reference schema: an outbox-style payments table.
--
-- A payment is written and committed in one transaction together with its outbox row; a publisher
-- then sends the outbox payload to the Kafka topic `payments` (key = event_id) and marks it published.
-- `regionbridge reconcile` checks every committed payment against the records in both regions with:
--
--   reconcile:
--     postgres_dsn: "host=... dbname=payments user=regionbridge_reader password=${PGPASSWORD}"
--     committed_query: |
--       SELECT event_id, committed_at, amount, currency FROM payments
--       WHERE status = 'committed' AND committed_at >= $1 AND committed_at < $2
--     topics: [payments]
--     event_id: key
--     compare: {amount: amount, currency: currency}
--
-- Used by `make demo` and the integration tests. Idempotent.

CREATE TABLE IF NOT EXISTS payments (
    payment_id   bigserial PRIMARY KEY,
    event_id     text        NOT NULL UNIQUE,
    account      text        NOT NULL,
    amount       numeric(18, 2) NOT NULL CHECK (amount > 0),
    currency     char(3)     NOT NULL,
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'committed', 'rolled_back')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    committed_at timestamptz,
    CHECK ((status = 'committed') = (committed_at IS NOT NULL))
);

-- The reconcile query scans committed payments by time.
CREATE INDEX IF NOT EXISTS payments_committed_at ON payments (committed_at) WHERE status = 'committed';

-- The transactional outbox: one row per event to publish, written in the payment's transaction.
CREATE TABLE IF NOT EXISTS payment_outbox (
    event_id     text        PRIMARY KEY REFERENCES payments (event_id),
    topic        text        NOT NULL DEFAULT 'payments',
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);

CREATE INDEX IF NOT EXISTS payment_outbox_unpublished ON payment_outbox (created_at) WHERE published_at IS NULL;

-- What reconcile needs, and nothing more: read access to payments. Its own scan state goes to the
-- schema named by reconcile.state_schema (default regionbridge), which it creates if it may; otherwise
-- create it up front and grant it: CREATE SCHEMA regionbridge AUTHORIZATION regionbridge_reader;
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'regionbridge_reader') THEN
        CREATE ROLE regionbridge_reader LOGIN;
    END IF;
END
$$;
GRANT SELECT ON payments TO regionbridge_reader;
