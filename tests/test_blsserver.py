"""Self-tests for the fake BLS download host in ``tests/blsserver.py``."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
from collections.abc import Iterator
from email.utils import formatdate
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from tests.blsserver import BlsServer

UA = "test/1.0 (ops@example.org)"
HEADERS = {"User-Agent": UA}
AREA = "download.bls.gov/pub/time.series/oe/oe.area"
XLSX = "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
BIG = "download.bls.gov/pub/time.series/oe/oe.data.0.Current"
API = "api.bls.gov/publicAPI/v2/timeseries/data/"
MTIME = 1_700_000_000  # 2023-11-14T22:13:20Z

AREA_BODY = b"area_code\tarea_name\n0000000\tU.S.\n"
BIG_BODY = bytes(range(256)) * 1024  # 256 KiB


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    root = tmp_path / "mirror"
    for rel, data in (
        (AREA, AREA_BODY),
        (XLSX, b"PK\x03\x04 not really a workbook"),
        (BIG, BIG_BODY),
        (API + "response.json", b'{"status":"REQUEST_SUCCEEDED"}'),
    ):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (MTIME, MTIME))
    (tmp_path / "secret.txt").write_text("outside the mirror")
    return root


@pytest.fixture
def srv(mirror: Path, bls_server_class: type[BlsServer]) -> Iterator[BlsServer]:
    with bls_server_class(mirror) as server:
        yield server


def get(
    srv: BlsServer,
    rel: str,
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 5,
    stream: bool = False,
) -> requests.Response:
    return requests.get(
        srv.url(rel), headers={**HEADERS, **(headers or {})}, timeout=timeout, stream=stream
    )


def raw_get(srv: BlsServer, raw_path: str) -> int:
    """GET a path verbatim (requests would normalise away ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
    try:
        conn.request("GET", raw_path, headers=HEADERS)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def test_base_url_and_200_headers(srv: BlsServer) -> None:
    assert srv.base_url.startswith("http://127.0.0.1:")
    assert srv.port > 0
    r = get(srv, AREA)
    assert r.status_code == 200
    assert r.content == AREA_BODY
    assert r.headers["Content-Length"] == str(len(AREA_BODY))
    assert r.headers["Content-Type"] == "text/plain"
    assert r.headers["Last-Modified"] == formatdate(MTIME, usegmt=True)
    assert r.headers["ETag"] == f'"{hashlib.sha256(AREA_BODY).hexdigest()[:16]}"'

    x = get(srv, XLSX)
    assert x.status_code == 200
    assert x.headers["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    big = get(srv, BIG)
    assert big.content == BIG_BODY


def test_conditional_get(srv: BlsServer) -> None:
    first = get(srv, AREA)
    r = get(srv, AREA, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert r.status_code == 304
    assert r.content == b""
    older = formatdate(MTIME - 60, usegmt=True)
    assert get(srv, AREA, headers={"If-Modified-Since": older}).status_code == 200
    assert get(srv, AREA, headers={"If-Modified-Since": "garbage"}).status_code == 200

    r = get(srv, AREA, headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 304
    assert r.headers["ETag"] == first.headers["ETag"]
    assert get(srv, AREA, headers={"If-None-Match": '"deadbeef"'}).status_code == 200


def test_user_agent_policy(srv: BlsServer, access_denied_html: str) -> None:
    r = requests.get(srv.url(AREA), timeout=5)  # python-requests/x.y: no contact info
    assert r.status_code == 403
    assert r.headers["Content-Type"] == "text/html"
    assert r.text == access_denied_html
    assert get(srv, AREA, headers={"User-Agent": "bot/2 (+https://example.org)"}).ok
    assert get(srv, AREA).status_code == 200


def test_not_found_and_traversal(srv: BlsServer) -> None:
    r = get(srv, "download.bls.gov/pub/time.series/oe/nope")
    assert r.status_code == 404
    assert "<html>" in r.text
    assert get(srv, "download.bls.gov/pub/time.series/oe/").status_code == 404
    assert raw_get(srv, "/../secret.txt") == 404
    assert raw_get(srv, "/download.bls.gov/../../secret.txt") == 404
    assert raw_get(srv, "/%2e%2e/secret.txt") == 404
    assert raw_get(srv, "/" + AREA) == 200


def test_fault_429(srv: BlsServer) -> None:
    srv.fail("oe.area", "429", retry_after=7)
    r = get(srv, AREA)
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "7"
    assert get(srv, AREA).status_code == 200


@pytest.mark.parametrize("status", ["500", "502", "503"])
def test_fault_server_errors(srv: BlsServer, status: str) -> None:
    srv.fail("oe.area", status)
    r = get(srv, AREA)
    assert r.status_code == int(status)
    assert r.headers["Content-Type"] == "text/html"


def test_fault_drop(srv: BlsServer) -> None:
    srv.fail("oe.data.0.Current", "drop")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(srv, BIG)
    srv.fail("oe.data.0.Current", "drop", reset=True)
    with pytest.raises(requests.exceptions.RequestException):
        get(srv, BIG)
    assert get(srv, BIG).content == BIG_BODY


def test_fault_drop_streamed_is_truncated(srv: BlsServer) -> None:
    srv.fail("oe.data.0.Current", "drop")
    received = bytearray()
    with get(srv, BIG, stream=True) as r:
        assert r.headers["Content-Length"] == str(len(BIG_BODY))
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            for chunk in r.iter_content(8192):
                received += chunk
    assert 0 < len(received) < len(BIG_BODY)


def test_fault_short(srv: BlsServer) -> None:
    srv.fail("oe.area", "short")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(srv, AREA)


def test_fault_html(srv: BlsServer) -> None:
    srv.fail("oe.area", "html")
    r = get(srv, AREA)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/html"
    assert "Access Denied" in r.text


def test_fault_slow_does_not_block_others(srv: BlsServer) -> None:
    srv.fail("oe.area", "slow", delay=2)
    other: dict[str, int] = {}

    def fetch_other() -> None:
        other["status"] = get(srv, XLSX).status_code

    t = threading.Thread(target=fetch_other)
    with pytest.raises(requests.exceptions.ReadTimeout):
        t.start()
        get(srv, AREA, timeout=0.5)
    t.join(timeout=2)
    assert other == {"status": 200}
    assert get(srv, AREA).content == AREA_BODY


def test_fault_body(srv: BlsServer) -> None:
    payload = b'{"status":"REQUEST_NOT_PROCESSED","message":["daily threshold"]}'
    srv.fail("oe.area", "body", data=payload, content_type="application/json")
    r = get(srv, AREA)
    assert r.status_code == 200
    assert r.content == payload
    assert r.headers["Content-Length"] == str(len(payload))
    assert r.headers["Content-Type"] == "application/json"

    srv.fail("oe.area", "body", data=b"")
    r = get(srv, AREA)
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["Content-Length"] == "0"


def test_times_and_counting(srv: BlsServer) -> None:
    srv.fail("oe.area", "503", times=2)
    srv.fail("occupation.xlsx", "500")
    assert [get(srv, AREA).status_code for _ in range(3)] == [503, 503, 200]
    assert srv.count("oe.area") == 3
    assert srv.count("/oe/oe.area") == 3
    assert srv.count("occupation.xlsx") == 0
    assert [r.status for r in srv.requests] == [503, 503, 200]
    assert srv.requests[0].headers["User-Agent"] == UA
    assert srv.requests[0].path == "/" + AREA

    srv.clear_faults()
    assert srv.faults == []
    assert get(srv, XLSX).status_code == 200
    assert srv.count("occupation.xlsx") == 1
    with pytest.raises(ValueError):
        srv.fail("x", "explode")


def test_post_api(srv: BlsServer) -> None:
    r = requests.post(srv.url(API), json={"seriesid": ["OEUN0000000000000000000001"]}, timeout=5)
    assert r.status_code == 200
    assert r.json() == {"status": "REQUEST_SUCCEEDED"}
    assert srv.requests[-1].method == "POST"
    assert b"seriesid" in srv.requests[-1].body
    assert srv.count("/timeseries/data/") == 0
    assert srv.count("/timeseries/data/", method="POST") == 1


def test_stop_start_keeps_port(mirror: Path, bls_server_class: type[BlsServer]) -> None:
    srv = bls_server_class(mirror)
    with srv:
        url = srv.url(AREA)
        assert requests.get(url, headers=HEADERS, timeout=5).ok
        srv.stop()
        assert not srv.running
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(url, headers=HEADERS, timeout=5)
        srv.start()
        assert srv.url(AREA) == url
        assert requests.get(url, headers=HEADERS, timeout=5).ok
    assert not srv.running
