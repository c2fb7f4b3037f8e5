"""A writer's series: one OEWS measure of an occupation, May year by May year, across SOC
changes, with breaks marked and BLS's caveat (``bls-refresh series``).

The points come from ``oews_wage_series`` (warehouse/series.py, the same SQL as the analyst
file's view), run on a release bundle.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from typing import Any

from core.paths import DataPaths
from figures.errors import FigureError
from figures.figure import (
    ALL_INDUSTRIES,
    SOURCE,
    closest,
    oews_source,
    resolve_area,
    resolve_industry,
    resolve_ownership,
    title_of,
)
from figures.format import format_value, json_number
from figures.measures import OEWS_MEASURES
from figures.release import ReleaseReader, resolve_release
from transforms.oews_series import series_id
from warehouse.series import CAVEAT, series_sql

HYBRID_YEARS = (2019, 2020)


@dataclasses.dataclass(frozen=True)
class Point:
    year: int
    reference: str
    value: float | int | None
    text: str
    soc_code: str  # as published that year
    soc_version: str
    status: str
    top_code_in_force: float | int | None
    comparable: bool
    break_reason: str | None
    source_url: str
    source_file: str


@dataclasses.dataclass(frozen=True)
class Series:
    series_soc: str
    occupation: str
    measure: str
    unit: str
    area: str
    industry: str
    release: str
    points: tuple[Point, ...]
    gaps: tuple[str, ...]  # loaded years without a point, and why
    caveat: str = CAVEAT

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["points"] = [dataclasses.asdict(p) for p in self.points]
        out["gaps"] = list(self.gaps)
        return out

    def lines(self) -> list[str]:
        """The series as a writer reads it: one line per year, breaks and gaps marked."""
        _, phrase = OEWS_MEASURES[self.measure]
        where = self.area if self.industry == "All industries" else f"{self.area}, {self.industry}"
        out = [f"{self.occupation} ({self.series_soc}): {phrase}, {where} (release {self.release})"]
        rows = [(p.year, self._line(p)) for p in self.points]
        rows += [(int(g[4:8]), g) for g in self.gaps]
        out += [line for _, line in sorted(rows)]
        out += ["", f"Caveat: {self.caveat}", f"Source: {SOURCE} OEWS (source_url per year)."]
        return out

    def _line(self, p: Point) -> str:
        code = f"{p.soc_code} (SOC {p.soc_version})"
        line = f"{p.reference:<9} {p.text:>16}   {code}"
        if p.break_reason:
            line += f"   BREAK: {p.break_reason}"
        return line

    def csv(self) -> str:
        buf = io.StringIO()
        fields = [f.name for f in dataclasses.fields(Point)]
        head = ["series_soc", "occupation", "measure", "area", "industry", "release"]
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow([*head, *fields, "caveat"])
        for p in self.points:
            meta = [self.series_soc, self.occupation, self.measure, self.area, self.industry]
            writer.writerow([*meta, self.release, *dataclasses.astuple(p), self.caveat])
        return buf.getvalue()


def _text(row: dict[str, Any], unit: str, measure: str) -> str:
    if row["status"] == "ok":
        return format_value(row["value"], unit, measure)
    if row["status"] == "top_coded" and row["top_code_in_force"] is not None:
        return f"{format_value(row['top_code_in_force'], unit, measure)} or more"
    return f"not published ({row['status']})"


def series(
    reader: ReleaseReader,
    soc: str,
    measure: str,
    area: str = "national",
    industry: str = ALL_INDUSTRIES,
    from_year: int | None = None,
    ownership: str | None = None,
) -> Series:
    if measure not in OEWS_MEASURES:
        raise FigureError(
            f"{measure!r} is not an OEWS measure; a series follows an OEWS measure by May year.",
            closest(measure, list(OEWS_MEASURES)),
        )
    unit, _ = OEWS_MEASURES[measure]
    area_code, area_name = resolve_area(reader, area)
    industry_code, industry_name = resolve_industry(reader, industry)
    view = f"({series_sql(reader.table)})"
    where = "measure = ? AND area_code = ? AND industry_code = ?"
    params: list[Any] = [measure, area_code, industry_code]
    chosen = resolve_ownership(reader, where, params, ownership)
    if chosen is not None:
        where += " AND ownership = ?"
        params.append(chosen)
    rows = reader.rows(
        f"SELECT * FROM {view} WHERE series_soc = ? AND {where} ORDER BY reference_year",
        [soc, *params],
    )
    if not rows:
        raise _no_series(reader, soc)
    years = reader.scalar_list(
        f"SELECT DISTINCT reference_year FROM {reader.table('oews_estimates')} "
        f"WHERE {where} ORDER BY 1",
        params,
    )
    if from_year is not None:
        rows = [r for r in rows if r["reference_year"] >= from_year]
        years = [y for y in years if y >= from_year]
    points = []
    for row in rows:
        year = row["reference_year"]
        sid = series_id(row["areatype_code"], area_code, industry_code, row["soc_code"], measure)
        url, file = oews_source(reader, year, row["soc_code"], sid, area_code, industry_code)
        points.append(
            Point(
                year=year,
                reference=row["reference_period"] or f"May {year}",
                value=json_number(row["value"]),
                text=_text(row, unit, measure),
                soc_code=row["soc_code"],
                soc_version=row["soc_version"],
                status=row["status"],
                top_code_in_force=json_number(row["top_code_in_force"]),
                comparable=bool(row["comparable"]),
                break_reason=row["break_reason"],
                source_url=url,
                source_file=file,
            )
        )
    have = {p.year for p in points}
    gaps = tuple(_gap(reader, soc, y) for y in years if y not in have)
    return Series(
        series_soc=soc,
        occupation=title_of(reader, soc),
        measure=measure,
        unit=unit,
        area=area_name,
        industry=industry_name if industry_code != ALL_INDUSTRIES else "All industries",
        release=reader.release_id,
        points=tuple(points),
        gaps=gaps,
    )


def _gap(reader: ReleaseReader, soc: str, year: int) -> str:
    """Why a loaded May year has no point for this series."""
    head = f"May {year}: no estimate under {soc}"
    if year not in HYBRID_YEARS:
        return f"{head} in this selection"
    hybrids = reader.rows(
        f"SELECT DISTINCT e.soc_code, o.title FROM {reader.table('oews_estimates')} e "
        f"LEFT JOIN {reader.table('occupations')} o ON o.soc_code = e.soc_code "
        "WHERE e.reference_year = ? AND e.soc_code LIKE ? AND e.soc_code NOT IN "
        f"(SELECT to_code FROM {reader.table('soc_crosswalk')}) "
        "AND e.soc_code NOT IN "
        f"(SELECT from_code FROM {reader.table('soc_crosswalk')}) ORDER BY 1",
        [year, soc[:4] + "%"],
    )
    seen: dict[str, str] = {}
    for r in hybrids:
        # detailed codes only: group codes (29-2000, 29-2010) end in 0
        if not r["soc_code"].endswith("0") and r["soc_code"] not in seen:
            seen[r["soc_code"]] = r["title"] or ""
    named = "; ".join(f"{c} {t}".strip() for c, t in seen.items())
    where = f" BLS's hybrid codes of this group that year: {named}." if named else ""
    return (
        f"{head}: May 2019 and May 2020 used the hybrid of SOC 2010 and 2018, and BLS "
        f"published this occupation within a combined hybrid code (a BREAK).{where}"
    )


def _no_series(reader: ReleaseReader, soc: str) -> FigureError:
    successors = reader.rows(
        f"SELECT DISTINCT to_code, to_title FROM {reader.table('soc_crosswalk')} "
        "WHERE from_code = ? AND to_code <> from_code ORDER BY to_code",
        [soc],
    )
    if successors:
        return FigureError(
            f"{soc} is a SOC 2010 code; series are named by their SOC 2018 code, and its "
            "estimates continue as "
            + ", ".join(f"{r['to_code']} ({r['to_title']})" for r in successors)
            + ".",
            [r["to_code"] for r in successors],
        )
    codes = reader.scalar_list(f"SELECT DISTINCT soc_code FROM {reader.table('occupations')}")
    return FigureError(
        f"No OEWS series for {soc!r} in release {reader.release_id}.",
        closest(soc, sorted(codes)),
    )


def get_series(
    paths: DataPaths,
    soc: str,
    measure: str,
    *,
    area: str = "national",
    industry: str = ALL_INDUSTRIES,
    from_year: int | None = None,
    release: str | None = None,
    ownership: str | None = None,
) -> Series:
    release_id, bundle = resolve_release(paths, release)
    with ReleaseReader(release_id, bundle) as reader:
        return series(reader, soc, measure, area, industry, from_year, ownership)
