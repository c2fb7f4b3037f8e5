"""The source registry (flows/sources.py): each kind's extractor, files, stager and load
policy, and the policy's hand-over to the warehouse (core.staging.LoadPolicy)."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from core.staging import LoadPolicy, TablePolicy
from extractors.oews import FILES
from flows.sources import REFRESHED, SOURCES, LoadKey, fetcher_of

if TYPE_CHECKING:
    from tests.conftest import OesmWorkbooks


def test_the_registry_loads_neither_prefect_nor_the_transforms(repo: Path) -> None:
    """The command line reads it before a flow starts (and before pandas is needed)."""
    probe = "import sys, flows.sources; print('prefect' in sys.modules, 'pandas' in sys.modules)"
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=True
    )
    assert found.stdout.split() == ["False", "False"]


def test_warm_up_imports_the_transform_once_on_another_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "warm_probe_ok.py").write_text(
        "import threading\nTHREAD = threading.current_thread().name\n"
    )
    (tmp_path / "warm_probe_broken.py").write_text("raise ImportError('broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("warm_probe_ok", "warm_probe_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    entry = dataclasses.replace(SOURCES["soc"], transform="warm_probe_ok")

    thread = entry.warm_up()
    assert thread is not None
    thread.join(timeout=10)
    assert sys.modules["warm_probe_ok"].THREAD == "import warm_probe_ok"
    assert entry.warm_up() is None  # once per process

    # A transform that cannot be imported is the stager's to report, in its task.
    broken = dataclasses.replace(entry, transform="warm_probe_broken").warm_up()
    assert broken is not None
    broken.join(timeout=10)
    assert "warm_probe_broken" not in sys.modules
    with pytest.raises(ImportError, match="broken on purpose"):
        importlib.import_module("warm_probe_broken")
    monkeypatch.delitem(sys.modules, "warm_probe_ok")


def test_each_kind_names_the_transform_its_stager_imports() -> None:
    for kind, entry in SOURCES.items():
        source = inspect.getsource(entry.stager)
        assert f"from {entry.transform} import " in source, kind


def test_refresh_fetches_every_kind_with_an_extractor() -> None:
    assert REFRESHED == ("oews", "projections", "soc")  # the order refresh fetches them in
    assert set(SOURCES) == {"oews", "projections", "soc", "oews_special"}  # what detect finds
    assert SOURCES["oews"].files == FILES
    with pytest.raises(ValueError, match="oews_special has no extractor"):
        fetcher_of("oews_special")


def test_a_load_is_a_kind_or_for_a_kind_loaded_file_by_file_one_file() -> None:
    assert SOURCES["oews"].key("oe.area") == LoadKey("oews")
    assert LoadKey("oews").label == "oews"
    special = SOURCES["oews_special"].key("oesm23nat.zip")
    assert special == LoadKey("oews_special", "oesm23nat.zip")
    assert special.label == "oews_special/oesm23nat.zip"  # Prefect's stage-… task name


def test_each_stager_meets_its_load_policy(
    tmp_path: Path, sample_mirror: Path, oesm: OesmWorkbooks, oe_path: str
) -> None:
    www = sample_mirror / "www.bls.gov"
    given = {
        "oews": {name: sample_mirror / oe_path / name for name in FILES},
        "projections": {"occupation.xlsx": www / "emp/ind-occ-matrix/occupation.xlsx"},
        "soc": {"x.xlsx": www / "soc/2018/soc_2010_to_2018_crosswalk.xlsx"},
        "oews_special": {"oesm23nat.zip": oesm.national_2023_zip(tmp_path)},
    }
    staged = {
        kind: SOURCES[kind].stage(files, tmp_path / kind, "r1", {}) for kind, files in given.items()
    }
    policies = {kind: load.policy for kind, load in staged.items()}
    assert {k: p.guarded_table if p else None for k, p in policies.items()} == {
        "oews": "oews_estimates",
        "projections": "projections",
        "soc": "soc_crosswalk",
        "oews_special": "oews_estimates",
    }
    assert {k: (p.guard_growth, p.yields_to) for k, p in policies.items() if p} == {
        "oews": (True, None),
        "projections": (False, None),  # a bigger workbook of the same cycle is no alarm
        "soc": (True, None),
        "oews_special": (True, "oews"),  # never overwrites a year of the time series
    }
    upserted = {kind: {t.table: t.upsert for t in load.tables} for kind, load in staged.items()}
    assert upserted["oews"] == {
        "occupations": True,
        "areas": True,
        "industries": True,
        "oews_footnotes": False,
        "oews_estimates": False,
    }
    assert set(upserted["oews_special"].values()) == {True}  # every table, by key
    assert upserted["projections"] == {"projections": False}


def test_a_transform_and_a_policy_that_disagree_are_refused(
    tmp_path: Path, sample_mirror: Path
) -> None:
    from transforms.projections import stage_projections

    workbook = sample_mirror / "www.bls.gov/emp/ind-occ-matrix/occupation.xlsx"
    staged = stage_projections(workbook, tmp_path, release_id="r1", sources={})
    assert staged.policy is None  # a transform returns tables and their scope, no policy
    policy = SOURCES["projections"].policy
    other_scope = {"projections": TablePolicy(scope=("soc_version",))}
    with pytest.raises(ValueError, match=r"scoped projections by \['cycle'\]"):
        dataclasses.replace(policy, tables=other_scope).attach(staged)
    more = LoadPolicy({**policy.tables, "areas": TablePolicy()}, guarded_table="projections")
    with pytest.raises(ValueError, match="its load policy names"):
        more.attach(staged)
