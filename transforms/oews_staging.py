"""``oe.data.0.Current`` → a validated parquet file of ``oews_estimates`` rows, fast.

The data file (about 6 M rows, 330 MB) never enters pandas: an in-process DuckDB engine
streams it from the raw file into a staged parquet file in one pass, decoding every series id
through ENUM types built from the lookup files (:mod:`transforms.oews_lookups`), and one
aggregate over the staged file checks it (:func:`_check_staged`). Only when that finds a
broken row does the slower diagnostic pass (:mod:`transforms.oews_diagnose`) run, to name
the rule and the lines.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb

from core import sql, timing
from core.errors import ValidationError
from core.staging import CELL_KEYS, cells_sql
from transforms import oews_catalog
from transforms.flatfile import require_utf8
from transforms.oews_data import (
    AS_NUMBER,
    DATA_READABLE,
    IS_DASH,
    IS_NOT_RELEASED,
    IS_TOP_CODED,
    RawData,
    data_label,
)
from transforms.oews_diagnose import diagnose
from transforms.oews_lookups import OewsLookups

# What the staging pass makes of the same bytes. A release records it beside the data file
# it loaded; a later file is staged as a patch of that one (transforms.oews.stage_oews) only
# under the same version. Bump it with any change that stages the same line differently; a
# new DuckDB (its CSV reader and casts) counts as one, and so does a change to the cell
# digests (core.staging.cells_sql). /2: each row's hash is hashed again; a value is a number
# only as BLS writes one (transforms.oews_data.AS_NUMBER).
VERSION = f"oews-staging/2 duckdb/{duckdb.__version__}"


def _engine(memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"memory_limit": memory_limit, "preserve_insertion_order": False})
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


# The staging pass. Every code of the series id is cast to an ENUM whose values are exactly
# the codes of its lookup file, so one hash lookup both decodes and validates it: an unknown
# code, a wrong area type, a prefix other than OEU or an id longer than 25 characters becomes
# NULL in its column, and the checks afterwards only count NULLs in the staged file. Output
# columns are ENUMs too (parquet keeps them as plain strings), which the parquet writer stores
# without hashing every value again. A failed count sends the file to the diagnostic pass
# (transforms.oews_diagnose), which says exactly what is wrong; the fast pass only has to
# notice that something is.
#   ak     'OEU' + area type + area code: the first 11 characters of a good id
#   dt     datatype code, followed by a blank or nothing: an id of exactly 25 characters
_STAGE_SQL = """
COPY (
  SELECT
    reference_year,
    $period::period_t AS reference_period,
    list_element($areatypes::areatype_t[], enum_code(ak) + 1) AS areatype_code,
    list_element($areas::area_t[], enum_code(ak) + 1) AS area_code,
    industry_code,
    CASE WHEN industry_code = '000001' THEN 'private'::ownership_t ELSE 'all'::ownership_t END
      AS ownership,
    list_element($socs::soc_t[], enum_code(occupation) + 1) AS soc_code,
    list_element($measures::measure_t[], enum_code(dt) + 1) AS measure,
    value,
    status,
    CASE WHEN status = 'top_coded' THEN
      list_element($thresholds::DECIMAL(18,2)[], enum_code(dt) + 1)
    END AS top_code_threshold,
    footnote_codes,
    $release_id::release_t AS release_id
  FROM (
    SELECT
      CASE WHEN period = 'A01' AND year = CAST($year AS VARCHAR) THEN $year END::INTEGER
        AS reference_year,
      TRY_CAST(substr(series_id, 1, 11) AS ak_t) AS ak,
      TRY_CAST(substr(series_id, 12, 6) AS industry_t) AS industry_code,
      TRY_CAST(substr(series_id, 18, 6) AS occupation_t) AS occupation,
      TRY_CAST(substr(series_id, 24, 3) AS dt_t) AS dt,
      {number} AS value,
      CASE
        WHEN {number} IS NOT NULL THEN 'ok'::status_t
        -- A missing value cell, or one that is neither a number nor '-': NULL, and the
        -- diagnostic pass explains it.
        WHEN value IS NULL OR NOT {dash} THEN NULL
        WHEN {top} THEN 'top_coded'::status_t
        WHEN {not_released} THEN 'not_released'::status_t
        ELSE 'suppressed'::status_t
      END AS status,
      nullif(trim(footnote_codes), '') AS footnote_codes
    FROM {read_raw}
  )
) TO {out} (FORMAT parquet)
"""
STATUSES = ("ok", "suppressed", "top_coded", "not_released")
# Columns that are NULL in the staged file when a row broke a rule (none may be).
_MUST_HAVE = ("reference_year", "area_code", "industry_code", "soc_code", "measure", "status")


def _create_enum(con: duckdb.DuckDBPyConnection, name: str, values: list[str]) -> None:
    con.execute(f"CREATE TYPE {name} AS ENUM ({sql.string_list(values)[1:-1]})")


def _decoding(
    con: duckdb.DuckDBPyConnection, lookups: OewsLookups, release_id: str
) -> dict[str, object]:
    """Create the ENUM types of the staging pass; return its list parameters."""
    areas = lookups.areas.sort_values("area_code")
    occupations = lookups.occupations.sort_values("soc_code")
    for name, frame in (
        ("oe.area", areas),
        ("oe.industry", lookups.industries),
        ("oe.occupation", occupations),
    ):
        if frame.empty:
            raise ValidationError(name, "not empty", f"{name} has no rows")
    area_codes = list(areas["area_code"])
    area_types = list(areas["area_type"])
    codes = list(oews_catalog.BY_CODE)
    measures = list(oews_catalog.BY_MEASURE)
    top = lookups.top_code
    thresholds = {
        "usd_per_hour": str(top.hourly) if top else None,
        "usd_per_year": str(top.annual) if top else None,
    }
    _create_enum(con, "ak_t", [f"OEU{t}{a}" for t, a in zip(area_types, area_codes, strict=True)])
    _create_enum(con, "area_t", area_codes)
    _create_enum(con, "areatype_t", sorted(set(area_types)))
    _create_enum(con, "industry_t", list(lookups.industries["industry_code"]))
    _create_enum(con, "occupation_t", [c.replace("-", "") for c in occupations["soc_code"]])
    _create_enum(con, "soc_t", list(occupations["soc_code"]))
    # '13' at the very end of a 25-character line, '13 ' when the id is padded to 30.
    _create_enum(con, "dt_t", codes + [f"{code} " for code in codes])
    _create_enum(con, "measure_t", measures)
    _create_enum(con, "status_t", list(STATUSES))
    _create_enum(con, "ownership_t", ["all", "private"])
    _create_enum(con, "period_t", [lookups.vintage.label])
    _create_enum(con, "release_t", [release_id])
    return {
        "areatypes": area_types,
        "areas": area_codes,
        "socs": list(occupations["soc_code"]),
        "measures": measures * 2,
        "thresholds": [thresholds.get(d.unit) for d in oews_catalog.BY_CODE.values()] * 2,
    }


@dataclasses.dataclass(frozen=True)
class StagedEstimates:
    path: Path
    rows: int
    reference_year: int
    status_counts: dict[str, int]
    unknown_columns: tuple[str, ...] = ()  # schema drift in the data file's header
    cells: Path | None = None  # digests per cell (core.staging.cells_sql), as parquet


def stage_estimates(
    data_path: Path,
    lookups: OewsLookups,
    out_path: Path,
    *,
    release_id: str,
    memory_limit: str = "512MB",
    threads: int | None = None,
    utf8_checked: bool = False,
    allow_empty: bool = False,
) -> StagedEstimates:
    """Stream ``oe.data.0.Current`` into a validated parquet file of ``oews_estimates`` rows.

    Raises ValidationError (naming the file, the check and a few rows) and removes the
    staged file if any check fails. ``utf8_checked``: the caller already ran
    :func:`require_utf8` on the file (``stage_oews`` runs it beside the lookups).
    ``allow_empty``: a file of no rows is fine (the lines of a patch may all be removals).
    """
    label = data_label(data_path)
    # The lookups' decoding rule, before DuckDB sees a byte: its CSV reader accepts some
    # invalid UTF-8 silently and fails on other bytes with an internal error (DuckDB 1.5.5).
    # A leading UTF-8 BOM is fine: the header line (BOM included) is skipped by name below.
    if not utf8_checked:
        require_utf8(data_path, label, check=DATA_READABLE)
    raw = RawData.of(data_path, label)
    con = _engine(memory_limit, threads)
    try:
        with timing.section("staging_copy"):
            _copy(con, raw, label, lookups, out_path, release_id)
        try:
            with timing.section("validation"):
                return _check_staged(con, raw, label, out_path, lookups, allow_empty)
        except ValidationError:
            out_path.unlink(missing_ok=True)
            _cells_path(out_path).unlink(missing_ok=True)
            raise
    finally:
        con.close()


def _copy(
    con: duckdb.DuckDBPyConnection,
    raw: RawData,
    label: str,
    lookups: OewsLookups,
    out_path: Path,
    release_id: str,
) -> None:
    """The staging pass: the raw file → ``out_path``, every code decoded (NULL if broken)."""
    params = _decoding(con, lookups, release_id)
    copy = _STAGE_SQL.format(
        number=AS_NUMBER,
        dash=IS_DASH,
        top=IS_TOP_CODED,
        not_released=IS_NOT_RELEASED,
        read_raw=raw.read(),
        out=sql.string(out_path),
    )
    try:
        con.execute(
            copy,
            {
                **params,
                "data": str(raw.path),
                "year": lookups.vintage.reference_year,
                "period": lookups.vintage.label,
                "release_id": release_id,
            },
        )
    except duckdb.Error as exc:
        raise ValidationError(label, DATA_READABLE, str(exc).splitlines()[0]) from exc


def _check_staged(
    con: duckdb.DuckDBPyConnection,
    raw: RawData,
    label: str,
    out_path: Path,
    lookups: OewsLookups,
    allow_empty: bool = False,
) -> StagedEstimates:
    """Count what the staging pass marked as broken; explain it from the raw file if any.

    One grouping of the staged rows by cell answers every question at once: NULLs left by
    the staging pass (a broken row), statuses, duplicate keys, and each cell's digest (what
    the warehouse compares a reload with, written beside the staged file).

    Ownership follows from the industry code, so a key is (cell, measure) with the cell
    (year, area, industry, occupation) holding at most 17 rows. A cell has a duplicate exactly
    when it has more rows than distinct measures, which a bitmask of its measures counts:
    exact, and without hashing 6 M keys.
    """
    con.execute(f"CREATE TEMP VIEW staged AS SELECT * FROM {sql.read_parquet(out_path)}")
    keys = CELL_KEYS["oews_estimates"]
    columns = [d[0] for d in con.execute("SELECT * FROM staged LIMIT 0").description]
    values = [c for c in columns if c not in keys and c != "release_id"]
    measures = sql.string_list(oews_catalog.BY_MEASURE)
    checks = [
        f"bit_count(bit_or(1 << list_position({measures}, measure))) AS distinct_measures",
        *(f"count(*) - count({c}) AS null_{c}" for c in _MUST_HAVE),
    ]
    con.execute("CREATE TEMP TABLE cells AS " + cells_sql(keys, values, "staged", extra=checks))
    sums = [f"coalesce(sum(null_{c}), 0)" for c in _MUST_HAVE]
    rows, duplicated, *broken = con.execute(
        "SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE n <> distinct_measures), "
        + ", ".join(sums)
        + " FROM cells"
    ).fetchone()
    # Statuses over the whole file, not per cell: one column, read apart, costs a fifth of
    # counting four filters inside the grouping.
    statuses = dict(con.execute("SELECT status, count(*) FROM staged GROUP BY ALL").fetchall())
    if rows == 0 and not allow_empty:
        raise ValidationError(label, "not empty", "the data file has no rows")
    if any(broken) or duplicated:
        diagnose(con, raw, label, lookups)
        raise ValidationError(  # the detailed checks always name the problem; just in case
            label,
            "staging checks",
            "rows break a rule that the detailed checks could not name: "
            + ", ".join(f"{n} without {c}" for c, n in zip(_MUST_HAVE, broken, strict=True) if n),
        )
    counts = {status: statuses[status] for status in STATUSES if statuses.get(status)}
    if counts.get("top_coded") and lookups.top_code is None:
        raise ValidationError(
            label,
            "top-code threshold",
            "values are top-coded (footnote 5) but oe.footnote has no code 5",
        )
    cells = _cells_path(out_path)
    digests = ", ".join([*keys, "n", "digest"])
    con.execute(f"COPY (SELECT {digests} FROM cells) TO {sql.string(cells)}")
    return StagedEstimates(
        out_path, rows, lookups.vintage.reference_year, counts, raw.unknown, cells
    )


def _cells_path(out_path: Path) -> Path:
    return out_path.with_name(out_path.stem + ".cells.parquet")
