#!/usr/bin/env bash
# The test command (README.md): sets up what the tests need, then runs every test.
# Extra arguments go to `cargo test` (for example a test name filter).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked "$@"
