#!/usr/bin/env bash
# `make bench`: builds the release binaries, starts the emulators, runs every measurement and
# writes the report to target/bench-report.txt. Measures; asserts no time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh
echo "== building release binaries and the bench"
cargo build --release --workspace --bins
cargo bench -p dropline-tests --bench pipeline --no-run
scripts/emulators.sh start
trap 'scripts/emulators.sh stop' EXIT
# shellcheck disable=SC1091
source .run/env
report=target/bench-report.txt
{
  echo "Dropline bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -m)"
  # The CPU section on one core.
  taskset -c 0 cargo bench -q -p dropline-tests --bench pipeline -- cpu
  cargo bench -q -p dropline-tests --bench pipeline -- instructions init latency requests bill sweep throughput
  echo
  echo "== partition heat: the load run's slice (make load runs 20,000 orders)"
  cargo test -q --release -p dropline-tests --test scale no_partition_key -- --nocapture 2>&1 | grep -v '^test \|^running\|^$' 
  echo
  echo "== release binary sizes (x86_64, stripped, LTO)"
  for f in ingest validate route notify-supplier poll-tracking escalate dropline; do
    printf '%-16s %s\n' "$f" "$(du -h target/release/$f | cut -f1)"
  done
  if [ -d .aws-sam/build ]; then
    echo "== arm64 Lambda bootstraps from sam build"
    for d in .aws-sam/build/*Function; do
      printf '%-24s %s  %s\n' "$(basename "$d")" "$(du -h "$d/bootstrap" | cut -f1)" "$(file -b "$d/bootstrap" | cut -d, -f1-2)"
    done
  fi
} 2>&1 | tee "$report"
echo "report: $report"
