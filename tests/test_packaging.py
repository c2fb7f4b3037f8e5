"""bls-refresh as a package: the built wheel, installed into a fresh environment, works outside a
checkout (``uv tool install .`` installs the same wheel).

One test, about 40 s with a warm uv cache: it builds the sdist and the wheel from the sdist (as
``uv build`` does), installs the wheel into a new virtual environment with the dependency
versions of ``uv.lock``, and runs ``bls-refresh demo`` and ``bls-refresh figure`` from an empty
folder, so the sample mirror, ``figures.yaml`` and ``prefect.yaml`` must come from the wheel.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PACKAGES = ("core", "extractors", "transforms", "warehouse", "figures", "flows", "bls_refresh")
DATA_FILES = (
    "bls_refresh/prefect.yaml",
    "figures/figures.yaml",
    "flows/prefect_logging.yml",
    "bls_refresh/sample_mirror/README.md",
    "bls_refresh/sample_mirror/download.bls.gov/pub/time.series/oe/oe.data.0.Current",
    "bls_refresh/sample_mirror/www.bls.gov/emp/ind-occ-matrix/occupation.xlsx",
    "bls_refresh/sample_mirror/www.bls.gov/soc/2018/soc_2010_to_2018_crosswalk.xlsx",
)
SENTENCE = (
    "Medical records specialists: median annual wage $50,250 "
    "(May 2024, U.S. Bureau of Labor Statistics OEWS)"
)
# What the installed interpreter finds: each path must lie inside the new environment.
WHERE = """
from bls_refresh import cli
from figures.figure import default_spec
from flows.deployments import load_deployments
spec = cli._data_file("prefect.yaml")
print(cli.__file__, cli.SAMPLE_MIRROR, default_spec(), spec, sep="\\n")
print(*(d["name"] for d in load_deployments(spec)))
"""


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to build and install the wheel (scripts/bootstrap.sh installs it)"
    return uv


def _env(**extra: str) -> dict[str, str]:
    """The environment of a user's shell: nothing that points back into this checkout."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "BLS_DATA_DIR", "BLS_FIGURES_SPEC"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PREFECT_")}
    return {**env, "COLUMNS": "200", **extra}


def _run(args: list[str | Path], cwd: Path, timeout: float, **env: str) -> str:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}\n"
        f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    )
    return result.stdout


@pytest.mark.timeout(900)  # a cold uv cache downloads the dependencies from PyPI
def test_installed_wheel_runs_the_demo_outside_a_checkout(
    tmp_path: Path, repo: Path, contact: str
) -> None:
    uv = _uv()
    dist, venv, work = tmp_path / "dist", tmp_path / "venv", tmp_path / "work"
    work.mkdir()

    # 1. The wheel: every package and the data files, no tests, no data dir.
    _run([uv, "build", "--quiet", "--out-dir", dist, repo], repo, 300)
    (wheel,) = dist.glob("bls_refresh-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.startswith("bls_refresh-")}
    assert tops == set(PACKAGES), sorted(tops)
    assert all(f"{p}/__init__.py" in names for p in PACKAGES)
    assert [f for f in DATA_FILES if f not in names] == []
    assert not [n for n in names if "/tests/" in n or "/data/" in n or "__pycache__" in n]

    # 2. A fresh environment with the wheel, its dependencies at the versions of uv.lock.
    constraints = tmp_path / "constraints.txt"
    export = ["export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--quiet"]
    _run([uv, *export, "--output-file", constraints], repo, 60)
    _run([uv, "venv", "--quiet", "--python", sys.executable, venv], tmp_path, 120)
    python, command = venv / "bin" / "python", venv / "bin" / "bls-refresh"
    _run(
        [uv, "pip", "install", "--quiet", "--python", python, "--constraints", constraints, wheel],
        tmp_path,
        600,
    )

    # 3. From an empty folder: the code and its data come from the environment, not the repo.
    where = _run([python, "-c", WHERE], work, 120).splitlines()
    module, mirror, figures_spec, prefect_spec, deployments = where
    site = (venv / "lib").resolve()
    for path in (module, mirror, figures_spec, prefect_spec):
        assert Path(path).is_relative_to(site), f"{path} is not inside {site}"
        assert Path(path).exists(), path
    assert deployments == "oews-weekly oews-history"

    assert "demo" in _run([command, "--help"], work, 60)
    data, home = tmp_path / "data", tmp_path / "prefect-home"  # a new user's empty Prefect home
    demo = _run(
        [command, "demo", "--data-dir", data],
        work,
        300,
        BLS_CONTACT_EMAIL=contact,
        PREFECT_HOME=str(home),
    )
    assert "Published release" in demo and "OEWS vintage: May 2024" in demo
    figures_json = (data / "published" / "latest" / "figures.json").read_text(encoding="utf-8")
    assert '"medical_records_median_wage"' in figures_json  # rendered from the bundled spec
    figure = _run([command, "figure", "29-2072", "annual_median", "--data-dir", data], work, 60)
    assert figure.strip() == SENTENCE
    assert list(work.iterdir()) == []  # nothing written to the working directory
