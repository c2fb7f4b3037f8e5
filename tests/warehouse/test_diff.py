"""Diff between two published releases: tables, figures, CLI and release notes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core.paths import DataPaths
from figures.figure import Selection, get_figure
from figures.release import resolve_release
from warehouse.bundles import published as published_ids
from warehouse.diff import COMPARED, diff_bundles, diff_markdown

FIGURE_LINE = "- `medical_records_median_wage`: $50,250 (May 2024) → $51,140 (May 2024)"


Run = Callable[..., subprocess.CompletedProcess[str]]  # the CLI in a subprocess


@pytest.fixture(scope="module")
def two(
    tmp_path_factory: pytest.TempPathFactory,
    sample_mirror: Path,
    make_release: Callable[..., str],
    set_median: Callable[[Path, str], None],
) -> Iterator[tuple[DataPaths, str, str]]:
    """Release A from the sample mirror; release B after BLS changed one value."""
    root = tmp_path_factory.mktemp("diff")
    mirror = root / "mirror"
    shutil.copytree(sample_mirror, mirror)
    paths = DataPaths(root / "data")
    a = make_release(paths, mirror)
    b = make_release(paths, mirror, edit=lambda m: set_median(m, "51140"))
    yield paths, a, b


@pytest.fixture(scope="session")
def cli(bls_refresh: Run) -> Run:
    """``cli(paths, *args)``: ``bls-refresh ARGS --data-dir <paths' root>``, a subprocess."""

    def run(paths: DataPaths, *args: str) -> subprocess.CompletedProcess[str]:
        return bls_refresh(*args, "--data-dir", str(paths.root))

    return run


def expected_diff(a: str, b: str) -> dict[str, object]:
    tables: dict[str, dict[str, object]] = {
        t: {"added": 0, "removed": 0, "changed": 0, "examples": []} for t in COMPARED
    }
    tables["oews_estimates"]["changed"] = 1
    tables["oews_estimates"]["examples"] = [
        {
            "key": {
                "reference_year": 2024,
                "area_code": "0000000",
                "industry_code": "000000",
                "ownership": "all",
                "soc_code": "29-2072",
                "measure": "annual_median",
            },
            "changes": {"value": ["50250", "51140"]},
        }
    ]
    return {
        "old": a,
        "new": b,
        "tables": tables,
        "figures": [
            {
                "id": "medical_records_median_wage",
                "old": "$50,250",
                "new": "$51,140",
                "old_value": 50250,
                "new_value": 51140,
                "old_reference": "May 2024",
                "new_reference": "May 2024",
            }
        ],
    }


def test_edit_keeps_the_file_layout(
    tmp_path: Path, sample_mirror: Path, set_median: Callable[[Path, str], None]
) -> None:
    mirror = tmp_path / "m"
    shutil.copytree(sample_mirror, mirror)
    data = mirror / "download.bls.gov/pub/time.series/oe/oe.data.0.Current"
    before = data.read_text().splitlines()
    set_median(mirror, "51140")
    after = data.read_text().splitlines()
    changed = [(x, y) for x, y in zip(before, after, strict=True) if x != y]
    assert changed == [
        (
            "OEUN000000000000029207213     \t2024\tA01\t       50250\t",
            "OEUN000000000000029207213     \t2024\tA01\t       51140\t",
        )
    ]


def test_diff_bundles_shows_one_changed_row_and_one_figure(
    two: tuple[DataPaths, str, str],
) -> None:
    paths, a, b = two
    assert COMPARED == [
        "occupations",
        "areas",
        "industries",
        "oews_estimates",
        "oews_footnotes",
        "projections",
        "soc_crosswalk",
    ]
    assert diff_bundles(paths.published / a, paths.published / b) == expected_diff(a, b)
    # The hourly median is datatype 08: not edited, so not a change.
    for rid in (a, b):
        figures = json.loads((paths.published / rid / "figures.json").read_text())
        assert figures["medical_records_median_hourly_wage"]["text"] == "$24.16"
    # Backwards, the same change the other way round.
    back = diff_bundles(paths.published / b, paths.published / a)
    backwards = back["tables"]["oews_estimates"]
    assert (backwards["added"], backwards["removed"], backwards["changed"]) == (0, 0, 1)
    assert [e["changes"] for e in backwards["examples"]] == [{"value": ["51140", "50250"]}]
    assert [(f["id"], f["old"], f["new"]) for f in back["figures"]] == [
        ("medical_records_median_wage", "$51,140", "$50,250")
    ]
    # A release compared with itself: nothing.
    same = diff_bundles(paths.published / b, paths.published / b)
    assert same["figures"] == []
    assert all(
        d == {"added": 0, "removed": 0, "changed": 0, "examples": []}
        for d in same["tables"].values()
    )
    assert diff_markdown(same)[-1] == "None of the figures in figures.yaml changed."


