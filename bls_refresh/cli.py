"""``bls-refresh``: the one command people run.

Read-only commands must start fast, so Prefect (and the flow modules) are imported only by
the commands that run a flow. Every command reports a failure the same way (``fail``): one
paragraph on stderr, plain text, never wrapped or read as markup, and no traceback unless
``--debug`` was given.
"""

from __future__ import annotations

import importlib.abc
import json
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from core.errors import AnalystFileError, LockHeldError, PipelineError
from core.paths import DataPaths

app = typer.Typer(
    help="Keep BLS OEWS wages and employment projections fresh, validated and versioned.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: Rich's boxes cut option names at 80 columns when output is not a terminal.
    rich_markup_mode=None,
)
out = Console(soft_wrap=True, highlight=False)
err = Console(stderr=True, soft_wrap=True, highlight=False)

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent  # in a checkout; in an installed wheel, site-packages


def _data_file(name: str) -> Path:
    """A data file or folder that ships with the command: the copy installed inside this
    package (pyproject's wheel force-include), else the checkout's top-level one."""
    installed = PACKAGE_DIR / name
    return installed if installed.exists() else REPO_ROOT / name


SAMPLE_MIRROR = _data_file("sample_mirror")

OwnershipOption = Annotated[
    str | None,
    typer.Option(
        help="OEWS ownership (all, private, state, local, federal, …): industry estimates "
        "by ownership. Default: the only one published, else all."
    ),
]

RefreshOutcomeLike = Any  # flows.refresh.RefreshOutcome, not imported here (it loads Prefect)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir", help="Where raw files, warehouse and releases live.", envvar="BLS_DATA_DIR"
    ),
]
AllowRowCountOption = Annotated[
    bool,
    typer.Option(
        "--allow-row-count-change",
        help="Accept a row count more than 20% away from the previous release.",
    ),
]

_debug = False


@app.callback()
def options(
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="Show Prefect's log on the terminal and the traceback of a failure."
        ),
    ] = False,
) -> None:
    global _debug
    _debug = debug


def _say(stream: Any, text: str) -> None:
    """Text as it is: no markup, no wrapping (a path or a header line stays whole)."""
    stream.write(text if text.endswith("\n") else text + "\n")
    stream.flush()


def fail(message: str, code: int = 1, exc: BaseException | None = None) -> typer.Exit:
    """Print one failure paragraph (with the traceback only under --debug); the caller raises
    the returned Exit."""
    if _debug and exc is not None:
        traceback.print_exception(exc, file=sys.stderr)
    _say(sys.stderr, message)
    return typer.Exit(code)


def _quiet_prefect() -> None:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _precheck_source(source: str | None, hosts: list[str]) -> str | None:
    """Before Prefect starts: the source exists, the real BLS hosts get a contact address, the
    hosts accept a connection. The contact (``BLS_CONTACT_EMAIL``), or a failure paragraph."""
    from extractors.reach import check_reachable
    from extractors.source import Source

    contact = os.environ.get("BLS_CONTACT_EMAIL")
    try:
        src = Source.from_arg(source)
        if src.is_real_bls:
            from extractors.http import require_contact

            require_contact(contact)  # refuse before Prefect even starts
        check_reachable(src, hosts)
    except PipelineError as exc:
        raise fail(f"Refusing to run: {exc}", 1, exc) from None
    except FileNotFoundError as exc:
        raise fail(f"Refusing to run: {exc}", 2, exc) from None
    return contact


def _run_refresh(
    data_dir: Path | None,
    source: str | None,
    allow_row_count_change: bool,
    only: list[str] | None = None,
) -> None:
    """Check what can be checked without Prefect (in a second), then run the flow."""
    from flows.sources import REFRESHED, SOURCES  # the registry (neither Prefect nor pandas)

    paths = DataPaths.resolve(data_dir)
    unknown = [k for k in only or [] if k not in REFRESHED]
    if unknown:
        raise fail(f"Unknown source {unknown[0]!r}; choose from {', '.join(REFRESHED)}.", 2)
    hosts = [SOURCES[k].host for k in only or REFRESHED]
    contact = _precheck_source(source, [h for h in hosts if h])

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


