"""OEWS time-series flat files → tidy tables.

Lookups (a few hundred rows) go through pandas. The data file (about 6 M rows, 330 MB) never
enters pandas: an in-process DuckDB engine streams it from the raw file into a staged parquet
file in one pass, and the checks run on that parquet file. Nothing here touches the network
or the warehouse; every function takes paths and returns tables or a staged file.
"""

from __future__ import annotations

import dataclasses
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd

from core.errors import ValidationError
from core.staging import (
    CELL_KEYS,
    StagedLoad,
    StagedTable,
    cells_sql,
    stage_frame,
    stamp,
)
from transforms import oews_catalog
from transforms.flatfile import (
    FlatSchema,
    columns_of,
    read_flat_file,
    require_unique,
    require_utf8,
)
from transforms.oews_series import series_id

DATA_COLUMNS = ("series_id", "year", "period", "value", "footnote_codes")
# Every OEWS time-series file the load reads: the columns it needs, the ones it keeps when
# present, and the ones it knows and skips. Columns are found by name wherever they stand
# (the May 2025 oe.occupation put occupation_description third); any other column is
# schema drift: reported in the release, not loaded, and no reason to stop.
SCHEMAS: dict[str, FlatSchema] = {
    "oe.data.0.Current": FlatSchema(DATA_COLUMNS),
    "oe.release": FlatSchema(("release_date", "description")),
    "oe.footnote": FlatSchema(("footnote_code", "footnote_text")),
    "oe.datatype": FlatSchema(("datatype_code", "datatype_name")),
    "oe.area": FlatSchema(("state_code", "area_code", "areatype_code", "area_name")),
    "oe.industry": FlatSchema(
        ("industry_code", "industry_name", "display_level", "sort_sequence"),
        ignored=("selectable",),
    ),
    "oe.occupation": FlatSchema(
        ("occupation_code", "occupation_name", "display_level", "sort_sequence"),
        optional=("occupation_description",),
        ignored=("selectable",),
    ),
}
# The data file's one check for "can it be read as tab-delimited UTF-8 text at all": bytes
# that are not UTF-8 (the lookups' rule and message) or a line DuckDB cannot split.
DATA_READABLE = "readable tab-delimited file"
FOOTNOTE_TOP_CODED = "5"
FOOTNOTE_NOT_RELEASED = "8"
# code → (BLS's datatype name, measure, unit): a view of the catalogue (transforms.oews_catalog),
# the shape tests/test_docs.py reads.
DATATYPES: dict[str, tuple[str, str, str]] = {
    code: (d.name, d.measure, d.unit) for code, d in oews_catalog.BY_CODE.items()
}

_RELEASE = re.compile(r"^(\d{4})A01$")


@dataclasses.dataclass(frozen=True)
class Vintage:
    reference_year: int
    label: str  # "May 2024", as oe.release writes it

    @property
    def soc_version(self) -> str:
        return oews_catalog.soc_version(self.reference_year)


@dataclasses.dataclass(frozen=True)
class TopCode:
    hourly: float
    annual: float
    text: str


@dataclasses.dataclass(frozen=True)
class OewsLookups:
    vintage: Vintage
    top_code: TopCode | None
    footnotes: pd.DataFrame
    occupations: pd.DataFrame
    areas: pd.DataFrame
    industries: pd.DataFrame
    # file → header cells no known column claims (schema drift; loaded without them)
    schema_drift: dict[str, list[str]] = dataclasses.field(default_factory=dict)


