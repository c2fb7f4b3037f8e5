#!/usr/bin/env bash
# Installs the pinned uv (if missing) and the locked environment. Used by the README commands.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "0.13.8" ]; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
fi
uv sync --frozen --quiet
