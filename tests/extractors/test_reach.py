"""The reachability check before a refresh: an answer in seconds, naming the address."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.errors import FetchError
from extractors.reach import check_reachable
from extractors.source import Source

if TYPE_CHECKING:
    from tests.blsserver import BlsServer

BLS_HOSTS = ["www.bls.gov", "download.bls.gov", "www.bls.gov"]


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_running_mirror_server_is_reachable(bls_server: BlsServer) -> None:
    check_reachable(Source.from_arg(bls_server.base_url), BLS_HOSTS, timeout=2, attempts=1)
    assert bls_server.requests == []  # a TCP connection only: no request is sent


def test_a_mirror_folder_needs_no_network(mirror: Path) -> None:
    check_reachable(Source.from_arg(mirror), BLS_HOSTS, timeout=0.1, attempts=1)


def test_a_refused_connection_names_the_address_and_what_to_check() -> None:
    port = closed_port()
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(FetchError) as refused:
        check_reachable(Source.from_arg(base), BLS_HOSTS, timeout=2, attempts=1)
    assert refused.value.url == base
    assert str(refused.value) == (
        f"cannot reach {base}: 127.0.0.1:{port} refuses connections (is the server running?). "
        "Nothing was fetched. Check the address (--source) and the network, then run again."
    )


def test_a_server_that_comes_up_between_attempts_is_reachable(
    bls_server_class: type[BlsServer], tmp_path: Path
) -> None:
    """The second attempt, a second later, finds it: one refused connection is not fatal."""
    server = bls_server_class(tmp_path).start()
    base = server.base_url
    server.stop()  # the port is free now; start() binds it again
    timer = threading.Timer(0.3, server.start)
    timer.start()
    try:
        check_reachable(Source.from_arg(base), BLS_HOSTS, timeout=2, attempts=2)
    finally:
        timer.join()
        server.stop()
