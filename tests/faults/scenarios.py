"""The failure scenarios: the single source of truth for README.md's "Failure behaviour" table.

Each scenario is ``(id, what the user sees, what is kept)``. ``tests/faults/test_failure_table.py``
checks that the README table has exactly these rows, in this order and wording, and that every
id is exercised by a test. In the "what the user sees" column every `code span` is text the
program really prints (``…`` stands for the variable part): the scenario tests check each one
against the output of the failed run (see ``fault_helpers.assert_names_cause``).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Scenario(NamedTuple):
    id: str
    sees: str
    kept: str


NOTHING_KEPT = "previous release stays `latest`; nothing enters the raw store"
CHECK_KEPT = "the raw file stays in the raw store for inspection; no snapshot, no bundle"

SCENARIOS: list[Scenario] = [
    Scenario(
        "no-contact-email",
        "`Refusing to run:` and `Set BLS_CONTACT_EMAIL`, before any request",
        "nothing changes",
    ),
    Scenario(
        "http-403-no-contact",
        "the URL, `HTTP 403 ('Access Denied')` and `set BLS_CONTACT_EMAIL`",
        NOTHING_KEPT,
    ),
    Scenario(
        "http-429-retry-after",
        "nothing: the request waits the Retry-After seconds, then the run goes on",
        "the run succeeds",
    ),
    Scenario(
        "http-5xx-repeated",
        "retried with backoff; after the budget the URL, `HTTP 500` and "
        "`It was retried … times with backoff`",
        NOTHING_KEPT,
    ),
    Scenario(
        "connection-dropped",
        "retried; then `download of … was cut short (the connection broke after … bytes`",
        "nothing enters `raw/objects/`; the body read so far is in `raw/quarantine/`",
    ),
    Scenario(
        "read-timeout",
        "retried; then the URL and `no answer within … s (read timeout)`",
        NOTHING_KEPT,
    ),
    Scenario(
        "content-length-mismatch",
        "retried; then `download of … was cut short (the connection broke after … bytes of …` "
        "(the announced Content-Length)",
        "nothing enters `raw/objects/`; the body read so far is in `raw/quarantine/`",
    ),
    Scenario(
        "html-instead-of-flat-file",
        "`got an HTML page ('Access Denied') instead of a data file (HTTP 200)`",
        "nothing enters `raw/objects/`; the page is in `raw/quarantine/`",
    ),
    Scenario(
        "html-instead-of-xlsx",
        "`got an HTML page ('Access Denied') instead of a data file (HTTP 200)`",
        "nothing enters `raw/objects/`; the page is in `raw/quarantine/`",
    ),
    Scenario(
        "renamed-column",
        "`oe.data.0.Current: check 'required columns' failed: missing ['footnote_codes']; "
        "not recognised ['footnote_code']; header found:` and the header",
        CHECK_KEPT,
    ),
    Scenario(
        "missing-column",
        "`oe.data.0.Current: check 'required columns' failed` … `missing ['footnote_codes']`",
        CHECK_KEPT,
    ),
    Scenario(
        "duplicate-series-ids",
        "`oe.data.0.Current: check 'no duplicate keys' failed` and each id with `appears 2 times`",
        CHECK_KEPT,
    ),
    Scenario(
        "unknown-lookup-code",
        "`check 'every soc_code resolves in oe.occupation' failed`, the codes and example rows",
        CHECK_KEPT,
    ),
    Scenario(
        "non-numeric-values",
        "`check 'values are numbers or '-'' failed` and the lines as BLS wrote them",
        CHECK_KEPT,
    ),
    Scenario(
        "row-count-collapse",
        "`check 'row count within ±20% of the previous release' failed`, both counts and "
        "`--allow-row-count-change`",
        CHECK_KEPT,
    ),
    Scenario(
        "xlsx-wrong-sheets",
        "`occupation.xlsx: check 'sheet 'Table 1.2'' failed` and the sheets found",
        CHECK_KEPT,
    ),
    Scenario(
        "empty-file",
        "the URL and `the file is empty (HTTP 200)`",
        "nothing enters `raw/objects/`; the empty body is in `raw/quarantine/`",
    ),
    Scenario(
        "disk-full-parquet",
        "`Refresh failed: OSError: [Errno 28] No space left on device`",
        "the release is committed in the warehouse but not published; the next run publishes "
        "it and removes the half-written `.tmp-*` bundle",
    ),
    Scenario(
        "killed-after-parquet",
        "the process dies (SIGKILL) while writing the bundle",
        "a hidden `.tmp-*` bundle; the next run publishes the release and moves `latest`",
    ),
    Scenario(
        "killed-after-datapackage",
        "the process dies (SIGKILL) before the bundle is renamed into place",
        "a hidden `.tmp-*` bundle; the next run publishes the release and moves `latest`",
    ),
    Scenario(
        "killed-before-latest",
        "the process dies (SIGKILL) after the bundle is complete",
        "the complete bundle; `latest` still at the previous release until the next run moves it",
    ),
    Scenario(
        "refresh-already-running",
        "`another refresh holds the lock` (with its pid), at once",
        "nothing changes; the running refresh finishes",
    ),
    Scenario(
        "stale-lock-after-kill",
        "nothing: the kernel released the lock of the killed run",
        "the next run proceeds and removes the killed run's partial download from `raw/tmp/`",
    ),
    Scenario(
        "api-quota",
        "`BLS API daily quota reached for this key (REQUEST_NOT_PROCESSED)` and when to retry",
        "BLS's answer in the raw store with the key replaced by `<key>`",
    ),
]

BY_ID: dict[str, Scenario] = {s.id: s for s in SCENARIOS}

# Scenarios exercised outside tests/faults/: id → (test file, test function).
COVERED_ELSEWHERE: dict[str, tuple[str, str]] = {
    "api-quota": ("tests/test_api.py", "test_quota_refusal_is_a_clear_error_without_the_key"),
}

_CODE = re.compile(r"`([^`]+)`")


def printed_parts(scenario_id: str) -> list[list[str]]:
    """The code spans of a scenario's "what the user sees", each split on ``…``."""
    return [
        [part for part in span.split("…") if part.strip()]
        for span in _CODE.findall(BY_ID[scenario_id].sees)
    ]


def table_rows() -> list[str]:
    return [f"| `{s.id}` | {s.sees} | {s.kept} |" for s in SCENARIOS]


def render_table() -> str:
    header = ["| scenario | what the user sees | what is kept |", "|---|---|---|"]
    return "\n".join(header + table_rows()) + "\n"


if __name__ == "__main__":  # python tests/faults/scenarios.py: the table for README.md
    print(render_table(), end="")
