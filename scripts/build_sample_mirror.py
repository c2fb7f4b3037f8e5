"""Build the small OEWS sample mirror (May 2024) in the exact BLS flat-file layout.

Writes ``<out>/download.bls.gov/pub/time.series/oe/`` with ``oe.release``, ``oe.footnote``,
``oe.datatype``, ``oe.areatype``, ``oe.seasonal``, ``oe.area``, ``oe.industry``,
``oe.occupation``, ``oe.series`` and ``oe.data.0.Current`` for a few dozen occupations.

What is real and what is not (see ``sample_mirror/README.md``):

* real: the lookup rows (copied from the BLS files in the shared samples folder), the footnote
  texts, the national cross-industry annual median wage (datatype 13) of every occupation
  (May 2024 wages from the 2024-34 EP workbook, Table 1.2) and the U.S. annual mean $67,920;
* illustrative: every other number. They are generated from seeded random draws, so re-running
  the script produces byte-identical files.

Usage::

    uv run python scripts/build_sample_mirror.py [SAMPLES_DIR] [OUT_DIR] [--all-broad-groups]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from transforms.oews_series import SERIES_HEADER

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SAMPLES = REPO_ROOT.parent / "shared" / "bls-reference" / "samples"
DEFAULT_OUT = REPO_ROOT / "sample_mirror"
OE_DIR = Path("download.bls.gov") / "pub" / "time.series" / "oe"

YEAR = "2024"
PERIOD = "A01"
RELEASE = ("2024A01", "May 2024")
# Real release date of the May 2024 estimates; fixed so HTTP Last-Modified never changes.
MTIME = datetime(2025, 4, 2, 12, 0, tzinfo=UTC).timestamp()
SEED = "bls-refresh sample mirror May 2024"

CRLF = "\r\n"  # the real lookup files
LF = "\n"  # the data and series files

TOP_CODE_ANNUAL = 239_200  # May 2023 onwards: $115.00 per hour or $239,200 per year
HOURS_PER_YEAR = 2080
FN_TOP_CODED = "5"
FN_NOT_RELEASED = "8"
FN_ANNUAL_FROM_HOURLY = "2"

FOOTNOTES = (
    (
        "1",
        "Estimates for detailed occupations do not sum to the totals because the totals "
        "include occupations not shown separately. Estimates do not include self-employed "
        "workers.",
    ),
    (
        "2",
        "Annual wages have been calculated by multiplying the corresponding hourly wage by "
        "2,080 hours.",
    ),
    (
        "3",
        "The relative standard error (RSE) is a measure of the reliability of a survey "
        "statistic. The smaller the relative standard error, the more precise the estimate.",
    ),
    (
        "4",
        "Wages for some occupations that do not generally work year-round, full time, are "
        "reported either as hourly wages or annual salaries depending on how they are "
        "typically paid.",
    ),
    ("5", "This wage is equal to or greater than $115.00 per hour or $239,200 per year."),
    ("8", "Estimate not released."),
)

# --- datatypes -----------------------------------------------------------------------------
EMP, EMP_PRSE, H_MEAN, A_MEAN, WAGE_PRSE = "01", "02", "03", "04", "05"
H_PCT = {"06": 10, "07": 25, "08": 50, "09": 75, "10": 90}
A_PCT = {"11": 10, "12": 25, "13": 50, "14": 75, "15": 90}
JOBS_1000, LOC_Q = "16", "17"
DATATYPES = tuple(f"{n:02d}" for n in range(1, 18))
EMPLOYMENT_TYPES = frozenset({EMP, EMP_PRSE, JOBS_1000, LOC_Q})
WAGE_TYPES = frozenset(DATATYPES) - EMPLOYMENT_TYPES
ANNUAL_TYPES = frozenset({A_MEAN, *A_PCT})

# --- what the mirror holds -----------------------------------------------------------------
# (state_code, area_code) rows kept from the real oe.area, with illustrative profiles:
# share of U.S. employment, wage level relative to the nation.
NATIONAL = "0000000"
AREA_PROFILES: dict[str, tuple[float, float]] = {
    "0600000": (0.1155, 1.17),  # California
    "2500000": (0.0240, 1.20),  # Massachusetts
    "0071650": (0.0183, 1.25),  # Boston-Cambridge-Nashua, MA-NH (NECTA)
}
INDUSTRIES = ("000000", "000001", "62--63", "622000")
CROSS_INDUSTRY = "000000"

# Occupations as BLS publishes them: BLS leaves out a broad (or minor) group that is the same
# aggregate as its only child (no 111010, 113020, 291140 in the real oe.occupation, none of
# them in the EP table either), so these are the published ancestors of the detailed codes.
OCCUPATIONS = (
    "000000",
    "110000", "111000", "111011", "111021", "113000", "113021", "119000", "119111",
    "150000", "151200", "151210", "151211", "151212", "151230", "151231", "151232",
    "290000", "291000", "291141", "291171", "291210", "291211", "291215",
    "292000", "292010", "292061", "292072", "299000", "299021",
    "310000", "311100", "311130", "311131",
    "430000", "436010", "436013",
)  # fmt: skip

# 2018 SOC codes missing from the (May 2020/2021 hybrid-SOC) sample oe.occupation:
# (OEWS title-case 2018 SOC title, display_level).
NEW_OCCUPATIONS: dict[str, tuple[str, str]] = {
    "291210": ("Physicians", "2"),
    "292072": ("Medical Records Specialists", "3"),
    "299021": ("Health Information Technologists and Medical Registrars", "3"),
}

# Single-child groups that BLS does not publish, added only with --all-broad-groups; each is
# the same aggregate as (and so gets the title and estimates of) the code it maps to.
SINGLE_CHILD_GROUPS: dict[str, str] = {
    "111010": "111011",
    "111020": "111021",
    "113020": "113021",
    "119110": "119111",
    "291140": "291141",
    "291170": "291171",
    "292060": "292061",
    "292070": "292072",
    "299020": "299021",
    "436000": "436010",
}

# Codes whose EP line has another code (the same aggregate): 43-6010 is 43-6000 in EP.
EP_ALIASES = {"436010": "43-6000"}

# Occupations with industry-specific national series, with illustrative employment shares
# of their cross-industry total for 000001 (private), 62--63 (health care and social
# assistance) and 622000 (hospitals).
INDUSTRY_SHARES: dict[str, tuple[float, float, float]] = {
    "000000": (0.853, 0.139, 0.045),
    "110000": (0.880, 0.070, 0.020),
    "111011": (0.930, 0.080, 0.015),
    "113021": (0.900, 0.050, 0.025),
    "150000": (0.870, 0.030, 0.015),
    "151232": (0.820, 0.060, 0.035),
    "290000": (0.840, 0.800, 0.400),
    "291141": (0.820, 0.880, 0.600),
    "291211": (0.880, 0.900, 0.350),
    "292072": (0.860, 0.700, 0.280),
    "299021": (0.780, 0.550, 0.400),
}
INDUSTRY_WAGE_RANGE = {"000001": (0.98, 1.04), "62--63": (0.95, 1.06), "622000": (1.02, 1.12)}

# BLS-style gaps: combinations with no estimate at all (no series), and cells whose value is
# "-" with footnote 8. Keys are (area_code, industry_code, occupation_code).
NO_ESTIMATE = frozenset(
    {("0071650", CROSS_INDUSTRY, "291211"), ("0071650", CROSS_INDUSTRY, "291215")}
)
NOT_RELEASED: dict[tuple[str, str, str], frozenset[str]] = {
    ("0071650", CROSS_INDUSTRY, "299021"): EMPLOYMENT_TYPES,
    (NATIONAL, "622000", "111011"): WAGE_TYPES,
}

# U.S. totals: employment ~152 million (illustrative); mean wage $67,920 / $32.66 (real).
US_EMPLOYMENT = 152_000_000
US_MEAN_ANNUAL = 67_920
US_MEAN_HOURLY = Decimal("32.66")

# Hidden centre of the wage distribution for occupations whose real median is top-coded
# (never published: it only anchors the illustrative mean and low percentiles).
TOP_CODED_BASE = {"291210": 262_000, "291211": 335_000}
RATIO_OVERRIDES = {"291211": (0.45, 0.68, 1.20, 1.45, 1.01)}

# Occupational mix of the areas (illustrative): multiplier by SOC major group.
AREA_TILT = {
    ("0600000", "15"): 1.25,
    ("2500000", "15"): 1.10,
    ("0071650", "15"): 1.30,
    ("0600000", "29"): 0.92,
    ("2500000", "29"): 1.12,
    ("0071650", "29"): 1.15,
    ("0600000", "11"): 1.05,
    ("2500000", "11"): 1.08,
    ("0071650", "11"): 1.15,
}


# --- small helpers -------------------------------------------------------------------------
def rng(*parts: str) -> random.Random:
    """A random stream that depends only on its key (str seeds are hashed with SHA-512)."""
    return random.Random("|".join((SEED, *parts)))


def round_to(value: float, step: str) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal(step), rounding=ROUND_HALF_UP)


def round_tens(value: float) -> int:
    return int(round_to(value / 10, "1")) * 10


def hourly_of(annual: int) -> Decimal:
    return round_to(annual / HOURS_PER_YEAR, "0.01")


def write_text(path: Path, lines: Iterable[str], newline: str) -> None:
    path.write_bytes("".join(line + newline for line in lines).encode("ascii"))


def read_lines(path: Path) -> tuple[str, list[str]]:
    """Header and data lines of a real lookup file, line ends removed."""
    lines = path.read_bytes().decode("ascii").split(CRLF)
    if lines[-1] == "":
        lines.pop()
    return lines[0], lines[1:]


# --- the EP workbook -----------------------------------------------------------------------
@dataclass(frozen=True)
class EpLine:
    code: str  # "29-2072"
    title: str
    employment_thousands: float
    self_employed_pct: float
    median: int | None  # None when top-coded
    top_coded: bool


def read_ep(path: Path) -> dict[str, EpLine]:
    """Table 1.2 lines by code; the header row is found by its text."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Table 1.2").to_python()
    header_at = next(
        i for i, r in enumerate(rows) if "National Employment Matrix code" in str(r[1])
    )
    header = [str(c).strip() for c in rows[header_at]]

    def column(prefix: str) -> int:
        return next(i for i, name in enumerate(header) if name.startswith(prefix))

    title_col = column("2024 National Employment Matrix title")
    code_col, emp_col = column("2024 National Employment Matrix code"), column("Employment, 2024")
    se_col, wage_col = column("Percent self employed, 2024"), column("Median annual wage")
    if "2024" not in header[wage_col]:
        raise SystemExit(f"EP wage column is not May 2024: {header[wage_col]!r}")
    lines: dict[str, EpLine] = {}
    for row in rows[header_at + 1 :]:
        code = str(row[code_col]).strip()
        if len(code) != 7 or code[2] != "-":
            continue  # footnote rows
        wage = row[wage_col]
        top_coded = isinstance(wage, str) and wage.strip().startswith(">=")
        if top_coded:
            cap = int(str(wage).strip().removeprefix(">=").lstrip("$").replace(",", ""))
            if cap != TOP_CODE_ANNUAL:
                raise SystemExit(f"EP top code {wage!r} for {code} is not ${TOP_CODE_ANNUAL:,}")
        se = row[se_col]
        lines[code] = EpLine(
            code=code,
            title=str(row[title_col]).strip(),
            employment_thousands=float(row[emp_col]),
            self_employed_pct=float(se) if isinstance(se, float) else 0.0,
            median=int(wage) if isinstance(wage, float) else None,
            top_coded=top_coded,
        )
    return lines


