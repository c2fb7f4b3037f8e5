"""README.md's "Failure behaviour" table is scenarios.py, row for row, and each row is tested."""

from __future__ import annotations

import re
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def failure_section(repo: Path) -> str:
    readme = (repo / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Failure behaviour\n(.*?)(?=^## |\Z)", readme, flags=re.M | re.S)
    assert match, "README.md has no '## Failure behaviour' section"
    return match.group(1)


def readme_rows(repo: Path) -> list[str]:
    lines = [line.strip() for line in failure_section(repo).splitlines()]
    table = [line for line in lines if line.startswith("|")]
    assert table[:2] == ["| scenario | what the user sees | what is kept |", "|---|---|---|"], (
        "the table's columns are: scenario, what the user sees, what is kept"
    )
    return table[2:]


def test_readme_table_is_the_scenario_list(scenarios: ModuleType, repo: Path) -> None:
    rows = readme_rows(repo)
    ids = [m.group(1) if (m := re.match(r"\| `([^`]+)` \|", row)) else row for row in rows]
    assert sorted(set(ids)) == sorted(ids), f"a scenario appears twice: {ids}"
    assert ids == [s.id for s in scenarios.SCENARIOS], (
        "README rows and SCENARIOS differ in ids or order"
    )
    assert rows == scenarios.table_rows(), (
        "README.md's Failure behaviour table differs from tests/faults/scenarios.py; "
        f"it should read:\n{scenarios.render_table()}"
    )


def test_scenario_ids_are_unique_and_plain(scenarios: ModuleType) -> None:
    ids = [s.id for s in scenarios.SCENARIOS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in ids)
    assert all("|" not in s.sees + s.kept for s in scenarios.SCENARIOS)


def test_every_scenario_is_exercised_by_a_test(scenarios: ModuleType, repo: Path) -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for p in HERE.glob("test_*.py"))
    sources = sources.replace(Path(__file__).read_text(encoding="utf-8"), "")
    for scenario in scenarios.SCENARIOS:
        if scenario.id in scenarios.COVERED_ELSEWHERE:
            file, test = scenarios.COVERED_ELSEWHERE[scenario.id]
            assert f"def {test}(" in (repo / file).read_text(encoding="utf-8"), (scenario, file)
            continue
        # Ids are spelled out in the tests, or built from a crash point (killed-after-parquet).
        spelled = f'"{scenario.id}"' in sources
        crash = scenario.id.startswith("killed-") and (
            f'"{scenario.id.removeprefix("killed-").replace("-", "_")}"' in sources
        )
        assert spelled or crash, f"no test in tests/faults/ exercises {scenario.id!r}"
