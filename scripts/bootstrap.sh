#!/usr/bin/env bash
# Installs the pinned uv (if missing) and the locked environment. Used by the README commands.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | cut -d' ' -f2)" != "0.13.8" ]; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
fi
# --compile-bytecode: the installed packages are compiled once, here. Where Python may not
# write __pycache__ (PYTHONDONTWRITEBYTECODE is set on some machines, installs may be read-only)
# every command would otherwise compile Prefect, pandas and the rest from source again: ~1 s of
# pandas alone in a run's staging step, and much of Prefect's start-up. Set on `uv sync` only:
# as a project setting, every `uv run` would re-check all files (0.2 s each time).
uv sync --frozen --quiet --compile-bytecode
