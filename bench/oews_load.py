"""Benchmark: the OEWS load at full size against a bare DuckDB CSV → parquet copy.

What it does

1. Generates (once per row count, reused afterwards) a synthetic OEWS mirror in the exact BLS
   flat-file layout under ``<workdir>/data-<rows>/download.bls.gov/pub/time.series/oe/``:
   ``oe.data.0.Current`` (~6 M rows, ~330 MB, LF, ``series_id`` padded right to 30 and
   ``value`` padded left to 12), a matching ``oe.series`` (15 columns, ~1 GB; the load does
   not read it, it is there so the directory looks like the real mirror), synthetic
   ``oe.area`` / ``oe.industry`` / ``oe.occupation`` that every series id resolves in, and
   ``oe.datatype`` / ``oe.release`` / ``oe.footnote`` copied from ``sample_mirror/``.
   The numbers are seeded pseudo-random, not BLS estimates.
2. Runs two phases alternately, ``--repeat`` times each, every run in a fresh child process
   (``--phase``) that reports its own wall time, CPU time and peak RSS as JSON. Peak RSS is
   ``VmHWM`` from ``/proc/self/status``: ``ru_maxrss`` is carried across fork + exec on Linux,
   so it would report the parent's peak for any child smaller than its parent.

   * ``baseline``: ``COPY (SELECT * FROM read_csv(..., all_varchar=true)) TO x.parquet`` in a
     fresh ``duckdb.connect()``: the floor for "read the file once, write parquet once";
   * ``load``: ``transforms.oews.stage_oews`` (lookups, staged parquet, every validation) and
     ``warehouse.load.load_release`` into a fresh DuckLake: raw files → committed snapshot,
     publish excluded. Stage timings come from wrappers installed in the child only; each
     stage's peak RSS comes from resetting VmHWM (``/proc/self/clear_refs``) at stage
     boundaries, so it includes memory an earlier stage still holds;
   * ``revise``: BLS republishes the same May year with ONE value changed (same file size,
     one estimate rewritten in place). The lake already holds the original release (made
     once, untimed, and copied into each run's scratch folder before the clock starts); the
     timed part is the same stage + load as ``load``, including the exact comparison that
     must find the one changed value. The child fails unless the release counts exactly one
     changed value and names it.

3. Prints a report and writes it to ``<workdir>/result.json``. Targets: median load time
   and median revision time each ≤ 1.5 x median baseline, and peak RSS of both ≤ 1024 MB.
   Exit status 0 when all pass, 1 when one fails. Wall times are only comparable on an
   otherwise idle machine: before each run the parent samples for 1 s how much CPU other
   processes use and the report warns above 10%; it also gives CPU-time medians, which
   suffer less from other processes.

Usage::

    uv run python bench/oews_load.py                  # 6,000,000 rows, 3 runs of each phase
    uv run python bench/oews_load.py --rows 200000    # smoke mode, a few seconds
    uv run python bench/oews_load.py --repeat 5 --keep --workdir bench/out

``--keep`` leaves the last run's lake, staged files and baseline parquet under
``<workdir>/runs/``; the generated mirror is always kept (delete ``<workdir>/data-<rows>``
to regenerate). Page cache: the data file was just written or read, so every run reads it
warm; both phases see the same conditions.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from extractors.oews import FILES
from transforms.oews_series import SERIES_HEADER

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_OE = REPO_ROOT / "sample_mirror" / "download.bls.gov" / "pub" / "time.series" / "oe"
OE_DIR = Path("download.bls.gov") / "pub" / "time.series" / "oe"
BLS_URL = "https://download.bls.gov/pub/time.series/oe/"

GENERATOR_VERSION = 1  # bump when the generated layout or content changes
SEED = "bls-refresh bench oews_load"
DEFAULT_ROWS = 6_000_000
N_DATATYPES = 17
TARGET_RATIO = 1.5
TARGET_RSS_MB = 1024.0
BUSY_WARN_PCT = 10.0  # CPU use by other processes (sampled 1 s before each run) worth a warning

CRLF = "\r\n"  # the real lookup files end lines with CRLF; data and series files with LF
DATA_HEADER = "series_id                     \tyear\tperiod\t       value\tfootnote_codes"
COPIED = ("oe.datatype", "oe.release", "oe.footnote")
LOAD_FILES = FILES  # what the refresh fetches and stages

# --- synthetic lookups ----------------------------------------------------------------------

STATES: tuple[tuple[str, str, str], ...] = (
    ("01", "AL", "Alabama"), ("02", "AK", "Alaska"), ("04", "AZ", "Arizona"),
    ("05", "AR", "Arkansas"), ("06", "CA", "California"), ("08", "CO", "Colorado"),
    ("09", "CT", "Connecticut"), ("10", "DE", "Delaware"), ("11", "DC", "District of Columbia"),
    ("12", "FL", "Florida"), ("13", "GA", "Georgia"), ("15", "HI", "Hawaii"),
    ("16", "ID", "Idaho"), ("17", "IL", "Illinois"), ("18", "IN", "Indiana"),
    ("19", "IA", "Iowa"), ("20", "KS", "Kansas"), ("21", "KY", "Kentucky"),
    ("22", "LA", "Louisiana"), ("23", "ME", "Maine"), ("24", "MD", "Maryland"),
    ("25", "MA", "Massachusetts"), ("26", "MI", "Michigan"), ("27", "MN", "Minnesota"),
    ("28", "MS", "Mississippi"), ("29", "MO", "Missouri"), ("30", "MT", "Montana"),
    ("31", "NE", "Nebraska"), ("32", "NV", "Nevada"), ("33", "NH", "New Hampshire"),
    ("34", "NJ", "New Jersey"), ("35", "NM", "New Mexico"), ("36", "NY", "New York"),
    ("37", "NC", "North Carolina"), ("38", "ND", "North Dakota"), ("39", "OH", "Ohio"),
    ("40", "OK", "Oklahoma"), ("41", "OR", "Oregon"), ("42", "PA", "Pennsylvania"),
    ("44", "RI", "Rhode Island"), ("45", "SC", "South Carolina"), ("46", "SD", "South Dakota"),
    ("47", "TN", "Tennessee"), ("48", "TX", "Texas"), ("49", "UT", "Utah"),
    ("50", "VT", "Vermont"), ("51", "VA", "Virginia"), ("53", "WA", "Washington"),
    ("54", "WV", "West Virginia"), ("55", "WI", "Wisconsin"), ("56", "WY", "Wyoming"),
    ("66", "GU", "Guam"), ("72", "PR", "Puerto Rico"), ("78", "VI", "Virgin Islands"),
)  # fmt: skip
N_METROS = 535  # 1 national + 54 states + 535 metros = 590 areas
N_CROSS_STATE = 8  # metros listed once more under a second state, as BLS does
N_INDUSTRIES = 450
N_OCCUPATIONS = 1040

# (sector code as oe.industry writes it, name, two-digit NAICS prefixes)
SECTORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("11--12", "Sector 11 - Agriculture, Forestry, Fishing and Hunting", ("11",)),
    ("21--22", "Sector 21 - Mining, Quarrying, and Oil and Gas Extraction", ("21",)),
    ("22--23", "Sector 22 - Utilities", ("22",)),
    ("23--24", "Sector 23 - Construction", ("23",)),
    ("31--34", "Sectors 31, 32, and 33 - Manufacturing", ("31", "32", "33")),
    ("42--43", "Sector 42 - Wholesale Trade", ("42",)),
    ("44--46", "Sectors 44 and 45 - Retail Trade", ("44", "45")),
    ("48--50", "Sectors 48 and 49 - Transportation and Warehousing", ("48", "49")),
    ("51--52", "Sector 51 - Information", ("51",)),
    ("52--53", "Sector 52 - Finance and Insurance", ("52",)),
    ("53--54", "Sector 53 - Real Estate and Rental and Leasing", ("53",)),
    ("54--55", "Sector 54 - Professional, Scientific, and Technical Services", ("54",)),
    ("55--56", "Sector 55 - Management of Companies and Enterprises", ("55",)),
    ("56--57", "Sector 56 - Administrative and Support and Waste Management", ("56",)),
    ("61--62", "Sector 61 - Educational Services", ("61",)),
    ("62--63", "Sector 62 - Health Care and Social Assistance", ("62",)),
    ("71--72", "Sector 71 - Arts, Entertainment, and Recreation", ("71",)),
    ("72--73", "Sector 72 - Accommodation and Food Services", ("72",)),
    ("81--82", "Sector 81 - Other Services (except Public Administration)", ("81",)),
)
SOC_MAJORS = (
    "11", "13", "15", "17", "19", "21", "23", "25", "27", "29", "31",
    "33", "35", "37", "39", "41", "43", "45", "47", "49", "51", "53",
)  # fmt: skip

# How much of the occupation list each kind of (area, industry) cell publishes; the generator
# draws series ids with these weights, so metros are sparse and national totals complete.
CELL_WEIGHTS = {"total": 1.0, "sector": 0.6, "sub3": 0.35, "sub4": 0.2, "state": 0.8, "metro": 0.3}

# datatype code → (format, scale): how generate_data writes the value
DATATYPE_FORMATS: dict[str, tuple[str, float]] = {
    "01": ("employment", 0.0),
    "02": ("prse", 30.0),
    "03": ("hourly", 1.10),
    "04": ("annual", 1.10),
    "05": ("prse", 10.0),
    "06": ("hourly", 0.62),
    "07": ("hourly", 0.79),
    "08": ("hourly", 1.00),
    "09": ("hourly", 1.28),
    "10": ("hourly", 1.62),
    "11": ("annual", 0.62),
    "12": ("annual", 0.79),
    "13": ("annual", 1.00),
    "14": ("annual", 1.28),
    "15": ("annual", 1.62),
    "16": ("per_1000", 60.0),
    "17": ("quotient", 3.0),
}
NOT_RELEASED_PPM = 3_000  # footnote 8 on 0.3% of all rows
TOP_CODED_PPM = 7_083  # footnote 5 on 0.708% of the 12 wage datatypes = 0.5% of all rows


def _write_lookup(path: Path, header: list[str], rows: list[tuple[str, ...]]) -> None:
    lines = ["\t".join(header), *("\t".join(r) for r in rows)]
    path.write_bytes((CRLF.join(lines) + CRLF).encode("utf-8"))


def make_areas(rng: random.Random) -> list[tuple[str, str, str, str]]:
    """oe.area rows: (state_code, area_code, areatype_code, area_name), file order."""
    rows = [("00", "0000000", "N", "National")]
    rows += [(fips, f"{fips}00000", "S", name) for fips, _, name in STATES]
    cbsas = sorted(rng.sample(range(10020, 49980, 20), N_METROS))
    homes = [rng.choice(STATES) for _ in cbsas]
    crossing = rng.sample(range(N_METROS), N_CROSS_STATE)
    seconds = dict(zip(crossing, rng.sample(STATES, N_CROSS_STATE), strict=True))
    for i, (cbsa, (fips, abbr, _)) in enumerate(zip(cbsas, homes, strict=True)):
        other = seconds.get(i)
        suffix = f"{abbr}-{other[1]}" if other and other[0] != fips else abbr
        name = f"Metro Area {cbsa}, {suffix}"
        rows.append((fips, f"00{cbsa}", "M", name))
        if other and other[0] != fips:
            rows.append((other[0], f"00{cbsa}", "M", name))
    return sorted(rows, key=lambda r: (r[0], r[1]))


def make_industries(rng: random.Random) -> list[dict[str, str]]:
    """oe.industry rows with their sector and cell kind, in sort_sequence order."""
    total = [
        ("000000", "Cross-industry, Private, Federal, State, and Local Government", "0", "total"),
        ("000001", "Cross-industry, Private Ownership Only", "1", "total"),
    ]
    n_detail = N_INDUSTRIES - len(total) - len(SECTORS)
    candidates = [
        (prefix, sub, leaf)
        for _, _, prefixes in SECTORS
        for prefix in prefixes
        for sub in "1234"
        for leaf in "01234"
    ]
    subsectors = [c for c in candidates if c[2] == "0"]
    leaves = [c for c in candidates if c[2] != "0"]
    keep = set(subsectors) | set(rng.sample(leaves, n_detail - len(subsectors)))
    out = [
        {"code": c, "name": n, "level": lv, "sector": "00--01", "kind": k} for c, n, lv, k in total
    ]
    for sector, sector_name, prefixes in SECTORS:
        out.append(
            {"code": sector, "name": sector_name, "level": "2", "sector": sector, "kind": "sector"}
        )
        for prefix, sub, leaf in sorted(c for c in keep if c[0] in prefixes):
            code = f"{prefix}{sub}{leaf}00" if leaf != "0" else f"{prefix}{sub}000"
            kind, level = ("sub4", "4") if leaf != "0" else ("sub3", "3")
            name = f"NAICS {code.rstrip('0') or code} industry group (synthetic)"
            out.append({"code": code, "name": name, "level": level, "sector": sector, "kind": kind})
    return out


def make_occupations(rng: random.Random) -> list[tuple[str, str, str]]:
    """oe.occupation rows: (code, name, display_level), SOC order."""
    rows: list[tuple[str, str, str]] = [("000000", "All Occupations", "0")]
    detailed: list[tuple[str, str, str]] = []
    first_children: list[tuple[str, str, str]] = []
    skeleton: list[tuple[str, str, str]] = []
    for major in SOC_MAJORS:
        skeleton.append((f"{major}0000", f"Major Group {major}-0000 Occupations", "0"))
        for minor in "1234":
            skeleton.append((f"{major}{minor}000", f"Minor Group {major}-{minor}000", "1"))
            for broad in ("01", "02", "03"):
                code = f"{major}{minor}{broad}0"
                skeleton.append((code, f"Broad Occupation {major}-{minor}{broad}0", "2"))
                for leaf in "1234":
                    row = (code[:5] + leaf, f"Detailed Occupation {major}-{code[2:5]}{leaf}", "3")
                    (first_children if leaf == "1" else detailed).append(row)
    n_detail = N_OCCUPATIONS - 1 - len(skeleton) - len(first_children)
    chosen = set(first_children) | set(rng.sample(detailed, n_detail))
    rows += sorted([*skeleton, *chosen])
    return rows


def write_lookups(
    oe: Path,
) -> tuple[list[dict[str, str]], list[tuple[str, str, str]], list[tuple[str, str, str, str]]]:
    rng = random.Random(SEED)
    areas = make_areas(rng)
    industries = make_industries(rng)
    occupations = make_occupations(rng)
    _write_lookup(oe / "oe.area", ["state_code", "area_code", "areatype_code", "area_name"], areas)
    _write_lookup(
        oe / "oe.industry",
        ["industry_code", "industry_name", "display_level", "selectable", "sort_sequence"],
        [(r["code"], r["name"], r["level"], "T", str(i)) for i, r in enumerate(industries)],
    )
    _write_lookup(
        oe / "oe.occupation",
        ["occupation_code", "occupation_name", "display_level", "selectable", "sort_sequence"],
        [(code, name, level, "T", str(i)) for i, (code, name, level) in enumerate(occupations)],
    )
    for name in COPIED:
        shutil.copyfile(SAMPLE_OE / name, oe / name)
    return industries, occupations, areas


# --- the data and series files (DuckDB) -----------------------------------------------------


def _release_year(oe: Path) -> str:
    line = (oe / "oe.release").read_text(encoding="utf-8").splitlines()[1]
    return line.split("\t")[0][:4]


def _datatype_names(oe: Path) -> dict[str, str]:
    lines = (oe / "oe.datatype").read_text(encoding="utf-8").splitlines()[1:]
    return dict(line.split("\t", 1) for line in lines if line.strip())


def _sql(text: str | Path) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def generate_data(oe: Path, n_series: int) -> None:
    """oe.data.0.Current and oe.series: ``n_series`` × 17 rows each, sorted by series id."""
    import duckdb
    import pandas as pd

    industries, occupations, areas = write_lookups(oe)
    year = _release_year(oe)
    first_area: dict[str, tuple[str, str, str, str]] = {}
    for row in areas:
        first_area.setdefault(row[1], row)
    cells = [
        {
            "areatype": "N",
            "area_code": "0000000",
            "state_code": "00",
            "area_name": "National",
            "industry_code": ind["code"],
            "industry_title": "All Industries" if ind["code"] == "000000" else ind["name"],
            "sector_code": ind["sector"],
            "weight": CELL_WEIGHTS[ind["kind"]],
        }
        for ind in industries
    ]
    cells += [
        {
            "areatype": areatype,
            "area_code": code,
            "state_code": state,
            "area_name": name,
            "industry_code": "000000",
            "industry_title": "All Industries",
            "sector_code": "00--01",
            "weight": CELL_WEIGHTS["state" if areatype == "S" else "metro"],
        }
        for state, code, areatype, name in first_area.values()
        if areatype != "N"
    ]
    capacity = len(cells) * len(occupations)
    if n_series > capacity:
        raise SystemExit(f"at most {capacity * N_DATATYPES:,} rows fit the synthetic lookups")
    names = _datatype_names(oe)
    datatypes = pd.DataFrame(
        [
            {"code": code, "dt_name": names[code], "fmt": fmt, "scale": scale}
            for code, (fmt, scale) in DATATYPE_FORMATS.items()
        ]
    )
    con = duckdb.connect(config={"preserve_insertion_order": True})
    try:
        con.register("cells_df", pd.DataFrame(cells))
        con.register(
            "occs_df",
            pd.DataFrame(occupations, columns=["occupation_code", "occ_name", "display_level"]),
        )
        con.register("datatypes_df", datatypes)
        # Weighted sample without replacement (Efraimidis-Spirakis): key u^(1/w), largest n.
        # Every cell keeps its all-occupations total; national cross-industry keeps everything.
        con.execute(
            f"""
            CREATE TEMP TABLE series AS
            WITH candidates AS (
              SELECT c.*, o.occupation_code, o.occ_name,
                     'OEU' || c.areatype || c.area_code || c.industry_code || o.occupation_code
                       AS sid23
              FROM cells_df c CROSS JOIN occs_df o
            )
            SELECT * FROM candidates
            ORDER BY CASE WHEN occupation_code = '000000' OR weight >= 1 THEN 2.0
                          ELSE pow((hash(sid23 || 'pick') % 1000003 + 1) / 1000004.0,
                                   1.0 / weight) END DESC, sid23
            LIMIT {int(n_series)}
            """
        )
        con.execute(
            """
            CREATE TEMP VIEW rows_v AS
            WITH s AS (
              SELECT *, (hash(sid23 || 'w') % 1000003) / 1000003.0 AS uw,
                        (hash(sid23 || 'e') % 1000003) / 1000003.0 AS ue,
                        (hash(sid23 || 'r') % 1000003) / 1000003.0 AS ur
              FROM series
            ), r AS (
              SELECT s.*, d.code, d.dt_name, d.fmt, d.scale, s.sid23 || d.code AS sid,
                     hash(s.sid23 || d.code) % 1000000 AS uf, 12 + 55 * uw * uw AS h50
              FROM s CROSS JOIN datatypes_df d
            )
            SELECT *,
              CASE WHEN uf < $nr THEN '8'
                   WHEN fmt IN ('hourly', 'annual') AND uf < $nr + $top THEN '5'
                   ELSE '' END AS footnote,
              CASE fmt
                WHEN 'employment' THEN CAST(CAST(greatest(30,
                  round(pow(10, 1.5 + 5 * ue) / 10) * 10) AS BIGINT) AS VARCHAR)
                WHEN 'prse' THEN printf('%.1f', 0.1 + ur * ur * scale)
                WHEN 'hourly' THEN printf('%.2f', h50 * scale)
                WHEN 'annual' THEN CAST(CAST(round(h50 * scale * 2080) AS BIGINT) AS VARCHAR)
                WHEN 'per_1000' THEN printf('%.3f', 0.01 + ue * ue * scale)
                ELSE printf('%.2f', 0.05 + ur * scale)
              END AS number
            FROM r
            """.replace("$nr", str(NOT_RELEASED_PPM)).replace("$top", str(TOP_CODED_PPM))
        )
        # One VARCHAR column written with no quoting and a delimiter that never occurs: each
        # row is written verbatim, tabs and padding included, with a LF line end.
        verbatim = "FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01'"
        con.execute(
            f"""
            COPY (
              SELECT line FROM (
                SELECT 0 AS k, {_sql(DATA_HEADER)} AS line
                UNION ALL
                SELECT 1, rpad(sid, 30, ' ') || '\t{year}\tA01\t'
                          || lpad(CASE WHEN footnote = '' THEN number ELSE '-' END, 12, ' ')
                          || '\t' || footnote
                FROM rows_v
              ) ORDER BY k, line
            ) TO {_sql(oe / "oe.data.0.Current")} ({verbatim})
            """
        )
        con.execute(
            f"""
            COPY (
              SELECT line FROM (
                SELECT 0 AS k, {_sql(SERIES_HEADER)} AS line
                UNION ALL
                SELECT 1, concat_ws('\t', rpad(sid, 30, ' '), 'U', areatype, industry_code,
                         occupation_code, code, state_code, area_code, sector_code,
                         dt_name || ' for ' || occ_name || ' in ' || industry_title
                           || ' in ' || area_name,
                         '', '{year}', 'A01', '{year}', 'A01')
                FROM rows_v
              ) ORDER BY k, line
            ) TO {_sql(oe / "oe.series")} ({verbatim})
            """
        )
    finally:
        con.close()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_dataset(workdir: Path, rows: int) -> dict[str, Any]:
    """The generated mirror for ``rows`` (reused when its metadata matches), with its metadata."""
    root = workdir / f"data-{rows}"
    oe = root / OE_DIR
    meta_path = root / "bench-meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        intact = all(
            (oe / name).exists() and (oe / name).stat().st_size == info["bytes"]
            for name, info in meta["files"].items()
        )
        same = meta.get("generator") == GENERATOR_VERSION and meta.get("rows_requested") == rows
        if same and intact:
            print(f"reusing {oe} ({meta['rows']:,} rows)")
            return meta
    shutil.rmtree(root, ignore_errors=True)
    oe.mkdir(parents=True)
    n_series = max(1, round(rows / N_DATATYPES))
    print(f"generating {n_series:,} series x {N_DATATYPES} datatypes into {oe} ...", flush=True)
    started = time.perf_counter()
    # In a child, so this process never holds DuckDB's ~2 GB sort buffers while measuring.
    run_child(["--phase", "generate", "--oe", str(oe), "--series", str(n_series)])
    generated = time.perf_counter() - started
    os.sync()  # flush ~1.4 GB of dirty pages now, not during the timed runs
    files = {
        path.name: {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
        for path in sorted(oe.iterdir())
    }
    meta = {
        "generator": GENERATOR_VERSION,
        "rows_requested": rows,
        "series": n_series,
        "rows": n_series * N_DATATYPES,
        "generate_s": round(generated, 2),
        "oe_dir": str(oe),
        "files": files,
    }
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    mb = files["oe.data.0.Current"]["bytes"] / 1e6
    print(f"generated in {generated:.1f} s: oe.data.0.Current {mb:,.1f} MB")
    return meta


def manifest_rows(files: dict[str, dict[str, Any]]) -> dict[str, dict[str, object]]:
    """raw_files rows as the fetch step would hand them to stage_oews (no local_path)."""
    return {
        name: {
            "url": BLS_URL + name,
            "fetched_at": "2025-04-02T12:30:00+00:00",
            "status": 200,
            "bytes": files[name]["bytes"],
            "sha256": files[name]["sha256"],
            "etag": f'"{files[name]["sha256"][:16]}"',
            "last_modified": "Wed, 02 Apr 2025 12:00:00 GMT",
            "path": f"objects/{files[name]['sha256'][:2]}/{files[name]['sha256']}",
        }
        for name in LOAD_FILES
    }


def revised_dataset(workdir: Path, meta: dict[str, Any]) -> dict[str, Any]:
    """A copy of the mirror in which one estimate in the middle of the data file is revised
    in place (same width, so the file keeps its size): what BLS's in-place corrections look
    like. Lookups are links to the originals. Returns the revised files' metadata and which
    line changed."""
    oe = Path(meta["oe_dir"]).resolve()
    root = workdir / f"revised-{meta['rows_requested']}"
    revised = root / OE_DIR
    meta_path = root / "revision.json"
    data_sha = meta["files"]["oe.data.0.Current"]["sha256"]
    if meta_path.exists():
        known = json.loads(meta_path.read_text(encoding="utf-8"))
        target = revised / "oe.data.0.Current"
        if known.get("original_sha256") == data_sha and target.exists():
            return known
    shutil.rmtree(root, ignore_errors=True)
    revised.mkdir(parents=True)
    for name in LOAD_FILES:
        if name != "oe.data.0.Current":
            (revised / name).symlink_to(oe / name)
    target = revised / "oe.data.0.Current"
    shutil.copyfile(oe / "oe.data.0.Current", target)
    size = target.stat().st_size
    with target.open("r+b") as fh:
        fh.seek(size // 2)
        chunk = fh.read(1 << 16)
        start = size // 2 + chunk.index(b"\n") + 1
        while True:  # the first line from the middle on that holds a number
            fh.seek(start)
            line = fh.read(200).split(b"\n", 1)[0]
            cells = line.split(b"\t")
            value = cells[3]
            if value.strip().replace(b".", b"").isdigit():
                break
            start += len(line) + 1
        digits = value.rstrip()
        last = digits[-1:]
        new_value = digits[:-1] + (b"1" if last != b"1" else b"2")
        cells[3] = new_value.rjust(len(value))
        fh.seek(start)
        fh.write(b"\t".join(cells))
    files = {
        name: {"bytes": (revised / name).stat().st_size, "sha256": sha256_file(revised / name)}
        for name in LOAD_FILES
    }
    info = {
        "original_sha256": data_sha,
        "oe_dir": str(revised),
        "files": files,
        "series_id": cells[0].decode().strip(),
        "old_value": value.strip().decode(),
        "new_value": new_value.strip().decode(),
    }
    meta_path.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    print(f"revised {info['series_id']}: {info['old_value']} → {info['new_value']}")
    return info


# --- child phases -------------------------------------------------------------------------


def _rss_mb() -> float:
    """Peak RSS of this process image, MB.

    ``/proc/self/status`` VmHWM, not ``ru_maxrss``: Linux carries ``ru_maxrss`` across
    fork/vfork + exec, so a child spawned by a parent that once held 465 MB reports at least
    465 MB whatever it does itself. VmHWM belongs to the post-exec address space only.
    """
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return _ru_maxrss_mb()


def _ru_maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phase_baseline(oe: Path, scratch: Path) -> dict[str, Any]:
    started = time.perf_counter()
    import duckdb

    imported = time.perf_counter()
    rss_imports = _rss_mb()
    cpu_before = _cpu_s()
    out = scratch / "baseline.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_csv({_sql(oe / 'oe.data.0.Current')}, delim='\t', "
        f"header=true, all_varchar=true)) TO {_sql(out)} (FORMAT parquet)"
    )
    con.close()
    done = time.perf_counter()
    return {
        "wall_s": done - imported,
        "cpu_s": _cpu_s() - cpu_before,
        "import_s": imported - started,
        "rss_after_imports_mb": rss_imports,
        "peak_rss_mb": _rss_mb(),
        "ru_maxrss_mb": _ru_maxrss_mb(),
        "output_mb": out.stat().st_size / 1e6,
    }


def _reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux ≥ 4.0); False where /proc does not allow it."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


@dataclasses.dataclass
class _Frame:
    own_mb: float = 0.0  # peak while this section ran outside its timed sub-sections
    all_mb: float = 0.0  # peak over the whole section


class Stopwatch:
    """Seconds and peak RSS per label, fed by wrappers around project functions.

    Peak RSS per section comes from resetting VmHWM at every section boundary, so a section's
    ``own`` peak excludes its timed sub-sections (e.g. the staging COPY without validation).
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_own_mb: dict[str, float] = {}
        self.peak_all_mb: dict[str, float] = {}
        self._stack: list[_Frame] = []
        self._overall_mb = _rss_mb()
        self.per_section_rss = _reset_peak_rss()

    def _note(self, mb: float) -> None:
        if self._stack:
            self._stack[-1].own_mb = max(self._stack[-1].own_mb, mb)
            self._stack[-1].all_mb = max(self._stack[-1].all_mb, mb)
        self._overall_mb = max(self._overall_mb, mb)

    def overall_peak_mb(self) -> float:
        return max(self._overall_mb, _rss_mb())

    @contextlib.contextmanager
    def measure(self, label: str) -> Iterator[None]:
        self._note(_rss_mb())
        _reset_peak_rss()
        self._stack.append(_Frame())
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
            frame = self._stack.pop()
            now = _rss_mb()
            own, whole = max(frame.own_mb, now), max(frame.all_mb, now)
            self.peak_own_mb[label] = max(self.peak_own_mb.get(label, 0.0), own)
            self.peak_all_mb[label] = max(self.peak_all_mb.get(label, 0.0), whole)
            if self._stack:
                self._stack[-1].all_mb = max(self._stack[-1].all_mb, whole)
            self._overall_mb = max(self._overall_mb, whole)
            _reset_peak_rss()

    def wrap(self, label: str | Callable[..., str], func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def timed(*args: Any, **kwargs: Any) -> Any:
            name = label(*args, **kwargs) if callable(label) else label
            with self.measure(name):
                return func(*args, **kwargs)

        return timed


def _wrap_if_present(
    clock: Stopwatch, module: Any, name: str, label: str | Callable[..., str]
) -> None:
    """Install a timing wrapper on ``module.name`` if the project still has that function."""
    func = getattr(module, name, None)
    if callable(func):
        setattr(module, name, clock.wrap(label, func))


def phase_load(
    oe: Path, scratch: Path, sources_file: Path, revision: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Stage and load ``oe`` into the lake under ``scratch/lake`` (fresh, or for a revision
    the copy of a lake that already holds the original release)."""
    started = time.perf_counter()
    from core.paths import DataPaths
    from flows.sources import SOURCES
    from transforms import oews
    from warehouse import changes, lake, load

    imported = time.perf_counter()
    rss_imports = _rss_mb()
    clock = Stopwatch()
    # Timing wrappers, in this child process only. stage_oews and load_release look these
    # functions up as module globals at call time, so the wrappers see every call.
    _wrap_if_present(clock, oews, "parse_lookups", "parse_lookups")
    _wrap_if_present(clock, oews, "stage_estimates", "stage_estimates")
    _wrap_if_present(clock, oews, "_check_staged", "validate_staged")
    _wrap_if_present(clock, load, "_scoped_counts", "diff:scope_counts")
    _wrap_if_present(clock, changes, "compare", lambda con, t, *a, **k: f"diff:{t.table}")
    _wrap_if_present(clock, load, "_replace", lambda con, t, *a, **k: f"insert:{t.table}")
    _wrap_if_present(clock, load, "_apply_delta", lambda con, c, *a, **k: f"insert:{c.table.table}")
    _wrap_if_present(
        clock, load, "_replace_cells", lambda con, c, *a, **k: f"insert:{c.table.table}_cells"
    )
    _wrap_if_present(clock, load, "_record_raw_files", "insert:raw_files")
    if hasattr(load, "_counts_after"):  # row counts of the release (it may count in the lake)
        _wrap_if_present(clock, load, "_counts_after", "row_counts")
    else:
        _wrap_if_present(clock, lake, "row_counts", "row_counts")

    sources = json.loads(sources_file.read_text(encoding="utf-8"))
    files = {name: oe / name for name in LOAD_FILES}
    paths = DataPaths(scratch / "lake")
    cpu_before = _cpu_s()
    t0 = time.perf_counter()
    release_id = load.plan_release_id(paths)
    with clock.measure("stage_oews"):
        staged = oews.stage_oews(
            files, paths.staging / release_id, release_id=release_id, sources=sources
        )
        staged = SOURCES["oews"].policy.attach(staged)  # how the flow hands it to the load
    with clock.measure("load_release"):
        release = load.load_release(paths, release_id, [staged])
    done = time.perf_counter()
    if release is None:
        raise SystemExit("load_release made no release: nothing found to change")
    if revision is not None:
        # The one revised estimate must be found, counted and named: nothing else.
        found = release.changes["oews_estimates"]
        named = [e["key"] for e in found["examples"]]  # type: ignore[union-attr]
        if found["changed"] != {"value": 1} or found["added"] or found["removed"] or not named:
            raise SystemExit(f"the revision was not found exactly: {found}")
        key = named[0]
        sid = revision["series_id"]
        if (key["area_code"], key["industry_code"]) != (sid[4:11], sid[11:17]):
            raise SystemExit(f"the release names {key}, not {sid}")

    s = clock.seconds

    def total(prefix: str) -> float:
        return sum(v for k, v in s.items() if k.startswith(prefix))

    stage_s = s.get("stage_estimates", 0.0)
    validate_s = s.get("validate_staged", 0.0)
    lake_known = total("insert:") + total("diff:") + s.get("row_counts", 0.0)
    stages = {
        "parse_lookups": s.get("parse_lookups", 0.0),
        "staging_copy": stage_s - validate_s,  # header check + CSV → parquet COPY
        "validation": validate_s,
        "lookup_parquet": s["stage_oews"] - s.get("parse_lookups", 0.0) - stage_s,
        "lake_diff": total("diff:"),
        "lake_insert_estimates": s.get("insert:oews_estimates", 0.0),
        "lake_insert_other": total("insert:") - s.get("insert:oews_estimates", 0.0),
        "lake_row_counts": s.get("row_counts", 0.0),
        "lake_attach_commit": s["load_release"] - lake_known,
    }
    own, whole = clock.peak_own_mb, clock.peak_all_mb
    stage_peaks = {
        "parse_lookups": whole.get("parse_lookups", 0.0),
        "staging_copy": own.get("stage_estimates", 0.0),
        "validation": whole.get("validate_staged", 0.0),
        "lookup_parquet": own["stage_oews"],
        "lake_diff": max((v for k, v in whole.items() if k.startswith("diff:")), default=0.0),
        "lake_insert_estimates": whole.get("insert:oews_estimates", 0.0),
        "lake_attach_commit": own["load_release"],
    }
    return {
        "wall_s": done - t0,
        "cpu_s": _cpu_s() - cpu_before,
        "import_s": imported - started,
        "rss_after_imports_mb": rss_imports,
        "peak_rss_mb": clock.overall_peak_mb(),
        "ru_maxrss_mb": _ru_maxrss_mb(),
        "stages_s": stages,
        "stages_peak_rss_mb": stage_peaks if clock.per_section_rss else None,
        "sections_s": dict(s),
        "release_id": release_id,
        "rows_loaded": release.loaded["oews"]["oews_estimates"],
        "changes": release.changes["oews_estimates"],
        "lake_mb": sum(f.stat().st_size for f in paths.lake_files.rglob("*") if f.is_file()) / 1e6,
    }


def _cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as fh:
        fields = [int(v) for v in fh.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def others_busy_pct(seconds: float = 1.0) -> float:
    """CPU use by other processes while this one sleeps, % of all cores (0 where unknown)."""
    try:
        busy0, total0 = _cpu_ticks()
        time.sleep(seconds)
        busy1, total1 = _cpu_ticks()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 100.0 * (busy1 - busy0) / max(total1 - total0, 1)


def run_child(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"child {args[:2]} failed with exit status {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- parent -------------------------------------------------------------------------------


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def benchmark(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    meta = ensure_dataset(workdir, args.rows)
    oe = Path(meta["oe_dir"])
    runs_dir = workdir / "runs"
    shutil.rmtree(runs_dir, ignore_errors=True)
    runs_dir.mkdir(parents=True)
    sources_file = runs_dir / "sources.json"
    sources_file.write_text(json.dumps(manifest_rows(meta["files"]), indent=2), encoding="utf-8")
    revision = revised_dataset(workdir, meta)
    revision_file = runs_dir / "revision.json"
    revision_file.write_text(json.dumps(revision), encoding="utf-8")
    revised_sources = runs_dir / "revised-sources.json"
    revised_sources.write_text(json.dumps(manifest_rows(revision["files"])), encoding="utf-8")
    # The lake a revision lands in: the original release, loaded once (untimed) at the path
    # every revision run uses (the catalog records its data path), then kept as a copy.
    prepared = runs_dir / "prepared"
    (runs_dir / "revise").mkdir()
    run_child(["--phase", "load", "--oe", str(oe), "--scratch", str(runs_dir / "revise"),
               "--sources", str(sources_file)])  # fmt: skip
    shutil.copytree(runs_dir / "revise", prepared, symlinks=True)

    phases = {
        "baseline": [],
        "load": ["--sources", str(sources_file)],
        "revise": ["--sources", str(revised_sources), "--revision", str(revision_file)],
    }
    results: dict[str, list[dict[str, Any]]] = {phase: [] for phase in phases}
    for i in range(args.repeat):
        for phase, extra in phases.items():
            scratch = runs_dir / phase
            shutil.rmtree(scratch, ignore_errors=True)
            source = oe
            if phase == "revise":
                shutil.copytree(prepared, scratch, symlinks=True)
                source = Path(revision["oe_dir"])
            else:
                scratch.mkdir()
            others = others_busy_pct()
            out = run_child(
                ["--phase", "load" if phase == "revise" else phase, "--oe", str(source),
                 "--scratch", str(scratch), *extra]
            )  # fmt: skip
            out["others_busy_pct_before"] = others
            results[phase].append(out)
            print(
                f"  run {i + 1}/{args.repeat} {phase:<8} {out['wall_s']:7.2f} s  "
                f"(cpu {out['cpu_s']:6.2f} s)  peak RSS {out['peak_rss_mb']:7.1f} MB  "
                f"[other processes {others:3.0f}% CPU]",
                flush=True,
            )

    base, ours, revised = results["baseline"], results["load"], results["revise"]
    rows = meta["rows"]
    base_s, load_s = _median(base, "wall_s"), _median(ours, "wall_s")
    ratio = load_s / base_s
    revise_s = _median(revised, "wall_s")
    revise_ratio = revise_s / base_s
    rss_revise = max(r["peak_rss_mb"] for r in revised)
    revise_stages = {
        name: statistics.median(r["stages_s"][name] for r in revised)
        for name in revised[0]["stages_s"]
    }
    base_cpu, load_cpu = _median(base, "cpu_s"), _median(ours, "cpu_s")
    busiest = max(r["others_busy_pct_before"] for r in base + ours)
    rss_base = max(r["peak_rss_mb"] for r in base)
    rss_load = max(r["peak_rss_mb"] for r in ours)
    stages = {
        name: statistics.median(r["stages_s"][name] for r in ours) for name in ours[0]["stages_s"]
    }
    stage_peaks: dict[str, float] = {}
    if all(r["stages_peak_rss_mb"] for r in ours):
        stage_peaks = {
            name: max(r["stages_peak_rss_mb"][name] for r in ours)
            for name in ours[0]["stages_peak_rss_mb"]
        }
    checks = {
        f"ratio <= {TARGET_RATIO}": ratio <= TARGET_RATIO,
        f"load peak RSS <= {TARGET_RSS_MB:.0f} MB": rss_load <= TARGET_RSS_MB,
        f"revision ratio <= {TARGET_RATIO}": revise_ratio <= TARGET_RATIO,
        f"revision peak RSS <= {TARGET_RSS_MB:.0f} MB": rss_revise <= TARGET_RSS_MB,
    }
    report = {
        "rows": rows,
        "series": meta["series"],
        "file_mb": meta["files"]["oe.data.0.Current"]["bytes"] / 1e6,
        "repeat": args.repeat,
        "baseline_median_s": base_s,
        "load_median_s": load_s,
        "load_rows_per_s": rows / load_s,
        "ratio_load_to_baseline": ratio,
        "baseline_median_cpu_s": base_cpu,
        "load_median_cpu_s": load_cpu,
        "cpu_ratio_load_to_baseline": load_cpu / base_cpu,
        "max_others_busy_pct_before_a_run": busiest,
        "baseline_peak_rss_mb": rss_base,
        "load_peak_rss_mb": rss_load,
        "load_stages_median_s": stages,
        "load_stages_peak_rss_mb": stage_peaks,
        "revise_median_s": revise_s,
        "ratio_revise_to_baseline": revise_ratio,
        "revise_median_cpu_s": _median(revised, "cpu_s"),
        "revise_peak_rss_mb": rss_revise,
        "revise_stages_median_s": revise_stages,
        "revision": {k: revision[k] for k in ("series_id", "old_value", "new_value")},
        "targets": checks,
        "pass": all(checks.values()),
        "runs": results,
        "dataset": meta,
    }
    (workdir / "result.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print()
    print(f"rows                     {rows:,} ({meta['series']:,} series)")
    print(f"oe.data.0.Current        {report['file_mb']:,.1f} MB")
    print(f"baseline median          {base_s:.2f} s   (bare DuckDB read_csv → parquet)")
    print(f"load median              {load_s:.2f} s   ({rows / load_s:,.0f} rows/s)")
    print(f"ratio load / baseline    {ratio:.2f}     (target ≤ {TARGET_RATIO})")
    print(
        f"CPU time (median)        baseline {base_cpu:.2f} s, load {load_cpu:.2f} s, "
        f"ratio {load_cpu / base_cpu:.2f}"
    )
    print(f"peak RSS baseline        {rss_base:,.0f} MB")
    print(f"peak RSS load            {rss_load:,.0f} MB   (target ≤ {TARGET_RSS_MB:.0f} MB)")
    print(
        f"revision median          {revise_s:.2f} s   (one value changed, "
        f"{revision['series_id']} {revision['old_value']} → {revision['new_value']})"
    )
    print(f"ratio revision / baseline {revise_ratio:.2f}    (target ≤ {TARGET_RATIO})")
    print(f"peak RSS revision        {rss_revise:,.0f} MB")
    print("stages                    load s   revision s   load peak RSS MB (max)")
    for name, seconds in stages.items():
        peak = stage_peaks.get(name)
        print(
            f"  {name:<24} {seconds:7.2f}   {revise_stages.get(name, 0.0):9.2f}   "
            f"{'' if peak is None else f'{peak:9,.0f}'}"
        )
    if busiest > BUSY_WARN_PCT:
        print(
            f"WARNING: other processes used up to {busiest:.0f}% of the {os.cpu_count()} cores "
            "just before a run: wall times are noisy (CPU times less so)"
        )
    for check, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {check}")
    print(f"wrote {workdir / 'result.json'}")
    if not args.keep:
        shutil.rmtree(runs_dir, ignore_errors=True)
    return 0 if report["pass"] else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="data rows to generate")
    parser.add_argument("--workdir", default=str(REPO_ROOT / "bench" / "out"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each phase")
    parser.add_argument("--keep", action="store_true", help="keep <workdir>/runs afterwards")
    parser.add_argument("--phase", choices=("generate", "baseline", "load"), help=argparse.SUPPRESS)
    parser.add_argument("--series", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--oe", help=argparse.SUPPRESS)
    parser.add_argument("--scratch", help=argparse.SUPPRESS)
    parser.add_argument("--sources", help=argparse.SUPPRESS)
    parser.add_argument("--revision", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase == "generate":
        generate_data(Path(args.oe), args.series)
        result: dict[str, Any] = {"series": args.series}
    elif args.phase == "baseline":
        result = phase_baseline(Path(args.oe), Path(args.scratch))
    elif args.phase == "load":
        revision = json.loads(Path(args.revision).read_text()) if args.revision else None
        result = phase_load(Path(args.oe), Path(args.scratch), Path(args.sources), revision)
    else:
        return benchmark(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
