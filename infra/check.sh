#!/usr/bin/env bash
# Infrastructure checks: lints the SAM template (cfn-lint with the serverless rules, the SAM
# transform, checkov), validates the OpenAPI document and its examples, and builds every
# Lambda function for arm64 as `sam build` would. Installs its tools from PyPI into .venv/.
#
#   infra/check.sh                              everything
#   ROSTER_SKIP_LAMBDA_BUILD=1 infra/check.sh   everything but the release build
#
# The route list, the table schema and the IAM policies are held to the code by
# tests/tests/infra_drift.rs (cargo test), not here.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/infra/requirements.txt"
STAMP="$VENV/.infra-requirements"
TEMPLATE=infra/template.yaml
OPENAPI=infra/openapi.yaml
FUNCTIONS=(create-org invite accept change-role remove list workspaces groups roles purge events pre-sign-up post-confirmation authorize token-claims send-invitations email-events usage accounts)
TARGET=aarch64-unknown-linux-gnu

log() { printf '\033[1m[infra]\033[0m %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ------------------------------------------------------------------ tools

if [ ! -x "$VENV/bin/python" ] || [ ! -f "$STAMP" ] || [ "$REQUIREMENTS" -nt "$STAMP" ]; then
  log "installing the infrastructure tools into .venv (infra/requirements.txt)"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    log "installing python3-venv from Debian"
    as_root apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"

# ------------------------------------------------------------------ checks

SUMMARY=()
FAILED=0
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

record() { # status name detail
  SUMMARY+=("$(printf '%-4s  %-28s %s' "$1" "$2" "$3")")
  if [ "$1" = FAIL ]; then FAILED=1; fi
}

log "cfn-lint (with the serverless rules)"
if cfn-lint "$TEMPLATE" -a cfn_lint_serverless.rules; then
  record PASS cfn-lint "no findings"
else
  record FAIL cfn-lint "findings above"
fi

log "SAM transform, and cfn-lint of its output"
if python infra/transform.py "$TEMPLATE" >"$WORK/transformed.json" 2>"$WORK/transform.log" \
   && cfn-lint "$WORK/transformed.json"; then
  record PASS "sam transform" "$(tail -n 1 "$WORK/transform.log" | sed 's/^transform: //')"
else
  cat "$WORK/transform.log" >&2
  record FAIL "sam transform" "see above"
fi

log "checkov"
checkov_status=0
checkov -f "$TEMPLATE" --framework cloudformation --skip-download --compact --quiet \
  >"$WORK/checkov.txt" 2>&1 || checkov_status=$?
cat "$WORK/checkov.txt" >&2
counts=$(grep -Eo 'Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+(, Parsing errors: [0-9]+)?' \
  "$WORK/checkov.txt" | head -n 1 || true)
if [ "$checkov_status" = 0 ] && [ -n "$counts" ] && ! grep -Eq 'Failed checks: [1-9]|Parsing errors: [1-9]|Passed checks: 0,' <<<"$counts"; then
  record PASS checkov "$counts"
else
  record FAIL checkov "${counts:-no result} (exit $checkov_status)"
fi

log "OpenAPI document and its examples"
if openapi-spec-validator "$OPENAPI" && python infra/openapi_examples.py "$OPENAPI" 2>"$WORK/examples.log"; then
  record PASS openapi "valid 3.1; $(tail -n 1 "$WORK/examples.log" | sed 's/^openapi examples: //') (examples)"
else
  cat "$WORK/examples.log" >&2
  record FAIL openapi "see above"
fi

log "permissions catalog (its JSON Schema, then as the functions parse it)"
if python -c 'import json, sys, jsonschema
schema, catalog = (json.load(open(p)) for p in sys.argv[1:])
jsonschema.Draft202012Validator(schema).validate(catalog)' infra/permissions.schema.json infra/permissions.json \
   && cargo run --quiet -p roster-tests --bin check-catalog >"$WORK/catalog.log"; then
  record PASS "permissions catalog" "$(sed 's/^.*: //' "$WORK/catalog.log")"
else
  record FAIL "permissions catalog" "see above"
fi

if [ "${ROSTER_SKIP_LAMBDA_BUILD:-0}" = 1 ]; then
  record SKIP "lambda build (arm64)" "ROSTER_SKIP_LAMBDA_BUILD=1"
else
  log "cargo lambda build --release --arm64 (${FUNCTIONS[*]})"
  have_target=1
  if ! rustup target list --installed | grep -qx "$TARGET"; then
    log "adding the Rust target $TARGET"
    if ! rustup target add "$TARGET"; then
      log "rustup could not add $TARGET; ROSTER_SKIP_LAMBDA_BUILD=1 skips this build"
      have_target=0
    fi
  fi
  lambda_dir="${CARGO_TARGET_DIR:-target}/lambda"
  packages=()
  for f in "${FUNCTIONS[@]}"; do
    packages+=(-p "$f")
    rm -f "$lambda_dir/$f/bootstrap" # what is there afterwards, this build wrote
  done
  built=()
  if [ "$have_target" = 1 ] && cargo lambda build --release --arm64 "${packages[@]}"; then
    for f in "${FUNCTIONS[@]}"; do
      bootstrap="$lambda_dir/$f/bootstrap"
      # e_machine of an ELF file (bytes 18-19, little-endian): 0xb7 is AArch64.
      if [ -f "$bootstrap" ] \
         && [ "$(head -c 4 "$bootstrap" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] \
         && [ "$(od -An -tx1 -j18 -N2 "$bootstrap" | tr -d ' ')" = b700 ]; then
        built+=("$f $(( $(stat -c %s "$bootstrap") / 1024 )) KiB")
      else
        log "$bootstrap is missing or not an arm64 ELF binary"
        built=()
        break
      fi
    done
  fi
  if [ "${#built[@]}" = "${#FUNCTIONS[@]}" ]; then
    record PASS "lambda build (arm64)" "$(IFS=,; echo "${built[*]}" | sed 's/,/, /g')"
  else
    record FAIL "lambda build (arm64)" "see above"
  fi
fi

log "summary"
for line in "${SUMMARY[@]}"; do printf '  %s\n' "$line" >&2; done
exit "$FAILED"
