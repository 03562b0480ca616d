#!/usr/bin/env bash
# The web app's upload, infra/deploy-app.sh (the end of `make deploy`, and `make deploy-app`),
# run for real against moto's CloudFormation, S3 and CloudFront with the AWS CLI of
# .venv-moto (tests/stack/requirements-moto.txt), never a global one:
#
#   a. a stack with the user pool's outputs (WebSignInConfig, WebAppConfig), found through a
#      samconfig.toml naming another region than AWS_REGION: every file of the built app in
#      the bucket but size.json and the app's own config.json, an object the app no longer
#      has deleted, config.json exactly {"signIn": WebSignInConfig, ...WebAppConfig} as
#      application/json (and never touched by the sync), no-cache, and one invalidation of /*
#      on the distribution;
#   b. a stack with an external OIDC provider (JwtIssuer, OidcClientId, OidcScopes), deployed
#      before the WebAppConfig output: config.json made from the issuer's discovery document,
#      served here on 127.0.0.1, and nothing else;
#   c. the same with a token endpoint on another origin than SignInOrigin, which the app's
#      Content-Security-Policy would block: the script fails naming OidcTokenOrigin, and
#      uploads and invalidates nothing.
#
#   tests/stack/deploy-app-test.sh PORT   against the moto server on 127.0.0.1:PORT (test.sh)
#   tests/stack/deploy-app-test.sh        starts its own, on TEST_MOTO_PORT (18010)
#
# The discovery documents are served on TEST_DISCOVERY_PORT (18015).
source "$(dirname "$0")/lib.sh"
WORK=$(mktemp -d)
trap 'stop_stack; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
started=$SECONDS

if [ $# -ge 1 ]; then
  moto_port=$1
else
  LOG_DIR=$WORK start_moto "${TEST_MOTO_PORT:-18010}"
  moto_port=${TEST_MOTO_PORT:-18010}
fi
[ -x "$ROOT/.venv-moto/bin/aws" ] || { log "no AWS CLI in .venv-moto: start_moto installs it"; exit 1; }

# Only moto, only dummy credentials, whatever the shell or ~/.aws say.
export PATH="$ROOT/.venv-moto/bin:$PATH"
export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port"
unset AWS_ENDPOINT_URL_CLOUDFORMATION AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_CLOUDFRONT AWS_PROFILE \
  AWS_SESSION_TOKEN STACK REGION SAMCONFIG WEB_DIST
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1

discovery_port=${TEST_DISCOVERY_PORT:-18015}
port_free "$discovery_port" || { log "port $discovery_port is taken (TEST_DISCOVERY_PORT)"; exit 1; }
provider="http://127.0.0.1:$discovery_port"
discovery() { # issuer path, token endpoint
  mkdir -p "$WORK/www/$1/.well-known"
  cat >"$WORK/www/$1/.well-known/openid-configuration" <<EOF
{"issuer": "$provider/$1", "authorization_endpoint": "$provider/$1/auth",
 "token_endpoint": "$2", "end_session_endpoint": "$provider/$1/session/end",
 "jwks_uri": "$provider/$1/jwks"}
EOF
}
discovery issuer "$provider/issuer/token"
discovery elsewhere "https://login.example.net/oauth2/token"
python3 -m http.server "$discovery_port" --bind 127.0.0.1 --directory "$WORK/www" \
  >"$WORK/discovery.log" 2>&1 &
PIDS+=($!)
wait_port "$discovery_port" "The discovery documents' server" 20

PASSED=0 FAILED=0
pass() { PASSED=$((PASSED + 1)); }
fail() { FAILED=$((FAILED + 1)); log "FAIL: $*"; }
expect() { # what, actual, expected
  if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', expected '$3'"; fi
}

# A distribution in moto; prints its id.
distribution() {
  aws cloudfront create-distribution --origin-domain-name "$1.s3.amazonaws.com" \
    --query Distribution.Id --output text
}
# A stack like Roster's: a bucket (AppBucketName is its Ref) and the given literal outputs.
stack() { # name, region, bucket, outputs (a JSON object)
  local template
  template=$(python3 -c '
import json, sys
outputs = {k: {"Value": v} for k, v in json.loads(sys.argv[2]).items()}
outputs["AppBucketName"] = {"Value": {"Ref": "AppBucket"}}
print(json.dumps({"AWSTemplateFormatVersion": "2010-09-09",
  "Resources": {"AppBucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": sys.argv[1]}}},
  "Outputs": outputs}))' "$3" "$4")
  aws cloudformation create-stack --region "$2" --stack-name "$1" --template-body "$template" >/dev/null
}
keys() { # region, bucket: its keys, one a line, sorted
  aws s3api list-objects-v2 --region "$1" --bucket "$2" --query 'Contents[].Key' --output text \
    | tr '\t' '\n' | grep -vx None | sort || true
}
has() { grep -qx "$2" <<<"$1"; }
# The invalidations of a distribution, as "path path ..." per invalidation, one a line.
invalidations() {
  local id
  for id in $(aws cloudfront list-invalidations --distribution-id "$1" \
      --query 'InvalidationList.Items[].Id' --output text | grep -vx None); do
    aws cloudfront get-invalidation --distribution-id "$1" --id "$id" \
      --query 'Invalidation.InvalidationBatch.Paths.Items' --output text
  done
}
# config.json's body equals {"signIn": SIGN_IN, ...APP} (as JSON, whatever the spacing).
same_config() { # body, sign-in JSON, the app's other settings (JSON; none if left out)
  python3 -c 'import json, sys; sys.exit(json.loads(sys.argv[1]) != {"signIn": json.loads(sys.argv[2]), **json.loads(sys.argv[3])})' \
    "$1" "$2" "${3:-{\}}"
}

