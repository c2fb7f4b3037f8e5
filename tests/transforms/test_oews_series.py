"""OEWS series ids rebuilt from the stored columns, and oe.series' header."""

from __future__ import annotations

from pathlib import Path

from transforms.oews_catalog import BY_CODE
from transforms.oews_series import SERIES_HEADER, series_id


def test_every_series_id_of_oe_series_is_rebuilt_from_its_columns(
    sample_mirror: Path, oe_path: str
) -> None:
    """The sample mirror's oe.series lists each series with its codes: the id rebuilt from
    them (SOC code as stored, measure as named) is the id BLS gives it."""
    header, *rows = (sample_mirror / oe_path / "oe.series").read_text().splitlines()
    assert header == SERIES_HEADER
    columns = [c.strip() for c in header.split("\t")]
    checked = 0
    for line in rows:
        row = dict(zip(columns, (cell.strip() for cell in line.split("\t")), strict=True))
        occupation = row["occupation_code"]
        rebuilt = series_id(
            row["areatype_code"],
            row["area_code"],
            row["industry_code"],
            f"{occupation[:2]}-{occupation[2:]}",
            BY_CODE[row["datatype_code"]].measure,
        )
        assert rebuilt == row["series_id"], line
        checked += 1
    assert checked == 179 * 17  # the mirror's series groups × datatypes


def test_a_measure_outside_the_catalogue_gives_an_id_that_names_no_datatype() -> None:
    assert series_id("S", "0600000", "000001", "29-2072", "hourly_p90") == (
        "OEUS060000000000129207210"
    )
    assert series_id("N", "0000000", "000000", "29-2072", "median") == "OEUN0000000000000292072??"
