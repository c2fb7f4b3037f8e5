"""Figures for content teams: one published number, formatted as a writer prints it.

A :class:`Selection` (what a writer asks for) is checked, then gives one :class:`Figure`: built
from the OEWS estimates or from the projections of a release bundle. Read-only and
Prefect-free; the other modules of the package are listed in ``figures/__init__.py``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.paths import DataPaths
from figures.errors import FigureError
from figures.format import format_value, json_number
from figures.measures import MEASURES, OEWS_MEASURES, OTHER_OPENINGS, PROJECTION_MEASURES
from figures.places import state_area_code
from figures.release import ReleaseReader, resolve_release
from transforms.oews_series import series_id

SOURCE = "U.S. Bureau of Labor Statistics"
EP_TABLE_URL = "https://www.bls.gov/emp/tables/occupational-projections-and-characteristics.htm"
NATIONAL = "0000000"
ALL_INDUSTRIES = "000000"

# Why a value is absent, by status, when BLS attached no footnote saying so.
STATUS_REASONS = {
    "not_released": "Estimate not released.",
    "suppressed": "Estimate not available.",
    "not_applicable": "This measure does not apply to this estimate (the cell is blank).",
    "annual_only": "BLS publishes only an annual wage for this occupation (it is not paid "
    "by the hour); ask for the annual measure.",
    "hourly_only": "BLS publishes only an hourly wage for this occupation (it is not paid "
    "year-round, full time); ask for the hourly measure.",
}


@dataclasses.dataclass(frozen=True)
class Selection:
    soc: str
    measure: str
    area: str = "national"
    industry: str = ALL_INDUSTRIES
    year: int | None = None
    cycle: str | None = None
    # OEWS ownership (all, private, state, local, …): None = the only one published for the
    # selection, or ``all`` where several are (industry files by ownership)
    ownership: str | None = None


@dataclasses.dataclass(frozen=True)
class Figure:
    """One figure with its provenance: what ``bls-refresh figure --json`` prints and
    ``figures.json`` holds for each id (README, "Figures for content teams")."""

    value: float | int | str | None  # the exact number; None when top-coded; text measures
    text: str  # as a writer prints it: $50,250, 7%, $239,200 or more
    unit: str
    soc_code: str
    occupation: str
    measure: str
    area: str
    industry: str
    reference: str  # May 2024, 2024-34, or the base or target year
    release: str
    source_url: str  # where the number can be checked on BLS's site
    source_file: str  # the BLS file it was loaded from (oe.data.0.Current, oesm15nat.zip, …)
    status: str  # ok or top_coded (any other status is a FigureError)
    top_code_threshold: float | int | None
    notes: tuple[str, ...]
    sentence: str

    def to_json(self) -> dict[str, Any]:
        """The JSON object: the fields in order, ``notes`` as a list."""
        return {**dataclasses.asdict(self), "notes": list(self.notes)}


# --- one figure ---------------------------------------------------------------------------


def closest(value: str, options: list[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(value, options, n, 0.4)


def resolve_area(reader: ReleaseReader, area: str) -> tuple[str, str]:
    """An area given as its code, BLS's name (``New York``, a metro's full name), a state's
    postal abbreviation (``CA``) or ``national``; close matches suggested on a miss."""
    rows = reader.rows(f"SELECT area_code, name FROM {reader.table('areas')}", [])
    names = {r["area_code"]: r["name"] for r in rows}
    wanted = area.strip()
    if wanted.lower() in ("national", "us", "u.s.", "usa", NATIONAL):
        return NATIONAL, names.get(NATIONAL, "National")
    if wanted in names:
        return wanted, names[wanted]
    by_postal = state_area_code(wanted) if len(wanted) == 2 else None
    if by_postal is not None and by_postal in names:
        return by_postal, names[by_postal]
    by_name = {n.lower(): c for c, n in names.items()}
    if wanted.lower() in by_name:
        code = by_name[wanted.lower()]
        return code, names[code]
    # A metro named by its first city ("Raleigh") when exactly one area's name starts so.
    starts = [c for n, c in by_name.items() if n.startswith(wanted.lower()) and len(wanted) > 2]
    if len(starts) == 1:
        return starts[0], names[starts[0]]
    guesses = [
        f"{by_name[n]} ({names[by_name[n]]})" for n in closest(wanted.lower(), list(by_name))
    ]
    guesses += [
        f"{c} ({names[c]})" for c in sorted(starts)[:5] if f"{c} ({names[c]})" not in guesses
    ]
    if not guesses:
        guesses = closest(wanted, list(names))
    raise FigureError(f"Unknown area {area!r}.", guesses)


def resolve_industry(reader: ReleaseReader, industry: str) -> tuple[str, str]:
    rows = reader.rows(f"SELECT industry_code, name FROM {reader.table('industries')}", [])
    names = {r["industry_code"]: r["name"] for r in rows}
    if industry in names:
        return industry, names[industry]
    if industry == ALL_INDUSTRIES:
        return industry, "All industries"
    raise FigureError(f"Unknown industry {industry!r}.", closest(industry, list(names)))


def resolve_ownership(
    reader: ReleaseReader,
    where: str,
    params: list[Any],
    given: str | None,
    year: int | None = None,
) -> str | None:
    """The ownership of the estimates ``where`` selects (in May ``year``, if given): ``given``
    if published, else the only one, else ``all``; FigureError listing them when the choice
    is the writer's. None when nothing is selected (the caller says why)."""
    if year is not None:
        where, params = f"{where} AND reference_year = ?", [*params, year]
    found = reader.scalar_list(
        f"SELECT DISTINCT ownership::VARCHAR FROM {reader.table('oews_estimates', year)} "
        f"WHERE {where} ORDER BY 1",
        params,
    )
    if not found:
        return None
    if given is not None:
        if given not in found:
            raise FigureError(
                f"No estimate with ownership {given!r} for this selection; published: "
                f"{', '.join(found)}.",
                found,
            )
        return given
    if len(found) == 1:
        return str(found[0])
    if "all" in found:
        return "all"
    raise FigureError(
        "This industry is published by ownership only: choose one with --ownership "
        f"({', '.join(found)}).",
        found,
    )


