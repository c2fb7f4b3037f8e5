"""Serve the deployments declared in ``prefect.yaml`` from this process (``bls-refresh serve``).

``prefect.yaml`` is the single source of the schedules: ``prefect deploy --all`` reads it to
register the deployments with a Prefect server and a work pool, and ``serve`` reads it here to
run the same deployments from one process, with no work pool and no worker.

Schedules need a Prefect server whose scheduler service runs: Prefect's ephemeral API (what
``bls-refresh run`` uses) does not run that service, so a deployment served on it is never
scheduled. ``serve`` therefore uses the server named by ``PREFECT_API_URL`` when one is
configured, and otherwise starts ``prefect server start`` on a free local port for as long as it
serves (``local_prefect_server``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import inspect
import math
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from prefect import Flow, serve
from prefect.client.schemas.schedules import is_valid_timezone
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron, Interval, RRule, Schedule

from core.errors import ConfigError
from core.paths import DataPaths
from flows.backfill import backfill
from flows.refresh import refresh
from flows.runtime import api_answers, die_with_parent, free_port

FLOWS: dict[str, Flow[..., Any]] = {
    "flows/refresh.py:refresh": refresh,
    "flows/backfill.py:backfill": backfill,
}
# The keys a schedule of prefect.yaml may have here; exactly one of the first three.
SCHEDULE_KINDS = ("cron", "interval", "rrule")
SCHEDULE_OPTIONS = ("timezone", "active", "day_or")
# One refresh at a time: every deployment writes a data dir guarded by one refresh lock, so a
# second concurrent run could only fail on that lock.
RUN_LIMIT = 1
PREFECT_SERVER = (sys.executable, "-m", "prefect", "server", "start")
SERVER_START_TIMEOUT = 120.0
SERVER_STOP_TIMEOUT = 20.0


class SpecError(ConfigError, ValueError):
    """``prefect.yaml`` cannot be served as written; the message is one line.

    A ``ValueError`` too, as the spec errors of this module have always been.
    """


@dataclasses.dataclass(frozen=True)
class ServedDeployment:
    """One deployment of the spec, checked, with the overrides of the command line applied."""

    name: str
    entrypoint: str
    description: str | None
    parameters: dict[str, Any]
    schedules: tuple[Schedule, ...]

    @property
    def flow(self) -> Flow[..., Any]:
        return FLOWS[self.entrypoint]

    def describe_schedules(self) -> str:
        return "; ".join(describe_schedule(s) for s in self.schedules)


def describe_schedule(schedule: Schedule) -> str:
    """E.g. ``cron '30 6 * * 1' (America/New_York), next Mon 2026-12-07 06:30 EST``."""
    if schedule.cron is not None:
        what = f"cron '{schedule.cron}'"
    elif schedule.interval is not None:
        what = f"every {schedule.interval.total_seconds():g} s"
    else:
        what = f"rrule '{schedule.rrule}'"
    what += f" ({schedule.timezone or 'UTC'})"
    if not schedule.active:
        return what + ", inactive"
    upcoming = next_run(schedule)
    return what + (f", next {upcoming:%a %Y-%m-%d %H:%M %Z}" if upcoming else "")


def next_run(schedule: Schedule) -> datetime.datetime | None:
    """When the Prefect scheduler will next run ``schedule``, in the schedule's timezone.

    Computed by Prefect's own server-side schedule models, so that the time printed at start
    is the one the scheduler uses (the check that the timezone was honoured).
    """
    from prefect.server.schemas import schedules as server

    model: server.CronSchedule | server.IntervalSchedule | server.RRuleSchedule
    if schedule.cron is not None:
        model = server.CronSchedule(
            cron=schedule.cron, timezone=schedule.timezone, day_or=schedule.day_or
        )
    elif schedule.interval is not None:
        model = server.IntervalSchedule(
            interval=schedule.interval,
            anchor_date=schedule.anchor_date,
            timezone=schedule.timezone,
        )
    else:
        model = server.RRuleSchedule(rrule=str(schedule.rrule), timezone=schedule.timezone)
    dates = asyncio.run(model.get_dates(n=1))
    return dates[0] if dates else None


def load_deployments(spec: Path) -> list[dict[str, Any]]:
    """The deployments of ``spec`` as written, each with an entrypoint this package provides."""
    try:
        document = yaml.safe_load(spec.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpecError(f"{spec}: cannot read the deployment spec ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise SpecError(f"{spec}: not valid YAML: {problem}{line}") from None
    raw = document.get("deployments") if isinstance(document, dict) else None
    if not isinstance(raw, list) or not raw:
        raise SpecError(f"{spec}: no 'deployments' list")
    for index, deployment in enumerate(raw):
        if not isinstance(deployment, dict) or not deployment.get("name"):
            raise SpecError(f"{spec}: deployment {index + 1} has no name")
        entrypoint = deployment.get("entrypoint")
        if not isinstance(entrypoint, str) or entrypoint not in FLOWS:
            raise SpecError(
                f"{spec}: deployment {deployment['name']!r}: unknown entrypoint {entrypoint!r}; "
                f"known: {sorted(FLOWS)}"
            )
    names = [str(d["name"]) for d in raw]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise SpecError(f"{spec}: deployment {duplicated[0]!r} is declared twice")
    return raw


def served_deployments(
    spec: Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    interval: float | None = None,
    only: Sequence[str] = (),
) -> list[ServedDeployment]:
    """The deployments of ``spec``, checked; ``SpecError`` names the first thing wrong.

    ``overrides`` replace parameters of every deployment (``--source``, ``--data-dir``);
    ``interval`` (seconds) replaces every deployment's schedules by one interval schedule;
    ``only`` (``--deployment``) keeps the deployments of those names.
    A relative ``data_dir`` or mirror folder ``source`` is made absolute against the current
    directory, as every other command reads ``--data-dir`` and ``--source``, so the served runs
    use what the user meant whatever directory Prefect starts them in.
    """
    if interval is not None and not (0 < interval < math.inf):
        raise SpecError(f"--interval must be a positive number of seconds, not {interval:g}")
    raw = load_deployments(spec)
    if only:
        names = [str(d["name"]) for d in raw]
        unknown = [n for n in only if n not in names]
        if unknown:
            raise SpecError(
                f"{spec}: no deployment named {unknown[0]!r}; it has {', '.join(names)}"
            )
        raw = [d for d in raw if str(d["name"]) in only]
    return [_deployment(spec, d, dict(overrides or {}), interval) for d in raw]


def _deployment(
    spec: Path, raw: dict[str, Any], overrides: dict[str, Any], interval: float | None
) -> ServedDeployment:
    name = str(raw["name"])
    where = f"{spec}: deployment {name!r}"
    entrypoint: str = raw["entrypoint"]
    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise SpecError(f"{where}: 'parameters' must be a mapping, not {parameters!r}")
    parameters = {**parameters, **overrides}
    accepted = list(inspect.signature(FLOWS[entrypoint].fn).parameters)
    unknown = [p for p in parameters if p not in accepted]
    if unknown:
        raise SpecError(
            f"{where}: unknown parameter {unknown[0]!r}; {entrypoint} takes {', '.join(accepted)}"
        )
    data_dir = parameters.get("data_dir")
    if data_dir is None or isinstance(data_dir, str):
        # None: the default of every other command (BLS_DATA_DIR, else ./data).
        parameters["data_dir"] = str(DataPaths.resolve(data_dir).root)
    source = parameters.get("source")
    if isinstance(source, str) and source and not source.startswith(("http://", "https://")):
        # A mirror folder: checked now rather than at the first scheduled run.
        folder = Path(source).expanduser().resolve()
        if not folder.is_dir():
            raise SpecError(f"{where}: source {source!r} is neither a folder nor an http(s) URL")
        parameters["source"] = str(folder)
    if interval is not None:
        schedules: tuple[Schedule, ...] = (Interval(datetime.timedelta(seconds=interval)),)
    else:
        listed = raw.get("schedules")
        if not isinstance(listed, list) or not listed:
            raise SpecError(
                f"{where}: no 'schedules' list; serve runs deployments on their schedules "
                "(or pass --interval)"
            )
        schedules = tuple(_schedule(f"{where}: schedule {i + 1}", s) for i, s in enumerate(listed))
    description = raw.get("description")
    return ServedDeployment(
        name=name,
        entrypoint=entrypoint,
        description=" ".join(description.split()) if isinstance(description, str) else None,
        parameters=parameters,
        schedules=schedules,
    )


def _schedule(where: str, raw: object) -> Schedule:
    """One entry of a deployment's ``schedules``, as ``prefect deploy`` reads it."""
    if not isinstance(raw, dict):
        raise SpecError(f"{where}: expected a mapping such as {{cron: '30 6 * * 1'}}, got {raw!r}")
    unknown = [k for k in raw if k not in SCHEDULE_KINDS + SCHEDULE_OPTIONS]
    if unknown:
        allowed = ", ".join(SCHEDULE_KINDS + SCHEDULE_OPTIONS)
        raise SpecError(f"{where}: unknown key {unknown[0]!r}; allowed: {allowed}")
    kinds = [k for k in SCHEDULE_KINDS if raw.get(k) is not None]
    if len(kinds) != 1:
        has = ", ".join(kinds) or "none"
        raise SpecError(f"{where}: needs exactly one of cron, interval, rrule; has {has}")
    timezone = raw.get("timezone")
    if timezone is not None and not (isinstance(timezone, str) and is_valid_timezone(timezone)):
        raise SpecError(f"{where}: unknown timezone {timezone!r} (an IANA name: America/New_York)")
    active = raw.get("active", True)
    if not isinstance(active, bool):
        raise SpecError(f"{where}: 'active' must be true or false, not {active!r}")
    (kind,) = kinds
    value = raw[kind]
    try:
        if kind == "cron":
            if not isinstance(value, str):
                raise ValueError(f"a cron string is text such as '30 6 * * 1', not {value!r}")
            day_or = raw.get("day_or", True)
            if not isinstance(day_or, bool):
                raise ValueError(f"'day_or' must be true or false, not {day_or!r}")
            return Cron(value, timezone=timezone, day_or=day_or, active=active)
        if "day_or" in raw:
            raise ValueError("'day_or' applies to cron schedules only")
        if kind == "interval":
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise ValueError(f"an interval is a positive number of seconds, not {value!r}")
            return Interval(datetime.timedelta(seconds=value), timezone=timezone, active=active)
        if not isinstance(value, str):
            raise ValueError(f"an rrule is text such as 'FREQ=WEEKLY;BYDAY=MO', not {value!r}")
        return RRule(value, timezone=timezone, active=active)
    except ValueError as exc:
        # Prefect's validators say e.g. 'Invalid cron string: "61 6 * * 1"'.
        raise SpecError(f"{where}: {' '.join(str(exc).split())}") from None