def ep_line_for(code: str, ep: dict[str, EpLine]) -> EpLine:
    ep_code = EP_ALIASES.get(code, f"{code[:2]}-{code[2:]}")
    line = ep.get(ep_code)
    if line is None or (line.median is None and not line.top_coded):
        raise SystemExit(f"no May 2024 median wage in the EP workbook for {ep_code}")
    return line


# --- estimates -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Estimate:
    """One (area, industry, occupation) cell before publication rules are applied."""

    employment: int
    emp_prse: Decimal
    wage_prse: Decimal
    mean: int
    pct: dict[int, int]  # percentile -> annual wage (hidden values included)
    mean_hourly: Decimal | None = None  # set when it is not simply mean / 2080


def parent_of(code: str, codes: Iterable[str]) -> str | None:
    """Nearest published ancestor, by SOC code pattern (broad, minor, major, total)."""
    present = set(codes)
    for candidate in (code[:5] + "0", code[:4] + "00", code[:3] + "000", code[:2] + "0000"):
        if candidate != code and candidate in present:
            return candidate
    return "000000" if code != "000000" else None


def prse(size: float, scale: float, key: tuple[str, ...]) -> Decimal:
    value = scale / math.sqrt(max(size, 1.0)) * rng("prse", *key).uniform(0.7, 1.3)
    return round_to(min(max(value, 0.1), 25.0), "0.1")


