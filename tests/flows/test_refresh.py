"""End-to-end: the real Prefect flow against the local BLS server, real DuckLake, real files."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from core.errors import FetchError, LockHeldError, ValidationError
from core.lock import refresh_lock
from core.paths import DataPaths
from extractors import oews as oews_extractor
from extractors import projections as projections_extractor
from extractors import soc as soc_extractor
from extractors.rawstore import sha256_file
from warehouse import lake

if TYPE_CHECKING:
    from flows.release import RefreshOutcome
    from tests.blsserver import BlsServer

pytestmark = pytest.mark.usefixtures("prefect_harness")

OE_FILES = (*oews_extractor.FILES, projections_extractor.FILE, soc_extractor.FILE)


@pytest.fixture(scope="session")
def run(contact: str) -> Callable[..., RefreshOutcome]:
    """``run(data_dir, server, **options)``: the refresh flow in process against ``server``."""

    def refresh_from(data_dir: Path, server: BlsServer, **kwargs: object) -> RefreshOutcome:
        from flows.refresh import refresh

        return refresh(data_dir=str(data_dir), source=server.base_url, contact=contact, **kwargs)  # type: ignore[arg-type]

    return refresh_from


def touch_later(path: Path) -> None:
    """Give an edited mirror file a newer Last-Modified, as BLS does when it republishes."""
    stamp = time.time() + 5
    os.utime(path, (stamp, stamp))


def edit_data_file(oe_dir: Path, old: str, new: str) -> None:
    path = oe_dir / "oe.data.0.Current"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    touch_later(path)


def assert_bundle_intact(data_dir: Path, release_id: str) -> None:
    bundle = data_dir / "published" / release_id
    package = json.loads((bundle / "datapackage.json").read_text())
    assert package["version"] == release_id
    for resource in package["resources"]:
        for part in resource.get("parts") or [resource]:  # a partitioned table: its files
            assert sha256_file(bundle / part["path"]) == part["sha256"]


def latest_of(data_dir: Path) -> str:
    return os.readlink(data_dir / "published" / "latest")


def test_full_refresh_publishes_a_release(
    data_dir: Path,
    bls_server: BlsServer,
    run: Callable[..., RefreshOutcome],
    sample_projections: int,
    sample_estimates: int,
    oe_path: str,
    contact: str,
) -> None:
    outcome = run(data_dir, bls_server)

    assert outcome.changed
    release_id = outcome.release_id
    assert latest_of(data_dir) == release_id
    assert outcome.vintages == {
        "oews": "May 2024",
        "projections": "2024-34",
        "soc": "SOC 2010 to 2018",
    }
    assert outcome.row_counts["projections"] == sample_projections
    assert outcome.row_counts["oews_estimates"] == sample_estimates
    assert_bundle_intact(data_dir, release_id)

    bundle = data_dir / "published" / release_id
    package = json.loads((bundle / "datapackage.json").read_text())
    sources = {Path(s["path"]).name: s for s in package["sources"]}
    assert set(sources) == set(OE_FILES)
    data_src = sources["oe.data.0.Current"]
    assert data_src["vintage"] == "May 2024"
    assert data_src["path"] == f"{bls_server.base_url}/{oe_path}/oe.data.0.Current"
    assert data_src["sha256"] == sha256_file(bls_server.root / oe_path / "oe.data.0.Current")
    rows = {r["name"]: r["rows"] for r in package["resources"] if "rows" in r}
    assert "figures" in {r["name"] for r in package["resources"]}
    assert rows["oews_estimates"] == sample_estimates
    assert "Release" in (bundle / "RELEASE_NOTES.md").read_text()

    # Every request carried a contact User-Agent.
    assert all(contact in r.headers.get("User-Agent", "") for r in bls_server.requests)

    # The analyst file exposes the latest release as plain views.
    con = duckdb.connect(str(data_dir / "bls.duckdb"), read_only=True)
    value, status = con.execute(
        "SELECT value, status FROM oews_estimates WHERE soc_code = '29-2072' "
        "AND area_code = '0000000' AND industry_code = '000000' AND measure = 'annual_median'"
    ).fetchone()
    assert (float(value), status) == (50250.0, "ok")
    top = con.execute(
        "SELECT value, top_code_threshold FROM oews_estimates WHERE status = 'top_coded' "
        "AND measure = 'annual_p90' LIMIT 1"
    ).fetchone()
    assert top[0] is None and float(top[1]) == 239200.0
    assert (
        con.execute(
            "SELECT count(*) FROM oews_estimates WHERE status = 'not_released' AND value IS NULL"
        ).fetchone()[0]
        == 17
    )
    per_release = con.execute(f'SELECT count(*) FROM "{release_id}".oews_estimates').fetchone()
    assert per_release[0] == sample_estimates
    con.close()


def test_rerun_without_upstream_change_downloads_nothing(
    data_dir: Path, bls_server: BlsServer, run: Callable[..., RefreshOutcome]
) -> None:
    first = run(data_dir, bls_server)
    bls_server.clear_requests()

    second = run(data_dir, bls_server)

    assert not second.changed
    assert second.release_id == first.release_id
    assert "Nothing changed upstream" in second.message
    statuses = [r.status for r in bls_server.requests]
    assert statuses == [304] * len(OE_FILES)
    assert sorted(p.name for p in (data_dir / "published").iterdir()) == [
        first.release_id,
        "latest",
    ]


def test_changed_value_makes_a_new_release(
    data_dir: Path, bls_server: BlsServer, oe_dir: Path, run: Callable[..., RefreshOutcome]
) -> None:
    first = run(data_dir, bls_server)
    first_data_sha = sha256_file(oe_dir / "oe.data.0.Current")
    sid = "OEUN000000000000029207213"
    edit_data_file(
        oe_dir, f"{sid}     \t2024\tA01\t       50250", f"{sid}     \t2024\tA01\t       50260"
    )

    second = run(data_dir, bls_server)

    assert second.changed and second.release_id != first.release_id
    assert latest_of(data_dir) == second.release_id
    assert_bundle_intact(data_dir, first.release_id)
    assert_bundle_intact(data_dir, second.release_id)
    notes = (data_dir / "published" / second.release_id / "RELEASE_NOTES.md").read_text()
    assert f"Previous release: {first.release_id}" in notes
    con = duckdb.connect(str(data_dir / "bls.duckdb"), read_only=True)
    new, old = (
        con.execute(
            f'SELECT value FROM "{rid}".oews_estimates WHERE soc_code = ? AND measure = ? '
            "AND area_code = '0000000' AND industry_code = '000000'",
            ["29-2072", "annual_median"],
        ).fetchone()[0]
        for rid in (second.release_id, first.release_id)
    )
    assert (float(new), float(old)) == (50260.0, 50250.0)
    con.close()
    assert "- oews_estimates: changed values: `value` in 1 row" in notes
    assert "PROJECTIONS: 2024-34 (unchanged, carried over)" in notes
    # Only the lines around the edit were staged (a patch of the file the first run loaded).
    with lake.connect(DataPaths(data_dir), read_only=True) as lcon:
        found = lake.releases(lcon)[-1]["changes"]["oews_estimates"]
    assert found["changed"] == {"value": 1} and found["cells_changed"] == 1
    patch = found["patch"]
    assert patch["base_sha256"] == first_data_sha
    assert 0 < patch["old_rows"] == patch["new_rows"] < 200  # of the file's 3,043 rows


def test_a_refused_patch_stages_the_whole_file(
    data_dir: Path,
    bls_server: BlsServer,
    oe_dir: Path,
    run: Callable[..., RefreshOutcome],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The staging pass changed since the first run (a new version): its rows may differ from
    what the lake holds, so the revised file is staged whole, and the release says so."""
    run(data_dir, bls_server)
    sid = "OEUN000000000000029207213"
    edit_data_file(
        oe_dir, f"{sid}     \t2024\tA01\t       50250", f"{sid}     \t2024\tA01\t       50260"
    )
    monkeypatch.setattr("transforms.oews.VERSION", "oews-staging/next")

    second = run(data_dir, bls_server)

    assert second.changed
    with lake.connect(DataPaths(data_dir), read_only=True) as lcon:
        newest = lake.releases(lcon)[-1]
    found = newest["changes"]["oews_estimates"]
    assert found["changed"] == {"value": 1} and "patch" not in found
    assert newest["sources"]["oews"]["oe.data.0.Current"]["staged_by"] == "oews-staging/next"