def _latest(paths: DataPaths) -> str | None:
    from warehouse.bundles import latest

    return latest(paths)


def _run_flow(
    paths: DataPaths,
    call: Callable[[], RefreshOutcomeLike],
    what: str = "Refresh",
    flow_module: str = "flows.refresh",
) -> None:
    """Run a flow with its log in the data dir; print the outcome, or one failure paragraph.
    ``flow_module`` (the module ``call`` imports) is imported while Prefect's API starts."""
    from flows import runtime as prefect_runtime

    try:
        log = prefect_runtime.configure_logging(paths, debug=_debug)
    except OSError as exc:  # a file where the folder should be, no permission, …
        raise fail(
            f"{what} failed: the data directory {paths.root} cannot be used: "
            f"{exc.strerror or exc}{f' ({exc.filename})' if exc.filename else ''}.\n"
            "Nothing was published.",
            1,
            exc,
        ) from None
    before = _latest(paths)
    try:
        api = prefect_runtime.use_local_api(paths)
        with prefect_runtime.flow_settings(api, flow_module=flow_module):
            outcome = call()
    except KeyboardInterrupt as exc:  # Ctrl-C: the same paragraph, and the shell's code
        raise fail(_failure_paragraph(paths, exc, before, log, what), 130, exc) from None
    except Exception as exc:  # the message, not a traceback: the log file has the traceback
        raise fail(_failure_paragraph(paths, exc, before, log, what), 1, exc) from None
    for line in getattr(outcome, "recovered", []):
        _say(sys.stdout, f"Recovered: {line}")
    if not outcome.changed:
        _say(sys.stdout, outcome.message)
        if outcome.release_id:
            _say(sys.stdout, f"Latest:        {paths.latest} → {_latest(paths)}")
    else:
        _say(sys.stdout, outcome.message)
        _summary(paths, outcome.release_id, outcome.vintages, outcome.row_counts)
    _drift(getattr(outcome, "schema_drift", {}))
    _findings(getattr(outcome, "findings", {}))


def _findings(findings: dict[str, dict[str, object]]) -> None:
    """What comparing a special-request zip with the flat files of the same year found."""
    if not findings:
        return
    from warehouse.publish import finding_examples, finding_summary

    _say(sys.stdout, "Findings:")
    for file, finding in sorted(findings.items()):
        _say(sys.stdout, f"  {finding_summary(file, finding)}")
        for line in finding_examples(finding):
            _say(sys.stdout, f"    {line}")


def _failure_paragraph(
    paths: DataPaths, exc: BaseException, before: str | None, log: Path, what: str = "Refresh"
) -> str:
    if isinstance(exc, KeyboardInterrupt):
        cause = "interrupted (Ctrl-C); a download or staging in progress was abandoned"
    elif isinstance(exc, PipelineError):
        cause = str(exc)
    else:
        cause = f"{type(exc).__name__}: {exc}"
    lines = [f"{what} failed: {cause}"]
    after = _latest(paths)
    if isinstance(exc, AnalystFileError):
        pass  # its message says what was published and what still shows the old release
    elif isinstance(exc, LockHeldError):
        # This run did nothing; whoever holds the lock may have published meanwhile.
        lines.append(f"Nothing was published by this run; latest is {after or 'not set'}.")
    elif after != before:
        # Published, then failed in a later step (e.g. the analyst file): say what is true.
        lines.append(f"Release {after} was published and latest → {after} before the failure.")
    elif after:
        lines.append(f"Nothing was published; latest is still {after}.")
    else:
        lines.append("Nothing was published.")
    hint = f"Full log: {log}" + ("" if _debug else " (or run again with --debug)")
    lines.append(hint)
    return "\n".join(lines)


def _drift(drift: dict[str, list[str]]) -> None:
    """Name the new columns BLS added: the run went on without them."""
    if not drift:
        return
    from transforms.columns import drift_note

    _say(sys.stdout, "Schema drift (loaded without these columns):")
    for file, columns in sorted(drift.items()):
        _say(sys.stdout, f"  {drift_note(file, columns)}")


