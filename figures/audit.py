"""``bls-refresh audit``: each BLS-looking claim of an article checked against a release.

Claims are found by :mod:`figures.claims`. For each, every value the release holds for the
occupation (and the codes the SOC crosswalk links to it) in the measure's family is read:
national, all industries, every OEWS May year and every projections cycle. The verdict:

* ``current``: the number is the newest value of what the text says (rounding as written);
* ``stale``: it is that measure of an older year or cycle;
* ``mislabeled``: it is another measure, or another period than the text names;
* ``wrong``: what the text names exists, and the number is none of its values;
* ``unverified``: the release holds nothing to check it against (and what would).

Every verdict names the rows it rests on (table, key, release). Reading only; the article is
never changed.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from decimal import Decimal
from typing import Any

from figures.claims import (
    Claim,
    Lexicon,
    Occupation,
    Places,
    Scope,
    find_claims,
    is_html,
    plain_text,
)
from figures.errors import FigureError
from figures.figure import ALL_INDUSTRIES, NATIONAL, Selection, figure, title_of
from figures.format import format_value
from figures.measures import MEASURES, OEWS_MEASURES, PROJECTION_MEASURES
from figures.release import ReleaseReader

VERDICTS = ("current", "stale", "mislabeled", "wrong", "unverified")
_WAGES = {
    "annual": [m for m in OEWS_MEASURES if m.startswith("annual_")],
    "hourly": [m for m in OEWS_MEASURES if m.startswith("hourly_")],
}


# Names writers use that share too few words with the SOC title to be found from it; each
# names one occupation (SOC 2018), so none is a guess. Titles and their short forms (words
# left out: "computer support specialists") need no entry.
COMMON_NAMES: dict[str, str] = {
    "IT managers": "11-3021",
    "information technology managers": "11-3021",
    "IT support specialists": "15-1232",
    "help desk technicians": "15-1232",
    "software engineers": "15-1252",
    "RNs": "29-1141",
    "LPNs": "29-2061",
    "LVNs": "29-2061",
    "HR managers": "11-3121",
    "HR specialists": "13-1071",
    "CPAs": "13-2011",
    "EMTs": "29-2042",
    "paramedics": "29-2043",
    "truck drivers": "53-3032",
    "cashiers": "41-2011",
}


@dataclasses.dataclass(frozen=True)
class Row:
    """One value the release holds: where it is, and what it is."""

    table: str
    key: dict[str, Any]
    measure: str
    value: Decimal
    reference: str  # "May 2015", "2014-24"
    order: int  # the year, or a cycle's first year
    scope: tuple[str, str] = (NATIONAL, ALL_INDUSTRIES)  # (area, industry) of an estimate
    year: int | None = None  # the year a projected count of jobs is of (base or target)
    top_coded: bool = False  # ``value`` is the top code: BLS published "value or more"

    def evidence(self, release: str) -> dict[str, Any]:
        return {
            "table": self.table,
            "key": self.key,
            "release": release,
            "value": _plain(self.value),
            "reference": self.reference,
        }


@dataclasses.dataclass
class Verdict:
    claim: Claim
    verdict: str
    says: str  # what the text says it is
    explanation: str
    evidence: list[dict[str, Any]]
    suggestion: str | None = None

    def as_json(self) -> dict[str, Any]:
        c = self.claim
        return {
            "verdict": self.verdict,
            "quote": c.quote,
            "start": c.start,
            "end": c.end,
            "number": c.number.text,
            "occupation": {
                "text": c.mention.text,
                "soc_code": c.mention.occupation.soc_code,
                "soc_version": c.mention.occupation.soc_version,
                "title": c.mention.occupation.title,
            },
            "says": self.says,
            "explanation": self.explanation,
            "evidence": self.evidence,
            "suggestion": self.suggestion,
        }


def _plain(value: Decimal) -> float | int:
    return int(value) if value == value.to_integral_value() else float(value)


def lexicon(reader: ReleaseReader) -> Lexicon:
    """Every occupation title the release knows: OEWS's, the projections matrix's, and both
    sides of the SOC crosswalk (SOC 2010 titles included)."""
    occ: list[Occupation] = []
    occ += [
        Occupation(r["soc_code"], r["soc_version"], r["title"])
        for r in reader.rows(
            f"SELECT DISTINCT soc_code, soc_version, title FROM {reader.table('occupations')}", []
        )
    ]
    occ += [
        Occupation(r["soc_code"], r["soc_version"], r["title"])
        for r in reader.rows(
            f"SELECT DISTINCT soc_code, soc_version, title FROM {reader.table('projections')} "
            "WHERE title IS NOT NULL",
            [],
        )
    ]
    for side in ("from", "to"):
        occ += [
            Occupation(r["code"], r["version"], r["title"])
            for r in reader.rows(
                f"SELECT DISTINCT {side}_code AS code, {side}_version AS version, "
                f"{side}_title AS title FROM {reader.table('soc_crosswalk')} "
                f"WHERE {side}_title IS NOT NULL",
                [],
            )
        ]
    by_code = {o.soc_code: o for o in occ if o.soc_version.startswith("2018")}
    aliases = [(name, by_code[code]) for name, code in COMMON_NAMES.items() if code in by_code]
    return Lexicon(occ, aliases)


def places(reader: ReleaseReader) -> Places:
    """The states, metros and industries the release has estimates for."""
    areas = reader.rows(f"SELECT area_code, area_type, name FROM {reader.table('areas')}", [])
    industries = reader.rows(f"SELECT industry_code, name FROM {reader.table('industries')}", [])
    return Places(
        [(r["area_code"], r["area_type"], r["name"]) for r in areas],
        [(r["industry_code"], r["name"]) for r in industries],
    )


def _related(reader: ReleaseReader, occ: Occupation) -> tuple[list[str], list[str]]:
    """(the codes to look under, the occupation's codes now): a SOC 2010 code's successors are
    its current codes; a SOC 2018 code's predecessors hold its older years."""
    xwalk = reader.table("soc_crosswalk")
    later = reader.scalar_list(
        f"SELECT DISTINCT to_code FROM {xwalk} WHERE from_code = ? AND from_version LIKE '%2010%' "
        "ORDER BY 1",
        [occ.soc_code],
    )
    earlier = reader.scalar_list(
        f"SELECT DISTINCT from_code FROM {xwalk} WHERE to_code = ? AND to_version LIKE '%2018%' "
        "ORDER BY 1",
        [occ.soc_code],
    )
    current = later if "2010" in occ.soc_version and later else [occ.soc_code]
    return sorted({occ.soc_code, *later, *earlier}), current


def _rows(
    reader: ReleaseReader,
    codes: list[str],
    measures: list[str],
    areas: list[str],
    industries: list[str],
) -> list[Row]:
    """Every value of ``measures`` for ``codes``: estimates in ``areas`` × ``industries``
    (ownership all), and projections. One query per table, for a whole article."""
    marks = ", ".join("?" for _ in codes)
    out: list[Row] = []
    oews = [m for m in measures if m in OEWS_MEASURES]
    if oews:
        found = reader.rows(
            f"SELECT reference_year, reference_period, soc_code, measure, "
            f"coalesce(value, top_code_threshold) AS value, status = 'top_coded' AS top_coded, "
            f"area_code, industry_code FROM {reader.table('oews_estimates')} "
            f"WHERE soc_code IN ({marks}) AND measure IN ({', '.join('?' for _ in oews)}) "
            f"AND area_code IN ({', '.join('?' for _ in areas)}) "
            f"AND industry_code IN ({', '.join('?' for _ in industries)}) "
            "AND ownership = 'all' "
            "AND (value IS NOT NULL OR (status = 'top_coded' AND top_code_threshold IS NOT NULL))",
            [*codes, *oews, *areas, *industries],
        )
        out += [
            Row(
                "oews_estimates",
                {
                    "reference_year": r["reference_year"],
                    "area_code": r["area_code"],
                    "industry_code": r["industry_code"],
                    "ownership": "all",
                    "soc_code": r["soc_code"],
                    "measure": r["measure"],
                },
                r["measure"],
                Decimal(str(r["value"])),
                r["reference_period"],
                int(r["reference_year"]),
                (r["area_code"], r["industry_code"]),
                top_coded=bool(r["top_coded"]),
            )
            for r in found
        ]
    projected = [m for m in measures if m in PROJECTION_MEASURES]
    if projected:
        found = reader.rows(
            f"SELECT cycle, soc_code, base_year, target_year, {', '.join(projected)} "
            f"FROM {reader.table('projections')} WHERE soc_code IN ({marks})",
            codes,
        )
        years = {"employment_base": "base_year", "employment_target": "target_year"}
        for r in found:
            for m in projected:
                if r[m] is not None:
                    out.append(
                        Row(
                            "projections",
                            {"cycle": r["cycle"], "soc_code": r["soc_code"]},
                            m,
                            Decimal(str(r[m])),
                            r["cycle"],
                            int(r["cycle"][:4]),
                            year=r[years[m]] if m in years else None,
                        )
                    )
    return out


def _family(claim: Claim) -> list[str]:
    if claim.number.kind == "usd":
        return _WAGES["hourly" if claim.measure.startswith("hourly") else "annual"]
    if claim.number.kind == "percent":
        return ["employment_change_pct", "self_employed_pct"]
    return [
        "employment",
        "openings_annual",
        "openings_total",
        "employment_base",
        "employment_target",
    ]


def _shown(row: Row) -> str:
    """A value as BLS prints it, to its published precision (7.1%, $53,270, 14,200)."""
    unit = MEASURES[row.measure][0]
    if unit == "percent":
        return f"{row.value.normalize():f}%"
    text = format_value(row.value, unit, row.measure)
    return f"{text} or more" if row.top_coded else text


def _phrase(measure: str) -> str:
    return MEASURES[measure][1]


def _says(claim: Claim) -> str:
    what = _phrase(claim.measure) if claim.statistic_named else f"a {_phrase(claim.measure)}"
    if claim.number.kind == "usd" and not claim.statistic_named:
        what = f"a wage (taken as the {_phrase(claim.measure)})"
    if not claim.scope.is_default:
        what += f" {claim.scope.words()}"
    p = claim.period
    return f"{what}, {p.text}" if p else what


def _where(scope: Scope, row: Row) -> str:
    """A row's area and industry in words, as the claim's scope names them."""
    area, industry = row.scope
    parts = []
    if area != NATIONAL:
        parts.append(f"in {scope.area}")
    if industry != ALL_INDUSTRIES:
        parts.append(f"in {scope.industry}")
    return " ".join(parts) or "for the nation, all industries"


def _in_scope(claim: Claim, row: Row) -> bool:
    if row.table != "oews_estimates":
        return True
    return row.scope == (claim.scope.area_code, claim.scope.industry_code)


def _fits_period(claim: Claim, row: Row) -> bool:
    p = claim.period
    if p is None:
        return True
    if row.table == "projections":
        if p.cycle is None and p.year is not None and row.year is not None:
            return p.year == row.year  # a count of jobs in a year: its base or target year
        return p.cycle is None or p.cycle == row.reference
    return p.year == row.order and p.month in (None, "May")


def _same_measure(claim: Claim, row: Row) -> bool:
    """Whether ``row`` is what the claim says it is. "194,800 jobs in 2024" is also the
    projections' employment of their base year 2024 (the Handbook's "Number of Jobs, 2024"),
    or of their target year."""
    if row.measure == claim.measure:
        return True
    p = claim.period
    return (
        claim.measure == "employment"
        and row.year is not None
        and p is not None
        and p.cycle is None
        and p.year == row.year
    )


def _close(claim: Claim, value: Decimal) -> bool:
    return abs(value - claim.number.value) <= claim.number.tolerance


# How a text says a number is a floor: "$239,200 or more", "at least $115 an hour".
_AT_LEAST = re.compile(r"\b(or more|or higher|or above|at least|more than|over|above)\b", re.I)


def _says_at_least(claim: Claim) -> bool:
    """Whether the words next to the number make it a floor (not "…, more than any other
    occupation" later in the sentence)."""
    return bool(_AT_LEAST.search(claim.near))


class Lookups:
    """What the verdicts of one article read, read once: the SOC relatives of each occupation,
    every value of every claim's occupations (one query per table for the whole article, then
    filtered per claim), and each current figure."""

    def __init__(self, reader: ReleaseReader, claims: list[Claim]) -> None:
        self.reader = reader
        self._related: dict[Occupation, tuple[list[str], list[str]]] = {}
        self._figures: dict[Selection, Any] = {}
        codes = sorted({c for claim in claims for c in self.related(claim)[0]})
        measures = sorted({m for claim in claims for m in _family(claim)})
        areas = sorted({NATIONAL, *(claim.scope.area_code for claim in claims)})
        industries = sorted({ALL_INDUSTRIES, *(claim.scope.industry_code for claim in claims)})
        self.all_rows = _rows(reader, codes, measures, areas, industries) if codes else []

    def related(self, claim: Claim) -> tuple[list[str], list[str]]:
        occ = claim.mention.occupation
        if occ not in self._related:
            self._related[occ] = _related(self.reader, occ)
        return self._related[occ]

    def rows(self, claim: Claim) -> list[Row]:
        """The claim's occupation's values in its family: its scope's and the nation's."""
        codes, family = set(self.related(claim)[0]), set(_family(claim))
        areas = {NATIONAL, claim.scope.area_code}
        industries = {ALL_INDUSTRIES, claim.scope.industry_code}
        return [
            r
            for r in self.all_rows
            if r.key["soc_code"] in codes
            and r.measure in family
            and (r.table != "oews_estimates" or (r.scope[0] in areas and r.scope[1] in industries))
        ]

    def figure(self, selection: Selection) -> Any:
        """``figure()`` of a selection, once (a FigureError is kept and raised again)."""
        if selection not in self._figures:
            try:
                self._figures[selection] = figure(self.reader, selection)
            except FigureError as exc:
                self._figures[selection] = exc
        found = self._figures[selection]
        if isinstance(found, FigureError):
            raise found
        return found


def judge(reader: ReleaseReader, claim: Claim, lookups: Lookups | None = None) -> Verdict:
    lookups = lookups or Lookups(reader, [claim])
    occ = claim.mention.occupation
    current_codes = lookups.related(claim)[1]
    rows = lookups.rows(claim)
    release = reader.release_id
    measured = [r for r in rows if _same_measure(claim, r)]
    if not claim.statistic_named and claim.number.kind == "usd":
        # "earns $51K": any statistic of that wage is what the text says
        measured = [r for r in rows if r.measure in _family(claim)]
    described = [r for r in measured if _in_scope(claim, r)]

    def newest(row: Row) -> int | None:
        """The newest year (or cycle) ``row``'s table holds of what the text says; of the
        projections' count of jobs, the newest cycle's, whatever year the text names."""
        if row.year is not None:  # a count of jobs in a base or target year
            pool = [r for r in rows if r.table == row.table and r.measure == row.measure]
        else:
            pool = [r for r in described if r.table == row.table]
        return max((r.order for r in pool), default=None)

    def differences(row: Row) -> int:
        return sum((row not in measured, not _fits_period(claim, row), not _in_scope(claim, row)))

    # A number that differs from what the text says in two ways (measure, period, place or
    # industry) is a coincidence, not a label.
    hits = [r for r in rows if _close(claim, r.value) and differences(r) <= 1]
    same = [r for r in hits if r in described]
    says = _says(claim)

    def now() -> tuple[str | None, list[dict[str, Any]]]:
        """The current figure(s) of what the text says, as a sentence with its source."""
        sentences, evidence = [], []
        for code in current_codes:
            try:
                selection = Selection(soc=code, measure=claim.measure)
                if claim.measure in OEWS_MEASURES and not claim.scope.is_default:
                    selection = dataclasses.replace(
                        selection, area=claim.scope.area_code, industry=claim.scope.industry_code
                    )
                fig = lookups.figure(selection)
            except FigureError:
                continue
            sentences.append(f"{fig.sentence}. Source: {fig.source_url}")
            evidence.append(
                {
                    "table": "projections"
                    if claim.measure in PROJECTION_MEASURES
                    else "oews_estimates",
                    "key": {"soc_code": code, "measure": claim.measure, "reference": fig.reference},
                    "release": release,
                    "value": fig.value,
                    "reference": fig.reference,
                    "source_url": fig.source_url,
                }
            )
        return (" / ".join(sentences) or None), evidence

    successors = ""
    if current_codes != [occ.soc_code]:
        successors = f" {occ.soc_code} ({occ.soc_version}) is now {', '.join(current_codes)}."

    in_period = [r for r in same if _fits_period(claim, r)]
    best = max(in_period, key=lambda r: r.order) if in_period else None
    capped = best is not None and best.top_coded and not _says_at_least(claim)
    # A SOC 2010 occupation split into several: the number of one of them is not the figure
    # of the occupation the text names.
    split = (
        best is not None
        and len(current_codes) > 1
        and best.key["soc_code"] in current_codes
        and best.key["soc_code"] != occ.soc_code  # a code kept through the split: its own
    )
    if best is not None and best.order == newest(best) and not capped and not split:
        return Verdict(
            claim,
            "current",
            says,
            f"{claim.number.text} is the {_phrase(best.measure)} of {best.reference}, "
            "the newest loaded.",
            [{**best.evidence(release), "source_url": _source(lookups, best)}],
        )
    suggestion, current_evidence = now()

    def against(kind: str, best: Row | None, explanation: str) -> Verdict:
        """A verdict resting on ``best`` (if any) and the current figure(s)."""
        rows = [best.evidence(release)] if best is not None else []
        return Verdict(
            claim, kind, says, explanation + successors, [*rows, *current_evidence], suggestion
        )

    number, stated = claim.number.text, claim.period.text if claim.period else "-"
    if split and best is not None:
        code = str(best.key["soc_code"])
        return against(
            "mislabeled",
            best,
            f"{number} is the {_phrase(best.measure)} of {best.reference} for "
            f"{title_of(reader, code)} ({code}) alone, one of the occupations "
            f"{occ.title} ({occ.soc_code}, SOC {occ.soc_version}) became.",
        )
    if capped and best is not None:
        return against(
            "mislabeled",
            best,
            f"{number} is the top code of the {_phrase(best.measure)} of {best.reference}: BLS "
            f"publishes it as {_shown(best)}, not as an exact figure.",
        )
    if same:
        # the period the text names, if the number is of it; else the newest it is of
        best = max(in_period or same, key=lambda r: r.order)
        what = f"{number} is the {_phrase(best.measure)} of {best.reference}"
        if not _fits_period(claim, best):
            return against("mislabeled", best, f"{what}, not of {stated}.")
        return against("stale", best, f"{what}; newer figures are loaded.")
    if hits:
        best = max(hits, key=lambda r: (differences(r) == 0, r.order))
        what = f"{number} is the {_phrase(best.measure)} of {best.reference}"
        if not _in_scope(claim, best):
            return against(
                "mislabeled",
                best,
                f"{what} {_where(claim.scope, best)}, not {claim.scope.words()}.",
            )
        return against("mislabeled", best, f"{what}, not {says}.")
    named = [r for r in described if _fits_period(claim, r)]
    if named:
        # the newest; of a wage without a statistic, the median it is taken as
        best = max(named, key=lambda r: (r.order, r.measure == claim.measure))
        if best.top_coded and claim.number.value > best.value:
            return against(
                "unverified",
                best,
                f"BLS publishes the {_phrase(best.measure)} of {best.reference} only as "
                f"{_shown(best)} (top-coded), which neither confirms nor refutes {number}.",
            )
        return against(
            "wrong",
            best,
            f"The {_phrase(best.measure)} of {best.reference} is {_shown(best)}, not {number}.",
        )
    successors = ""  # nothing of the occupation settles it: say what would
    return against(
        "unverified",
        None,
        f"Nothing loaded matches {number} for {occ.title} "
        f"({occ.soc_code}). " + _what_would_settle(claim),
    )


def _source(lookups: Lookups, row: Row) -> str | None:
    """Where a person checks a row's value at BLS (the figure's ``source_url``)."""
    code = str(row.key["soc_code"])
    if row.table == "projections":
        selection = Selection(soc=code, measure=row.measure, cycle=row.reference)
    else:
        area, industry = row.scope
        selection = Selection(code, row.measure, area, industry, year=row.order)
    try:
        return str(lookups.figure(selection).source_url)
    except FigureError:
        return None


def _what_would_settle(claim: Claim) -> str:
    p = claim.period
    if claim.measure in PROJECTION_MEASURES:
        cycle = p.cycle if p and p.cycle else "that"
        return (
            f"The {cycle} Employment Projections would settle it: `bls-refresh ingest` "
            "the cycle's occupation.xlsx."
        )
    years = str(p.year) if p and p.year else "2012-"
    what = f"May {years} estimates" if p and p.year else "Earlier May years"
    scope = claim.scope
    files = ""  # the special-request part that has the scope's estimates
    if scope.industry_code != ALL_INDUSTRIES:
        files = " --files in4"
        what += " by industry"
    elif scope.area_code != NATIONAL:
        files = " --files st,ma"
        what += " by state and metro"
    return f"{what} would settle it: run `bls-refresh backfill --oews-years {years}{files}`."


@dataclasses.dataclass
class Audit:
    release: str
    source: str  # the article as given
    html: bool
    verdicts: list[Verdict]

    @property
    def clean(self) -> bool:
        return all(v.verdict == "current" for v in self.verdicts)


def audit(reader: ReleaseReader, raw: str, name: str = "") -> Audit:
    as_html = is_html(raw, name)
    text = plain_text(raw, as_html)
    found = find_claims(text, lexicon(reader), places(reader))
    lookups = Lookups(reader, found)
    return Audit(reader.release_id, raw, as_html, [judge(reader, c, lookups) for c in found])


# --- reports --------------------------------------------------------------------------------


def report_text(result: Audit, name: str) -> str:
    counts = {v: sum(1 for x in result.verdicts if x.verdict == v) for v in VERDICTS}
    listed = ", ".join(f"{n} {v}" for v, n in counts.items() if n)
    lines = [
        f"{name}: {len(result.verdicts)} claim(s) checked against release "
        f"{result.release}" + (f" ({listed})" if listed else "") + "."
    ]
    for v in result.verdicts:
        lines += [
            "",
            f"[{v.verdict.upper()}] “{v.claim.quote}” (characters {v.claim.start}-{v.claim.end})",
            f"  The text says: {v.says}, for {v.claim.mention.occupation.title} "
            f"({v.claim.mention.occupation.soc_code}).",
            f"  {v.explanation}",
        ]
        for e in v.evidence:
            key = ", ".join(f"{k}={val}" for k, val in e["key"].items())
            if e.get("source_url") and v.verdict == "current":
                lines.append(f"  Source: {e['source_url']}")
            lines.append(
                f"  Evidence: {e['table']} ({key}) in release {e['release']}: {e['value']}"
            )
        if v.suggestion and v.verdict != "current":
            lines.append(f"  Suggested: {v.suggestion}")
    return "\n".join(lines) + "\n"


def report_json(result: Audit, name: str) -> str:
    return (
        json.dumps(
            {
                "article": name,
                "release": result.release,
                "clean": result.clean,
                "claims": [v.as_json() for v in result.verdicts],
            },
            indent=2,
        )
        + "\n"
    )


_COLOURS = {
    "current": "#d4f4dd",
    "stale": "#fff3b0",
    "mislabeled": "#ffd8a8",
    "wrong": "#ffc9c9",
    "unverified": "#e9ecef",
}


def report_html(result: Audit, name: str) -> str:
    """The article with each claim highlighted by verdict; the evidence on hover and in a
    list after it. An HTML article keeps its markup (claims are spans of its text)."""
    out: list[str] = []
    at = 0
    raw = result.source
    for i, v in enumerate(sorted(result.verdicts, key=lambda v: v.claim.start), 1):
        c = v.claim
        if c.start < at:
            continue
        piece = raw[at : c.start]
        out.append(piece if result.html else html.escape(piece))
        tip = html.escape(f"{v.verdict}: {v.explanation}", quote=True)
        inner = raw[c.start : c.end]
        out.append(
            f'<mark class="bls-{v.verdict}" style="background:{_COLOURS[v.verdict]}" '
            f'title="{tip}">{inner if result.html else html.escape(inner)}'
            f"<sup>[{i}]</sup></mark>"
        )
        at = c.end
    rest = raw[at:]
    body = "".join(out) + (rest if result.html else html.escape(rest))
    notes = "".join(
        f"<li><b>{v.verdict}</b>: {html.escape(v.explanation)}"
        + (
            f"<br>Suggested: {html.escape(v.suggestion)}"
            if v.suggestion and v.verdict != "current"
            else ""
        )
        + "</li>"
        for v in sorted(result.verdicts, key=lambda v: v.claim.start)
    )
    audit_list = (
        f'<section class="bls-audit"><h2>BLS figures checked against release '
        f"{html.escape(result.release)}</h2><ol>{notes}</ol></section>"
    )
    if result.html:
        return (
            body.replace("</body>", audit_list + "</body>")
            if "</body>" in body
            else body + audit_list
        )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(name)}"
        f"</title></head><body><pre style='white-space:pre-wrap'>{body}</pre>{audit_list}"
        "</body></html>\n"
    )
