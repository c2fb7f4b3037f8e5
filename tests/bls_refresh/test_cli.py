"""The console script as a user runs it: a real subprocess, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from flows.refresh import refresh

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def bls_refresh(prefect_api_env: dict[str, str]) -> Run:
    """``bls-refresh ARGS`` as a subprocess, on the session's Prefect API; ``"-c", SOURCE,
    ARGS`` runs the command line through ``SOURCE`` (the ``wrapped_cli`` fixture)."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, *(args if args[:1] == ("-c",) else ("-m", "bls_refresh.cli", *args))],
            capture_output=True,
            text=True,
            env={**os.environ, **prefect_api_env, **(env or {}), "COLUMNS": "200"},
            timeout=300,
            check=False,
        )

    return run


def test_run_against_bls_without_contact_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BLS_CONTACT_EMAIL"}
    result = subprocess.run(
        [sys.executable, "-m", "bls_refresh.cli", "run", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "BLS_CONTACT_EMAIL" in result.stderr
    assert not (tmp_path / "d" / "published").exists()


def test_demo_publishes_then_reports_no_change(
    tmp_path: Path, bls_refresh: Run, sample_estimates: int, wrapped_cli: str
) -> None:
    data = tmp_path / "data"
    first = bls_refresh("-c", wrapped_cli, "demo", "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    assert first.stderr.splitlines()[-1] == "MODULES True True"  # it staged: pandas
    assert "Published release" in first.stdout
    assert "OEWS vintage: May 2024" in first.stdout
    assert "oews_estimates" in first.stdout and f"{sample_estimates:,}" in first.stdout
    assert (data / "published" / "latest" / "datapackage.json").is_file()

    second = bls_refresh("-c", wrapped_cli, "demo", "--data-dir", str(data))
    assert second.returncode == 0, second.stderr
    assert "Nothing changed upstream" in second.stdout
    # Nothing new arrived, so the transforms were never imported, not even ahead of time.
    assert second.stderr.splitlines()[-1] == "MODULES True False"
    assert len([p for p in (data / "published").iterdir() if p.name != "latest"]) == 1


@pytest.mark.usefixtures("prefect_harness")
def test_flow_leaves_release_notes_and_row_count_artifacts(
    data_dir: Path, bls_server: object
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    outcome = refresh(data_dir=str(data_dir), source=bls_server.base_url)  # type: ignore[attr-defined]

    with get_client(sync_client=True) as client:
        notes = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["release-notes"]))
        )
        counts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["row-counts"]))
        )
    assert any(f"# Release {outcome.release_id}" in str(a.data) for a in notes)
    assert any("oews_estimates" in str(a.data) for a in counts)


def test_a_data_dir_that_cannot_be_used_is_one_message_not_a_traceback(
    tmp_path: Path, bls_refresh: Run
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    done = bls_refresh("demo", "--data-dir", str(afile))
    assert done.returncode == 1
    assert done.stderr.startswith(f"Refresh failed: the data directory {afile} cannot be used:")
    assert "Nothing was published." in done.stderr and "Traceback" not in done.stderr

    for where in (afile, tmp_path / "mistyped"):
        done = bls_refresh("rollback", "--undo", "--data-dir", str(where))
        assert done.returncode == 2, done.stderr
        assert "No published release in" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "mistyped").exists()  # a rollback creates no data dir


def test_run_rejects_an_unknown_source_kind(tmp_path: Path, bls_refresh: Run) -> None:
    result = bls_refresh("run", "--only", "cpi", "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2
    assert "Unknown source 'cpi'; choose from oews, projections, soc." in result.stderr


@pytest.mark.usefixtures("prefect_harness")
def test_run_only_some_sources(tmp_path: Path, bls_server: object, bls_refresh: Run) -> None:
    data = tmp_path / "d"
    result = bls_refresh(
        "run",
        "--source",
        bls_server.base_url,
        "--only",
        "oews",
        "--data-dir",
        str(data),  # type: ignore[attr-defined]
    )
    assert result.returncode == 0, result.stderr
    assert "OEWS vintage: May 2024" in result.stdout
    assert "PROJECTIONS vintage" not in result.stdout
    assert all("www.bls.gov" not in r.path for r in bls_server.requests)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("prefect_harness")
def test_refresh_with_the_current_occupation_layout_and_a_new_column(
    tmp_path: Path,
    mirror: Path,
    bls_server: object,
    oe_path: str,
    six_column_occupations: Callable[[Path, Path], Path],
) -> None:
    """What download.bls.gov serves since May 2025 (oe.occupation with its description third)
    loads; a column nobody knows (here in oe.area) is loaded around and reported, in the run
    summary, the release notes, the releases table and the Prefect artifact."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    oe = mirror / oe_path
    six_column_occupations(oe / "oe.occupation", oe / "oe.occupation")
    lines = (oe / "oe.area").read_bytes().decode("utf-8").splitlines()
    (oe / "oe.area").write_bytes(
        "".join(
            f"{line}\t{'area_fips' if i == 0 else 'x'}\r\n" for i, line in enumerate(lines)
        ).encode("utf-8")
    )
    data = tmp_path / "d"
    outcome = refresh(data_dir=str(data), source=bls_server.base_url, kinds=["oews"])  # type: ignore[attr-defined]
    note = "oe.area: new column 'area_fips' (not known to this version; loaded without it)"
    assert outcome.changed
    assert outcome.schema_drift == {"oe.area": ["area_fips"]}

    bundle = data / "published" / "latest"
    notes = (bundle / "RELEASE_NOTES.md").read_text(encoding="utf-8")
    assert "## Schema drift" in notes and f"- {note}" in notes
    con = duckdb.connect()
    drift, description = con.execute(
        f"SELECT (SELECT schema_drift FROM '{bundle}/releases.parquet'), "
        f"(SELECT description FROM '{bundle}/occupations.parquet' WHERE soc_code = '29-2072')"
    ).fetchone()
    assert json.loads(drift) == {"oe.area": ["area_fips"]}
    assert description == "Workers who do the work of Medical Records Specialists."
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["release-notes"]))
        )
    assert any(note in str(a.data) for a in artifacts)


def test_run_summary_names_schema_drift(capsys: pytest.CaptureFixture[str]) -> None:
    from bls_refresh import cli

    cli._drift({"oe.area": ["area_fips"], "occupation.xlsx [Table 1.2]": ["Column [1]", "x"]})
    printed = capsys.readouterr().out
    assert printed.splitlines() == [
        "Schema drift (loaded without these columns):",
        "  occupation.xlsx [Table 1.2]: new columns 'Column [1]', 'x' (not known to this "
        "version; loaded without it)",
        "  oe.area: new column 'area_fips' (not known to this version; loaded without it)",
    ]


def test_the_summary_lists_special_request_years_per_coverage_not_per_file() -> None:
    from bls_refresh.cli import _vintage_lines

    lines = _vintage_lines(
        {
            "oews": "May 2024",
            "oews_special_2016_national": "May 2016",
            "oews_special_2012_national": "May 2012",
            "oews_special_2012_state": "May 2012",
            "projections": "2024-34",
        }
    )
    assert lines == [
        "OEWS vintage: May 2024",
        "PROJECTIONS vintage: 2024-34",
        "OEWS special requests (national): May 2012, 2016",
        "OEWS special requests (state): May 2012",
    ]
