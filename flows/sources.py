"""The source registry: for each kind of BLS source, how it is fetched, which files make
one load, how they are staged, and how the warehouse loads them (its load policy).

Adding a source is one entry in ``SOURCES`` plus its modules (an extractor in
``extractors/``, a transform in ``transforms/``). The flows read nothing else: ``refresh``
fetches the kinds that have an extractor, ``ingest`` sorts hand-given files by the kind
``transforms.detect`` recognises, and both stage and load through the entry.

Importing this module starts neither Prefect nor the transforms (pandas, DuckDB): the
command line reads it to check its arguments before a flow starts, and each stager imports
its transform when it runs.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from core.staging import LoadPolicy, PatchBase, StagedLoad, TablePolicy
from extractors import oews as oews_extractor
from extractors import oews_special as special_extractor
from extractors import projections as projections_extractor
from extractors import soc as soc_extractor
from extractors.http import Fetched, Fetcher
from extractors.source import Source

Files = dict[str, dict[str, object]]  # file name → manifest row (raw_files, as a dict)
Fetch = Callable[[Fetcher, Source], dict[str, Fetched]]
# (raw files by name, staging folder, release id, their manifest rows) → the staged load
# (files, out, release_id, sources, base): ``base`` is the stored data file a patch may be
# staged against (only the OEWS time series uses it; see transforms.oews.stage_oews).
Stager = Callable[[dict[str, Path], Path, str, Files, PatchBase | None], StagedLoad]


@dataclasses.dataclass(frozen=True)
class LoadKey:
    """One load of a release: a source kind, and for a kind loaded file by file (one May
    year of special-request estimates each) the file."""

    kind: str
    file: str | None = None

    @property
    def label(self) -> str:
        """How logs and Prefect task names show it: ``oews``, ``oews_special/oesm23nat.zip``."""
        return self.kind if self.file is None else f"{self.kind}/{self.file}"


@dataclasses.dataclass(frozen=True)
class SourceKind:
    """One kind of source: where its files come from, how they become staged tables, and
    how the warehouse loads those tables."""

    kind: str
    title: str  # how messages name it
    stager: Stager  # transforms/: raw files → validated tables and the rows they replace
    transform: str  # the module the stager imports (pandas, DuckDB and the parsers)
    policy: LoadPolicy  # warehouse/: how those tables are loaded
    fetch: Fetch | None = None  # extractors/: None when it is only ingested from given files
    host: str | None = None  # the BLS host it is fetched from (checked before a run starts)
    # The files one load needs, by name; empty when each file is a load of its own.
    files: tuple[str, ...] = ()
    # `ingest`: needed files not given are taken from the newest release's copies.
    complete_from_latest_release: bool = False

    @property
    def per_file(self) -> bool:
        return not self.files

    def key(self, file: str) -> LoadKey:
        """The load a file of this kind belongs to."""
        return LoadKey(self.kind, file if self.per_file else None)

    def warm_up(self) -> threading.Thread | None:
        """Start importing the transform on a background thread, once per process.

        A fetch calls it as new bytes start to arrive: the import (pandas alone takes about
        0.5 s) then overlaps the download, which mostly waits on the network and the disk,
        instead of delaying the staging. A run in which nothing changed never imports it.
        Returns the importing thread, or None when it is imported or importing already.
        """
        return _warm_up(self.transform)

    def stage(
        self,
        files: dict[str, Path],
        out: Path,
        release_id: str,
        sources: Files,
        base: PatchBase | None = None,
    ) -> StagedLoad:
        """Stage the raw files (the transform) and attach this kind's load policy."""
        return self.policy.attach(self.stager(files, out, release_id, sources, base))


# The stagers adapt each transform to one signature, and import it only when they run (the
# transforms load pandas and DuckDB, about 1.3 s the command line does not spend to check
# its arguments).


_warming: set[str] = set()
_warming_lock = threading.Lock()


def _warm_up(module: str) -> threading.Thread | None:
    with _warming_lock:
        if module in _warming or module in sys.modules:
            return None
        _warming.add(module)
    # Not a daemon: a run that fails soon after (an error page where a file should be) waits
    # for the import to finish before the interpreter shuts down, rather than tearing it
    # down halfway through loading an extension module.
    thread = threading.Thread(target=_import_quietly, args=(module,), name=f"import {module}")
    thread.start()
    return thread


def _import_quietly(module: str) -> None:
    # A failure here is the stager's to report: its own import raises it again, in the task.
    with contextlib.suppress(Exception):
        importlib.import_module(module)


def _only(files: dict[str, Path]) -> tuple[str, Path]:
    ((name, path),) = files.items()
    return name, path


def _stage_oews(
    files: dict[str, Path], out: Path, release_id: str, sources: Files, base: PatchBase | None
) -> StagedLoad:
    from transforms.oews import stage_oews

    return stage_oews(files, out, release_id=release_id, sources=sources, base=base)


