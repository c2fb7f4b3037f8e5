"""Can the source be reached at all? Asked once, before a refresh starts Prefect.

A host that does not resolve or refuses every connection will not answer the retried
downloads either: the retry budget (six requests per file with backoff, see
``extractors.http``) would spend a minute finding that out. A person running a command wants
the answer in seconds. Scheduled runs do not ask; they keep the retry budget for real outages.
"""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

from core.errors import FetchError
from extractors.source import Source


def _endpoints(source: Source, hosts: list[str]) -> list[tuple[str, str, int]]:
    """(URL shown to the user, host, port) for each distinct host the run will contact;
    ``hosts``: the BLS hosts of the sources it fetches (a mirror is one host)."""
    if source.is_folder:
        return []
    if source.base is None:
        return [(f"https://{h}/", h, 443) for h in sorted(set(hosts))]
    parts = urlsplit(source.base)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return [(source.base, parts.hostname or "", port)]


def _why_not(host: str, port: int, timeout: float) -> str | None:
    """None when a TCP connection opens; else what went wrong, in words."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror as exc:
        return f"the host name {host!r} does not resolve ({exc.strerror or exc})"
    except ConnectionRefusedError:
        return f"{host}:{port} refuses connections (is the server running?)"
    except TimeoutError:
        return f"{host}:{port} did not answer within {timeout:.0f} s"
    except OSError as exc:
        return f"{host}:{port} cannot be reached ({exc.strerror or exc})"


def check_reachable(
    source: Source, hosts: list[str], *, timeout: float = 5.0, attempts: int = 2
) -> None:
    """Raise FetchError naming the first host that cannot be reached after ``attempts``."""
    for url, host, port in _endpoints(source, hosts):
        for attempt in range(attempts):
            why = _why_not(host, port, timeout)
            if why is None:
                break
            if attempt + 1 < attempts:
                time.sleep(1.0)
        else:
            raise FetchError(
                f"cannot reach {url}: {why}. Nothing was fetched. Check the address "
                "(--source) and the network, then run again.",
                url=url,
            )
