"""The measures a figure can be asked for: OEWS's from the catalogue, the projections' as
columns of the projections table, each with a unit a writer's format knows."""

from __future__ import annotations

from figures.measures import MEASURES, OEWS_MEASURES, OTHER_OPENINGS, PROJECTION_MEASURES
from transforms.oews_catalog import BY_MEASURE, UNITS
from warehouse.lake import TABLES


def test_every_projection_measure_is_a_column_of_the_projections_table() -> None:
    assert set(PROJECTION_MEASURES) <= set(TABLES["projections"])
    assert set(OTHER_OPENINGS) == {"openings_annual", "openings_total"} <= set(PROJECTION_MEASURES)
    assert all(OTHER_OPENINGS[OTHER_OPENINGS[m]] == m for m in OTHER_OPENINGS)


def test_oews_measures_are_the_catalogue_s_and_no_name_is_taken_twice() -> None:
    assert OEWS_MEASURES["annual_median"] == ("usd_per_year", "median annual wage")
    assert list(OEWS_MEASURES) == list(BY_MEASURE)
    assert not set(OEWS_MEASURES) & set(PROJECTION_MEASURES)
    assert len(MEASURES) == len(OEWS_MEASURES) + len(PROJECTION_MEASURES)


def test_every_unit_has_a_format_or_is_text() -> None:
    units = {unit for unit, _ in MEASURES.values()}
    assert units - set(UNITS) == {"text"}
    texts = sorted(m for m, (unit, _) in MEASURES.items() if unit == "text")
    assert texts == ["education", "experience", "training"]
