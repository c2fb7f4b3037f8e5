"""Employment Projections workbook (``occupation.xlsx``) → the ``projections`` table.

The header row is found by its text, never by position; the vintage (cycle, base, target and
wage years) comes from the header and title text. Two layouts are known:

- 2016–26 onward: sheet ``Table 1.2`` with one header row (``2024 National Employment Matrix
  code``, ``Employment, 2024``, ``Employment change, percent, 2024–34``, ``Median annual wage,
  dollars, 2024[1]``, education, experience, training).
- 2014–24 (December 2015): sheet ``Table 1.2 Employment by detailed occupation, 2014 and
  projected 2024`` with a two-row header (``Employment`` / ``2014``, ``Change, 2014-24`` /
  ``Number``); the wage, education and training columns are in ``Table 1.7``, joined by code.

Employment is published in thousands with one decimal: it is stored in persons (188.6 →
188,600), which is exact. Percentages keep their one published decimal.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from bls_refresh.errors import ValidationError
from bls_refresh.staging import StagedLoad, stage_frame, stamp

NOT_AVAILABLE = "—"
SOC = re.compile(r"^\d{2}-\d{4}$")
_RANGE = re.compile(r"(\d{4})\s*[–—-]\s*(\d{2,4})")
_TOP = re.compile(r">=\s*\$?\s*([\d,]+)")
_FOOTNOTE_MARK = re.compile(r"\[\d+\]|\(\d+\)")

# The numeric columns read cell by cell from the workbook ("—" → null, listed as not available).
_NUMBERS = (
    "employment_base",
    "employment_target",
    "employment_change",
    "employment_change_pct",
    "openings_annual",
    "self_employed_pct",
)
COLUMNS = (
    "cycle",
    "base_year",
    "target_year",
    "soc_code",
    "soc_version",
    "title",
    "occupation_type",
    "level",
    *_NUMBERS,
    "median_annual_wage",
    "median_wage_status",
    "median_wage_top_code",
    "wage_year",
    "education",
    "experience",
    "training",
    "not_available",
)

# canonical field → pattern on the normalised header text (lower case, footnote marks removed)
_FIELDS: dict[str, re.Pattern[str]] = {
    "title": re.compile(r"\btitle\b"),
    "soc_code": re.compile(r"\bcode\b"),
    "occupation_type": re.compile(r"occupation type"),
    "employment_change": re.compile(r"change\b.*\b(numeric|number)\b"),
    "employment_change_pct": re.compile(r"change\b.*\bpercent\b"),
    "self_employed_pct": re.compile(r"self[ -]employed"),
    # Annual averages only: 2014–24 published a ten-year total ("Job openings due to growth
    # and replacement needs, 2014-24"), which is not an annual figure.
    "openings_annual": re.compile(r"openings.*\bannual\b|\bannual\b.*openings"),
    "median_annual_wage": re.compile(r"median annual wage"),
    "education": re.compile(r"education"),
    "experience": re.compile(r"work experience"),
    "training": re.compile(r"on-the-job training"),
}
_EMPLOYMENT = re.compile(r"^employment,?\s+(\d{4})$")


@dataclasses.dataclass(frozen=True)
class Projections:
    cycle: str  # "2024-34"
    base_year: int
    target_year: int
    wage_year: int | None
    sheet: str
    frame: pd.DataFrame


def normalise(text: object) -> str:
    if isinstance(text, float) and text.is_integer():
        text = int(text)  # a year typed as a number reads back as 2014.0
    cleaned = _FOOTNOTE_MARK.sub("", str(text or "")).replace("\n", " ")
    return re.sub(r"\s+", " ", cleaned).strip().lower()


def _sheet_rows(book: CalamineWorkbook, name: str) -> list[list[object]]:
    return book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _find_sheet(book: CalamineWorkbook, label: str, number: str) -> str | None:
    """The sheet named ``Table 1.2`` (or starting with it), matched exactly on the number."""
    for name in book.sheet_names:
        if re.fullmatch(rf"table {re.escape(number)}(\s.*)?", name.strip().lower()):
            return name
    return None


def _header(rows: list[list[object]], label: str) -> tuple[int, int, list[str]]:
    """(first header row, first data row, column names) found by the header's text."""
    for i, row in enumerate(rows[:20]):
        cells = [normalise(c) for c in row]
        if any("code" in c for c in cells) and any("title" in c for c in cells):
            names = cells
            nxt = [normalise(c) for c in rows[i + 1]] if i + 1 < len(rows) else []
            first_is_code = (
                any(SOC.match(str(c).strip()) for c in rows[i + 1][:3]) if nxt else False
            )
            if nxt and not first_is_code and any(nxt):
                # Two-row header: group labels above, years / Number / Percent below.
                group = ""
                merged = []
                for top, sub in zip(cells, nxt + [""] * (len(cells) - len(nxt)), strict=False):
                    group = top or group
                    merged.append(f"{group} {sub}".strip() if sub else (top or group))
                return i, i + 2, merged
            return i, i + 1, names
    raise ValidationError(
        label,
        "header row",
        "no row with an occupation title and code header (e.g. '2024 National Employment "
        "Matrix code') in the first 20 rows",
        [" | ".join(str(c) for c in r if c not in ("", None))[:120] for r in rows[:3]],
    )


