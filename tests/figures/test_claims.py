"""Finding claims in text: numbers as written, periods, occupations (short forms, never a
tie), and HTML read at its own offsets."""

from __future__ import annotations

from decimal import Decimal

import pytest

from figures.claims import (
    Lexicon,
    Occupation,
    Places,
    find_claims,
    find_numbers,
    periods,
    plain_text,
)

LEXICON = Lexicon(
    [
        Occupation("29-2071", "2010", "Medical Records and Health Information Technicians"),
        Occupation("29-2072", "2018", "Medical Records Specialists"),
        Occupation("29-1141", "2018", "Registered Nurses"),
        Occupation("15-1252", "2018", "Software Developers"),
        Occupation("15-1132", "2010", "Software Developers, Applications"),
        Occupation("11-9111", "2018", "Medical and Health Services Managers"),
        Occupation("11-3012", "2018", "Administrative Services Managers"),
    ]
)


@pytest.mark.parametrize(
    ("text", "value", "tolerance", "kind"),
    [
        ("$37,110", "37110", "5", "usd"),  # exact to BLS's ten dollars
        ("$37,100", "37100", "50", "usd"),  # rounded to hundreds
        ("$51K", "51000", "500", "usd"),
        ("$200K", "200000", "500", "usd"),  # as "$200,000": not give or take $50,000
        ("3 million jobs", "3000000", "500000", "count"),  # to the million
        ("190 thousand jobs", "190000", "500", "count"),
        ("$24.50", "24.50", "0.005", "usd"),
        ("15%", "15", "0.5", "percent"),
        ("15.4 percent", "15.4", "0.05", "percent"),
        ("1.2 million jobs", "1200000", "50000", "count"),
        ("14,200 openings", "14200", "50", "count"),
    ],
)
def test_numbers_carry_the_rounding_they_are_written_with(
    text: str, value: str, tolerance: str, kind: str
) -> None:
    [number] = find_numbers(text, 0, len(text))
    assert (number.value, number.tolerance, number.kind) == (
        Decimal(value),
        Decimal(tolerance),
        kind,
    )


def test_years_are_not_numbers_and_periods_are_read_each_way() -> None:
    text = (
        "Growth from 2014 to 2024, 2016-26 and 2014–24; pay as of May 2015, in January 2016, "
        "in 2016."
    )
    assert find_numbers(text, 0, len(text)) == []
    found = [(p.cycle, p.year, p.month) for _, p in periods(text, 0, len(text))]
    assert found == [
        ("2014-24", None, None),
        ("2016-26", None, None),
        ("2014-24", None, None),
        (None, 2015, "May"),
        (None, 2016, "January"),
        (None, 2016, None),
    ]


def test_a_short_form_finds_its_title_and_a_tie_finds_none() -> None:
    found = LEXICON.mentions(text := "Medical records technicians and software developers.", 0, 60)
    assert [(m.text, m.occupation.soc_code) for m in found] == [
        ("Medical records technicians", "29-2071"),  # SOC 2010's title, words left out
        ("software developers", "15-1252"),  # the exact title wins over the longer one
    ]
    assert text
    # "services managers" fits two titles, neither exactly: no occupation rather than a guess
    assert LEXICON.mentions("Services managers earn well.", 0, 28) == []
    # a phrase never takes words the title lacks
    [nurses] = LEXICON.mentions("There were openings for registered nurses.", 0, 43)
    assert nurses.text == "registered nurses"


def test_one_title_of_several_codes_names_the_detailed_newest_one() -> None:
    lexicon = Lexicon(
        [
            Occupation("29-1061", "2010", "Anesthesiologists"),
            Occupation("29-1211", "2018", "Anesthesiologists"),
            Occupation("29-2070", "2018", "Medical Records Specialists"),  # the broad group
            Occupation("29-2072", "2018", "Medical Records Specialists"),
            Occupation("53-7062", "2018", "Laborers"),
            Occupation("47-2061", "2018", "Laborers"),  # two of one name: no guess
        ]
    )
    text = "Anesthesiologists and medical records specialists earn more than laborers."
    found = [(m.text, m.occupation.soc_code) for m in lexicon.mentions(text, 0, len(text))]
    assert found == [
        ("Anesthesiologists", "29-1211"),
        ("medical records specialists", "29-2072"),
    ]


