"""The measures a figure can be asked for, each with its unit and the phrase a writer uses.

OEWS measures come from the OEWS catalogue (:mod:`transforms.oews_catalog`, one row per BLS
datatype). The projections' measures are listed here, because figures are their only reader:
each is a column of the ``projections`` table of the same name (``openings_total`` is the
ten-year openings of cycles up to 2014-24), and their units are the catalogue's
(:data:`transforms.oews_catalog.UNITS`) plus ``text`` for the education, experience and
training categories.
"""

from __future__ import annotations

from transforms.oews_catalog import BY_MEASURE

# measure → (unit, phrase in a sentence)
OEWS_MEASURES: dict[str, tuple[str, str]] = {m: (d.unit, d.phrase) for m, d in BY_MEASURE.items()}
PROJECTION_MEASURES: dict[str, tuple[str, str]] = {
    "employment_base": ("persons", "employment"),
    "employment_target": ("persons", "projected employment"),
    "employment_change": ("persons", "projected employment change"),
    "employment_change_pct": ("percent", "projected employment growth"),
    "openings_annual": ("persons", "projected openings each year"),
    "openings_total": ("persons", "projected openings over the decade"),
    "self_employed_pct": ("percent", "share self-employed"),
    "median_annual_wage": ("usd_per_year", "median annual wage"),
    "education": ("text", "typical education needed for entry"),
    "experience": ("text", "work experience in a related occupation"),
    "training": ("text", "typical on-the-job training"),
}
MEASURES = {**OEWS_MEASURES, **PROJECTION_MEASURES}
# Job openings are published one way per cycle: a ten-year total up to 2014-24, an annual
# average from 2016-26 on. Asking for the other one names the one that exists.
OTHER_OPENINGS = {"openings_annual": "openings_total", "openings_total": "openings_annual"}