def _unknown_soc(reader: ReleaseReader, soc: str) -> FigureError:
    successors = (
        reader.rows(
            f"SELECT to_code, to_title FROM {reader.table('soc_crosswalk')} "
            "WHERE from_code = ? ORDER BY to_code",
            [soc],
        )
        if (reader.bundle / "soc_crosswalk.parquet").exists()
        else []
    )
    if successors:
        return FigureError(
            f"{soc} is a SOC 2010 code; figures use SOC 2018, where it became "
            + ", ".join(f"{r['to_code']} ({r['to_title']})" for r in successors)
            + ".",
            [r["to_code"] for r in successors],
        )
    codes = reader.scalar_list(
        f"SELECT soc_code FROM {reader.table('occupations')} UNION "
        f"SELECT soc_code FROM {reader.table('projections')}"
    )
    return FigureError(
        f"Unknown SOC code {soc!r} in release {reader.release_id}.", closest(soc, sorted(codes))
    )


def check_selection(sel: Selection) -> None:
    """Refuse a selection that names options its measure does not take (an ignored option
    would print a figure for something the writer did not ask for)."""
    if sel.measure not in MEASURES:
        raise FigureError(f"Unknown measure {sel.measure!r}.", closest(sel.measure, list(MEASURES)))
    if sel.year is not None and not 1000 <= sel.year <= 9999:
        raise FigureError(
            f"--year {sel.year} is not a May reference year; choose the year with --year "
            "(e.g. --year 2024)."
        )
    if sel.measure in PROJECTION_MEASURES:
        ignored = [
            option
            for option, given in (
                (f"--year {sel.year}", sel.year is not None),
                (f"--area {sel.area}", sel.area != "national"),
                (f"--industry {sel.industry}", sel.industry != ALL_INDUSTRIES),
            )
            if given
        ]
        if ignored:
            raise FigureError(
                f"{sel.measure} is an Employment Projections measure (national, all "
                f"industries, by cycle): {', '.join(ignored)} does not apply; choose the "
                "cycle with --cycle (e.g. --cycle 2024-34)."
            )
    elif sel.cycle is not None:
        raise FigureError(
            f"{sel.measure} is an OEWS measure (by May reference year): --cycle {sel.cycle} "
            "does not apply; choose the year with --year (e.g. --year 2024)."
        )


def figure(reader: ReleaseReader, sel: Selection) -> Figure:
    check_selection(sel)
    if sel.measure in PROJECTION_MEASURES:
        return _projection_figure(reader, sel)
    return _oews_figure(reader, sel)


