"""Serve the deployments declared in ``prefect.yaml`` from this process (``bls-refresh serve``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from prefect import serve

from flows.refresh import refresh

FLOWS = {"flows/refresh.py:refresh": refresh}


def load_deployments(spec: Path) -> list[dict[str, Any]]:
    """The deployments of ``prefect.yaml`` whose entrypoint this package provides."""
    deployments = yaml.safe_load(spec.read_text(encoding="utf-8"))["deployments"]
    unknown = [d["entrypoint"] for d in deployments if d["entrypoint"] not in FLOWS]
    if unknown:
        raise ValueError(f"{spec}: unknown entrypoints {unknown}; known: {sorted(FLOWS)}")
    return deployments


def serve_deployments(spec: Path) -> None:
    runnable = []
    for d in load_deployments(spec):
        schedule = d["schedules"][0]
        runnable.append(
            FLOWS[d["entrypoint"]].to_deployment(
                name=d["name"],
                description=d.get("description"),
                parameters=d.get("parameters", {}),
                cron=schedule["cron"],
                timezone=schedule.get("timezone"),
            )
        )
    serve(*runnable)
