"""Everything the OEWS time series contributes to a release: :func:`stage_oews`.

Its files are read by three modules, one job each: the lookup files
(:mod:`transforms.oews_lookups`), the fast staging pass of ``oe.data.0.Current``
(:mod:`transforms.oews_staging`) and, only when that pass finds a broken row, the slow
diagnostic pass that names the rule (:mod:`transforms.oews_diagnose`); both passes read the
data file by the same rules (:mod:`transforms.oews_data`). Nothing here touches the network
or the warehouse; every function takes paths and returns tables or staged files.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core import timing
from core.errors import ValidationError
from core.staging import Patch, PatchBase, StagedLoad, StagedTable, stage_frame, stamp
from transforms.flatfile import require_utf8
from transforms.oews_data import DATA_READABLE, data_label
from transforms.oews_lookups import DATA_FILE, OewsLookups, parse_lookups
from transforms.oews_patch import changed_ranges, write_region
from transforms.oews_series import series_id
from transforms.oews_staging import VERSION, stage_estimates

# The README and docs/decisions.md name ``transforms.oews.series_id`` (how a series id is
# rebuilt from the stored columns); it lives in transforms.oews_series.
__all__ = ["series_id", "stage_oews"]


@timing.timed("stage_oews")
def stage_oews(
    files: dict[str, Path],
    out_dir: Path,
    *,
    release_id: str,
    sources: dict[str, dict[str, object]],
    memory_limit: str = "512MB",
    base: PatchBase | None = None,
) -> StagedLoad:
    """Parse and validate one OEWS release from its raw files; stage every table as parquet.

    ``base``: the data file an earlier release loaded, with the same lookup files (the
    caller checked their sha256). Then only the lines that differ from it are staged, as a
    :class:`core.staging.Patch`, when they are few and pass every check; otherwise, and
    always when ``base`` is None, the whole data file is.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    data = files[DATA_FILE]
    # The whole data file's UTF-8 check reads all 330 MB (about 0.07 s, mostly reads that
    # release the GIL): it runs while the lookups are parsed instead of adding to the load. A
    # lookup that fails is reported first (small files first, as they are fetched). A patch
    # checks only its lines (and a patch that falls through checks the whole file then).
    with timing.section("parse_lookups"), ThreadPoolExecutor(max_workers=1) as pool:
        label = data_label(data)
        utf8 = None if base else pool.submit(require_utf8, data, label, check=DATA_READABLE)
        lookups = parse_lookups(files)
        if utf8 is not None:
            utf8.result()
    staged = _patch(data, base, lookups, out_dir, release_id, memory_limit) if base else None
    if staged is None:
        staged = _whole(data, lookups, out_dir, release_id, memory_limit, base is None)
    estimates, unknown = staged
    vintage = lookups.vintage
    year = vintage.reference_year
    footnotes = lookups.footnotes.assign(reference_year=year)
    # Each table with the rows it replaces; how the lake writes them (lookups upserted by
    # code) is the load policy's (flows/sources.py).
    with timing.section("lookup_parquet"):
        tables = [
            stage_frame(frame, name, out_dir, release_id, replaces)
            for name, frame, replaces in (
                ("occupations", lookups.occupations, {"soc_version": vintage.soc_version}),
                ("areas", lookups.areas, {}),
                ("industries", lookups.industries, {}),
                (
                    "oews_footnotes",
                    footnotes[["reference_year", "footnote_code", "footnote_text"]],
                    {"reference_year": year},
                ),
            )
        ]
    tables.append(dataclasses.replace(estimates, replaces={"reference_year": year}))
    drift = dict(lookups.schema_drift)
    if unknown:
        drift[DATA_FILE] = list(unknown)
    stamped = stamp(sources, vintage.label)
    if DATA_FILE in stamped:  # what the staging pass made of it: a later patch needs the same
        stamped[DATA_FILE] = {**stamped[DATA_FILE], "staged_by": VERSION}
    return StagedLoad(
        kind="oews",
        vintage=vintage.label,
        tables=tables,
        sources=stamped,
        schema_drift=drift,
    )


def _whole(
    data: Path,
    lookups: OewsLookups,
    out_dir: Path,
    release_id: str,
    memory_limit: str,
    utf8_checked: bool,
) -> tuple[StagedTable, tuple[str, ...]]:
    """The whole data file, staged and checked; and its header's unknown columns."""
    estimates = stage_estimates(
        data,
        lookups,
        out_dir / "oews_estimates.parquet",
        release_id=release_id,
        memory_limit=memory_limit,
        utf8_checked=utf8_checked,
    )
    table = StagedTable("oews_estimates", estimates.path, estimates.rows, {}, cells=estimates.cells)
    return table, estimates.unknown_columns


@timing.timed("stage_patch")
def _patch(
    data: Path,
    base: PatchBase,
    lookups: OewsLookups,
    out_dir: Path,
    release_id: str,
    memory_limit: str,
) -> tuple[StagedTable, tuple[str, ...]] | None:
    """Only the lines of ``data`` that differ from ``base``, staged and checked like a whole
    file, with the cells of the old lines they replace (and the header's unknown columns,
    which the lines are written under); None when the whole file should be staged instead
    (too much changed, a header that differs, or lines that fail a check: staging the whole
    file then names the failure with its true line numbers)."""
    if not base.path.is_file():
        return None
    changes = changed_ranges(base.path, data)
    if changes is None or not changes.ranges:
        return None
    old_lines, new_lines = out_dir / f"{DATA_FILE}.old", out_dir / f"{DATA_FILE}.new"
    write_region(base.path, changes, old_lines, side="old")
    write_region(data, changes, new_lines, side="new")
    try:
        old, new = (
            stage_estimates(
                lines,
                lookups,
                out_dir / name,
                release_id=release_id,
                memory_limit=memory_limit,
                allow_empty=True,
            )
            for lines, name in (
                (old_lines, "oews_estimates.old.parquet"),
                (new_lines, "oews_estimates.parquet"),
            )
        )
    except ValidationError:
        return None
    finally:
        old_lines.unlink(missing_ok=True)
        new_lines.unlink(missing_ok=True)
    old.path.unlink(missing_ok=True)  # only its cells are needed
    if old.cells is None or new.cells is None:
        return None
    patch = Patch(base.sha256, VERSION, old.cells, old.rows, new.rows)
    table = StagedTable("oews_estimates", new.path, new.rows, {}, cells=new.cells, patch=patch)
    return table, new.unknown_columns