def test_a_claim_links_number_occupation_measure_and_period() -> None:
    text = (
        "Medical records technicians can expect 15% job growth from 2014 to 2024, and the "
        "median wage was $37,110 as of May 2015.\nThey earn a mean of $18.50 an hour."
    )
    claims = find_claims(text, LEXICON)
    got = [
        (c.number.text, c.mention.occupation.soc_code, c.measure, c.period and c.period.text)
        for c in claims
    ]
    assert got == [
        ("15%", "29-2071", "employment_change_pct", "2014 to 2024"),
        ("$37,110", "29-2071", "annual_median", "May 2015"),
        ("$18.50", "29-2071", "hourly_mean", None),  # the occupation of the sentence before
    ]
    assert text[claims[1].start : claims[1].end].startswith("Medical records technicians")
    assert text[claims[1].start : claims[1].end].endswith("$37,110")


def test_a_projected_decline_is_a_negative_change() -> None:
    text = (
        "Software developers are projected to decline 4 percent from 2024 to 2034. "
        "Registered nurses: employment will change by -3.7% over 2024-34. "
        "Medical records specialists will see a 2% drop in 2024–34. "
        "Administrative services managers will grow 5% from 2014-24."
    )
    found = [(c.mention.occupation.soc_code, c.number.value) for c in find_claims(text, LEXICON)]
    assert found == [
        ("15-1252", Decimal(-4)),
        ("29-1141", Decimal("-3.7")),
        ("29-2072", Decimal(-2)),
        ("11-3012", Decimal(5)),  # the dash of 2014-24 is no minus sign
    ]


def test_html_is_read_at_its_own_offsets() -> None:
    raw = (
        "<html><body><p>Registered <b>nurses</b> earn a median wage of&nbsp;"
        "<em>$86,070</em>.</p><script>var x = '$1';</script></body></html>"
    )
    text = plain_text(raw, html=True)
    assert len(text) == len(raw)
    [claim] = find_claims(text, LEXICON)
    assert raw[claim.number.start : claim.number.end] == "$86,070"
    assert claim.mention.occupation.soc_code == "29-1141"


def test_places_and_industries_are_found_by_name_never_by_a_guess() -> None:
    places = Places(
        [("0600000", "S", "California"), ("0071650", "M", "Boston-Cambridge-Nashua, MA-NH")],
        [
            ("000000", "Cross-industry, Private, Federal, State, and Local Government"),
            ("62--63", "Sector 62 - Health Care and Social Assistance"),
            ("622000", "Hospitals (including private, state, and local government hospitals)"),
            ("621000", "Ambulatory Health Care Services"),
        ],
    )
    scope = places.scope("Nurses in Boston who work in hospitals earn")
    assert (scope.area_code, scope.industry_code) == ("0071650", "622000")
    assert places.scope("In California, nurses in health care and social assistance").industry == (
        "Health Care and Social Assistance"
    )
    # "health care" fits two industries, neither by its whole name: none is guessed
    assert places.scope("nurses in health care earn").industry_code == "000000"
    assert places.scope("as of May 2024").is_default


def test_a_heading_names_the_occupation_of_the_list_under_it() -> None:
    text = (
        "## Registered nurses\n\n* Median pay: $93,600 per year\n* Job growth: 5% (2024–34)\n\n"
        "## Conclusion\n\nThe pay is $50,000 a year.\n"
    )
    got = [
        (c.number.text, c.mention.occupation.soc_code, c.measure)
        for c in find_claims(text, LEXICON)
    ]
    assert got == [
        ("$93,600", "29-1141", "annual_median"),
        ("5%", "29-1141", "employment_change_pct"),
        # a heading without an occupation ends the nurses' section: no claim is guessed
    ]
