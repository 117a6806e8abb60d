#!/usr/bin/env bash
# Runs every test of the repository: unit, golden, property and black-box CLI tests.
# This is the README's test command and what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --locked