def national_ratios(occ: str) -> tuple[float, float, float, float, float]:
    """p10, p25, p75, p90 and mean as multiples of the median (illustrative)."""
    if occ in RATIO_OVERRIDES:
        return RATIO_OVERRIDES[occ]
    r = rng("ratios", occ)
    return (
        r.uniform(0.56, 0.68),
        r.uniform(0.76, 0.86),
        r.uniform(1.18, 1.30),
        r.uniform(1.42, 1.70),
        r.uniform(1.04, 1.14),
    )


def make_estimate(
    employment: float, median: float, ratios: tuple[float, ...], key: tuple[str, ...]
) -> Estimate:
    p10, p25, p75, p90, mean = ratios
    pct = {10: p10, 25: p25, 50: 1.0, 75: p75, 90: p90}
    emp = max(round_tens(employment), 30)
    return Estimate(
        employment=emp,
        emp_prse=prse(emp, 250.0, key),
        wage_prse=prse(emp, 150.0, (*key, "wage")),
        mean=round_tens(median * mean),
        pct={p: round_tens(median * f) for p, f in pct.items()},
    )


def jitter(ratios: tuple[float, ...], key: tuple[str, ...]) -> tuple[float, ...]:
    r = rng("jitter", *key)
    spread = [x * r.uniform(0.97, 1.03) for x in ratios[:4]]
    return (*spread, ratios[4] * r.uniform(0.98, 1.02))


