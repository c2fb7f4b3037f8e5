#!/usr/bin/env bash
# Sets everything up, then runs the demo refresh from the bundled sample mirror into ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
uv run --frozen bls-refresh demo "$@"
