#!/usr/bin/env bash
# `make bench`: builds the release binaries, starts the local servers on spare ports and
# runs the benchmark, which writes BENCHMARKS.md. Run it on an otherwise idle machine.
source "$(dirname "$0")/lib.sh"
trap stop_stack EXIT
trap 'exit 130' INT TERM
cd "$ROOT"

install_stack
FUNCTIONS=(-p create-org -p invite -p accept -p change-role -p remove -p list -p workspaces -p groups -p roles -p purge -p events -p pre-sign-up -p post-confirmation -p authorize -p token-claims -p send-invitations -p email-events -p usage -p accounts)
# BENCH_ONLY=workspaces (or authorize, email, scale, search, usage): that section alone, through the handlers in
# process (no binaries).
if [ -z "${BENCH_ONLY:-}" ]; then
  log "building release binaries (x86-64, for cold starts)"
  cargo build --release --quiet "${FUNCTIONS[@]}"
fi
cargo build --release --quiet -p roster-tests --bin bench
if [ -z "${BENCH_ONLY:-}" ] && { [ ! -f target/lambda/purge/bootstrap ] || [ ! -f target/lambda/events/bootstrap ] \
   || [ ! -f target/lambda/pre-sign-up/bootstrap ] || [ ! -f target/lambda/workspaces/bootstrap ] \
   || [ ! -f target/lambda/authorize/bootstrap ] || [ ! -f target/lambda/token-claims/bootstrap ] \
   || [ ! -f target/lambda/roles/bootstrap ] || [ ! -f target/lambda/send-invitations/bootstrap ] \
   || [ ! -f target/lambda/email-events/bootstrap ]; }; then
  log "building the arm64 bootstraps (for sizes), as infra/check.sh does"
  bash infra/check.sh
fi
LOG_DIR=$(mktemp -d)
start_dynamodb "${BENCH_DYNAMODB_PORT:-38000}" memory
start_ses "${BENCH_SES_PORT:-38005}"
start_moto "${BENCH_MOTO_PORT:-38010}"
export ROSTER_TEST_SES_STORE="$AWS_ENDPOINT_URL_SESV2/store"
target/release/bench
