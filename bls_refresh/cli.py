"""``bls-refresh``: the one command people run.

Read-only commands must start fast, so Prefect (and the flow modules) are imported only by
the commands that run a flow.
"""

from __future__ import annotations

import importlib.abc
import json
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


SOURCE_KINDS = ("oews", "projections", "soc")


def _run_refresh(
    data_dir: Path | None,
    source: str | None,
    allow_row_count_change: bool,
    only: list[str] | None = None,
) -> None:
    paths = DataPaths.resolve(data_dir)
    unknown = [k for k in only or [] if k not in SOURCE_KINDS]
    if unknown:
        raise _fail(f"Unknown source {unknown[0]!r}; choose from {', '.join(SOURCE_KINDS)}.")
    contact = os.environ.get("BLS_CONTACT_EMAIL")
    if source is None:
        from extractors.http import require_contact

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
            kinds=only or None,
        )

    _run_flow(paths, call)


def _run_flow(paths: DataPaths, call: Callable[[], RefreshOutcomeLike]) -> None:
    _quiet_prefect()
    try:
        outcome = call()
    except Exception as exc:  # the message, not a traceback: Prefect's log has the traceback
        cause = str(exc) if isinstance(exc, PipelineError) else f"{type(exc).__name__}: {exc}"
        err.print(f"[bold red]Refresh failed:[/] {cause}", highlight=False)
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
    _drift(getattr(outcome, "schema_drift", {}))


def _drift(drift: dict[str, list[str]]) -> None:
    """Name the new columns BLS added: the run went on without them."""
    if not drift:
        return
    from transforms.columns import drift_note

    out.print("[bold yellow]Schema drift[/] (loaded without these columns):", highlight=False)
    for file, columns in sorted(drift.items()):
        out.print(f"  {drift_note(file, columns)}", highlight=False, markup=False, soft_wrap=True)


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
        soft_wrap=True,
    )
    out.print(
        f"Figures:       {paths.published / release_id / 'figures.json'}  "
        "(or: bls-refresh figure 29-2072 annual_median)",
        highlight=False,
        soft_wrap=True,
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
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Refresh only this source (repeatable): oews, projections, soc. Useful when "
            "www.bls.gov refuses scripted downloads: refresh OEWS, ingest the workbook by hand."
        ),
    ] = None,
) -> None:
    """Refresh from BLS (needs BLS_CONTACT_EMAIL) or from a mirror (--source)."""
    _run_refresh(data_dir, source, allow_row_count_change, only)


class _NoPandas(importlib.abc.MetaPathFinder):
    """DuckDB's Python binding imports pandas (about 0.9 s) the first time a query takes
    parameters, only to check whether a parameter is a DataFrame. Read-only commands never
    pass one, so they refuse that import and answer in a fraction of a second."""

    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("pandas is not used by read-only commands")