# The built app, as web/dist holds it: size.json (the size budget's report) and a
# config.json (a local one) must not be uploaded.
dist="$WORK/dist"
mkdir -p "$dist/assets"
echo '<!doctype html><title>Roster</title>' >"$dist/index.html"
echo 'console.log("app")' >"$dist/app.js"
echo 'body{}' >"$dist/assets/app.css"
echo '{"app.js": 20}' >"$dist/size.json"
echo '{"signIn": {"kind": "local"}}' >"$dist/config.json"
echo 'old' >"$WORK/stale"
run=$RANDOM$RANDOM

# ------------------------------------------------------------------ a. the user pool's outputs
log "deploy-app, a: a stack with the user pool (WebSignInConfig, WebAppConfig), through samconfig.toml"
region_a=eu-west-1 bucket_a="roster-app-a-$run"
login="https://roster-$run.auth.$region_a.amazoncognito.com"
sign_in_a='{"kind":"oidc","clientId":"abc123client","scope":"openid email profile","authorizationEndpoint":"'$login'/oauth2/authorize","tokenEndpoint":"'$login'/oauth2/token","signUpEndpoint":"'$login'/signup","logout":{"endpoint":"'$login'/logout","style":"cognito"}}'
# The template's, for a stack with its pool and SingleOwner=true.
app_a='{"addUser":true,"singleOwner":true}'
dist_a=$(distribution "$bucket_a")
stack "roster-a-$run" "$region_a" "$bucket_a" "$(python3 -c '
import json, sys
print(json.dumps({"AppDistributionId": sys.argv[1], "AppUrl": "https://d111111abcdef8.cloudfront.net",
  "WebSignInConfig": sys.argv[2], "SignInOrigin": sys.argv[3], "WebAppConfig": sys.argv[4],
  "JwtIssuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"}))' "$dist_a" "$sign_in_a" "$login" "$app_a")"
# What a previous upload left: a file the app no longer has, and its config.json. Versioning
# shows whether the sync touched config.json (it must not: the app would briefly have
# none, or the local one) before the script's own upload of it.
aws s3api put-bucket-versioning --region "$region_a" --bucket "$bucket_a" \
  --versioning-configuration Status=Enabled
aws s3api put-object --region "$region_a" --bucket "$bucket_a" --key stale.js --body "$WORK/stale" >/dev/null
echo '{"signIn": {"kind": "previous"}}' >"$WORK/previous.json"
aws s3api put-object --region "$region_a" --bucket "$bucket_a" --key config.json --body "$WORK/previous.json" >/dev/null
cat >"$WORK/samconfig.toml" <<EOF
version = 0.1
[default.deploy.parameters]
stack_name = "roster-a-$run"
resolve_s3 = true
capabilities = "CAPABILITY_IAM"
region = "$region_a"
EOF
if SAMCONFIG="$WORK/samconfig.toml" WEB_DIST="$dist" "$ROOT/infra/deploy-app.sh" >"$WORK/a.log" 2>&1; then
  pass
else
  fail "a: infra/deploy-app.sh failed:"; cat "$WORK/a.log" >&2
fi
listed=$(keys "$region_a" "$bucket_a")
for file in index.html app.js assets/app.css config.json; do
  if has "$listed" "$file"; then pass; else fail "a: $file is not in the bucket (it holds: $(echo $listed))"; fi
