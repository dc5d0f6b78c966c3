# RegionBridge: the two commands are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: setup build test demo bench clean

## Installs what the project needs (idempotent).
setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

## Unit tests and integration tests on real tansu brokers and Postgres.
test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Two local brokers, payment and ledger traffic, the bridge until caught up, counts per partition.
demo: setup
	$(SWIFT) build
	@bash scripts/demo.sh

clean:
	rm -rf .build
