#!/usr/bin/env bash
# `make deploy`: builds the functions and the web app, deploys the stack with SAM, then
# uploads the app and its sign-in settings (config.json, from the stack's outputs) to the
# stack's bucket and refreshes the distribution (infra/deploy-app.sh, which `make deploy-app`
# runs alone).
#
#   make deploy GUIDED=1   the first time: `sam deploy --guided` asks for the stack name, the
#                          region and the parameters, and saves them to infra/samconfig.toml
#   make deploy            later: reads infra/samconfig.toml
#
# Needs the AWS CLI v2 (signed in), the SAM CLI, cargo-lambda, npm and python3 (see the
# README, "Deploying to AWS").
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '\033[1m[deploy]\033[0m %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in aws sam npm python3 cargo; do
  command -v "$tool" >/dev/null || die "$tool is missing (see the README, Deploying to AWS: Prerequisites)"
done
cargo lambda --version >/dev/null 2>&1 || die "cargo-lambda is missing: pip install cargo-lambda"

# The catalog is compiled into the functions: a refused one would fail every cold start.
log "checking the permissions catalog (infra/permissions.json)"
cargo run --quiet --manifest-path "$ROOT/Cargo.toml" -p roster-tests --bin check-catalog -- \
  "$ROOT/infra/permissions.json" || die "infra/permissions.json is refused (see above); nothing was built"

log "building the web app (web/dist)"
(cd "$ROOT/web" && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)

cd "$ROOT/infra"
log "sam build (cargo lambda build --release --arm64, each function)"
# rust-cargolambda is a beta build method of the SAM CLI: without the flag it asks first.
sam build --beta-features
if [ "${GUIDED:-0}" = 1 ] || [ ! -f samconfig.toml ]; then
  log "sam deploy --guided"
  sam deploy --guided
else
  log "sam deploy"
  sam deploy --no-fail-on-empty-changeset
fi

# The upload, which `make deploy-app` runs alone: with the stack and region `sam deploy` used
# (infra/samconfig.toml's), whatever STACK, REGION, SAMCONFIG or WEB_DIST the shell holds.
env -u STACK -u REGION -u SAMCONFIG WEB_DIST="$ROOT/web/dist" "$ROOT/infra/deploy-app.sh"
