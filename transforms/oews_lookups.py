"""The OEWS time-series lookup files → validated tables (pandas; a few hundred rows each).

``oe.release`` (the May reference year), ``oe.footnote`` (and the top code its footnote 5
prints), ``oe.datatype`` (checked against the catalogue, :mod:`transforms.oews_catalog`),
``oe.occupation``, ``oe.area`` and ``oe.industry``, each read by column name
(:data:`SCHEMAS`). The data file is staged by :mod:`transforms.oews_staging`, which decodes
every series id against these tables.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd

from core.errors import ValidationError
from transforms import oews_catalog
from transforms.flatfile import FlatSchema, read_flat_file, require_unique

DATA_FILE = "oe.data.0.Current"  # the estimates; every other file here is a lookup
DATA_COLUMNS = ("series_id", "year", "period", "value", "footnote_codes")
# Every OEWS time-series file the load reads: the columns it needs, the ones it keeps when
# present, and the ones it knows and skips. Columns are found by name wherever they stand
# (the May 2025 oe.occupation put occupation_description third); any other column is
# schema drift: reported in the release, not loaded, and no reason to stop. The data file is
# listed too: its columns are read by the same rules, and detect recognises every file here.
SCHEMAS: dict[str, FlatSchema] = {
    DATA_FILE: FlatSchema(DATA_COLUMNS),
    "oe.release": FlatSchema(("release_date", "description")),
    "oe.footnote": FlatSchema(("footnote_code", "footnote_text")),
    "oe.datatype": FlatSchema(("datatype_code", "datatype_name")),
    "oe.area": FlatSchema(("state_code", "area_code", "areatype_code", "area_name")),
    "oe.industry": FlatSchema(
        ("industry_code", "industry_name", "display_level", "sort_sequence"),
        ignored=("selectable",),
    ),
    "oe.occupation": FlatSchema(
        ("occupation_code", "occupation_name", "display_level", "sort_sequence"),
        optional=("occupation_description",),
        ignored=("selectable",),
    ),
}
# oe.footnote codes a '-' value carries: top-coded (its text prints the cap), not released.
FOOTNOTE_TOP_CODED = "5"
FOOTNOTE_NOT_RELEASED = "8"
# code → (BLS's datatype name, measure, unit): a view of the catalogue (transforms.oews_catalog),
# the shape tests/test_docs.py reads.
DATATYPES: dict[str, tuple[str, str, str]] = {
    code: (d.name, d.measure, d.unit) for code, d in oews_catalog.BY_CODE.items()
}

_RELEASE = re.compile(r"^(\d{4})A01$")


@dataclasses.dataclass(frozen=True)
class Vintage:
    reference_year: int
    label: str  # "May 2024", as oe.release writes it

    @property
    def soc_version(self) -> str:
        return oews_catalog.soc_version(self.reference_year)


@dataclasses.dataclass(frozen=True)
class TopCode:
    hourly: float
    annual: float
    text: str


@dataclasses.dataclass(frozen=True)
class OewsLookups:
    vintage: Vintage
    top_code: TopCode | None
    footnotes: pd.DataFrame
    occupations: pd.DataFrame
    areas: pd.DataFrame
    industries: pd.DataFrame
    # file → header cells no known column claims (schema drift; loaded without them)
    schema_drift: dict[str, list[str]] = dataclasses.field(default_factory=dict)


def _read(path: Path, name: str, drift: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """One lookup file by its schema; new columns go into ``drift`` (file → cells)."""
    read = read_flat_file(path, name, SCHEMAS[name])
    if read.unknown and drift is not None:
        drift[name] = read.unknown
    return read.frame


def parse_release(path: Path, drift: dict[str, list[str]] | None = None) -> Vintage:
    frame = _read(path, "oe.release", drift)
    years = {m.group(1) for m in map(_RELEASE.match, frame["release_date"]) if m}
    if len(frame) != 1 or len(years) != 1:
        rows = [" | ".join(r) for r in frame.itertuples(index=False)]
        raise ValidationError(
            "oe.release", "one annual release", "expected one row like '2024A01  May 2024'", rows
        )
    return Vintage(int(years.pop()), frame["description"].iloc[0])


def parse_footnotes(path: Path, drift: dict[str, list[str]] | None = None) -> pd.DataFrame:
    frame = _read(path, "oe.footnote", drift)
    require_unique(frame, "footnote_code", "oe.footnote")
    return frame


def parse_top_code(footnotes: pd.DataFrame) -> TopCode | None:
    """The top-code threshold of this release, read from footnote 5's own text (written
    exactly as BLS writes it: :attr:`transforms.oews_catalog.TopCodeText.exact`)."""
    rows = footnotes.loc[footnotes["footnote_code"] == FOOTNOTE_TOP_CODED, "footnote_text"]
    if rows.empty:
        return None
    text = rows.iloc[0]
    found = oews_catalog.top_code_in(text, exact=True)
    if not found:
        raise ValidationError(
            "oe.footnote",
            "top-code threshold",
            "footnote 5 should read like 'equal to or greater than $115.00 per hour or "
            f"$239,200 per year', got {text!r}",
        )
    hourly, annual = (float(dollars) for dollars in found.cap)
    return TopCode(hourly=hourly, annual=annual, text=text)


def parse_datatypes(path: Path, drift: dict[str, list[str]] | None = None) -> dict[str, str]:
    """datatype_code → measure; every one of the 17 known datatypes, named as expected."""
    frame = _read(path, "oe.datatype", drift)
    got = dict(zip(frame["datatype_code"], frame["datatype_name"], strict=True))
    problems = [
        f"{code}: expected {d.name!r}, got {got.get(code)!r}"
        for code, d in oews_catalog.BY_CODE.items()
        if (got.get(code) or "").lower() != d.name.lower()
    ]
    problems += [
        f"{code}: {name!r} is not a known datatype"
        for code, name in got.items()
        if code not in oews_catalog.BY_CODE
    ]
    if problems:
        raise ValidationError(
            "oe.datatype", "all 17 datatypes known", "datatype list changed", problems
        )
    return {code: d.measure for code, d in oews_catalog.BY_CODE.items()}


def display_soc(code: str) -> str:
    """BLS flat files write SOC codes as 6 digits; people read them as 29-2072."""
    return f"{code[:2]}-{code[2:]}"


_OCC_LEVELS = {"1": "minor", "2": "broad", "3": "detailed"}


def parse_occupations(
    path: Path, vintage: Vintage, drift: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    frame = _read(path, "oe.occupation", drift)
    require_unique(frame, "occupation_code", "oe.occupation")
    bad = frame[
        ~frame["occupation_code"].str.fullmatch(r"\d{6}")
        | ~frame["display_level"].isin(["0", "1", "2", "3"])
    ]
    if not bad.empty:
        raise ValidationError(
            "oe.occupation",
            "codes and levels",
            "occupation codes are 6 digits and display_level 0-3",
            [" | ".join(r) for r in bad.head(5).itertuples(index=False)],
        )
    level = frame["display_level"].map(_OCC_LEVELS)
    level = level.where(frame["display_level"] != "0", "major")
    level = level.where(frame["occupation_code"] != "000000", "total")
    return pd.DataFrame(
        {
            "soc_code": frame["occupation_code"].map(display_soc),
            "soc_version": vintage.soc_version,
            "title": frame["occupation_name"],
            "level": level,
            "sort_sequence": frame["sort_sequence"].astype("int64"),
            # Only in the newer layout; an empty cell is no description.
            "description": (
                frame["occupation_description"].replace("", None)
                if "occupation_description" in frame.columns
                else None
            ),
        }
    )


def parse_areas(path: Path, drift: dict[str, list[str]] | None = None) -> pd.DataFrame:
    frame = _read(path, "oe.area", drift)
    bad = frame[
        ~frame["area_code"].str.fullmatch(r"\d{7}") | ~frame["areatype_code"].isin(["N", "S", "M"])
    ]
    if not bad.empty:
        raise ValidationError(
            "oe.area",
            "codes",
            "area codes are 7 digits and area types N, S or M",
            [" | ".join(r) for r in bad.head(5).itertuples(index=False)],
        )
    # A metro that crosses state lines is listed once per state: one area, one row.
    conflicts = frame.groupby("area_code")[["areatype_code", "area_name"]].nunique()
    conflicts = conflicts[(conflicts > 1).any(axis=1)]
    if not conflicts.empty:
        raise ValidationError(
            "oe.area",
            "one name per area_code",
            "area listed with different names or types",
            list(conflicts.index[:5]),
        )
    first = frame.drop_duplicates("area_code", keep="first")
    return pd.DataFrame(
        {
            "area_code": first["area_code"],
            "area_type": first["areatype_code"],
            "state_code": first["state_code"],
            "name": first["area_name"],
        }
    ).reset_index(drop=True)


def parse_industries(path: Path, drift: dict[str, list[str]] | None = None) -> pd.DataFrame:
    frame = _read(path, "oe.industry", drift)
    require_unique(frame, "industry_code", "oe.industry")
    return pd.DataFrame(
        {
            "industry_code": frame["industry_code"],
            "name": frame["industry_name"],
            "level": frame["display_level"].astype("int64"),
            "sort_sequence": frame["sort_sequence"].astype("int64"),
        }
    )


def parse_lookups(files: dict[str, Path]) -> OewsLookups:
    drift: dict[str, list[str]] = {}
    vintage = parse_release(files["oe.release"], drift)
    footnotes = parse_footnotes(files["oe.footnote"], drift)
    parse_datatypes(files["oe.datatype"], drift)
    return OewsLookups(
        vintage=vintage,
        top_code=parse_top_code(footnotes),
        footnotes=footnotes,
        occupations=parse_occupations(files["oe.occupation"], vintage, drift),
        areas=parse_areas(files["oe.area"], drift),
        industries=parse_industries(files["oe.industry"], drift),
        schema_drift=drift,
    )
