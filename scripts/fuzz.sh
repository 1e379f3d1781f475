#!/usr/bin/env bash
# Fuzzes every parser of outside input (fuzz/fuzz_targets) with cargo-fuzz on nightly.
#   scripts/fuzz.sh                 each target for FUZZ_RUNS executions (default 10,000,000)
#   scripts/fuzz.sh --brief         each target briefly on its corpus (what `make test` runs)
#   scripts/fuzz.sh TARGET...       only these targets
# The corpus grows in .run/fuzz/<target> (seeded from fuzz/seeds/<target>); a crash leaves its
# input in fuzz/artifacts/<target> and fails the run. A report is written to .run/fuzz/report.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
CARGO_FUZZ_VERSION=0.13.2
RUNS="${FUZZ_RUNS:-10000000}"
targets=()
for a in "$@"; do
  case "$a" in
    --brief) RUNS="${FUZZ_BRIEF_RUNS:-20000}" ;;
    *) targets+=("$a") ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(shopify_order woocommerce_order supplier_callback work_message address_json feed)

log() { printf '[fuzz] %s\n' "$*" >&2; }
if ! "$ROOT/.tools/cargo/bin/cargo-fuzz" --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
  log "cargo-fuzz $CARGO_FUZZ_VERSION"
  cargo install --quiet --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION" --root "$ROOT/.tools/cargo"
fi
rustup run nightly rustc --version >/dev/null 2>&1 || rustup toolchain install nightly --profile minimal
export PATH="$ROOT/.tools/cargo/bin:$PATH"

cd fuzz
cargo +nightly fuzz build --target-dir ../target/fuzz -O >&2
mkdir -p "$ROOT/.run/fuzz"
report="$ROOT/.run/fuzz/report.txt"
for t in "${targets[@]}"; do
  corpus="$ROOT/.run/fuzz/$t"
  mkdir -p "$corpus"
  start=$(date +%s)
  # No unbounded allocation: a single allocation over 256 MB, or 2 GB resident, is a failure.
  cargo +nightly fuzz run --target-dir ../target/fuzz -O "$t" "$corpus" "seeds/$t" -- \
    -runs="$RUNS" -max_len=65536 -malloc_limit_mb=256 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$ROOT/.run/fuzz/$t.log" 2>&1 || { tail -40 "$ROOT/.run/fuzz/$t.log" >&2; log "$t failed"; exit 1; }
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$ROOT/.run/fuzz/$t.log" | grep -o '[0-9]*$' | tail -1)
  # One result per target, so runs of different targets side by side (one per core) share a report.
  printf '%-20s %14s %8s %8s\n' "$t" "${execs:-?}" "$(ls "$corpus" | wc -l)" "$(( $(date +%s) - start ))" \
    >"$ROOT/.run/fuzz/$t.result"
done
{ printf '%-20s %14s %8s %8s\n' target executions corpus seconds; cat "$ROOT"/.run/fuzz/*.result; } >"$report"
cat "$report"
