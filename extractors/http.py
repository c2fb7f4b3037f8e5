"""The one HTTP layer every extractor uses: polite, retried, conditional, streaming.

- one ``requests.Session`` with a User-Agent carrying a contact (BLS answers 403 otherwise);
- connect/read timeouts on every request;
- **one retry budget per file** (per API request): at most ``retries + 1`` requests in all,
  whatever failed — connection refused or reset, connect or read timeout, 429 and 5xx, a body
  cut short — with exponential backoff and jitter between them and ``Retry-After`` honoured
  (one longer than ``retry_after_max`` ends the fetch rather than coming back early). This loop
  is the only retry layer: urllib3 retries nothing and the Prefect task is not retried. Other
  4xx and a body that is not the file asked for (an HTML page, an empty body) are never retried;
- conditional GET from the last stored ``ETag``/``Last-Modified``;
- ``post_json`` for the BLS API: the same session, timeouts and budget, body returned
  to the caller (which scrubs the registration key before anything is stored);
- the body streams to a temporary file, hashed while streaming, and enters the raw store
  by atomic rename only when complete and plausibly the kind of file we asked for.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any, TypeVar

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util import Retry

from core import __version__
from core.errors import ConfigError, FetchError
from extractors.rawstore import RawFileRecord, RawStore, sha256_file, utc_now_iso

RETRY_STATUSES = (429, 500, 502, 503, 504)
_log = logging.getLogger(__name__)
_T = TypeVar("_T")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_TITLE = re.compile(rb"<title>\s*(.*?)\s*</title>", re.IGNORECASE | re.DOTALL)


@dataclasses.dataclass(frozen=True)
class HttpPolicy:
    """Timeouts and the retry budget of one file (or one API request).

    ``retries`` is per file, not per request: a file costs at most ``attempts`` =
    ``retries + 1`` requests, whichever way each one failed. See :meth:`worst_case_seconds`.
    """

    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retries: int = 5  # per file: at most retries + 1 requests in all, whatever failed
    backoff_factor: float = 1.0
    backoff_max: float = 60.0
    backoff_jitter: float = 1.0
    retry_after_max: float = 120.0  # a longer Retry-After ends the fetch instead
    chunk_size: int = 1 << 20

    @classmethod
    def from_env(cls) -> HttpPolicy:
        """Defaults, with BLS_HTTP_RETRIES / BLS_HTTP_BACKOFF / BLS_HTTP_JITTER /
        BLS_HTTP_READ_TIMEOUT overrides."""
        env = os.environ
        return cls(
            retries=int(env.get("BLS_HTTP_RETRIES", cls.retries)),
            backoff_factor=float(env.get("BLS_HTTP_BACKOFF", cls.backoff_factor)),
            backoff_jitter=float(env.get("BLS_HTTP_JITTER", cls.backoff_jitter)),
            read_timeout=float(env.get("BLS_HTTP_READ_TIMEOUT", cls.read_timeout)),
        )

    @property
    def attempts(self) -> int:
        """The budget: requests one file may cost in all (the first one included)."""
        return max(0, self.retries) + 1

    def backoff(self, failed: int) -> float:
        """The wait after failed attempt number ``failed`` (1-based), before its jitter."""
        return min(self.backoff_max, self.backoff_factor * 2 ** (failed - 1))

    def worst_case_seconds(self, retry_after: float | None = None) -> float:
        """The longest a file can take to fail, bytes in transit aside.

        ``attempts × (connect_timeout + read_timeout)`` (each request waits at most that long
        for a connection and then for each piece of its answer) plus, between attempts k and
        k + 1, ``max(backoff(k) + backoff_jitter, R)``, where R is the longest Retry-After the
        server sends (``retry_after``; None: any, i.e. up to ``retry_after_max``, as a longer
        one is not waited for). A body that keeps arriving, however slowly, is not bounded by
        the read timeout; the formula counts the waiting, not the transfer.
        """
        cap = self.retry_after_max
        if retry_after is not None:
            cap = min(retry_after, cap)
        waits = sum(
            max(self.backoff(k) + self.backoff_jitter, cap) for k in range(1, self.attempts)
        )
        return self.attempts * (self.connect_timeout + self.read_timeout) + waits


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


def build_session(contact: str | None) -> requests.Session:
    """The session every request goes through. urllib3 retries nothing (``total=0``,
    ``read=False``): each call is one request, and :class:`Fetcher` owns the only budget."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent(contact)
    adapter = HTTPAdapter(max_retries=Retry(total=0, read=False))
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
# Told the bytes received so far and the size announced (None when unknown), every
# ``Fetcher.progress_every`` bytes and once at the end of a body.
Progress = Callable[[int, int | None], None]


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
        on_body: Callable[[], None] | None = None,
    ) -> None:
        """``on_body`` is called as a body starts to arrive (a 304 brings none): the caller
        may start work that only new bytes need (flows.sources.SourceKind.warm_up)."""
        self.store = store
        self.on_body = on_body
        self.policy = policy or HttpPolicy()
        self.progress_every = 8 << 20
        self.session = build_session(contact)
        self._sleep = sleep

    def close(self) -> None:
        self.session.close()

    def fetch(self, url: str, expect: Expect = "text", progress: Progress | None = None) -> Fetched:
        """``url`` (or a mirror file's path) into the raw store; ``progress`` hears how a body
        that is transferred advances (a 304 transfers none)."""
        if url.startswith(("http://", "https://")):
            return self._fetch_http(url, expect, progress)
        return self._copy_local(Path(url), expect, progress)

    # -- HTTP ----------------------------------------------------------------------------
    def _within_budget(self, method: str, url: str, attempt: Callable[[], _T]) -> _T:
        """``attempt()`` until it succeeds, fails for good, or the file's budget is spent.

        Every request counts, whatever failed (:class:`_Failed`): at most
        ``policy.attempts`` in all. Between two, the backoff with jitter, or the server's
        Retry-After when longer; a Retry-After beyond ``retry_after_max`` ends it at once.
        """
        budget = self.policy.attempts
        for n in range(1, budget + 1):
            try:
                return attempt()
            except _Failed as failed:
                if n == budget:
                    raise FetchError(
                        failed.describe(n, budget), url=url, status=failed.status
                    ) from failed.__cause__
                if failed.retry_after is not None and failed.retry_after > (
                    self.policy.retry_after_max
                ):
                    raise FetchError(
                        f"{failed.head} The server asked for {failed.retry_after:g} s before "
                        f"another request (Retry-After), more than the "
                        f"{self.policy.retry_after_max:g} s a fetch waits; stopped after "
                        f"attempt {n} of {budget}.",
                        url=url,
                        status=failed.status,
                    ) from failed.__cause__
                wait = self.policy.backoff(n) + random.uniform(0, self.policy.backoff_jitter)
                if failed.retry_after is not None:
                    wait = max(wait, failed.retry_after)
                _log.info(
                    "%s %s Attempt %d of %d; the next in %.3g s.",
                    method,
                    failed.head,
                    n,
                    budget,
                    wait,
                )
                self._sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _fetch_http(self, url: str, expect: Expect, progress: Progress | None) -> Fetched:
        return self._within_budget("GET", url, lambda: self._fetch_once(url, expect, progress))

    def _fetch_once(self, url: str, expect: Expect, progress: Progress | None) -> Fetched:
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
            return self._stream_into_store(url, response, expect, progress)

    def post_json(
        self, url: str, payload: Mapping[str, object]
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """POST ``payload`` as JSON; ``(status, body, headers)`` of a 200 answer.

        Same session, User-Agent, timeouts and retry budget (POST included: an API query has
        no side effect) as every GET. Anything but a 200 raises :class:`FetchError` naming the
        URL. The payload never appears in an error: it may carry a registration key.
        The body is returned, not stored: the caller decides what of it may be kept.
        """
        body = dict(payload)

        def attempt() -> tuple[int, bytes, Mapping[str, str]]:
            response = self._send("POST", url, json=body)
            with response:
                if response.status_code != 200:
                    self._raise_for_status(url, response)
                try:
                    content = response.content
                except requests.exceptions.ContentDecodingError as exc:
                    raise _not_encoded(url, response) from exc
                except requests.exceptions.RequestException as exc:
                    name = type(exc).__name__
                    raise _Failed(
                        f"{url}: the answer was cut short ({name}).",
                        lambda n, of: (
                            f"{url}: the answer was cut short ({name}) on attempt {n} of {of}; "
                            "nothing was stored"
                        ),
                        status=200,
                    ) from exc
                # Header names are case-insensitive (a server may send "etag"): keep them so.
                return response.status_code, content, CaseInsensitiveDict(response.headers)

        return self._within_budget("POST", url, attempt)

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request, streamed (urllib3 does not retry); a failure that may pass as
        :class:`_Failed`, for the budget to decide."""
        timeout = (self.policy.connect_timeout, self.policy.read_timeout)
        try:
            return self.session.request(method, url, timeout=timeout, stream=True, **kwargs)
        except requests.exceptions.SSLError as exc:
            # A certificate or TLS failure does not pass by asking again.
            raise FetchError(f"{url}: the TLS connection failed ({exc})", url=url) from exc
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            what = self._transport_problem(exc)
            raise _Failed(
                f"{url}: {what}.",
                lambda n, of: f"{url}: {what} on attempt {n} of {of}",
            ) from exc
        except requests.exceptions.TooManyRedirects as exc:
            raise FetchError(
                f"{url}: the server redirected more than {self.session.max_redirects} times "
                "(a redirect loop); nothing was downloaded",
                url=url,
            ) from exc
        except requests.exceptions.RequestException as exc:  # an answer requests cannot use
            raise FetchError(f"{url}: the request failed ({exc})", url=url) from exc

    def _transport_problem(self, exc: requests.exceptions.RequestException) -> str:
        """What went wrong before an answer arrived, in words."""
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return f"could not connect within {self.policy.connect_timeout:g} s (connect timeout)"
        if isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in str(exc).lower():
            return f"no answer within {self.policy.read_timeout:g} s (read timeout)"
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
            # urllib3 made its one attempt; its "Max retries exceeded" wrapper adds nothing.
            return f"could not connect ({str(reason.reason).split(': ', 1)[-1]})"
        return f"the connection broke before an answer ({reason})"

    def _raise_for_status(self, url: str, response: requests.Response) -> None:
        """Raise for an answer other than 200/304: :class:`_Failed` for 429 and 5xx (with the
        Retry-After asked for), a final :class:`FetchError` for anything else."""
        status = response.status_code
        try:
            body = response.raw.read(4096, decode_content=True) or b""
        except (OSError, urllib3.exceptions.HTTPError):
            body = b""  # the status line is what counts; an error page cut short is no news
        title = _TITLE.search(body)
        what = f" ('{title.group(1).decode('utf-8', 'replace')}')" if title else ""
        head = f"{url}: HTTP {status}{what}."
        if status in RETRY_STATUSES:

            def describe(n: int, of: int) -> str:
                if n == 1:
                    return f"{head} It was not retried (BLS_HTTP_RETRIES is 0)."
                return f"{head} It was retried {n - 1} times with backoff."

            raise _Failed(
                head,
                describe,
                status=status,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        hint = ""
        if status == 403:
            hint = (
                " BLS refuses requests whose User-Agent has no contact e-mail; "
                "set BLS_CONTACT_EMAIL."
            )
        raise FetchError(f"{head}{hint}", url=url, status=status)

    def _stream_into_store(
        self, url: str, response: requests.Response, expect: Expect, progress: Progress | None
    ) -> Fetched:
        # With Transfer-Encoding: chunked a Content-Length means nothing (RFC 9112 6.3);
        # the chunked framing itself tells a cut-short body, which urllib3 raises.
        expected_len = None if response.raw.chunked else _content_length(response, url)
        content_type = response.headers.get("Content-Type", "")
        if self.on_body is not None:
            self.on_body()
        with self.store.incoming() as (tmp, writer):
            head = b""
            told = 0
            try:
                for chunk in response.iter_content(chunk_size=self.policy.chunk_size):
                    if len(head) < 4096:
                        head += chunk[: 4096 - len(head)]
                    writer.write(chunk)
                    if progress is not None and writer.bytes - told >= self.progress_every:
                        told = writer.bytes
                        progress(told, expected_len)
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
            ) as exc:
                kept = self.store.quarantine(tmp, url, "truncated")
                raise _cut(
                    url,
                    f"the connection broke after {writer.bytes} bytes of "
                    f"{expected_len or 'unknown'}; partial body kept at {kept}",
                ) from exc
            except requests.exceptions.ContentDecodingError as exc:
                kept = self.store.quarantine(tmp, url, "rejected")
                raise _not_encoded(url, response, f"; what arrived is kept at {kept}") from exc
            # Content-Length counts the bytes on the wire; with a Content-Encoding (gzip)
            # the body is decoded while streaming, so compare what the wire carried.
            on_wire = response.raw.tell()
            if expected_len is not None and expected_len != on_wire:
                kept = self.store.quarantine(tmp, url, "truncated")
                raise _cut(
                    url,
                    f"got {on_wire} bytes but Content-Length said {expected_len}; "
                    f"partial body kept at {kept}",
                )
            problem = sniff_problem(head, content_type, expect)
            if problem:
                kept = self.store.quarantine(tmp, url, "rejected")
                raise FetchError(
                    f"{url}: {problem} (HTTP {response.status_code}); the body is kept at {kept}",
                    url=url,
                    status=response.status_code,
                )
            if progress is not None and writer.bytes != told:
                progress(writer.bytes, expected_len)
            record = self.store.keep(
                tmp,
                writer,
                url,
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            )
        return Fetched(url, self.store.object_path(record.sha256), record, True)

    # -- mirror folder ---------------------------------------------------------------------
    def _copy_local(self, src: Path, expect: Expect, progress: Progress | None) -> Fetched:
        url = src.resolve().as_uri()
        if not src.is_file():
            raise FetchError(f"{src}: no such file in the mirror folder", url=url, status=404)
        stat = src.stat()
        last_modified = formatdate(stat.st_mtime, usegmt=True)
        previous = self.store.last_stored(url)
        # A folder has no ETag, and a timestamp proves nothing (a file rewritten within the
        # same second, or copied with its old time kept, as `cp -p` and `rsync -a` do): the
        # bytes are compared. Only a file of the stored copy's size is read for it.
        if (
            previous is not None
            and previous.bytes == stat.st_size
            and sha256_file(src) == previous.sha256
        ):
            record = dataclasses.replace(previous, fetched_at=utc_now_iso(), status=304)
            self.store.record(record)
            return Fetched(url, self.store.object_path(previous.sha256), record, False)
        if self.on_body is not None:
            self.on_body()
        with self.store.incoming() as (tmp, writer), src.open("rb") as fh:
            head = fh.read(4096)
            fh.seek(0)
            told = 0
            while chunk := fh.read(self.policy.chunk_size):
                writer.write(chunk)
                if progress is not None and writer.bytes - told >= self.progress_every:
                    told = writer.bytes
                    progress(told, stat.st_size)
            if progress is not None and writer.bytes != told:
                progress(writer.bytes, stat.st_size)
            problem = sniff_problem(head, "", expect)
            if problem:
                kept = self.store.quarantine(tmp, url, "rejected")
                raise FetchError(f"{src}: {problem}; a copy is kept at {kept}", url=url)
            record = self.store.keep(tmp, writer, url, last_modified=last_modified)
        return Fetched(url, self.store.object_path(record.sha256), record, True)


def _not_encoded(url: str, response: requests.Response, kept: str = "") -> FetchError:
    """A body that is not the encoding its Content-Encoding names (a proxy's error page sent
    as gzip): final, since asking again gets the same."""
    encoding = response.headers.get("Content-Encoding", "")
    return FetchError(
        f"{url}: the body is not valid {encoding} although the server said it was "
        f"(Content-Encoding: {encoding}){kept}",
        url=url,
        status=response.status_code,
    )


def _content_length(response: requests.Response, url: str) -> int | None:
    """The Content-Length header as a number; None when absent. A list of equal values
    ("37, 37", which some proxies send) is that value (RFC 9110 8.6); anything else is a
    server error, not a body to judge by it."""
    header = response.headers.get("Content-Length")
    if header is None:
        return None
    values = {v.strip() for v in header.split(",")}
    if len(values) == 1 and (value := values.pop()).isdigit():
        return int(value)
    raise FetchError(
        f"{url}: the server sent an unusable Content-Length ({header!r}); nothing was stored",
        url=url,
        status=response.status_code,
    )


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (delta-seconds or an HTTP date) in seconds from now, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class _Failed(Exception):
    """One request failed in a way that may pass: another one is worth it, budget allowing.

    ``head``: what happened, for the log; ``describe(n, of)``: the message when attempt
    ``n`` of ``of`` was the last; ``retry_after``: the seconds the server asked for.
    """

    def __init__(
        self,
        head: str,
        describe: Callable[[int, int], str],
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(head)
        self.head = head
        self.describe = describe
        self.status = status
        self.retry_after = retry_after


def _cut(url: str, detail: str) -> _Failed:
    """The body ended before it was complete; the attempt left nothing in the raw store."""
    return _Failed(
        f"download of {url} was cut short ({detail}).",
        lambda n, of: (
            f"download of {url} was cut short ({detail}) on attempt {n} of {of}; nothing was stored"
        ),
        status=200,
    )
