"""What a person does after a fault: ``bls-refresh verify`` finds a changed byte, ``rollback``
moves ``latest`` back, and a new release moves it forward again. Real subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_helpers import (
    MEDIAN_A,
    World,
    assert_intact,
    bls_refresh,
    bump_median,
    first_release,
    hermetic_env,
    latest_of,
    one_line,
    refresh,
    world,
)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def releases(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, str, str, int]]:
    """A world with release A and a newer release B (29-2072's median changed): (w, A, B, B's)."""
    with world(tmp_path_factory.mktemp("recovery")) as made:
        with hermetic_env():
            a = first_release(made)
            value_b = bump_median(made)
            b = str(refresh(made).release_id)
        assert latest_of(made.data_dir) == b != a
        yield made, a, b, value_b


@contextlib.contextmanager
def one_byte_flipped(path: Path) -> Iterator[None]:
    """Corrupt one byte in the middle of ``path`` (even a read-only raw object); then undo."""
    mode = path.stat().st_mode
    original = path.read_bytes()
    middle = len(original) // 2
    os.chmod(path, 0o644)
    path.write_bytes(original[:middle] + bytes([original[middle] ^ 0xFF]) + original[middle + 1 :])
    try:
        yield
    finally:
        path.write_bytes(original)
        os.chmod(path, mode)


def verify(w: World) -> tuple[int, str, str]:
    done = bls_refresh("verify", "--data-dir", str(w.data_dir))
    return done.returncode, done.stdout, one_line(done.stderr)


def figure(w: World, *extra: str) -> dict[str, object]:
    done = bls_refresh(
        "figure", "29-2072", "annual_median", "--json", "--data-dir", str(w.data_dir), *extra
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_verify_names_a_corrupted_published_file(
    releases: tuple[World, str, str, int],
) -> None:
    w, _, b, _ = releases
    code, out, err = verify(w)
    assert code == 0 and "All files match their manifests." in out, err

    target = w.data_dir / "published" / b / "oews_estimates.parquet"
    with one_byte_flipped(target):
        code, out, err = verify(w)
        assert code == 1
        assert f"MISMATCH bundle {b}: oews_estimates.parquet does not match its sha256" in err
        assert "All files match" not in out

    assert verify(w)[0] == 0


def test_verify_names_a_corrupted_raw_object(releases: tuple[World, str, str, int]) -> None:
    w, _, _, _ = releases
    target = max((w.data_dir / "raw" / "objects").glob("*/*"), key=lambda p: p.stat().st_size)

    with one_byte_flipped(target):
        code, _, err = verify(w)
        assert code == 1
        assert f"MISMATCH raw object {target}: content sha256" in err
        assert "differs from its name" in err

    assert verify(w)[0] == 0


def test_rollback_then_a_new_release_moves_latest_forward(
    releases: tuple[World, str, str, int],
) -> None:
    w, a, b, value_b = releases
    published = w.data_dir / "published"
    before = sorted(p.name for p in published.iterdir() if p.name != ".rollback")
    assert figure(w)["release"] == b and figure(w)["value"] == value_b

    done = bls_refresh("rollback", a, "--data-dir", str(w.data_dir))

    assert done.returncode == 0, done.stderr
    assert latest_of(w.data_dir) == a
    assert sorted(p.name for p in published.iterdir() if p.name != ".rollback") == before
    assert_intact(w, a)  # B's bundle is still there and intact too (verify checks every bundle)
    answer = figure(w)
    assert (answer["release"], answer["value"]) == (a, MEDIAN_A)
    assert figure(w, "--release", b)["value"] == value_b  # B can still be asked for by id

    unknown = bls_refresh("rollback", "1999-01-01.1", "--data-dir", str(w.data_dir))
    assert unknown.returncode == 2
    assert "release 1999-01-01.1 has no complete bundle" in one_line(unknown.stderr)
    assert latest_of(w.data_dir) == a

    same = refresh(w)  # nothing new upstream: the rollback holds
    assert not same.changed
    assert latest_of(w.data_dir) == a
    value_c = bump_median(w)
    c = str(refresh(w).release_id)

    assert c not in (a, b) and latest_of(w.data_dir) == c
    assert_intact(w, c)
    answer = figure(w)
    assert (answer["release"], answer["value"]) == (c, value_c)