def _read(path: Path, name: str, drift: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """One lookup file by its schema; new columns go into ``drift`` (file → cells)."""
    read = read_flat_file(path, name, SCHEMAS[name])
    if read.unknown and drift is not None:
        drift[name] = read.unknown
    return read.frame


# --- lookups ----------------------------------------------------------------------------


def parse_release(path: Path, drift: dict[str, list[str]] | None = None) -> Vintage:
    frame = _read(path, "oe.release", drift)
    years = {m.group(1) for m in map(_RELEASE.match, frame["release_date"]) if m}
    if len(frame) != 1 or len(years) != 1:
        rows = [" | ".join(r) for r in frame.itertuples(index=False)]
        raise ValidationError(
            "oe.release", "one annual release", "expected one row like '2024A01  May 2024'", rows
        )
    return Vintage(int(years.pop()), frame["description"].iloc[0])


def parse_footnotes(path: Path, drift: dict[str, list[str]] | None = None) -> pd.DataFrame:
    frame = _read(path, "oe.footnote", drift)
    require_unique(frame, "footnote_code", "oe.footnote")
    return frame


def parse_top_code(footnotes: pd.DataFrame) -> TopCode | None:
    """The top-code threshold of this release, read from footnote 5's own text (written
    exactly as BLS writes it: :attr:`transforms.oews_catalog.TopCodeText.exact`)."""
    rows = footnotes.loc[footnotes["footnote_code"] == FOOTNOTE_TOP_CODED, "footnote_text"]
    if rows.empty:
        return None
    text = rows.iloc[0]
    found = oews_catalog.top_code_in(text, exact=True)
    if not found:
        raise ValidationError(
            "oe.footnote",
            "top-code threshold",
            "footnote 5 should read like 'equal to or greater than $115.00 per hour or "
            f"$239,200 per year', got {text!r}",
        )
    hourly, annual = (float(dollars) for dollars in found.cap)
    return TopCode(hourly=hourly, annual=annual, text=text)


def parse_datatypes(path: Path, drift: dict[str, list[str]] | None = None) -> dict[str, str]:
    """datatype_code → measure; every one of the 17 known datatypes, named as expected."""
    frame = _read(path, "oe.datatype", drift)
    got = dict(zip(frame["datatype_code"], frame["datatype_name"], strict=True))
    problems = [
        f"{code}: expected {d.name!r}, got {got.get(code)!r}"
        for code, d in oews_catalog.BY_CODE.items()
        if (got.get(code) or "").lower() != d.name.lower()
    ]
    problems += [
        f"{code}: {name!r} is not a known datatype"
        for code, name in got.items()
        if code not in oews_catalog.BY_CODE
    ]
    if problems:
        raise ValidationError(
            "oe.datatype", "all 17 datatypes known", "datatype list changed", problems
        )
    return {code: d.measure for code, d in oews_catalog.BY_CODE.items()}


def display_soc(code: str) -> str:
    """BLS flat files write SOC codes as 6 digits; people read them as 29-2072."""
    return f"{code[:2]}-{code[2:]}"


_OCC_LEVELS = {"1": "minor", "2": "broad", "3": "detailed"}


def parse_occupations(
    path: Path, vintage: Vintage, drift: dict[str, list[str]] | None = None
) -> pd.DataFrame:
    frame = _read(path, "oe.occupation", drift)
    require_unique(frame, "occupation_code", "oe.occupation")
    bad = frame[
        ~frame["occupation_code"].str.fullmatch(r"\d{6}")
        | ~frame["display_level"].isin(["0", "1", "2", "3"])
    ]
    if not bad.empty:
        raise ValidationError(
            "oe.occupation",
            "codes and levels",
            "occupation codes are 6 digits and display_level 0-3",
            [" | ".join(r) for r in bad.head(5).itertuples(index=False)],
        )
    level = frame["display_level"].map(_OCC_LEVELS)
    level = level.where(frame["display_level"] != "0", "major")
    level = level.where(frame["occupation_code"] != "000000", "total")
    return pd.DataFrame(
        {
            "soc_code": frame["occupation_code"].map(display_soc),
            "soc_version": vintage.soc_version,
            "title": frame["occupation_name"],
            "level": level,
            "sort_sequence": frame["sort_sequence"].astype("int64"),
            # Only in the newer layout; an empty cell is no description.
            "description": (
                frame["occupation_description"].replace("", None)
                if "occupation_description" in frame.columns
                else None
            ),
        }
    )


def parse_areas(path: Path, drift: dict[str, list[str]] | None = None) -> pd.DataFrame:
    frame = _read(path, "oe.area", drift)
    bad = frame[
        ~frame["area_code"].str.fullmatch(r"\d{7}") | ~frame["areatype_code"].isin(["N", "S", "M"])
    ]
    if not bad.empty:
        raise ValidationError(
            "oe.area",
            "codes",
            "area codes are 7 digits and area types N, S or M",
            [" | ".join(r) for r in bad.head(5).itertuples(index=False)],
        )
    # A metro that crosses state lines is listed once per state: one area, one row.
    conflicts = frame.groupby("area_code")[["areatype_code", "area_name"]].nunique()
    conflicts = conflicts[(conflicts > 1).any(axis=1)]
    if not conflicts.empty:
        raise ValidationError(
            "oe.area",
            "one name per area_code",
            "area listed with different names or types",
            list(conflicts.index[:5]),
        )
    first = frame.drop_duplicates("area_code", keep="first")
    return pd.DataFrame(
        {
            "area_code": first["area_code"],
            "area_type": first["areatype_code"],
            "state_code": first["state_code"],
            "name": first["area_name"],
        }
    ).reset_index(drop=True)


def parse_industries(path: Path, drift: dict[str, list[str]] | None = None) -> pd.DataFrame:
    frame = _read(path, "oe.industry", drift)
    require_unique(frame, "industry_code", "oe.industry")
    return pd.DataFrame(
        {
            "industry_code": frame["industry_code"],
            "name": frame["industry_name"],
            "level": frame["display_level"].astype("int64"),
            "sort_sequence": frame["sort_sequence"].astype("int64"),
        }
    )


def parse_lookups(files: dict[str, Path]) -> OewsLookups:
    drift: dict[str, list[str]] = {}
    vintage = parse_release(files["oe.release"], drift)
    footnotes = parse_footnotes(files["oe.footnote"], drift)
    parse_datatypes(files["oe.datatype"], drift)
    return OewsLookups(
        vintage=vintage,
        top_code=parse_top_code(footnotes),
        footnotes=footnotes,
        occupations=parse_occupations(files["oe.occupation"], vintage, drift),
        areas=parse_areas(files["oe.area"], drift),
        industries=parse_industries(files["oe.industry"], drift),
        schema_drift=drift,
    )


# --- the data file ------------------------------------------------------------------------


def _engine(memory_limit: str, threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"memory_limit": memory_limit, "preserve_insertion_order": False})
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return con


