#!/usr/bin/env bash
# The test command (README.md): sets up what the tests need, then runs every test.
# Extra arguments go to `cargo test` (for example a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."

# The conformance suite runs the aws backend against a real moto server, which the tests start
# themselves on a free loopback port. Install it when it is missing.
MOTO_VERSION=5.2.1
if ! command -v moto_server >/dev/null 2>&1; then
  echo "installing moto[server]==$MOTO_VERSION (pip)"
  python3 -m pip install --quiet "moto[server]==$MOTO_VERSION"
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi
fi
command -v moto_server >/dev/null 2>&1 || {
  echo "moto_server is still not on PATH after 'pip install moto[server]'" >&2
  exit 1
}

# tests/api_coverage.rs reads the AWS API model at the botocore version codegen/shapes.json pins.
BOTOCORE_VERSION=$(python3 -c 'import json; print(json.load(open("codegen/shapes.json"))["botocore"])')
if [ "$(python3 -c 'import botocore; print(botocore.__version__)' 2>/dev/null)" != "$BOTOCORE_VERSION" ]; then
  echo "installing botocore==$BOTOCORE_VERSION and boto3==$BOTOCORE_VERSION (pip)"
  python3 -m pip install --quiet "botocore==$BOTOCORE_VERSION" "boto3==$BOTOCORE_VERSION"
fi

cargo test --locked "$@"
