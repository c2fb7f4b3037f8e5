"""Fixtures of the extractors tests: a raw store of the test's own, and a fetcher into it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from extractors.http import Fetcher, HttpPolicy
from extractors.rawstore import RawStore


@pytest.fixture
def store(tmp_path: Path) -> RawStore:
    """An empty raw store in the test's ``tmp_path``."""
    return RawStore(tmp_path / "raw")


@pytest.fixture
def fetcher(store: RawStore, contact: str) -> Iterator[Fetcher]:
    """A fetcher into ``store`` with the contact and the policy of the test environment
    (``hermetic_env``: the production budget with a short clock)."""
    f = Fetcher(store, contact=contact, policy=HttpPolicy.from_env())
    yield f
    f.close()