def test_failed_validation_leaves_latest_untouched(
    data_dir: Path, bls_server: BlsServer, oe_dir: Path, run: Callable[..., RefreshOutcome]
) -> None:
    first = run(data_dir, bls_server)
    path = oe_dir / "oe.data.0.Current"
    text = path.read_text()
    path.write_text(text.replace("footnote_codes", "footnote_code", 1))
    touch_later(path)

    with pytest.raises(ValidationError, match=r"oe\.data\.0\.Current.*required columns"):
        run(data_dir, bls_server)

    assert latest_of(data_dir) == first.release_id
    assert_bundle_intact(data_dir, first.release_id)
    # The bad file is kept in the raw store for inspection.
    manifest = [json.loads(x) for x in (data_dir / "raw/manifest.jsonl").read_text().splitlines()]
    bad = [m for m in manifest if m["url"].endswith("oe.data.0.Current") and m["status"] == 200]
    assert len(bad) == 2
    assert (data_dir / "raw" / bad[-1]["path"]).read_text().startswith("series_id")
    assert not list((data_dir / "staging").glob("*/*"))


def test_html_instead_of_data_fails_loudly(
    data_dir: Path, bls_server: BlsServer, oe_dir: Path, run: Callable[..., RefreshOutcome]
) -> None:
    first = run(data_dir, bls_server)
    touch_later(oe_dir / "oe.data.0.Current")
    bls_server.fail("oe.data.0.Current", "html", times=10)

    with pytest.raises(FetchError, match="HTML page"):
        run(data_dir, bls_server)

    assert latest_of(data_dir) == first.release_id
    kept = list((data_dir / "raw" / "quarantine").iterdir())
    assert kept and b"Access Denied" in kept[0].read_bytes()


