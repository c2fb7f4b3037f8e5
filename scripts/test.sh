#!/usr/bin/env bash
# Sets everything up, then lints and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
uv run --frozen ruff check .
uv run --frozen ruff format --check .
uv run --frozen pytest "$@"