def _oews_figure(reader: ReleaseReader, sel: Selection) -> Figure:
    unit, phrase = OEWS_MEASURES[sel.measure]
    area_code, area_name = resolve_area(reader, sel.area)
    industry_code, industry_name = resolve_industry(reader, sel.industry)
    est = reader.table("oews_estimates")
    # Every code an estimate carries is in the occupations table (a load stages its
    # occupations with its estimates): a code it lacks needs no look at any year's rows.
    if not reader.has_value("occupations", "soc_code", sel.soc):
        raise _unknown_soc(reader, sel.soc)
    match = "soc_code = ? AND measure = ? AND area_code = ? AND industry_code = ?"
    params: list[Any] = [sel.soc, sel.measure, area_code, industry_code]
    # The year first (the newest with this selection, in the given ownership if any), read
    # newest part first: a figure of the newest year reads that year's file only.
    owned = (f"{match} AND ownership = ?", [*params, sel.ownership]) if sel.ownership else None
    year = sel.year
    needs = ("soc_code", sel.soc)
    if year is None:
        year = reader.newest_year("oews_estimates", *(owned or (match, params)), needs=needs)
        if year is None and owned:  # not in that ownership: resolve_ownership says which are
            year = reader.newest_year("oews_estimates", match, params, needs=needs)
    ownership = (
        resolve_ownership(reader, match, params, sel.ownership, year) if year is not None else None
    )
    if ownership is not None:
        match += " AND ownership = ?"
        params.append(ownership)
    if ownership is None:  # say why: no such occupation, no such estimate, or not that year
        years = (
            reader.scalar_list(
                f"SELECT DISTINCT reference_year FROM {est} WHERE {match} ORDER BY 1", params
            )
            if year is not None
            else []  # no year has a match (newest_year asked them all)
        )
        if not years:
            if not reader.has_value("oews_estimates", *needs):
                raise _unknown_soc(reader, sel.soc)
            raise FigureError(
                f"No OEWS estimate of {sel.measure} for {sel.soc} in area {area_code}, "
                f"industry {industry_code} in release {reader.release_id}."
            )
        raise FigureError(f"No May {year} estimate for this selection.", [str(y) for y in years])
    base = f"FROM {reader.table('oews_estimates', year)} WHERE {match}"
    row = reader.rows(f"SELECT * {base} AND reference_year = ?", [*params, year])[0]
    title = title_of(reader, sel.soc)
    footnotes = {
        r["footnote_code"]: r["footnote_text"]
        for r in reader.rows(
            f"SELECT footnote_code, footnote_text FROM {reader.table('oews_footnotes')} "
            "WHERE reference_year = ?",
            [year],
        )
    }
    notes = tuple(
        footnotes[c.strip()]
        for c in (row["footnote_codes"] or "").split(",")
        if c.strip() in footnotes
    )
    status = row["status"]
    reference = row["reference_period"]
    where = "" if area_code == NATIONAL else f" in {area_name}"
    if industry_code != ALL_INDUSTRIES:
        where += f" in {industry_name}"
    # (000001 is the time series' cross-industry private code: its name says private)
    if ownership not in (None, "all") and industry_code != "000001":
        where += f" ({str(ownership).replace('_', ', ')} ownership)"
    if status == "ok":
        text = format_value(row["value"], unit, sel.measure)
    elif status == "top_coded":
        text = f"{format_value(row['top_code_threshold'], unit, sel.measure)} or more"
    else:
        reason = "; ".join(notes) or STATUS_REASONS.get(status, "Estimate not available.")
        raise FigureError(
            f"BLS did not publish {phrase} for {sel.soc} ({reference}{where}): {status}: {reason}",
            code=3,
        )
    sid = series_id(row["areatype_code"], area_code, industry_code, sel.soc, sel.measure)
    source_url, source_file = oews_source(reader, year, sel.soc, sid, area_code, industry_code)
    return Figure(
        value=json_number(row["value"]),
        text=text,
        unit=unit,
        soc_code=sel.soc,
        occupation=title,
        measure=sel.measure,
        area=area_name,
        industry=industry_name,
        reference=reference,
        release=reader.release_id,
        source_url=source_url,
        source_file=source_file,
        status=status,
        top_code_threshold=json_number(row["top_code_threshold"]),
        notes=notes,
        sentence=f"{title}: {phrase}{where} {text} ({reference}, {SOURCE} OEWS)",
    )


TIME_SERIES_FILE = "oe.data.0.Current"
# The special-request zip part holding an estimate: by area type, and for industry rows in4.
_PART_BY_AREA = {"N": "nat", "S": "st", "M": "ma"}


def oews_source(
    reader: ReleaseReader, year: int, soc: str, sid: str, area_code: str, industry_code: str
) -> tuple[str, str]:
    """(where to check it, the file it came from) for a May ``year`` estimate.

    The newest year the time-series flat files hold is on BLS's time-series page; any other
    year is on BLS's page for that year and occupation (the time-series page shows only the
    newest year), and came from that year's special-request zip (or workbook).
    """
    if reader.newest_time_series_year() == year:
        return f"https://data.bls.gov/timeseries/{sid}", TIME_SERIES_FILE
    url = f"https://www.bls.gov/oes/{year}/may/oes{soc.replace('-', '')}.htm"
    files = reader.scalar_list(
        f"SELECT DISTINCT url FROM {reader.table('raw_files')} WHERE vintage = ? ORDER BY url",
        [f"May {year}"],
    )
    names = [f.rstrip("/").rsplit("/", 1)[-1] for f in files]
    if TIME_SERIES_FILE in names:  # an earlier flat-file year: special-request files yield
        return url, TIME_SERIES_FILE
    names = [n for n in names if not n.startswith("oe.")]
    part = (
        "in4"
        if industry_code != ALL_INDUSTRIES
        else _PART_BY_AREA.get(
            "N" if area_code == NATIONAL else ("S" if area_code.endswith("00000") else "M"), "nat"
        )
    )
    wanted = f"oesm{year % 100:02d}{part}.zip"
    chosen = wanted if wanted in names else (names[0] if names else wanted)
    return url, chosen


