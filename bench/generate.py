"""The synthetic OEWS mirror the load benchmark (bench/oews_load.py) reads.

A full-size mirror in the exact BLS flat-file layout under
``<workdir>/data-<rows>/download.bls.gov/pub/time.series/oe/``, generated once per row count and
reused afterwards (:func:`ensure_dataset`): ``oe.data.0.Current`` (~6 M rows, ~330 MB, LF,
``series_id`` padded right to 30 and ``value`` padded left to 12), a matching ``oe.series``
(15 columns, ~1 GB; the load does not read it, it is there so the directory looks like the
real mirror), synthetic ``oe.area`` / ``oe.industry`` / ``oe.occupation`` that every series id
resolves in, and ``oe.datatype`` / ``oe.release`` / ``oe.footnote`` copied from
``sample_mirror/``. The numbers are seeded pseudo-random, not BLS estimates.

Beside it, :func:`revised_dataset` makes the copy in which BLS "republished" one estimate in
place, and :func:`manifest_rows` the raw-file rows the fetch step would hand the load.

The DuckDB work runs in a child process (this file, run as a script) so the benchmark's own
process never holds DuckDB's ~2 GB sort buffers::

    uv run python bench/generate.py --oe <folder> --series <n>
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from core import sql
from extractors.oews import FILES
from transforms.oews_series import SERIES_HEADER

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_OE = REPO_ROOT / "sample_mirror" / "download.bls.gov" / "pub" / "time.series" / "oe"
OE_DIR = Path("download.bls.gov") / "pub" / "time.series" / "oe"
BLS_URL = "https://download.bls.gov/pub/time.series/oe/"

GENERATOR_VERSION = 1  # bump when the generated layout or content changes
SEED = "bls-refresh bench oews_load"
N_DATATYPES = 17

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


def release_year(oe: Path) -> str:
    """The May year of the mirror in ``oe`` (its ``oe.release``)."""
    line = (oe / "oe.release").read_text(encoding="utf-8").splitlines()[1]
    return line.split("\t")[0][:4]


def _datatype_names(oe: Path) -> dict[str, str]:
    lines = (oe / "oe.datatype").read_text(encoding="utf-8").splitlines()[1:]
    return dict(line.split("\t", 1) for line in lines if line.strip())


def generate_data(oe: Path, n_series: int) -> None:
    """oe.data.0.Current and oe.series: ``n_series`` × 17 rows each, sorted by series id."""
    import duckdb
    import pandas as pd

    industries, occupations, areas = write_lookups(oe)
    year = release_year(oe)
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
                SELECT 0 AS k, {sql.string(DATA_HEADER)} AS line
                UNION ALL
                SELECT 1, rpad(sid, 30, ' ') || '\t{year}\tA01\t'
                          || lpad(CASE WHEN footnote = '' THEN number ELSE '-' END, 12, ' ')
                          || '\t' || footnote
                FROM rows_v
              ) ORDER BY k, line
            ) TO {sql.string(oe / "oe.data.0.Current")} ({verbatim})
            """
        )
        con.execute(
            f"""
            COPY (
              SELECT line FROM (
                SELECT 0 AS k, {sql.string(SERIES_HEADER)} AS line
                UNION ALL
                SELECT 1, concat_ws('\t', rpad(sid, 30, ' '), 'U', areatype, industry_code,
                         occupation_code, code, state_code, area_code, sector_code,
                         dt_name || ' for ' || occ_name || ' in ' || industry_title
                           || ' in ' || area_name,
                         '', '{year}', 'A01', '{year}', 'A01')
                FROM rows_v
              ) ORDER BY k, line
            ) TO {sql.string(oe / "oe.series")} ({verbatim})
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


def _generate_in_child(oe: Path, n_series: int) -> None:
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--oe", str(oe), "--series", str(n_series)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"generating the data failed with exit status {proc.returncode}")


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
    _generate_in_child(oe, n_series)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the synthetic OEWS mirror's files.")
    parser.add_argument("--oe", required=True, help="the oe/ folder to write into")
    parser.add_argument("--series", type=int, required=True, help="series (x 17 data rows)")
    args = parser.parse_args(argv)
    generate_data(Path(args.oe), args.series)
    print(json.dumps({"series": args.series}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
