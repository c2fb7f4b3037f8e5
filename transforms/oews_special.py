"""OEWS special-request workbooks (``oesm{YY}{nat,st,ma,in4,all}.zip`` or the xlsx inside).

These are the only source of earlier May reference years. Column names and case changed over
the years (``GROUP`` → ``OCC_GROUP`` → ``O_GROUP``; lower case in 2019–2020; ``H_WPCT10`` in
the oldest files), so headers are normalised before use. Markers become null with a status:
``*`` and ``**`` → ``suppressed`` (wage / employment not available), ``#`` → ``top_coded``
with the cap printed in the workbook's Field Descriptions (or BLS's documented cap for that
year), ``~`` (under 0.5 % of establishments) applies to PCT_RPT, which is not loaded.
"""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from bls_refresh.errors import ValidationError
from bls_refresh.staging import StagedLoad, stage_frame, stamp

MAX_MEMBER_BYTES = 512 * 1024 * 1024  # a zip bomb stops here, not in memory

# normalised column → measure
MEASURE_COLUMNS = {
    "tot_emp": "employment",
    "emp_prse": "employment_prse",
    "h_mean": "hourly_mean",
    "a_mean": "annual_mean",
    "mean_prse": "mean_prse",
    "h_pct10": "hourly_p10",
    "h_pct25": "hourly_p25",
    "h_median": "hourly_median",
    "h_pct75": "hourly_p75",
    "h_pct90": "hourly_p90",
    "a_pct10": "annual_p10",
    "a_pct25": "annual_p25",
    "a_median": "annual_median",
    "a_pct75": "annual_p75",
    "a_pct90": "annual_p90",
    "jobs_1000": "jobs_per_1000",
    "loc_quotient": "location_quotient",
}
_RENAMES = {
    "group": "o_group",
    "occ_group": "o_group",
    "occ_titl": "occ_title",
    "area_name": "area_title",
    "loc_q": "loc_quotient",
}
# Documented caps where a workbook does not print its own (FORMATS.md §3.4).
KNOWN_TOP_CODES = {
    **{y: (115.00, 239_200.0) for y in range(2023, 2026)},
    **{y: (100.00, 208_000.0) for y in range(2018, 2023)},
    **{y: (90.00, 187_200.0) for y in range(2012, 2017)},
}
_TOP_TEXT = re.compile(r"\$([\d,]+\.\d{2}) per hour or \$([\d,]+) per year")
_YEAR_TEXT = re.compile(r"May (\d{4})|M(\d{4})_dl|May(\d{4})", re.IGNORECASE)
_LEVELS = {"total": "total", "major": "major", "minor": "minor", "broad": "broad"}


@dataclasses.dataclass(frozen=True)
class SpecialRequest:
    reference_year: int
    member: str
    estimates: pd.DataFrame
    occupations: pd.DataFrame
    areas: pd.DataFrame
    industries: pd.DataFrame


def _normalise_column(name: object) -> str:
    text = str(name).strip().lower()
    text = re.sub(r"_wpct", "_pct", text)
    return _RENAMES.get(text, text)


def _workbooks(path: Path, label: str) -> list[tuple[str, CalamineWorkbook]]:
    """The workbook itself, or every xlsx inside a zip (names checked, sizes bounded)."""
    if not zipfile.is_zipfile(path):
        raise ValidationError(label, "zip or xlsx", "not a zip/xlsx file")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if "xl/workbook.xml" in names:
            return [(path.name, CalamineWorkbook.from_path(str(path)))]
        books = []
        for info in archive.infolist():
            name = info.filename
            if name.startswith(("/", "\\")) or ".." in Path(name).parts or ":" in name:
                raise ValidationError(label, "safe zip member names", f"refusing member {name!r}")
            if not name.lower().endswith(".xlsx") or Path(name).name.startswith("~$"):
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                raise ValidationError(
                    label,
                    "member size limit",
                    f"{name} unpacks to {info.file_size:,} bytes (limit {MAX_MEMBER_BYTES:,})",
                )
            with archive.open(info) as fh:
                data = fh.read(MAX_MEMBER_BYTES + 1)
            if len(data) > MAX_MEMBER_BYTES:
                raise ValidationError(label, "member size limit", f"{name} is larger than declared")
            books.append((name, CalamineWorkbook.from_filelike(io.BytesIO(data))))
    if not books:
        raise ValidationError(label, "workbooks in zip", f"no .xlsx member; got {names[:5]}")
    return books


def _data_sheet(book: CalamineWorkbook) -> tuple[str, list[list[object]]] | None:
    for sheet in book.sheet_names:
        rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        if rows and "occ_code" in {_normalise_column(c) for c in rows[0]}:
            return sheet, rows
    return None


