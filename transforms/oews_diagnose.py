"""Why ``oe.data.0.Current`` failed the staging checks: the slow pass, rule by rule.

Runs only when the staging pass (:mod:`transforms.oews_staging`) counted a broken row or a
duplicate key. It re-reads the raw file as plain strings (:class:`transforms.oews_data.RawData`,
the same ``-`` rules), checks each rule in turn and raises the first one broken, naming it and
showing the offending lines as BLS wrote them. Exact, and several times slower than the
staging pass, which is why a good file never comes here.
"""

from __future__ import annotations

import duckdb

from core.errors import ValidationError
from transforms import oews_catalog
from transforms.oews_data import AS_NUMBER, IS_DASH, IS_NOT_RELEASED, IS_TOP_CODED, RawData
from transforms.oews_lookups import OewsLookups
from transforms.oews_series import series_id

# The same rows as plain strings, straight from the raw file: what this pass checks when the
# staging pass found a NULL or a duplicate. Slower, and exact about every rule.
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
    CASE WHEN NOT {dash} THEN {number} END AS value,
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


def _measure_values() -> str:
    return ", ".join(f"('{d.code}', '{d.measure}')" for d in oews_catalog.BY_CODE.values())


# Run only after a check failed: a malformed id explains most other failures, so say so.
_ID_STRICT = (
    "starts_with(series_id, 'OEU') AND length(rtrim(series_id)) = 25 "
    "AND substr(series_id, 4, 1) IN ('N', 'S', 'M')"
)


def diagnose(
    con: duckdb.DuckDBPyConnection, raw: RawData, label: str, lookups: OewsLookups
) -> None:
    """Check the raw file rule by rule and raise the first rule it breaks (the staging pass
    left its ``staged`` view on ``con``; this replaces it with the raw rows)."""
    con.execute(
        _DIAGNOSTIC_VIEW.format(
            measures=_measure_values(),
            row_ok=_ROW_OK.replace("$year", str(lookups.vintage.reference_year)),
            year=lookups.vintage.reference_year,
            number=AS_NUMBER,
            dash=IS_DASH,
            top=IS_TOP_CODED,
            not_released=IS_NOT_RELEASED,
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
                f"value IS NULL OR (NOT {IS_DASH} AND {AS_NUMBER} IS NULL)",
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
