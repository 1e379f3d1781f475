#!/usr/bin/env bash
# Installs what the tests and the build need into .tools/ (idempotent; safe to run every time):
#   - a Python venv with moto server (SQS, EventBridge, SSM), cfn-lint and the SAM CLI (PyPI)
#   - Amazon's DynamoDB Local, from the npm package amplify-dynamodb-simulator (run with Java)
#   - checkov (PyPI, its own venv: its dependencies pin differently from the SAM CLI's)
# With `lambda` as first argument it also installs cargo-lambda (PyPI), for `sam build`.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="$PWD/.tools"
mkdir -p "$TOOLS"

MOTO_VERSION=5.2.5
CFN_LINT_VERSION=1.58.0
SAM_CLI_VERSION=1.170.0
CARGO_LAMBDA_VERSION=1.9.2
DDB_SIM_VERSION=2.9.30
CHECKOV_VERSION=3.3.30

log() { printf '[tools] %s\n' "$*" >&2; }

need() { command -v "$1" >/dev/null 2>&1 || { log "missing $1: $2"; exit 1; }; }
need python3 "install Python 3.9+"
need java "install a Java 17 runtime (DynamoDB Local runs on it)"
need npm "install Node.js with npm (DynamoDB Local comes from the npm registry)"

stamp="$TOOLS/.python-$MOTO_VERSION-$CFN_LINT_VERSION-$SAM_CLI_VERSION"
if [ ! -f "$stamp" ]; then
  log "python tools: moto[server]==$MOTO_VERSION cfn-lint==$CFN_LINT_VERSION aws-sam-cli==$SAM_CLI_VERSION"
  [ -x "$TOOLS/venv/bin/python" ] || python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check \
    "moto[server]==$MOTO_VERSION" "cfn-lint==$CFN_LINT_VERSION" "aws-sam-cli==$SAM_CLI_VERSION"
  touch "$stamp"
fi

if [ ! -f "$TOOLS/.checkov-$CHECKOV_VERSION" ]; then
  log "checkov==$CHECKOV_VERSION"
  [ -x "$TOOLS/checkov/bin/python" ] || python3 -m venv "$TOOLS/checkov"
  "$TOOLS/checkov/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  touch "$TOOLS/.checkov-$CHECKOV_VERSION"
fi

if [ ! -f "$TOOLS/dynamodb/DynamoDBLocal.jar" ]; then
  log "DynamoDB Local from amplify-dynamodb-simulator@$DDB_SIM_VERSION"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "amplify-dynamodb-simulator@$DDB_SIM_VERSION" >/dev/null)
  tar -xzf "$tmp"/amplify-dynamodb-simulator-*.tgz -C "$tmp"
  rm -rf "$TOOLS/dynamodb"
  mv "$tmp/package/emulator" "$TOOLS/dynamodb"
  rm -rf "$tmp"
fi

if [ "${1:-}" = "lambda" ] && [ ! -x "$TOOLS/venv/bin/cargo-lambda" ]; then
  log "cargo-lambda==$CARGO_LAMBDA_VERSION"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi
