# Dropline: the commands. `make demo` and `make test` are the two that matter.
.PHONY: demo test unit lint soak soak-emulators load fuzz dev dev-down bench build lambda sam-build emulators-up emulators-down clean

CARGO ?= cargo

## Replay the bundled sample orders through the whole pipeline, in process (no AWS, no emulators).
demo:
	$(CARGO) run --quiet -p dropline-cli --bin dropline -- demo

## Install what is needed, start DynamoDB Local and moto, run every test, stop them.
test:
	scripts/test.sh

## Unit tests and the handler tests on memory adapters (no emulators).
unit:
	$(CARGO) test --workspace --lib
	$(CARGO) test -p dropline-tests --test handlers --test sweeps --test egress --test architecture --test wire_compat --test docs_examples --test webhook_bodies

## The fault-injecting simulation: 10,000 orders with faults on every port, then the history
## checker. `make soak SEED=7 ORDERS=2000` reproduces a run; exits non-zero on any violation.
SEED ?= 1
ORDERS ?= 10000
soak:
	$(CARGO) run --release --quiet -p dropline-soak -- --seed $(SEED) --orders $(ORDERS)

## Every parser of outside input under cargo-fuzz (nightly): FUZZ_RUNS executions per target
## (default 10,000,000); `make fuzz TARGETS=feed` for one. Report in .run/fuzz/report.txt.
fuzz:
	scripts/fuzz.sh $(TARGETS)

## The simulation on DynamoDB Local and moto (the real adapters over HTTP), 1,000 orders by
## default: `make soak-emulators SEED=3 EMULATOR_ORDERS=2000`.
soak-emulators:
	scripts/tools.sh
	scripts/emulators.sh up
	. .run/env && $(CARGO) run --release --quiet -p dropline-soak -- --emulators --seed $(SEED) --orders $(or $(EMULATOR_ORDERS),1000)

## The load run on the emulators: 20,000 orders, 30% on one SKU, partition heat scaled to
## 1,000 orders/s (`make load LOAD_ORDERS=2000` for a shorter one). Hours, not minutes: the
## emulators take a few orders a second. Report in target/load-report.txt.
LOAD_ORDERS ?= 20000
load:
	scripts/tools.sh
	scripts/emulators.sh up
	. .run/env && DROPLINE_LOAD_ORDERS=$(LOAD_ORDERS) $(CARGO) test --release -p dropline-tests --test scale the_load_run -- --ignored --nocapture

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The pipeline on the emulators: HTTP on 127.0.0.1:3000, queue pollers, schedules, simulated partners.
dev:
	scripts/tools.sh
	scripts/dev.sh $(ARGS)

## Stops the emulators `make dev` left running (their data stays in .run/dev-dynamodb).
dev-down:
	scripts/emulators.sh stop

## Measurements (see docs/BENCHMARKS.md).
bench:
	scripts/bench.sh

build:
	$(CARGO) build --workspace --release --bins

## arm64 Lambda bootstraps through SAM (cargo-lambda from PyPI cross-compiles with Zig).
sam-build:
	scripts/tools.sh lambda
	PATH="$(CURDIR)/.tools/venv/bin:$$PATH" .tools/venv/bin/sam build --beta-features

emulators-up:
	scripts/tools.sh
	scripts/emulators.sh start

emulators-down:
	scripts/emulators.sh stop

clean:
	$(CARGO) clean
	rm -rf .aws-sam .run
