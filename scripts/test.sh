#!/usr/bin/env bash
# `make test`: installs what it needs, starts the emulators, lints the template, runs every test
# (unit, contract, integration, end-to-end, binaries), and stops the emulators, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

# The workspace builds while the tools install (pip and npm mostly wait on the network).
mkdir -p .run
(cargo build --workspace --bins && cargo test --workspace --no-run) >.run/build.log 2>&1 &
build=$!
scripts/tools.sh
scripts/emulators.sh start
trap 'scripts/emulators.sh stop' EXIT
# shellcheck disable=SC1091
source .run/env

echo "== template: cfn-lint and sam validate --lint"
.tools/venv/bin/cfn-lint infra/template.yaml
.tools/venv/bin/sam validate --lint -t infra/template.yaml

echo "== template: checkov (a finding fails the run unless skipped in the template with its reason)"
.tools/checkov/bin/checkov -f infra/template.yaml --framework cloudformation --compact --quiet --skip-download

echo "== build (the binary tests run the real function binaries; started with the tools)"
wait "$build" || { tail -60 .run/build.log; echo "the build failed (.run/build.log)"; exit 1; }

echo "== fuzz targets, briefly on their corpora (make fuzz runs them long)"
scripts/fuzz.sh --brief

echo "== tests"
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee .run/test.log
status=${PIPESTATUS[0]}
set -e
end=$(date +%s)
echo "make test took $((end - start)) s"
# One closing line over every test binary (cargo's own last line is a doc-test run).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
     END { printf "%d passed, %d failed\n", p, f }' .run/test.log
exit "$status"
