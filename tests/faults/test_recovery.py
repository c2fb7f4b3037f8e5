"""What a person does after a fault: ``bls-refresh verify`` finds a changed byte, ``rollback``
moves ``latest`` back, and a new release moves it forward again. Real subprocesses."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from warehouse import bundles

if TYPE_CHECKING:
    from tests.faults.conftest import FaultKit, World

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def releases(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory, faults: FaultKit
) -> Iterator[tuple[World, str, str, int]]:
    """A world with release A and a newer release B (29-2072's median changed): (w, A, B, B's)."""
    with faults.world(tmp_path_factory.mktemp("recovery")) as made:
        with faults.hermetic_env():
            a = faults.first_release(made)
            value_b = faults.bump_median(made)
            b = str(faults.refresh(made).release_id)
        assert faults.latest_of(made.data_dir) == b != a
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


def verify(faults: FaultKit, w: World) -> tuple[int, str, str]:
    done = faults.bls_refresh("verify", "--data-dir", str(w.data_dir))
    return done.returncode, done.stdout, faults.one_line(done.stderr)


def figure(faults: FaultKit, w: World, *extra: str) -> dict[str, object]:
    done = faults.bls_refresh(
        "figure", "29-2072", "annual_median", "--json", "--data-dir", str(w.data_dir), *extra
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_verify_names_a_corrupted_published_file(
    releases: tuple[World, str, str, int],
    faults: FaultKit,
) -> None:
    w, _, b, _ = releases
    code, out, err = verify(faults, w)
    assert code == 0 and "All files match their manifests." in out, err

    [target] = bundles.table_files(w.data_dir / "published" / b, "oews_estimates")
    with one_byte_flipped(target):
        code, out, err = verify(faults, w)
        assert code == 1
        part = f"oews_estimates/{target.name}"
        assert f"MISMATCH bundle {b}: {part} does not match its sha256" in err
        assert "All files match" not in out

    assert verify(faults, w)[0] == 0


def test_verify_names_a_corrupted_raw_object(
    releases: tuple[World, str, str, int], faults: FaultKit
) -> None:
    w, _, _, _ = releases
    target = max((w.data_dir / "raw" / "objects").glob("*/*"), key=lambda p: p.stat().st_size)

    with one_byte_flipped(target):
        code, _, err = verify(faults, w)
        assert code == 1
        assert f"MISMATCH raw object {target}: content sha256" in err
        assert "differs from its name" in err

    assert verify(faults, w)[0] == 0


def test_rollback_then_a_new_release_moves_latest_forward(
    releases: tuple[World, str, str, int],
    faults: FaultKit,
) -> None:
    w, a, b, value_b = releases
    published = w.data_dir / "published"
    before = sorted(p.name for p in published.iterdir() if p.name != ".rollback")
    assert figure(faults, w)["release"] == b and figure(faults, w)["value"] == value_b

    done = faults.bls_refresh("rollback", a, "--data-dir", str(w.data_dir))

    assert done.returncode == 0, done.stderr
    assert faults.latest_of(w.data_dir) == a
    assert sorted(p.name for p in published.iterdir() if p.name != ".rollback") == before
    # B's bundle is still there and intact too (verify checks every bundle)
    faults.assert_intact(w, a)
    answer = figure(faults, w)
    assert (answer["release"], answer["value"]) == (a, faults.MEDIAN_A)
    assert figure(faults, w, "--release", b)["value"] == value_b  # B can still be asked for by id

    unknown = faults.bls_refresh("rollback", "1999-01-01.1", "--data-dir", str(w.data_dir))
    assert unknown.returncode == 2
    assert "release 1999-01-01.1 has no complete bundle" in faults.one_line(unknown.stderr)
    assert faults.latest_of(w.data_dir) == a

    same = faults.refresh(w)  # nothing new upstream: the rollback holds
    assert not same.changed
    assert faults.latest_of(w.data_dir) == a
    value_c = faults.bump_median(w)
    c = str(faults.refresh(w).release_id)

    assert c not in (a, b) and faults.latest_of(w.data_dir) == c
    faults.assert_intact(w, c)
    answer = figure(faults, w)
    assert (answer["release"], answer["value"]) == (c, value_c)
