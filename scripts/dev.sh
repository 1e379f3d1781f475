#!/usr/bin/env bash
# `make dev`: the emulators, then the whole pipeline on them (ingest on 127.0.0.1:3000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/emulators.sh start
trap 'scripts/emulators.sh stop' EXIT
# shellcheck disable=SC1091
source .run/env
cargo build --quiet -p dropline-cli --bin dropline
export PATH="$PWD/target/debug:$PATH"
dropline dev "$@"
