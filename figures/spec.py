"""The content team's figure definitions (``figures.yaml``) rendered to ``figures.json``.

``figures.yaml`` maps figure ids to selections (``soc`` + ``measure``, optionally ``area``,
``industry``, ``year`` or ``cycle``); rendering gives each id its figure's JSON object, or an
``{"error": …}`` entry for one that cannot be given. Publishing writes the result into every
bundle it makes (:func:`bundle_writer`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from figures.errors import FigureError
from figures.figure import Selection, default_spec, figure
from figures.release import ReleaseReader


def load_spec(path: Path) -> dict[str, Selection]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FigureError(f"{path}: cannot read figure definitions: {first}") from None
    entries = raw.get("figures", {}) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise FigureError(f"{path}: 'figures' must map ids to selections")
    spec: dict[str, Selection] = {}
    allowed = {f.name for f in dataclasses.fields(Selection)}
    for fid, entry in entries.items():
        if not isinstance(entry, dict):
            raise FigureError(f"{path}: figure {fid!r} must map soc and measure to values")
        unknown = set(entry) - allowed
        if unknown or "soc" not in entry or "measure" not in entry:
            raise FigureError(
                f"{path}: figure {fid!r} needs soc and measure (allowed keys {sorted(allowed)}); "
                f"got {sorted(entry)}"
            )
        spec[str(fid)] = Selection(
            **{k: (str(v) if k not in ("year",) else int(v)) for k, v in entry.items()}
        )
    return spec


def render(reader: ReleaseReader, spec: dict[str, Selection]) -> dict[str, dict[str, Any]]:
    """Every figure of the spec as its JSON object; one that cannot be given is an entry with
    its error."""
    out: dict[str, dict[str, Any]] = {}
    for fid, sel in spec.items():
        try:
            out[fid] = figure(reader, sel).to_json()
        except FigureError as exc:
            out[fid] = {
                "error": str(exc),
                "soc_code": sel.soc,
                "measure": sel.measure,
                "release": reader.release_id,
            }
    return out


def write_figures(bundle: Path, release_id: str, spec_path: Path) -> Path:
    spec = load_spec(spec_path)
    with ReleaseReader(release_id, bundle) as reader:
        rendered = render(reader, spec)
    target = bundle / "figures.json"
    target.write_text(json.dumps(rendered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return target


def bundle_writer(spec_path: Path | None = None) -> Callable[[Path, str], Path]:
    """What publishing calls to add ``figures.json`` to a bundle it is making."""
    spec = spec_path or default_spec()
    return lambda bundle, release_id: write_figures(bundle, release_id, spec)
