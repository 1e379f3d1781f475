#!/usr/bin/env bash
# `make dev`: the emulators, then the whole pipeline on them (ingest on 127.0.0.1:3000).
# The emulators outlive the runner: kill it (even with -9) and run `make dev` again, and every
# order, queue message and idempotency record is still there (DynamoDB Local keeps its data on
# disk in .run/dev-dynamodb; moto keeps running). `make dev-down` stops them.
set -euo pipefail
cd "$(dirname "$0")/.."
DROPLINE_DYNAMODB_DATA="${DROPLINE_DYNAMODB_DATA:-.run/dev-dynamodb}" scripts/emulators.sh up
# shellcheck disable=SC1091
source .run/env
cargo build --quiet -p dropline-cli --bin dropline
export PATH="$PWD/target/debug:$PATH"
dropline dev "$@"