def enforce_totals(cells: dict[str, Estimate], occupations: list[str]) -> None:
    """Make every group at least the sum of its published children (bottom-up)."""
    for code in sorted(cells, key=lambda c: (-len(c.rstrip("0")), c)):
        children = [c for c in cells if c != code and parent_of(c, occupations) == code]
        floor = sum(cells[c].employment for c in children)
        if floor > cells[code].employment:
            grown = round_tens(floor * 1.02)
            cells[code] = replace(cells[code], employment=grown)


def build_estimates(
    occupations: list[str], ep: dict[str, EpLine]
) -> dict[tuple[str, str], dict[str, Estimate]]:
    """Estimates by (area_code, industry_code) then occupation code."""
    real = [c for c in occupations if c not in SINGLE_CHILD_GROUPS]
    total = ep_line_for("000000", ep)
    scale = US_EMPLOYMENT / (
        total.employment_thousands * 1000 * (1 - total.self_employed_pct / 100)
    )

    national: dict[str, Estimate] = {}
    medians: dict[str, float] = {}
    for occ in real:
        line = ep_line_for(occ, ep)
        medians[occ] = line.median if line.median is not None else TOP_CODED_BASE[occ]
        wage_and_salary = line.employment_thousands * 1000 * (1 - line.self_employed_pct / 100)
        national[occ] = make_estimate(
            wage_and_salary * scale, medians[occ], national_ratios(occ), ("N", occ)
        )
    national["000000"] = replace(
        national["000000"],
        employment=US_EMPLOYMENT,
        mean=US_MEAN_ANNUAL,
        mean_hourly=US_MEAN_HOURLY,
    )
    enforce_totals(national, real)
    cells: dict[tuple[str, str], dict[str, Estimate]] = {(NATIONAL, CROSS_INDUSTRY): national}

    for area, (share, wage_level) in AREA_PROFILES.items():
        cell: dict[str, Estimate] = {}
        for occ in real:
            r = rng("area", area, occ)
            mix = (
                1.0
                if occ == "000000"
                else AREA_TILT.get((area, occ[:2]), 1.0) * r.uniform(0.85, 1.15)
            )
            cell[occ] = make_estimate(
                national[occ].employment * share * mix,
                medians[occ] * wage_level * r.uniform(0.93, 1.07),
                jitter(national_ratios(occ), (area, occ)),
                (area, occ),
            )
        enforce_totals(cell, real)
        cells[(area, CROSS_INDUSTRY)] = cell

    for i, industry in enumerate(INDUSTRIES[1:]):
        low, high = INDUSTRY_WAGE_RANGE[industry]
        cell = {}
        for occ, shares in INDUSTRY_SHARES.items():
            r = rng("industry", industry, occ)
            cell[occ] = make_estimate(
                national[occ].employment * shares[i],
                medians[occ] * r.uniform(low, high),
                jitter(national_ratios(occ), (industry, occ)),
                (industry, occ),
            )
        enforce_totals(cell, list(INDUSTRY_SHARES))
        cells[(NATIONAL, industry)] = cell

    # Single-child groups (only with --all-broad-groups) are the same aggregate as the child.
    for cell in cells.values():
        for group, child in SINGLE_CHILD_GROUPS.items():
            if group in occupations and child in cell:
                cell[group] = cell[child]
    return cells


