"""State and territory names and postal abbreviations, by FIPS code.

OEWS area codes of states are the two-digit FIPS code followed by ``00000`` (``0600000`` is
California); writers say "CA" or "California". BLS's area names come from the loaded
releases; the postal abbreviations are the U.S. Postal Service's, for the areas OEWS
publishes (the states, the District of Columbia, Guam, Puerto Rico and the Virgin Islands).
"""

from __future__ import annotations

POSTAL_BY_FIPS: dict[str, str] = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY", "66": "GU", "72": "PR", "78": "VI",
}  # fmt: skip
FIPS_BY_POSTAL: dict[str, str] = {postal: fips for fips, postal in POSTAL_BY_FIPS.items()}


def state_area_code(postal: str) -> str | None:
    """``CA`` → ``0600000`` (any case); None for anything that is not a postal abbreviation."""
    fips = FIPS_BY_POSTAL.get(postal.strip().upper())
    return None if fips is None else f"{fips}00000"
