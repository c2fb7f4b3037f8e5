"""BLS Public Data API v2: targeted series by POST, checked, returned as tidy rows.

``POST https://api.bls.gov/publicAPI/v2/timeseries/data/`` with a JSON body
``{"seriesid": [...], "startyear": "YYYY", "endyear": "YYYY", "registrationkey": ...}``.
What this module takes care of (FORMATS.md §1):

- limits: at most 50 series and 20 years per request with a registration key, 25 series and
  10 years without one; a longer list or range is split into several requests;
- errors arrive as HTTP 200: the ``status`` field decides (``REQUEST_SUCCEEDED`` or not), and
  ``message`` is read even on success, because BLS reports a silently shortened year range
  ("Year range has been reduced …") and unknown series there; "No Data Available for Series …
  Year: …" is normal (OEWS keeps only the latest year) and is not an error;
- ``Results`` may be an object or a list of objects; ``footnotes`` may be ``[{}]`` or ``[]``;
  every value is a string, and ``-`` means BLS published no number (value None, with the
  footnote codes that say why).

The registration key comes from the caller, else ``BLS_API_KEY``, else the Prefect Secret
block ``bls-api-key``. It is sent in the POST body only. It never reaches the disk, an error
message or a log: BLS echoes the key in some refusals ("… registration key <key> has been
reached"), so every answer is scrubbed (the key replaced by ``<key>``) before it is stored,
and the manifest row says so. The manifest URL is the endpoint plus the series and years
asked for, never the key.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from core.errors import ConfigError, FetchError
from extractors.http import Fetcher, sniff_problem
from extractors.rawstore import RawFileRecord, RawStore
from extractors.source import Source

logger = logging.getLogger(__name__)

HOST = "api.bls.gov"
PATH = "publicAPI/v2/timeseries/data/"
KEY_ENV = "BLS_API_KEY"
SECRET_BLOCK = "bls-api-key"
KEY_PLACEHOLDER = "<key>"
REGISTER_URL = "https://data.bls.gov/registrationEngine/"

SUCCEEDED = "REQUEST_SUCCEEDED"
MISSING_VALUE = "-"  # BLS published no number; the footnotes say why (OEWS: 5 top-coded …)
SCRUBBED_NOTE = f"registration key replaced by {KEY_PLACEHOLDER}"


@dataclasses.dataclass(frozen=True)
class Limits:
    """What BLS accepts per request, and per day (FORMATS.md §1.3)."""

    series: int
    years: int
    daily: int


KEYED = Limits(series=50, years=20, daily=500)
ANONYMOUS = Limits(series=25, years=10, daily=25)

# "Series IDs can include underscore, dash and hash but must not include lower case letters
# or special characters" (BLS API signature page).
_SERIES_ID = re.compile(r"^[A-Z0-9_#-]+$")
_PERIOD = re.compile(r"^[A-Z]\d\d$")
_YEAR = re.compile(r"^\d{4}$")
_NO_DATA = "no data available for series"
# A message holding any of these fails the request even when the status says it succeeded.
_FATAL = ("series does not exist", "year range has been reduced", "threshold", "invalid")


@dataclasses.dataclass(frozen=True)
class ApiRow:
    """One observation, tidy: ``value`` is None where BLS wrote ``-`` (see footnote_codes)."""

    series_id: str
    year: int
    period: str
    value: Decimal | None
    footnote_codes: tuple[str, ...]
    latest: bool


@dataclasses.dataclass
class ApiResult:
    """Everything a :func:`fetch_series` call got back."""

    keyed: bool  # whether a registration key was sent (and so which limits applied)
    rows: list[ApiRow] = dataclasses.field(default_factory=list)
    # BLS's messages that were not errors ("No Data Available for Series … Year: …").
    messages: list[str] = dataclasses.field(default_factory=list)
    footnotes: dict[str, str] = dataclasses.field(default_factory=dict)  # code → BLS's text
    catalog: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    raw: list[RawFileRecord] = dataclasses.field(default_factory=list)  # one per request

    def records(self) -> list[dict[str, object]]:
        """Rows as dicts for a DataFrame; footnote codes comma-joined (None when there are none)."""
        return [
            {
                **dataclasses.asdict(row),
                "footnote_codes": ",".join(row.footnote_codes) or None,
            }
            for row in self.rows
        ]


@dataclasses.dataclass(frozen=True)
class ApiRequest:
    """One POST: a chunk of series over a window of years."""

    series_ids: tuple[str, ...]
    start_year: int
    end_year: int

    def payload(self, key: str | None, *, catalog: bool = False) -> dict[str, object]:
        body: dict[str, object] = {
            "seriesid": list(self.series_ids),
            "startyear": str(self.start_year),
            "endyear": str(self.end_year),
        }
        if key:
            body["registrationkey"] = key
            if catalog:
                body["catalog"] = True  # v2 with a key only
        return body

    def manifest_url(self, endpoint: str) -> str:
        """The endpoint plus what was asked (never the key): provenance for the raw store."""
        query = {
            "seriesid": ",".join(self.series_ids),
            "startyear": self.start_year,
            "endyear": self.end_year,
        }
        return f"{endpoint}?{urlencode(query, safe=',')}"

    def describe(self) -> str:
        first = self.series_ids[0]
        more = f" and {len(self.series_ids) - 1} more" if len(self.series_ids) > 1 else ""
        return f"{first}{more}, {self.start_year}-{self.end_year}"


# -- the registration key ----------------------------------------------------------------------


def resolve_api_key(key: str | None = None) -> str | None:
    """The registration key: ``key``, else ``BLS_API_KEY``, else the Prefect Secret block.

    ``BLS_API_KEY`` set but empty means "no key" and skips Prefect. Prefect is imported only
    when it is needed, so a run with the variable set needs no Prefect server.
    """
    if key and key.strip():
        return key.strip()
    env = os.environ.get(KEY_ENV)
    if env is not None:
        return env.strip() or None
    return _key_from_prefect()


def _key_from_prefect() -> str | None:
    try:
        from prefect.blocks.system import Secret
    except ImportError:
        return None
    try:
        block = Secret.load(SECRET_BLOCK)
    except ValueError:  # Prefect: "Unable to find block document named …"
        return None
    except Exception as exc:  # a Prefect API that cannot be reached: go on without a key
        logger.warning(
            "could not read the Prefect Secret block %r (%s); asking BLS without a key",
            SECRET_BLOCK,
            type(exc).__name__,
        )
        return None
    value = str(block.get()).strip()
    return value or None


def scrub_key(body: bytes, key: str | None) -> tuple[bytes, bool]:
    """``body`` with every spelling of ``key`` (raw, JSON-escaped) replaced by ``<key>``."""
    if not key:
        return body, False
    forms = {
        key.encode("utf-8"),
        json.dumps(key)[1:-1].encode("ascii"),
        json.dumps(key, ensure_ascii=False)[1:-1].encode("utf-8"),
        json.dumps(key)[1:-1].replace("/", "\\/").encode("ascii"),
    }
    scrubbed = body
    for form in sorted(forms, key=len, reverse=True):
        scrubbed = scrubbed.replace(form, KEY_PLACEHOLDER.encode("ascii"))
    return scrubbed, scrubbed != body


def _scrub_text(text: str, key: str | None) -> str:
    return text.replace(key, KEY_PLACEHOLDER) if key else text


# -- planning ----------------------------------------------------------------------------------


def plan_requests(
    series_ids: Iterable[str], start_year: int, end_year: int, limits: Limits
) -> list[ApiRequest]:
    """Split the series into chunks and the years into windows that BLS accepts."""
    ids = list(dict.fromkeys(series_ids))  # drop repeats, keep order
    chunks = [tuple(ids[i : i + limits.series]) for i in range(0, len(ids), limits.series)]
    windows = [
        (first, min(first + limits.years - 1, end_year))
        for first in range(start_year, end_year + 1, limits.years)
    ]
    return [ApiRequest(chunk, first, last) for first, last in windows for chunk in chunks]


def _check_request(series_ids: list[str], start_year: int, end_year: int) -> list[str]:
    ids = [s.strip() for s in series_ids]
    bad = [s for s in ids if not _SERIES_ID.match(s)]
    if bad:
        raise ConfigError(f"not BLS series ids (upper-case letters, digits, _ - # only): {bad[:5]}")
    for name, year in (("start year", start_year), ("end year", end_year)):
        if not 1000 <= year <= 9999:
            raise ConfigError(f"the BLS API needs a four-digit {name}, got {year}")
    if start_year > end_year:
        raise ConfigError(f"start year {start_year} is after end year {end_year}")
    return ids


# -- fetching ----------------------------------------------------------------------------------


def fetch_series(
    fetcher: Fetcher,
    source: Source,
    series_ids: list[str],
    start_year: int,
    end_year: int,
    *,
    key: str | None,
    catalog: bool = False,
) -> ApiResult:
    """Fetch ``series_ids`` for ``start_year``–``end_year`` from the BLS API.

    ``key=None`` looks the key up (``BLS_API_KEY``, then the Prefect Secret block
    ``bls-api-key``); without one the smaller anonymous limits apply. Each answer enters the
    raw store (key scrubbed) before it is checked. Raises :class:`FetchError` with BLS's own
    message when BLS refuses a request (quota, bad key, unknown series, shortened range) and
    :class:`ConfigError` for ids or years BLS would not accept.
    """
    if source.is_folder:
        raise ConfigError(
            f"the BLS API answers POST requests, which a mirror folder cannot "
            f"({source.base}); use an http(s) mirror or the real BLS"
        )
    ids = _check_request(series_ids, start_year, end_year)
    key = resolve_api_key(key)
    limits = KEYED if key else ANONYMOUS
    endpoint = source.locate(HOST, PATH)
    plan = plan_requests(ids, start_year, end_year, limits)
    result = ApiResult(keyed=key is not None)
    for number, request in enumerate(plan, 1):
        logger.info(
            "BLS API request %d of %d: %s (%s)",
            number,
            len(plan),
            request.describe(),
            "with a registration key" if key else "without a key",
        )
        try:
            _exchange(fetcher, endpoint, request, key, catalog, result)
        except FetchError as exc:
            done = number - 1
            context = (
                f" [request {number} of {len(plan)}: {request.describe()}; "
                f"{done} earlier answer{'s' if done != 1 else ''} kept in the raw store]"
            )
            leaked = key is not None and key in str(exc)
            error = FetchError(_scrub_text(f"{exc}{context}", key), url=exc.url, status=exc.status)
            if leaked:
                raise error from None  # the original text would carry the key into tracebacks
            raise error from exc
    return result


def _exchange(
    fetcher: Fetcher,
    endpoint: str,
    request: ApiRequest,
    key: str | None,
    catalog: bool,
    result: ApiResult,
) -> None:
    """One POST: scrub, store, check, parse into ``result``."""
    _, body, headers = fetcher.post_json(endpoint, request.payload(key, catalog=catalog))
    body, scrubbed = scrub_key(body, key)
    where = request.manifest_url(endpoint)
    kept_note = f" (registration key replaced by {KEY_PLACEHOLDER})" if scrubbed else ""

    # Quarantine slots are per URL and reason: an HTML page, like a GET's, is "rejected".
    reason = "rejected"
    problem = sniff_problem(body[:4096], headers.get("Content-Type", ""), "json")
    document: object = None
    if problem is None:
        reason = "not-json"
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            problem = f"the answer is not JSON ({exc.__class__.__name__}: {str(exc)[:80]})"
        else:
            if not isinstance(document, dict) or not isinstance(document.get("status"), str):
                problem = "the answer is JSON but has no 'status' field"
    if problem is not None:
        kept = _quarantine(fetcher.store, where, body, reason)
        raise FetchError(
            f"{endpoint}: {problem} (HTTP 200); the body is kept at {kept}{kept_note}",
            url=endpoint,
            status=200,
        )
    assert isinstance(document, dict)
    status = document["status"]
    notes = [SCRUBBED_NOTE] if scrubbed else []
    if status != SUCCEEDED:
        notes.append(f"BLS status {status}")
    record = _store(fetcher.store, where, body, headers, "; ".join(notes) or None)
    result.raw.append(record)
    try:
        _parse(document, request, bool(key), result)
    except _Refused as refusal:
        raise FetchError(
            f"{refusal}; BLS's answer is kept at {record.path}{kept_note}",
            url=endpoint,
            status=200,
        ) from None


def _store(
    store: RawStore, url: str, body: bytes, headers: Mapping[str, str], note: str | None
) -> RawFileRecord:
    with store.incoming() as (tmp, writer):
        writer.write(body)
        return store.keep(
            tmp,
            writer,
            url,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
            note=note,
        )


def _quarantine(store: RawStore, url: str, body: bytes, reason: str) -> str:
    with store.incoming() as (tmp, writer):
        writer.write(body)
        kept = store.quarantine(tmp, url, reason)
    return str(kept.relative_to(store.root))


# -- checking and parsing ----------------------------------------------------------------------


class _Refused(Exception):
    """BLS refused the request, or its answer is not what the API documents."""


def _parse(document: dict[str, object], request: ApiRequest, keyed: bool, out: ApiResult) -> None:
    status = str(document["status"])
    raw_messages = document.get("message") or []
    if not isinstance(raw_messages, list):
        raise _Refused(f"'message' should be a list, got {type(raw_messages).__name__}")
    messages = [str(m) for m in raw_messages]
    if status != SUCCEEDED:
        raise _Refused(_refusal(status, messages, keyed))
    fatal = [m for m in messages if any(word in m.lower() for word in _FATAL)]
    if fatal:
        raise _Refused(_fatal_on_success(fatal, keyed))
    for message in messages:
        if not message.lower().startswith(_NO_DATA):
            logger.warning("BLS API message: %s", message)
    out.messages.extend(messages)

    seen: set[tuple[str, int, str]] = set()
    answered: set[str] = set()
    for series in _series_blocks(document.get("Results")):
        series_id = series.get("seriesID")
        if not isinstance(series_id, str) or series_id not in request.series_ids:
            raise _Refused(f"BLS answered for series {series_id!r}, which was not asked for")
        answered.add(series_id)
        described = series.get("catalog")
        if isinstance(described, dict):
            out.catalog[series_id] = {str(k): str(v) for k, v in described.items()}
        data = series.get("data", [])
        if not isinstance(data, list):
            raise _Refused(f"{series_id}: 'data' should be a list, got {type(data).__name__}")
        for item in data:
            row = _row(series_id, item, request, out.footnotes)
            ident = (row.series_id, row.year, row.period)
            if ident in seen:
                raise _Refused(f"{series_id}: {row.year} {row.period} appears twice")
            seen.add(ident)
            out.rows.append(row)
    # A series asked for and left out of a successful answer, with no message naming it,
    # would silently have no rows: refuse the answer instead.
    unexplained = [
        s for s in request.series_ids if s not in answered and not any(s in m for m in messages)
    ]
    if unexplained:
        raise _Refused(
            f"BLS answered {SUCCEEDED} without series {', '.join(unexplained[:5])}"
            + (f" and {len(unexplained) - 5} more" if len(unexplained) > 5 else "")
            + f" ({len(unexplained)} of the {len(request.series_ids)} asked for), and no "
            "message said why"
        )


def _refusal(status: str, messages: list[str], keyed: bool) -> str:
    text = "; ".join(messages) or "(no message)"
    lowered = text.lower()
    if "threshold" in lowered:
        if keyed:
            return (
                f"BLS API daily quota reached for this key ({status}): {text}; "
                "try again after midnight Eastern or use another key"
            )
        return (
            f"BLS API daily quota reached for requests without a key ({status}): {text}; "
            f"try again after midnight Eastern, or register for a free key at {REGISTER_URL} "
            f"and set {KEY_ENV}"
        )
    if "key" in lowered and "invalid" in lowered:
        return (
            f"BLS API refused the registration key ({status}): {text}; check {KEY_ENV} "
            f"or the Prefect Secret block '{SECRET_BLOCK}'"
        )
    return f"BLS API did not process the request ({status}): {text}"


def _fatal_on_success(fatal: list[str], keyed: bool) -> str:
    text = "; ".join(fatal)
    limits = KEYED if keyed else ANONYMOUS
    if "year range has been reduced" in text.lower():
        hint = (
            f" BLS cut the years short without failing; this client asks for at most "
            f"{limits.years} years per request, so BLS applied a smaller limit than documented"
        )
    elif "series does not exist" in text.lower():
        hint = " Check the series ids (a wrong area or industry code gives this message too)"
    else:
        hint = ""
    return f"BLS API answered {SUCCEEDED} but reported: {text}.{hint}"


def _series_blocks(results: object) -> list[dict[str, object]]:
    """``Results`` as BLS really sends it (an object) or as its docs show it (a list)."""
    if results is None:
        return []
    blocks = results if isinstance(results, list) else [results]
    out: list[dict[str, object]] = []
    for block in blocks:
        if not isinstance(block, dict):
            raise _Refused(f"'Results' should hold objects, got {type(block).__name__}")
        series = block.get("series", [])
        if not isinstance(series, list) or not all(isinstance(s, dict) for s in series):
            raise _Refused("'Results.series' should be a list of objects")
        out.extend(series)
    return out


def _row(series_id: str, item: object, request: ApiRequest, footnotes: dict[str, str]) -> ApiRow:
    if not isinstance(item, dict):
        raise _Refused(f"{series_id}: an observation should be an object, got {item!r:.60}")
    year_text, period = item.get("year"), item.get("period")
    if not isinstance(year_text, str) or not _YEAR.match(year_text):
        raise _Refused(f"{series_id}: year should be a four-digit string, got {year_text!r}")
    year = int(year_text)
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise _Refused(f"{series_id} {year}: period should look like M01 or A01, got {period!r}")
    where = f"{series_id} {year} {period}"
    if not request.start_year <= year <= request.end_year:
        raise _Refused(
            f"{where}: outside the years asked for ({request.start_year}-{request.end_year})"
        )
    latest = item.get("latest", "false")
    if latest not in ("true", "false", True, False):
        raise _Refused(f'{where}: \'latest\' should be "true" or "false", got {latest!r}')
    codes = _footnote_codes(where, item.get("footnotes") or [], footnotes)
    return ApiRow(
        series_id=series_id,
        year=year,
        period=period,
        value=_value(where, item.get("value")),
        footnote_codes=codes,
        latest=latest in ("true", True),
    )


def _value(where: str, raw: object) -> Decimal | None:
    if not isinstance(raw, str):
        raise _Refused(f"{where}: value should be a string, got {raw!r}")
    text = raw.strip()
    if text == MISSING_VALUE:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise _Refused(f"{where}: value {raw!r} is neither a number nor '{MISSING_VALUE}'")
    return value


def _footnote_codes(where: str, raw: object, footnotes: dict[str, str]) -> tuple[str, ...]:
    """Codes of an observation's footnotes; ``[{}]`` and ``[]`` both mean none."""
    if not isinstance(raw, list):
        raise _Refused(f"{where}: 'footnotes' should be a list, got {raw!r:.60}")
    codes: list[str] = []
    for note in raw:
        if note is None or note == {}:
            continue
        if not isinstance(note, dict):
            raise _Refused(f"{where}: a footnote should be an object, got {note!r:.60}")
        code = note.get("code")
        if code is None or str(code).strip() == "":
            continue  # text without a code: nothing to join on
        code = str(code).strip()
        codes.append(code)
        if note.get("text"):
            footnotes.setdefault(code, str(note["text"]))
    return tuple(codes)