# --- publication ---------------------------------------------------------------------------
def publish(
    est: Estimate, totals: Estimate, national: Estimate, national_total: Estimate
) -> dict[str, tuple[str, str]]:
    """The 17 (value, footnote_codes) pairs of a cell, with top-coding applied."""
    out: dict[str, tuple[str, str]] = {
        EMP: (str(est.employment), ""),
        EMP_PRSE: (str(est.emp_prse), ""),
        A_MEAN: (str(est.mean), ""),  # BLS publishes means above the top code
        H_MEAN: (str(est.mean_hourly or hourly_of(est.mean)), ""),
        WAGE_PRSE: (str(est.wage_prse), ""),
    }
    for dt_hourly, dt_annual, p in zip(H_PCT, A_PCT, (10, 25, 50, 75, 90), strict=True):
        annual = est.pct[p]
        if annual >= TOP_CODE_ANNUAL:
            out[dt_hourly] = out[dt_annual] = ("-", FN_TOP_CODED)
        else:
            out[dt_hourly], out[dt_annual] = (str(hourly_of(annual)), ""), (str(annual), "")
    share = est.employment / totals.employment
    out[JOBS_1000] = (str(round_to(share * 1000, "0.001")), "")
    lq = share / (national.employment / national_total.employment)
    out[LOC_Q] = (str(round_to(lq, "0.01")), "")
    return out


@dataclass(frozen=True)
class Series:
    series_id: str
    areatype: str
    state_code: str
    area_code: str
    industry: str
    occupation: str
    datatype: str
    value: str
    footnote: str


def build_series(
    cells: dict[tuple[str, str], dict[str, Estimate]],
    occupations: list[str],
    areas: dict[str, tuple[str, str]],
) -> list[Series]:
    """Every published series, sorted by series_id. ``areas``: code -> (state, areatype)."""
    national = cells[(NATIONAL, CROSS_INDUSTRY)]
    out: list[Series] = []
    for (area, industry), cell in cells.items():
        state, areatype = areas[area]
        for occ in occupations:
            if (
                occ not in cell
                or (area, industry, SINGLE_CHILD_GROUPS.get(occ, occ)) in NO_ESTIMATE
            ):
                continue
            values = publish(cell[occ], cell["000000"], national[occ], national["000000"])
            hidden = NOT_RELEASED.get(
                (area, industry, SINGLE_CHILD_GROUPS.get(occ, occ)), frozenset()
            )
            for dt in DATATYPES:
                value, footnote = ("-", FN_NOT_RELEASED) if dt in hidden else values[dt]
                sid = f"OEU{areatype}{area}{industry}{occ}{dt}"
                out.append(Series(sid, areatype, state, area, industry, occ, dt, value, footnote))
    return sorted(out, key=lambda s: s.series_id)


