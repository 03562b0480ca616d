#!/usr/bin/env bash
# The end of `make deploy`, and `make deploy-app` alone (after a change to web/ only): uploads
# the built web app and its settings (config.json, made from the stack's outputs) to
# the stack's bucket and invalidates the distribution's cache. The stack must be deployed.
#
#   make deploy-app                  builds web/ (npm run build), then runs this script
#   infra/deploy-app.sh              uploads web/dist as it is
#
# The stack and the region are those `sam deploy` uses: infra/samconfig.toml's (its first
# `stack_name` and `region`, in whichever section), the region falling back to AWS_REGION,
# AWS_DEFAULT_REGION or `aws configure get region`. Overrides (tests/stack/deploy-app-test.sh
# uses them):
#
#   STACK=name       the stack, instead of samconfig.toml's stack_name
#   REGION=region    its region, instead of samconfig.toml's region
#   SAMCONFIG=file   another samconfig.toml
#   WEB_DIST=dir     the built app to upload, instead of web/dist
#
# Needs the AWS CLI (signed in) and python3. The AWS CLI's own settings apply as usual
# (AWS_PROFILE, AWS_ENDPOINT_URL, ...).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
log() { printf '\033[1m[deploy]\033[0m %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

for tool in aws python3; do
  command -v "$tool" >/dev/null || die "$tool is missing (see the README, Deploying to AWS: Prerequisites)"
done

WEB_DIST=${WEB_DIST:-$ROOT/web/dist}
SAMCONFIG=${SAMCONFIG:-$ROOT/infra/samconfig.toml}
# `sync --delete` makes the bucket hold exactly this folder: never upload a missing build.
[ -f "$WEB_DIST/index.html" ] || die "$WEB_DIST/index.html is missing: build the web app first (cd web && npm run build)"

setting() {
  [ -f "$SAMCONFIG" ] || return 0
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\"\\(.*\\)\"[[:space:]]*$/\\1/p" "$SAMCONFIG" | head -n 1
}
STACK=${STACK:-$(setting stack_name)}
REGION=${REGION:-$(setting region)}
REGION=${REGION:-${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region || true)}}}
[ -n "$STACK" ] || die "$SAMCONFIG names no stack_name: run make deploy GUIDED=1 and save the answers (or set STACK)"
[ -n "$REGION" ] || die "no region: set it in infra/samconfig.toml or AWS_REGION"

# The stack's outputs, read once; an output the stack does not have is empty.
OUTPUTS=$(aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
  --query 'Stacks[0].Outputs' --output json) || die "could not read the stack $STACK in $REGION"
output() {
  python3 -c '
import json, sys
outputs = json.loads(sys.argv[1]) or []
print(next((o["OutputValue"] for o in outputs if o["OutputKey"] == sys.argv[2]), ""))' "$OUTPUTS" "$1"
}

BUCKET=$(output AppBucketName)
DISTRIBUTION=$(output AppDistributionId)
APP_URL=$(output AppUrl)
[ -n "$BUCKET" ] && [ -n "$DISTRIBUTION" ] \
  || die "the stack $STACK has no AppBucketName or AppDistributionId output: is it Roster's, and deployed?"
CONFIG=$(mktemp)
trap 'rm -f "$CONFIG"' EXIT

# The app's sign-in settings. With the stack's user pool the stack states them; with
# another OIDC provider, its discovery document names the endpoints.
SIGN_IN=$(output WebSignInConfig)
if [ -z "$SIGN_IN" ]; then
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
# The app fetches the token endpoint, which its Content-Security-Policy must allow. Beside
# "signIn", the app's other settings as the stack states them (WebAppConfig: "Add user", one
# owner); a stack deployed before that output has none, and its app shows neither.
python3 - "$SIGN_IN" "$(output SignInOrigin)" "$(output WebAppConfig)" >"$CONFIG" <<'PY'
import json, sys
from urllib.parse import urlsplit
sign_in, allowed, app = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
token = urlsplit(sign_in["tokenEndpoint"])
if f"{token.scheme}://{token.netloc}" != allowed:
    sys.exit(f"the token endpoint {sign_in['tokenEndpoint']} is not on {allowed}, the origin the app may "
             "fetch: deploy with OidcTokenOrigin set to its origin")
print(json.dumps({"signIn": sign_in, **(json.loads(app) if app else {})}, indent=2))
PY

log "uploading $WEB_DIST and config.json to s3://$BUCKET"
# no-cache: browsers and CloudFront revalidate (the file names are not content-hashed).
aws s3 sync --region "$REGION" "$WEB_DIST" "s3://$BUCKET" --delete \
  --exclude config.json --exclude size.json --cache-control no-cache
aws s3 cp --region "$REGION" "$CONFIG" "s3://$BUCKET/config.json" \
  --content-type application/json --cache-control no-cache
log "invalidating the distribution's cache"
aws cloudfront create-invalidation --region "$REGION" --distribution-id "$DISTRIBUTION" --paths '/*' \
  --query Invalidation.Id --output text >/dev/null

log "done: the app is $APP_URL (sign in, create an organization, invite)"