def test_figure_by_release(two: tuple[DataPaths, str, str], cli: Run) -> None:
    paths, a, b = two
    sel = Selection("29-2072", "annual_median")
    assert get_figure(paths, sel).text == "$51,140"
    assert get_figure(paths, sel, "latest").release == b
    old = cli(paths, "figure", "29-2072", "annual_median", "--release", a, "--json")
    assert old.returncode == 0, old.stderr
    assert (json.loads(old.stdout)["text"], json.loads(old.stdout)["release"]) == ("$50,250", a)
    new = cli(paths, "figure", "29-2072", "annual_median")
    assert new.stdout == (
        "Medical records specialists: median annual wage $51,140 "
        "(May 2024, U.S. Bureau of Labor Statistics OEWS)\n"
    )


def test_diff_command_defaults_to_previous_vs_latest(
    two: tuple[DataPaths, str, str], cli: Run
) -> None:
    paths, a, b = two
    result = cli(paths, "diff")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Changes from {a} to {b}\n"
        "\n"
        "| table | rows added | rows removed | rows changed |\n"
        "|---|---:|---:|---:|\n"
        "| occupations | 0 | 0 | 0 |\n"
        "| areas | 0 | 0 | 0 |\n"
        "| industries | 0 | 0 | 0 |\n"
        "| oews_estimates | 0 | 0 | 1 |\n"
        "| oews_footnotes | 0 | 0 | 0 |\n"
        "| projections | 0 | 0 | 0 |\n"
        "| soc_crosswalk | 0 | 0 | 0 |\n"
        "\n"
        "### Rows that changed (up to 10 per table)\n"
        "\n"
        "- oews_estimates: 29-2072 annual_median (area 0000000, industry 000000, all, May 2024): "
        "value 50250 → 51140\n"
        "\n"
        "### Figures that changed\n"
        "\n"
        f"{FIGURE_LINE}\n"
    )


