"""OEWS flat files → tidy tables: small files, no network, no warehouse."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import SAMPLE_ESTIMATES, six_column_occupations

from core.errors import ValidationError
from core.staging import StagedLoad
from extractors.oews import FILES
from transforms import oews_catalog
from transforms.flatfile import FlatSchema, columns_of, header_of, read_flat_file
from transforms.oews import series_id as series_id_of  # the name the README documents
from transforms.oews import stage_oews
from transforms.oews_lookups import (
    DATATYPES,
    OewsLookups,
    TopCode,
    Vintage,
    parse_areas,
    parse_datatypes,
    parse_footnotes,
    parse_industries,
    parse_lookups,
    parse_occupations,
    parse_release,
    parse_top_code,
)
from transforms.oews_staging import StagedEstimates, stage_estimates

TOP_CODE_2023 = "This wage is equal to or greater than $115.00 per hour or $239,200 per year."
TOP_CODE_2020 = "This wage is equal to or greater than $100.00 per hour or $208,000 per year."
DATA_HEADER = "series_id".ljust(30) + "\tyear\tperiod\t" + "value".rjust(12) + "\tfootnote_codes"
MEASURES = [measure for _, measure, _ in DATATYPES.values()]


# --- helpers ----------------------------------------------------------------------------------


def series_id(
    occ: str = "292072",
    datatype: str = "13",
    *,
    areatype: str = "N",
    area: str = "0000000",
    industry: str = "000000",
) -> str:
    return f"OEU{areatype}{area}{industry}{occ}{datatype}"


def data_line(
    sid: str, value: str, footnotes: str = "", *, year: str = "2024", period: str = "A01"
) -> str:
    """One line of oe.data.0.Current, padded exactly as BLS pads it."""
    return f"{sid.ljust(30)}\t{year}\t{period}\t{value.rjust(12)}\t{footnotes}"


def write_lines(path: Path, lines: Sequence[str], newline: str = "\n") -> Path:
    path.write_bytes("".join(line + newline for line in lines).encode("utf-8"))
    return path


def write_data(path: Path, lines: Sequence[str], *, header: str = DATA_HEADER) -> Path:
    return write_lines(path, [header, *lines])


def staged_rows(path: Path) -> dict[str, dict[str, object]]:
    """The staged parquet file as {series_id: row}."""
    con = duckdb.connect()
    try:
        result = con.execute("SELECT * FROM read_parquet(?)", [str(path)])
        names = [d[0] for d in result.description]
        rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    finally:
        con.close()
    return {
        series_id_of(
            str(r["areatype_code"]),
            str(r["area_code"]),
            str(r["industry_code"]),
            str(r["soc_code"]),
            str(r["measure"]),
        ): r
        for r in rows
    }


def mirror_files(oe_dir: Path) -> dict[str, Path]:
    return {name: oe_dir / name for name in FILES}


def to_line_ends(src: Path, dest: Path, newline: str) -> Path:
    text = src.read_bytes().decode("utf-8").replace("\r\n", "\n")
    dest.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return dest


@pytest.fixture
def lookups(oe_dir: Path) -> OewsLookups:
    return parse_lookups(mirror_files(oe_dir))


Stage = Callable[..., tuple[StagedEstimates, dict[str, dict[str, object]]]]


@pytest.fixture
def stage(tmp_path: Path, lookups: OewsLookups) -> Stage:
    """Write a tiny data file, stage it, return the result and its rows by series id."""

    def run(
        lines: Sequence[str],
        *,
        header: str = DATA_HEADER,
        with_lookups: OewsLookups | None = None,
    ) -> tuple[StagedEstimates, dict[str, dict[str, object]]]:
        data = write_data(tmp_path / "oe.data.0.Current", lines, header=header)
        out = tmp_path / "oews_estimates.parquet"
        result = stage_estimates(data, with_lookups or lookups, out, release_id="2025-04-02.1")
        assert result.path == out
        return result, staged_rows(out)

    return run


Failing = Callable[..., ValidationError]


@pytest.fixture
def failing(tmp_path: Path, lookups: OewsLookups) -> Failing:
    """Stage a data file that must fail; check the error and that nothing stays staged."""

    def run(
        lines: Sequence[str], check: str, *fragments: str, header: str = DATA_HEADER
    ) -> ValidationError:
        data = write_data(tmp_path / "oe.data.0.Current", lines, header=header)
        out = tmp_path / "oews_estimates.parquet"
        with pytest.raises(ValidationError) as info:
            stage_estimates(data, lookups, out, release_id="r1")
        err = info.value
        message = str(err)
        assert err.file == "oe.data.0.Current"
        assert message.startswith("oe.data.0.Current: ")
        assert err.check == check
        assert f"check '{check}' failed" in message
        for fragment in fragments:
            assert fragment in message, f"{fragment!r} not in:\n{message}"
        assert not out.exists(), "a failed check must not leave a staged file behind"
        return err

    return run


# --- real lookup files (../shared/bls-reference/samples/oe) -----------------------------------


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


def test_parse_datatypes_real_file(shared_samples: Path) -> None:
    measures = parse_datatypes(shared_samples / "oe" / "oe.datatype")
    assert len(measures) == 17
    assert measures["01"] == "employment"
    assert measures["03"] == "hourly_mean"
    assert measures["04"] == "annual_mean"
    assert measures["08"] == "hourly_median"
    assert measures["13"] == "annual_median"
    assert measures["16"] == "jobs_per_1000"
    assert measures["17"] == "location_quotient"
    assert sorted(measures.values()) == sorted(MEASURES)


@pytest.mark.parametrize("name", ["oe.area", "oe.industry", "oe.occupation", "oe.datatype"])
def test_crlf_and_lf_give_the_same_tables(shared_samples: Path, tmp_path: Path, name: str) -> None:
    src = shared_samples / "oe" / name
    assert b"\r\n" in src.read_bytes()  # the real files are CRLF
    crlf = to_line_ends(src, tmp_path / f"crlf-{name}", "\r\n")
    lf = to_line_ends(src, tmp_path / f"lf-{name}", "\n")
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


# --- flat-file reading ------------------------------------------------------------------------


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_padded_headers_and_cells_are_stripped(tmp_path: Path, newline: str) -> None:
    path = write_lines(
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


def test_data_file_padded_header(tmp_path: Path) -> None:
    path = write_data(tmp_path / "oe.data.0.Current", [])
    raw_header = path.read_bytes().splitlines()[0]
    assert raw_header.startswith(b"series_id                     \t")
    assert b"\t       value\t" in raw_header
    columns = ("series_id", "year", "period", "value", "footnote_codes")
    found = columns_of(path, "oe.data.0.Current", FlatSchema(columns))
    assert found.header == list(columns)
    assert found.positions == {name: i for i, name in enumerate(columns)}


def test_lookup_cells_keep_quotes_and_leading_zeros(tmp_path: Path) -> None:
    path = write_lines(
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


def test_lookup_with_renamed_column_fails(tmp_path: Path) -> None:
    path = write_lines(
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


def test_lookup_header_only_fails(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "oe.industry",
        ["industry_code\tindustry_name\tdisplay_level\tselectable\tsort_sequence"],
    )
    with pytest.raises(ValidationError, match="check 'not empty' failed"):
        parse_industries(path)


# --- oe.area details --------------------------------------------------------------------------

AREA_HEADER = "state_code\tarea_code\tareatype_code\tarea_name"


def test_parse_areas_dedups_metros_listed_once_per_state(tmp_path: Path) -> None:
    path = write_lines(
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


def test_parse_areas_conflicting_duplicate_fails(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "oe.area",
        [AREA_HEADER, "25\t0049340\tM\tWorcester, MA-CT", "09\t0049340\tM\tWorcester, CT"],
    )
    with pytest.raises(ValidationError) as info:
        parse_areas(path)
    assert info.value.check == "one name per area_code"
    assert "0049340" in str(info.value)


@pytest.mark.parametrize("bad_row", ["06\t600000\tS\tCalifornia", "06\t0600000\tX\tCalifornia"])
def test_parse_areas_bad_codes_fail(tmp_path: Path, bad_row: str) -> None:
    path = write_lines(tmp_path / "oe.area", [AREA_HEADER, "00\t0000000\tN\tNational", bad_row])
    with pytest.raises(ValidationError) as info:
        parse_areas(path)
    assert info.value.check == "codes"
    assert "California" in str(info.value)


def test_parse_occupations_bad_level_fails(tmp_path: Path) -> None:
    path = write_lines(
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


def test_parse_occupations_duplicate_code_fails(tmp_path: Path) -> None:
    path = write_lines(
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


@pytest.mark.parametrize(
    ("year", "soc_version"), [(2018, "2010"), (2019, "2018-hybrid"), (2020, "2018-hybrid")]
)
def test_soc_version_by_reference_year(year: int, soc_version: str) -> None:
    assert Vintage(year, f"May {year}").soc_version == soc_version
    assert Vintage(2024, "May 2024").soc_version == "2018"
    assert oews_catalog.soc_version(year) == soc_version
    assert oews_catalog.soc_version(2021) == "2018"


# --- oe.datatype, oe.release, oe.footnote -----------------------------------------------------


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
def test_parse_release_rejects_anything_but_one_annual_row(tmp_path: Path, rows: list[str]) -> None:
    path = write_lines(tmp_path / "oe.release", ["release_date\tdescription", *rows], "\r\n")
    with pytest.raises(ValidationError) as info:
        parse_release(path)
    assert info.value.check == "one annual release"
    assert rows[0].replace("\t", " | ") in str(info.value)


def test_parse_footnotes(oe_dir: Path) -> None:
    footnotes = parse_footnotes(oe_dir / "oe.footnote")
    assert list(footnotes["footnote_code"]) == ["1", "2", "3", "4", "5", "8"]
    text = footnotes.set_index("footnote_code")["footnote_text"]
    assert text["5"] == TOP_CODE_2023
    assert text["8"] == "Estimate not released."


def test_parse_footnotes_duplicate_code_fails(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "oe.footnote",
        ["footnote_code\tfootnote_text", f"5\t{TOP_CODE_2023}", f"5\t{TOP_CODE_2020}"],
    )
    with pytest.raises(ValidationError) as info:
        parse_footnotes(path)
    assert info.value.check == "unique footnote_code"


def footnote_frame(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["footnote_code", "footnote_text"])


@pytest.mark.parametrize(
    ("text", "hourly", "annual"),
    [(TOP_CODE_2023, 115.0, 239200.0), (TOP_CODE_2020, 100.0, 208000.0)],
)
def test_parse_top_code_reads_threshold_from_text(text: str, hourly: float, annual: float) -> None:
    top = parse_top_code(footnote_frame(("2", "Annual wages..."), ("5", text)))
    assert top == TopCode(hourly=hourly, annual=annual, text=text)


def test_parse_top_code_from_the_mirror(oe_dir: Path) -> None:
    top = parse_top_code(parse_footnotes(oe_dir / "oe.footnote"))
    assert top is not None
    assert (top.hourly, top.annual) == (115.0, 239200.0)


def test_parse_top_code_absent_is_none() -> None:
    assert parse_top_code(footnote_frame(("8", "Estimate not released."))) is None


@pytest.mark.parametrize(
    "text",
    [
        "This wage is equal to or greater than $115 per hour or $239,200 per year.",
        "This wage is equal to or greater than 115.00 dollars per hour.",
        "Top-coded.",
    ],
)
def test_parse_top_code_malformed_fails(text: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse_top_code(footnote_frame(("5", text)))
    assert info.value.file == "oe.footnote"
    assert info.value.check == "top-code threshold"
    assert repr(text) in str(info.value)


# --- stage_estimates on tiny hand-written data files ------------------------------------------


def test_status_mapping_and_exact_values(stage: Stage) -> None:
    lines = {
        "hourly_median": data_line(series_id("292072", "08"), "24.16"),
        "annual_median": data_line(series_id("292072", "13"), "50250"),
        "jobs_per_1000": data_line(series_id("292072", "16"), "1.234"),
        "employment": data_line(series_id("292072", "01"), "183470"),
        "top_hourly": data_line(series_id("291210", "10"), "-", "5"),
        "top_annual": data_line(series_id("291210", "15"), "-", "5"),
        "not_released": data_line(series_id("291210", "01"), "-", "8"),
        "suppressed": data_line(series_id("291210", "02"), "-"),
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


def test_series_id_is_split_into_codes(stage: Stage) -> None:
    sids = [
        series_id("292072", "13"),
        series_id("292072", "04", areatype="S", area="0600000"),
        series_id("292072", "03", areatype="M", area="0071650"),
        series_id("111011", "01", industry="000001"),
        series_id("111011", "01", industry="62--63"),
    ]
    _, rows = stage([data_line(sid, "1") for sid in sids])
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


def test_every_datatype_gets_its_measure_name(stage: Stage) -> None:
    lines = [data_line(series_id("292072", code), "1.5") for code in DATATYPES]
    _, rows = stage(lines)
    got = {sid[-2:]: row["measure"] for sid, row in rows.items()}
    assert got == {code: measure for code, (_, measure, _) in DATATYPES.items()}


def test_threshold_comes_from_that_years_footnote(
    oe_dir: Path, tmp_path: Path, stage: Stage
) -> None:
    (oe_dir / "oe.release").write_bytes(b"release_date\tdescription\r\n2020A01\tMay 2020\r\n")
    footnote = (oe_dir / "oe.footnote").read_bytes()
    assert TOP_CODE_2023.encode() in footnote
    (oe_dir / "oe.footnote").write_bytes(
        footnote.replace(TOP_CODE_2023.encode(), TOP_CODE_2020.encode())
    )
    lookups_2020 = parse_lookups(mirror_files(oe_dir))
    assert lookups_2020.top_code is not None
    assert (lookups_2020.top_code.hourly, lookups_2020.top_code.annual) == (100.0, 208000.0)
    hourly, annual = series_id("291210", "08"), series_id("291210", "13")
    result, rows = stage(
        [data_line(hourly, "-", "5", year="2020"), data_line(annual, "-", "5", year="2020")],
        with_lookups=lookups_2020,
    )
    assert result.reference_year == 2020
    assert rows[hourly]["top_code_threshold"] == Decimal("100.00")
    assert rows[annual]["top_code_threshold"] == Decimal("208000")
    assert rows[annual]["reference_period"] == "May 2020"


def test_top_coded_value_without_footnote_5_in_lookups_fails(
    oe_dir: Path, tmp_path: Path, lookups: OewsLookups
) -> None:
    no_top = dataclasses.replace(lookups, top_code=None)
    data = write_data(tmp_path / "oe.data.0.Current", [data_line(series_id(), "-", "5")])
    out = tmp_path / "out.parquet"
    with pytest.raises(ValidationError) as info:
        stage_estimates(data, no_top, out, release_id="r1")
    assert info.value.check == "top-code threshold"
    assert not out.exists()


def test_crlf_data_file(stage: Stage, tmp_path: Path, lookups: OewsLookups) -> None:
    lines = [data_line(series_id("292072", "08"), "24.16"), data_line(series_id(), "-", "5")]
    data = write_lines(tmp_path / "crlf-oe.data.0.Current", [DATA_HEADER, *lines], "\r\n")
    out = tmp_path / "crlf.parquet"
    result = stage_estimates(data, lookups, out, release_id="r1")
    rows = staged_rows(out)
    assert result.status_counts == {"ok": 1, "top_coded": 1}
    assert rows[series_id("292072", "08")]["value"] == Decimal("24.16")
    assert rows[series_id()]["footnote_codes"] == "5"


# --- stage_estimates: every failed check names the file and the check, shows rows -------------


def test_renamed_column_fails(failing: Failing) -> None:
    header = DATA_HEADER.replace("footnote_codes", "footnote_code")
    failing(
        [data_line(series_id(), "50250")],
        "required columns",
        "missing ['footnote_codes']",
        "not recognised ['footnote_code']",
        "header found: ['series_id', 'year', 'period', 'value', 'footnote_code']",
        header=header,
    )


def test_missing_column_fails(failing: Failing) -> None:
    header = DATA_HEADER.replace("\tperiod", "")
    failing(
        [data_line(series_id(), "50250")],
        "required columns",
        "header found: ['series_id', 'year', 'value', 'footnote_codes']",
        "missing ['period']",
        header=header,
    )


def test_duplicate_series_ids_fail(failing: Failing) -> None:
    sid = series_id()
    failing(
        [
            data_line(sid, "50250"),
            data_line(series_id("292072", "08"), "24.16"),
            data_line(sid, "50260"),
        ],
        "no duplicate keys",
        "1 duplicate series ids",
        f"e.g. {sid} appears 2 times",
    )


def test_duplicate_with_and_without_padding_fails(failing: Failing) -> None:
    # The same id once padded to 30 characters and once at the very end of its field.
    sid = series_id()
    failing(
        [data_line(sid, "50250"), f"{sid}\t2024\tA01\t{'50250'.rjust(12)}\t"],
        "no duplicate keys",
        f"e.g. {sid} appears 2 times",
    )


def test_same_measure_twice_in_a_cell_fails_even_with_the_cell_complete(failing: Failing) -> None:
    # 17 rows in the cell, as many as a full one, but datatype 13 twice and 12 never.
    lines = [data_line(series_id(datatype=code), "1") for code in DATATYPES if code != "12"]
    failing(
        [*lines, data_line(series_id(datatype="13"), "2")],
        "no duplicate keys",
        "1 duplicate series ids",
    )


def test_staged_file_has_the_lake_schema(stage: Stage, tmp_path: Path) -> None:
    from warehouse.lake import TABLES

    result, _ = stage([data_line(series_id(), "50250"), data_line(series_id("292072", "08"), "-")])
    con = duckdb.connect()
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(result.path)])
        columns = {name: kind for name, kind, *_ in described.fetchall()}
    finally:
        con.close()
    assert columns == TABLES["oews_estimates"]  # plain strings: no ENUM leaks into the file


@pytest.mark.parametrize(
    ("sid", "check", "shown"),
    [
        (series_id("299999"), "every soc_code resolves in oe.occupation", "29-9999"),
        (
            series_id(areatype="S", area="3600000"),
            "every area_code resolves in oe.area",
            "3600000",
        ),
        (series_id(industry="611000"), "every industry_code resolves in oe.industry", "611000"),
    ],
    ids=["occupation", "area", "industry"],
)
def test_code_missing_from_lookup_fails(failing: Failing, sid: str, check: str, shown: str) -> None:
    err = failing(
        [data_line(series_id(), "50250"), data_line(sid, "123")],
        check,
        f"1 codes are not in {check.rsplit(' ', 1)[1]}: {shown}",
        f"e.g. {sid}",
    )
    assert len(err.examples) == 1


def test_area_type_not_matching_oe_area_fails(failing: Failing) -> None:
    sid = series_id(areatype="M", area="0600000")
    failing([data_line(sid, "1")], "area type matches oe.area", f"e.g. {sid}")


def test_unknown_datatype_fails(failing: Failing) -> None:
    sid = series_id("292072", "18")
    failing(
        [data_line(series_id(), "50250"), data_line(sid, "7")],
        "all datatypes known",
        "1 rows have a datatype code outside 01-17",
        f"e.g. {sid}",
    )


@pytest.mark.parametrize("value", ["12,5x", "1,234", "n/a", "#", "**"])
def test_value_that_is_not_a_number_fails(failing: Failing, value: str) -> None:
    sid = series_id("292072", "08")
    failing(
        [data_line(series_id(), "50250"), data_line(sid, value)],
        "values are numbers or '-'",
        "1 values are neither a number nor '-'",
        f"e.g. {sid} | 2024 | A01 | {value}",
    )


def test_line_without_value_column_fails(failing: Failing) -> None:
    sid = series_id("292072", "08")
    failing(
        [data_line(series_id(), "50250"), f"{sid.ljust(30)}\t2024\tA01"],
        "values are numbers or '-'",
        f"e.g. {sid} | 2024 | A01",
    )


@pytest.mark.parametrize(("year", "period"), [("2023", "A01"), ("2024", "M05")])
def test_year_or_period_not_matching_release_fails(
    failing: Failing, year: str, period: str
) -> None:
    sid = series_id("292072", "08")
    failing(
        [data_line(series_id(), "50250"), data_line(sid, "24.16", year=year, period=period)],
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
def test_malformed_series_id_fails(failing: Failing, sid: str) -> None:
    failing(
        [data_line(series_id(), "50250"), data_line(sid, "1")],
        "25-character OEU series ids",
        "1 rows have a malformed series_id",
        f"e.g. {sid}",
    )


def test_letter_in_the_soc_part_of_an_id_fails_the_lookup(failing: Failing) -> None:
    sid = "OEUN0000000000000292O7213"  # letter O in the SOC code
    failing(
        [data_line(series_id(), "50250"), data_line(sid, "1")],
        "every soc_code resolves in oe.occupation",
        "1 codes are not in oe.occupation: 29-2O72",
        f"e.g. {sid}",
    )


def test_header_only_data_file_fails(failing: Failing) -> None:
    failing([], "not empty", "no rows")


def test_unreadable_data_file_fails(tmp_path: Path, lookups: OewsLookups) -> None:
    data = tmp_path / "oe.data.0.Current"
    data.write_bytes(DATA_HEADER.encode() + b"\n" + series_id().encode() + b"\t2024\tA01\t\xff\n")
    out = tmp_path / "out.parquet"
    with pytest.raises(ValidationError) as info:
        stage_estimates(data, lookups, out, release_id="r1")
    assert info.value.check == "readable tab-delimited file"
    assert not out.exists()


def test_failed_check_removes_a_previous_staged_file(
    tmp_path: Path, lookups: OewsLookups, stage: Stage
) -> None:
    result, _ = stage([data_line(series_id(), "50250")])
    assert result.path.exists()
    data = write_data(tmp_path / "oe.data.0.Current", [data_line(series_id(), "bad")])
    with pytest.raises(ValidationError):
        stage_estimates(data, lookups, result.path, release_id="r2")
    assert not result.path.exists()


def test_data_file_label_in_raw_store(tmp_path: Path, lookups: OewsLookups) -> None:
    # In the raw store a file is named by its sha256; messages still say which BLS file it is.
    data = write_data(tmp_path / ("ab" * 32), [data_line(series_id("299999"), "1")])
    with pytest.raises(ValidationError) as info:
        stage_estimates(data, lookups, tmp_path / "out.parquet", release_id="r1")
    assert info.value.file == "oe.data.0.Current"


# --- the whole sample mirror ------------------------------------------------------------------


def test_stage_oews_on_the_sample_mirror(oe_dir: Path, tmp_path: Path) -> None:
    files = mirror_files(oe_dir)
    sources: dict[str, dict[str, object]] = {
        name: {"url": f"https://download.bls.gov/pub/time.series/oe/{name}", "status": 200}
        for name in files
    }
    staged = stage_oews(files, tmp_path / "staging", release_id="2025-04-02.1", sources=sources)

    assert isinstance(staged, StagedLoad)
    assert staged.kind == "oews"
    assert staged.vintage == "May 2024"
    # Its guarded table is its load policy's: tests/test_sources.py.
    assert staged.rows() == {
        "occupations": 37,
        "areas": 4,
        "industries": 4,
        "oews_footnotes": 6,
        "oews_estimates": SAMPLE_ESTIMATES,
    }
    for table in staged.tables:
        assert table.path.is_file()
        assert table.path.parent == tmp_path / "staging"
        assert len(pd.read_parquet(table.path)) == table.rows
    replaces = {t.table: t.replaces for t in staged.tables}
    assert replaces["oews_estimates"] == {"reference_year": 2024}
    assert replaces["occupations"] == {"soc_version": "2018"}
    assert replaces["oews_footnotes"] == {"reference_year": 2024}

    assert set(staged.sources) == set(files)
    for name, row in staged.sources.items():
        assert row["vintage"] == "May 2024"
        assert row["url"] == sources[name]["url"]
    assert "vintage" not in sources["oe.area"]  # the caller's rows are not modified

    paths = {t.table: t.path for t in staged.tables}
    occupations = pd.read_parquet(paths["occupations"]).set_index("soc_code")
    assert occupations.loc["29-2072", "title"] == "Medical Records Specialists"
    assert occupations.loc["29-2072", "level"] == "detailed"
    assert occupations.loc["00-0000", "level"] == "total"
    assert set(occupations["release_id"]) == {"2025-04-02.1"}
    industries = pd.read_parquet(paths["industries"])
    assert set(industries["industry_code"]) == {"000000", "000001", "62--63", "622000"}
    areas = pd.read_parquet(paths["areas"])
    assert set(areas["area_code"]) == {"0000000", "0600000", "2500000", "0071650"}

    estimates = staged_rows(paths["oews_estimates"])
    statuses = pd.Series([r["status"] for r in estimates.values()]).value_counts().to_dict()
    assert statuses == {"ok": 2874, "top_coded": 152, "not_released": 17}
    assert {r["measure"] for r in estimates.values()} == set(MEASURES)


def test_staged_values_equal_the_data_file_strings(oe_dir: Path, tmp_path: Path) -> None:
    staged = stage_oews(mirror_files(oe_dir), tmp_path / "staging", release_id="r1", sources={})
    (path,) = (t.path for t in staged.tables if t.table == "oews_estimates")
    rows = staged_rows(path)

    # A handful of real figures (national, all industries).
    def figure(occ: str, datatype: str) -> dict[str, object]:
        return rows[series_id(occ, datatype)]

    assert figure("292072", "13")["value"] == Decimal("50250")  # 29-2072 annual median
    assert figure("292072", "08")["value"] == Decimal("24.16")
    assert figure("000000", "04")["value"] == Decimal("67920")  # U.S. annual mean
    assert figure("000000", "03")["value"] == Decimal("32.66")
    assert figure("000000", "13")["value"] == Decimal("49500")
    assert figure("151232", "13")["value"] == Decimal("60340")
    assert figure("113021", "13")["value"] == Decimal("171200")
    physicians = figure("291210", "13")
    assert (physicians["value"], physicians["status"]) == (None, "top_coded")
    assert physicians["top_code_threshold"] == Decimal("239200")
    assert figure("292072", "13")["soc_code"] == "29-2072"
    assert figure("292072", "13")["measure"] == "annual_median"

    # And every cell: the staged value is exactly the string BLS wrote.
    lines = (oe_dir / "oe.data.0.Current").read_text().splitlines()[1:]
    assert len(lines) == len(rows) == SAMPLE_ESTIMATES
    for line in lines:
        sid, year, period, value, footnotes = (cell.strip() for cell in line.split("\t"))
        row = rows[sid]
        assert (year, period) == ("2024", "A01")
        if value == "-":
            assert row["value"] is None
            expected = {"5": "top_coded", "8": "not_released"}.get(footnotes, "suppressed")
            assert row["status"] == expected, line
        else:
            assert row["value"] == Decimal(value), line
            assert row["status"] == "ok"
        assert row["footnote_codes"] == (footnotes or None)


def test_sample_mirror_crlf_data_file_stages_the_same(
    oe_dir: Path, tmp_path: Path, lookups: OewsLookups
) -> None:
    lf = oe_dir / "oe.data.0.Current"
    crlf = to_line_ends(lf, tmp_path / "oe.data.0.Current", "\r\n")
    a = stage_estimates(lf, lookups, tmp_path / "lf.parquet", release_id="r1")
    b = stage_estimates(crlf, lookups, tmp_path / "crlf.parquet", release_id="r1")
    assert a.rows == b.rows == SAMPLE_ESTIMATES
    assert a.status_counts == b.status_counts
    assert staged_rows(a.path) == staged_rows(b.path)


def test_stage_oews_fails_on_bad_lookup_and_stages_no_estimates(
    oe_dir: Path, tmp_path: Path
) -> None:
    text = (oe_dir / "oe.datatype").read_bytes()
    (oe_dir / "oe.datatype").write_bytes(
        text.replace(b"Location Quotient", b"Location quotient (LQ)")
    )
    out_dir = tmp_path / "staging"
    with pytest.raises(ValidationError) as info:
        stage_oews(mirror_files(oe_dir), out_dir, release_id="r1", sources={})
    assert info.value.file == "oe.datatype"
    assert not (out_dir / "oews_estimates.parquet").exists()


def test_failure_explained_for_a_path_with_a_quote(tmp_path: Path, lookups: OewsLookups) -> None:
    folder = tmp_path / "o'brien"
    folder.mkdir()
    data = write_data(folder / "oe.data.0.Current", [data_line(series_id("299999"), "1")])
    with pytest.raises(ValidationError) as info:
        stage_estimates(data, lookups, folder / "out.parquet", release_id="r1")
    assert info.value.check == "every soc_code resolves in oe.occupation"


# --- columns by name: moved, optional and new columns ------------------------------------------


def test_occupations_in_the_2025_layout_keep_their_description(
    oe_dir: Path, tmp_path: Path
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


def test_lookup_columns_in_another_order_read_by_name(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "oe.area",
        ["area_name\tareatype_code\tarea_code\tstate_code", "National\tN\t0000000\t00"],
    )
    areas = parse_areas(path)
    assert areas.to_dict("records") == [
        {"area_code": "0000000", "area_type": "N", "state_code": "00", "name": "National"}
    ]


def test_new_lookup_column_is_drift_not_a_failure(tmp_path: Path) -> None:
    path = write_lines(
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


def test_required_lookup_column_missing_fails_with_the_header(tmp_path: Path) -> None:
    path = write_lines(
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


def test_data_file_columns_in_another_order_and_a_new_one(
    stage: Stage, tmp_path: Path, lookups: OewsLookups
) -> None:
    sid = series_id("292072", "13")
    header = "footnote_codes\tseries_id\tvalue\tperiod\tyear\tloaded_at"
    lines = [f"5\t{series_id('291210', '13')}\t-\tA01\t2024\tx", f"\t{sid}\t50250\tA01\t2024\tx"]
    result, rows = stage(lines, header=header)
    assert result.unknown_columns == ("loaded_at",)
    assert rows[sid]["value"] == Decimal("50250")
    assert rows[sid]["status"] == "ok"
    assert rows[series_id("291210", "13")]["status"] == "top_coded"
    assert rows[series_id("291210", "13")]["footnote_codes"] == "5"


def test_schema_drift_reaches_the_staged_load(oe_dir: Path, tmp_path: Path) -> None:
    area = oe_dir / "oe.area"
    lines = area.read_bytes().decode("utf-8").splitlines()
    area.write_bytes(
        "\r\n".join([lines[0] + "\tarea_fips", *(line + "\tx" for line in lines[1:])]).encode()
        + b"\r\n"
    )
    staged = stage_oews(mirror_files(oe_dir), tmp_path / "staging", release_id="r1", sources={})
    assert staged.schema_drift == {"oe.area": ["area_fips"]}
    assert staged.rows()["areas"] == 4


# --- the OEWS catalogue ---------------------------------------------------------------------


def test_catalogue_holds_bls_datatype_names_and_our_measure_names() -> None:
    """BLS's oe.datatype names and DESIGN.md's measure names, written out."""
    assert {code: d.name for code, d in oews_catalog.BY_CODE.items()} == {
        "01": "Employment",
        "02": "Employment percent relative standard error",
        "03": "Hourly mean wage",
        "04": "Annual mean wage",
        "05": "Wage percent relative standard error",
        "06": "Hourly 10th percentile wage",
        "07": "Hourly 25th percentile wage",
        "08": "Hourly median wage",
        "09": "Hourly 75th percentile wage",
        "10": "Hourly 90th percentile wage",
        "11": "Annual 10th percentile wage",
        "12": "Annual 25th percentile wage",
        "13": "Annual median wage",
        "14": "Annual 75th percentile wage",
        "15": "Annual 90th percentile wage",
        "16": "Employment per 1,000 jobs",
        "17": "Location Quotient",
    }
    assert list(oews_catalog.BY_MEASURE) == [
        "employment",
        "employment_prse",
        "hourly_mean",
        "annual_mean",
        "mean_prse",
        "hourly_p10",
        "hourly_p25",
        "hourly_median",
        "hourly_p75",
        "hourly_p90",
        "annual_p10",
        "annual_p25",
        "annual_median",
        "annual_p75",
        "annual_p90",
        "jobs_per_1000",
        "location_quotient",
    ]
    assert list(oews_catalog.BY_CODE) == [f"{n:02d}" for n in range(1, 18)]
    assert {d.measure: d.code for d in oews_catalog.DATATYPES} == {
        d.measure: code for code, d in oews_catalog.BY_CODE.items()
    }


def test_catalogue_units_and_phrases() -> None:
    units = {m: d.unit for m, d in oews_catalog.BY_MEASURE.items()}
    assert units == {
        "employment": "persons",
        "employment_prse": "percent",
        "mean_prse": "percent",
        "jobs_per_1000": "per_1000_jobs",
        "location_quotient": "ratio",
        **{m: "usd_per_hour" for m in units if m.startswith("hourly_")},
        **{m: "usd_per_year" for m in units if m.startswith("annual_")},
    }
    assert set(units.values()) == set(oews_catalog.UNITS)
    phrases = {m: d.phrase for m, d in oews_catalog.BY_MEASURE.items()}
    assert phrases["annual_median"] == "median annual wage"
    assert phrases["hourly_p90"] == "90th percentile hourly wage"
    assert phrases["jobs_per_1000"] == "jobs per 1,000 jobs"


def test_the_time_series_reads_the_catalogue() -> None:
    """transforms.oews_lookups.DATATYPES is the catalogue's view, and series ids take its codes."""
    view = {code: (d.name, d.measure, d.unit) for code, d in oews_catalog.BY_CODE.items()}
    assert view == DATATYPES
    assert series_id_of("N", "0000000", "000000", "29-2072", "annual_median") == (
        "OEUN000000000000029207213"
    )
    assert series_id_of("S", "0600000", "000000", "29-2072", "location_quotient").endswith("17")
    assert series_id_of("N", "0000000", "000000", "29-2072", "nonsense").endswith("??")


