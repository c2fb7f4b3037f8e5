#!/usr/bin/env bash
# Sets everything up, then lints and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
uv run --frozen ruff check .
uv run --frozen ruff format --check .
# The layers of pyproject.toml's import-linter contract: no import goes upwards.
uv run --frozen lint-imports
# Two workers: CI has two cores, and the end-to-end tests spend much of their time waiting.
uv run --frozen pytest -n 2 "$@"