def _measure_values() -> str:
    return ", ".join(f"('{d.code}', '{d.measure}')" for d in oews_catalog.BY_CODE.values())


# The raw columns, exactly as BLS wrote them (padding kept: substr and casts do not need it
# gone, and trimming 6 M strings is a third of the cost of the pass).
@dataclasses.dataclass(frozen=True)
class RawData:
    """The data file and its columns by name: known ones under their own names wherever
    they stand, any other under ``extra_<position>`` (read, never used)."""

    path: Path
    names: tuple[str, ...]
    unknown: tuple[str, ...]  # header cells of the extra columns, as BLS wrote them

    @classmethod
    def of(cls, path: Path, label: str) -> RawData:
        columns = columns_of(path, label, SCHEMAS["oe.data.0.Current"])
        by_position = {index: name for name, index in columns.positions.items()}
        names = tuple(by_position.get(i, f"extra_{i}") for i in range(len(columns.header)))
        return cls(path, names, tuple(columns.unknown))

    def read(self, *, literal: bool = False) -> str:
        """The ``read_csv`` expression; ``literal`` puts the path in (views take no
        parameters), else it is the ``$data`` parameter."""
        source = "'" + str(self.path).replace("'", "''") + "'" if literal else "$data"
        return (
            f"read_csv({source}, delim = '\t', header = true, quote = '', escape = '', "
            f"names = {_sql_list(list(self.names))}, all_varchar = true, null_padding = true)"
        )


_DASH = "ends_with(value, '-')"  # values are right-justified: '           -'
# A footnote code is matched whole: "5" must not match "15".
_TOP = f"regexp_matches(footnote_codes, '(^|[^0-9]){FOOTNOTE_TOP_CODED}([^0-9]|$)')"
_NOT_RELEASED = f"regexp_matches(footnote_codes, '(^|[^0-9]){FOOTNOTE_NOT_RELEASED}([^0-9]|$)')"

