#!/usr/bin/env bash
# Starts or stops the local AWS stand-ins: DynamoDB Local and moto server (SQS, EventBridge,
# SSM). `start` (re)starts both, waits until they answer and writes their endpoints to .run/env;
# `up` keeps ones already running and answering (the dev runner's crash or restart loses
# nothing), starting only what is missing; `stop` ends them. With DROPLINE_DYNAMODB_DATA=DIR,
# DynamoDB Local keeps its tables in DIR (on disk) instead of in memory.
# Already running endpoints are used as they are (set DROPLINE_DYNAMODB_ENDPOINT /
# DROPLINE_MOTO_ENDPOINT, e.g. amazon/dynamodb-local in Docker).
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="$PWD/.run"
TOOLS="$PWD/.tools"
DDB_PORT="${DROPLINE_DYNAMODB_PORT:-48000}"
MOTO_PORT="${DROPLINE_MOTO_PORT:-45000}"
mkdir -p "$RUN"

log() { printf '[emulators] %s\n' "$*" >&2; }

wait_port() { # name url
  for _ in $(seq 1 120); do
    if curl -s -o /dev/null "$2"; then return 0; fi
    sleep 0.25
  done
  log "$1 did not answer at $2"; return 1
}

stop() {
  for name in dynamodb moto; do
    if [ -f "$RUN/$name.pid" ]; then
      kill "$(cat "$RUN/$name.pid")" 2>/dev/null || true
      rm -f "$RUN/$name.pid"
    fi
  done
}

running() { # name: its recorded process is alive
  [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null
}

start() {
  [ "${1:-}" = keep ] || stop
  local ddb="${DROPLINE_DYNAMODB_ENDPOINT:-}" moto="${DROPLINE_MOTO_ENDPOINT:-}"
  if [ -z "$ddb" ]; then
    if ! running dynamodb; then
      local storage=(-inMemory)
      if [ -n "${DROPLINE_DYNAMODB_DATA:-}" ]; then
        mkdir -p "$DROPLINE_DYNAMODB_DATA"
        storage=(-dbPath "$(cd "$DROPLINE_DYNAMODB_DATA" && pwd)")
      fi
      # DynamoDB Local has no option to choose its interface; the port is only used over loopback.
      (cd "$TOOLS/dynamodb" && exec java -Xmx512m -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar \
        "${storage[@]}" -sharedDb -disableTelemetry -port "$DDB_PORT") >>"$RUN/dynamodb.log" 2>&1 &
      echo $! >"$RUN/dynamodb.pid"
    fi
    ddb="http://127.0.0.1:$DDB_PORT"
  fi
  if [ -z "$moto" ]; then
    if ! running moto; then
      "$TOOLS/venv/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" >>"$RUN/moto.log" 2>&1 &
      echo $! >"$RUN/moto.pid"
    fi
    moto="http://127.0.0.1:$MOTO_PORT"
  fi
  wait_port DynamoDB "$ddb"
  wait_port moto "$moto/moto-api/"
  cat >"$RUN/env" <<ENV
export AWS_ENDPOINT_URL_DYNAMODB=$ddb
export AWS_ENDPOINT_URL_SQS=$moto
export AWS_ENDPOINT_URL_EVENTBRIDGE=$moto
export AWS_ENDPOINT_URL_SSM=$moto
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=dropline
export AWS_SECRET_ACCESS_KEY=dropline
export AWS_EC2_METADATA_DISABLED=true
export DROPLINE_EMULATORS=1
ENV
  log "DynamoDB at $ddb, moto at $moto (env in .run/env)"
}

case "${1:-}" in
  start) start ;;
  up) start keep ;;
  stop) stop ;;
  *) echo "usage: $0 start|up|stop" >&2; exit 2 ;;
esac