def test_row_count_collapse_needs_override(
    data_dir: Path, bls_server: BlsServer, oe_dir: Path, run: Callable[..., RefreshOutcome]
) -> None:
    first = run(data_dir, bls_server)
    path = oe_dir / "oe.data.0.Current"
    lines = path.read_text().splitlines(keepends=True)
    # Keep a fifth of the rows (every series keeps a consistent key set).
    path.write_text("".join(lines[:1] + lines[1 : 1 + (len(lines) - 1) // 5]))
    touch_later(path)

    with pytest.raises(ValidationError, match=r"row count within ±20%"):
        run(data_dir, bls_server)
    assert latest_of(data_dir) == first.release_id

    forced = run(data_dir, bls_server, allow_row_count_change=True)
    assert forced.changed and latest_of(data_dir) == forced.release_id


def test_no_contact_user_agent_is_refused(
    data_dir: Path, bls_server: BlsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.refresh import refresh

    monkeypatch.delenv("BLS_CONTACT_EMAIL")
    with pytest.raises(FetchError, match="403"):
        refresh(data_dir=str(data_dir), source=bls_server.base_url, contact=None)
    assert not (data_dir / "published" / "latest").exists()


def test_second_refresh_waits_for_the_lock(
    data_dir: Path, bls_server: BlsServer, run: Callable[..., RefreshOutcome]
) -> None:
    with refresh_lock(DataPaths(data_dir)), pytest.raises(LockHeldError, match="another refresh"):
        run(data_dir, bls_server)
