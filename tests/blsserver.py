"""A local stand-in for the BLS download hosts, for end-to-end tests.

``BlsServer`` serves a mirror folder laid out like the real hosts
(``root/download.bls.gov/pub/time.series/oe/oe.area`` is served at
``/download.bls.gov/pub/time.series/oe/oe.area``). It behaves like the real hosts:
it refuses clients whose ``User-Agent`` carries no contact information, sends
``ETag``/``Last-Modified`` and answers conditional GETs with 304. It can also be
told to misbehave (rate limiting, server errors, dropped connections, short bodies,
HTML block pages, slow answers, substituted bodies) via :meth:`BlsServer.fail`.

Only the standard library is used by the server itself. The module is also a pytest plugin
(``pytest_plugins`` in ``tests/conftest.py``): its fixtures, at the end, are how tests get a
server (``bls_server``), the class (``bls_server_class``, to serve another folder), the block
page it sends (``access_denied_html``) and a server that stalls mid-body (``stall_mid_body``).

Example::

    with BlsServer(tmp_path) as srv:
        srv.fail("oe.area", "429", times=2, retry_after=0)
        fetch(srv.base_url + "/download.bls.gov/pub/time.series/oe/oe.area")
        assert srv.count("oe.area") == 3
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import unquote, urlsplit

import pytest

__all__ = ["ACCESS_DENIED_HTML", "FAULT_KINDS", "BlsServer", "Fault", "Request"]

ACCESS_DENIED_HTML = (
    "<html><head><title>Access Denied</title></head><body><h1>Access Denied</h1>"
    "You don't have permission to access this resource.</body></html>"
)

#: Named fault kinds; in addition any three-digit 4xx/5xx status string is accepted.
FAULT_KINDS = frozenset({"429", "500", "502", "503", "drop", "short", "html", "slow", "body"})

_STATUS_KIND = re.compile(r"^[345]\d\d$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_URL = re.compile(r"https?://", re.IGNORECASE)
_API_SUFFIX = "/timeseries/data/"

_CONTENT_TYPES: dict[str, str] = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".zip": "application/zip",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
}


def content_type_for(path: str) -> str:
    """Content-Type for a served path; ``text/plain`` when the extension is unknown."""
    return _CONTENT_TYPES.get(Path(path).suffix.lower(), "text/plain")


@dataclass
class Request:
    """One request seen by the server.

    The record is appended when the request arrives (``status == 0``) and its
    ``status`` is filled in as soon as the response status line is sent.
    """

    method: str
    path: str
    headers: dict[str, str]
    status: int = 0
    body: bytes = b""


@dataclass
class Fault:
    """A queued misbehaviour: applies to the next ``remaining`` matching requests."""

    path_suffix: str
    kind: str
    remaining: int
    opts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _FileInfo:
    path: Path
    size: int
    mtime: float
    etag: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    bls: BlsServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients hanging up mid-response are expected in these tests."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BlsTestServer/1.0"
    _record: Request | None = None

    # -- plumbing -----------------------------------------------------------------

    @property
    def bls(self) -> BlsServer:
        return cast(_Server, self.server).bls

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def send_response(self, code: int, message: str | None = None) -> None:
        if self._record is not None:
            self._record.status = code
        super().send_response(code, message)

    def _url_path(self) -> str:
        return urlsplit(self.path).path

    def _start(self, method: str, body: bytes = b"") -> str:
        path = self._url_path()
        self.close_connection = True
        self._record = Request(method, path, dict(self.headers.items()), 0, body)
        self.bls._log(self._record)
        return path

    def _send_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str,
        *,
        head: bool = False,
        extra_headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        if not head and data:
            self.wfile.write(data)

    def _send_html(self, status: int, title: str, text: str, *, head: bool = False) -> None:
        page = (
            f"<html><head><title>{title}</title></head><body><h1>{title}</h1>{text}</body></html>"
        )
        self._send_bytes(status, page.encode(), "text/html", head=head)

    def _not_found(self, *, head: bool = False) -> None:
        self._send_html(
            404, "Not Found", "The requested URL was not found on this server.", head=head
        )

    def _abort(self, *, reset: bool = False) -> None:
        """Close the connection without finishing the response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
        if reset:
            # SO_LINGER with a zero timeout makes close() send a TCP RST.
            with contextlib.suppress(OSError):
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            return
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # -- verbs --------------------------------------------------------------------

    def do_GET(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            self._handle_get(head=False)

    def do_HEAD(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            self._handle_get(head=True)

    def do_POST(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            self._handle_post()

    # -- GET / HEAD ---------------------------------------------------------------

    def _handle_get(self, *, head: bool) -> None:
        path = self._start("HEAD" if head else "GET")
        if not _has_contact_info(self.headers.get("User-Agent", "")):
            self._send_bytes(403, ACCESS_DENIED_HTML.encode(), "text/html", head=head)
            return
        fault = None if head else self.bls._take_fault(path)
        if fault is not None and self._apply_simple_fault(fault, path):
            return
        info = self.bls._file_info(path)
        if info is None:
            self._not_found(head=head)
            return
        kind = fault.kind if fault is not None else None
        if kind not in ("drop", "short") and self._not_modified(info):
            self.send_response(304)
            self.send_header("ETag", info.etag)
            self.send_header("Last-Modified", formatdate(info.mtime, usegmt=True))
            self.send_header("Connection", "close")
            self.end_headers()
            return
        self._send_file(info, head=head, fault=fault)

    def _apply_simple_fault(self, fault: Fault, path: str) -> bool:
        """Apply faults that do not need the file. True if the response is done."""
        kind, opts = fault.kind, fault.opts
        headers = {str(k): str(v) for k, v in dict(opts.get("headers", {})).items()}
        if kind == "slow":
            if self.bls._stopping.wait(float(opts.get("delay", 5))):
                self._abort()
                return True
            return False
        if kind == "429":
            headers["Retry-After"] = str(opts.get("retry_after", 1))
            self._send_bytes(
                429,
                b"<html><head><title>Too Many Requests</title></head>"
                b"<body><h1>Too Many Requests</h1></body></html>",
                "text/html",
                extra_headers=headers,
            )
            return True
        if _STATUS_KIND.match(kind):
            status = int(kind)
            try:
                phrase = HTTPStatus(status).phrase
            except ValueError:
                phrase = "Error"
            page = (
                f"<html><head><title>{status} {phrase}</title></head>"
                f"<body><h1>{phrase}</h1></body></html>"
            )
            self._send_bytes(status, page.encode(), "text/html", extra_headers=headers)
            return True
        if kind == "html":
            self._send_bytes(200, ACCESS_DENIED_HTML.encode(), "text/html", extra_headers=headers)
            return True
        if kind == "body":
            data = bytes(opts.get("data", b""))
            default_type = (
                "application/json" if path.endswith(_API_SUFFIX) else content_type_for(path)
            )
            ctype = str(opts.get("content_type", default_type))
            self._send_bytes(200, data, ctype, extra_headers=headers)
            return True
        return False  # drop / short need the file

    def _not_modified(self, info: _FileInfo) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            # RFC 9110: when If-None-Match is present, If-Modified-Since is ignored.
            tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
            return "*" in tags or info.etag in tags
        ims = self.headers.get("If-Modified-Since")
        if not ims:
            return False
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        mtime = datetime.fromtimestamp(int(info.mtime), tz=UTC)
        return mtime <= since

    def _send_file(self, info: _FileInfo, *, head: bool, fault: Fault | None) -> None:
        kind = fault.kind if fault is not None else None
        opts = fault.opts if fault is not None else {}
        length = info.size
        if kind == "short":
            length = info.size + int(opts.get("extra", 1024))
        self.send_response(200)
        self.send_header("Content-Type", content_type_for(str(info.path)))
        self.send_header("Content-Length", str(length))
        self.send_header("Last-Modified", formatdate(info.mtime, usegmt=True))
        self.send_header("ETag", info.etag)
        self.send_header("Connection", "close")
        self.end_headers()
        if head:
            return
        limit = info.size // 2 if kind == "drop" else info.size
        with info.path.open("rb") as fh:
            # The kernel copies the file to the socket (sendfile): a remote BLS host spends
            # none of this machine's CPU on serving a file, and neither should its stand-in.
            self.wfile.flush()
            self.connection.sendfile(fh, 0, limit)
        if kind in ("drop", "short"):
            self._abort(reset=bool(opts.get("reset", False)))

    # -- POST (API) ---------------------------------------------------------------

    def _handle_post(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path = self._start("POST", body)
        if not path.endswith(_API_SUFFIX):
            self._send_html(405, "Method Not Allowed", "POST is not allowed here.")
            return
        fault = self.bls._take_fault(path)
        if fault is not None and self._apply_simple_fault(fault, path):
            return
        info = self.bls._file_info(path + "response.json")
        if info is None:
            self._not_found()
            return
        self._send_bytes(200, info.path.read_bytes(), "application/json")


def _has_contact_info(user_agent: str) -> bool:
    return bool(_EMAIL.search(user_agent) or _URL.search(user_agent))


class BlsServer:
    """Serve ``root`` like the BLS download hosts, on ``127.0.0.1`` with an OS-chosen port.

    Use as a context manager, or call :meth:`start` / :meth:`stop` explicitly. After a
    :meth:`stop`, :meth:`start` rebinds the same port, so ``base_url`` stays valid.
    """

    def __init__(self, root: Path, host: str = "127.0.0.1") -> None:
        self.root = Path(root)
        self.host = host
        self._port = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._faults: list[Fault] = []
        self._etags: dict[tuple[Path, int, int], str] = {}
        self._stopping = threading.Event()

    # -- lifecycle ----------------------------------------------------------------

    def start(self) -> Self:
        """Start serving in a daemon thread (no-op when already running)."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self._port), _Handler)
        server.bls = self
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"BlsServer:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake ``slow`` handlers, close the socket and join the thread."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addressing ---------------------------------------------------------------

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError("BlsServer has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL for a mirror path such as ``download.bls.gov/pub/...``."""
        return f"{self.base_url}/{path.lstrip('/')}"

    # -- request log --------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        """Snapshot (a copy) of the requests seen so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def count(self, path_suffix: str = "", method: str | None = "GET") -> int:
        """Number of requests (GETs by default; ``method=None`` for all) ending in suffix."""
        with self._lock:
            return sum(
                1
                for r in self._requests
                if r.path.endswith(path_suffix) and (method is None or r.method == method)
            )

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _log(self, record: Request) -> None:
        with self._lock:
            self._requests.append(record)

    # -- faults -------------------------------------------------------------------

    def fail(self, path_suffix: str, kind: str, times: int = 1, **opts: Any) -> None:
        """Misbehave on the next ``times`` GET (or API POST) requests ending in suffix.

        Applied after the User-Agent check, in the order queued. Kinds and options:

        - ``"429"``: 429 with ``Retry-After: retry_after`` (default 1).
        - ``"500"``, ``"502"``, ``"503"`` (any ``3xx``/``4xx``/``5xx``): that status, HTML
          body (a redirect's ``Location`` goes in ``headers``).
        - ``"drop"``: 200 with the full Content-Length, half the body, then close
          (``reset=True`` sends a TCP RST instead of a clean FIN).
        - ``"short"``: 200 with Content-Length ``size + extra`` (default 1024), the
          whole real body, then close.
        - ``"html"``: 200 ``text/html`` "Access Denied" page instead of the file.
        - ``"slow"``: wait ``delay`` seconds (default 5), then answer normally.
        - ``"body"``: 200 with ``data`` (bytes) instead of the file; ``content_type``
          overrides the Content-Type.

        Every kind also takes ``headers`` (a dict of extra response headers) where
        a response is sent by the fault itself.
        """
        if kind not in FAULT_KINDS and not _STATUS_KIND.match(kind):
            raise ValueError(f"unknown fault kind {kind!r}")
        if times < 1:
            raise ValueError("times must be >= 1")
        if kind == "body" and not isinstance(opts.get("data"), bytes | bytearray):
            raise TypeError("fault kind 'body' needs data=<bytes>")
        with self._lock:
            self._faults.append(Fault(path_suffix, kind, times, dict(opts)))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def faults(self) -> list[Fault]:
        """Snapshot of the faults still queued."""
        with self._lock:
            return [Fault(f.path_suffix, f.kind, f.remaining, dict(f.opts)) for f in self._faults]

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.endswith(fault.path_suffix):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- files --------------------------------------------------------------------

    def _resolve(self, url_path: str) -> Path | None:
        """Map a URL path onto the mirror; None for traversal attempts or non-files."""
        rel = unquote(url_path).replace("\\", "/")
        parts = [p for p in rel.split("/") if p not in ("", ".")]
        if not parts or ".." in parts or any("\x00" in p for p in parts):
            return None
        root = self.root.resolve()
        candidate = root.joinpath(*parts).resolve()
        if not candidate.is_relative_to(root) or not candidate.is_file():
            return None
        return candidate

    def _file_info(self, url_path: str) -> _FileInfo | None:
        path = self._resolve(url_path)
        if path is None:
            return None
        st = path.stat()
        key = (path, st.st_mtime_ns, st.st_size)
        with self._lock:
            etag = self._etags.get(key)
        if etag is None:
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                while chunk := fh.read(1024 * 1024):
                    digest.update(chunk)
            etag = f'"{digest.hexdigest()[:16]}"'
            with self._lock:
                self._etags[key] = etag
        return _FileInfo(path, st.st_size, st.st_mtime, etag)


# -- pytest fixtures ------------------------------------------------------------------------------


@pytest.fixture
def bls_server(mirror: Path) -> Iterator[BlsServer]:
    """A server on the test's private copy of the sample mirror (``mirror``)."""
    with BlsServer(mirror) as server:
        yield server


@pytest.fixture(scope="session")
def bls_server_class() -> type[BlsServer]:
    """The server class, for a test that serves another folder or starts and stops its own."""
    return BlsServer


@pytest.fixture(scope="session")
def access_denied_html() -> str:
    """The block page the server sends a client without contact information."""
    return ACCESS_DENIED_HTML


@pytest.fixture
def stall_mid_body(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let ``srv.fail(suffix, "slow", delay=0, stall=S)`` send half the body, then hang S s.

    The server runs in the test's process, so its handler can be patched for one test.
    """
    original = _Handler._send_file

    def send_file(self: _Handler, info: _FileInfo, *, head: bool, fault: Fault | None) -> None:
        if fault is None or not fault.opts.get("stall") or head:
            original(self, info, head=head, fault=fault)
            return
        size = info.size
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(size))
        self.send_header("Connection", "close")
        self.end_headers()
        with info.path.open("rb") as fh:
            self.wfile.write(fh.read(size // 2))
        self.wfile.flush()
        self.bls._stopping.wait(float(fault.opts["stall"]))
        self._abort()

    monkeypatch.setattr(_Handler, "_send_file", send_file)