def runner_deployments(served: list[ServedDeployment]) -> list[RunnerDeployment]:
    """Prefect's view of each deployment, with its schedules (cron and timezone) attached.

    The entrypoint is the module path (``flows.refresh.refresh``): the runner starts each flow
    run in a subprocess, and the installed package imports from any directory, while a file
    path would only hold in the directory serve was started from.
    """
    made = []
    for d in served:
        try:
            made.append(
                d.flow.to_deployment(
                    name=d.name,
                    description=d.description,
                    parameters=d.parameters,
                    schedules=list(d.schedules),
                    entrypoint_type=EntrypointType.MODULE_PATH,
                )
            )
        except ValueError as exc:  # pydantic's ValidationError included
            first = str(exc).strip().splitlines()
            raise SpecError(f"deployment {d.name!r}: {first[-1] if first else exc}") from None
    return made


def serve_deployments(deployments: list[RunnerDeployment]) -> None:
    """Serve until SIGINT (Ctrl-C) or SIGTERM; Prefect pauses the schedules on the way out."""
    serve(*deployments, limit=RUN_LIMIT)


# -- the Prefect server the schedules need -------------------------------------------------------


def configured_api_url() -> str | None:
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def check_api(api_url: str) -> None:
    """Refuse early, in one line, when the configured server does not answer."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        problem = client.api_healthcheck()
    if problem is not None:
        raise ConfigError(
            f"the Prefect API at {api_url} (PREFECT_API_URL) does not answer "
            f"({type(problem).__name__}); start it with `prefect server start`, or unset "
            "PREFECT_API_URL and serve starts a server of its own"
        )


@contextlib.contextmanager
def local_prefect_server(log: Path, say: Callable[[str], None]) -> Iterator[str]:
    """``prefect server start`` on a free local port until the block ends; its API URL.

    The server gets a session of its own so that Ctrl-C in the terminal reaches serve only:
    serve must still talk to the server while it shuts down (Prefect pauses the schedules),
    and stops it afterwards. SIGTERM and SIGINT are ignored while the server stops, so a second
    signal cannot leave it running; the stop is bounded (SIGKILL after SERVER_STOP_TIMEOUT).
    """
    # Until Prefect's runner installs its own SIGTERM handler, SIGTERM would end this process
    # at once, skipping the ``finally`` below and leaving the server running.
    signal.signal(signal.SIGTERM, _interrupt)
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [*PREFECT_SERVER, "--host", "127.0.0.1", "--port", str(port), "--scheduler"],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )
    try:
        say(f"Starting a Prefect server for this serve at {api_url} (log: {log})")
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while not api_answers(api_url):
            if process.poll() is not None:
                raise ConfigError(
                    f"the Prefect server serve started exited with code {process.returncode} "
                    f"before answering; see {log}"
                )
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"the Prefect server serve started did not answer within "
                    f"{SERVER_START_TIMEOUT:g} s; see {log}"
                )
            time.sleep(0.25)
        yield api_url
    finally:
        previous = {s: signal.signal(s, signal.SIG_IGN) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            _stop_group(process)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server's process group, then SIGKILL if it has not gone in time."""
    for sig, wait in ((signal.SIGTERM, SERVER_STOP_TIMEOUT), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def prefect_api(log: Path, say: Callable[[str], None]) -> Iterator[str]:
    """The configured Prefect API if there is one (checked), else a server of serve's own.

    Inside the block, this process and the flow runs it starts (they inherit the environment
    and Prefect's current settings) talk to that API.
    """
    configured = configured_api_url()
    if configured:
        check_api(configured)
        yield configured
        return
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with local_prefect_server(log, say) as api_url:
        previous = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = api_url
        try:
            with temporary_settings(updates={PREFECT_API_URL: api_url}):
                yield api_url
        finally:
            if previous is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = previous


def server_log_path() -> Path:
    """Where the output of serve's own Prefect server goes: next to Prefect's database."""
    from prefect.settings import PREFECT_HOME

    return Path(PREFECT_HOME.value()) / "bls-refresh-serve-server.log"
