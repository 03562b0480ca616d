#!/usr/bin/env bash
# Runs the API and the members web app locally on http://127.0.0.1:3000: DynamoDB Local on
# 8000 (data kept in .local/dynamodb), the SES v2 emulator on 8005, moto's server on 8010
# (the invitation email queue, SQS, and a Cognito user pool for "Add user"), and the local
# gateway, which sends the queued emails.
# Ctrl-C stops all.
source "$(dirname "$0")/lib.sh"
trap stop_stack EXIT
trap 'exit 130' INT TERM

install_stack
mkdir -p "$ROOT/.local"
LOG_DIR="$ROOT/.local"
build_web
log "building the local gateway"
cargo build --quiet --manifest-path "$ROOT/Cargo.toml" -p roster-tests --bin roster-local
start_dynamodb "${DYNAMODB_PORT:-8000}" "$ROOT/.local/dynamodb"
start_ses "${SES_PORT:-8005}"
start_moto "${MOTO_PORT:-8010}"
# Emails per second the local sender keeps to (a new SES account in its sandbox sends 1).
export ROSTER_SEND_RATE=${ROSTER_SEND_RATE:-10}
export TABLE_NAME=${TABLE_NAME:-roster}
# Invitation emails link to the web app this gateway serves.
export ROSTER_APP_URL=${ROSTER_APP_URL:-http://127.0.0.1:${ROSTER_PORT:-3000}}
export ROSTER_FROM_EMAIL=${ROSTER_FROM_EMAIL:-Roster <roster@example.com>}
export RUST_LOG=${RUST_LOG:-info}
# The client ids whose tokens count as services' (make token CLIENT=dev-service SCOPE=...).
export ROSTER_SERVICE_CLIENTS=${ROSTER_SERVICE_CLIENTS-dev-service dev-backend}
# The key that signs list cursors: made once per checkout and kept beside the data (cursors
# survive a restart), never a well-known value.
if [ -z "${ROSTER_CURSOR_KEYS:-}" ]; then
  [ -s "$ROOT/.local/cursor-keys" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$ROOT/.local/cursor-keys")
  ROSTER_CURSOR_KEYS=$(cat "$ROOT/.local/cursor-keys")
fi
export ROSTER_CURSOR_KEYS
# "Add user": the gateway as a stack with its own user pool, one made on moto's server at each
# start (its accounts last as long as that server), and a /config.json that offers it (and one
# owner with ROSTER_SINGLE_OWNER=true). Not when ROSTER_WEB_CONFIG or the build names the
# app's settings, nor when ROSTER_USER_POOL_ID names a pool.
if [ -z "${ROSTER_WEB_CONFIG:-}${ROSTER_USER_POOL_ID:-}" ] && [ ! -f "$ROOT/web/dist/config.json" ]; then
  single_owner=false
  case "${ROSTER_SINGLE_OWNER:-}" in true | 1) single_owner=true ;; esac
  if local_pool roster-dev "$single_owner"; then
    export ROSTER_USER_POOL_ID=$POOL_ID ROSTER_WEB_CONFIG=$POOL_WEB_CONFIG \
      ROSTER_PASSWORD_MIN_LENGTH=12 ROSTER_PASSWORD_REQUIRE=lowercase,uppercase,numbers
  fi
fi
"$ROOT/target/debug/roster-local" &
PIDS+=($!)
wait "${PIDS[-1]}"