done
if has "$listed" size.json; then fail "a: size.json was uploaded"; else pass; fi
if has "$listed" stale.js; then fail "a: stale.js, which the app no longer has, was not deleted"; else pass; fi
expect "a: config.json's Content-Type" \
  "$(aws s3api head-object --region "$region_a" --bucket "$bucket_a" --key config.json --query ContentType --output text 2>&1)" \
  application/json
expect "a: index.html's Cache-Control" \
  "$(aws s3api head-object --region "$region_a" --bucket "$bucket_a" --key index.html --query CacheControl --output text 2>&1)" \
  no-cache
body=$(aws s3 cp --region "$region_a" "s3://$bucket_a/config.json" - 2>&1 || true)
if same_config "$body" "$sign_in_a" "$app_a" 2>/dev/null; then pass; else fail "a: config.json is $body"; fi
expect "a: config.json's versions and delete markers (the previous one, then the upload's)" \
  "$(aws s3api list-object-versions --region "$region_a" --bucket "$bucket_a" --prefix config.json \
      --query '[length(Versions || `[]`), length(DeleteMarkers || `[]`)]' --output text 2>&1)" \
  "$(printf '2\t0')"
expect "a: the distribution's invalidations" "$(invalidations "$dist_a")" '/*'

# ------------------------------------------------------------------ b. an external OIDC provider
log "deploy-app, b: a stack with an external OIDC provider (discovery on $provider), through STACK and REGION"
bucket_b="roster-app-b-$run"
dist_b=$(distribution "$bucket_b")
stack "roster-b-$run" us-west-2 "$bucket_b" "$(python3 -c '
import json, sys
print(json.dumps({"AppDistributionId": sys.argv[1], "AppUrl": "https://d222222abcdef8.cloudfront.net",
  "SignInOrigin": sys.argv[2], "JwtIssuer": sys.argv[2] + "/issuer", "OidcClientId": "roster-web",
  "OidcScopes": "openid email profile offline_access"}))' "$dist_b" "$provider")"
if STACK="roster-b-$run" REGION=us-west-2 WEB_DIST="$dist" "$ROOT/infra/deploy-app.sh" >"$WORK/b.log" 2>&1; then
  pass
else
  fail "b: infra/deploy-app.sh failed:"; cat "$WORK/b.log" >&2
fi
body=$(aws s3 cp --region us-west-2 "s3://$bucket_b/config.json" - 2>&1 || true)
sign_in_b='{"kind":"oidc","clientId":"roster-web","scope":"openid email profile offline_access","authorizationEndpoint":"'$provider'/issuer/auth","tokenEndpoint":"'$provider'/issuer/token","logout":{"endpoint":"'$provider'/issuer/session/end","style":"oidc"}}'
if same_config "$body" "$sign_in_b" 2>/dev/null; then pass; else fail "b: config.json is $body"; fi
expect "b: config.json's Content-Type" \
  "$(aws s3api head-object --region us-west-2 --bucket "$bucket_b" --key config.json --query ContentType --output text 2>&1)" \
  application/json
expect "b: the distribution's invalidations" "$(invalidations "$dist_b")" '/*'

# ------------------------------------------------------------------ c. the CSP guard
log "deploy-app, c: a token endpoint on another origin than SignInOrigin"
bucket_c="roster-app-c-$run"
dist_c=$(distribution "$bucket_c")
stack "roster-c-$run" us-east-1 "$bucket_c" "$(python3 -c '
import json, sys
print(json.dumps({"AppDistributionId": sys.argv[1], "AppUrl": "https://d333333abcdef8.cloudfront.net",
  "SignInOrigin": sys.argv[2], "JwtIssuer": sys.argv[2] + "/elsewhere", "OidcClientId": "roster-web",
  "OidcScopes": "openid email profile"}))' "$dist_c" "$provider")"
if STACK="roster-c-$run" REGION=us-east-1 WEB_DIST="$dist" "$ROOT/infra/deploy-app.sh" >"$WORK/c.log" 2>&1; then
  fail "c: infra/deploy-app.sh succeeded with a token endpoint the CSP blocks"
else
  pass
fi
if grep -q OidcTokenOrigin "$WORK/c.log"; then pass; else fail "c: no OidcTokenOrigin hint:"; cat "$WORK/c.log" >&2; fi
expect "c: the bucket's keys (nothing uploaded)" "$(keys us-east-1 "$bucket_c")" ""
expect "c: the distribution's invalidations" "$(invalidations "$dist_c")" ""

log "deploy-app: $PASSED checks passed, $FAILED failed, in $((SECONDS - started)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
