"""SOC 2010 → 2018 crosswalk workbook → ``soc_crosswalk`` (one row per code pair).

The header row is found by its text (``2010 SOC Code``), not by position; the crosswalk is
one-to-many (29-2071 became 29-2072 and 29-9021). Footnote marks such as ``(#)`` are
stripped from titles.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from bls_refresh.errors import ValidationError
from bls_refresh.staging import StagedLoad, stage_frame, stamp

SOC = re.compile(r"^\d{2}-\d{4}$")
_MARK = re.compile(r"\s*\(#+\)\s*$")
HEADER = ("2010 soc code", "2010 soc title", "2018 soc code", "2018 soc title")
VINTAGE = "SOC 2010 to 2018"


def _clean(text: object) -> str:
    return _MARK.sub("", str(text or "")).strip()


def parse_crosswalk(path: Path, label: str | None = None) -> pd.DataFrame:
    label = label or path.name
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:
        raise ValidationError(
            label, "readable xlsx workbook", f"{type(exc).__name__}: {exc}"
        ) from exc
    for sheet in book.sheet_names:
        rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        for i, row in enumerate(rows[:30]):
            cells = tuple(str(c).strip().lower() for c in row[:4])
            if cells == HEADER:
                return _rows(rows[i + 1 :], label)
    raise ValidationError(
        label,
        "header row",
        "expected a row '2010 SOC Code | 2010 SOC Title | 2018 SOC Code | 2018 SOC Title'",
    )


def _rows(rows: list[list[object]], label: str) -> pd.DataFrame:
    records = []
    bad = []
    for row in rows:
        cells = [str(c).strip() for c in row[:4]] + [""] * (4 - len(row[:4]))
        if not any(cells):
            continue
        if not (SOC.match(cells[0]) and SOC.match(cells[2])):
            bad.append(" | ".join(cells))
            continue
        records.append(
            {
                "from_version": "2010",
                "from_code": cells[0],
                "from_title": _clean(cells[1]),
                "to_version": "2018",
                "to_code": cells[2],
                "to_title": _clean(cells[3]),
            }
        )
    if bad:
        raise ValidationError(label, "SOC codes in both columns", f"{len(bad)} rows", bad)
    frame = pd.DataFrame.from_records(records)
    if frame.empty:
        raise ValidationError(label, "not empty", "no code pairs under the header")
    dupes = frame[frame.duplicated(["from_code", "to_code"], keep=False)]
    if not dupes.empty:
        raise ValidationError(
            label,
            "unique code pairs",
            f"{len(dupes)} rows repeat a pair",
            [f"{r.from_code} → {r.to_code}" for r in dupes.head(5).itertuples()],
        )
    return frame


def stage_crosswalk(
    path: Path,
    out_dir: Path,
    *,
    release_id: str,
    sources: dict[str, dict[str, object]],
    label: str | None = None,
) -> StagedLoad:
    frame = parse_crosswalk(path, label)
    scope = {"from_version": "2010", "to_version": "2018"}
    return StagedLoad(
        kind="soc",
        vintage=VINTAGE,
        tables=[stage_frame(frame, "soc_crosswalk", out_dir, release_id, scope)],
        sources=stamp(sources, VINTAGE),
        guarded_table="soc_crosswalk",
    )