# --- files ---------------------------------------------------------------------------------
def occupation_rows(occupations: list[str], samples_oe: Path) -> tuple[str, list[str]]:
    header, lines = read_lines(samples_oe / "oe.occupation")
    real = {line.split("\t")[0]: line.split("\t") for line in lines}
    rows = []
    for seq, code in enumerate(occupations):
        if code in real:
            name, level, selectable = real[code][1:4]
        elif code in NEW_OCCUPATIONS:
            (name, level), selectable = NEW_OCCUPATIONS[code], "T"
        elif code in SINGLE_CHILD_GROUPS:
            child = SINGLE_CHILD_GROUPS[code]
            name = real[child][1] if child in real else NEW_OCCUPATIONS[child][0]
            level, selectable = ("1" if code.endswith("000") else "2"), "T"
        else:
            raise SystemExit(f"no title for occupation {code}")
        rows.append("\t".join((code, name, level, selectable, str(seq))))
    return header, rows


def subset(samples_oe: Path, name: str, keep: Iterable[str]) -> tuple[str, list[str]]:
    """Header and the rows of a real lookup file whose key column is in ``keep``."""
    header, lines = read_lines(samples_oe / name)
    key_at = 1 if name == "oe.area" else 0
    wanted = set(keep)
    rows = [line for line in lines if line.split("\t")[key_at] in wanted]
    missing = wanted - {line.split("\t")[key_at] for line in rows}
    if missing:
        raise SystemExit(f"{name}: codes not in the real file: {sorted(missing)}")
    return header, rows


def series_title(s: Series, names: dict[str, dict[str, str]]) -> str:
    industry = "All Industries" if s.industry == CROSS_INDUSTRY else names["industry"][s.industry]
    return (
        f"{names['datatype'][s.datatype]} for {names['occupation'][s.occupation]}"
        f" in {industry} in {names['area'][s.area_code]}"
    )


def build(samples: Path, out: Path, all_broad_groups: bool) -> list[Path]:
    samples_oe, ep_path = samples / "oe", samples / "ep" / "occupation_2024-34.xlsx"
    target = out / OE_DIR
    target.mkdir(parents=True, exist_ok=True)
    occupations = list(OCCUPATIONS)
    if all_broad_groups:
        occupations = sorted({*occupations, *SINGLE_CHILD_GROUPS}, key=int)
    if occupations != sorted(occupations, key=int):
        raise SystemExit("OCCUPATIONS must be in SOC order")

    ep = read_ep(ep_path)
    written: list[Path] = []

    def emit(name: str, header: str, rows: list[str], newline: str) -> None:
        write_text(target / name, [header, *rows], newline)
        written.append(target / name)

    for name in ("oe.datatype", "oe.areatype", "oe.seasonal"):
        shutil.copyfile(samples_oe / name, target / name)
        written.append(target / name)
    emit("oe.release", "release_date\tdescription", ["\t".join(RELEASE)], CRLF)
    emit("oe.footnote", "footnote_code\tfootnote_text", [f"{c}\t{t}" for c, t in FOOTNOTES], CRLF)
    area_header, area_rows = subset(samples_oe, "oe.area", [NATIONAL, *AREA_PROFILES])
    emit("oe.area", area_header, area_rows, CRLF)
    emit("oe.industry", *subset(samples_oe, "oe.industry", INDUSTRIES), CRLF)
    occ_header, occ_rows = occupation_rows(occupations, samples_oe)
    emit("oe.occupation", occ_header, occ_rows, CRLF)

    names = {
        "area": {r.split("\t")[1]: r.split("\t")[3] for r in area_rows},
        "industry": {
            r.split("\t")[0]: r.split("\t")[1]
            for r in subset(samples_oe, "oe.industry", INDUSTRIES)[1]
        },
        "occupation": {r.split("\t")[0]: r.split("\t")[1] for r in occ_rows},
        "datatype": dict(line.split("\t") for line in read_lines(samples_oe / "oe.datatype")[1]),
    }
    areas = {r.split("\t")[1]: (r.split("\t")[0], r.split("\t")[2]) for r in area_rows}
    series = build_series(build_estimates(occupations, ep), occupations, areas)

    data_header = "\t".join(
        ("series_id".ljust(30), "year", "period", "value".rjust(12), "footnote_codes")
    )
    data_rows = [
        "\t".join((s.series_id.ljust(30), YEAR, PERIOD, s.value.rjust(12), s.footnote))
        for s in series
    ]
    emit("oe.data.0.Current", data_header, data_rows, LF)

    series_rows = [
        "\t".join(
            (
                s.series_id.ljust(30),
                "U",
                s.areatype,
                s.industry,
                s.occupation,
                s.datatype,
                s.state_code,
                s.area_code,
                "00--01" if s.industry in ("000000", "000001") else "62--63",
                series_title(s, names),
                FN_ANNUAL_FROM_HOURLY if s.datatype in ANNUAL_TYPES else "",
                YEAR,
                PERIOD,
                YEAR,
                PERIOD,
            )
        )
        for s in series
    ]
    emit("oe.series", SERIES_HEADER, series_rows, LF)

    for path in written:
        os.utime(path, (MTIME, MTIME))
    check(target)
    return written


