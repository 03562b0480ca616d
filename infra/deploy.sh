#!/usr/bin/env bash
# `make deploy`: builds the functions and the web app, deploys the stack with SAM, then
# uploads the app and its sign-in settings (config.json, from the stack's outputs) to the
# stack's bucket and refreshes the distribution.
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

# The stack and region `sam deploy` used: samconfig.toml's (its first `stack_name` and
# `region`, in whichever section), the region falling back to the CLI's own.
setting() {
  [ -f samconfig.toml ] || return 0
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\\(.*\\)\"[[:space:]]*$/\\1/p" samconfig.toml | head -n 1
}
STACK=$(setting stack_name)
REGION=$(setting region)
REGION=${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}}
[ -n "$STACK" ] || die "infra/samconfig.toml names no stack_name: run make deploy GUIDED=1 and save the answers"
[ -n "$REGION" ] || die "no region: set it in infra/samconfig.toml or AWS_REGION"
output() {
  aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue | [0]" --output text
}

BUCKET=$(output AppBucketName)
DISTRIBUTION=$(output AppDistributionId)
APP_URL=$(output AppUrl)
CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"' EXIT

# The app's sign-in settings. With the stack's user pool the stack states them; with
# another OIDC provider, its discovery document names the endpoints.
SIGN_IN=$(output WebSignInConfig)
if [ "$SIGN_IN" = None ] || [ -z "$SIGN_IN" ]; then
  SIGN_IN=$(python3 - "$(output JwtIssuer)" "$(output OidcClientId)" "$(output OidcScopes)" <<'PY'
import json, sys, urllib.request
issuer, client_id, scope = sys.argv[1:4]
with urllib.request.urlopen(issuer.rstrip("/") + "/.well-known/openid-configuration", timeout=10) as r:
    discovery = json.load(r)
config = {
    "kind": "oidc",
    "clientId": client_id,
    "scope": scope,
    "authorizationEndpoint": discovery["authorization_endpoint"],
    "tokenEndpoint": discovery["token_endpoint"],
}
if discovery.get("end_session_endpoint"):
    config["logout"] = {"endpoint": discovery["end_session_endpoint"], "style": "oidc"}
print(json.dumps(config))
PY
)
fi
# The app fetches the token endpoint, which its Content-Security-Policy must allow.
python3 - "$SIGN_IN" "$(output SignInOrigin)" >"$CONFIG" <<'PY'
import json, sys
from urllib.parse import urlsplit
sign_in, allowed = json.loads(sys.argv[1]), sys.argv[2]
token = urlsplit(sign_in["tokenEndpoint"])
if f"{token.scheme}://{token.netloc}" != allowed:
    sys.exit(f"the token endpoint {sign_in['tokenEndpoint']} is not on {allowed}, the origin the app may "
             "fetch: deploy with OidcTokenOrigin set to its origin")
print(json.dumps({"signIn": sign_in}, indent=2))
PY

log "uploading web/dist and config.json to s3://$BUCKET"
# no-cache: browsers and CloudFront revalidate (the file names are not content-hashed).
aws s3 sync --region "$REGION" "$ROOT/web/dist" "s3://$BUCKET" --delete \
  --exclude config.json --exclude size.json --cache-control no-cache
aws s3 cp --region "$REGION" "$CONFIG" "s3://$BUCKET/config.json" \
  --content-type application/json --cache-control no-cache
log "invalidating the distribution's cache"
aws cloudfront create-invalidation --distribution-id "$DISTRIBUTION" --paths '/*' \
  --query Invalidation.Id --output text >/dev/null

log "done: the app is $APP_URL (sign in, create an organization, invite)"
