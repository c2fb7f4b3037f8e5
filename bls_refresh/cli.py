"""``bls-refresh``: the one command people run.

Read-only commands must start fast, so Prefect (and the flow modules) are imported only by
the commands that run a flow.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bls_refresh.errors import PipelineError
from bls_refresh.paths import DataPaths
from extractors.http import require_contact

app = typer.Typer(
    help="Keep BLS OEWS wages and employment projections fresh, validated and versioned.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_MIRROR = REPO_ROOT / "sample_mirror"

RefreshOutcomeLike = Any  # flows.refresh.RefreshOutcome, not imported here (it loads Prefect)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where raw files, warehouse and releases live.", envvar="BLS_DATA_DIR"
    ),
]


def _quiet_prefect() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _run_refresh(data_dir: Path | None, source: str | None, allow_row_count_change: bool) -> None:
    paths = DataPaths.resolve(data_dir)
    contact = os.environ.get("BLS_CONTACT_EMAIL")
    if source is None:
        try:
            require_contact(contact)  # refuse before Prefect even starts
        except PipelineError as exc:
            err.print(f"[bold red]Refusing to run:[/] {exc}", highlight=False)
            raise typer.Exit(1) from None

    def call() -> RefreshOutcomeLike:
        from flows.refresh import refresh  # Prefect loads here, and only here

        return refresh(
            data_dir=str(paths.root),
            source=source,
            contact=contact,
            allow_row_count_change=allow_row_count_change,
        )

    _run_flow(paths, call)


def _run_flow(paths: DataPaths, call: Callable[[], RefreshOutcomeLike]) -> None:
    _quiet_prefect()
    try:
        outcome = call()
    except PipelineError as exc:
        err.print(f"[bold red]Refresh failed:[/] {exc}", highlight=False)
        latest = os.readlink(paths.latest) if paths.latest.is_symlink() else None
        err.print(
            f"Nothing was published; latest is still {latest}."
            if latest
            else "Nothing was published.",
            highlight=False,
        )
        raise typer.Exit(1) from None
    out.print(outcome.message, highlight=False)
    _summary(paths, outcome.release_id, outcome.vintages, outcome.row_counts)


def _summary(
    paths: DataPaths, release_id: str | None, vintages: dict[str, str], counts: dict[str, int]
) -> None:
    if not release_id:
        return
    table = Table(title=f"Release {release_id}", show_header=True)
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    out.print(table)
    for kind, vintage in sorted(vintages.items()):
        out.print(f"{kind.upper()} vintage: {vintage}", highlight=False)
    out.print(f"Bundle:        {paths.published / release_id}", highlight=False)
    out.print(f"Latest:        {paths.latest}", highlight=False)
    out.print(
        f"Analyst file:  {paths.analyst_db}  (open it with DuckDB: FROM oews_estimates)",
        highlight=False,
    )


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files downloaded by hand from BLS.")],
    data_dir: DataDirOption = None,
    allow_row_count_change: Annotated[
        bool,
        typer.Option(help="Accept a row count more than 20% away from the previous release."),
    ] = False,
) -> None:
    """Load hand-downloaded files: an EP occupation.xlsx (any cycle from 2014-24 on) or OEWS
    flat files. Kind and vintage are read from the content, not the file name."""
    paths = DataPaths.resolve(data_dir)

    def call() -> RefreshOutcomeLike:
        from flows.ingest import ingest as ingest_flow

        return ingest_flow(
            files=[str(f.resolve()) for f in files],
            data_dir=str(paths.root),
            allow_row_count_change=allow_row_count_change,
        )

    _run_flow(paths, call)


@app.command()
def demo(data_dir: DataDirOption = None) -> None:
    """Full refresh from the bundled sample mirror (offline) into ./data."""
    if not SAMPLE_MIRROR.is_dir():
        err.print(f"The sample mirror is missing at {SAMPLE_MIRROR}.")
        raise typer.Exit(2)
    _run_refresh(data_dir, str(SAMPLE_MIRROR), allow_row_count_change=False)


@app.command()
def run(
    source: Annotated[
        str | None,
        typer.Option(
            help="A mirror folder or http(s) URL with the BLS hosts as first-level folders. "
            "Default: the real BLS hosts."
        ),
    ] = None,
    data_dir: DataDirOption = None,
    allow_row_count_change: Annotated[
        bool,
        typer.Option(help="Accept a row count more than 20% away from the previous release."),
    ] = False,
) -> None:
    """Refresh from BLS (needs BLS_CONTACT_EMAIL) or from a mirror (--source)."""
    _run_refresh(data_dir, source, allow_row_count_change)


@app.command()
def serve() -> None:
    """Run the scheduled deployments of prefect.yaml in this process (Ctrl-C to stop)."""
    _quiet_prefect()
    from flows.deployments import serve_deployments

    serve_deployments(REPO_ROOT / "prefect.yaml")


def main() -> None:
    try:
        app()
    except PipelineError as exc:  # pragma: no cover - commands handle their own
        err.print(f"[bold red]Error:[/] {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
