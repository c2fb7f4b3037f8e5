"""Why a data file failed: every rule the diagnostic pass checks names the file and the check
and shows the offending lines as BLS wrote them (nothing stays staged)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from core.errors import ValidationError
from transforms.oews_data import RawData
from transforms.oews_diagnose import diagnose
from transforms.oews_lookups import DATATYPES, OewsLookups
from transforms.oews_staging import stage_estimates

if TYPE_CHECKING:
    from tests.transforms.conftest import Failing, OeFiles


def test_duplicate_series_ids_fail(failing: Failing, oe_files: OeFiles) -> None:
    sid = oe_files.series_id()
    failing(
        [
            oe_files.data_line(sid, "50250"),
            oe_files.data_line(oe_files.series_id("292072", "08"), "24.16"),
            oe_files.data_line(sid, "50260"),
        ],
        "no duplicate keys",
        "1 duplicate series ids",
        f"e.g. {sid} appears 2 times",
    )


def test_duplicate_with_and_without_padding_fails(failing: Failing, oe_files: OeFiles) -> None:
    # The same id once padded to 30 characters and once at the very end of its field.
    sid = oe_files.series_id()
    failing(
        [oe_files.data_line(sid, "50250"), f"{sid}\t2024\tA01\t{'50250'.rjust(12)}\t"],
        "no duplicate keys",
        f"e.g. {sid} appears 2 times",
    )


def test_same_measure_twice_in_a_cell_fails_even_with_the_cell_complete(
    failing: Failing, oe_files: OeFiles
) -> None:
    # 17 rows in the cell, as many as a full one, but datatype 13 twice and 12 never.
    lines = [
        oe_files.data_line(oe_files.series_id(datatype=code), "1")
        for code in DATATYPES
        if code != "12"
    ]
    failing(
        [*lines, oe_files.data_line(oe_files.series_id(datatype="13"), "2")],
        "no duplicate keys",
        "1 duplicate series ids",
    )


@pytest.mark.parametrize(
    ("sid", "check", "shown"),
    [
        ("OEUN000000000000029999913", "every soc_code resolves in oe.occupation", "29-9999"),
        (
            "OEUS360000000000029207213",
            "every area_code resolves in oe.area",
            "3600000",
        ),
        ("OEUN000000061100029207213", "every industry_code resolves in oe.industry", "611000"),
    ],
    ids=["occupation", "area", "industry"],
)
def test_code_missing_from_lookup_fails(
    failing: Failing, sid: str, check: str, shown: str, oe_files: OeFiles
) -> None:
    err = failing(
        [oe_files.data_line(oe_files.series_id(), "50250"), oe_files.data_line(sid, "123")],
        check,
        f"1 codes are not in {check.rsplit(' ', 1)[1]}: {shown}",
        f"e.g. {sid}",
    )
    assert len(err.examples) == 1


def test_area_type_not_matching_oe_area_fails(failing: Failing, oe_files: OeFiles) -> None:
    sid = oe_files.series_id(areatype="M", area="0600000")
    failing([oe_files.data_line(sid, "1")], "area type matches oe.area", f"e.g. {sid}")


def test_unknown_datatype_fails(failing: Failing, oe_files: OeFiles) -> None:
    sid = oe_files.series_id("292072", "18")
    failing(
        [oe_files.data_line(oe_files.series_id(), "50250"), oe_files.data_line(sid, "7")],
        "all datatypes known",
        "1 rows have a datatype code outside 01-17",
        f"e.g. {sid}",
    )


# DuckDB's own cast would take the last six (as 1000, 1000, 1.235, 5, -5 and 5): each is
# refused and named instead.
@pytest.mark.parametrize(
    "value", ["12,5x", "1,234", "n/a", "#", "**", "1_000", "1e3", "1.2345", "+5", "-5", "5-"]
)
def test_value_that_is_not_a_number_fails(failing: Failing, value: str, oe_files: OeFiles) -> None:
    sid = oe_files.series_id("292072", "08")
    failing(
        [oe_files.data_line(oe_files.series_id(), "50250"), oe_files.data_line(sid, value)],
        "values are numbers or '-'",
        "1 values are neither a number nor '-'",
        f"e.g. {sid} | 2024 | A01 | {value}",
    )


def test_line_without_value_column_fails(failing: Failing, oe_files: OeFiles) -> None:
    sid = oe_files.series_id("292072", "08")
    failing(
        [oe_files.data_line(oe_files.series_id(), "50250"), f"{sid.ljust(30)}\t2024\tA01"],
        "values are numbers or '-'",
        f"e.g. {sid} | 2024 | A01",
    )


@pytest.mark.parametrize(("year", "period"), [("2023", "A01"), ("2024", "M05")])
def test_year_or_period_not_matching_release_fails(
    failing: Failing, year: str, period: str, oe_files: OeFiles
) -> None:
    sid = oe_files.series_id("292072", "08")
    failing(
        [
            oe_files.data_line(oe_files.series_id(), "50250"),
            oe_files.data_line(sid, "24.16", year=year, period=period),
        ],
        "year and period match oe.release",
        "1 rows are not year 2024, period A01",
        f"e.g. {sid} | {year} | {period} | 24.16",
    )


@pytest.mark.parametrize(
    "sid",
    [
        "OEUN00000000000002920721",  # 24 characters
        "OEUN0000000000000292072130",  # 26 characters
        "OEUX000000000000029207213",  # unknown area type
        "CUUN000000000000029207213",  # another survey
    ],
)
def test_malformed_series_id_fails(failing: Failing, sid: str, oe_files: OeFiles) -> None:
    failing(
        [oe_files.data_line(oe_files.series_id(), "50250"), oe_files.data_line(sid, "1")],
        "25-character OEU series ids",
        "1 rows have a malformed series_id",
        f"e.g. {sid}",
    )


def test_letter_in_the_soc_part_of_an_id_fails_the_lookup(
    failing: Failing, oe_files: OeFiles
) -> None:
    sid = "OEUN0000000000000292O7213"  # letter O in the SOC code
    failing(
        [oe_files.data_line(oe_files.series_id(), "50250"), oe_files.data_line(sid, "1")],
        "every soc_code resolves in oe.occupation",
        "1 codes are not in oe.occupation: 29-2O72",
        f"e.g. {sid}",
    )


def test_failure_explained_for_a_path_with_a_quote(
    tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles
) -> None:
    folder = tmp_path / "o'brien"
    folder.mkdir()
    data = oe_files.write_data(
        folder / "oe.data.0.Current", [oe_files.data_line(oe_files.series_id("299999"), "1")]
    )
    with pytest.raises(ValidationError) as info:
        stage_estimates(data, lookups, folder / "out.parquet", release_id="r1")
    assert info.value.check == "every soc_code resolves in oe.occupation"


# --- the diagnostic pass on its own --------------------------------------------------------------


def test_a_file_that_breaks_no_rule_passes_the_diagnostic_pass(
    tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles
) -> None:
    data = oe_files.write_data(
        tmp_path / "oe.data.0.Current",
        [
            oe_files.data_line(oe_files.series_id(), "50250"),
            oe_files.data_line(oe_files.series_id("291210", "13"), "-", "5"),
        ],
    )
    con = duckdb.connect()
    try:
        diagnose(con, RawData.of(data, "oe.data.0.Current"), "oe.data.0.Current", lookups)
        staged = con.execute("SELECT soc_code, measure, status FROM staged ORDER BY 1").fetchall()
    finally:
        con.close()
    assert staged == [
        ("29-1210", "annual_median", "top_coded"),
        ("29-2072", "annual_median", "ok"),
    ]


def test_the_first_rule_broken_is_named_with_the_lines_as_bls_wrote_them(
    tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles
) -> None:
    wrong_year = oe_files.data_line(oe_files.series_id("292072", "08"), "24.16", year="2023")
    data = oe_files.write_data(
        tmp_path / "oe.data.0.Current",
        [
            oe_files.data_line(oe_files.series_id("292072", "18"), "1"),  # datatype 18: later rule
            wrong_year,
        ],
    )
    con = duckdb.connect()
    try:
        with pytest.raises(ValidationError) as failed:
            diagnose(con, RawData.of(data, "raw label"), "raw label", lookups)
    finally:
        con.close()
    assert (failed.value.file, failed.value.check) == (
        "raw label",
        "year and period match oe.release",
    )
    assert failed.value.detail == "1 rows are not year 2024, period A01"
    assert failed.value.examples == [" | ".join(cell.strip() for cell in wrong_year.split("\t"))]