def _year(member: str, book: CalamineWorkbook, sheet: str, label: str) -> int:
    texts = [sheet, *book.sheet_names, Path(member).name]
    for extra in book.sheet_names:
        if "field" in extra.lower() and "desc" in extra.lower():
            rows = book.get_sheet_by_name(extra).to_python(nrows=40)
            texts += [str(c) for r in rows for c in r if c]
    years = {int(next(g for g in m.groups() if g)) for t in texts for m in _YEAR_TEXT.finditer(t)}
    if len(years) != 1:
        raise ValidationError(
            label,
            "one May reference year",
            f"{member}: expected one 'May YYYY' in the sheet names or Field Descriptions, "
            f"found {sorted(years) or 'none'}",
        )
    return years.pop()


def _top_code(book: CalamineWorkbook, year: int) -> tuple[float, float] | None:
    for sheet in book.sheet_names:
        if "field" in sheet.lower():
            rows = book.get_sheet_by_name(sheet).to_python(nrows=80)
            for cell in (str(c) for r in rows for c in r if c):
                if "#" in cell and (m := _TOP_TEXT.search(cell)):
                    return float(m.group(1).replace(",", "")), float(m.group(2).replace(",", ""))
    return KNOWN_TOP_CODES.get(year)


def _as_code(value: object) -> str:
    """A code cell as text: Excel may store 1235 or 99 as the number 1235.0 or 99.0."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _area_code(area: str, area_type: str) -> tuple[str, str]:
    """Special-request AREA codes → time-series area codes and N/S/M types."""
    area = area.strip()
    if area_type == "1" or area == "99":
        return "0000000", "N"
    if area_type in ("2", "3"):
        return area.zfill(2) + "00000", "S"
    return area.zfill(7), "M"


def _industry_code(naics: str, i_group: str, own_code: str) -> str:
    naics = naics.strip()
    if naics == "000000" and own_code == "5":
        return "000001"
    sector = re.fullmatch(r"(\d{2})(?:-(\d{2}))?(?:0000)?", naics)
    if i_group == "sector" and sector:
        last = int(sector.group(2) or sector.group(1))
        return f"{sector.group(1)}--{last + 1:02d}"
    return naics


def _ownership(own_code: str) -> str:
    return {"": "all", "1235": "all", "5": "private"}.get(own_code, f"own_code {own_code}")


def _cell(value: object) -> tuple[Decimal | None, str, str | None]:
    """(value, status, marker) of one cell."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None, "suppressed", None
    text = str(value).strip()
    if text in ("", "*", "**"):
        return None, "suppressed", text or None
    if text == "#":
        return None, "top_coded", "#"
    if text == "~":
        return None, "suppressed", "~"
    try:
        return Decimal(text.replace(",", "")), "ok", None
    except InvalidOperation:
        raise ValueError(text) from None


