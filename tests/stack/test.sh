#!/usr/bin/env bash
# Every test: formatting, lints, unit tests, and integration tests against DynamoDB Local
# and the SES emulator, which this script installs, starts on spare ports and stops.
source "$(dirname "$0")/lib.sh"
trap stop_stack EXIT
trap 'exit 130' INT TERM
cd "$ROOT"

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
log "infrastructure checks"; bash infra/check.sh

install_stack
LOG_DIR=$(mktemp -d)
start_dynamodb "${TEST_DYNAMODB_PORT:-18000}" memory
start_ses "${TEST_SES_PORT:-18005}"
export ROSTER_TEST_SES_STORE="$AWS_ENDPOINT_URL_SESV2/store"

log "cargo test"
cargo test --workspace --quiet --no-fail-fast

log "schemathesis against infra/openapi.yaml and the local gateway"
bash tests/fuzz/api.sh
