"""State postal abbreviations → OEWS state area codes."""

from __future__ import annotations

from figures.places import FIPS_BY_POSTAL, POSTAL_BY_FIPS, state_area_code


def test_postal_codes_map_to_state_area_codes() -> None:
    assert state_area_code("CA") == "0600000"
    assert state_area_code(" ny ") == "3600000"
    assert state_area_code("DC") == "1100000"
    assert state_area_code("PR") == "7200000"
    assert state_area_code("XX") is None
    assert state_area_code("California") is None


def test_every_state_dc_and_the_territories_oews_publishes() -> None:
    assert len(POSTAL_BY_FIPS) == 50 + 1 + 3  # states, DC, Guam, Puerto Rico, Virgin Islands
    assert len(FIPS_BY_POSTAL) == len(POSTAL_BY_FIPS)  # no abbreviation twice