@pytest.mark.parametrize(
    ("text", "lenient", "exact"),
    [
        (TOP_CODE_2023, ("115.00", "239200"), ("115.00", "239200")),
        (TOP_CODE_2020, ("100.00", "208000"), ("100.00", "208000")),
        (
            "# = indicates a wage greater than $90.00 per hour or $187,200 per year",
            ("90.00", "187200"),
            ("90.00", "187200"),
        ),
        ("equal to or greater than $115 per hour or $239,200 per year.", ("115", "239200"), None),
        ("= a wage of $ 115.00  Per Hour or $239,200 per year", ("115.00", "239200"), None),
        ("$115.00 per hour or $239,200.00 per year", ("115.00", "239200.00"), None),
        (
            "$115 per hour or $1 per year; $115.00 per hour or $239,200 per year",
            ("115", "1"),
            ("115.00", "239200"),
        ),
        ("This wage is equal to or greater than 115.00 dollars per hour.", None, None),
        ("Top-coded.", None, None),
    ],
)
def test_top_code_text_is_the_catalogues(
    text: str, lenient: tuple[str, str] | None, exact: tuple[str, str] | None
) -> None:
    """One pattern: the special-request legend reads it leniently, footnote 5 exactly."""

    def cap(found: oews_catalog.TopCodeText | None) -> tuple[str, str] | None:
        return None if found is None else (str(found.cap[0]), str(found.cap[1]))

    assert cap(oews_catalog.top_code_in(text)) == lenient
    assert cap(oews_catalog.top_code_in(text, exact=True)) == exact
    if exact is None:  # footnote 5 must be written as BLS writes it
        with pytest.raises(ValidationError):
            parse_top_code(footnote_frame(("5", text)))
    else:
        top = parse_top_code(footnote_frame(("5", text)))
        assert top is not None
        assert (top.hourly, top.annual) == (float(exact[0]), float(exact[1]))
