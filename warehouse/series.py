"""``oews_wage_series``: an occupation's OEWS estimates year by year, across SOC changes.

Defined once here, as SQL over the release's tables; the analyst file creates it as a view
(``FROM oews_wage_series``) and ``bls-refresh series`` runs it on a release bundle.

Each May year's estimates are published under that year's SOC (``soc_version``: 2010 up to
May 2018, the 2010/2018 hybrid in May 2019 and 2020, 2018 from May 2021). A series is named by
its SOC 2018 code (``series_soc``):

- from May 2019 on, the code as published is the series (a hybrid-only code such as 29-2098
  is a series of its own, for those two years);
- a SOC 2010 year joins the series of the 2018 code its code became (the SOC crosswalk). A
  one-to-one succession (15-1151 → 15-1232) joins cleanly. A split (29-2071 → 29-2072 +
  29-9021) or a merge (several 2010 codes → one 2018 code) is kept in each series it touches
  and marked as a break (``comparable`` false, ``break_reason`` saying which codes), never
  summed or spliced;
- a 2010 code the crosswalk does not list (totals such as 00-0000, groups) keeps its code.

Every point keeps its reference year, the SOC code and version it was published under, its
status and the top code in force that May year for that measure (the cap BLS's ``#`` stood
for; None when no wage of that year and measure was top-coded, e.g. May 2025).

BLS warns that OEWS estimates are not designed for comparisons over time: survey methods,
samples and occupation definitions change. :data:`CAVEAT` says so wherever a series is shown.
"""

from __future__ import annotations

from collections.abc import Callable

VIEW = "oews_wage_series"

CAVEAT = (
    "BLS cautions that OEWS estimates are not designed for comparisons over time: the survey "
    "sample, its methods and the occupation definitions (SOC 2010, the 2019-2020 hybrid, "
    "SOC 2018) change between years. Treat year-to-year differences as indicative, and never "
    "across a marked break."
)

COLUMNS = (
    "series_soc",
    "reference_year",
    "reference_period",
    "soc_code",
    "soc_version",
    "areatype_code",
    "area_code",
    "industry_code",
    "ownership",
    "measure",
    "value",
    "status",
    "top_code_in_force",
    "footnote_codes",
    "comparable",
    "break_reason",
    "release_id",
)


def series_sql(table: Callable[[str], str]) -> str:
    """The series query over the tables ``table(name)`` names (a view's tables, or a
    bundle's parquet files)."""
    est, xw = table("oews_estimates"), table("soc_crosswalk")
    return f"""
WITH est AS (
    SELECT e.*,
        CASE WHEN reference_year >= 2021 THEN '2018'
             WHEN reference_year >= 2019 THEN '2018-hybrid'
             ELSE '2010' END AS soc_version
    FROM {est} e
),
top_codes AS (
    SELECT reference_year, measure, max(top_code_threshold) AS top_code_in_force
    FROM {est} WHERE status = 'top_coded' GROUP BY reference_year, measure
),
xw AS (
    SELECT DISTINCT from_code, to_code FROM {xw}
    WHERE from_version = '2010' AND to_version = '2018'
),
fan_out AS (
    SELECT from_code, count(*) AS n, string_agg(to_code, ' + ' ORDER BY to_code) AS codes
    FROM xw GROUP BY from_code
),
fan_in AS (
    SELECT to_code, count(*) AS n, string_agg(from_code, ' + ' ORDER BY from_code) AS codes
    FROM xw GROUP BY to_code
),
points AS (
    SELECT est.soc_code AS series_soc, est.*, NULL::VARCHAR AS break_reason
    FROM est WHERE soc_version <> '2010'
    UNION ALL
    SELECT x.to_code AS series_soc, est.*,
        CASE
            WHEN o.n > 1 THEN 'SOC 2010 ' || est.soc_code || ' was split into ' || o.codes
                || ' in SOC 2018; this value covers all of them'
            WHEN i.n > 1 THEN 'SOC 2018 ' || x.to_code || ' merges SOC 2010 ' || i.codes
                || '; this value covers ' || est.soc_code || ' only'
        END AS break_reason
    FROM est
    JOIN xw x ON x.from_code = est.soc_code
    JOIN fan_out o ON o.from_code = est.soc_code
    JOIN fan_in i ON i.to_code = x.to_code
    WHERE est.soc_version = '2010'
    UNION ALL
    SELECT est.soc_code AS series_soc, est.*, NULL::VARCHAR AS break_reason
    FROM est
    WHERE soc_version = '2010' AND soc_code NOT IN (SELECT from_code FROM xw)
)
SELECT p.series_soc, p.reference_year, p.reference_period, p.soc_code, p.soc_version,
    p.areatype_code::VARCHAR AS areatype_code, p.area_code, p.industry_code,
    p.ownership::VARCHAR AS ownership, p.measure::VARCHAR AS measure,
    p.value, p.status::VARCHAR AS status, t.top_code_in_force, p.footnote_codes,
    p.break_reason IS NULL AS comparable, p.break_reason, p.release_id
FROM points p
LEFT JOIN top_codes t ON t.reference_year = p.reference_year AND t.measure = p.measure
"""


def create_view_sql(schema: str, table: Callable[[str], str]) -> str:
    """``CREATE VIEW <schema>.oews_wage_series`` over ``table(name)``."""
    return f"CREATE VIEW {schema}.{VIEW} AS {series_sql(table)}"