def _columns(names: list[str], label: str) -> tuple[dict[str, int], int, int, int | None]:
    found: dict[str, int] = {}
    employment: list[tuple[int, int]] = []
    wage_year: int | None = None
    for j, name in enumerate(names):
        if not name:
            continue
        match = _EMPLOYMENT.match(name) or re.match(r"^employment (\d{4})$", name)
        if match and "distribution" not in name:
            employment.append((j, int(match.group(1))))
            continue
        for field, pattern in _FIELDS.items():
            if field not in found and pattern.search(name) and "distribution" not in name:
                if field == "title" and "code" in name and "soc_code" not in found:
                    continue  # "title and code" in one cell is not a title column alone
                found[field] = j
                if field == "median_annual_wage":
                    years = re.findall(r"\b(\d{4})\b", name)
                    wage_year = int(years[-1]) if years else None
                break
    required = ("title", "soc_code", "employment_change", "employment_change_pct")
    missing = [f for f in required if f not in found]
    if len(employment) != 2 or missing:
        raise ValidationError(
            label,
            "expected columns",
            f"need title, code, two 'Employment, YYYY' columns, numeric and percent change; "
            f"missing {missing or 'employment years'}; got {[n for n in names if n]}",
        )
    (base_col, base_year), (target_col, target_year) = sorted(employment, key=lambda e: e[1])
    found["employment_base"] = base_col
    found["employment_target"] = target_col
    return found, base_year, target_year, wage_year


def _cycle(base: int, target: int, texts: list[str], label: str) -> str:
    cycle = f"{base}-{target % 100:02d}"
    for text in texts:
        for start, end in _RANGE.findall(text):
            if int(start) == base and int(end[-2:]) != target % 100:
                raise ValidationError(
                    label,
                    "one cycle",
                    f"header says {start}-{end} but employment is {base}/{target}",
                )
    return cycle


def _number(value: object) -> float | None:
    if (
        value is None
        or value == ""
        or (isinstance(value, float) and math.isnan(value))  # no Table 1.7 row for the code
        or (isinstance(value, str) and value.strip() in (NOT_AVAILABLE, "-", "–"))
    ):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip().replace(",", "").replace("$", "")
    try:
        return float(text)
    except ValueError:
        raise ValueError(str(value)) from None


def _persons(thousands: float | None) -> int | None:
    return None if thousands is None else round(thousands * 1000)


def _text(value: object) -> str | None:
    if isinstance(value, float) and math.isnan(value):
        return None
    text = str(value or "").strip()
    return None if text in ("", NOT_AVAILABLE, "-") else text


def _is_not_available(value: object) -> bool:
    return isinstance(value, str) and value.strip() == NOT_AVAILABLE


def _level(raw_title: object) -> int:
    text = str(raw_title or "")
    return (len(text) - len(text.lstrip(" "))) // 2


def _table_rows(rows: list[list[object]], start: int, label: str) -> list[list[object]]:
    """Occupation rows: from the header down to the first footnote/source row."""
    body: list[list[object]] = []
    for i, row in enumerate(rows[start:], start=start):
        cells = [c for c in row if c not in ("", None)]
        if not cells:
            continue
        code = next((str(c).strip() for c in row[:3] if SOC.match(str(c).strip())), None)
        if code is None:
            first = normalise(cells[0])
            if first.startswith(("footnote", "note", "source", "[", "(")) or len(cells) == 1:
                break  # footnotes and source lines follow the last occupation
            raise ValidationError(
                label,
                "every row has an occupation code",
                f"row {i + 1} has none",
                [str(cells)[:160]],
            )
        body.append(row)
    if not body:
        raise ValidationError(label, "not empty", "no occupation rows under the header")
    return body


