"""The HTTP layer against a local BLS-like server: real HTTP over loopback, no mocks."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import stat
import time
import zipfile
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from core.errors import ConfigError, FetchError
from extractors.http import (
    Fetcher,
    HttpPolicy,
    require_contact,
    retry_after_seconds,
    sniff_problem,
    user_agent,
)
from extractors.rawstore import RawStore

if TYPE_CHECKING:
    from tests.blsserver import BlsServer

CONTACT = "ops@example.org"
OE = "download.bls.gov/pub/time.series/oe"
AREA = f"{OE}/oe.area"
XLSX = "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
# The sample mirror's files all carry the May 2024 release date as their mtime.
MIRROR_LAST_MODIFIED = "Wed, 02 Apr 2025 12:00:00 GMT"


def fast_policy(
    *, retries: int = 5, read_timeout: float = 5.0, chunk_size: int = 1 << 20
) -> HttpPolicy:
    """The production policy with a short clock, so retries cost milliseconds."""
    return HttpPolicy(
        connect_timeout=5.0,
        read_timeout=read_timeout,
        retries=retries,
        backoff_factor=0.01,
        backoff_jitter=0,
        backoff_max=0.05,
        chunk_size=chunk_size,
    )


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def manifest_lines(store: RawStore) -> list[dict[str, object]]:
    if not store.manifest.exists():
        return []
    return [json.loads(line) for line in store.manifest.read_text().splitlines()]


def statuses(srv: BlsServer, suffix: str) -> list[int]:
    return [r.status for r in srv.requests if r.path.endswith(suffix)]


def assert_nothing_stored(store: RawStore) -> None:
    assert files_under(store.objects) == []
    assert files_under(store.tmp) == []
    assert store.rows() == []


# --- 200 and conditional GET ------------------------------------------------------------------


def test_200_stores_file_content_addressed(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore, mirror: Path
) -> None:
    url = bls_server.url(AREA)
    body = (mirror / AREA).read_bytes()
    sha = hashlib.sha256(body).hexdigest()

    got = fetcher.fetch(url)

    assert got.downloaded is True
    assert got.url == url
    assert got.path == store.objects / sha[:2] / sha
    assert got.path.read_bytes() == body
    assert stat.S_IMODE(got.path.stat().st_mode) & 0o222 == 0  # read-only
    assert files_under(store.objects) == [got.path]
    assert files_under(store.tmp) == []
    assert files_under(store.quarantine_dir) == []

    (row,) = manifest_lines(store)
    assert row["url"] == url
    assert row["status"] == 200
    assert row["bytes"] == len(body)
    assert row["sha256"] == sha
    assert isinstance(row["etag"], str) and row["etag"].startswith('"')
    assert row["last_modified"] == MIRROR_LAST_MODIFIED
    assert row["path"] == f"objects/{sha[:2]}/{sha}"
    assert row["fetched_at"]
    assert got.record == store.rows()[0]

    (request,) = bls_server.requests
    assert CONTACT in request.headers["User-Agent"]
    assert "If-None-Match" not in request.headers
    assert "If-Modified-Since" not in request.headers


def test_second_fetch_is_conditional_and_gets_304(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore
) -> None:
    url = bls_server.url(AREA)
    first = fetcher.fetch(url)
    second = fetcher.fetch(url)

    assert second.downloaded is False
    assert second.path == first.path
    assert second.record.status == 304
    assert second.record.sha256 == first.record.sha256
    assert second.record.bytes == first.record.bytes

    sent = bls_server.requests[-1].headers
    assert sent["If-None-Match"] == first.record.etag
    assert sent["If-Modified-Since"] == MIRROR_LAST_MODIFIED
    assert statuses(bls_server, "oe.area") == [200, 304]
    assert [r["status"] for r in manifest_lines(store)] == [200, 304]
    assert files_under(store.objects) == [first.path]


def test_changed_file_upstream_is_downloaded_again(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore, mirror: Path
) -> None:
    url = bls_server.url(AREA)
    first = fetcher.fetch(url)
    changed = mirror / AREA
    changed.write_bytes(changed.read_bytes() + b"36\t3600000\tS\tNew York\r\n")
    os.utime(changed, (1_760_000_000, 1_760_000_000))

    second = fetcher.fetch(url)

    assert second.downloaded is True
    assert second.record.sha256 != first.record.sha256
    assert second.path.read_bytes() == changed.read_bytes()
    assert second.record.last_modified == formatdate(1_760_000_000, usegmt=True)
    assert statuses(bls_server, "oe.area") == [200, 200]
    assert len(files_under(store.objects)) == 2


def test_on_body_hears_each_body_that_arrives_and_no_304(
    bls_server: BlsServer, store: RawStore, contact: str, mirror: Path, oe_dir: Path
) -> None:
    """What a run that changes something starts early (flows.sources.SourceKind.warm_up)."""
    heard: list[int] = []
    fetcher = Fetcher(
        store,
        contact=contact,
        policy=HttpPolicy.from_env(),
        on_body=lambda: heard.append(len(manifest_lines(store))),
    )
    try:
        fetcher.fetch(bls_server.url(AREA))
        fetcher.fetch(bls_server.url(AREA))  # 304: no body, nothing to start
        assert heard == [0]  # before the body was stored
        changed = mirror / AREA
        changed.write_bytes(changed.read_bytes() + b"36\t3600000\tS\tNew York\r\n")
        os.utime(changed, (1_760_000_000, 1_760_000_000))
        fetcher.fetch(bls_server.url(AREA))
        assert heard == [0, 2]
        fetcher.fetch(str(oe_dir / "oe.area"))  # a mirror folder's copy is new bytes too
        fetcher.fetch(str(oe_dir / "oe.area"))
        assert heard == [0, 2, 3]
    finally:
        fetcher.close()


@pytest.mark.parametrize("damage", ["deleted", "cut short"])
def test_a_missing_or_damaged_object_means_an_unconditional_get(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path, damage: str
) -> None:
    # A stored copy gone, or cut short (a crash or a disk error after its row was written),
    # is not reused on 304, and the complete download of the same bytes takes its place.
    url = bls_server.url(AREA)
    first = fetcher.fetch(url)
    first.path.chmod(0o644)
    if damage == "deleted":
        first.path.unlink()
    else:
        first.path.write_bytes(first.path.read_bytes()[:10])

    again = fetcher.fetch(url)

    assert again.downloaded is True
    assert "If-None-Match" not in bls_server.requests[-1].headers
    assert again.path == first.path  # the same content, so the same object, now whole
    assert again.path.read_bytes() == (mirror / AREA).read_bytes()
    assert statuses(bls_server, "oe.area") == [200, 200]


def test_gzip_content_encoding_is_decoded_and_not_mistaken_for_truncation(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path
) -> None:
    body = (mirror / AREA).read_bytes()
    bls_server.fail(
        "oe.area", "body", data=gzip.compress(body), headers={"Content-Encoding": "gzip"}
    )
    got = fetcher.fetch(bls_server.url(AREA))
    assert got.path.read_bytes() == body
    assert got.record.bytes == len(body)
    assert bls_server.count("oe.area") == 1


def test_a_body_that_is_not_the_gzip_it_claims_is_rejected_and_kept(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore
) -> None:
    # A proxy's error page sent as "Content-Encoding: gzip": a plain message, the body kept.
    bls_server.fail("oe.area", "body", data=b"<html>gateway</html>" * 20, headers={
        "Content-Encoding": "gzip"
    })  # fmt: skip
    with pytest.raises(FetchError, match=r"not valid gzip .* kept at") as info:
        fetcher.fetch(bls_server.url(AREA))
    assert info.value.status == 200
    assert files_under(store.objects) == []
    assert len(files_under(store.quarantine_dir)) == 1
    assert bls_server.count("oe.area") == 1  # not retried: asking again gets the same


def test_a_content_length_sent_twice_with_one_value_is_that_value(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path
) -> None:
    body = (mirror / AREA).read_bytes()
    bls_server.fail("oe.area", "body", data=body, headers={"Content-Length": str(len(body))})
    got = fetcher.fetch(bls_server.url(AREA))
    assert got.path.read_bytes() == body


def test_an_unusable_content_length_is_a_fetch_error(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore, mirror: Path
) -> None:
    body = (mirror / AREA).read_bytes()
    bls_server.fail("oe.area", "body", data=body, headers={"Content-Length": "12"})
    with pytest.raises(FetchError, match=r"Content-Length contained multiple unmatching values"):
        fetcher.fetch(bls_server.url(AREA))
    # a value that is no number at all: urllib3 lets it pass, the fetcher does not
    bls_server.fail("oe.area", "body", data=body, headers={"Content-Length": "lots"})
    with pytest.raises(FetchError, match=r"unusable Content-Length \('\d+, lots'\)"):
        fetcher.fetch(bls_server.url(AREA))
    assert files_under(store.objects) == []


def test_a_chunked_body_with_a_content_length_is_judged_by_its_chunks(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path
) -> None:
    # RFC 9112: Transfer-Encoding wins; the Content-Length (here the framed size) is ignored.
    body = (mirror / AREA).read_bytes()
    framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    bls_server.fail("oe.area", "body", data=framed, headers={"Transfer-Encoding": "chunked"})
    got = fetcher.fetch(bls_server.url(AREA))
    assert got.path.read_bytes() == body
    assert bls_server.count("oe.area") == 1


def test_a_redirect_loop_is_a_fetch_error_naming_it(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore
) -> None:
    url = bls_server.url(AREA)
    bls_server.fail("oe.area", "301", times=100, headers={"Location": url})
    with pytest.raises(FetchError, match=r"redirected more than 30 times \(a redirect loop\)"):
        fetcher.fetch(url)
    assert files_under(store.objects) == []


# --- refusals and retries ---------------------------------------------------------------------


def test_403_without_contact_names_url_status_and_setting(
    bls_server: BlsServer, store: RawStore
) -> None:
    url = bls_server.url(AREA)
    no_contact = Fetcher(store, contact=None, policy=fast_policy())
    try:
        with pytest.raises(FetchError) as info:
            no_contact.fetch(url)
    finally:
        no_contact.close()
    err = info.value
    assert err.status == 403
    assert err.url == url
    assert url in str(err)
    assert "403" in str(err)
    assert "BLS_CONTACT_EMAIL" in str(err)
    assert "Access Denied" in str(err)
    assert bls_server.count("oe.area") == 1  # a refusal is not retried
    assert_nothing_stored(store)


@pytest.mark.parametrize("retry_after", [0, 1])
def test_429_honours_retry_after_then_succeeds(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path, retry_after: int
) -> None:
    bls_server.fail("oe.area", "429", times=2 - retry_after, retry_after=retry_after)
    started = time.monotonic()
    got = fetcher.fetch(bls_server.url(AREA))
    elapsed = time.monotonic() - started

    assert got.path.read_bytes() == (mirror / AREA).read_bytes()
    assert statuses(bls_server, "oe.area") == [429] * (2 - retry_after) + [200]
    if retry_after:
        # The backoff alone is milliseconds; waiting ~1 s means Retry-After was honoured.
        assert elapsed >= 0.9


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_repeated_5xx_fails_after_retry_budget(
    bls_server: BlsServer, store: RawStore, kind: str
) -> None:
    policy = fast_policy(retries=2)
    url = bls_server.url(AREA)
    bls_server.fail("oe.area", kind, times=50)
    f = Fetcher(store, contact=CONTACT, policy=policy)
    try:
        with pytest.raises(FetchError) as info:
            f.fetch(url)
    finally:
        f.close()
    assert info.value.status == int(kind)
    assert info.value.url == url
    assert f"HTTP {kind}" in str(info.value)
    assert "retried 2 times" in str(info.value)
    assert bls_server.count("oe.area") == policy.retries + 1
    assert_nothing_stored(store)


def test_transient_500_is_retried_then_succeeds(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path
) -> None:
    bls_server.fail("oe.area", "500", times=2)
    got = fetcher.fetch(bls_server.url(AREA))
    assert got.path.read_bytes() == (mirror / AREA).read_bytes()
    assert statuses(bls_server, "oe.area") == [500, 500, 200]


@pytest.mark.parametrize("how", ["missing file", "fault"])
def test_404_fails_without_retry(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore, how: str
) -> None:
    if how == "fault":
        url = bls_server.url(AREA)
        bls_server.fail("oe.area", "404", times=10)
    else:
        url = bls_server.url(f"{OE}/oe.no-such-file")
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url)
    assert info.value.status == 404
    assert url in str(info.value)
    assert "HTTP 404" in str(info.value)
    assert len(bls_server.requests) == 1
    assert_nothing_stored(store)


# --- bodies cut short -------------------------------------------------------------------------


@pytest.mark.parametrize("reset", [False, True])
def test_dropped_connection_once_is_retried(
    bls_server: BlsServer, store: RawStore, mirror: Path, reset: bool
) -> None:
    sleeps: list[float] = []
    f = Fetcher(store, contact=CONTACT, policy=fast_policy(), sleep=sleeps.append)
    try:
        bls_server.fail("oe.area", "drop", times=1, reset=reset)
        got = f.fetch(bls_server.url(AREA))
    finally:
        f.close()
    assert got.downloaded is True
    assert got.path.read_bytes() == (mirror / AREA).read_bytes()
    assert bls_server.count("oe.area") == 2
    assert sleeps == [pytest.approx(0.01)]  # backoff_factor * 2**0, no jitter
    assert files_under(store.objects) == [got.path]
    assert files_under(store.tmp) == []
    assert [r.status for r in store.rows()] == [200]


@pytest.mark.parametrize("kind", ["drop", "short"])
def test_body_cut_short_every_time_stores_nothing(
    bls_server: BlsServer, store: RawStore, mirror: Path, kind: str
) -> None:
    # Small chunks, so that the quarantined partial holds the chunks that did arrive
    # (the chunk being read when the connection broke is lost).
    policy = fast_policy(chunk_size=16)
    sleeps: list[float] = []
    f = Fetcher(store, contact=CONTACT, policy=policy, sleep=sleeps.append)
    url = bls_server.url(AREA)
    bls_server.fail("oe.area", kind, times=policy.attempts)
    try:
        with pytest.raises(FetchError) as info:
            f.fetch(url)
    finally:
        f.close()

    message = str(info.value)
    assert "cut short" in message
    assert url in message
    assert f"attempt {policy.attempts} of {policy.attempts}" in message
    assert "nothing was stored" in message
    assert bls_server.count("oe.area") == policy.attempts == 6
    assert sleeps == pytest.approx([0.01, 0.02, 0.04, 0.05, 0.05])  # doubling, up to the max
    assert_nothing_stored(store)

    (kept,) = files_under(store.quarantine_dir)
    assert kept.name.startswith("truncated-")
    assert str(kept) in message
    full = (mirror / AREA).read_bytes()
    partial = kept.read_bytes()
    assert full.startswith(partial)
    assert 0 < len(partial) < len(full)


def test_body_cut_short_with_default_chunks_still_quarantines(
    bls_server: BlsServer, store: RawStore
) -> None:
    f = Fetcher(store, contact=CONTACT, policy=fast_policy(), sleep=lambda _: None)
    bls_server.fail("oe.area", "drop", times=fast_policy().attempts)
    try:
        with pytest.raises(FetchError, match="cut short"):
            f.fetch(bls_server.url(AREA))
    finally:
        f.close()
    assert_nothing_stored(store)
    assert len(files_under(store.quarantine_dir)) == 1


# --- bodies that are not the file -------------------------------------------------------------


def test_html_block_page_is_rejected_and_quarantined(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore, access_denied_html: str
) -> None:
    url = bls_server.url(AREA)
    bls_server.fail("oe.area", "html")
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url)
    message = str(info.value)
    assert "HTML" in message
    assert "Access Denied" in message
    assert url in message
    assert info.value.status == 200
    assert bls_server.count("oe.area") == 1
    assert_nothing_stored(store)
    (kept,) = files_under(store.quarantine_dir)
    assert kept.read_bytes() == access_denied_html.encode()
    assert str(kept) in message


def test_html_body_without_html_content_type_is_rejected(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore
) -> None:
    page = b"\r\n  <!DOCTYPE html><html><head><title>Maintenance</title></head></html>"
    bls_server.fail("oe.area", "body", data=page, content_type="text/plain")
    with pytest.raises(FetchError, match=r"HTML page \('Maintenance'\)"):
        fetcher.fetch(bls_server.url(AREA))
    assert_nothing_stored(store)


def test_empty_body_is_rejected(bls_server: BlsServer, fetcher: Fetcher, store: RawStore) -> None:
    bls_server.fail("oe.area", "body", data=b"")
    with pytest.raises(FetchError, match="empty"):
        fetcher.fetch(bls_server.url(AREA))
    assert_nothing_stored(store)


def test_xlsx_expected_but_text_served(
    bls_server: BlsServer, fetcher: Fetcher, store: RawStore
) -> None:
    url = bls_server.url(XLSX)
    bls_server.fail("occupation.xlsx", "body", data=b"occupation_code\ttitle\n")
    with pytest.raises(FetchError) as info:
        fetcher.fetch(url, expect="xlsx")
    message = str(info.value)
    assert "xlsx" in message
    assert "PK" in message
    assert url in message
    assert_nothing_stored(store)
    assert len(files_under(store.quarantine_dir)) == 1


def test_xlsx_with_zip_signature_is_accepted(
    bls_server: BlsServer, fetcher: Fetcher, mirror: Path
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
    target = mirror / XLSX
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buffer.getvalue())
    got = fetcher.fetch(bls_server.url(XLSX), expect="xlsx")
    assert got.path.read_bytes() == buffer.getvalue()


def test_sniff_problem() -> None:
    assert sniff_problem(b"series_id\tyear\n", "text/plain", "text") is None
    assert sniff_problem(b"PK\x03\x04rest", "application/zip", "zip") is None
    assert sniff_problem(b"", "text/plain", "text") == "the file is empty"
    html = sniff_problem(b"<html><title>Nope</title></html>", "", "text")
    assert html is not None and "HTML" in html and "Nope" in html
    problem = sniff_problem(b"{}", "application/json", "xlsx")
    assert problem is not None and "PK" in problem


# --- timeouts ---------------------------------------------------------------------------------


def test_slow_server_read_timeout(bls_server: BlsServer, store: RawStore) -> None:
    policy = HttpPolicy(read_timeout=0.5, retries=1, backoff_factor=0.01, backoff_jitter=0)
    url = bls_server.url(AREA)
    bls_server.fail("oe.area", "slow", times=policy.retries + 1, delay=3)
    f = Fetcher(store, contact=CONTACT, policy=policy)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as info:
            f.fetch(url)
    finally:
        f.close()
    elapsed = time.monotonic() - started
    assert "timeout" in str(info.value)
    assert url in str(info.value)
    assert "0.5 s" in str(info.value)
    assert bls_server.count("oe.area") == policy.retries + 1
    assert elapsed < 2.5
    assert_nothing_stored(store)


def test_slow_once_is_retried(bls_server: BlsServer, store: RawStore, mirror: Path) -> None:
    policy = HttpPolicy(read_timeout=0.5, retries=1, backoff_factor=0.01, backoff_jitter=0)
    bls_server.fail("oe.area", "slow", times=1, delay=3)
    f = Fetcher(store, contact=CONTACT, policy=policy)
    try:
        got = f.fetch(bls_server.url(AREA))
    finally:
        f.close()
    assert got.path.read_bytes() == (mirror / AREA).read_bytes()
    assert bls_server.count("oe.area") == 2


def test_connection_refused_is_a_fetch_error(
    store: RawStore, bls_server_class: type[BlsServer]
) -> None:
    with bls_server_class(store.root) as srv:
        url = srv.url(AREA)
    f = Fetcher(store, contact=CONTACT, policy=fast_policy(retries=1))
    try:
        with pytest.raises(FetchError, match="could not connect") as info:
            f.fetch(url)
    finally:
        f.close()
    assert info.value.url == url


# --- one retry budget per file ----------------------------------------------------------------
# Whatever fails, one file costs at most policy.attempts requests (BLS_HTTP_RETRIES + 1), and
# failing takes at most policy.worst_case_seconds(): the README's "Retry budget" paragraph.

# Small clock values through the same environment variables a user sets.
BUDGET_ENV = {
    "BLS_HTTP_RETRIES": "3",
    "BLS_HTTP_BACKOFF": "0.05",
    "BLS_HTTP_JITTER": "0.05",
    "BLS_HTTP_READ_TIMEOUT": "0.4",
}
# (fault kind, fault options, the Retry-After the server sends, what the message says)
FAILURE_KINDS = {
    "connection-refused": (None, {}, 0.0, "could not connect"),
    "reset-mid-body": ("drop", {"reset": True}, 0.0, "was cut short (the connection broke after"),
    "read-timeout": ("slow", {"delay": 3}, 0.0, "no answer within 0.4 s (read timeout)"),
    "429-retry-after": ("429", {"retry_after": 1}, 1.0, "HTTP 429"),
    "500": ("500", {}, 0.0, "HTTP 500"),
    "short-content-length": ("short", {}, 0.0, "bytes of"),
}


@pytest.fixture
def budget_policy(monkeypatch: pytest.MonkeyPatch) -> HttpPolicy:
    for name, value in BUDGET_ENV.items():
        monkeypatch.setenv(name, value)
    # The connect timeout has no variable; a short one keeps the formula's bound tight.
    policy = dataclasses.replace(HttpPolicy.from_env(), connect_timeout=0.5)
    assert policy.attempts == 4
    return policy


def count_connections(monkeypatch: pytest.MonkeyPatch, port: int) -> list[int]:
    """Every TCP connection attempt to ``port`` (a refused one never reaches the server):
    urllib3's own connect, wrapped to count, not replaced."""
    import urllib3.util.connection

    real = urllib3.util.connection.create_connection
    seen: list[int] = []

    def counting(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        if address[1] == port:
            seen.append(port)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", counting)
    return seen


@pytest.mark.parametrize("failure", list(FAILURE_KINDS))
def test_each_failure_kind_costs_exactly_the_budget(
    bls_server: BlsServer,
    store: RawStore,
    budget_policy: HttpPolicy,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    kind, opts, retry_after, says = FAILURE_KINDS[failure]
    policy = budget_policy
    url = bls_server.url(AREA)
    connections = count_connections(monkeypatch, bls_server.port)
    if kind is None:
        bls_server.stop()  # nothing listens on the port: every connection is refused
    else:
        bls_server.fail("oe.area", kind, times=100, **opts)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    f = Fetcher(store, contact=CONTACT, policy=policy, sleep=sleep)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as info:
            f.fetch(url)
    finally:
        elapsed = time.monotonic() - started
        f.close()

    # Requests: exactly the budget, as the server (or, when it refuses, the client) saw them.
    assert len(connections) == policy.attempts
    if kind is not None:
        assert bls_server.count("oe.area") == policy.attempts
    message = str(info.value)
    assert url in message and says in message
    if kind in ("429", "500"):
        assert f"It was retried {policy.retries} times with backoff" in message
    else:
        assert f"on attempt {policy.attempts} of {policy.attempts}" in message

    # Waits: backoff(k) plus up to the jitter, or the Retry-After when that is longer.
    assert len(waits) == policy.attempts - 1
    for k, wait in enumerate(waits, start=1):
        low = max(policy.backoff(k), retry_after)
        assert low <= wait <= max(policy.backoff(k) + policy.backoff_jitter, retry_after)

    # Seconds: at least the waits (and the read timeouts), at most the documented formula.
    floor = sum(max(policy.backoff(k), retry_after) for k in range(1, policy.attempts))
    if kind == "slow":
        floor += policy.attempts * policy.read_timeout
    assert floor <= elapsed <= policy.worst_case_seconds(retry_after=retry_after)
    assert_nothing_stored(store)


def test_failures_of_different_kinds_share_one_budget(
    bls_server: BlsServer, store: RawStore, budget_policy: HttpPolicy
) -> None:
    for kind, opts in [("drop", {}), ("500", {}), ("short", {}), ("429", {"retry_after": 0})]:
        bls_server.fail("oe.area", kind, times=1, **opts)
    f = Fetcher(store, contact=CONTACT, policy=budget_policy)
    try:
        with pytest.raises(FetchError, match=r"HTTP 429.*It was retried 3 times with backoff"):
            f.fetch(bls_server.url(AREA))
    finally:
        f.close()
    assert statuses(bls_server, "oe.area") == [200, 500, 200, 429]
    assert_nothing_stored(store)


def test_the_last_request_of_the_budget_may_succeed(
    bls_server: BlsServer, store: RawStore, budget_policy: HttpPolicy, mirror: Path
) -> None:
    for kind in ("503", "drop", "502"):
        bls_server.fail("oe.area", kind, times=1)
    f = Fetcher(store, contact=CONTACT, policy=budget_policy)
    try:
        got = f.fetch(bls_server.url(AREA))
    finally:
        f.close()
    assert got.path.read_bytes() == (mirror / AREA).read_bytes()
    assert statuses(bls_server, "oe.area") == [503, 200, 502, 200]


@pytest.mark.parametrize(
    ("kind", "opts"),
    [
        ("400", {}),
        ("403", {}),
        ("404", {}),
        ("410", {}),
        ("501", {}),
        ("html", {}),
        ("body", {"data": b""}),
    ],
)
def test_refusals_are_never_retried(
    bls_server: BlsServer,
    store: RawStore,
    budget_policy: HttpPolicy,
    kind: str,
    opts: dict[str, object],
) -> None:
    bls_server.fail("oe.area", kind, times=100, **opts)
    f = Fetcher(store, contact=CONTACT, policy=budget_policy)
    try:
        with pytest.raises(FetchError):
            f.fetch(bls_server.url(AREA))
    finally:
        f.close()
    assert bls_server.count("oe.area") == 1
    assert_nothing_stored(store)


def test_retry_after_beyond_the_cap_ends_the_fetch_at_once(
    bls_server: BlsServer, store: RawStore, budget_policy: HttpPolicy
) -> None:
    """Coming back before the server asked would be impolite: give up instead."""
    policy = dataclasses.replace(budget_policy, retry_after_max=2)
    bls_server.fail("oe.area", "503", times=100, headers={"Retry-After": "30"})
    f = Fetcher(store, contact=CONTACT, policy=policy)
    started = time.monotonic()
    try:
        with pytest.raises(FetchError) as info:
            f.fetch(bls_server.url(AREA))
    finally:
        f.close()
    assert time.monotonic() - started < 2
    assert bls_server.count("oe.area") == 1
    assert info.value.status == 503
    message = str(info.value)
    assert "HTTP 503" in message
    assert "asked for 30 s before another request (Retry-After)" in message
    assert "more than the 2 s a fetch waits" in message


def test_api_request_has_the_same_budget(
    bls_server: BlsServer, store: RawStore, budget_policy: HttpPolicy
) -> None:
    suffix = "/publicAPI/v2/timeseries/data/"
    bls_server.fail(suffix, "500", times=100)
    f = Fetcher(store, contact=CONTACT, policy=budget_policy)
    try:
        with pytest.raises(FetchError, match=r"HTTP 500 .*\. It was retried 3 times with backoff"):
            f.post_json(bls_server.url("api.bls.gov" + suffix), {"seriesid": ["X"]})
    finally:
        f.close()
    assert bls_server.count(suffix, method="POST") == budget_policy.attempts


def test_default_budget_and_worst_case() -> None:
    """The numbers the README's "Retry budget" paragraph gives."""
    policy = HttpPolicy()
    assert policy.attempts == 6
    assert [policy.backoff(k) for k in range(1, 6)] == [1, 2, 4, 8, 16]
    # 6 × (10 s connect + 120 s read) + (1+2+4+8+16 s backoff + 5 × 1 s jitter)
    assert policy.worst_case_seconds(retry_after=0) == 6 * 130 + 31 + 5 == 816
    # Retry-After up to 120 s between every two attempts instead
    assert policy.worst_case_seconds() == 6 * 130 + 5 * 120 == 1380


def test_retry_after_seconds() -> None:
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("") is None
    assert retry_after_seconds("7") == 7
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(formatdate(time.time() - 60, usegmt=True)) == 0
    later = retry_after_seconds(formatdate(time.time() + 60, usegmt=True))
    assert later is not None and 55 < later <= 60


# --- mirror folders ---------------------------------------------------------------------------


def test_mirror_folder_copy_then_unchanged(fetcher: Fetcher, store: RawStore, oe_dir: Path) -> None:
    src = oe_dir / "oe.area"
    body = src.read_bytes()
    sha = hashlib.sha256(body).hexdigest()

    first = fetcher.fetch(str(src))
    assert first.downloaded is True
    assert first.path == store.object_path(sha)
    assert first.path.read_bytes() == body
    assert stat.S_IMODE(first.path.stat().st_mode) & 0o222 == 0
    assert first.record.url == src.resolve().as_uri()
    assert first.record.status == 200
    assert first.record.bytes == len(body)
    assert first.record.last_modified == MIRROR_LAST_MODIFIED

    second = fetcher.fetch(str(src))
    assert second.downloaded is False
    assert second.path == first.path
    assert second.record.status == 304
    assert [r["status"] for r in manifest_lines(store)] == [200, 304]
    assert files_under(store.objects) == [first.path]

    src.write_bytes(body + b"36\t3600000\tS\tNew York\r\n")
    third = fetcher.fetch(str(src))
    assert third.downloaded is True
    assert third.path != first.path
    assert len(files_under(store.objects)) == 2

    # The same size and the same timestamp (rewritten within one second, or copied with
    # `cp -p`): still new bytes, and still copied.
    stamp = src.stat()
    revised = src.read_bytes().replace(b"New York", b"New Yorc")
    src.write_bytes(revised)
    os.utime(src, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    fourth = fetcher.fetch(str(src))
    assert fourth.downloaded is True
    assert fourth.path.read_bytes() == revised
    assert fourth.record.last_modified == third.record.last_modified


def test_mirror_folder_missing_file(fetcher: Fetcher, store: RawStore, oe_dir: Path) -> None:
    with pytest.raises(FetchError, match="no such file") as info:
        fetcher.fetch(str(oe_dir / "oe.nothing"))
    assert info.value.status == 404
    assert_nothing_stored(store)


def test_mirror_folder_rejects_html(
    fetcher: Fetcher, store: RawStore, oe_dir: Path, access_denied_html: str
) -> None:
    (oe_dir / "oe.area").write_text(access_denied_html)
    with pytest.raises(FetchError, match="Access Denied"):
        fetcher.fetch(str(oe_dir / "oe.area"))
    assert_nothing_stored(store)
    assert len(files_under(store.quarantine_dir)) == 1


# --- contact and sources ----------------------------------------------------------------------


@pytest.mark.parametrize("contact", [None, "", "   ", "data team", "https://example.org"])
def test_require_contact_refuses_without_email(contact: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        require_contact(contact)
    message = str(info.value)
    assert "BLS_CONTACT_EMAIL" in message
    assert "User-Agent" in message
    assert "--source" in message


def test_require_contact_accepts_email() -> None:
    assert require_contact(CONTACT) == CONTACT
    assert CONTACT in user_agent(CONTACT)
    assert user_agent(None).startswith("bls-refresh/")
    assert "@" not in user_agent(None)


def test_policy_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLS_HTTP_RETRIES", "7")
    policy = HttpPolicy.from_env()  # conftest sets backoff 0.01, jitter 0, read timeout 5
    assert policy.retries == 7
    assert policy.backoff_factor == 0.01
    assert policy.backoff_jitter == 0
    assert policy.read_timeout == 5