def test_diff_command_json(two: tuple[DataPaths, str, str], cli: Run) -> None:
    paths, a, b = two
    result = cli(paths, "diff", a, b, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected_diff(a, b)


def test_diff_command_unknown_release(two: tuple[DataPaths, str, str], cli: Run) -> None:
    paths, a, b = two
    result = cli(paths, "diff", "2020-01-01.1", b)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == f"Unknown release '2020-01-01.1'. Did you mean: {a}, {b}?\n"


def test_diff_command_imports_neither_prefect_nor_pandas(
    two: tuple[DataPaths, str, str],
    wrapped_cli: str,
) -> None:
    paths, _, _ = two
    result = subprocess.run(
        [sys.executable, "-c", wrapped_cli, "diff", "--json", "--data-dir", str(paths.root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == "MODULES False False"
    assert json.loads(result.stdout)["figures"][0]["id"] == "medical_records_median_wage"


def test_release_notes_carry_the_diff(
    two: tuple[DataPaths, str, str], sample_estimates: int
) -> None:
    paths, a, b = two
    first = (paths.published / a / "RELEASE_NOTES.md").read_text(encoding="utf-8")
    assert "This is the first release." in first
    assert "## What changed since" not in first
    assert f"| oews_estimates | {sample_estimates:,} | new |" in first
    assert "| projections | 36 | new |" in first

    notes = (paths.published / b / "RELEASE_NOTES.md").read_text(encoding="utf-8")
    assert f"Previous release: {a}." in notes
    assert "- OEWS: May 2024 (reloaded: BLS republished the same vintage with different bytes)" in (
        notes
    )
    assert "- PROJECTIONS: 2024-34 (unchanged, carried over)" in notes
    for row in (
        "| areas | 4 | +0 |",
        "| industries | 4 | +0 |",
        "| occupations | 37 | +0 |",
        f"| oews_estimates | {sample_estimates:,} | +0 |",
        "| oews_footnotes | 6 | +0 |",
        "| projections | 36 | +0 |",
        "| releases | 2 | +1 |",
    ):
        assert row in notes
    assert "- oews_estimates: changed values: `value` in 1 row" in notes
    section = "\n".join(
        [f"## What changed since release {a}", "", *diff_markdown(expected_diff(a, b))]
    )
    assert section in notes
    assert "| oews_estimates | 0 | 0 | 1 |" in notes
    assert notes.count(FIGURE_LINE) == 1


def test_releases_command_lists_both(
    two: tuple[DataPaths, str, str], cli: Run, sample_estimates: int
) -> None:
    paths, a, b = two
    result = cli(paths, "releases")
    assert result.returncode == 0, result.stderr
    rows = {line.split("\t")[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(rows) == {a, f"{b} (latest)"}
    for line in rows.values():
        assert "oews=May 2024, projections=2024-34" in line
        assert f"oews_estimates {sample_estimates:,}" in line
        assert "projections 36" in line
    assert result.stdout.count("(latest)") == 1


def test_no_release_to_list(tmp_path: Path, bls_refresh: Run) -> None:
    result = bls_refresh("releases", "--data-dir", str(tmp_path / "none"))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "No published release in" in result.stderr


def test_ten_releases_in_a_day_keep_their_order(
    two: tuple[DataPaths, str, str], tmp_path: Path, bls_refresh: Run
) -> None:
    """Release ids count up within a day: .10 is newer than .9, not older than .2."""
    paths, a, b = two
    other = DataPaths(tmp_path / "data")
    other.published.mkdir(parents=True)
    ids = [f"2030-01-01.{n}" for n in range(1, 11)]
    for n, rid in enumerate(ids, start=1):
        shutil.copytree(paths.published / (b if n == 10 else a), other.published / rid)
    assert published_ids(other) == ids
    assert resolve_release(other, None)[0] == "2030-01-01.10"  # no `latest` link: the newest
    os.symlink("2030-01-01.10", other.latest)
    result = bls_refresh("diff", "--data-dir", str(other.root))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Changes from 2030-01-01.9 to 2030-01-01.10\n")
    assert FIGURE_LINE in result.stdout


def test_a_figure_missing_from_both_releases_is_no_change(tmp_path: Path) -> None:
    from warehouse.diff import figure_changes

    def bundle(rid: str, figures: dict[str, object]) -> Path:
        folder = tmp_path / rid
        folder.mkdir()
        (folder / "figures.json").write_text(json.dumps(figures))
        return folder

    old = bundle(
        "2026-12-01.1", {"x": {"error": "Unknown SOC code '29-9999' in release 2026-12-01.1."}}
    )
    new = bundle(
        "2026-12-02.1", {"x": {"error": "Unknown SOC code '29-9999' in release 2026-12-02.1."}}
    )
    assert figure_changes(old, new) == []
    other = bundle("2026-12-03.1", {"x": {"error": "No 2034-44 projection for 29-9999."}})
    assert [c["id"] for c in figure_changes(new, other)] == ["x"]


def _bundle_copy(bundle: Path, dest: Path, select: str = "*", where: str = "") -> Path:
    """``bundle`` copied to ``dest``, its oews_estimates rewritten as ``SELECT select FROM t
    where`` (``t``: the original table)."""
    import duckdb

    from warehouse import bundles

    shutil.copytree(bundle, dest)
    (dest / "datapackage.json").unlink()  # its sums no longer describe the files
    for table in bundles.table_files(dest, "oews_estimates"):
        table.unlink()
        source = bundle / table.relative_to(dest)
        duckdb.execute(
            f"COPY (SELECT {select} FROM '{source}' t {where}) TO '{table}' (FORMAT parquet)"
        )
    return dest


def test_the_big_table_diff_reads_only_rows_written_since_and_agrees_with_the_full_join(
    two: tuple[DataPaths, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from warehouse import diff, lake

    paths, a, b = two
    old, new = paths.published / a, paths.published / b
    fast = diff.diff_bundles(old, new)
    monkeypatch.setattr(lake, "CELL_KEYS", {})  # every table through the full join
    assert diff.diff_bundles(old, new) == fast
    assert fast["tables"]["oews_estimates"]["changed"] == 1

    # A whole year reloaded (every row stamped with the new release), one value changed, two
    # rows gone: counted and shown the same by both ways.
    reloaded = _bundle_copy(
        new,
        tmp_path / "9999-12-31.1",  # a later release than both
        "* REPLACE ('9999-12-31.1' AS release_id)",
        "WHERE NOT (soc_code = '29-2072' AND measure IN ('hourly_p10', 'hourly_p25') AND "
        "area_code = '0000000' AND industry_code = '000000')",
    )
    slow_removed = diff.diff_bundles(old, reloaded)
    monkeypatch.undo()
    assert diff.diff_bundles(old, reloaded) == slow_removed
    estimates = slow_removed["tables"]["oews_estimates"]
    assert (estimates["added"], estimates["removed"], estimates["changed"]) == (0, 2, 1)

    # Every row stamped with a release the old bundle never saw: all are joined.
    restamped = _bundle_copy(
        new, tmp_path / "restamped", "* REPLACE ('9999-12-31.2' AS release_id)"
    )
    fast_restamped = diff.diff_bundles(old, restamped)
    monkeypatch.setattr(lake, "CELL_KEYS", {})
    assert diff.diff_bundles(old, restamped) == fast_restamped
    assert fast_restamped["tables"]["oews_estimates"]["changed"] == 1
