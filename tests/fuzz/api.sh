#!/usr/bin/env bash
# Generated requests against the local gateway, from infra/openapi.yaml, with a valid dev
# token: no 5xx, and every response as the document says (status, media type, schema).
# Needs DynamoDB Local and the SES emulator (the environment of tests/stack/test.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv-schemathesis"
REQUIREMENTS="$ROOT/tests/fuzz/requirements.txt"
PORT=${FUZZ_PORT:-13000}
EXAMPLES=${FUZZ_MAX_EXAMPLES:-30}

log() { printf '\033[1m[fuzz]\033[0m %s\n' "$*" >&2; }

if [ ! -x "$VENV/bin/st" ] || [ "$REQUIREMENTS" -nt "$VENV/.stamp" ]; then
  log "installing schemathesis into .venv-schemathesis (tests/fuzz/requirements.txt)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  touch "$VENV/.stamp"
fi

cargo build --quiet -p roster-tests --bin roster-local --bin dev-token
# A user pool on moto's server (tests/stack/test.sh starts it), with the template's password
# policy: adding a user is fuzzed as a stack with its own pool serves it, not answered 501.
POOL=()
if [ -n "${AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER:-}" ] && [ -x "$ROOT/.venv-moto/bin/aws" ]; then
  pool_id=$(AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$ROOT/.venv-moto/bin/aws" \
    --region "${AWS_REGION:-us-east-1}" --endpoint-url "$AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER" \
    cognito-idp create-user-pool --pool-name "roster-fuzz-$$" --username-attributes email \
    --policies 'PasswordPolicy={MinimumLength=12,RequireLowercase=true,RequireUppercase=true,RequireNumbers=true,RequireSymbols=false,TemporaryPasswordValidityDays=7}' \
    --query UserPool.Id --output text)
  POOL=(ROSTER_USER_POOL_ID="$pool_id" ROSTER_PASSWORD_MIN_LENGTH=12 ROSTER_PASSWORD_REQUIRE=lowercase,uppercase,numbers)
fi
# A fresh cursor key per run (the gateway, like the list function, does not start without one).
env "${POOL[@]}" TABLE_NAME="roster-fuzz-$$" ROSTER_PORT=$PORT ROSTER_FROM_EMAIL=roster@example.test RUST_LOG=warn \
  ROSTER_CURSOR_KEYS="$(head -c 32 /dev/urandom | base64)" \
  target/debug/roster-local 2>"${LOG_DIR:-/tmp}/fuzz-gateway.log" &
GATEWAY=$!
trap 'kill $GATEWAY 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done

TOKEN=$(target/debug/dev-token --sub fuzzer --email fuzzer@example.com --name Fuzzer)
log "schemathesis: $EXAMPLES examples per operation against http://127.0.0.1:$PORT"
# One worker: with two, hypothesis parses lambda sources from two threads at once, which
# CPython 3.11 can fail with "SystemError: AST constructor recursion depth mismatch" (seen
# here as a runtime error on operations nothing had changed).
"$VENV/bin/st" run infra/openapi.yaml --url "http://127.0.0.1:$PORT" \
  -H "Authorization: Bearer $TOKEN" \
  --max-examples "$EXAMPLES" --seed 2026 --workers 1 \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
