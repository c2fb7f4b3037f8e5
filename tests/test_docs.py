"""Documentation is part of the product: the README must describe what we publish."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from transforms.oews_lookups import DATATYPES
from warehouse.lake import TABLES


@pytest.fixture(scope="module")
def readme(repo: Path) -> str:
    return (repo / "README.md").read_text(encoding="utf-8")


def test_every_published_table_and_column_is_in_the_readme(readme: str) -> None:
    missing = [
        f"{table}.{column}"
        for table, columns in TABLES.items()
        for column in columns
        if column != "release_id" and f"`{column}`" not in readme
    ]
    assert not [t for t in TABLES if f"| {t} |" not in readme]
    assert not missing, f"README does not describe: {missing}"


def test_every_measure_name_is_in_the_readme(readme: str) -> None:
    documented = set(re.findall(r"`(\w+)`", readme))
    percentiles = {"hourly_p25", "hourly_p75", "annual_p25", "annual_p75"}  # written as ranges
    missing = {m for _, m, _ in DATATYPES.values()} - documented - percentiles
    assert not missing


def test_readme_starts_with_the_two_commands(readme: str, repo: Path) -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert blocks[:2] == ["bash scripts/demo.sh", "bash scripts/test.sh"]
    ci = (repo / ".ci" / "run").read_text()
    assert "scripts/test.sh" in ci


def test_every_command_is_in_the_readme_command_table(readme: str) -> None:
    from bls_refresh.cli import app

    section = readme[readme.index("## Commands") :]
    table = section[: section.index("\n\n", section.index("| command |"))]
    documented = set(re.findall(r"`bls-refresh (\w+)", table))
    commands = {
        c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands
    }
    assert commands == documented, f"commands {sorted(commands)} vs README {sorted(documented)}"
