"""The staging pass of oe.data.0.Current: tiny hand-written data files staged and read back."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from core.errors import ValidationError
from transforms.oews_lookups import DATATYPES, OewsLookups, parse_lookups
from transforms.oews_staging import stage_estimates

if TYPE_CHECKING:
    from tests.transforms.conftest import Failing, OeFiles, Stage


# --- tiny hand-written data files ---------------------------------------------------------------


def test_status_mapping_and_exact_values(stage: Stage, oe_files: OeFiles) -> None:
    lines = {
        "hourly_median": oe_files.data_line(oe_files.series_id("292072", "08"), "24.16"),
        "annual_median": oe_files.data_line(oe_files.series_id("292072", "13"), "50250"),
        "jobs_per_1000": oe_files.data_line(oe_files.series_id("292072", "16"), "1.234"),
        "employment": oe_files.data_line(oe_files.series_id("292072", "01"), "183470"),
        "top_hourly": oe_files.data_line(oe_files.series_id("291210", "10"), "-", "5"),
        "top_annual": oe_files.data_line(oe_files.series_id("291210", "15"), "-", "5"),
        "not_released": oe_files.data_line(oe_files.series_id("291210", "01"), "-", "8"),
        "suppressed": oe_files.data_line(oe_files.series_id("291210", "02"), "-"),
    }
    result, rows = stage(list(lines.values()))
    assert result.rows == len(lines)
    assert result.reference_year == 2024
    assert result.status_counts == {
        "ok": 4,
        "top_coded": 2,
        "not_released": 1,
        "suppressed": 1,
    }

    def row(key: str) -> dict[str, object]:
        return rows[lines[key].split()[0]]

    assert row("hourly_median")["value"] == Decimal("24.16")
    assert row("annual_median")["value"] == Decimal("50250")
    assert row("jobs_per_1000")["value"] == Decimal("1.234")
    assert row("employment")["value"] == Decimal("183470")
    for key in ("hourly_median", "annual_median", "jobs_per_1000", "employment"):
        assert row(key)["status"] == "ok"
        assert row(key)["top_code_threshold"] is None
        assert row(key)["footnote_codes"] is None

    assert row("top_hourly")["status"] == "top_coded"
    assert row("top_hourly")["value"] is None
    assert row("top_hourly")["top_code_threshold"] == Decimal("115.00")
    assert row("top_hourly")["measure"] == "hourly_p90"
    assert row("top_annual")["status"] == "top_coded"
    assert row("top_annual")["value"] is None
    assert row("top_annual")["top_code_threshold"] == Decimal("239200")
    assert row("top_annual")["footnote_codes"] == "5"

    assert row("not_released")["status"] == "not_released"
    assert row("not_released")["value"] is None
    assert row("not_released")["top_code_threshold"] is None
    assert row("not_released")["footnote_codes"] == "8"

    assert row("suppressed")["status"] == "suppressed"
    assert row("suppressed")["value"] is None
    assert row("suppressed")["footnote_codes"] is None


def test_a_dash_padded_on_either_side_is_suppressed_never_zero(
    stage: Stage, oe_files: OeFiles
) -> None:
    # DuckDB's cast reads '- ' as 0: the dash is found by its trimmed text instead.
    sid = oe_files.series_id
    lines = [
        f"{sid('292072', '08').ljust(30)}\t2024\tA01\t-           \t5",
        f"{sid('292072', '13').ljust(30)}\t2024\tA01\t     -      \t",
        f"{sid('292072', '01').ljust(30)}\t2024\tA01\t     183470 \t",
    ]
    result, rows = stage(lines)
    assert result.status_counts == {"ok": 1, "top_coded": 1, "suppressed": 1}
    padded = [rows[line.split()[0]] for line in lines]
    assert [(r["value"], r["status"]) for r in padded] == [
        (None, "top_coded"),
        (None, "suppressed"),
        (Decimal("183470"), "ok"),
    ]


def test_series_id_is_split_into_codes(stage: Stage, oe_files: OeFiles) -> None:
    sids = [
        oe_files.series_id("292072", "13"),
        oe_files.series_id("292072", "04", areatype="S", area="0600000"),
        oe_files.series_id("292072", "03", areatype="M", area="0071650"),
        oe_files.series_id("111011", "01", industry="000001"),
        oe_files.series_id("111011", "01", industry="62--63"),
    ]
    _, rows = stage([oe_files.data_line(sid, "1") for sid in sids])
    national, state, metro, private, sector = (rows[sid] for sid in sids)
    assert national["soc_code"] == "29-2072"
    assert national["measure"] == "annual_median"
    assert national["areatype_code"] == "N"
    assert national["area_code"] == "0000000"
    assert national["industry_code"] == "000000"
    assert national["ownership"] == "all"
    assert (state["areatype_code"], state["area_code"], state["measure"]) == (
        "S",
        "0600000",
        "annual_mean",
    )
    assert (metro["areatype_code"], metro["area_code"], metro["measure"]) == (
        "M",
        "0071650",
        "hourly_mean",
    )
    assert private["soc_code"] == "11-1011"
    assert private["ownership"] == "private"
    assert sector["industry_code"] == "62--63"
    for row in rows.values():
        assert row["reference_year"] == 2024
        assert row["reference_period"] == "May 2024"
        assert row["release_id"] == "2025-04-02.1"


def test_every_datatype_gets_its_measure_name(stage: Stage, oe_files: OeFiles) -> None:
    lines = [oe_files.data_line(oe_files.series_id("292072", code), "1.5") for code in DATATYPES]
    _, rows = stage(lines)
    got = {sid[-2:]: row["measure"] for sid, row in rows.items()}
    assert got == {code: measure for code, (_, measure, _) in DATATYPES.items()}


def test_threshold_comes_from_that_years_footnote(
    oe_dir: Path, tmp_path: Path, stage: Stage, oe_files: OeFiles
) -> None:
    (oe_dir / "oe.release").write_bytes(b"release_date\tdescription\r\n2020A01\tMay 2020\r\n")
    footnote = (oe_dir / "oe.footnote").read_bytes()
    assert oe_files.TOP_CODE_2023.encode() in footnote
    (oe_dir / "oe.footnote").write_bytes(
        footnote.replace(oe_files.TOP_CODE_2023.encode(), oe_files.TOP_CODE_2020.encode())
    )
    lookups_2020 = parse_lookups(oe_files.mirror_files(oe_dir))
    assert lookups_2020.top_code is not None
    assert (lookups_2020.top_code.hourly, lookups_2020.top_code.annual) == (100.0, 208000.0)
    hourly, annual = oe_files.series_id("291210", "08"), oe_files.series_id("291210", "13")
    result, rows = stage(
        [
            oe_files.data_line(hourly, "-", "5", year="2020"),
            oe_files.data_line(annual, "-", "5", year="2020"),
        ],
        with_lookups=lookups_2020,
    )
    assert result.reference_year == 2020
    assert rows[hourly]["top_code_threshold"] == Decimal("100.00")
    assert rows[annual]["top_code_threshold"] == Decimal("208000")
    assert rows[annual]["reference_period"] == "May 2020"


def test_top_coded_value_without_footnote_5_in_lookups_fails(
    oe_dir: Path, tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles
) -> None:
    no_top = dataclasses.replace(lookups, top_code=None)
    data = oe_files.write_data(
        tmp_path / "oe.data.0.Current", [oe_files.data_line(oe_files.series_id(), "-", "5")]
    )
    out = tmp_path / "out.parquet"
    with pytest.raises(ValidationError) as info:
        stage_estimates(data, no_top, out, release_id="r1")
    assert info.value.check == "top-code threshold"
    assert not out.exists()


def test_crlf_data_file(
    stage: Stage, tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles
) -> None:
    lines = [
        oe_files.data_line(oe_files.series_id("292072", "08"), "24.16"),
        oe_files.data_line(oe_files.series_id(), "-", "5"),
    ]
    data = oe_files.write_lines(
        tmp_path / "crlf-oe.data.0.Current", [oe_files.DATA_HEADER, *lines], "\r\n"
    )
    out = tmp_path / "crlf.parquet"
    result = stage_estimates(data, lookups, out, release_id="r1")
    rows = oe_files.staged_rows(out)
    assert result.status_counts == {"ok": 1, "top_coded": 1}
    assert rows[oe_files.series_id("292072", "08")]["value"] == Decimal("24.16")
    assert rows[oe_files.series_id()]["footnote_codes"] == "5"


def test_staged_file_has_the_lake_schema(stage: Stage, tmp_path: Path, oe_files: OeFiles) -> None:
    from warehouse.lake import TABLES

    result, _ = stage(
        [
            oe_files.data_line(oe_files.series_id(), "50250"),
            oe_files.data_line(oe_files.series_id("292072", "08"), "-"),
        ]
    )
    con = duckdb.connect()
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(result.path)])
        columns = {name: kind for name, kind, *_ in described.fetchall()}
    finally:
        con.close()
    assert columns == TABLES["oews_estimates"]  # plain strings: no ENUM leaks into the file


# --- checks of the staging pass itself ----------------------------------------------------------


def test_header_only_data_file_fails(failing: Failing) -> None:
    failing([], "not empty", "no rows")


def test_unreadable_data_file_fails(
    tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles
) -> None:
    data = tmp_path / "oe.data.0.Current"
    data.write_bytes(
        oe_files.DATA_HEADER.encode()
        + b"\n"
        + oe_files.series_id().encode()
        + b"\t2024\tA01\t\xff\n"
    )
    out = tmp_path / "out.parquet"
    with pytest.raises(ValidationError) as info:
        stage_estimates(data, lookups, out, release_id="r1")
    assert info.value.check == "readable tab-delimited file"
    assert not out.exists()


def test_failed_check_removes_a_previous_staged_file(
    tmp_path: Path, lookups: OewsLookups, stage: Stage, oe_files: OeFiles
) -> None:
    result, _ = stage([oe_files.data_line(oe_files.series_id(), "50250")])
    assert result.path.exists()
    data = oe_files.write_data(
        tmp_path / "oe.data.0.Current", [oe_files.data_line(oe_files.series_id(), "bad")]
    )
    with pytest.raises(ValidationError):
        stage_estimates(data, lookups, result.path, release_id="r2")
    assert not result.path.exists()


# --- the sample mirror's data file --------------------------------------------------------------


def test_sample_mirror_crlf_data_file_stages_the_same(
    oe_dir: Path, tmp_path: Path, lookups: OewsLookups, sample_estimates: int, oe_files: OeFiles
) -> None:
    lf = oe_dir / "oe.data.0.Current"
    crlf = oe_files.to_line_ends(lf, tmp_path / "oe.data.0.Current", "\r\n")
    a = stage_estimates(lf, lookups, tmp_path / "lf.parquet", release_id="r1")
    b = stage_estimates(crlf, lookups, tmp_path / "crlf.parquet", release_id="r1")
    assert a.rows == b.rows == sample_estimates
    assert a.status_counts == b.status_counts
    assert oe_files.staged_rows(a.path) == oe_files.staged_rows(b.path)