def _parse_sheet(
    book: CalamineWorkbook, sheet: str, label: str
) -> tuple[pd.DataFrame, dict[str, object]]:
    rows = _sheet_rows(book, sheet)
    _, start, names = _header(rows, f"{label} [{sheet}]")
    columns, base, target, wage_year = _columns(names, f"{label} [{sheet}]")
    texts = [normalise(rows[0][0]) if rows and rows[0] else "", *names]
    meta = {"base_year": base, "target_year": target, "wage_year": wage_year, "texts": texts}
    records = []
    for row in _table_rows(rows, start, f"{label} [{sheet}]"):
        get = {f: (row[j] if j < len(row) else None) for f, j in columns.items()}
        records.append({"raw_title": get.get("title"), **get})
    return pd.DataFrame.from_records(records), meta


def parse_workbook(path: Path, label: str | None = None) -> Projections:
    label = label or path.name
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for non-xlsx input
        raise ValidationError(
            label, "readable xlsx workbook", f"{type(exc).__name__}: {exc}"
        ) from exc
    sheet = _find_sheet(book, label, "1.2")
    if sheet is None:
        raise ValidationError(
            label,
            "sheet 'Table 1.2'",
            "an Employment Projections occupation workbook has a sheet 'Table 1.2'; "
            f"got {book.sheet_names}",
        )
    frame, meta = _parse_sheet(book, sheet, label)
    wage_year = meta["wage_year"]
    if "median_annual_wage" not in frame.columns:
        # 2014–24 layout: wages, education and training live in Table 1.7.
        extra_sheet = _find_sheet(book, label, "1.7")
        if extra_sheet is None:
            raise ValidationError(
                label, "median wage column", "no wage column in Table 1.2 and no Table 1.7"
            )
        extra, extra_meta = _parse_sheet(book, extra_sheet, label)
        wanted = [
            "soc_code",
            "median_annual_wage",
            "education",
            "experience",
            "training",
            "openings_annual",
            "self_employed_pct",
        ]
        keep = [
            c for c in wanted if c in extra.columns and (c == "soc_code" or c not in frame.columns)
        ]
        extra = extra[keep].assign(soc_code=lambda f: f["soc_code"].astype(str).str.strip())
        frame = frame.assign(soc_code=frame["soc_code"].astype(str).str.strip()).merge(
            extra, on="soc_code", how="left"
        )
        wage_year = extra_meta["wage_year"]
    base, target = int(meta["base_year"]), int(meta["target_year"])
    cycle = _cycle(base, target, [str(t) for t in meta["texts"]], label)
    tidy = _tidy(frame, cycle, base, target, wage_year, label)
    validate(tidy, label)
    return Projections(
        cycle=cycle,
        base_year=base,
        target_year=target,
        wage_year=wage_year,
        sheet=sheet,
        frame=tidy,
    )