def title_of(reader: ReleaseReader, soc: str) -> str:
    """The title a writer uses: the projections' sentence case if known, else OEWS's."""
    titles = reader.scalar_list(
        f"SELECT title FROM {reader.table('projections')} WHERE soc_code = ? "
        "ORDER BY base_year DESC",
        [soc],
    ) or reader.scalar_list(
        f"SELECT title FROM {reader.table('occupations')} WHERE soc_code = ? "
        "ORDER BY soc_version DESC",
        [soc],
    )
    return titles[0] if titles else soc


def _projection_figure(reader: ReleaseReader, sel: Selection) -> Figure:
    unit, phrase = PROJECTION_MEASURES[sel.measure]
    proj = reader.table("projections")
    cycles = reader.scalar_list(
        f"SELECT cycle FROM {proj} WHERE soc_code = ? ORDER BY base_year", [sel.soc]
    )
    if not cycles:
        raise _unknown_soc(reader, sel.soc)
    cycle = sel.cycle or cycles[-1]
    if cycle not in cycles:
        raise FigureError(f"No {cycle} projection for {sel.soc}.", cycles)
    row = reader.rows(f"SELECT * FROM {proj} WHERE soc_code = ? AND cycle = ?", [sel.soc, cycle])[0]
    value = row[sel.measure]
    reference = cycle
    if sel.measure == "median_annual_wage":
        reference = f"May {row['wage_year']}" if row["wage_year"] else cycle
    elif sel.measure in ("employment_base", "self_employed_pct"):
        reference = str(row["base_year"])
    elif sel.measure == "employment_target":
        reference = str(row["target_year"])
    status = "ok"
    if sel.measure == "median_annual_wage" and row["median_wage_status"] == "top_coded":
        status = "top_coded"
        text = f"{format_value(row['median_wage_top_code'], unit, sel.measure)} or more"
        value = None
    elif value is None and row.get(OTHER_OPENINGS.get(sel.measure, "")) is not None:
        other = OTHER_OPENINGS[sel.measure]
        raise FigureError(
            f"The {cycle} projections publish job openings as {PROJECTION_MEASURES[other][1]} "
            f"only: ask for {other}.",
            [other],
            code=3,
        )
    elif value is None:
        raise FigureError(
            f"BLS did not publish {phrase} for {sel.soc} in the {cycle} projections "
            "(the workbook shows '—', not available).",
            code=3,
        )
    else:
        text = format_value(value, unit, sel.measure)
    notes = (
        (f"exact value {Decimal(str(value)).normalize():f}%",)
        if sel.measure == "employment_change_pct"
        else ()
    )
    title = row["title"]
    return Figure(
        value=value if unit == "text" else json_number(value),
        text=text,
        unit=unit,
        soc_code=sel.soc,
        occupation=title,
        measure=sel.measure,
        area="National",
        industry="All industries",
        reference=reference,
        release=reader.release_id,
        source_url=EP_TABLE_URL,
        source_file="occupation.xlsx",
        status=status,
        top_code_threshold=json_number(row["median_wage_top_code"])
        if status == "top_coded"
        else None,
        notes=notes,
        sentence=f"{title}: {phrase} {text} ({reference}, {SOURCE} Employment Projections)",
    )


def get_figure(paths: DataPaths, sel: Selection, release: str | None = None) -> Figure:
    release_id, bundle = resolve_release(paths, release)
    with ReleaseReader(release_id, bundle) as reader:
        return figure(reader, sel)


# --- figures.yaml -------------------------------------------------------------------------
# Rendering figures.yaml is figures.spec; where publishing finds the file is here.


def default_spec() -> Path:
    """The content team's figure definitions: BLS_FIGURES_SPEC, else the figures.yaml installed
    with this package (the wheel maps it to figures/figures.yaml), else the checkout's
    top-level figures.yaml (where the content team edits it)."""
    if os.environ.get("BLS_FIGURES_SPEC"):
        return Path(os.environ["BLS_FIGURES_SPEC"])
    installed = Path(__file__).resolve().with_name("figures.yaml")
    return installed if installed.is_file() else installed.parent.parent / "figures.yaml"