def _stage_projections(
    files: dict[str, Path], out: Path, release_id: str, sources: Files, base: PatchBase | None
) -> StagedLoad:
    from transforms.projections import stage_projections

    name, path = _only(files)
    return stage_projections(path, out, release_id=release_id, sources=sources, label=name)


def _stage_crosswalk(
    files: dict[str, Path], out: Path, release_id: str, sources: Files, base: PatchBase | None
) -> StagedLoad:
    from transforms.soc import stage_crosswalk

    name, path = _only(files)
    return stage_crosswalk(path, out, release_id=release_id, sources=sources, label=name)


def _stage_special(
    files: dict[str, Path], out: Path, release_id: str, sources: Files, base: PatchBase | None
) -> StagedLoad:
    from transforms.oews_special import stage_special

    name, path = _only(files)
    return stage_special(path, out, release_id=release_id, sources=sources, label=name)


YEAR = ("reference_year",)

SOURCES: dict[str, SourceKind] = {
    entry.kind: entry
    for entry in (
        SourceKind(
            kind="oews",
            title="OEWS",
            fetch=oews_extractor.fetch_oews,
            host=oews_extractor.HOST,
            files=oews_extractor.FILES,
            stager=_stage_oews,
            transform="transforms.oews",
            # A May year's estimates and footnotes replace that year's. Lookups are upserted
            # by code, never replaced wholesale: a code this file no longer lists keeps its
            # row (earlier years' estimates still name it), and which name a code keeps when
            # several sources give one is the load's rule (warehouse.load.name_rank: the
            # time series first, then the newest year).
            policy=LoadPolicy(
                tables={
                    "oews_estimates": TablePolicy(scope=YEAR),
                    "oews_footnotes": TablePolicy(scope=YEAR),
                    "occupations": TablePolicy(scope=("soc_version",), upsert=True),
                    "areas": TablePolicy(upsert=True),
                    "industries": TablePolicy(upsert=True),
                },
                guarded_table="oews_estimates",
            ),
            complete_from_latest_release=True,
        ),
        SourceKind(
            kind="projections",
            title="Employment Projections",
            fetch=projections_extractor.fetch_projections,
            host=projections_extractor.HOST,
            files=(projections_extractor.FILE,),
            stager=_stage_projections,
            transform="transforms.projections",
            # A cycle replaces that cycle; a full workbook may follow a smaller sample of the
            # same cycle, so only a collapse of the row count is suspicious.
            policy=LoadPolicy(
                tables={"projections": TablePolicy(scope=("cycle",))},
                guarded_table="projections",
                guard_growth=False,
            ),
        ),
        SourceKind(
            kind="soc",
            title="SOC crosswalk",
            fetch=soc_extractor.fetch_crosswalk,
            host=soc_extractor.HOST,
            files=(soc_extractor.FILE,),
            stager=_stage_crosswalk,
            transform="transforms.soc",
            policy=LoadPolicy(
                tables={"soc_crosswalk": TablePolicy(scope=("from_version", "to_version"))},
                guarded_table="soc_crosswalk",
            ),
        ),
        SourceKind(
            kind="oews_special",
            title="OEWS special request",
            stager=_stage_special,
            transform="transforms.oews_special",
            # Fetched by year and part by `bls-refresh backfill` (flows/backfill.py), not by
            # `run`; or ingested from downloaded zips and workbooks.
            host=special_extractor.HOST,
            # A year comes in several files (national, state, metro, by industry and
            # ownership), each a load of its own: a file replaces the estimates it holds, by
            # key, never the other files' estimates. Its occupation, area and industry names
            # are upserted too, and the load keeps only those no better source has given (an
            # older workbook's "U.S." never relabels "National"). A May year the time-series
            # files loaded is theirs: a special-request file never overwrites its estimates;
            # they are compared, and a disagreement is a finding in the release notes.
            policy=LoadPolicy(
                tables={
                    "oews_estimates": TablePolicy(scope=YEAR, upsert=True),
                    "occupations": TablePolicy(upsert=True),
                    "areas": TablePolicy(upsert=True),
                    "industries": TablePolicy(upsert=True),
                },
                guarded_table="oews_estimates",
                yields_to="oews",
            ),
        ),
    )
}

SPECIAL = SOURCES["oews_special"]

# What `bls-refresh run` refreshes (every kind with an extractor), in fetch order.
REFRESHED: tuple[str, ...] = tuple(kind for kind, entry in SOURCES.items() if entry.fetch)


def fetcher_of(kind: str) -> Fetch:
    """How ``kind`` is fetched; ValueError for a kind that is only ingested."""
    fetch = SOURCES[kind].fetch
    if fetch is None:
        raise ValueError(f"{kind} has no extractor: load its files with `bls-refresh ingest`")
    return fetch