def _tidy(
    frame: pd.DataFrame, cycle: str, base: int, target: int, wage_year: int | None, label: str
) -> pd.DataFrame:
    out: list[dict[str, object]] = []
    bad: list[str] = []
    for rec in frame.to_dict("records"):
        code = str(rec["soc_code"]).strip()
        missing: list[str] = []
        values: dict[str, float | None] = {}
        for field in _NUMBERS:
            raw = rec.get(field)
            try:
                values[field] = _number(raw)
            except ValueError:
                bad.append(f"{code} {field}={raw!r}")
                values[field] = None
            if values[field] is None and field in rec and raw is not None:
                missing.append(field)
        wage_raw = rec.get("median_annual_wage")
        wage, status, top = None, "not_available", None
        if isinstance(wage_raw, str) and _TOP.search(wage_raw):
            status, top = "top_coded", int(_TOP.search(wage_raw).group(1).replace(",", ""))  # type: ignore[union-attr]
        else:
            try:
                number = _number(wage_raw)
            except ValueError:
                bad.append(f"{code} median_annual_wage={wage_raw!r}")
                number = None
            if number is not None:
                wage, status = round(number), "ok"
            elif "median_annual_wage" in rec:
                missing.append("median_annual_wage")
        missing += [
            f for f in ("education", "experience", "training") if _is_not_available(rec.get(f))
        ]
        title_raw = rec.get("raw_title")
        out.append(
            {
                "cycle": cycle,
                "base_year": base,
                "target_year": target,
                "soc_code": code,
                "soc_version": "2018" if base >= 2018 else "2010",
                "title": str(title_raw or "").strip(),
                "occupation_type": _text(rec.get("occupation_type")),
                "level": _level(title_raw),
                "employment_base": _persons(values["employment_base"]),
                "employment_target": _persons(values["employment_target"]),
                "employment_change": _persons(values["employment_change"]),
                "employment_change_pct": values["employment_change_pct"],
                "openings_annual": _persons(values["openings_annual"]),
                "self_employed_pct": values["self_employed_pct"],
                "median_annual_wage": wage,
                "median_wage_status": status,
                "median_wage_top_code": top,
                "wage_year": wage_year,
                "education": _text(rec.get("education")),
                "experience": _text(rec.get("experience")),
                "training": _text(rec.get("training")),
                "not_available": ", ".join(missing) or None,
            }
        )
    if bad:
        raise ValidationError(
            label, "numbers or '—'", f"{len(bad)} cells are neither a number nor '—'", bad
        )
    tidy = pd.DataFrame.from_records(out, columns=list(COLUMNS))
    for column in (
        "employment_base",
        "employment_target",
        "employment_change",
        "openings_annual",
        "median_annual_wage",
        "median_wage_top_code",
        "wage_year",
    ):
        tidy[column] = tidy[column].astype("Int64")
    return tidy


def validate(frame: pd.DataFrame, label: str) -> None:
    dupes = frame[frame["soc_code"].duplicated(keep=False)]
    if not dupes.empty:
        raise ValidationError(
            label,
            "codes unique within a cycle",
            f"{dupes['soc_code'].nunique()} codes repeat",
            list(dupes["soc_code"].head(5)),
        )
    if "00-0000" not in set(frame["soc_code"]):
        raise ValidationError(label, "00-0000 present", "no 'Total, all occupations' row (00-0000)")
    both = frame.dropna(subset=["employment_base", "employment_target", "employment_change"])
    # Each figure is rounded to 0.1 thousand (100 persons), so target − base may be 150 off.
    off = both[
        (both["employment_target"] - both["employment_base"] - both["employment_change"]).abs()
        > 150
    ]
    if not off.empty:
        raise ValidationError(
            label,
            "change = target − base within rounding",
            f"{len(off)} rows disagree",
            [
                f"{r.soc_code}: {r.employment_target} − {r.employment_base} ≠ {r.employment_change}"
                for r in off.head(5).itertuples()
            ],
        )
    pct = frame.dropna(subset=["employment_base", "employment_change", "employment_change_pct"])
    pct = pct[pct["employment_base"] > 0]
    bad = [
        r
        for r in pct.itertuples()
        if not _pct_consistent(r.employment_base, r.employment_change, r.employment_change_pct)
    ]
    if bad:
        raise ValidationError(
            label,
            "percent change consistent within rounding",
            f"{len(bad)} rows disagree",
            [
                f"{r.soc_code}: {r.employment_change} / {r.employment_base} "
                f"≠ {r.employment_change_pct}%"
                for r in bad[:5]
            ],
        )


def _pct_consistent(base: int, change: int, pct: float) -> bool:
    """Is ``pct`` (one decimal) what BLS could print for the unrounded base and change?"""
    lo_b, hi_b = max(base - 50, 1), base + 50
    lo_c, hi_c = change - 50, change + 50
    candidates = [100 * c / b for c in (lo_c, hi_c) for b in (lo_b, hi_b)]
    return min(candidates) - 0.05 - 1e-9 <= pct <= max(candidates) + 0.05 + 1e-9 and not math.isnan(
        pct
    )


def stage_projections(
    path: Path,
    out_dir: Path,
    *,
    release_id: str,
    sources: dict[str, dict[str, object]],
    label: str | None = None,
) -> StagedLoad:
    """Parse and validate one EP workbook; stage ``projections`` rows of its cycle as parquet."""
    parsed = parse_workbook(path, label)
    table = stage_frame(parsed.frame, "projections", out_dir, release_id, {"cycle": parsed.cycle})
    return StagedLoad(
        kind="projections",
        vintage=parsed.cycle,
        tables=[table],
        sources=stamp(sources, parsed.cycle),
        guarded_table="projections",
        guard_growth=False,
    )