def parse_special(path: Path, label: str | None = None) -> SpecialRequest:
    label = label or path.name
    found = [(m, b, _data_sheet(b)) for m, b in _workbooks(path, label)]
    found = [(m, b, s) for m, b, s in found if s is not None]
    if not found:
        raise ValidationError(label, "OEWS data sheet", "no sheet with an OCC_CODE header")
    frames = []
    years: set[int] = set()
    top: tuple[float, float] | None = None
    for member, book, (sheet, rows) in found:
        year = _year(member, book, sheet, label)
        years.add(year)
        top = top or _top_code(book, year)
        columns = [_normalise_column(c) for c in rows[0]]
        frame = pd.DataFrame(rows[1:], columns=columns).assign(_member=member)
        frames.append(frame)
    if len(years) != 1:
        raise ValidationError(label, "one May reference year", f"members span {sorted(years)}")
    year = years.pop()
    raw = pd.concat(frames, ignore_index=True)
    required = {"occ_code", "occ_title"}
    if not required <= set(raw.columns) or not (set(MEASURE_COLUMNS) & set(raw.columns)):
        raise ValidationError(
            label,
            "expected columns",
            f"need OCC_CODE, OCC_TITLE and wage/employment columns; got {list(raw.columns)}",
        )
    text = raw[[c for c in raw.columns if c not in MEASURE_COLUMNS]].map(_as_code)
    for column, default in (
        ("area", "99"),
        ("area_type", "1"),
        ("naics", "000000"),
        ("own_code", "1235"),
        ("i_group", "cross-industry"),
        ("area_title", "U.S."),
        ("naics_title", "Cross-industry"),
        ("o_group", ""),
    ):
        if column not in text.columns:
            text[column] = default
    text = text[text["occ_code"].str.strip().str.fullmatch(r"\d{2}-\d{4}")]
    codes = [
        _area_code(a, t)
        for a, t in zip(
            text["area"].astype(str), text["area_type"].astype(str).str.strip(), strict=True
        )
    ]
    keys = pd.DataFrame(
        {
            "reference_year": year,
            "reference_period": f"May {year}",
            "areatype_code": [t for _, t in codes],
            "area_code": [c for c, _ in codes],
            "industry_code": [
                _industry_code(n, g.strip().lower(), o.strip())
                for n, g, o in zip(
                    text["naics"].astype(str),
                    text["i_group"].astype(str),
                    text["own_code"].astype(str),
                    strict=True,
                )
            ],
            "ownership": [_ownership(o.strip()) for o in text["own_code"].astype(str)],
            "soc_code": text["occ_code"].str.strip().to_numpy(),
        },
        index=text.index,
    )
    records = []
    bad: list[str] = []
    for column, measure in MEASURE_COLUMNS.items():
        if column not in raw.columns:
            continue
        unit_cap = None
        if top and measure.startswith("hourly"):
            unit_cap = top[0]
        elif top and measure.startswith("annual"):
            unit_cap = top[1]
        for idx, value in raw.loc[text.index, column].items():
            try:
                number, status, marker = _cell(value)
            except ValueError as exc:
                bad.append(f"{keys.at[idx, 'soc_code']} {column.upper()}={exc}")
                continue
            if status == "top_coded" and unit_cap is None:
                bad.append(
                    f"{keys.at[idx, 'soc_code']} {column.upper()}=# but no cap known for May {year}"
                )
            records.append(
                (idx, measure, number, status, unit_cap if status == "top_coded" else None, marker)
            )
    if bad:
        raise ValidationError(
            label, "values are numbers or BLS markers (*, **, #, ~)", f"{len(bad)} cells", bad
        )
    values = pd.DataFrame.from_records(
        records,
        columns=["_idx", "measure", "value", "status", "top_code_threshold", "footnote_codes"],
    )
    estimates = (
        keys.loc[values["_idx"]]
        .reset_index(drop=True)
        .assign(
            measure=values["measure"],
            value=values["value"].map(lambda d: None if d is None else str(d)),  # exact digits
            status=values["status"],
            top_code_threshold=values["top_code_threshold"],
            footnote_codes=values["footnote_codes"],
            series_id=None,
        )
    )
    dupes = estimates.duplicated(
        ["area_code", "industry_code", "ownership", "soc_code", "measure"], keep=False
    )
    if dupes.any():
        sample = estimates[dupes].head(5)
        raise ValidationError(
            label,
            "no duplicate keys",
            f"{int(dupes.sum())} rows repeat a key",
            [" | ".join(map(str, r)) for r in sample.itertuples(index=False)],
        )
    soc_version = "2018" if year >= 2021 else ("2018-hybrid" if year >= 2019 else "2010")
    occ = text.drop_duplicates("occ_code")
    occupations = pd.DataFrame(
        {
            "soc_code": occ["occ_code"].str.strip(),
            "soc_version": soc_version,
            "title": occ["occ_title"].str.strip(),
            "level": [
                "total" if c.strip() == "00-0000" else _LEVELS.get(g.strip().lower(), "detailed")
                for c, g in zip(occ["occ_code"], occ["o_group"], strict=True)
            ],
            "sort_sequence": range(len(occ)),
        }
    )
    area_rows = pd.DataFrame(
        {
            "area_code": keys["area_code"],
            "area_type": keys["areatype_code"],
            "name": text["area_title"].str.strip(),
            "state_code": [
                c[:2] if t == "S" else None
                for c, t in zip(keys["area_code"], keys["areatype_code"], strict=True)
            ],
        }
    ).drop_duplicates("area_code")
    ind = pd.DataFrame(
        {
            "industry_code": keys["industry_code"],
            "name": text["naics_title"].str.strip(),
            "level": 0,
            "sort_sequence": 0,
        }
    ).drop_duplicates("industry_code")
    return SpecialRequest(
        year,
        ", ".join(sorted(set(raw["_member"]))),
        estimates,
        occupations,
        area_rows[["area_code", "area_type", "state_code", "name"]],
        ind,
    )


def stage_special(
    path: Path,
    out_dir: Path,
    *,
    release_id: str,
    sources: dict[str, dict[str, object]],
    label: str | None = None,
) -> StagedLoad:
    parsed = parse_special(path, label)
    year = parsed.reference_year
    tables = [
        stage_frame(frame, name, out_dir, release_id, replaces, upsert=upsert)
        for name, frame, replaces, upsert in (
            ("oews_estimates", parsed.estimates, {"reference_year": year}, False),
            ("occupations", parsed.occupations, {}, True),
            ("areas", parsed.areas, {}, True),
            ("industries", parsed.industries, {}, True),
        )
    ]
    vintage = f"May {year}"
    return StagedLoad(
        kind=f"oews_special_{year}",
        vintage=vintage,
        tables=tables,
        sources=stamp(sources, vintage),
        guarded_table="oews_estimates",
        yields_to="oews",
    )
