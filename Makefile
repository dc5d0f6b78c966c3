# RegionBridge: the two commands are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: setup build strict test unit demo bench soak chaos outages clean

## Installs what the project needs (idempotent).
setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

## The package and its tests built with warnings as errors, in its own scratch path (CI runs it before `test`).
## SwiftPM gives -Xswiftc flags only to this package's targets; dependencies build with -suppress-warnings.
strict: setup
	$(SWIFT) build --build-tests -Xswiftc -warnings-as-errors --scratch-path .build/strict

## Unit tests and integration tests on real tansu brokers and Postgres.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## The tests that need no broker, database or Prometheus server (pure logic, mock clusters): seconds after a build.
## PostgresTests is skipped: it starts a Postgres 15 server.
unit: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --skip IntegrationTests --skip ServicesStopTogetherTests --skip PostgresTests

## Two local brokers, payment and ledger traffic, the bridge until caught up, counts per partition.
demo: setup
	$(SWIFT) build
	@bash scripts/demo.sh

## Throughput vs a kcat baseline, peak memory, latency at a steady rate, the source or the target 80 and 150 ms away (not part of test).
bench: setup
	$(SWIFT) build -c release --scratch-path "$${SCRATCH_PATH:-.build}"
	@SCRATCH_PATH="$${SCRATCH_PATH:-.build}" bash scripts/bench.sh

## The bridge killed with kill -9 every 2-10 s under load for SOAK_MINUTES (default 5), then an exactly-once check.
soak: setup
	$(SWIFT) build -c release --scratch-path "$${SCRATCH_PATH:-.build}"
	@SCRATCH_PATH="$${SCRATCH_PATH:-.build}" bash scripts/soak.sh

## Chaos soak (not part of test): kill -9 of the bridge and SIGSTOP of either broker at random moments, in single
## and group mode, under payment traffic for CHAOS_MINUTES (default 10; CHAOS_SEED replays); then exactly-once,
## alerts resolved and reconcile checks, and the figures.
chaos: setup
	$(SWIFT) build -c release --scratch-path "$${SCRATCH_PATH:-.build}"
	@SCRATCH_PATH="$${SCRATCH_PATH:-.build}" bash scripts/chaos.sh

## The outage matrix (not part of test, about an hour; OUTAGES_PARALLEL=1 halves it): each of {target, source}
## frozen with SIGSTOP for {15 s, 75 s, 150 s, 6 min}, in single mode and in group mode (2 instances), plus the target
## frozen while the bridge starts, under steady load; per case: kept running, recovery from /metrics, SIGTERM exit 0,
## exactly once. OUTAGES_FREEZES, OUTAGES_SIDES, OUTAGES_MODES, OUTAGES_RATE pick a part of it.
outages: setup
	$(SWIFT) build -c release --scratch-path "$${SCRATCH_PATH:-.build}"
	@SCRATCH_PATH="$${SCRATCH_PATH:-.build}" bash scripts/outages.sh

clean:
	rm -rf .build