# The staging pass. Every code of the series id is cast to an ENUM whose values are exactly
# the codes of its lookup file, so one hash lookup both decodes and validates it: an unknown
# code, a wrong area type, a prefix other than OEU or an id longer than 25 characters becomes
# NULL in its column, and the checks afterwards only count NULLs in the staged file. Output
# columns are ENUMs too (parquet keeps them as plain strings), which the parquet writer stores
# without hashing every value again. A failed count sends the file to the diagnostic pass
# below, which says exactly what is wrong; the fast pass only has to notice that something is.
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
      TRY_CAST(value AS DECIMAL(18,3)) AS value,
      CASE
        WHEN TRY_CAST(value AS DECIMAL(18,3)) IS NOT NULL THEN 'ok'::status_t
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
) TO '{out}' (FORMAT parquet)
"""
STATUSES = ("ok", "suppressed", "top_coded", "not_released")
# Columns that are NULL in the staged file when a row broke a rule (none may be).
_MUST_HAVE = ("reference_year", "area_code", "industry_code", "soc_code", "measure", "status")

# The same rows as plain strings, straight from the raw file: what the diagnostic pass checks
# when the staging pass found a NULL or a duplicate. Slower, and exact about every rule.
_ROW_OK = (
    "period = 'A01' AND year = CAST($year AS VARCHAR) AND starts_with(series_id, 'OEU') "
    "AND (length(series_id) = 25 OR substr(series_id, 26, 1) = ' ')"
)
_DIAGNOSTIC_VIEW = """
CREATE OR REPLACE TEMP VIEW staged AS
  WITH measures(datatype_code, measure) AS (VALUES {measures})
  SELECT
    CASE WHEN {row_ok} THEN {year} END::INTEGER AS reference_year,
    substr(r.series_id, 4, 1) AS areatype_code,
    substr(r.series_id, 5, 7) AS area_code,
    substr(r.series_id, 12, 6) AS industry_code,
    CASE substr(r.series_id, 12, 6) WHEN '000001' THEN 'private' ELSE 'all' END AS ownership,
    substr(r.series_id, 18, 2) || '-' || substr(r.series_id, 20, 4) AS soc_code,
    m.measure,
    CASE WHEN NOT {dash} THEN TRY_CAST(r.value AS DECIMAL(18,3)) END AS value,
    CASE
      WHEN r.value IS NULL OR NOT {dash} THEN 'ok'
      WHEN {top} THEN 'top_coded'
      WHEN {not_released} THEN 'not_released'
      ELSE 'suppressed'
    END AS status,
    nullif(trim(r.footnote_codes), '') AS footnote_codes
  FROM {read_raw} r
  LEFT JOIN measures m ON m.datatype_code = substr(r.series_id, 24, 2)
"""


def _sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def _create_enum(con: duckdb.DuckDBPyConnection, name: str, values: list[str]) -> None:
    con.execute(f"CREATE TYPE {name} AS ENUM ({_sql_list(values)[1:-1]})")


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


def data_label(data_path: Path) -> str:
    """How messages name the data file (a raw-store copy is named by its sha256)."""
    return data_path.name if data_path.name.startswith("oe.") else "oe.data.0.Current"


def stage_estimates(
    data_path: Path,
    lookups: OewsLookups,
    out_path: Path,
    *,
    release_id: str,
    memory_limit: str = "512MB",
    threads: int | None = None,
    utf8_checked: bool = False,
) -> StagedEstimates:
    """Stream ``oe.data.0.Current`` into a validated parquet file of ``oews_estimates`` rows.

    Raises ValidationError (naming the file, the check and a few rows) and removes the
    staged file if any check fails. ``utf8_checked``: the caller already ran
    :func:`require_utf8` on the file (``stage_oews`` runs it beside the lookups).
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
        params = _decoding(con, lookups, release_id)
        sql = _STAGE_SQL.format(
            dash=_DASH,
            top=_TOP,
            not_released=_NOT_RELEASED,
            read_raw=raw.read(),
            out=str(out_path).replace("'", "''"),
        )
        try:
            con.execute(
                sql,
                {
                    **params,
                    "data": str(data_path),
                    "year": lookups.vintage.reference_year,
                    "period": lookups.vintage.label,
                    "release_id": release_id,
                },
            )
        except duckdb.Error as exc:
            raise ValidationError(label, DATA_READABLE, str(exc).splitlines()[0]) from exc
        try:
            return _check_staged(con, raw, label, out_path, lookups)
        except ValidationError:
            out_path.unlink(missing_ok=True)
            _cells_path(out_path).unlink(missing_ok=True)
            raise
    finally:
        con.close()


def _examples(
    con: duckdb.DuckDBPyConnection, where: str, params: list[object] | None = None
) -> list[str]:
    rows = con.execute(
        "SELECT areatype_code, area_code, industry_code, soc_code, measure, value, status, "
        f"footnote_codes FROM staged WHERE {where} LIMIT 5",
        params or [],
    ).fetchall()
    return [
        " | ".join(
            [series_id(*row[:5]), *("" if v is None else str(v) for v in row[4:])]  # type: ignore[arg-type]
        )
        for row in rows
    ]


