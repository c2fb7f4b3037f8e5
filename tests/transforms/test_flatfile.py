"""Reading BLS flat files: tab-delimited, space-padded, CRLF or LF, UTF-8 only, by column name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from core.errors import ValidationError
from transforms.flatfile import (
    UTF8_BOM,
    FlatSchema,
    columns_of,
    header_of,
    read_flat_file,
    require_unique,
    require_utf8,
)

if TYPE_CHECKING:
    from tests.transforms.conftest import OeFiles


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_padded_headers_and_cells_are_stripped(
    tmp_path: Path, newline: str, oe_files: OeFiles
) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.area",
        [
            "state_code  \t   area_code\tareatype_code \t area_name",
            "00 \t 0000000\t N \t   National   ",
            "25\t0071650   \tM\tBoston-Cambridge-Nashua, MA-NH ",
        ],
        newline,
    )
    assert header_of(path) == ["state_code", "area_code", "areatype_code", "area_name"]
    read = read_flat_file(
        path, "oe.area", FlatSchema(("state_code", "area_code", "areatype_code", "area_name"))
    )
    frame = read.frame
    assert read.unknown == []
    assert list(frame.columns) == ["state_code", "area_code", "areatype_code", "area_name"]
    assert frame.to_dict("records") == [
        {"state_code": "00", "area_code": "0000000", "areatype_code": "N", "area_name": "National"},
        {
            "state_code": "25",
            "area_code": "0071650",
            "areatype_code": "M",
            "area_name": "Boston-Cambridge-Nashua, MA-NH",
        },
    ]


def test_data_file_padded_header(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_data(tmp_path / "oe.data.0.Current", [])
    raw_header = path.read_bytes().splitlines()[0]
    assert raw_header.startswith(b"series_id                     \t")
    assert b"\t       value\t" in raw_header
    columns = ("series_id", "year", "period", "value", "footnote_codes")
    found = columns_of(path, "oe.data.0.Current", FlatSchema(columns))
    assert found.header == list(columns)
    assert found.positions == {name: i for i, name in enumerate(columns)}


def test_lookup_cells_keep_quotes_and_leading_zeros(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.occupation",
        [
            "occupation_code\toccupation_name\tdisplay_level\tselectable\tsort_sequence",
            "000000\tAll Occupations\t0\tT\t0",
            '291211\tAnesthesiologists "MD"\t3\tT\t1',
            "NA\tnot a code\t3\tT\t2",
        ],
    )
    frame = read_flat_file(
        path,
        "oe.occupation",
        FlatSchema(
            ("occupation_code", "occupation_name", "display_level", "selectable", "sort_sequence")
        ),
    ).frame
    assert list(frame["occupation_code"]) == ["000000", "291211", "NA"]  # "NA" is not NaN
    assert frame["occupation_name"].iloc[1] == 'Anesthesiologists "MD"'


FOOTNOTES = FlatSchema(("footnote_code", "footnote_text"))


def test_a_trailing_tab_on_every_line_shifts_nothing(tmp_path: Path) -> None:
    # pandas made the first field the row index when every line had one field too many.
    path = tmp_path / "oe.footnote"
    path.write_text(
        "footnote_code\tfootnote_text\n5\tThis wage is equal to or greater than $115.00.\t\n"
        "8\tEstimate not released.\t\n"
    )
    read = read_flat_file(path, "oe.footnote", FOOTNOTES)
    assert read.frame.to_dict("records") == [
        {"footnote_code": "5", "footnote_text": "This wage is equal to or greater than $115.00."},
        {"footnote_code": "8", "footnote_text": "Estimate not released."},
    ]


def test_a_line_with_a_field_more_than_the_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "oe.footnote"
    path.write_text("footnote_code\tfootnote_text\n5\tTop coded\n8\tNot released\tstray\n")
    with pytest.raises(ValidationError) as info:
        read_flat_file(path, "oe.footnote", FOOTNOTES)
    assert info.value.check == "lines have the header's fields"
    assert "1 lines have more fields than the header's 2" in str(info.value)
    assert info.value.examples == ["line 3: 8 | Not released | stray"]


def test_a_line_with_two_fields_more_than_the_header_is_named(tmp_path: Path) -> None:
    path = tmp_path / "oe.footnote"
    path.write_text("footnote_code\tfootnote_text\n5\tTop coded\n8\tNot\treleased\tx\n")
    with pytest.raises(ValidationError, match="line 3 has 4 fields, the header 2"):
        read_flat_file(path, "oe.footnote", FOOTNOTES)


# --- one decoding rule: UTF-8, a leading BOM allowed ------------------------------------------


def test_a_leading_utf8_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "oe.release"
    path.write_bytes(UTF8_BOM + b"release_date\tdescription\r\n2024A01\tMay 2024\r\n")
    assert header_of(path) == ["release_date", "description"]
    read = read_flat_file(path, "oe.release", FlatSchema(("release_date", "description")))
    assert read.frame.to_dict("records") == [{"release_date": "2024A01", "description": "May 2024"}]


def test_a_byte_that_is_not_utf8_is_shown_where_it_stands(tmp_path: Path) -> None:
    path = tmp_path / "oe.area"
    path.write_bytes(b"area_code\tarea_name\r\n0000000\tNational\r\n0600000\tCalif\xf6rnia\r\n")
    with pytest.raises(ValidationError) as refused:
        require_utf8(path, "oe.area")
    err = refused.value
    assert (err.file, err.check) == ("oe.area", "UTF-8 text")
    assert err.detail == (
        "byte 52 (line 3, column 14) is 0xF6, which is not UTF-8 (invalid start byte): "
        "b'0600000\\tCalif\\xf6rnia'; the file is in another encoding (BLS publishes UTF-8) and "
        "nothing from it was loaded: fetch it again or save it as UTF-8"
    )


def test_a_utf16_file_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "oe.area"
    path.write_bytes("area_code\tarea_name\r\n".encode("utf-16"))
    with pytest.raises(ValidationError, match=r"starts with a UTF-16 byte-order mark") as refused:
        header_of(path, "oe.area")
    assert refused.value.detail.startswith("byte 0 (line 1, column 1) is 0xFF")


def test_a_file_that_ends_inside_a_character_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "oe.footnote"
    path.write_bytes("footnote_code\tfootnote_text\n5\tCafé".encode()[:-1])  # é cut in half
    with pytest.raises(ValidationError, match=r"is 0xC3, which is not UTF-8 \(unexpected end"):
        require_utf8(path, "oe.footnote", check="readable tab-delimited file")


def test_a_schema_matches_a_header_holding_its_required_columns() -> None:
    schema = FlatSchema(("footnote_code", "footnote_text"), optional=("note",))
    assert schema.matches(["footnote_text", "extra", "footnote_code"])
    assert not schema.matches(["footnote_code", "note"])


def test_require_unique_shows_every_row_sharing_a_key() -> None:
    frame = pd.DataFrame(
        {"footnote_code": ["5", "8", "5"], "footnote_text": ["top coded", "not released", "x"]}
    )
    with pytest.raises(ValidationError) as refused:
        require_unique(frame, "footnote_code", "oe.footnote")
    assert refused.value.check == "unique footnote_code"
    assert refused.value.detail == "2 rows share a footnote_code"
    assert refused.value.examples == ["5 | top coded", "5 | x"]
    require_unique(frame.iloc[:2], "footnote_code", "oe.footnote")  # unique: no error
