"""SOC 2010 → 2018 crosswalk workbook → ``soc_crosswalk`` (one row per code pair).

The header row is found by its text (``2010 SOC Code``) and its columns by name, wherever
they stand (another column is schema drift); the crosswalk is
one-to-many (29-2071 became 29-2072 and 29-9021). Footnote marks such as ``(#)`` are
stripped from titles.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd

from core.errors import ValidationError
from core.staging import StagedLoad, stage_frame, stamp
from transforms.columns import Columns, by_name, normalise
from transforms.workbook import open_workbook, sheet_rows

SOC = re.compile(r"^\d{2}-\d{4}$")
_MARK = re.compile(r"\s*\(#+\)\s*$")
HEADER = ("2010 soc code", "2010 soc title", "2018 soc code", "2018 soc title")
# canonical column → its header, read by name wherever it stands
COLUMNS = {
    "from_code": ["2010 soc code"],
    "from_title": ["2010 soc title"],
    "to_code": ["2018 soc code"],
    "to_title": ["2018 soc title"],
}
VINTAGE = "SOC 2010 to 2018"


def _clean(text: object) -> str:
    return _MARK.sub("", str(text or "")).strip()


@dataclasses.dataclass(frozen=True)
class Crosswalk:
    frame: pd.DataFrame
    unknown: list[str]  # header cells no known column claims (schema drift)


def parse_crosswalk(path: Path, label: str | None = None) -> Crosswalk:
    label = label or path.name
    # Sizes checked before calamine allocates anything (transforms.workbook).
    book = open_workbook(path, label, check="readable xlsx workbook")
    for sheet in book.sheet_names:
        rows = sheet_rows(book, sheet, label, "readable xlsx workbook", skip_empty_area=False)
        for i, row in enumerate(rows[:30]):
            if set(HEADER) <= {normalise(c) for c in row}:
                columns = by_name(row, f"{label} [{sheet}]", required=COLUMNS)
                return Crosswalk(_rows(rows[i + 1 :], columns, label), columns.unknown)
    raise ValidationError(
        label,
        "header row",
        "expected a row with '2010 SOC Code', '2010 SOC Title', '2018 SOC Code' and "
        "'2018 SOC Title'",
    )


def _rows(rows: list[list[object]], columns: Columns, label: str) -> pd.DataFrame:
    records = []
    bad = []
    for row in rows:
        cells = {
            name: str(row[i]).strip() if i < len(row) and row[i] is not None else ""
            for name, i in columns.positions.items()
        }
        if not any(cells.values()):
            continue
        if not (SOC.match(cells["from_code"]) and SOC.match(cells["to_code"])):
            bad.append(" | ".join(cells.values()))
            continue
        records.append(
            {
                "from_version": "2010",
                "from_code": cells["from_code"],
                "from_title": _clean(cells["from_title"]),
                "to_version": "2018",
                "to_code": cells["to_code"],
                "to_title": _clean(cells["to_title"]),
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
    parsed = parse_crosswalk(path, label)
    frame = parsed.frame
    scope = {"from_version": "2010", "to_version": "2018"}
    return StagedLoad(
        kind="soc",
        vintage=VINTAGE,
        tables=[stage_frame(frame, "soc_crosswalk", out_dir, release_id, scope)],
        sources=stamp(sources, VINTAGE),
        schema_drift={f"{label or path.name}": parsed.unknown} if parsed.unknown else {},
    )
