"""``bls-refresh audit``: each claim of an article judged against a release built from the
sample mirror (May 2024, projections 2024-34, BLS's SOC crosswalk), to which an older year
and cycle of the SOC 2010 code 29-2071 are added: every verdict, its evidence, the three
outputs and the exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from core.paths import DataPaths
from figures.audit import Audit, audit
from figures.release import ReleaseReader
from warehouse import bundles, lake

Run = Callable[..., subprocess.CompletedProcess[str]]

# Rows of an earlier year and cycle, as SOC 2010 published them: 29-2071's May 2015 national
# median ($37,110 a year, $17.84 an hour) and its 2014-24 projected growth (15%).
MAY_2015 = [("annual_median", 37110), ("hourly_median", 17.84)]


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
    sample_release: Callable[..., tuple[DataPaths, str]],
) -> tuple[DataPaths, str]:
    root = tmp_path_factory.mktemp("audit")
    paths, rid = sample_release(root, with_soc=True)
    bundle = paths.published / rid
    rows = ", ".join(
        f"(2015, 'May 2015', 'N', '0000000', '000000', 'all', '29-2071', '{m}', "
        f"{v}::DECIMAL(18,3), 'ok', NULL::DECIMAL(18,2), NULL::VARCHAR, '{rid}')"
        for m, v in MAY_2015
    )
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM (VALUES {rows}) t({', '.join(lake.TABLES['oews_estimates'])})) TO "
        f"'{bundle / bundles.part_name('oews_estimates', 2015)}' (FORMAT parquet)"
    )
    # May 2018 of 13-2051, a SOC 2010 code that kept its number through a split (13-2051 and
    # 13-2054 in SOC 2018): published then for the whole occupation
    analysts = (
        f"(2018, 'May 2018', 'N', '0000000', '000000', 'all', '13-2051', 'annual_median', "
        f"85660::DECIMAL(18,3), 'ok', NULL::DECIMAL(18,2), NULL::VARCHAR, '{rid}')"
    )
    con.execute(
        f"COPY (SELECT * FROM (VALUES {analysts}) t({', '.join(lake.TABLES['oews_estimates'])})) "
        f"TO '{bundle / bundles.part_name('oews_estimates', 2018)}' (FORMAT parquet)"
    )
    projections = bundle / "projections.parquet"
    con.execute(
        f"COPY (SELECT * FROM '{projections}' UNION ALL BY NAME SELECT '2014-24' AS cycle, "
        "2014 AS base_year, 2024 AS target_year, '29-2071' AS soc_code, '2010' AS soc_version, "
        "'Medical records and health information technicians' AS title, "
        f"15.0::DECIMAL(6,1) AS employment_change_pct, '{rid}' AS release_id) "
        f"TO '{root / 'p.parquet'}' (FORMAT parquet)"
    )
    con.close()
    shutil.move(root / "p.parquet", projections)
    return paths, rid


def _audit(built: tuple[DataPaths, str], text: str) -> Audit:
    paths, rid = built
    with ReleaseReader(rid, paths.published / rid) as reader:
        return audit(reader, text)


def _verdicts(built: tuple[DataPaths, str], text: str) -> list[tuple[str, str]]:
    return [(v.claim.number.text, v.verdict) for v in _audit(built, text).verdicts]


def test_an_article_whose_figures_are_all_current_reports_nothing_else(
    built: tuple[DataPaths, str],
) -> None:
    text = (
        "Medical records specialists earned a median annual wage of $50,250 in May 2024, or "
        "$24.16 an hour at the median. BLS projects 7% growth for medical records specialists "
        "from 2024 to 2034, with about 14,200 openings each year."
    )
    assert _verdicts(built, text) == [
        ("$50,250", "current"),
        ("$24.16", "current"),
        ("7%", "current"),
        ("14,200", "current"),
    ]
    [wage, *_] = _audit(built, text).verdicts
    # a current figure comes with where to check it at BLS
    assert wage.evidence[0]["source_url"] == (
        "https://data.bls.gov/timeseries/OEUN000000000000029207213"
    )


def test_a_code_kept_through_a_split_is_its_own_occupation_before_it(
    built: tuple[DataPaths, str],
) -> None:
    text = "Financial analysts earned a median annual wage of $85,660 in May 2018."
    [verdict] = _audit(built, text).verdicts
    assert verdict.verdict == "current", verdict.explanation  # nothing newer is loaded


def test_words_elsewhere_in_the_sentence_say_nothing_of_the_number(
    built: tuple[DataPaths, str],
) -> None:
    # a fall named in another clause is not this growth's; "more than" after a comma does not
    # make a top code a floor
    grew = (
        "Although hiring fell in 2020, medical records specialists are projected to grow "
        "7 percent from 2024 to 2034."
    )
    assert _verdicts(built, grew) == [("7 percent", "current")]
    top = "Anesthesiologists earned a median annual wage of $239,200 in May 2024, more than most."
    assert _verdicts(built, top) == [("$239,200", "mislabeled")]


def test_a_count_of_jobs_in_a_projections_base_year_is_that_year_s_employment(
    built: tuple[DataPaths, str], tmp_path: Path
) -> None:
    # The Handbook prints the projections' base employment as "Number of Jobs, 2024".
    text = "Medical records specialists held about 194,800 jobs in 2024."
    [verdict] = _audit(built, text).verdicts
    assert verdict.verdict == "current", verdict.explanation
    assert verdict.evidence[0]["key"] == {"cycle": "2024-34", "soc_code": "29-2072"}
    # the same number said of another year is not that year's count
    assert _verdicts(built, "Medical records specialists held 194,800 jobs in 2034.") != [
        ("194,800", "current")
    ]
    # and once a newer cycle is loaded, the 2024 count is an older figure
    paths, rid = built
    newer = tmp_path / rid
    shutil.copytree(paths.published / rid, newer)
    projections = newer / "projections.parquet"
    duckdb.execute(
        f"COPY (SELECT * FROM '{projections}' UNION ALL BY NAME SELECT '2025-35' AS cycle, "
        "2025 AS base_year, 2035 AS target_year, '29-2072' AS soc_code, '2018' AS soc_version, "
        "'Medical records specialists' AS title, 199000 AS employment_base, "
        f"'{rid}' AS release_id) TO '{tmp_path / 'p.parquet'}' (FORMAT parquet)"
    )
    shutil.move(tmp_path / "p.parquet", projections)
    with ReleaseReader(rid, newer) as reader:
        [later] = audit(reader, text).verdicts
    assert later.verdict == "stale", later.explanation


def test_a_top_coded_wage_is_current_only_as_a_floor(built: tuple[DataPaths, str]) -> None:
    # BLS publishes the median of 29-1211 in May 2024 as "$239,200 or more".
    said = "Anesthesiologists earned a median annual wage of {} in May 2024."
    verdicts = {
        claim: _audit(built, said.format(claim)).verdicts
        for claim in ("$239,200 or more", "$239,200", "$150,000", "$250,000")
    }
    assert {c: [v.verdict for v in vs] for c, vs in verdicts.items()} == {
        "$239,200 or more": ["current"],
        "$239,200": ["mislabeled"],
        "$150,000": ["wrong"],
        "$250,000": ["unverified"],
    }
    assert verdicts["$239,200"][0].explanation == (
        "$239,200 is the top code of the median annual wage of May 2024: BLS publishes it as "
        "$239,200 or more, not as an exact figure."
    )
    assert verdicts["$150,000"][0].explanation == (
        "The median annual wage of May 2024 is $239,200 or more, not $150,000."
    )
    assert "neither confirms nor refutes $250,000" in verdicts["$250,000"][0].explanation


def test_a_successor_s_figure_is_not_the_figure_of_the_split_occupation(
    built: tuple[DataPaths, str],
) -> None:
    # 29-2071 (SOC 2010) became 29-2072 and 29-9021: 29-2072's median is only part of it.
    text = (
        "Medical records and health information technicians earned a median annual wage of "
        "$50,250 in May 2024."
    )
    [verdict] = _audit(built, text).verdicts
    assert verdict.verdict == "mislabeled"
    assert verdict.explanation.startswith(
        "$50,250 is the median annual wage of May 2024 for Medical records specialists "
        "(29-2072) alone, one of the occupations Medical records and health information "
        "technicians (29-2071, SOC 2010) became."
    ), verdict.explanation


def test_old_figures_are_stale_and_name_the_successor_codes(
    built: tuple[DataPaths, str],
) -> None:
    rid = built[1]
    text = (
        "Medical records technicians can expect 15% job growth from 2014 to 2024. Medical "
        "records technicians earned a median wage of $37,110 in May 2015."
    )
    result = _audit(built, text)
    growth, wage = result.verdicts
    assert (growth.verdict, wage.verdict) == ("stale", "stale")
    assert growth.explanation == (
        "15% is the projected employment growth of 2014-24; newer figures are loaded. "
        "29-2071 (2010) is now 29-2072, 29-9021."
    )
    assert growth.evidence[0] == {
        "table": "projections",
        "key": {"cycle": "2014-24", "soc_code": "29-2071"},
        "release": rid,
        "value": 15,
        "reference": "2014-24",
    }
    # the current figures of both successors, with their source
    assert [e["key"]["soc_code"] for e in growth.evidence[1:]] == ["29-2072", "29-9021"]
    assert growth.suggestion is not None
    assert "Medical records specialists: projected employment growth 7% (2024-34" in (
        growth.suggestion
    )
    assert wage.evidence[0]["key"]["reference_year"] == 2015
    assert "median annual wage $50,250 (May 2024" in str(wage.suggestion)


def test_mislabeled_wrong_and_unverified_say_what_the_number_really_is(
    built: tuple[DataPaths, str],
) -> None:
    rid = built[1]
    text = (
        "Medical records specialists earn a mean wage of $50,250 a year.\n"
        "Medical records technicians earned a median wage of $37,110 as of January 2016.\n"
        "Medical records specialists can expect 9% job growth from 2024 to 2034.\n"
        "Medical records specialists earned a median wage of $41,000 in May 2016.\n"
    )
    result = _audit(built, text)
    got = [(v.claim.number.text, v.verdict, v.explanation) for v in result.verdicts]
    assert got == [
        (
            "$50,250",
            "mislabeled",
            "$50,250 is the median annual wage of May 2024, not mean annual wage.",
        ),
        (
            "$37,110",
            "mislabeled",
            "$37,110 is the median annual wage of May 2015, not of January 2016. "
            "29-2071 (2010) is now 29-2072, 29-9021.",
        ),
        ("9%", "wrong", "The projected employment growth of 2024-34 is 7.1%, not 9%."),
        (
            "$41,000",
            "unverified",
            "Nothing loaded matches $41,000 for Medical Records Specialists (29-2072). May "
            "2016 estimates would settle it: run `bls-refresh backfill --oews-years 2016`.",
        ),
    ]
    # every verdict rests on rows named by table, key and release
    for v in result.verdicts:
        assert v.evidence and all(e["release"] == rid and e["key"] for e in v.evidence)


def test_the_command_reports_in_text_json_and_html_with_exit_codes(
    built: tuple[DataPaths, str], tmp_path: Path, bls_refresh: Run
) -> None:
    paths, rid = built
    current = tmp_path / "current.md"
    current.write_text("Medical records specialists earn a median annual wage of $50,250.\n")
    done = bls_refresh("audit", str(current), "--data-dir", str(paths.root))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        f"current.md: 1 claim(s) checked against release {rid} (1 current)."
    )

    page = tmp_path / "article.html"
    page.write_text(
        "<html><body><h1>Health careers</h1><p>Medical records technicians can expect "
        "<b>15%</b> job growth from 2014&ndash;24.</p></body></html>"
    )
    out = tmp_path / "marked.html"
    done = bls_refresh(
        "audit", str(page), "--json", "--html", str(out), "--data-dir", str(paths.root)
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    [claim] = report["claims"]
    assert (claim["verdict"], report["clean"]) == ("stale", False)
    raw = page.read_text()
    assert raw[claim["start"] : claim["end"]] == "Medical records technicians can expect <b>15%"
    marked = out.read_text()
    assert '<mark class="bls-stale"' in marked and "<h1>Health careers</h1>" in marked
    assert "Suggested: Medical records specialists: projected employment growth 7%" in marked

    done = bls_refresh("audit", str(tmp_path / "missing.md"), "--data-dir", str(paths.root))
    assert done.returncode == 2
    assert "Cannot read the article" in done.stderr

    # --html into a folder not made yet makes it; a path that cannot be written exits 2
    # (not 1, which says a claim is not current), with a message and no traceback
    nested = tmp_path / "reports" / "2026" / "marked.html"
    done = bls_refresh("audit", str(current), "--html", str(nested), "--data-dir", str(paths.root))
    assert done.returncode == 0 and "<mark" in nested.read_text(), done.stderr
    blocked = current / "marked.html"  # under a file
    done = bls_refresh("audit", str(current), "--html", str(blocked), "--data-dir", str(paths.root))
    assert done.returncode == 2
    assert done.stderr.startswith(f"Cannot write {blocked}:") and "Traceback" not in done.stderr


def test_a_claim_is_judged_in_the_place_and_industry_it_names(
    built: tuple[DataPaths, str],
) -> None:
    text = (
        "Medical records specialists in California earned a median annual wage of $61,740 in "
        "May 2024.\n"
        "Medical records specialists in health care earn a median wage of $47,910.\n"
        "In hospitals, medical records specialists earn a median wage of $50,250.\n"
        "Medical records specialists in Massachusetts earned a median wage of $61,740.\n"
    )
    result = _audit(built, text)
    got = [(v.claim.number.text, v.verdict, v.says) for v in result.verdicts]
    assert got == [
        ("$61,740", "current", "median annual wage in California, May 2024"),
        ("$47,910", "current", "median annual wage in Health Care and Social Assistance"),
        (
            "$50,250",
            "mislabeled",  # the all-industry figure, called the hospitals'
            "median annual wage in Hospitals (including private, state, and local government "
            "hospitals)",
        ),
        ("$61,740", "wrong", "median annual wage in Massachusetts"),
    ]
    hospitals, massachusetts = result.verdicts[2], result.verdicts[3]
    assert hospitals.evidence[0]["key"]["industry_code"] == "000000"
    assert "$56,260 (May 2024" in str(hospitals.suggestion)  # the hospitals' median
    assert (
        massachusetts.explanation == "The median annual wage of May 2024 is $59,720, not $61,740."
    )
    assert massachusetts.evidence[0]["key"]["area_code"] == "2500000"


def test_a_comparison_is_a_figure_of_all_occupations(built: tuple[DataPaths, str]) -> None:
    text = (
        "Medical records specialists can expect 7% growth from 2024 to 2034, faster than the 3% "
        "average for all occupations. The median annual wage for medical records specialists "
        "was $50,250 in May 2024, above the $49,500 median for all occupations, and above the "
        "national median of $52,000."
    )
    result = _audit(built, text)
    got = [
        (v.claim.number.text, v.claim.mention.occupation.soc_code, v.verdict)
        for v in result.verdicts
    ]
    assert got == [
        ("7%", "29-2072", "current"),
        ("3%", "00-0000", "current"),
        ("$50,250", "29-2072", "current"),
        ("$49,500", "00-0000", "current"),
        ("$52,000", "00-0000", "wrong"),  # the all-occupations median is $49,500
    ]


def test_occupations_are_found_by_title_short_form_and_common_name(
    built: tuple[DataPaths, str],
) -> None:
    text = (
        "IT managers earned a median annual wage of $171,200 in May 2024, and their jobs are "
        "projected to grow 15% from 2024 to 2034.\n"
        "Registered nurses earn a median of $93,600 a year; RNs can expect 5% growth from 2024 "
        "to 2034, with 189,100 openings a year.\n"
        "Computer support specialists earn a median annual wage of $60,340.\n"
    )
    result = _audit(built, text)
    got = [
        (v.claim.mention.text, v.claim.mention.occupation.soc_code, v.claim.measure, v.verdict)
        for v in result.verdicts
    ]
    assert got == [
        ("IT managers", "11-3021", "annual_median", "current"),
        ("IT managers", "11-3021", "employment_change_pct", "current"),  # 15.2
        ("Registered nurses", "29-1141", "annual_median", "current"),
        ("RNs", "29-1141", "employment_change_pct", "current"),  # 4.9, written 5%
        ("RNs", "29-1141", "openings_annual", "current"),
        # SOC 2018's broad group, whose median is $61,550; $60,340 is user support's
        ("Computer support specialists", "15-1230", "annual_median", "wrong"),
    ]


def test_an_unverified_claim_names_the_files_that_would_settle_it(
    built: tuple[DataPaths, str],
) -> None:
    text = "In hospitals, medical records specialists earned a median wage of $40,000 in May 2016."
    [verdict] = _audit(built, text).verdicts
    assert verdict.verdict == "unverified"
    assert verdict.explanation.endswith(
        "May 2016 estimates by industry would settle it: run `bls-refresh backfill "
        "--oews-years 2016 --files in4`."
    )