def _read_only() -> None:
    if "pandas" not in sys.modules and not any(isinstance(f, _NoPandas) for f in sys.meta_path):
        sys.meta_path.insert(0, _NoPandas())


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(message, highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(code)


@app.command()
def figure(
    soc: Annotated[str, typer.Argument(help="SOC code as BLS displays it, e.g. 29-2072.")],
    measure: Annotated[str, typer.Argument(help="e.g. annual_median, employment_change_pct.")],
    area: Annotated[str, typer.Option(help="Area code (e.g. 0600000) or 'national'.")] = "national",
    industry: Annotated[str, typer.Option(help="OEWS industry code; 000000 = all.")] = "000000",
    year: Annotated[
        int | None, typer.Option(help="OEWS May reference year (default latest).")
    ] = None,
    cycle: Annotated[str | None, typer.Option(help="Projections cycle, e.g. 2024-34.")] = None,
    release: Annotated[str | None, typer.Option(help="Release id (default latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """One published figure with its reference period and source, as a writer prints it."""
    _read_only()
    from bls_refresh.figures import FigureError, Selection, get_figure

    paths = DataPaths.resolve(data_dir)
    selection = Selection(soc, measure, area, industry, year, cycle)
    try:
        result = get_figure(paths, selection, release)
    except FigureError as exc:
        raise _fail(exc.line(), exc.code) from None
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result["sentence"] + "\n")


@app.command()
def figures(
    release: Annotated[str | None, typer.Option(help="Release id (default latest).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
    spec: Annotated[
        Path | None, typer.Option(help="Figure definitions (default figures.yaml).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Render the content team's figure definitions (figures.yaml) to JSON."""
    _read_only()
    from bls_refresh.figures import FigureError, ReleaseReader, load_spec, render, resolve_release

    paths = DataPaths.resolve(data_dir)
    try:
        release_id, bundle = resolve_release(paths, release)
        with ReleaseReader(release_id, bundle) as reader:
            rendered = render(reader, load_spec(spec or REPO_ROOT / "figures.yaml"))
    except FigureError as exc:
        raise _fail(exc.line(), exc.code) from None
    text = json.dumps(rendered, indent=2, ensure_ascii=False) + "\n"
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        out.print(f"Wrote {len(rendered)} figures of release {release_id} to {out_file}")
    else:
        sys.stdout.write(text)


@app.command()
def releases(data_dir: DataDirOption = None) -> None:
    """List published releases: id, created, vintages, row counts."""
    paths = DataPaths.resolve(data_dir)
    from bls_refresh.figures import published_ids

    ids = published_ids(paths)
    if not ids:
        raise _fail(f"No published release in {paths.published}.")
    latest = os.readlink(paths.latest) if paths.latest.is_symlink() else None
    # Tab-separated, one release a line: readable, and easy for scripts to cut.
    lines = ["release\tcreated\tvintages\trows"]
    for rid in ids:
        package = json.loads((paths.published / rid / "datapackage.json").read_text())
        vintages = ", ".join(f"{k}={v}" for k, v in sorted(package.get("vintages", {}).items()))
        rows = ", ".join(
            f"{r['name']} {r['rows']:,}"
            for r in package["resources"]
            if "rows" in r and r["name"] not in ("releases", "raw_files")
        )
        marker = " (latest)" if rid == latest else ""
        lines.append(f"{rid}{marker}\t{package['created']}\t{vintages}\t{rows}")
    sys.stdout.write("\n".join(lines) + "\n")


@app.command()
def diff(
    old: Annotated[
        str | None, typer.Argument(help="Older release (default: the one before new).")
    ] = None,
    new: Annotated[str | None, typer.Argument(help="Newer release (default: latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """What changed between two releases: rows per table and the figures of figures.yaml."""
    _read_only()
    from bls_refresh.figures import FigureError, published_ids, release_order, resolve_release
    from warehouse.diff import diff_bundles, diff_markdown

    paths = DataPaths.resolve(data_dir)
    try:
        new_id, new_bundle = resolve_release(paths, new)
        ids = published_ids(paths)
        if old is None:
            earlier = [r for r in ids if release_order(r) < release_order(new_id)]
            if not earlier:
                raise _fail(f"Release {new_id} is the first release: nothing to compare with.")
            old = earlier[-1]
        old_id, old_bundle = resolve_release(paths, old)
    except FigureError as exc:
        raise _fail(exc.line(), exc.code) from None
    result = diff_bundles(old_bundle, new_bundle)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
        return
    sys.stdout.write(
        f"Changes from {old_id} to {new_id}\n\n" + "\n".join(diff_markdown(result)) + "\n"
    )


@app.command()
def verify(data_dir: DataDirOption = None) -> None:
    """Re-hash every raw file and published bundle against its manifest; exit 1 on a mismatch."""
    from warehouse.verify import verify as run_verify

    problems, summary = run_verify(DataPaths.resolve(data_dir))
    for line in summary:
        out.print(line, highlight=False)
    for problem in problems:
        err.print(f"MISMATCH {problem}", highlight=False, markup=False)
    if problems:
        raise typer.Exit(1)
    out.print("All files match their manifests.")


@app.command()
def rollback(
    release: Annotated[str, typer.Argument(help="An earlier, published release id.")],
    data_dir: DataDirOption = None,
) -> None:
    """Point latest back at an earlier release (a pointer move; nothing is deleted)."""
    from bls_refresh.lock import refresh_lock
    from warehouse.publish import rollback as run_rollback

    paths = DataPaths.resolve(data_dir)
    try:
        with refresh_lock(paths):
            run_rollback(paths, release)
    except KeyError as exc:
        raise _fail(str(exc).strip("'")) from None
    except PipelineError as exc:
        raise _fail(str(exc), 1) from None
    out.print(f"latest → {release}; the next new release moves it forward again.")


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
