"""What a transform hands to the warehouse: validated tables staged as parquet files."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class StagedTable:
    table: str
    path: Path
    rows: int
    # Rows of the lake table this load replaces: column → value (empty = the whole table).
    replaces: dict[str, object]
    # Replace only the rows whose primary key the staged file holds (lookups from partial
    # sources, e.g. a national special-request workbook, must not delete other rows).
    upsert: bool = False
    # Hand the staged parquet file itself to the lake (no second write of a big table).
    adopt: bool = False


@dataclasses.dataclass(frozen=True)
class StagedLoad:
    """Everything one source contributes to a release, validated and staged as parquet."""

    kind: str  # "oews", "projections", ...
    vintage: str  # "May 2024", "2024-34"
    tables: list[StagedTable]
    sources: dict[str, dict[str, object]]  # file name → raw_files row (as a dict)
    guarded_table: str  # the table whose row count must stay within tolerance
    # A kind whose same vintage, when loaded, must not be overwritten by this load
    # (a special-request workbook never replaces the complete time-series estimates).
    yields_to: str | None = None
    # Whether growth beyond the tolerance is suspicious too (OEWS), or only a collapse is
    # (a projections workbook may replace a smaller sample of the same cycle).
    guard_growth: bool = True

    def rows(self) -> dict[str, int]:
        return {t.table: t.rows for t in self.tables}


def stage_frame(
    frame: pd.DataFrame,
    table: str,
    out_dir: Path,
    release_id: str,
    replaces: dict[str, object],
    *,
    upsert: bool = False,
) -> StagedTable:
    """Write one small validated table as staged parquet, stamped with its release."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{table}.parquet"
    frame.assign(release_id=release_id).to_parquet(target, index=False)
    return StagedTable(table, target, len(frame), replaces, upsert)


def stamp(sources: dict[str, dict[str, object]], vintage: str) -> dict[str, dict[str, object]]:
    """The raw-file rows of a load, each marked with the BLS vintage found in its content."""
    return {name: {**row, "vintage": vintage} for name, row in sources.items()}
