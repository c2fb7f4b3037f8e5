"""Everything the OEWS time series contributes to a release: :func:`stage_oews`.

Its files are read by three modules, one job each: the lookup files
(:mod:`transforms.oews_lookups`), the fast staging pass of ``oe.data.0.Current``
(:mod:`transforms.oews_staging`) and, only when that pass finds a broken row, the slow
diagnostic pass that names the rule (:mod:`transforms.oews_diagnose`); both passes read the
data file by the same rules (:mod:`transforms.oews_data`). Nothing here touches the network
or the warehouse; every function takes paths and returns tables or staged files.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from core import timing
from core.staging import StagedLoad, StagedTable, stage_frame, stamp
from transforms.flatfile import require_utf8
from transforms.oews_data import DATA_READABLE, data_label
from transforms.oews_lookups import parse_lookups
from transforms.oews_series import series_id
from transforms.oews_staging import stage_estimates

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
) -> StagedLoad:
    """Parse and validate one OEWS release from its raw files; stage every table as parquet."""
    out_dir.mkdir(parents=True, exist_ok=True)
    data = files["oe.data.0.Current"]
    # The data file's UTF-8 check reads all 330 MB (about 0.07 s, mostly reads that release
    # the GIL): it runs while the lookups are parsed instead of adding to the load. A lookup
    # that fails is reported first (small files first, as they are fetched).
    with timing.section("parse_lookups"), ThreadPoolExecutor(max_workers=1) as pool:
        utf8 = pool.submit(require_utf8, data, data_label(data), check=DATA_READABLE)
        lookups = parse_lookups(files)
        utf8.result()
    vintage = lookups.vintage
    estimates = stage_estimates(
        data,
        lookups,
        out_dir / "oews_estimates.parquet",
        release_id=release_id,
        memory_limit=memory_limit,
        utf8_checked=True,
    )
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
    tables.append(
        StagedTable(
            "oews_estimates",
            estimates.path,
            estimates.rows,
            {"reference_year": year},
            cells=estimates.cells,
        )
    )
    drift = dict(lookups.schema_drift)
    if estimates.unknown_columns:
        drift["oe.data.0.Current"] = list(estimates.unknown_columns)
    return StagedLoad(
        kind="oews",
        vintage=vintage.label,
        tables=tables,
        sources=stamp(sources, vintage.label),
        schema_drift=drift,
    )
