"""The BLS API extractor against the local BLS-like server: real HTTP POSTs, no mocks.

Real recorded answers (shared/bls-reference/samples/api) are served from the mirror's
``api.bls.gov/publicAPI/v2/timeseries/data/response.json``; refusals, odd shapes and broken
answers are queued with ``srv.fail("/timeseries/data/", "body", data=...)``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.errors import ConfigError, FetchError
from extractors.api import (
    KEY_PLACEHOLDER,
    KEYED,
    SCRUBBED_NOTE,
    ApiRow,
    fetch_series,
    plan_requests,
)
from extractors.http import Fetcher, HttpPolicy
from extractors.rawstore import RawStore
from extractors.source import Source

if TYPE_CHECKING:
    from tests.blsserver import BlsServer

API_DIR = "api.bls.gov/publicAPI/v2/timeseries/data"
SUFFIX = "/timeseries/data/"
KEY = "SECRET-KEY-123"
CONTACT = "ops@example.org"
SUCCESS_SAMPLES = (
    "ap_cps-situation-2015.json",
    "ap_cps-situation-2015-all_options.json",
    "ap_sae-north_dakota-mining-2014-2015.json",
    "ap_sae-north_dakota-mining-2015-catalog.json",
)
ORTHODONTISTS = "OEUN000000000000029102313"
TOP_CODED_TEXT = "This wage is equal to or greater than $100.00 per hour or $208,000 per year."


# -- helpers -----------------------------------------------------------------------------------


def obs(
    year: int,
    period: str,
    value: str,
    *,
    footnotes: list[dict[str, str]] | None = None,
    latest: bool = False,
) -> dict[str, object]:
    item: dict[str, object] = {
        "year": str(year),
        "period": period,
        "periodName": "Annual" if period == "A01" else period,
        "value": value,
        "footnotes": [{}] if footnotes is None else footnotes,
    }
    if latest:
        item["latest"] = "true"
    return item


def answer(
    series: dict[str, list[dict[str, object]]] | None = None,
    *,
    status: str = "REQUEST_SUCCEEDED",
    messages: list[str] | None = None,
    results_as_list: bool = False,
) -> bytes:
    block = {"series": [{"seriesID": sid, "data": data} for sid, data in (series or {}).items()]}
    doc = {
        "status": status,
        "responseTime": 42,
        "message": messages or [],
        "Results": [block] if results_as_list else block,
    }
    return json.dumps(doc, indent=1).encode()


def quota_refusal(key: str) -> bytes:
    """BLS's quota refusal, verbatim (keberwein/blscrapeR#40): HTTP 200, key echoed."""
    return answer(
        status="REQUEST_NOT_PROCESSED",
        messages=[
            "Request could not be serviced, as the daily threshold for total number of "
            f"requests allocated to the user with registration key {key} has been reached."
        ],
    )


# The OEWS answer captured verbatim in FORMATS.md §1.4 (top-coded, "No Data" for other years).
OEWS_DOC = {
    "status": "REQUEST_SUCCEEDED",
    "responseTime": 195,
    "message": [
        f"No Data Available for Series {ORTHODONTISTS} Year: 2016",
        f"No Data Available for Series {ORTHODONTISTS} Year: 2017",
    ],
    "Results": {
        "series": [
            {
                "seriesID": ORTHODONTISTS,
                "data": [
                    {
                        "year": "2018",
                        "period": "A01",
                        "periodName": "Annual",
                        "latest": "true",
                        "value": "-",
                        "footnotes": [{"code": "5", "text": TOP_CODED_TEXT}],
                    }
                ],
            }
        ]
    },
}


def posted(srv: BlsServer) -> list[dict[str, object]]:
    return [json.loads(r.body) for r in srv.requests if r.method == "POST"]


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def error_chain(exc: BaseException | None) -> list[str]:
    texts = []
    while exc is not None:
        texts.append(str(exc))
        exc = exc.__cause__ or exc.__context__
    return texts


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def store(data_dir: Path) -> RawStore:
    return RawStore(data_dir / "raw")


@pytest.fixture
def fetcher(store: RawStore) -> Iterator[Fetcher]:
    f = Fetcher(store, contact=CONTACT, policy=HttpPolicy.from_env())
    yield f
    f.close()


@pytest.fixture
def source(bls_server: BlsServer) -> Source:
    return Source(bls_server.base_url)


