"""Fault injection: every scenario of scenarios.py against the real flow and the local server.

One world per module (see conftest.py): its first good run is release A. Each scenario starts
from the release that is ``latest`` (checked intact), injects its fault, and checks what the
user sees (exit code 1, the cause, "latest is still …"), that ``latest`` and every published
byte are unchanged (``warehouse.verify``), that the raw store holds no partial file, and that a
later clean run succeeds.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import xlsxwriter

from extractors.http import HttpPolicy
from extractors.rawstore import sha256_file
from warehouse import publish

if TYPE_CHECKING:
    from tests.faults.conftest import FaultKit, World

pytestmark = pytest.mark.usefixtures("prefect_harness")

DATA_FILE = "oe.data.0.Current"  # the kit's faults.DATA_FILE, for the tables below
XLSX = "occupation.xlsx"
# The fetch task is not retried by Prefect: the Fetcher's per-file budget (BLS_HTTP_RETRIES + 1
# requests, whatever failed) is the only retry layer.
TASK_ATTEMPTS = 1


def objects(w: World) -> set[str]:
    return {p.name for p in (w.data_dir / "raw" / "objects").glob("*/*")}


def clean_run(faults: FaultKit, w: World, expect: str) -> str:
    """With the fault cleared, a run succeeds and leaves ``expect`` as latest, intact."""
    w.server.clear_faults()
    out = faults.assert_succeeded(faults.cli_run(w))
    assert faults.latest_of(w.data_dir) == expect
    faults.assert_intact(w, expect)
    return out


def statuses(w: World, suffix: str) -> list[int]:
    return [r.status for r in w.server.requests if r.path.endswith(suffix) and r.method == "GET"]


# -- before any request ----------------------------------------------------------------------


def test_no_contact_email_refuses_before_any_request(
    w: World, a: str, monkeypatch: pytest.MonkeyPatch, faults: FaultKit
) -> None:
    sent: list[object] = []
    monkeypatch.setattr("requests.Session.send", lambda *args, **kw: sent.append(args))

    result = faults.cli("run", "--data-dir", str(w.data_dir), env={"BLS_CONTACT_EMAIL": None})

    faults.assert_failed(result, "no-contact-email", a)
    assert not sent and not w.server.requests
    faults.assert_intact(w, a)


# -- HTTP ------------------------------------------------------------------------------------


def test_http_403_without_contact_user_agent(w: World, a: str, faults: FaultKit) -> None:
    before = objects(w)

    result = faults.cli_run(w, env={"BLS_CONTACT_EMAIL": None})

    stderr = faults.assert_failed(result, "http-403-no-contact", a)
    assert f"{w.server.base_url}/download.bls.gov/pub/time.series/oe/oe.release" in stderr
    assert [r.status for r in w.server.requests] == [403]  # refused, not retried
    assert objects(w) == before
    faults.assert_intact(w, a)
    assert faults.lake_latest(w) == a
    clean_run(faults, w, a)


def test_http_429_waits_for_retry_after(
    w: World, a: str, faults: FaultKit, record_scenario: Callable[[str], None]
) -> None:
    """Scenario "http-429-retry-after": the wait is Retry-After, not the (short) backoff."""
    retry_after = 2
    w.server.fail(DATA_FILE, "429", times=1, retry_after=retry_after)

    started = time.monotonic()
    out = faults.assert_succeeded(faults.cli_run(w))
    elapsed = time.monotonic() - started

    assert retry_after <= elapsed < retry_after + 20
    assert statuses(w, DATA_FILE) == [429, 304]
    assert f"Nothing changed upstream since release {a}" in out
    faults.assert_intact(w, a)
    record_scenario("http-429-retry-after")


# (scenario, file, fault kind, fault options, environment, GETs of the file per fetch attempt:
# the budget, BLS_HTTP_RETRIES + 1, default 5 + 1)
HTTP_FAULTS = [
    ("http-5xx-repeated", DATA_FILE, "500", {}, {"BLS_HTTP_RETRIES": "2"}, 3),
    ("connection-dropped", DATA_FILE, "drop", {}, {}, 6),
    (
        "read-timeout",
        DATA_FILE,
        "slow",
        {"delay": 2},
        {"BLS_HTTP_READ_TIMEOUT": "0.5", "BLS_HTTP_RETRIES": "1"},
        2,
    ),
    ("content-length-mismatch", DATA_FILE, "short", {}, {}, 6),
    ("html-instead-of-flat-file", DATA_FILE, "html", {}, {}, 1),
    ("html-instead-of-xlsx", XLSX, "html", {}, {}, 1),
    ("empty-file", DATA_FILE, "body", {"data": b""}, {}, 1),
]
QUARANTINE_REASON = {
    "connection-dropped": "truncated",
    "content-length-mismatch": "truncated",
    "html-instead-of-flat-file": "rejected",
    "html-instead-of-xlsx": "rejected",
    "empty-file": "rejected",
}


@pytest.mark.parametrize(
    ("scenario", "suffix", "kind", "opts", "env", "per_attempt"),
    HTTP_FAULTS,
    ids=[f[0] for f in HTTP_FAULTS],
)
def test_http_fault_fails_cleanly(
    w: World,
    a: str,
    monkeypatch: pytest.MonkeyPatch,
    scenario: str,
    suffix: str,
    kind: str,
    opts: dict[str, object],
    env: dict[str, str],
    per_attempt: int,
    faults: FaultKit,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    before = objects(w)
    w.server.fail(suffix, kind, times=100, **opts)

    result = faults.cli_run(w)

    stderr = faults.assert_failed(result, scenario, a)
    assert suffix in stderr  # the URL or file that failed
    assert len(statuses(w, suffix)) == per_attempt * TASK_ATTEMPTS
    assert objects(w) == before, "a failed download entered the raw store"
    reason = QUARANTINE_REASON.get(scenario)
    if reason is not None:  # the refused body is kept for a person to look at
        kept = [body for n, body in faults.quarantined(w).items() if n.startswith(reason + "-")]
        assert [
            n for n in faults.quarantined(w) if n.startswith(reason + "-") and n.endswith(suffix)
        ]
        if kind == "html":
            assert any(b"Access Denied" in body for body in kept)
    faults.assert_intact(w, a)
    assert faults.lake_latest(w) == a
    clean_run(faults, w, a)


def test_a_file_failing_forever_costs_one_budget(
    w: World, a: str, caplog: pytest.LogCaptureFixture, faults: FaultKit
) -> None:
    """Through the real flow, a file answering 500 forever costs exactly the per-file budget
    (default BLS_HTTP_RETRIES: 5 retries, 6 requests), not budget × task retries."""
    policy = HttpPolicy.from_env()
    assert policy.attempts == HttpPolicy().attempts == 6
    w.server.fail(DATA_FILE, "500", times=100)
    caplog.set_level(logging.INFO, logger="extractors.http")

    result = faults.cli_run(w)

    stderr = faults.assert_failed(result, "http-5xx-repeated", a)
    assert f"It was retried {policy.retries} times with backoff" in stderr
    assert statuses(w, DATA_FILE) == [500] * policy.attempts
    logged = [r.getMessage() for r in caplog.records if r.name == "extractors.http"]
    assert len(logged) == policy.retries  # each retry is logged, with its wait
    assert all(f"Attempt {n} of 6; the next in" in m for n, m in enumerate(logged, start=1))
    faults.assert_intact(w, a)
    clean_run(faults, w, a)


# -- content that fails validation --------------------------------------------------------------


def _drop_last_column(text: str) -> str:
    return "".join("\t".join(line.split("\t")[:-1]) + "\n" for line in text.splitlines())


def _duplicate_row(text: str, series: str) -> str:
    (row,) = [line for line in text.splitlines(keepends=True) if line.startswith(series)]
    return text + row


def _without_occupation(code: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        lines = text.splitlines(keepends=True)
        kept = [line for line in lines if not line.startswith(code + "\t")]
        assert len(kept) == len(lines) - 1
        return "".join(kept)

    return change


def _keep_a_fifth(text: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[: 1 + (len(lines) - 1) // 5])


# (scenario, file); what is changed in the file is the ``change`` fixture's.
CONTENT_FAULTS: list[tuple[str, str]] = [
    ("renamed-column", DATA_FILE),
    ("missing-column", DATA_FILE),
    ("duplicate-series-ids", DATA_FILE),
    ("unknown-lookup-code", "oe.occupation"),
    ("non-numeric-values", DATA_FILE),
    ("row-count-collapse", DATA_FILE),
]


@pytest.fixture
def change(scenario: str, faults: FaultKit) -> Callable[[str], str]:
    """The change to a content fault's file (``scenario``: the test's parameter)."""
    return {
        "renamed-column": lambda t: t.replace("footnote_codes", "footnote_code", 1),
        "missing-column": _drop_last_column,
        "duplicate-series-ids": lambda t: _duplicate_row(t, faults.MEDIAN_SERIES),
        "unknown-lookup-code": _without_occupation("292072"),
        "non-numeric-values": lambda t: faults.with_median(t, "5O25O"),
        "row-count-collapse": _keep_a_fifth,
    }[scenario]


@pytest.mark.parametrize(("scenario", "name"), CONTENT_FAULTS, ids=[f[0] for f in CONTENT_FAULTS])
def test_invalid_content_is_not_loaded(
    w: World, a: str, scenario: str, name: str, change: Callable[[str], str], faults: FaultKit
) -> None:
    path = w.oe_dir / name
    with faults.edited(w, path, change):
        bad = sha256_file(path)
        result = faults.cli_run(w)

        faults.assert_failed(result, scenario, a)
        assert (w.data_dir / "raw" / "objects" / bad[:2] / bad).is_file()  # kept to inspect
        faults.assert_intact(w, a)
        assert faults.lake_latest(w) == a  # no snapshot

    out = clean_run(faults, w, a)
    assert f"Nothing changed upstream since release {a}" in out


def _workbook(sheets: list[str]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for sheet in sheets:
        book.add_worksheet(sheet).write_row(0, 0, ["Occupation", "Employment, 2024"])
    book.close()
    return buffer.getvalue()


def test_xlsx_without_table_1_2_is_refused(w: World, a: str, faults: FaultKit) -> None:
    data = _workbook(["Table 1.1", "Table 1.3"])
    w.server.fail(XLSX, "body", times=1, data=data)

    result = faults.cli_run(w)

    stderr = faults.assert_failed(result, "xlsx-wrong-sheets", a)
    assert "Table 1.1" in stderr and "Table 1.3" in stderr
    digest = hashlib.sha256(data).hexdigest()
    assert (w.data_dir / "raw" / "objects" / digest[:2] / digest).is_file()
    faults.assert_intact(w, a)
    assert faults.lake_latest(w) == a
    clean_run(faults, w, a)


# -- publishing ------------------------------------------------------------------------------


def test_disk_full_while_writing_parquet(w: World, a: str, faults: FaultKit) -> None:
    value = faults.bump_median(w)  # a new release is due

    def full_disk(con: object, snapshot: int, out_dir: Path, **_: object) -> object:
        (out_dir / "occupations.parquet").write_bytes(b"PAR1" + bytes(64))  # one file, cut
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(publish, "export_tables", full_disk)
        result = faults.cli_run(w)

    faults.assert_failed(result, "disk-full-parquet", a)
    b = faults.lake_latest(w)
    assert b != a  # committed in the warehouse, not published
    assert (w.data_dir / "published" / f".tmp-{b}" / "occupations.parquet").is_file()
    assert not (w.data_dir / "published" / b).exists()
    faults.assert_intact(w, a, tmp_bundle_allowed=True)

    out = clean_run(faults, w, b)  # recovery publishes B, then nothing changed upstream since B
    assert f"Nothing changed upstream since release {b}" in out
    figures = json.loads((w.data_dir / "published" / "latest" / "figures.json").read_text())
    assert figures["medical_records_median_wage"]["value"] == value


CRASH_POINTS = ["after_parquet", "after_datapackage", "before_latest"]


@pytest.mark.parametrize("step", CRASH_POINTS)
def test_killed_while_publishing(
    w: World, a: str, step: str, faults: FaultKit, record_scenario: Callable[[str], None]
) -> None:
    scenario = "killed-" + step.replace("_", "-")
    value = faults.bump_median(w)

    killed = subprocess.run(
        faults.run_args(w),
        env=faults.subprocess_env(w, {"BLS_FAULT_KILL_AT": step}),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )

    assert killed.returncode == -signal.SIGKILL, (scenario, killed.stdout, killed.stderr)
    new = faults.lake_latest(w)
    assert new != a
    published = w.data_dir / "published"
    if step == "before_latest":
        assert (published / new / "datapackage.json").is_file()  # complete, not pointed at
    else:
        assert (published / f".tmp-{new}").is_dir() and not (published / new).exists()
        has_package = (published / f".tmp-{new}" / "datapackage.json").exists()
        assert has_package == (step == "after_datapackage")
    faults.assert_intact(w, a, tmp_bundle_allowed=True)

    # the same command again, without BLS_FAULT_KILL_AT; no cleanup by hand
    rerun = faults.cli_run(w)

    out = faults.assert_succeeded(rerun)
    assert f"Nothing changed upstream since release {new}" in out
    assert faults.latest_of(w.data_dir) == new
    faults.assert_intact(w, new)  # no .tmp-* left
    figures = json.loads((published / "latest" / "figures.json").read_text())
    assert figures["medical_records_median_wage"]["value"] == value
    record_scenario(scenario)


def test_output_checker_fails_on_a_fragment_not_printed(faults: FaultKit) -> None:
    faults.assert_names_cause(
        "Refresh failed: x: HTTP 500 ('Internal'). It was retried 2 times with backoff.",
        "http-5xx-repeated",
    )
    with pytest.raises(AssertionError):
        faults.assert_names_cause("HTTP 404", "http-5xx-repeated")
