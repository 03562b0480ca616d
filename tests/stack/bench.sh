#!/usr/bin/env bash
# `make bench`: builds the release binaries, starts the local servers on spare ports and
# runs the benchmark, which writes BENCHMARKS.md. Run it on an otherwise idle machine.
source "$(dirname "$0")/lib.sh"
trap stop_stack EXIT
trap 'exit 130' INT TERM
cd "$ROOT"

install_stack
log "building release binaries"
cargo build --release --quiet -p create-org -p invite -p accept -p change-role -p remove -p list -p roster-tests --bin bench
if [ ! -f target/lambda/list/bootstrap ]; then
  log "no arm64 bootstraps yet (infra/check.sh builds them): sizes will say 'not built'"
fi
LOG_DIR=$(mktemp -d)
start_dynamodb "${BENCH_DYNAMODB_PORT:-38000}" memory
start_ses "${BENCH_SES_PORT:-38005}"
export ROSTER_TEST_SES_STORE="$AWS_ENDPOINT_URL_SESV2/store"
target/release/bench