SPECIAL_KIND = "oews_special_"  # oews_special_2023_national: one per year and coverage


def _vintage_lines(vintages: dict[str, str]) -> list[str]:
    """One line per source kind; the special-request files of many years (a backfill) as one
    line per coverage listing the May years, not one line per file."""
    lines = []
    years: dict[str, list[str]] = {}
    for kind, vintage in sorted(vintages.items()):
        if kind.startswith(SPECIAL_KIND):
            coverage = kind[len(SPECIAL_KIND) :].split("_", 1)[-1]
            years.setdefault(coverage.replace("_", " "), []).append(vintage.removeprefix("May "))
        else:
            lines.append(f"{kind.upper()} vintage: {vintage}")
    for coverage, listed in sorted(years.items()):
        lines.append(f"OEWS special requests ({coverage}): May {', '.join(sorted(listed))}")
    return lines


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
    lines = _vintage_lines(vintages)
    lines += [
        f"Bundle:        {paths.published / release_id}",
        f"Latest:        {paths.latest}",
        f"Analyst file:  {paths.analyst_db}  (open it with DuckDB: FROM oews_estimates)",
        f"Figures:       {paths.published / release_id / 'figures.json'}  "
        "(or: bls-refresh figure 29-2072 annual_median)",
    ]
    _say(sys.stdout, "\n".join(lines))


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="Files downloaded by hand from BLS.")],
    data_dir: DataDirOption = None,
    allow_row_count_change: AllowRowCountOption = False,
) -> None:
    """Load files downloaded by hand from BLS.

    An EP occupation.xlsx (any cycle from 2010-20 on), OEWS flat files, or OEWS
    special-request zips and workbooks. Kind and vintage are read from the content, not the
    file name."""
    paths = DataPaths.resolve(data_dir)
    for file in files:  # before Prefect starts: a typo costs a second, not twenty
        if not file.expanduser().exists():
            raise fail(f"No such file: {file}", 2)
        if not file.expanduser().is_file():
            raise fail(f"Not a file: {file}", 2)

    def call() -> RefreshOutcomeLike:
        from flows.ingest import ingest as ingest_flow

        return ingest_flow(
            files=[str(f.expanduser().absolute()) for f in files],
            data_dir=str(paths.root),
            allow_row_count_change=allow_row_count_change,
        )

    _run_flow(paths, call, flow_module="flows.ingest")


@app.command()
def backfill(
    oews_years: Annotated[
        str,
        typer.Option(
            "--oews-years",
            help="May years: a range (2012-2025), one year (2019), or open-ended (2012-: "
            "through the newest year BLS has published; a year not published yet is skipped).",
        ),
    ] = "2012-",
    files: Annotated[
        list[str] | None,
        typer.Option(
            "--files",
            help="Which zips of each year, comma-separated or repeated: nat (national, 0.1-0.3 "
            "MB a year; the default), st (states, several MB a year: 3.8 MB for May 2012), ma "
            "(metropolitan and nonmetropolitan areas, larger than st), in4 (national by "
            "industry and ownership, the largest).",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="A mirror folder or http(s) URL with the BLS hosts as first-level folders "
            "(www.bls.gov/oes/special-requests/oesm15nat.zip). Default: the real BLS site."
        ),
    ] = None,
    data_dir: DataDirOption = None,
    allow_row_count_change: AllowRowCountOption = False,
) -> None:
    """Load earlier OEWS May years from BLS's zips.

    Earlier May years of OEWS estimates come from BLS's special-request zips. Fetches
    www.bls.gov/oes/special-requests/oesm{YY}{part}.zip for each year and part, with a
    progress line per file, and loads what is new as one release. Resumable: a zip
    already in the raw store costs one conditional request and no download, so a killed
    backfill picks up where it stopped, and a repeat makes no release. The newest year is
    also in the time-series flat files: those win, and the zip is compared with them
    (disagreements are findings in the release notes).

    The real BLS site needs a contact address in the User-Agent: set BLS_CONTACT_EMAIL."""
    from datetime import UTC, datetime

    from core.errors import ConfigError
    from extractors import oews_special

    paths = DataPaths.resolve(data_dir)
    try:
        oews_special.parse_years(oews_years, datetime.now(UTC).year)
        parts = list(oews_special.parse_parts(files or list(oews_special.DEFAULT_PARTS)))
    except ConfigError as exc:
        raise fail(str(exc), 2, exc) from None
    contact = _precheck_source(source, [oews_special.HOST])

    def call() -> RefreshOutcomeLike:
        from flows.backfill import backfill as backfill_flow

        return backfill_flow(
            years=oews_years,
            parts=parts,
            data_dir=str(paths.root),
            source=source,
            contact=contact,
            allow_row_count_change=allow_row_count_change,
        )

    _run_flow(paths, call, "Backfill", flow_module="flows.backfill")