@pytest.fixture
def api_dir(mirror: Path) -> Path:
    path = mirror / API_DIR
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explicitly anonymous: an empty BLS_API_KEY also keeps Prefect out of it."""
    monkeypatch.setenv("BLS_API_KEY", "")


def serve(api_dir: Path, body: bytes) -> None:
    (api_dir / "response.json").write_bytes(body)


# -- real recorded answers ---------------------------------------------------------------------


@pytest.mark.parametrize("sample", SUCCESS_SAMPLES)
def test_parses_real_recorded_answers(
    sample: str,
    shared_samples: Path,
    api_dir: Path,
    bls_server: BlsServer,
    fetcher: Fetcher,
    source: Source,
    store: RawStore,
) -> None:
    raw = (shared_samples / "api" / sample).read_bytes()
    doc = json.loads(raw)
    serve(api_dir, raw)
    series = doc["Results"]["series"]
    ids = [s["seriesID"] for s in series]
    years = sorted({int(o["year"]) for s in series for o in s["data"]})
    wants_catalog = "catalog" in series[0]

    result = fetch_series(fetcher, source, ids, years[0], years[-1], key=KEY, catalog=wants_catalog)

    expected = [
        ApiRow(
            s["seriesID"],
            int(o["year"]),
            o["period"],
            Decimal(o["value"]),
            tuple(f["code"] for f in o["footnotes"] if f),
            False,
        )
        for s in series
        for o in s["data"]
    ]
    assert result.rows == expected
    assert all(isinstance(r.value, Decimal) for r in result.rows)
    assert result.keyed and result.messages == []
    (body,) = posted(bls_server)
    assert body["seriesid"] == ids
    assert (body["startyear"], body["endyear"]) == (str(years[0]), str(years[-1]))
    assert body["registrationkey"] == KEY
    assert body.get("catalog", False) is wants_catalog
    if wants_catalog:
        assert set(result.catalog) == set(ids)
    # The answer is in the raw store unchanged (BLS did not echo the key), without the key.
    (row,) = store.rows()
    assert row.url.startswith(f"{source.locate('api.bls.gov', 'publicAPI/v2/timeseries/data/')}?")
    assert KEY not in row.url and row.note is None
    assert (store.root / str(row.path)).read_bytes() == raw


def test_real_values_and_footnotes_spot_checked(
    shared_samples: Path, api_dir: Path, fetcher: Fetcher, source: Source
) -> None:
    serve(
        api_dir,
        (shared_samples / "api" / "ap_sae-north_dakota-mining-2015-catalog.json").read_bytes(),
    )
    result = fetch_series(fetcher, source, ["SMS38000001000000001"], 2015, 2015, key=KEY)
    first = result.rows[0]
    assert (first.year, first.period, first.value) == (2015, "M12", Decimal("24.3"))
    assert first.footnote_codes == ("P",)
    assert result.footnotes == {"P": "Preliminary", "C": "Correction"}
    assert result.rows[1].footnote_codes == ()  # "footnotes": [{}]
    assert result.records()[0]["footnote_codes"] == "P"
    assert result.records()[1]["footnote_codes"] is None


def test_top_coded_dash_is_null_with_its_footnote_and_no_data_is_fine(
    api_dir: Path, fetcher: Fetcher, source: Source
) -> None:
    serve(api_dir, json.dumps(OEWS_DOC).encode())
    result = fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key=KEY)
    assert result.rows == [ApiRow(ORTHODONTISTS, 2018, "A01", None, ("5",), True)]
    assert result.footnotes == {"5": TOP_CODED_TEXT}
    assert result.messages == OEWS_DOC["message"]


@pytest.mark.parametrize("results_as_list", [False, True], ids=["object", "array"])
def test_results_object_or_array_and_both_empty_footnote_forms(
    results_as_list: bool, api_dir: Path, fetcher: Fetcher, source: Source
) -> None:
    body = answer(
        {
            "LNS14000000": [
                obs(2024, "M12", "4.1", footnotes=[{}], latest=True),
                obs(2024, "M11", "4.2", footnotes=[]),
                obs(2024, "M10", "4.1", footnotes=[{"code": "P", "text": "Preliminary."}]),
            ],
            "LNS12000000": [obs(2024, "M12", "161000")],
        },
        results_as_list=results_as_list,
    )
    serve(api_dir, body)
    result = fetch_series(fetcher, source, ["LNS14000000", "LNS12000000"], 2024, 2024, key=KEY)
    assert result.rows == [
        ApiRow("LNS14000000", 2024, "M12", Decimal("4.1"), (), True),
        ApiRow("LNS14000000", 2024, "M11", Decimal("4.2"), (), False),
        ApiRow("LNS14000000", 2024, "M10", Decimal("4.1"), ("P",), False),
        ApiRow("LNS12000000", 2024, "M12", Decimal("161000"), (), False),
    ]


def test_no_data_for_any_year_is_an_empty_success(
    api_dir: Path, fetcher: Fetcher, source: Source
) -> None:
    messages = [f"No Data Available for Series {ORTHODONTISTS} Year: {y}" for y in (2014, 2015)]
    serve(api_dir, answer({ORTHODONTISTS: []}, messages=messages))
    result = fetch_series(fetcher, source, [ORTHODONTISTS], 2014, 2015, key=KEY)
    assert result.rows == [] and result.messages == messages


# -- refusals inside HTTP 200 ------------------------------------------------------------------


def test_quota_refusal_is_a_clear_error_without_the_key(
    bls_server: BlsServer,
    fetcher: Fetcher,
    source: Source,
    store: RawStore,
    record_scenario: Callable[[str], None],
) -> None:
    bls_server.fail(SUFFIX, "body", data=quota_refusal(KEY))
    with pytest.raises(FetchError) as caught:
        fetch_series(fetcher, source, [ORTHODONTISTS], 2023, 2024, key=KEY)
    message = str(caught.value)
    assert "BLS API daily quota reached for this key (REQUEST_NOT_PROCESSED)" in message
    assert "try again after midnight Eastern or use another key" in message
    assert f"registration key {KEY_PLACEHOLDER} has been reached" in message
    assert all(KEY not in text for text in error_chain(caught.value))
    # BLS's answer is kept (scrubbed), and its manifest row says so.
    (row,) = store.rows()
    assert row.note == f"{SCRUBBED_NOTE}; BLS status REQUEST_NOT_PROCESSED"
    stored = (store.root / str(row.path)).read_bytes()
    assert KEY.encode() not in stored and KEY_PLACEHOLDER.encode() in stored
    assert str(row.path) in message
    record_scenario("api-quota")


@pytest.mark.usefixtures("no_key")
def test_quota_refusal_without_a_key_says_how_to_get_one(
    bls_server: BlsServer, fetcher: Fetcher, source: Source
) -> None:
    bls_server.fail(SUFFIX, "body", data=quota_refusal(""))
    with pytest.raises(FetchError, match="quota reached for requests without a key") as caught:
        fetch_series(fetcher, source, [ORTHODONTISTS], 2023, 2024, key=None)
    assert "BLS_API_KEY" in str(caught.value)
    assert "registrationkey" not in posted(bls_server)[0]


@pytest.mark.parametrize(
    ("status", "message", "expected"),
    [
        (
            "REQUEST_SUCCEEDED",
            "Year range has been reduced to the system-allowed limit of 20 years.",
            "reported: Year range has been reduced",
        ),
        (
            "REQUEST_SUCCEEDED",
            "Series does not exist for Series OEUN000000000000029999913",
            "Check the series ids",
        ),
        (
            "REQUEST_NOT_PROCESSED",
            "Series does not exist for Series OEUN000000000000029999913",
            "did not process the request",
        ),
        (
            "REQUEST_NOT_PROCESSED",
            f"The key:{KEY} provided by the User is invalid.",
            "refused the registration key",
        ),
        ("REQUEST_FAILED_OVER_CAPACITY", "", "REQUEST_FAILED_OVER_CAPACITY"),
    ],
    ids=["year-range-reduced", "no-such-series", "no-such-series-refused", "bad-key", "capacity"],
)
def test_refusals_and_warnings_fail_the_request(
    status: str,
    message: str,
    expected: str,
    bls_server: BlsServer,
    fetcher: Fetcher,
    source: Source,
) -> None:
    data = answer(
        {ORTHODONTISTS: [obs(2024, "A01", "1")]} if status == "REQUEST_SUCCEEDED" else None,
        status=status,
        messages=[message] if message else [],
    )
    bls_server.fail(SUFFIX, "body", data=data)
    with pytest.raises(FetchError, match=expected) as caught:
        fetch_series(fetcher, source, [ORTHODONTISTS], 2005, 2024, key=KEY)
    assert all(KEY not in text for text in error_chain(caught.value))


def test_real_invalid_parameters_answer_is_an_error(
    shared_samples: Path, api_dir: Path, fetcher: Fetcher, source: Source
) -> None:
    serve(api_dir, (shared_samples / "api" / "ap_bad_end_year.json").read_bytes())
    with pytest.raises(
        FetchError, match=r"REQUEST_FAILED_INVALID_PARAMETERS\): End year is invalid"
    ):
        fetch_series(fetcher, source, ["LNS14000000"], 2015, 2015, key=KEY)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([obs(2024, "A01", "n/a")], "neither a number nor '-'"),
        ([obs(2024, "A01", "1"), obs(2024, "A01", "2")], "appears twice"),
        ([obs(1999, "A01", "1")], "outside the years asked for"),
        ([{**obs(2024, "A01", "1"), "value": 1.5}], "value should be a string"),
    ],
    ids=["not-a-number", "duplicate", "wrong-year", "number-not-string"],
)
def test_malformed_observations_are_refused(
    data: list[dict[str, object]],
    expected: str,
    api_dir: Path,
    fetcher: Fetcher,
    source: Source,
) -> None:
    serve(api_dir, answer({ORTHODONTISTS: data}))
    with pytest.raises(FetchError, match=expected):
        fetch_series(fetcher, source, [ORTHODONTISTS], 2020, 2024, key=KEY)


def test_answer_for_a_series_not_asked_for_is_refused(
    api_dir: Path, fetcher: Fetcher, source: Source
) -> None:
    serve(api_dir, answer({"LNS14000000": [obs(2024, "M12", "4.1")]}))
    with pytest.raises(FetchError, match="'LNS14000000', which was not asked for"):
        fetch_series(fetcher, source, [ORTHODONTISTS], 2024, 2024, key=KEY)


def test_a_success_that_leaves_out_a_series_without_a_word_is_refused(
    api_dir: Path, fetcher: Fetcher, source: Source
) -> None:
    other = ORTHODONTISTS[:-1] + ("4" if ORTHODONTISTS[-1] != "4" else "3")
    serve(api_dir, answer({ORTHODONTISTS: [obs(2024, "A01", "1")]}))
    with pytest.raises(FetchError, match=rf"without series {other} \(1 of the 2 asked for\)"):
        fetch_series(fetcher, source, [ORTHODONTISTS, other], 2024, 2024, key=KEY)


def test_an_answer_that_is_not_the_gzip_it_claims_is_a_clear_error(
    bls_server: BlsServer, fetcher: Fetcher, source: Source
) -> None:
    bls_server.fail(SUFFIX, "body", data=b"{not gzip}", headers={"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match=r"body is not valid gzip although the server said it was"):
        fetch_series(fetcher, source, [ORTHODONTISTS], 2024, 2024, key=KEY)
    assert bls_server.count(SUFFIX, method="POST") == 1  # asking again would get the same


def test_header_names_of_an_answer_are_read_in_any_case(
    bls_server: BlsServer, fetcher: Fetcher, source: Source, store: RawStore
) -> None:
    body = answer({ORTHODONTISTS: [obs(2024, "A01", "1")]})
    bls_server.fail(SUFFIX, "body", data=body, headers={"etag": '"v1"'})
    fetch_series(fetcher, source, [ORTHODONTISTS], 2024, 2024, key=KEY)
    (row,) = store.rows()
    assert row.etag == '"v1"'


# -- chunking ----------------------------------------------------------------------------------


def test_120_series_with_a_key_take_three_requests(
    bls_server: BlsServer, fetcher: Fetcher, source: Source, store: RawStore
) -> None:
    ids = [f"OEUN0000000000000{n:06d}04" for n in range(120)]
    for chunk in (ids[:50], ids[50:100], ids[100:]):
        data = answer({sid: [obs(2024, "A01", str(i))] for i, sid in enumerate(chunk)})
        bls_server.fail(SUFFIX, "body", data=data)
    result = fetch_series(fetcher, source, ids, 2015, 2024, key=KEY)
    bodies = posted(bls_server)
    assert [len(b["seriesid"]) for b in bodies] == [50, 50, 20]
    assert [s for b in bodies for s in b["seriesid"]] == ids
    assert all((b["startyear"], b["endyear"]) == ("2015", "2024") for b in bodies)
    assert all(b["registrationkey"] == KEY for b in bodies)
    assert [r.series_id for r in result.rows] == ids
    assert len(store.rows()) == len(result.raw) == 3
    assert len({r.url for r in store.rows()}) == 3


@pytest.mark.usefixtures("no_key")
def test_without_a_key_25_series_and_10_years_per_request(
    api_dir: Path, bls_server: BlsServer, fetcher: Fetcher, source: Source
) -> None:
    ids = [f"LNS1{n:07d}" for n in range(30)]
    serve(api_dir, answer(messages=[f"No Data Available for Series {i} Year: 2001" for i in ids]))
    result = fetch_series(fetcher, source, ids, 2001, 2024, key=None)
    bodies = posted(bls_server)
    assert [(len(b["seriesid"]), b["startyear"], b["endyear"]) for b in bodies] == [
        (25, "2001", "2010"),
        (5, "2001", "2010"),
        (25, "2011", "2020"),
        (5, "2011", "2020"),
        (25, "2021", "2024"),
        (5, "2021", "2024"),
    ]
    assert not any("registrationkey" in b for b in bodies)
    assert not result.keyed


def test_plan_keeps_within_the_keyed_limits_and_drops_repeats() -> None:
    plan = plan_requests(["A", "B", "A"], 1990, 2030, KEYED)
    assert [(r.series_ids, r.start_year, r.end_year) for r in plan] == [
        (("A", "B"), 1990, 2009),
        (("A", "B"), 2010, 2029),
        (("A", "B"), 2030, 2030),
    ]


def test_a_refusal_midway_names_the_request_and_what_was_kept(
    bls_server: BlsServer, fetcher: Fetcher, source: Source, store: RawStore
) -> None:
    ids = [f"LNS1{n:07d}" for n in range(60)]
    first = {i: [] for i in ids[:50]} | {ids[0]: [obs(2024, "M01", "1")]}
    bls_server.fail(SUFFIX, "body", data=answer(first))
    bls_server.fail(SUFFIX, "body", data=quota_refusal(KEY))
    with pytest.raises(FetchError, match=r"request 2 of 2: .*; 1 earlier answer kept"):
        fetch_series(fetcher, source, ids, 2024, 2024, key=KEY)
    assert len(store.rows()) == 2


# -- transport ---------------------------------------------------------------------------------


def test_html_page_instead_of_json_is_refused_and_quarantined(
    bls_server: BlsServer, fetcher: Fetcher, source: Source, store: RawStore
) -> None:
    bls_server.fail(SUFFIX, "html")
    with pytest.raises(FetchError, match=r"got an HTML page \('Access Denied'\)"):
        fetch_series(fetcher, source, [ORTHODONTISTS], 2024, 2024, key=KEY)
    assert store.rows() == [] and files_under(store.objects) == []
    assert len(files_under(store.quarantine_dir)) == 1


def test_garbage_instead_of_json_is_refused(
    bls_server: BlsServer, fetcher: Fetcher, source: Source, store: RawStore
) -> None:
    bls_server.fail(SUFFIX, "body", data=b'{"status": "REQUEST_SUCC')
    with pytest.raises(FetchError, match="not JSON"):
        fetch_series(fetcher, source, [ORTHODONTISTS], 2024, 2024, key=KEY)
    assert store.rows() == []


def test_server_error_is_retried_then_succeeds(
    api_dir: Path, bls_server: BlsServer, fetcher: Fetcher, source: Source
) -> None:
    serve(api_dir, json.dumps(OEWS_DOC).encode())
    bls_server.fail(SUFFIX, "500", times=2)
    result = fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key=KEY)
    assert len(result.rows) == 1
    assert [r.status for r in bls_server.requests if r.method == "POST"] == [500, 500, 200]


def test_server_error_that_persists_names_the_url(
    bls_server: BlsServer, fetcher: Fetcher, source: Source
) -> None:
    bls_server.fail(SUFFIX, "503", times=50)
    with pytest.raises(FetchError, match=r"timeseries/data/: HTTP 503") as caught:
        fetch_series(fetcher, source, [ORTHODONTISTS], 2024, 2024, key=KEY)
    assert caught.value.status == 503
    assert bls_server.count(SUFFIX, method="POST") == fetcher.policy.retries + 1


def test_requests_carry_the_contact_user_agent(
    api_dir: Path, bls_server: BlsServer, fetcher: Fetcher, source: Source
) -> None:
    serve(api_dir, json.dumps(OEWS_DOC).encode())
    fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key=KEY)
    (request,) = bls_server.requests
    assert CONTACT in request.headers["User-Agent"]
    assert request.headers["Content-Type"] == "application/json"


def test_bad_input_fails_before_any_request(
    bls_server: BlsServer, fetcher: Fetcher, source: Source, mirror: Path
) -> None:
    with pytest.raises(ConfigError, match="not BLS series ids"):
        fetch_series(fetcher, source, ["lns14000000"], 2024, 2024, key=KEY)
    with pytest.raises(ConfigError, match="after end year"):
        fetch_series(fetcher, source, [ORTHODONTISTS], 2024, 2023, key=KEY)
    with pytest.raises(ConfigError, match="mirror folder cannot"):
        fetch_series(fetcher, Source(str(mirror)), [ORTHODONTISTS], 2024, 2024, key=KEY)
    assert bls_server.requests == []


# -- the key never lands on disk, in a message or in a log -------------------------------------


def test_key_is_nowhere_under_the_data_dir_nor_in_messages_or_logs(
    api_dir: Path,
    bls_server: BlsServer,
    fetcher: Fetcher,
    source: Source,
    store: RawStore,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    serve(api_dir, json.dumps(OEWS_DOC).encode())
    errors: list[str] = []
    echoing = [
        ("body", {"data": quota_refusal(KEY)}),
        (
            "body",
            {
                "data": answer(
                    status="REQUEST_NOT_PROCESSED",
                    messages=[f"The key:{KEY} provided by the User is invalid."],
                )
            },
        ),
        # An HTML page that echoes the key goes to quarantine: scrubbed there too.
        (
            "body",
            {
                "data": f"<html><title>{KEY}</title>{KEY}</html>".encode(),
                "content_type": "text/html",
            },
        ),
        ("body", {"data": f'{{"oops": "{KEY}"'.encode()}),  # not JSON: quarantined
    ]
    for kind, opts in echoing:
        bls_server.fail(SUFFIX, kind, **opts)
        with pytest.raises(FetchError) as caught:
            fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key=KEY)
        errors += error_chain(caught.value)
    result = fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key=KEY)
    assert len(result.rows) == 1
    assert all(b["registrationkey"] == KEY for b in posted(bls_server))  # it was sent

    everything = files_under(data_dir)
    assert {p.parent.name for p in everything} >= {"raw", "quarantine"}
    assert len(files_under(store.objects)) == 3 and len(files_under(store.quarantine_dir)) == 2
    leaking = [p for p in everything if KEY.encode() in p.read_bytes()]
    assert leaking == []
    assert [r.note for r in store.rows()] == [
        f"{SCRUBBED_NOTE}; BLS status REQUEST_NOT_PROCESSED",
        f"{SCRUBBED_NOTE}; BLS status REQUEST_NOT_PROCESSED",
        None,
    ]
    assert errors and all(KEY not in e for e in errors)
    assert KEY not in caplog.text
    assert all(KEY not in str(r.args) for r in caplog.records)


# -- where the key comes from ------------------------------------------------------------------


@pytest.mark.usefixtures("prefect_harness")
def test_key_from_env_else_from_the_prefect_secret_block(
    api_dir: Path,
    bls_server: BlsServer,
    fetcher: Fetcher,
    source: Source,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from prefect.blocks.system import Secret

    serve(api_dir, json.dumps(OEWS_DOC).encode())
    # No argument, no variable, no block: anonymous.
    assert not fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key=None).keyed
    Secret(value="BLOCK-KEY-456").save("bls-api-key", overwrite=True)
    try:
        fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key=None)
        monkeypatch.setenv("BLS_API_KEY", "ENV-KEY-789")
        fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key=None)
        fetch_series(fetcher, source, [ORTHODONTISTS], 2016, 2018, key="ARG-KEY-000")
    finally:
        Secret.delete("bls-api-key")
    assert [b.get("registrationkey") for b in posted(bls_server)] == [
        None,
        "BLOCK-KEY-456",
        "ENV-KEY-789",
        "ARG-KEY-000",
    ]