# --- self-check ----------------------------------------------------------------------------
def read_stripped(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    frame.columns = [c.strip() for c in frame.columns]
    return frame.apply(lambda col: col.str.strip())


def check(target: Path) -> None:
    """Every file parses; ids are 25 characters; every code resolves in its lookup."""
    tables = {p.name: read_stripped(p) for p in sorted(target.iterdir())}
    data, series = tables["oe.data.0.Current"], tables["oe.series"]
    problems: list[str] = []
    if not data["series_id"].str.len().eq(25).all():
        problems.append("series_id not 25 characters")
    if list(data["series_id"]) != list(series["series_id"]):
        problems.append("oe.series and oe.data.0.Current disagree")
    sid = data["series_id"]
    parts = {
        "areatype_code": (sid.str[3], tables["oe.areatype"]["areatype_code"]),
        "area_code": (sid.str[4:11], tables["oe.area"]["area_code"]),
        "industry_code": (sid.str[11:17], tables["oe.industry"]["industry_code"]),
        "occupation_code": (sid.str[17:23], tables["oe.occupation"]["occupation_code"]),
        "datatype_code": (sid.str[23:25], tables["oe.datatype"]["datatype_code"]),
    }
    for name, (codes, lookup) in parts.items():
        if not codes.isin(set(lookup)).all():
            problems.append(f"{name} not in its lookup: {sorted(set(codes) - set(lookup))}")
        if not series[name].eq(codes).all():
            problems.append(f"oe.series {name} disagrees with the series_id")
    notes = set(data["footnote_codes"]) - {""}
    if not notes <= set(tables["oe.footnote"]["footnote_code"]):
        problems.append(f"unknown footnote codes {notes}")
    per_series = data.groupby(sid.str[:23]).size()
    if not per_series.eq(17).all():
        problems.append("a series combination lacks some of the 17 datatypes")
    if not data.loc[data["value"].eq("-"), "footnote_codes"].isin({"5", "8"}).all():
        problems.append("a '-' value without footnote 5 or 8")
    for combo, rows in data.assign(c=sid.str[:23], d=sid.str[23:]).groupby("c"):
        values = dict(zip(rows["d"], rows["value"], strict=True))
        for dts in (list(A_PCT), list(H_PCT)):
            shown = [float(values[d]) for d in dts if values[d] != "-"]
            if shown != sorted(shown) or len(set(shown)) != len(shown):
                problems.append(f"{combo}: percentiles not increasing")
    if problems:
        raise SystemExit("self-check failed:\n  " + "\n  ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the OEWS May 2024 sample mirror.")
    parser.add_argument(
        "samples", nargs="?", type=Path, default=DEFAULT_SAMPLES, help="shared samples folder"
    )
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="mirror folder")
    parser.add_argument(
        "--all-broad-groups",
        action="store_true",
        help="also list the single-child groups BLS leaves out (111010, 292070, 299020, ...)",
    )
    args = parser.parse_args(argv)
    if not (args.samples / "oe" / "oe.occupation").is_file():
        print(f"samples folder not found: {args.samples}", file=sys.stderr)
        return 2
    for path in build(args.samples, args.out, args.all_broad_groups):
        rows = path.read_bytes().count(b"\n") - 1
        print(f"{path}  ({rows} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
