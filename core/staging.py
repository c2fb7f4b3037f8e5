"""What a transform hands to the warehouse: validated tables staged as parquet files."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


# Big tables whose reloads are compared cell by cell (warehouse/changes.py): table → the
# columns of a cell, its scope columns first. An OEWS cell is one year, area, industry and
# occupation (at most 17 measures).
CELL_KEYS: dict[str, tuple[str, ...]] = {
    "oews_estimates": ("reference_year", "area_code", "industry_code", "soc_code"),
}


def cells_sql(
    keys: Sequence[str],
    values: Sequence[str],
    rows: str,
    *,
    types: Mapping[str, str] | None = None,
    extra: Sequence[str] = (),
) -> str:
    """Per cell of ``rows``: its row count ``n`` and a 64-bit ``digest`` (the XOR of every
    row's hash over ``values``, hashed once more).

    The second hash matters: DuckDB combines the columns of ``hash(a, …, z)`` by multiplying
    the running hash and XOR-ing in the next column's, so the last column enters the row
    hash linearly, and the XOR over a cell cancels the same change made to an even number
    of its rows (a footnote added to both the hourly and the annual mean). Hashing the row
    hash again mixes every column non-linearly.

    ``types`` casts every column to its lake type first (a staged file written by pandas
    holds numbers as text); a file that already has the lake's types needs no cast, and
    gives the same digests. ``extra`` adds aggregates (a transform's own checks).
    """

    def col(c: str) -> str:
        return f"CAST({c} AS {types[c]})" if types else c

    key_list = ", ".join(f"{col(k)} AS {k}" if types else k for k in keys)
    return (
        f"SELECT {key_list}, count(*) AS n, "
        f"bit_xor(hash(hash({', '.join(col(c) for c in values)}))) AS digest"
        + "".join(f", {e}" for e in extra)
        + f" FROM {rows} GROUP BY ALL"
    )


@dataclasses.dataclass(frozen=True)
class StagedTable:
    """One validated table a transform staged as a parquet file, and the rows it replaces."""

    table: str
    path: Path
    rows: int
    # Rows of the lake table this load replaces: column → value (empty = the whole table).
    # The transform gives the values; its source's LoadPolicy names the columns.
    replaces: dict[str, object]
    # For a table in CELL_KEYS: its cells (``cells_sql`` of the staged rows) as parquet, if
    # the transform computed them in its own checks; else the warehouse computes them.
    cells: Path | None = None
    # Replace only the rows whose primary key the staged file holds (lookups from partial
    # sources, e.g. a national special-request workbook, must not delete other rows). Set
    # from the load policy (TablePolicy.upsert) by LoadPolicy.attach, never by a transform.
    upsert: bool = False
    # The staged file holds only the changed part of its source (see Patch); None for a
    # whole table.
    patch: Patch | None = None


@dataclasses.dataclass(frozen=True)
class PatchBase:
    """The stored copy of the data file an earlier release loaded (a patch's base)."""

    path: Path
    sha256: str


@dataclasses.dataclass(frozen=True)
class Patch:
    """A cell table staged from only the lines of its source file that differ from the file
    an earlier release loaded (``base_sha256``).

    The staged file and its ``cells`` hold the new lines' rows and cells; ``old_cells`` the
    cells (keys, ``n``, ``digest``) of the old lines they replace. Everything else in the
    scope is byte for byte the file already loaded. The warehouse accepts a patch only when
    it still holds exactly that file's rows (``warehouse.patch.resolve``), and then sees
    a whole table: the scope's stored cells with the old cells swapped for the new.
    """

    base_sha256: str  # the data file the patch applies to
    staged_by: str  # the staging pass that made it (the base must have been staged alike)
    old_cells: Path
    old_rows: int  # rows of the old lines
    new_rows: int  # rows of the new lines (the staged file's)
    # The scope's rows in the lake when the warehouse accepted the patch (-1: not yet);
    # the load refuses a patch whose scope has changed since.
    before: int = -1


@dataclasses.dataclass(frozen=True)
class TablePolicy:
    """How the lake takes one staged table: the columns whose values (``StagedTable.replaces``)
    name the rows it replaces, and whether it replaces only the keys it holds (upsert)."""

    scope: tuple[str, ...] = ()
    upsert: bool = False


@dataclasses.dataclass(frozen=True)
class LoadPolicy:
    """How the warehouse loads one source's StagedLoad. Decided per source kind by the
    source registry (flows/sources.py), not by the transform that staged it."""

    tables: dict[str, TablePolicy]  # every table the source stages → how it is written
    guarded_table: str  # the table whose row count must stay within tolerance
    # Whether growth beyond the tolerance is suspicious too (OEWS), or only a collapse is
    # (a projections workbook may replace a smaller sample of the same cycle).
    guard_growth: bool = True
    # A kind whose same vintage, when loaded, must not be overwritten by this load
    # (a special-request workbook never replaces the complete time-series estimates).
    yields_to: str | None = None

    def attach(self, staged: StagedLoad) -> StagedLoad:
        """``staged`` under this policy, once the transform is found to have staged exactly
        the tables it names, each scoped by the columns it names (else ValueError: the
        transform and its registry entry disagree)."""
        names = sorted(t.table for t in staged.tables)
        if names != sorted(self.tables):
            raise ValueError(
                f"{staged.kind} staged the tables {names}; its load policy names "
                f"{sorted(self.tables)}"
            )
        tables: list[StagedTable] = []
        for table in staged.tables:
            rule = self.tables[table.table]
            if set(table.replaces) != set(rule.scope):
                raise ValueError(
                    f"{staged.kind} scoped {table.table} by {sorted(table.replaces)}; its "
                    f"load policy scopes it by {sorted(rule.scope)}"
                )
            tables.append(dataclasses.replace(table, upsert=rule.upsert))
        return dataclasses.replace(staged, tables=tables, policy=self)


@dataclasses.dataclass(frozen=True)
class StagedLoad:
    """Everything one source contributes to a release, validated and staged as parquet."""

    # The source as a release records it: "oews", "projections", or for a special-request
    # file its year and coverage, "oews_special_2023_national".
    kind: str
    vintage: str  # "May 2024", "2024-34"
    tables: list[StagedTable]
    sources: dict[str, dict[str, object]]  # file name → raw_files row (as a dict)
    # Schema drift: file → header cells no known column claims (the load went on without
    # them; the release notes, the artifact and the run summary say so).
    schema_drift: dict[str, list[str]] = dataclasses.field(default_factory=dict)
    # How the warehouse loads it (LoadPolicy.attach, from the source registry); the
    # warehouse refuses a load without one.
    policy: LoadPolicy | None = None

    def rows(self) -> dict[str, int]:
        return {t.table: t.rows for t in self.tables}


def stage_frame(
    frame: pd.DataFrame,
    table: str,
    out_dir: Path,
    release_id: str,
    replaces: dict[str, object],
) -> StagedTable:
    """Write one small validated table as staged parquet, stamped with its release."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{table}.parquet"
    frame.assign(release_id=release_id).to_parquet(target, index=False)
    return StagedTable(table, target, len(frame), replaces)


def stamp(sources: dict[str, dict[str, object]], vintage: str) -> dict[str, dict[str, object]]:
    """The raw-file rows of a load, each marked with the BLS vintage found in its content."""
    return {name: {**row, "vintage": vintage} for name, row in sources.items()}
