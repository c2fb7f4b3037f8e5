"""Figures for content teams: one published number, formatted as a writer prints it.

Read-only and Prefect-free: every query runs on a release bundle's parquet files with
parameters (never SQL built from user input), in an in-memory DuckDB.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import yaml

from core.paths import DataPaths
from transforms.oews_series import series_id
from warehouse import bundles

SOURCE = "U.S. Bureau of Labor Statistics"
EP_TABLE_URL = "https://www.bls.gov/emp/tables/occupational-projections-and-characteristics.htm"
NATIONAL = "0000000"
ALL_INDUSTRIES = "000000"

# measure → (unit, phrase in a sentence)
OEWS_MEASURES: dict[str, tuple[str, str]] = {
    "employment": ("persons", "employment"),
    "employment_prse": ("percent", "employment relative standard error"),
    "hourly_mean": ("usd_per_hour", "mean hourly wage"),
    "annual_mean": ("usd_per_year", "mean annual wage"),
    "mean_prse": ("percent", "wage relative standard error"),
    "hourly_p10": ("usd_per_hour", "10th percentile hourly wage"),
    "hourly_p25": ("usd_per_hour", "25th percentile hourly wage"),
    "hourly_median": ("usd_per_hour", "median hourly wage"),
    "hourly_p75": ("usd_per_hour", "75th percentile hourly wage"),
    "hourly_p90": ("usd_per_hour", "90th percentile hourly wage"),
    "annual_p10": ("usd_per_year", "10th percentile annual wage"),
    "annual_p25": ("usd_per_year", "25th percentile annual wage"),
    "annual_median": ("usd_per_year", "median annual wage"),
    "annual_p75": ("usd_per_year", "75th percentile annual wage"),
    "annual_p90": ("usd_per_year", "90th percentile annual wage"),
    "jobs_per_1000": ("per_1000_jobs", "jobs per 1,000 jobs"),
    "location_quotient": ("ratio", "location quotient"),
}
PROJECTION_MEASURES: dict[str, tuple[str, str]] = {
    "employment_base": ("persons", "employment"),
    "employment_target": ("persons", "projected employment"),
    "employment_change": ("persons", "projected employment change"),
    "employment_change_pct": ("percent", "projected employment growth"),
    "openings_annual": ("persons", "projected openings each year"),
    "openings_total": ("persons", "projected openings over the decade"),
    "self_employed_pct": ("percent", "share self-employed"),
    "median_annual_wage": ("usd_per_year", "median annual wage"),
    "education": ("text", "typical education needed for entry"),
    "experience": ("text", "work experience in a related occupation"),
    "training": ("text", "typical on-the-job training"),
}
MEASURES = {**OEWS_MEASURES, **PROJECTION_MEASURES}
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
# Job openings are published one way per cycle: a ten-year total up to 2014-24, an annual
# average from 2016-26 on. Asking for the other one names the one that exists.
OTHER_OPENINGS = {"openings_annual": "openings_total", "openings_total": "openings_annual"}
TEXT_PERCENT = {"employment_change_pct"}  # percents BLS rounds to whole numbers in text


class FigureError(Exception):
    """A figure cannot be given; ``choices`` are the closest valid values, if any."""

    def __init__(self, message: str, choices: list[str] | None = None, code: int = 2) -> None:
        super().__init__(message)
        self.choices = choices or []
        self.code = code

    def line(self) -> str:
        text = str(self)
        if self.choices:
            text += f" Did you mean: {', '.join(self.choices)}?"
        return text


@dataclasses.dataclass(frozen=True)
class Selection:
    soc: str
    measure: str
    area: str = "national"
    industry: str = ALL_INDUSTRIES
    year: int | None = None
    cycle: str | None = None


# --- formatting ---------------------------------------------------------------------------


def _round_half_up(value: Decimal, places: int) -> Decimal:
    # ``+ 0`` turns a negative zero (-0.4 rounded) into 0, so text never reads "-0%".
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) + 0


def format_value(value: Decimal | float | int | str, unit: str, measure: str) -> str:
    """A number as a writer prints it: $51,140 · $24.16 · 194,800 · 7% · 1.05."""
    if unit == "text":
        return str(value)
    number = Decimal(str(value))
    if unit == "usd_per_year":
        return f"${_round_half_up(number, 0):,.0f}"
    if unit == "usd_per_hour":
        return f"${_round_half_up(number, 2):,.2f}"
    if unit == "persons":
        return f"{_round_half_up(number, 0):,.0f}"
    if unit == "percent":
        if measure in TEXT_PERCENT:
            return f"{_round_half_up(number, 0):.0f}%"
        return f"{number.normalize():f}%"
    if unit == "per_1000_jobs":
        return f"{_round_half_up(number, 3):.3f}"
    return f"{_round_half_up(number, 2):.2f}"


def _json_number(value: Decimal | float | int | None) -> float | int | None:
    if value is None:
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


# --- releases -----------------------------------------------------------------------------


def resolve_release(paths: DataPaths, release: str | None) -> tuple[str, Path]:
    ids = bundles.published(paths)
    if not ids:
        raise FigureError(
            f"No published release in {paths.published}; run `bls-refresh demo` or `run` first.",
            code=2,
        )
    if release in (None, "latest"):
        chosen = bundles.latest(paths) or ids[-1]
        return chosen, bundles.bundle_path(paths, chosen)
    if release not in ids:
        raise FigureError(
            f"Unknown release {release!r}.",
            difflib.get_close_matches(release, ids, 3, 0.3) or ids[-3:],
        )
    return release, bundles.bundle_path(paths, release)


class ReleaseReader:
    """Parameterised, read-only queries on one release bundle."""

    def __init__(self, release_id: str, bundle: Path) -> None:
        self.release_id = release_id
        self.bundle = bundle
        self.con = duckdb.connect(config={"autoinstall_known_extensions": False})

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> ReleaseReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def table(self, name: str) -> str:
        path = bundles.table_path(self.bundle, name)
        return "read_parquet('" + str(path).replace("'", "''") + "')"

    def rows(self, sql: str, params: list[Any]) -> list[dict[str, Any]]:
        cur = self.con.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def scalar_list(self, sql: str, params: list[Any] | None = None) -> list[Any]:
        return [r[0] for r in self.con.execute(sql, params or []).fetchall()]


# --- one figure ---------------------------------------------------------------------------


def _closest(value: str, options: list[str], n: int = 3) -> list[str]:
    return difflib.get_close_matches(value, options, n, 0.4)


def _resolve_area(reader: ReleaseReader, area: str) -> tuple[str, str]:
    rows = reader.rows(f"SELECT area_code, name FROM {reader.table('areas')}", [])
    names = {r["area_code"]: r["name"] for r in rows}
    if area.lower() in ("national", "us", "u.s.", NATIONAL):
        return NATIONAL, names.get(NATIONAL, "National")
    if area in names:
        return area, names[area]
    by_name = {n.lower(): c for c, n in names.items()}
    if area.lower() in by_name:
        code = by_name[area.lower()]
        return code, names[code]
    guesses = _closest(area, list(names)) or [
        f"{by_name[n]} ({names[by_name[n]]})" for n in _closest(area.lower(), list(by_name))
    ]
    raise FigureError(f"Unknown area {area!r}.", guesses)


def _resolve_industry(reader: ReleaseReader, industry: str) -> tuple[str, str]:
    rows = reader.rows(f"SELECT industry_code, name FROM {reader.table('industries')}", [])
    names = {r["industry_code"]: r["name"] for r in rows}
    if industry in names:
        return industry, names[industry]
    if industry == ALL_INDUSTRIES:
        return industry, "All industries"
    raise FigureError(f"Unknown industry {industry!r}.", _closest(industry, list(names)))


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
        f"Unknown SOC code {soc!r} in release {reader.release_id}.", _closest(soc, sorted(codes))
    )


def check_selection(sel: Selection) -> None:
    """Refuse a selection that names options its measure does not take (an ignored option
    would print a figure for something the writer did not ask for)."""
    if sel.measure not in MEASURES:
        raise FigureError(
            f"Unknown measure {sel.measure!r}.", _closest(sel.measure, list(MEASURES))
        )
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


def figure(reader: ReleaseReader, sel: Selection) -> dict[str, Any]:
    check_selection(sel)
    if sel.measure in PROJECTION_MEASURES:
        return _projection_figure(reader, sel)
    return _oews_figure(reader, sel)


def _oews_figure(reader: ReleaseReader, sel: Selection) -> dict[str, Any]:

    unit, phrase = OEWS_MEASURES[sel.measure]
    area_code, area_name = _resolve_area(reader, sel.area)
    industry_code, industry_name = _resolve_industry(reader, sel.industry)
    est = reader.table("oews_estimates")
    base = f"FROM {est} WHERE soc_code = ? AND measure = ? AND area_code = ? AND industry_code = ?"
    params: list[Any] = [sel.soc, sel.measure, area_code, industry_code]
    years = reader.scalar_list(f"SELECT DISTINCT reference_year {base} ORDER BY 1", params)
    if not years:
        known = reader.scalar_list(f"SELECT count(*) FROM {est} WHERE soc_code = ?", [sel.soc])[0]
        if not known:
            raise _unknown_soc(reader, sel.soc)
        raise FigureError(
            f"No OEWS estimate of {sel.measure} for {sel.soc} in area {area_code}, "
            f"industry {industry_code} in release {reader.release_id}."
        )
    year = sel.year if sel.year is not None else years[-1]
    if year not in years:
        raise FigureError(f"No May {year} estimate for this selection.", [str(y) for y in years])
    row = reader.rows(f"SELECT * {base} AND reference_year = ?", [*params, year])[0]
    title = _title(reader, sel.soc)
    footnotes = {
        r["footnote_code"]: r["footnote_text"]
        for r in reader.rows(
            f"SELECT footnote_code, footnote_text FROM {reader.table('oews_footnotes')} "
            "WHERE reference_year = ?",
            [year],
        )
    }
    notes = [
        footnotes[c.strip()]
        for c in (row["footnote_codes"] or "").split(",")
        if c.strip() in footnotes
    ]
    status = row["status"]
    reference = row["reference_period"]
    where = "" if area_code == NATIONAL else f" in {area_name}"
    if industry_code != ALL_INDUSTRIES:
        where += f" in {industry_name}"
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
    return {
        "value": _json_number(row["value"]),
        "text": text,
        "unit": unit,
        "soc_code": sel.soc,
        "occupation": title,
        "measure": sel.measure,
        "area": area_name,
        "industry": industry_name,
        "reference": reference,
        "release": reader.release_id,
        "source_url": f"https://data.bls.gov/timeseries/{sid}",
        "status": status,
        "top_code_threshold": _json_number(row["top_code_threshold"]),
        "notes": notes,
        "sentence": f"{title}: {phrase}{where} {text} ({reference}, {SOURCE} OEWS)",
    }


def _title(reader: ReleaseReader, soc: str) -> str:
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


def _projection_figure(reader: ReleaseReader, sel: Selection) -> dict[str, Any]:
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
    notes: list[str] = []
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
    if sel.measure == "employment_change_pct":
        notes.append(f"exact value {Decimal(str(value)).normalize():f}%")
    title = row["title"]
    return {
        "value": value if unit == "text" else _json_number(value),
        "text": text,
        "unit": unit,
        "soc_code": sel.soc,
        "occupation": title,
        "measure": sel.measure,
        "area": "National",
        "industry": "All industries",
        "reference": reference,
        "release": reader.release_id,
        "source_url": EP_TABLE_URL,
        "status": status,
        "top_code_threshold": _json_number(row["median_wage_top_code"])
        if status == "top_coded"
        else None,
        "notes": notes,
        "sentence": f"{title}: {phrase} {text} ({reference}, {SOURCE} Employment Projections)",
    }


def get_figure(paths: DataPaths, sel: Selection, release: str | None = None) -> dict[str, Any]:
    release_id, bundle = resolve_release(paths, release)
    with ReleaseReader(release_id, bundle) as reader:
        return figure(reader, sel)


# --- figures.yaml -------------------------------------------------------------------------


def load_spec(path: Path) -> dict[str, Selection]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FigureError(f"{path}: cannot read figure definitions: {first}") from None
    entries = raw.get("figures", {}) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise FigureError(f"{path}: 'figures' must map ids to selections")
    spec: dict[str, Selection] = {}
    allowed = {f.name for f in dataclasses.fields(Selection)}
    for fid, entry in entries.items():
        if not isinstance(entry, dict):
            raise FigureError(f"{path}: figure {fid!r} must map soc and measure to values")
        unknown = set(entry) - allowed
        if unknown or "soc" not in entry or "measure" not in entry:
            raise FigureError(
                f"{path}: figure {fid!r} needs soc and measure (allowed keys {sorted(allowed)}); "
                f"got {sorted(entry)}"
            )
        spec[str(fid)] = Selection(
            **{k: (str(v) if k not in ("year",) else int(v)) for k, v in entry.items()}
        )
    return spec


def render(reader: ReleaseReader, spec: dict[str, Selection]) -> dict[str, dict[str, Any]]:
    """Every figure of the spec; one that cannot be given is an entry with its error."""
    out: dict[str, dict[str, Any]] = {}
    for fid, sel in spec.items():
        try:
            out[fid] = figure(reader, sel)
        except FigureError as exc:
            out[fid] = {
                "error": str(exc),
                "soc_code": sel.soc,
                "measure": sel.measure,
                "release": reader.release_id,
            }
    return out


def write_figures(bundle: Path, release_id: str, spec_path: Path) -> Path:
    spec = load_spec(spec_path)
    with ReleaseReader(release_id, bundle) as reader:
        rendered = render(reader, spec)
    target = bundle / "figures.json"
    target.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def default_spec() -> Path:
    """The content team's figure definitions: BLS_FIGURES_SPEC, else figures.yaml in the repo."""
    return Path(os.environ.get("BLS_FIGURES_SPEC") or Path(__file__).parent.parent / "figures.yaml")


def bundle_writer(spec_path: Path | None = None) -> Callable[[Path, str], Path]:
    """What publishing calls to add ``figures.json`` to a bundle it is making."""
    spec = spec_path or default_spec()
    return lambda bundle, release_id: write_figures(bundle, release_id, spec)
