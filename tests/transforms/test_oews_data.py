"""oe.data.0.Current as both passes read it: its columns by name, and how messages name it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from core.errors import ValidationError
from transforms.oews_data import (
    AS_NUMBER,
    IS_DASH,
    IS_NOT_RELEASED,
    IS_TOP_CODED,
    RawData,
    data_label,
)
from transforms.oews_lookups import OewsLookups
from transforms.oews_staging import stage_estimates

if TYPE_CHECKING:
    from tests.transforms.conftest import Failing, OeFiles, Stage


def test_renamed_column_fails(failing: Failing, oe_files: OeFiles) -> None:
    header = oe_files.DATA_HEADER.replace("footnote_codes", "footnote_code")
    failing(
        [oe_files.data_line(oe_files.series_id(), "50250")],
        "required columns",
        "missing ['footnote_codes']",
        "not recognised ['footnote_code']",
        "header found: ['series_id', 'year', 'period', 'value', 'footnote_code']",
        header=header,
    )


def test_missing_column_fails(failing: Failing, oe_files: OeFiles) -> None:
    header = oe_files.DATA_HEADER.replace("\tperiod", "")
    failing(
        [oe_files.data_line(oe_files.series_id(), "50250")],
        "required columns",
        "header found: ['series_id', 'year', 'value', 'footnote_codes']",
        "missing ['period']",
        header=header,
    )


def test_data_file_columns_in_another_order_and_a_new_one(
    stage: Stage, tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles
) -> None:
    sid = oe_files.series_id("292072", "13")
    header = "footnote_codes\tseries_id\tvalue\tperiod\tyear\tloaded_at"
    lines = [
        f"5\t{oe_files.series_id('291210', '13')}\t-\tA01\t2024\tx",
        f"\t{sid}\t50250\tA01\t2024\tx",
    ]
    result, rows = stage(lines, header=header)
    assert result.unknown_columns == ("loaded_at",)
    assert rows[sid]["value"] == Decimal("50250")
    assert rows[sid]["status"] == "ok"
    assert rows[oe_files.series_id("291210", "13")]["status"] == "top_coded"
    assert rows[oe_files.series_id("291210", "13")]["footnote_codes"] == "5"


def test_data_file_label_in_raw_store(
    tmp_path: Path, lookups: OewsLookups, oe_files: OeFiles
) -> None:
    # In the raw store a file is named by its sha256; messages still say which BLS file it is.
    data = oe_files.write_data(
        tmp_path / ("ab" * 32), [oe_files.data_line(oe_files.series_id("299999"), "1")]
    )
    with pytest.raises(ValidationError) as info:
        stage_estimates(data, lookups, tmp_path / "out.parquet", release_id="r1")
    assert info.value.file == "oe.data.0.Current"


# --- RawData and the '-' rules, as both passes use them ----------------------------------------


def test_a_data_file_in_the_raw_store_is_named_as_bls_names_it(tmp_path: Path) -> None:
    assert data_label(tmp_path / "oe.data.0.Current") == "oe.data.0.Current"
    assert data_label(tmp_path / "oe.data.1.AllData") == "oe.data.1.AllData"
    assert data_label(tmp_path / ("ab" * 32)) == "oe.data.0.Current"


def test_raw_data_names_its_columns_by_header_and_reads_every_cell_as_written(
    tmp_path: Path, oe_files: OeFiles
) -> None:
    sid = oe_files.series_id("291210", "13")
    folder = tmp_path / "o'brien"  # a quote in the path: the literal form quotes it
    folder.mkdir()
    path = oe_files.write_lines(
        folder / "oe.data.0.Current",
        [
            "value\tloaded_at\tseries_id\tyear\tperiod\tfootnote_codes",
            f"{'-'.rjust(12)}\t2025-04-02\t{sid.ljust(30)}\t2024\tA01\t5",
        ],
    )
    raw = RawData.of(path, "oe.data.0.Current")
    assert raw.names == ("value", "extra_1", "series_id", "year", "period", "footnote_codes")
    assert raw.unknown == ("loaded_at",)

    by_parameter = duckdb.execute(f"SELECT * FROM {raw.read()}", {"data": str(path)}).fetchall()
    literal = duckdb.sql(f"SELECT * FROM {raw.read(literal=True)}").fetchall()
    assert (
        by_parameter
        == literal
        == [("           -", "2025-04-02", sid.ljust(30), "2024", "A01", "5")]
    )


@pytest.mark.parametrize(
    ("value", "footnotes", "status"),
    [
        ("           -", "5", "top_coded"),
        ("           -", "1,5", "top_coded"),
        ("           -", "15", "suppressed"),  # footnote 15 is not footnote 5
        ("           -", "8", "not_released"),
        ("           -", "58", "suppressed"),
        ("           -", None, "suppressed"),
        ("       50250", "5", "a number"),
    ],
)
def test_a_dash_is_classified_by_its_whole_footnote_codes(
    value: str, footnotes: str | None, status: str
) -> None:
    found = duckdb.execute(
        f"SELECT CASE WHEN NOT {IS_DASH} THEN 'a number' WHEN {IS_TOP_CODED} THEN 'top_coded' "
        f"WHEN {IS_NOT_RELEASED} THEN 'not_released' ELSE 'suppressed' END "
        "FROM (SELECT $value AS value, $footnotes AS footnote_codes)",
        {"value": value, "footnotes": footnotes},
    ).fetchone()
    assert found == (status,)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("       50250", Decimal("50250")),
        ("        0.2", Decimal("0.2")),
        ("      1.234", Decimal("1.234")),
        ("    24.16  ", Decimal("24.16")),
        ("- ", None),  # DuckDB's cast: 0
        ("1_000", None),  # 1000
        ("1e3", None),  # 1000
        ("1.2345", None),  # 1.235
        ("+5", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_a_number_is_only_what_bls_writes_as_one(value: str | None, number: Decimal | None) -> None:
    found = duckdb.execute(
        f"SELECT {AS_NUMBER} FROM (SELECT $value AS value)", {"value": value}
    ).fetchone()
    assert found == (number,)
