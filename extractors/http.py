"""The one HTTP layer every extractor uses: polite, retried, conditional, streaming.

- one ``requests.Session`` with a User-Agent carrying a contact (BLS answers 403 otherwise);
- connect/read timeouts on every request;
- urllib3 ``Retry`` for connection errors, 429 and 5xx: exponential backoff with jitter,
  ``Retry-After`` honoured (and capped); other 4xx are not retried;
- a body cut short mid-stream is retried a bounded number of times, then reported;
- conditional GET from the last stored ``ETag``/``Last-Modified``;
- ``post_json`` for the BLS API: the same session, timeouts and retries, body returned
  to the caller (which scrubs the registration key before anything is stored);
- the body streams to a temporary file, hashed while streaming, and enters the raw store
  by atomic rename only when complete and plausibly the kind of file we asked for.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from email.utils import formatdate
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from core import __version__
from core.errors import ConfigError, FetchError
from extractors.rawstore import RawFileRecord, RawStore, utc_now_iso

RETRY_STATUSES = (429, 500, 502, 503, 504)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_TITLE = re.compile(rb"<title>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)


@dataclasses.dataclass(frozen=True)
class HttpPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retries: int = 5  # per request, for connection errors, 429 and 5xx
    body_attempts: int = 3  # whole downloads, when the body is cut short
    backoff_factor: float = 1.0
    backoff_max: float = 60.0
    backoff_jitter: float = 1.0
    retry_after_max: int = 600
    chunk_size: int = 1 << 20

    @classmethod
    def from_env(cls) -> HttpPolicy:
        """Defaults, with BLS_HTTP_RETRIES / BLS_HTTP_BACKOFF / BLS_HTTP_READ_TIMEOUT overrides."""
        env = os.environ
        return cls(
            retries=int(env.get("BLS_HTTP_RETRIES", cls.retries)),
            backoff_factor=float(env.get("BLS_HTTP_BACKOFF", cls.backoff_factor)),
            backoff_jitter=float(env.get("BLS_HTTP_JITTER", cls.backoff_jitter)),
            read_timeout=float(env.get("BLS_HTTP_READ_TIMEOUT", cls.read_timeout)),
        )


def user_agent(contact: str | None) -> str:
    if contact:
        return f"bls-refresh/{__version__} ({contact})"
    return f"bls-refresh/{__version__}"


def require_contact(contact: str | None) -> str:
    if not contact or not _EMAIL.search(contact):
        raise ConfigError(
            "BLS refuses scripted downloads without a contact address in the User-Agent. "
            "Set BLS_CONTACT_EMAIL to an e-mail address where BLS can reach you "
            "(e.g. export BLS_CONTACT_EMAIL=data-team@example.org), or use --source for a mirror."
        )
    return contact


def build_session(contact: str | None, policy: HttpPolicy) -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = user_agent(contact)
    retry = Retry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        other=0,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD", "POST"}),
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        respect_retry_after_header=True,
        retry_after_max=policy.retry_after_max,
        raise_on_status=False,
    )
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


@dataclasses.dataclass(frozen=True)
class Fetched:
    """A file now in the raw store (fresh or unchanged), with its manifest row."""

    url: str
    path: Path
    record: RawFileRecord
    downloaded: bool  # False when the server said 304 / the mirror file is unchanged


# What a file must look like, by the kind we asked for. An HTML page is never data.
Expect = str  # "text" | "xlsx" | "zip" | "json" | "any" (still never HTML)


def sniff_problem(head: bytes, content_type: str, expect: Expect) -> str | None:
    """Why ``head`` (the first bytes) is not a file of kind ``expect``, or None if plausible."""
    stripped = head.lstrip()[:512].lower()
    if not head:
        return "the file is empty"
    if "text/html" in content_type.lower() or stripped.startswith((b"<!doctype html", b"<html")):
        title = _TITLE.search(head)
        name = title.group(1).decode("utf-8", "replace") if title else "untitled"
        return f"got an HTML page ('{name}') instead of a data file"
    if expect in ("xlsx", "zip") and not head.startswith(b"PK\x03\x04"):
        return f"expected a {expect} file (zip signature PK), got {head[:16]!r}"
    return None


class Fetcher:
    """Fetches URLs (or files of a mirror folder) into the raw store."""

    def __init__(
        self,
        store: RawStore,
        *,
        contact: str | None = None,
        policy: HttpPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.policy = policy or HttpPolicy()
        self.session = build_session(contact, self.policy)
        self._sleep = sleep

    def close(self) -> None:
        self.session.close()

    def fetch(self, url: str, expect: Expect = "text") -> Fetched:
        if url.startswith(("http://", "https://")):
            return self._fetch_http(url, expect)
        return self._copy_local(Path(url), expect)

    # -- HTTP ----------------------------------------------------------------------------
    def _fetch_http(self, url: str, expect: Expect) -> Fetched:
        last_error: FetchError | None = None
        for attempt in range(1, self.policy.body_attempts + 1):
            try:
                return self._fetch_once(url, expect)
            except _BodyCut as cut:
                last_error = FetchError(
                    f"download of {url} was cut short ({cut}) on attempt {attempt} of "
                    f"{self.policy.body_attempts}; nothing was stored",
                    url=url,
                    status=200,
                )
                if attempt < self.policy.body_attempts:
                    delay = min(
                        self.policy.backoff_max, self.policy.backoff_factor * 2 ** (attempt - 1)
                    )
                    self._sleep(delay + random.uniform(0, self.policy.backoff_jitter))
        assert last_error is not None
        raise last_error

    def _fetch_once(self, url: str, expect: Expect) -> Fetched:
        previous = self.store.last_stored(url)
        headers: dict[str, str] = {}
        if previous is not None:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        response = self._send("GET", url, headers=headers)

        with response:
            if response.status_code == 304 and previous is not None:
                record = dataclasses.replace(
                    previous, fetched_at=utc_now_iso(), status=304, vintage=None
                )
                self.store.record(record)
                return Fetched(url, self.store.object_path(previous.sha256), record, False)
            if response.status_code != 200:
                self._raise_for_status(url, response)
            return self._stream_into_store(url, response, expect)

    def post_json(
        self, url: str, payload: Mapping[str, object]
    ) -> tuple[int, bytes, dict[str, str]]:
        """POST ``payload`` as JSON; ``(status, body, headers)`` of a 200 answer.

        Same session, User-Agent, timeouts and retries (POST included: an API query has no
        side effect) as every GET. Anything but a 200 raises :class:`FetchError` naming the
        URL. The payload never appears in an error: it may carry a registration key.
        The body is returned, not stored: the caller decides what of it may be kept.
        """
        response = self._send("POST", url, json=dict(payload))
        with response:
            if response.status_code != 200:
                self._raise_for_status(url, response)
            try:
                body = response.content
            except requests.exceptions.RequestException as exc:
                raise FetchError(
                    f"{url}: the answer was cut short ({type(exc).__name__}); nothing was stored",
                    url=url,
                    status=200,
                ) from exc
            return response.status_code, body, dict(response.headers)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request (retries are urllib3's), streamed; transport failures as FetchError."""
        timeout = (self.policy.connect_timeout, self.policy.read_timeout)
        try:
            return self.session.request(method, url, timeout=timeout, stream=True, **kwargs)
        except requests.exceptions.RetryError as exc:
            raise FetchError(
                f"{url}: server kept failing after {self.policy.retries} retries ({exc})", url=url
            ) from exc
        except requests.exceptions.Timeout as exc:
            raise FetchError(
                f"{url}: no answer within {self.policy.read_timeout:g} s (read timeout) "
                "after retries",
                url=url,
            ) from exc
        except requests.exceptions.ConnectionError as exc:
            if "timed out" in str(exc).lower():
                raise FetchError(
                    f"{url}: no answer within {self.policy.read_timeout:g} s (read timeout), "
                    f"{self.policy.retries} retries exhausted",
                    url=url,
                ) from exc
            raise FetchError(f"{url}: could not connect after retries ({exc})", url=url) from exc

    def _raise_for_status(self, url: str, response: requests.Response) -> None:
        status = response.status_code
        body = response.raw.read(4096, decode_content=True) or b""
        title = _TITLE.search(body)
        what = f" ('{title.group(1).decode('utf-8', 'replace')}')" if title else ""
        if status == 403:
            hint = (
                " BLS refuses requests whose User-Agent has no contact e-mail; "
                "set BLS_CONTACT_EMAIL."
            )
        elif status in RETRY_STATUSES:
            hint = f" It was retried {self.policy.retries} times with backoff."
        else:
            hint = ""
        raise FetchError(f"{url}: HTTP {status}{what}.{hint}", url=url, status=status)

    def _stream_into_store(self, url: str, response: requests.Response, expect: Expect) -> Fetched:
        expected_len = response.headers.get("Content-Length")
        content_type = response.headers.get("Content-Type", "")
        with self.store.incoming() as (tmp, writer):
            head = b""
            try:
                for chunk in response.iter_content(chunk_size=self.policy.chunk_size):
                    if len(head) < 4096:
                        head += chunk[: 4096 - len(head)]
                    writer.write(chunk)
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
            ) as exc:
                kept = self.store.quarantine(tmp, url, "truncated")
                raise _BodyCut(
                    f"the connection broke after {writer.bytes} bytes of "
                    f"{expected_len or 'unknown'}; partial body kept at {kept}"
                ) from exc
            # Content-Length counts the bytes on the wire; with a Content-Encoding (gzip)
            # the body is decoded while streaming, so compare what the wire carried.
            on_wire = response.raw.tell()
            if expected_len is not None and int(expected_len) != on_wire:
                kept = self.store.quarantine(tmp, url, "truncated")
                raise _BodyCut(
                    f"got {on_wire} bytes but Content-Length said {expected_len}; "
                    f"partial body kept at {kept}"
                )
            problem = sniff_problem(head, content_type, expect)
            if problem:
                kept = self.store.quarantine(tmp, url, "rejected")
                raise FetchError(
                    f"{url}: {problem} (HTTP {response.status_code}); the body is kept at {kept}",
                    url=url,
                    status=response.status_code,
                )
            record = self.store.keep(
                tmp,
                writer,
                url,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
        return Fetched(url, self.store.object_path(record.sha256), record, True)

    # -- mirror folder ---------------------------------------------------------------------
    def _copy_local(self, src: Path, expect: Expect) -> Fetched:
        url = src.resolve().as_uri()
        if not src.is_file():
            raise FetchError(f"{src}: no such file in the mirror folder", url=url, status=404)
        stat = src.stat()
        last_modified = formatdate(stat.st_mtime, usegmt=True)
        previous = self.store.last_stored(url)
        if (
            previous is not None
            and previous.last_modified == last_modified
            and previous.bytes == stat.st_size
        ):
            record = dataclasses.replace(previous, fetched_at=utc_now_iso(), status=304)
            self.store.record(record)
            return Fetched(url, self.store.object_path(previous.sha256), record, False)
        with self.store.incoming() as (tmp, writer), src.open("rb") as fh:
            head = fh.read(4096)
            fh.seek(0)
            while chunk := fh.read(self.policy.chunk_size):
                writer.write(chunk)
            problem = sniff_problem(head, "", expect)
            if problem:
                kept = self.store.quarantine(tmp, url, "rejected")
                raise FetchError(f"{src}: {problem}; a copy is kept at {kept}", url=url)
            record = self.store.keep(tmp, writer, url, last_modified=last_modified)
        return Fetched(url, self.store.object_path(record.sha256), record, True)


class _BodyCut(Exception):
    """The body ended before it was complete; the attempt left nothing behind."""
