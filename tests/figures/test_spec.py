"""figures.yaml → figures.json: definitions read and checked, every figure rendered or its
error kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from core.paths import DataPaths
from figures.errors import FigureError
from figures.figure import Selection
from figures.release import ReleaseReader
from figures.spec import bundle_writer, load_spec, render, write_figures

RELEASE = "2026-11-28.1"
SPEC = """\
figures:
  median:
    soc: 29-2072
    measure: annual_median
    year: 2024
  ca_median:
    soc: 29-2072
    measure: annual_median
    area: "0600000"
  top_coded:
    soc: 29-1211
    measure: annual_median
  typo:
    soc: 29-2072
    measure: annual_medain
"""
MEDIAN_SENTENCE = (
    "Medical Records Specialists: median annual wage $50,250 "
    "(May 2024, U.S. Bureau of Labor Statistics OEWS)"
)


def test_a_spec_maps_ids_to_selections_in_order(tmp_path: Path) -> None:
    spec = tmp_path / "figures.yaml"
    spec.write_text(SPEC)
    assert load_spec(spec) == {
        "median": Selection("29-2072", "annual_median", year=2024),
        "ca_median": Selection("29-2072", "annual_median", area="0600000"),
        "top_coded": Selection("29-1211", "annual_median"),
        "typo": Selection("29-2072", "annual_medain"),
    }
    assert list(load_spec(spec)) == ["median", "ca_median", "top_coded", "typo"]


def test_an_empty_spec_has_no_figures(tmp_path: Path) -> None:
    spec = tmp_path / "figures.yaml"
    spec.write_text("")
    assert load_spec(spec) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("figures:\n  x:\n    soc: 29-2072\n", "figure 'x' needs soc and measure"),
        (
            "figures:\n  x:\n    soc: 29-2072\n    measure: annual_median\n    areas: CA\n",
            "figure 'x' needs soc and measure",
        ),
        ("figures:\n  x: 29-2072 annual_median\n", "figure 'x' must map soc and measure"),
        ("figures:\n  x:\n", "figure 'x' must map soc and measure"),
        ("figures:\n  - 29-2072\n", "'figures' must map ids to selections"),
        ("- 29-2072\n", "'figures' must map ids to selections"),
        ("figures: {x: [\n", "cannot read figure definitions"),
    ],
)
def test_malformed_spec_exits_2(tmp_path: Path, text: str, message: str) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(text)
    with pytest.raises(FigureError) as exc:
        load_spec(spec)
    assert message in str(exc.value)
    assert exc.value.code == 2


def test_render_gives_each_figure_or_its_error(
    tmp_path: Path, write_bundle: Callable[..., Path]
) -> None:
    spec = tmp_path / "figures.yaml"
    spec.write_text(SPEC)
    bundle = write_bundle(DataPaths(tmp_path / "data"), RELEASE)

    with ReleaseReader(RELEASE, bundle) as reader:
        rendered = render(reader, load_spec(spec))

    assert list(rendered) == ["median", "ca_median", "top_coded", "typo"]
    assert (rendered["median"]["text"], rendered["median"]["sentence"]) == (
        "$50,250",
        MEDIAN_SENTENCE,
    )
    assert rendered["median"]["release"] == RELEASE
    assert rendered["ca_median"] == {
        "error": f"No OEWS estimate of annual_median for 29-2072 in area 0600000, industry "
        f"000000 in release {RELEASE}.",
        "soc_code": "29-2072",
        "measure": "annual_median",
        "release": RELEASE,
    }
    assert rendered["top_coded"]["text"] == "$239,200 or more"
    assert rendered["typo"]["error"] == "Unknown measure 'annual_medain'."


def test_publishing_writes_figures_json_into_the_bundle(
    tmp_path: Path, write_bundle: Callable[..., Path]
) -> None:
    spec = tmp_path / "figures.yaml"
    spec.write_text(SPEC)
    bundle = write_bundle(DataPaths(tmp_path / "data"), RELEASE, median="51140")

    written = bundle_writer(spec)(bundle, RELEASE)

    assert written == bundle / "figures.json"
    text = written.read_text(encoding="utf-8")
    assert text.endswith("}\n")
    assert json.loads(text)["median"]["text"] == "$51,140"
    with ReleaseReader(RELEASE, bundle) as reader:
        assert json.loads(text) == render(reader, load_spec(spec))
    assert write_figures(bundle, RELEASE, spec) == written


def test_the_default_spec_is_figures_yaml_unless_bls_figures_spec_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, write_bundle: Callable[..., Path]
) -> None:
    spec = tmp_path / "other.yaml"
    spec.write_text("figures:\n  only:\n    soc: 29-2072\n    measure: annual_median\n")
    monkeypatch.setenv("BLS_FIGURES_SPEC", str(spec))
    bundle = write_bundle(DataPaths(tmp_path / "data"), RELEASE)

    bundle_writer()(bundle, RELEASE)

    assert list(json.loads((bundle / "figures.json").read_text())) == ["only"]
