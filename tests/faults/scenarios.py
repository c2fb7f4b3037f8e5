"""The failure scenarios: the single source of truth for README.md's "Failure behaviour" table.

Each scenario is ``(id, what the user sees, what is kept)``. ``tests/faults/test_failure_table.py``
checks that the README table has exactly these rows, in this order and wording, and that every
id is exercised by a test. In the "what the user sees" column every `code span` is text the
program really prints (``…`` stands for the variable part): the scenario tests check each one
against the output of the failed run (see ``assert_names_cause`` in ``tests/faults/conftest.py``).
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
        "failure-output",
        "one paragraph on stderr: `Refresh failed:` with the file, the check and examples, "
        "`Nothing was published; latest is still …` and `Full log: …` (no Prefect log lines, "
        "no traceback unless `--debug`, never wrapped)",
        "the whole log, tracebacks included, in `data/logs/bls-refresh.log`",
    ),
    Scenario(
        "markup-in-file-text",
        "text from BLS's files exactly as written (`footnote_[word]:x:[/]` is not read as markup)",
        CHECK_KEPT,
    ),
    Scenario(
        "unreachable-source",
        "`cannot reach …` and why (`refuses connections`, does not resolve, no answer) within "
        "seconds, before Prefect starts",
        "nothing changes",
    ),
    Scenario(
        "ingest-missing-file",
        "`No such file: …` at once, before Prefect starts (exit 2)",
        "nothing changes",
    ),
    Scenario(
        "ingest-unrecognised-file",
        "the file as the user gave it, `check 'recognised file' failed`, what was expected and "
        "`kept for inspection as` its raw-store path",
        CHECK_KEPT,
    ),
    Scenario(
        "figure-option-does-not-apply",
        "the option that does not fit the measure (--year 0, --cycle for an OEWS measure, "
        "--year or --area for a projections one), then `; choose the` year or cycle it "
        "takes (exit 2)",
        "nothing changes",
    ),
    Scenario(
        "rollback-to-newer",
        "`is not earlier than latest` and `bls-refresh rollback --undo` (exit 2)",
        "`latest` stays where it is",
    ),
    Scenario(
        "diff-same-or-reversed",
        "`nothing to compare`, or the order to use: `bls-refresh diff` older newer (exit 2)",
        "nothing changes",
    ),
    Scenario(
        "no-op-run",
        "`Nothing changed upstream since release …: no new release.` and where `latest` "
        "points; no release table",
        "nothing changes",
    ),
    Scenario(
        "demo-after-full-workbook",
        "demo after ingesting the full workbook: `check 'row count within` … and "
        "`--allow-row-count-change`, which demo takes too",
        CHECK_KEPT,
    ),
    Scenario(
        "figures-out-missing-folder",
        "`Wrote … figures of release … to …`: the folder is created",
        "the file appears whole (written aside, then renamed)",
    ),
    Scenario(
        "help-output",
        "`--help` lists every command (`verify`, `rollback` included) with whole option names, "
        "whatever the terminal width",
        "nothing changes",
    ),
    Scenario(
        "killed-cli-leaves-no-server",
        "the command is killed (SIGKILL) in the middle of a run",
        "no Prefect server left running (the command's own API dies with it); the next run "
        "proceeds",
    ),
    Scenario(
        "serve-malformed-schedule",
        "`Refusing to serve: …: deployment '…': schedule …:` and what is wrong (an invalid "
        "cron string, an unknown timezone or key), at once; exit code 2",
        "nothing starts (no Prefect server, no run); nothing changes",
    ),
    Scenario(
        "serve-stopped-mid-run",
        "Ctrl-C or SIGTERM while a run is in progress: the run is cancelled, then "
        "`serve stopped.`; exit code 0",
        "previous release stays `latest`; no partial download, bundle or staged file, the "
        "lock is free; the schedules are paused and serve's own Prefect server stops",
    ),
    Scenario(
        "killed-creating-catalog",
        "the process dies (SIGKILL) while creating the first catalog; until the next run, "
        "verify says `PROBLEM no release in … yet`",
        "the raw files, a hidden `warehouse/.catalog-*.sqlite.tmp` and no `catalog.sqlite`; "
        "the next run removes the temporary file, creates the catalog and makes the first "
        "release",
    ),
    Scenario(
        "half-created-catalog",
        "(a data dir an earlier version left when killed while creating the catalog) verify "
        "says `the warehouse catalog … cannot be used (SQLite says: attempt to write a "
        "readonly database; an interrupted write left catalog.sqlite-journal)`",
        "the next run lets SQLite roll the interrupted write back, removes the catalog (it "
        "holds no release) and makes the first release; a catalog that holds a release is "
        "never removed",
    ),
    Scenario(
        "catalog-missing",
        "`Refresh failed: the warehouse catalog … is missing, but … holds … release(s) made "
        "from it` and `Restore the warehouse/ folder from a backup`, before any download",
        "no new catalog is made (it would restart the release history); the bundles, "
        "`latest` and `bls.duckdb` keep serving figures",
    ),
    Scenario(
        "data-dir-moved",
        "nothing for figure, figures, releases and diff; verify says `bls.duckdb was built "
        "for the data directory …, not … (the folder was moved or copied since)` and "
        "`bls-refresh verify --repair`",
        "everything: the catalog is attached at the folder's current path and names its "
        "files relative to it; `verify --repair`, or the next run, ingest or rollback, "
        "rebuilds `bls.duckdb` for the new place",
    ),
    Scenario(
        "data-dir-copied",
        "as for data-dir-moved: verify says `bls.duckdb was built for the data directory …`; "
        "then verify --repair prints `rebuilt bls.duckdb for …`",
        "two independent data dirs: runs and ingests into the copy write only the copy's "
        "files; the original keeps its releases and its `bls.duckdb`",
    ),
    Scenario(
        "disk-full-analyst-file",
        "`Refresh failed: Release … is published and latest → …, but … could not be rebuilt: "
        "OSError: [Errno 28] No space left on device` and `bls-refresh verify --repair`",
        "the release and `latest` are published; `bls.duckdb` stays whole on the previous "
        "release (`.bls.duckdb.tmp` and its `.wal` removed) until the next run, ingest or "
        "`verify --repair` rebuilds it",
    ),
    Scenario(
        "verify-missing-data-dir",
        "`PROBLEM data directory … does not exist: nothing to verify`, exit code 1",
        "nothing is created",
    ),
    Scenario(
        "verify-not-a-directory",
        "`PROBLEM … is not a directory: nothing to verify`, exit code 1",
        "nothing changes",
    ),
    Scenario(
        "verify-empty-data-dir",
        "`PROBLEM no release in … yet: run`, exit code 1",
        "nothing changes",
    ),
    Scenario(
        "cp1252-lookup",
        "`oe.occupation: check 'UTF-8 text' failed: byte …` with the line, the column, the "
        "byte (`is 0x96, which is not UTF-8`) and the bytes around it, never a replacement "
        "character",
        CHECK_KEPT,
    ),
    Scenario(
        "utf8-bom",
        "nothing: a leading UTF-8 byte-order mark is not part of the first column's name "
        "(`The content equals what is already loaded`)",
        "the run succeeds",
    ),
    Scenario(
        "symlink-out-of-mirror",
        "`is a symbolic link to /etc/passwd, outside the mirror folder` and `refusing to read it`",
        "previous release stays `latest`; nothing enters the raw store",
    ),
    Scenario(
        "xlsx-bomb",
        "`occupation.xlsx: check 'workbook size limits' failed:` with what is too large "
        "(`spans 1,048,576 rows × 16,384 columns`) and the limit, before calamine reads it",
        CHECK_KEPT,
    ),
    Scenario(
        "older-year-keeps-names",
        "after ingesting an older special-request file (oesm16nat.zip, May 2016), figures "
        'still print `"area": "National"` and '
        "`Cross-industry, Private, Federal, State, and Local Government`, not the workbook's "
        "U.S. and Cross-industry",
        "the time series' names; the older file's names only for codes nothing else names",
    ),
    Scenario(
        "releases-newest-vintage",
        "after loading an older projections cycle (2022–32), the release list still shows "
        "`projections=2024-34`; the release notes' sources list the `2022-32` workbook it "
        "loaded",
        "the older cycle's rows beside the newer; the figure default stays the newest cycle",
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
    "api-quota": (
        "tests/extractors/test_api.py",
        "test_quota_refusal_is_a_clear_error_without_the_key",
    ),
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