@app.command()
def demo(
    data_dir: DataDirOption = None, allow_row_count_change: AllowRowCountOption = False
) -> None:
    """Full refresh from the bundled sample mirror (offline).

    Writes into ./data (or --data-dir), like `run --source sample_mirror`."""
    if not SAMPLE_MIRROR.is_dir():
        raise fail(
            f"The sample mirror is missing at {SAMPLE_MIRROR}; reinstall bls-refresh, or "
            "refresh from another mirror folder: bls-refresh run --source DIR",
            2,
        )
    _run_refresh(data_dir, str(SAMPLE_MIRROR), allow_row_count_change)


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
    allow_row_count_change: AllowRowCountOption = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Refresh only this source (repeatable): oews, projections, soc. Useful when "
            "www.bls.gov refuses scripted downloads: refresh OEWS, ingest the workbook by hand."
        ),
    ] = None,
) -> None:
    """Refresh from BLS, or from a mirror (--source).

    The real BLS hosts need a contact address in the User-Agent: set BLS_CONTACT_EMAIL."""
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
    """A usage or lookup error (exit 2 unless told otherwise), reported like every failure."""
    return fail(message, code)


@app.command()
def figure(
    soc: Annotated[str, typer.Argument(help="SOC code as BLS displays it, e.g. 29-2072.")],
    measure: Annotated[str, typer.Argument(help="e.g. annual_median, employment_change_pct.")],
    area: Annotated[
        str,
        typer.Option(
            help="Area code (0600000), state (CA, 'New York'), metro name, or 'national'."
        ),
    ] = "national",
    industry: Annotated[str, typer.Option(help="OEWS industry code; 000000 = all.")] = "000000",
    ownership: OwnershipOption = None,
    year: Annotated[
        int | None, typer.Option(help="OEWS May reference year (default latest).")
    ] = None,
    cycle: Annotated[str | None, typer.Option(help="Projections cycle, e.g. 2024-34.")] = None,
    release: Annotated[str | None, typer.Option(help="Release id (default latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """One figure as a writer prints it, with reference and source."""
    _read_only()
    from figures.figure import FigureError, Selection, get_figure

    paths = DataPaths.resolve(data_dir)
    selection = Selection(soc, measure, area, industry, year, cycle, ownership)
    try:
        result = get_figure(paths, selection, release)
    except FigureError as exc:
        raise _fail(exc.line(), exc.code) from None
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(result.sentence + "\n")


@app.command()
def series(
    soc: Annotated[str, typer.Argument(help="SOC 2018 code as BLS displays it, e.g. 29-2072.")],
    measure: Annotated[str, typer.Argument(help="An OEWS measure, e.g. annual_median.")],
    area: Annotated[
        str,
        typer.Option(help="Area code, state (CA, 'New York'), metro name, or 'national'."),
    ] = "national",
    industry: Annotated[str, typer.Option(help="OEWS industry code; 000000 = all.")] = "000000",
    ownership: OwnershipOption = None,
    from_year: Annotated[
        int | None, typer.Option("--from", help="First May year shown (default: all loaded).")
    ] = None,
    release: Annotated[str | None, typer.Option(help="Release id (default latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV, one row per year.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """One OEWS measure, May year by May year.

    An occupation's measure across SOC changes: SOC 2010 years join through the SOC
    crosswalk; splits, merges and the 2019-2020 hybrid codes are marked as breaks, never
    summed or spliced. Load earlier years with `bls-refresh backfill`. BLS cautions that
    OEWS estimates are not designed for comparisons over time: every output carries that
    caveat."""
    _read_only()
    from figures.errors import FigureError
    from figures.series import get_series

    if as_json and as_csv:
        raise _fail("Choose one of --json and --csv.")
    paths = DataPaths.resolve(data_dir)
    try:
        result = get_series(
            paths,
            soc,
            measure,
            area=area,
            industry=industry,
            from_year=from_year,
            release=release,
            ownership=ownership,
        )
    except FigureError as exc:
        raise _fail(exc.line(), exc.code) from None
    if as_json:
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    elif as_csv:
        sys.stdout.write(result.csv())
    else:
        sys.stdout.write("\n".join(result.lines()) + "\n")


@app.command()
def audit(
    article: Annotated[Path, typer.Argument(help="The article: Markdown, HTML or plain text.")],
    release: Annotated[str | None, typer.Option(help="Release id (default latest).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html_out: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the article with each claim highlighted here."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Check the BLS figures an article quotes.

    Each claim is current, stale, mislabeled, wrong or unverified, with the rows it rests on.
    Reads the article, never changes it. Exit code 0 when every claim is current, 1 when any
    is not, 2 when the article cannot be read."""
    _read_only()
    from figures.audit import audit as run_audit
    from figures.audit import report_html, report_json, report_text
    from figures.errors import FigureError
    from figures.release import ReleaseReader, resolve_release

    try:
        raw = article.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
        raise _fail(f"Cannot read the article {article}: {reason}.", 2) from None
    paths = DataPaths.resolve(data_dir)
    try:
        release_id, bundle = resolve_release(paths, release)
        with ReleaseReader(release_id, bundle) as reader:
            result = run_audit(reader, raw, article.name)
    except FigureError as exc:
        raise _fail(exc.line(), 2) from None
    if html_out is not None:
        try:
            html_out.parent.mkdir(parents=True, exist_ok=True)
            html_out.write_text(report_html(result, article.name), encoding="utf-8")
        except OSError as exc:  # exit 2, not 1: 1 means "a claim is not current"
            raise _fail(f"Cannot write {html_out}: {exc.strerror or exc}", 2) from None
    render = report_json if as_json else report_text
    sys.stdout.write(render(result, article.name))
    raise typer.Exit(0 if result.clean else 1)


@app.command()
def figures(
    release: Annotated[str | None, typer.Option(help="Release id (default latest).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write here, not stdout.")] = None,
    spec: Annotated[
        Path | None,
        typer.Option(
            help="Figure definitions (default: BLS_FIGURES_SPEC, else the bundled figures.yaml)."
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Render the content team's figures (figures.yaml) to JSON."""
    _read_only()
    from figures.errors import FigureError
    from figures.figure import default_spec
    from figures.release import ReleaseReader, resolve_release
    from figures.spec import load_spec, render

    paths = DataPaths.resolve(data_dir)
    try:
        release_id, bundle = resolve_release(paths, release)
        with ReleaseReader(release_id, bundle) as reader:
            rendered = render(reader, load_spec(spec or default_spec()))
    except FigureError as exc:
        raise _fail(exc.line(), exc.code) from None
    text = json.dumps(rendered, indent=2, ensure_ascii=False) + "\n"
    if out_file:
        try:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            partial = out_file.with_name(f".{out_file.name}.tmp")
            partial.write_text(text, encoding="utf-8")
            os.replace(partial, out_file)  # a reader never sees half a file
        except OSError as exc:
            raise _fail(f"Cannot write {out_file}: {exc.strerror or exc}", 1) from None
        _say(sys.stdout, f"Wrote {len(rendered)} figures of release {release_id} to {out_file}")
    else:
        sys.stdout.write(text)


@app.command()
def releases(data_dir: DataDirOption = None) -> None:
    """List published releases: id, created, vintages, row counts."""
    paths = DataPaths.resolve(data_dir)
    from warehouse import bundles

    ids = bundles.published(paths)
    if not ids:
        raise _fail(f"No published release in {paths.published}.")
    latest = bundles.latest(paths)
    # Tab-separated, one release a line: readable, and easy for scripts to cut.
    lines = ["release\tcreated\tvintages\trows"]
    for rid in ids:
        package = bundles.package(bundles.bundle_path(paths, rid))
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
    """What changed between two releases.

    Rows per table, changed values, and the figures of figures.yaml."""
    _read_only()
    from figures.errors import FigureError
    from figures.release import resolve_release
    from warehouse.bundles import published, release_order
    from warehouse.diff import diff_bundles, diff_markdown

    paths = DataPaths.resolve(data_dir)
    try:
        new_id, new_bundle = resolve_release(paths, new)
        ids = published(paths)
        if old is None:
            earlier = [r for r in ids if release_order(r) < release_order(new_id)]
            if not earlier:
                raise _fail(f"Release {new_id} is the first release: nothing to compare with.")
            old = earlier[-1]
        old_id, old_bundle = resolve_release(paths, old)
    except FigureError as exc:
        raise _fail(exc.line(), exc.code) from None
    if old_id == new_id:
        raise _fail(f"Both releases are {old_id}: nothing to compare.")
    if release_order(old_id) > release_order(new_id):
        raise _fail(
            f"{old_id} is newer than {new_id}; diff takes the older release first: "
            f"bls-refresh diff {new_id} {old_id}"
        )
    result = diff_bundles(old_bundle, new_bundle)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, default=str) + "\n")
        return
    sys.stdout.write(
        f"Changes from {old_id} to {new_id}\n\n" + "\n".join(diff_markdown(result)) + "\n"
    )


@app.command()
def verify(
    data_dir: DataDirOption = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair",
            help="First repair what every run repairs before fetching (under the refresh "
            "lock; nothing is fetched or deleted that holds a release): publish committed "
            "releases, move latest forward, recreate a half-created catalog, rebuild "
            "bls.duckdb for this data dir (e.g. after moving or copying it).",
        ),
    ] = False,
) -> None:
    """Check every file of the data dir against its manifest.

    Re-hashes every raw file and published bundle, and checks that the catalog, latest and
    bls.duckdb fit this data dir; exit 1 on any problem."""
    from warehouse.verify import verify as run_verify

    paths = DataPaths.resolve(data_dir)
    if repair and paths.root.is_dir():
        from core.lock import refresh_lock
        from figures.spec import bundle_writer
        from warehouse.publish import recover

        try:
            with refresh_lock(paths):
                done = recover(paths, extras=[bundle_writer()])
        except Exception as exc:  # one paragraph, not a traceback
            cause = str(exc) if isinstance(exc, PipelineError) else f"{type(exc).__name__}: {exc}"
            err.print(f"Repair failed: {cause}", highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(1) from None
        for line in done.lines() or ["Repair: nothing needed repair."]:
            out.print(line, highlight=False, markup=False, soft_wrap=True)
    problems, summary = run_verify(paths)
    for line in summary:
        out.print(line, highlight=False, markup=False, soft_wrap=True)
    for problem in problems:
        label = getattr(problem, "label", "MISMATCH")
        err.print(f"{label} {problem}", highlight=False, markup=False, soft_wrap=True)
    if problems:
        raise typer.Exit(1)
    out.print("All files match their manifests.")


@app.command()
def rollback(
    release: Annotated[str | None, typer.Argument(help="An earlier, published release id.")] = None,
    undo: Annotated[
        bool,
        typer.Option("--undo", help="Point latest at the newest release again (undo a rollback)."),
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Point latest back at an earlier release (nothing is deleted)."""
    from core.lock import refresh_lock
    from warehouse import bundles, publish

    if (release is None) == (not undo):
        raise _fail("Give either a release id to roll back to, or --undo.")
    paths = DataPaths.resolve(data_dir)
    if not paths.published.is_dir():  # and a mistyped --data-dir is not created
        raise _fail(f"No published release in {paths.published}.")
    try:
        with refresh_lock(paths):
            ids = bundles.published(paths)
            if not ids:
                raise _fail(f"No published release in {paths.published}.")
            current = _latest(paths)
            if undo:
                (paths.published / publish.ROLLBACK_PIN).unlink(missing_ok=True)
                bundles.switch_latest(paths, ids[-1])
                publish.write_analyst_db(paths)
                _say(sys.stdout, f"latest → {ids[-1]} (the newest release).")
                return
            assert release is not None
            if release not in ids:
                raise _fail(f"release {release} has no complete bundle in {paths.published}")
            if current is not None and (
                bundles.release_order(release) >= bundles.release_order(current)
            ):
                raise _fail(
                    f"{release} is not earlier than latest ({current}): rollback only moves "
                    "latest back. To return to the newest release: bls-refresh rollback --undo"
                )
            publish.rollback(paths, release)
    except PipelineError as exc:
        raise fail(str(exc), 1, exc) from None
    except OSError as exc:
        raise fail(
            f"Rollback failed: {exc.strerror or exc} ({exc.filename or paths.root})", 1, exc
        ) from None
    _say(sys.stdout, f"latest → {release}; the next new release moves it forward again.")


@app.command()
def serve(
    spec: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            metavar="PATH",
            help="Deployment spec to serve (default: the prefect.yaml of this checkout, or "
            "the copy installed with bls-refresh).",
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Mirror folder or URL for every deployment, instead of the spec's 'source' "
            "parameter (default: the real BLS hosts)."
        ),
    ] = None,
    data_dir: DataDirOption = None,
    interval: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="Run every SECONDS instead of the spec's schedules; the first run comes one "
            "interval after the start.",
        ),
    ] = None,
    deployment: Annotated[
        list[str] | None,
        typer.Option(
            "--deployment",
            metavar="NAME",
            help="Serve only this deployment of the spec (repeat for several).",
        ),
    ] = None,
) -> None:
    """Run the scheduled refreshes of prefect.yaml until stopped.

    Each deployment runs the refresh flow on the cron schedule and in the timezone the spec
    gives it (oews-weekly: Mondays 06:30 America/New_York), one run at a time. A schedule that
    is malformed refuses the start with one line. Schedules need a Prefect server: serve uses
    the one of PREFECT_API_URL, or starts `prefect server start` on a free local port for as
    long as it serves. Stop it with Ctrl-C or SIGTERM: a run in progress is cancelled and
    publishes nothing, the schedules are paused, and serve's own server stops with it.
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Unlike `run`, serve is watched from its console: keep Prefect's INFO lines (each run
    # starting and finishing) unless the user chose another level.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    from core.errors import ConfigError
    from flows import deployments

    overrides: dict[str, str] = {}
    if source is not None:
        overrides["source"] = source
    if data_dir is not None:
        overrides["data_dir"] = str(data_dir)
    try:
        served = deployments.served_deployments(
            spec or _data_file("prefect.yaml"),
            overrides=overrides,
            interval=interval,
            only=deployment or (),
        )
        runnable = deployments.runner_deployments(served)
    except deployments.SpecError as exc:
        raise fail(f"Refusing to serve: {exc}", 2, exc) from None
    from extractors.http import require_contact

    for d in served:
        if d.parameters.get("source"):
            continue
        try:  # BLS would refuse every scheduled run: say so now, not on Monday
            require_contact(d.parameters.get("contact") or os.environ.get("BLS_CONTACT_EMAIL"))
        except PipelineError as exc:
            raise fail(f"Refusing to run: {exc}", 1, exc) from None

    def say(line: str) -> None:
        _say(sys.stdout, line)

    for d in served:
        source_of = d.parameters.get("source") or "BLS"
        data_of = d.parameters["data_dir"]
        say(f"{d.name}: {d.describe_schedules()}; data dir {data_of}; source {source_of}")
    try:
        with deployments.prefect_api(deployments.server_log_path(), say):
            deployments.serve_deployments(runnable)
    except ConfigError as exc:
        raise fail(f"Cannot serve: {exc}", 1, exc) from None
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before Prefect's runner took over
        pass
    say("serve stopped.")


def main() -> None:
    try:
        app()
    except PipelineError as exc:  # pragma: no cover - commands handle their own
        _say(sys.stderr, f"Error: {exc}")
        sys.exit(1)


if __name__ == "__main__":
    main()