def _raw_examples(
    con: duckdb.DuckDBPyConnection, raw: RawData, where: str, params: dict[str, object]
) -> list[str]:
    """The offending lines as BLS wrote them (read again only when a check failed)."""
    rows = con.execute(
        f"SELECT * FROM {raw.read()} WHERE {where} LIMIT 5", {"data": str(raw.path), **params}
    ).fetchall()
    return [" | ".join("" if v is None else v.strip() for v in row) for row in rows]


# Run only after a check failed: a malformed id explains most other failures, so say so.
_ID_STRICT = (
    "starts_with(series_id, 'OEU') AND length(rtrim(series_id)) = 25 "
    "AND substr(series_id, 4, 1) IN ('N', 'S', 'M')"
)


def _check_staged(
    con: duckdb.DuckDBPyConnection,
    raw: RawData,
    label: str,
    out_path: Path,
    lookups: OewsLookups,
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
    quoted = str(out_path).replace("'", "''")
    con.execute(f"CREATE TEMP VIEW staged AS SELECT * FROM read_parquet('{quoted}')")
    keys = CELL_KEYS["oews_estimates"]
    columns = [d[0] for d in con.execute("SELECT * FROM staged LIMIT 0").description]
    values = [c for c in columns if c not in keys and c != "release_id"]
    measures = _sql_list(list(oews_catalog.BY_MEASURE))
    checks = [
        f"bit_count(bit_or(1 << list_position({measures}, measure))) AS distinct_measures",
        *(f"count(*) - count({c}) AS null_{c}" for c in _MUST_HAVE),
        *(f"count(*) FILTER (WHERE status = '{s}') AS status_{s}" for s in STATUSES),
    ]
    con.execute("CREATE TEMP TABLE cells AS " + cells_sql(keys, values, "staged", extra=checks))
    sums = [f"coalesce(sum(null_{c}), 0)" for c in _MUST_HAVE]
    sums += [f"coalesce(sum(status_{s}), 0)" for s in STATUSES]
    rows, duplicated, *found = con.execute(
        "SELECT coalesce(sum(n), 0), count(*) FILTER (WHERE n <> distinct_measures), "
        + ", ".join(sums)
        + " FROM cells"
    ).fetchone()
    broken, statuses = found[: len(_MUST_HAVE)], found[len(_MUST_HAVE) :]
    if rows == 0:
        raise ValidationError(label, "not empty", "the data file has no rows")
    if any(broken) or duplicated:
        _diagnose(con, raw, label, lookups)
        raise ValidationError(  # the detailed checks always name the problem; just in case
            label,
            "staging checks",
            "rows break a rule that the detailed checks could not name: "
            + ", ".join(f"{n} without {c}" for c, n in zip(_MUST_HAVE, broken, strict=True) if n),
        )
    counts = {status: n for status, n in zip(STATUSES, statuses, strict=True) if n}
    if counts.get("top_coded") and lookups.top_code is None:
        raise ValidationError(
            label,
            "top-code threshold",
            "values are top-coded (footnote 5) but oe.footnote has no code 5",
        )
    cells = _cells_path(out_path)
    digests = ", ".join([*keys, "n", "digest"])
    con.execute(
        f"COPY (SELECT {digests} FROM cells) TO '{str(cells).replace(chr(39), chr(39) * 2)}'"
    )
    return StagedEstimates(
        out_path, rows, lookups.vintage.reference_year, counts, raw.unknown, cells
    )


def _cells_path(out_path: Path) -> Path:
    return out_path.with_name(out_path.stem + ".cells.parquet")


def _diagnose(
    con: duckdb.DuckDBPyConnection, raw: RawData, label: str, lookups: OewsLookups
) -> None:
    """Check the raw file rule by rule and raise the first rule it breaks."""
    con.execute(
        _DIAGNOSTIC_VIEW.format(
            measures=_measure_values(),
            row_ok=_ROW_OK.replace("$year", str(lookups.vintage.reference_year)),
            year=lookups.vintage.reference_year,
            dash=_DASH,
            top=_TOP,
            not_released=_NOT_RELEASED,
            # A view takes no parameters: the path goes in as a quoted literal.
            read_raw=raw.read(literal=True),
        )
    )
    try:
        _run_checks(con, raw, label, lookups)
    except ValidationError:
        malformed = _raw_examples(con, raw, f"NOT ({_ID_STRICT})", {})
        if malformed:
            count = con.execute(
                f"SELECT count(*) FROM {raw.read()} WHERE NOT ({_ID_STRICT})",
                {"data": str(raw.path)},
            ).fetchone()[0]
            raise ValidationError(
                label,
                "25-character OEU series ids",
                f"{count} rows have a malformed series_id",
                malformed,
            ) from None
        raise


def _run_checks(
    con: duckdb.DuckDBPyConnection, raw: RawData, label: str, lookups: OewsLookups
) -> None:
    year = {"year": lookups.vintage.reference_year}
    rows, bad_row, bad_measure, bad_value = con.execute(
        """SELECT count(*),
             count(*) FILTER (WHERE reference_year IS NULL),
             count(*) FILTER (WHERE measure IS NULL),
             count(*) FILTER (WHERE status = 'ok' AND value IS NULL)
           FROM staged"""
    ).fetchone()
    if rows == 0:
        raise ValidationError(label, "not empty", "the data file has no rows")
    if bad_row:
        raise ValidationError(
            label,
            "year and period match oe.release",
            f"{bad_row} rows are not year {lookups.vintage.reference_year}, period A01",
            _raw_examples(con, raw, f"NOT ({_ROW_OK})", year),
        )
    if bad_measure:
        raise ValidationError(
            label,
            "all datatypes known",
            f"{bad_measure} rows have a datatype code outside 01-17",
            _raw_examples(
                con,
                raw,
                "substr(series_id, 24, 2) NOT IN (SELECT unnest($codes))",
                {"codes": list(oews_catalog.BY_CODE)},
            ),
        )
    if bad_value:
        raise ValidationError(
            label,
            "values are numbers or '-'",
            f"{bad_value} values are neither a number nor '-'",
            _raw_examples(
                con,
                raw,
                f"value IS NULL OR (NOT {_DASH} AND TRY_CAST(value AS DECIMAL(18,3)) IS NULL)",
                {},
            ),
        )
    con.register("occupations_lookup", lookups.occupations)
    con.register("areas_lookup", lookups.areas)
    con.register("industries_lookup", lookups.industries)
    for column, lookup, key, file in (
        ("soc_code", "occupations_lookup", "soc_code", "oe.occupation"),
        ("area_code", "areas_lookup", "area_code", "oe.area"),
        ("industry_code", "industries_lookup", "industry_code", "oe.industry"),
    ):
        missing = con.execute(
            f"SELECT DISTINCT {column} FROM staged EXCEPT SELECT {key} FROM {lookup} ORDER BY 1"
        ).fetchall()
        if missing:
            codes = [m[0] for m in missing]
            raise ValidationError(
                label,
                f"every {column} resolves in {file}",
                f"{len(codes)} codes are not in {file}: {', '.join(codes[:10])}",
                _examples(con, f"{column} = ?", [codes[0]]),
            )
    wrong_type = (
        "EXISTS (SELECT 1 FROM areas_lookup a "
        "WHERE a.area_code = staged.area_code AND a.area_type <> staged.areatype_code)"
    )
    mismatched = con.execute(f"SELECT count(*) FROM staged WHERE {wrong_type}").fetchone()[0]
    if mismatched:
        raise ValidationError(
            label,
            "area type matches oe.area",
            f"{mismatched} series carry an area type that oe.area does not give their area",
            _examples(con, wrong_type),
        )
    _check_duplicates(con, label, lookups)


def _check_duplicates(con: duckdb.DuckDBPyConnection, label: str, lookups: OewsLookups) -> None:
    """Group by one hash of the key (fast), then confirm candidates on the key itself."""
    key = "area_code, industry_code, ownership, soc_code, measure"
    candidates = con.execute(
        f"SELECT count(*) FROM (SELECT hash({key}) AS h FROM staged GROUP BY h HAVING count(*) > 1)"
    ).fetchone()[0]
    if not candidates:
        return
    dupes = con.execute(
        f"SELECT {key}, count(*) AS n FROM staged GROUP BY ALL HAVING count(*) > 1"
    ).fetchall()
    if not dupes:
        return  # hash collisions only
    areatypes = dict(zip(lookups.areas["area_code"], lookups.areas["area_type"], strict=True))
    raise ValidationError(
        label,
        "no duplicate keys",
        f"{sum(d[-1] - 1 for d in dupes)} duplicate series ids",
        [
            f"{series_id(areatypes.get(a, '?'), a, ind, soc, m)} appears {n} times"
            for a, ind, _, soc, m, n in dupes[:5]
        ],
    )


# --- everything OEWS contributes to a release -------------------------------------------------


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
    with ThreadPoolExecutor(max_workers=1) as pool:
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
