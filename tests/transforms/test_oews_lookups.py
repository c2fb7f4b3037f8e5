"""The OEWS lookup files → validated tables: oe.release, oe.footnote (and its top code),
oe.datatype, oe.occupation, oe.area and oe.industry, each read by column name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from core.errors import ValidationError
from transforms.oews_lookups import (
    TopCode,
    Vintage,
    parse_areas,
    parse_datatypes,
    parse_footnotes,
    parse_industries,
    parse_occupations,
    parse_release,
    parse_top_code,
)

if TYPE_CHECKING:
    from tests.transforms.conftest import OeFiles


# --- real lookup files (../shared/bls-reference/samples/oe) -------------------------------------


def test_parse_areas_real_file(shared_samples: Path) -> None:
    path = shared_samples / "oe" / "oe.area"
    assert len(path.read_bytes().splitlines()) == 586  # header + 585 areas
    areas = parse_areas(path)
    assert list(areas.columns) == ["area_code", "area_type", "state_code", "name"]
    assert len(areas) == 585
    assert areas["area_code"].is_unique
    assert set(areas["area_type"]) == {"N", "S", "M"}
    assert (areas["area_type"] == "N").sum() == 1
    assert areas["area_code"].str.fullmatch(r"\d{7}").all()
    first = areas.iloc[0].to_dict()
    assert first == {
        "area_code": "0000000",
        "area_type": "N",
        "state_code": "00",
        "name": "National",
    }
    anniston = areas.set_index("area_code").loc["0011500"]
    assert anniston["name"] == "Anniston-Oxford-Jacksonville, AL"
    assert anniston["area_type"] == "M"
    assert anniston["state_code"] == "01"


def test_parse_industries_real_file(shared_samples: Path) -> None:
    industries = parse_industries(shared_samples / "oe" / "oe.industry")
    assert len(industries) == 450
    by_code = industries.set_index("industry_code")
    # Sector codes are not numbers: they stay exactly as BLS writes them.
    assert by_code.loc["62--63", "name"] == "Sector 62 - Health Care and Social Assistance"
    assert by_code.loc["31--34", "level"] == 2
    assert by_code.loc["99-100", "level"] == 2
    assert by_code.loc["000000", "level"] == 0
    assert by_code.loc["000001", "level"] == 1
    assert by_code.loc["113000", "level"] == 3
    assert all(isinstance(code, str) for code in industries["industry_code"])
    assert industries["industry_code"].str.len().eq(6).all()
    assert industries["level"].dtype == "int64"


def test_parse_occupations_real_file(shared_samples: Path) -> None:
    occupations = parse_occupations(
        shared_samples / "oe" / "oe.occupation", Vintage(2021, "May 2021")
    )
    assert len(occupations) == 1040
    assert occupations["soc_code"].str.fullmatch(r"\d{2}-\d{4}").all()
    assert occupations["soc_code"].is_unique
    assert set(occupations["soc_version"]) == {"2018"}
    levels = occupations.set_index("soc_code")["level"]
    assert levels["00-0000"] == "total"
    assert levels["11-0000"] == "major"
    assert levels["11-1000"] == "minor"
    assert levels["29-2010"] == "broad"
    assert levels["11-1011"] == "detailed"
    assert occupations["level"].value_counts().to_dict() == {
        "detailed": 776,
        "broad": 167,
        "minor": 74,
        "major": 22,
        "total": 1,
    }
    titles = occupations.set_index("soc_code")["title"]
    assert titles["11-1011"] == "Chief Executives"
    assert titles["00-0000"] == "All Occupations"


def test_parse_datatypes_real_file(shared_samples: Path, oe_files: OeFiles) -> None:
    measures = parse_datatypes(shared_samples / "oe" / "oe.datatype")
    assert len(measures) == 17
    assert measures["01"] == "employment"
    assert measures["03"] == "hourly_mean"
    assert measures["04"] == "annual_mean"
    assert measures["08"] == "hourly_median"
    assert measures["13"] == "annual_median"
    assert measures["16"] == "jobs_per_1000"
    assert measures["17"] == "location_quotient"
    assert sorted(measures.values()) == sorted(oe_files.MEASURES)


@pytest.mark.parametrize("name", ["oe.area", "oe.industry", "oe.occupation", "oe.datatype"])
def test_crlf_and_lf_give_the_same_tables(
    shared_samples: Path, tmp_path: Path, name: str, oe_files: OeFiles
) -> None:
    src = shared_samples / "oe" / name
    assert b"\r\n" in src.read_bytes()  # the real files are CRLF
    crlf = oe_files.to_line_ends(src, tmp_path / f"crlf-{name}", "\r\n")
    lf = oe_files.to_line_ends(src, tmp_path / f"lf-{name}", "\n")
    vintage = Vintage(2024, "May 2024")
    parsers: dict[str, Callable[[Path], object]] = {
        "oe.area": parse_areas,
        "oe.industry": parse_industries,
        "oe.occupation": lambda p: parse_occupations(p, vintage),
        "oe.datatype": parse_datatypes,
    }
    a, b = parsers[name](crlf), parsers[name](lf)
    if isinstance(a, pd.DataFrame):
        assert isinstance(b, pd.DataFrame)
        pd.testing.assert_frame_equal(a, b)
        for column in a.columns:
            if a[column].dtype != "int64":
                assert not a[column].str.contains("\r").any()
    else:
        assert a == b


# --- required columns, empty files --------------------------------------------------------------


def test_lookup_with_renamed_column_fails(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.area",
        ["state_code\tarea_code\tarea_type\tarea_name", "00\t0000000\tN\tNational"],
    )
    with pytest.raises(ValidationError) as info:
        parse_areas(path)
    assert info.value.file == "oe.area"
    assert info.value.check == "required columns"
    assert "missing ['areatype_code']" in str(info.value)
    assert "not recognised ['area_type']" in str(info.value)
    assert "header found: ['state_code', 'area_code', 'area_type', 'area_name']" in str(info.value)


def test_lookup_header_only_fails(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.industry",
        ["industry_code\tindustry_name\tdisplay_level\tselectable\tsort_sequence"],
    )
    with pytest.raises(ValidationError, match="check 'not empty' failed"):
        parse_industries(path)


# --- oe.area and oe.occupation details ----------------------------------------------------------


AREA_HEADER = "state_code\tarea_code\tareatype_code\tarea_name"


def test_parse_areas_dedups_metros_listed_once_per_state(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.area",
        [
            AREA_HEADER,
            "00\t0000000\tN\tNational",
            "25\t0049340\tM\tWorcester, MA-CT",
            "09\t0049340\tM\tWorcester, MA-CT",
            "25\t2500000\tS\tMassachusetts",
        ],
        "\r\n",
    )
    areas = parse_areas(path)
    assert list(areas["area_code"]) == ["0000000", "0049340", "2500000"]
    assert list(areas["area_type"]) == ["N", "M", "S"]
    worcester = areas.set_index("area_code").loc["0049340"]
    assert worcester["state_code"] == "25"  # the first listing wins


def test_parse_areas_conflicting_duplicate_fails(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.area",
        [AREA_HEADER, "25\t0049340\tM\tWorcester, MA-CT", "09\t0049340\tM\tWorcester, CT"],
    )
    with pytest.raises(ValidationError) as info:
        parse_areas(path)
    assert info.value.check == "one name per area_code"
    assert "0049340" in str(info.value)


@pytest.mark.parametrize("bad_row", ["06\t600000\tS\tCalifornia", "06\t0600000\tX\tCalifornia"])
def test_parse_areas_bad_codes_fail(tmp_path: Path, bad_row: str, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.area", [AREA_HEADER, "00\t0000000\tN\tNational", bad_row]
    )
    with pytest.raises(ValidationError) as info:
        parse_areas(path)
    assert info.value.check == "codes"
    assert "California" in str(info.value)


def test_parse_occupations_bad_level_fails(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.occupation",
        [
            "occupation_code\toccupation_name\tdisplay_level\tselectable\tsort_sequence",
            "000000\tAll Occupations\t0\tT\t0",
            "29-2072\tMedical Records Specialists\t3\tT\t1",
            "292073\tSomething\t7\tT\t2",
        ],
    )
    with pytest.raises(ValidationError) as info:
        parse_occupations(path, Vintage(2024, "May 2024"))
    assert info.value.check == "codes and levels"
    assert "29-2072 | Medical Records Specialists" in str(info.value)
    assert "292073 | Something | 7" in str(info.value)


def test_parse_occupations_duplicate_code_fails(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.occupation",
        [
            "occupation_code\toccupation_name\tdisplay_level\tselectable\tsort_sequence",
            "292072\tMedical Records Specialists\t3\tT\t0",
            "292072\tMedical Records Technicians\t3\tT\t1",
        ],
    )
    with pytest.raises(ValidationError) as info:
        parse_occupations(path, Vintage(2024, "May 2024"))
    assert info.value.check == "unique occupation_code"
    assert "Medical Records Technicians" in str(info.value)


# --- oe.datatype, oe.release, oe.footnote -------------------------------------------------------


def test_datatype_with_changed_name_fails(tmp_path: Path, oe_dir: Path) -> None:
    text = (oe_dir / "oe.datatype").read_bytes()
    assert b"13\tAnnual median wage\r\n" in text
    path = tmp_path / "oe.datatype"
    path.write_bytes(text.replace(b"13\tAnnual median wage", b"13\tAnnual 10th percentile wage"))
    with pytest.raises(ValidationError) as info:
        parse_datatypes(path)
    err = info.value
    assert err.file == "oe.datatype"
    assert err.check == "all 17 datatypes known"
    assert "13: expected 'Annual median wage', got 'Annual 10th percentile wage'" in str(err)


def test_datatype_missing_or_extra_code_fails(tmp_path: Path, oe_dir: Path) -> None:
    text = (oe_dir / "oe.datatype").read_bytes()
    assert b"17\tLocation Quotient\r\n" in text
    path = tmp_path / "oe.datatype"
    path.write_bytes(text.replace(b"17\tLocation Quotient\r\n", b"18\tSomething new\r\n"))
    with pytest.raises(ValidationError) as info:
        parse_datatypes(path)
    assert "17: expected 'Location Quotient', got None" in str(info.value)
    assert "18: 'Something new' is not a known datatype" in str(info.value)


def test_parse_release(oe_dir: Path) -> None:
    vintage = parse_release(oe_dir / "oe.release")
    assert vintage == Vintage(2024, "May 2024")


@pytest.mark.parametrize(
    "rows",
    [
        ["2024A01\tMay 2024", "2023A01\tMay 2023"],
        ["2024M05\tMay 2024"],
        ["May 2024\t2024A01"],
    ],
)
def test_parse_release_rejects_anything_but_one_annual_row(
    tmp_path: Path, rows: list[str], oe_files: OeFiles
) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.release", ["release_date\tdescription", *rows], "\r\n"
    )
    with pytest.raises(ValidationError) as info:
        parse_release(path)
    assert info.value.check == "one annual release"
    assert rows[0].replace("\t", " | ") in str(info.value)


def test_parse_footnotes(oe_dir: Path, oe_files: OeFiles) -> None:
    footnotes = parse_footnotes(oe_dir / "oe.footnote")
    assert list(footnotes["footnote_code"]) == ["1", "2", "3", "4", "5", "8"]
    text = footnotes.set_index("footnote_code")["footnote_text"]
    assert text["5"] == oe_files.TOP_CODE_2023
    assert text["8"] == "Estimate not released."


def test_parse_footnotes_duplicate_code_fails(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.footnote",
        [
            "footnote_code\tfootnote_text",
            f"5\t{oe_files.TOP_CODE_2023}",
            f"5\t{oe_files.TOP_CODE_2020}",
        ],
    )
    with pytest.raises(ValidationError) as info:
        parse_footnotes(path)
    assert info.value.check == "unique footnote_code"


@pytest.mark.parametrize(
    ("text", "hourly", "annual"),
    [
        (
            "This wage is equal to or greater than $115.00 per hour or $239,200 per year.",
            115.0,
            239200.0,
        ),
        (
            "This wage is equal to or greater than $100.00 per hour or $208,000 per year.",
            100.0,
            208000.0,
        ),
    ],
)
def test_parse_top_code_reads_threshold_from_text(
    text: str, hourly: float, annual: float, oe_files: OeFiles
) -> None:
    top = parse_top_code(oe_files.footnote_frame(("2", "Annual wages..."), ("5", text)))
    assert top == TopCode(hourly=hourly, annual=annual, text=text)


def test_parse_top_code_from_the_mirror(oe_dir: Path) -> None:
    top = parse_top_code(parse_footnotes(oe_dir / "oe.footnote"))
    assert top is not None
    assert (top.hourly, top.annual) == (115.0, 239200.0)


def test_parse_top_code_absent_is_none(oe_files: OeFiles) -> None:
    assert parse_top_code(oe_files.footnote_frame(("8", "Estimate not released."))) is None


@pytest.mark.parametrize(
    "text",
    [
        "This wage is equal to or greater than $115 per hour or $239,200 per year.",
        "This wage is equal to or greater than 115.00 dollars per hour.",
        "Top-coded.",
    ],
)
def test_parse_top_code_malformed_fails(text: str, oe_files: OeFiles) -> None:
    with pytest.raises(ValidationError) as info:
        parse_top_code(oe_files.footnote_frame(("5", text)))
    assert info.value.file == "oe.footnote"
    assert info.value.check == "top-code threshold"
    assert repr(text) in str(info.value)


# --- columns by name: moved, optional and new columns -------------------------------------------


def test_occupations_in_the_2025_layout_keep_their_description(
    oe_dir: Path, tmp_path: Path, six_column_occupations: Callable[[Path, Path], Path]
) -> None:
    path = six_column_occupations(oe_dir / "oe.occupation", tmp_path / "oe.occupation")
    drift: dict[str, list[str]] = {}
    occupations = parse_occupations(path, Vintage(2025, "May 2025"), drift)
    five = parse_occupations(oe_dir / "oe.occupation", Vintage(2025, "May 2025"))
    assert drift == {}  # occupation_description is known, wherever it stands
    by_code = occupations.set_index("soc_code")
    assert by_code.loc["29-2072", "title"] == "Medical Records Specialists"
    assert by_code.loc["29-2072", "description"] == (
        "Workers who do the work of Medical Records Specialists."
    )
    assert by_code.loc["29-2072", "level"] == "detailed"
    assert pd.isna(by_code.loc["00-0000", "description"])  # an empty cell is no description
    assert five["description"].isna().all()
    columns = ["soc_code", "title", "level", "sort_sequence"]
    assert occupations[columns].equals(five[columns])


def test_lookup_columns_in_another_order_read_by_name(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.area",
        ["area_name\tareatype_code\tarea_code\tstate_code", "National\tN\t0000000\t00"],
    )
    areas = parse_areas(path)
    assert areas.to_dict("records") == [
        {"area_code": "0000000", "area_type": "N", "state_code": "00", "name": "National"}
    ]


def test_new_lookup_column_is_drift_not_a_failure(tmp_path: Path, oe_files: OeFiles) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.industry",
        [
            "industry_code\tindustry_name\tnaics_version\tdisplay_level\tselectable\tsort_sequence",
            "000000\tCross-industry\t2022\t0\tT\t1",
        ],
    )
    drift: dict[str, list[str]] = {}
    industries = parse_industries(path, drift)
    assert drift == {"oe.industry": ["naics_version"]}
    assert industries.to_dict("records") == [
        {"industry_code": "000000", "name": "Cross-industry", "level": 0, "sort_sequence": 1}
    ]


def test_required_lookup_column_missing_fails_with_the_header(
    tmp_path: Path, oe_files: OeFiles
) -> None:
    path = oe_files.write_lines(
        tmp_path / "oe.occupation",
        [
            "occupation_code\toccupation_description\tdisplay_level\tselectable\tsort_sequence",
            "000000\tAll\t0\tT\t0",
        ],
    )
    with pytest.raises(ValidationError) as info:
        parse_occupations(path, Vintage(2025, "May 2025"))
    message = str(info.value)
    assert info.value.check == "required columns"
    assert "missing ['occupation_name']" in message
    assert "header found: ['occupation_code', 'occupation_description', 'display_level'" in message


def test_lookup_not_in_utf8_fails_instead_of_replacing_characters(tmp_path: Path) -> None:
    path = tmp_path / "oe.occupation"
    text = "occupation_code\toccupation_name\tdisplay_level\tselectable\tsort_sequence\r\n"
    text += "000000\tAll Occupations\t0\tT\t0\r\n291211\tAnesthesiologists – MD\t3\tT\t1\r\n"
    path.write_bytes(text.encode("cp1252"))
    with pytest.raises(ValidationError) as info:
        parse_occupations(path, Vintage(2025, "May 2025"))
    assert info.value.check == "UTF-8 text"
    assert "not UTF-8" in str(info.value)
