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
moto_port=${TEST_MOTO_PORT:-18010}
start_moto "$moto_port"
export ROSTER_TEST_SES_STORE="$AWS_ENDPOINT_URL_SESV2/store"

log "the web app's upload (infra/deploy-app.sh) against moto's CloudFormation, S3 and CloudFront"
bash tests/stack/deploy-app-test.sh "$moto_port"

log "cargo test"
cargo test --workspace --quiet --no-fail-fast

log "schemathesis against infra/openapi.yaml and the local gateway"
bash tests/fuzz/api.sh

log "the web app: types from infra/openapi.yaml, type check, bundle and size budget"
install_browser
build_web
log "browser tests (Debian's Chromium, playwright-core) against the local stack"
cargo build --quiet -p roster-tests --bin roster-local
e2e_port=${TEST_GATEWAY_PORT:-13100}
# sign-in.test.ts: a second gateway (own table, same DynamoDB Local and SES emulator) whose app
# signs in with the OpenID Connect provider that the test starts on $oidc_port.
oidc_app_port=${TEST_OIDC_GATEWAY_PORT:-13110}
oidc_port=${TEST_OIDC_PORT:-13120}
export ROSTER_FROM_EMAIL="Roster <roster@example.com>" ROSTER_CURSOR_KEYS=$(head -c 32 /dev/urandom | base64)
# The gateways' senders: fast, so browser tests do not wait behind a sandbox account's rate.
export ROSTER_SEND_RATE=50
# usage.test.ts reports usage as the service dev-service (a token it signs itself).
ROSTER_SERVICE_CLIENTS=dev-service ROSTER_LOCAL_TIME_TRAVEL=1 TABLE_NAME=roster-e2e ROSTER_APP_URL="http://127.0.0.1:$e2e_port" \
  start_gateway "$e2e_port"
# The sign-in gateway as a stack with CreateOrgOnSignUp=true: sign-in.test.ts plays Cognito
# calling the post-confirmation trigger there.
ROSTER_CREATE_ORG_ON_SIGN_UP=true TABLE_NAME=roster-e2e-oidc ROSTER_APP_URL="http://127.0.0.1:$oidc_app_port" start_oidc_gateway "$oidc_app_port" "$oidc_port" roster-web
# accounts.test.ts: a third gateway as a stack with its own user pool (a pool on moto, "Add
# user") and SingleOwner=true, its /config.json saying both.
accounts_port=${TEST_ACCOUNTS_GATEWAY_PORT:-13130}
TABLE_NAME=roster-e2e-accounts ROSTER_APP_URL="http://127.0.0.1:$accounts_port" start_pool_gateway "$accounts_port" true
(cd web && ROSTER_E2E_URL="http://127.0.0.1:$e2e_port" ROSTER_E2E_SES_STORE="$ROSTER_TEST_SES_STORE" \
  ROSTER_E2E_ACCOUNTS_URL="http://127.0.0.1:$accounts_port" \
  ROSTER_E2E_OIDC_URL="http://127.0.0.1:$oidc_app_port" ROSTER_E2E_OIDC_ISSUER="http://127.0.0.1:$oidc_port" \
  ROSTER_E2E_OIDC_CLIENT=roster-web ROSTER_E2E_SHOTS="$ROOT/target/screenshots" npm run --silent e2e)
log "screenshots of every screen: target/screenshots/"
