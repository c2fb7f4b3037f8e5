"""prefect.yaml as ``bls-refresh serve`` reads it: deployments checked one by one, each
problem in one line naming the deployment and the key."""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path

import pytest
from prefect.client.schemas.schedules import CronSchedule
from prefect.schedules import Interval

from core.errors import ConfigError
from flows.backfill import backfill
from flows.deployments import (
    SpecError,
    describe_schedule,
    load_deployments,
    next_run,
    served_deployments,
)
from flows.refresh import refresh

WEEKLY = """\
deployments:
  - name: weekly
    entrypoint: flows/refresh.py:refresh
    description: >
      The weekly
      refresh.
    parameters:
      kinds: [oews]
    schedules:
      - cron: "30 6 * * 1"
        timezone: America/New_York
"""


def write(tmp_path: Path, text: str) -> Path:
    spec = tmp_path / "prefect.yaml"
    spec.write_text(textwrap.dedent(text), encoding="utf-8")
    return spec


def test_prefect_yaml_deploys_the_refresh_flow_weekly(repo: Path) -> None:
    deployments = load_deployments(repo / "prefect.yaml")
    assert [d["name"] for d in deployments] == ["oews-weekly", "oews-history"]
    schedule = deployments[0]["schedules"][0]
    CronSchedule(cron=schedule["cron"], timezone=schedule["timezone"])  # validates
    assert schedule["cron"].split()[2:] == ["*", "*", "1"]  # every Monday
    assert set(deployments[0]["parameters"]) <= set(refresh.parameters.properties)
    history = deployments[1]
    assert history["entrypoint"] == "flows/backfill.py:backfill"
    CronSchedule(cron=history["schedules"][0]["cron"], timezone="America/New_York")
    assert history["schedules"][0]["cron"].split()[2:] == ["*", "*", "2"]  # every Tuesday
    assert set(history["parameters"]) <= set(backfill.parameters.properties)
    assert history["parameters"]["years"] == "2012-"  # through the newest published year


def test_serve_can_keep_some_deployments_by_name(repo: Path) -> None:
    # The sample mirror has no special-request zips: trying serve on it, the history
    # deployment would fail on every tick.
    spec = repo / "prefect.yaml"
    assert [d.name for d in served_deployments(spec, only=["oews-weekly"])] == ["oews-weekly"]
    assert [d.name for d in served_deployments(spec)] == ["oews-weekly", "oews-history"]
    with pytest.raises(SpecError, match=r"no deployment named 'weekly'; it has oews-weekly, oews"):
        served_deployments(spec, only=["weekly"])


def test_a_deployment_is_served_with_absolute_paths_and_its_schedule(tmp_path: Path) -> None:
    (served,) = served_deployments(write(tmp_path, WEEKLY))
    assert (served.name, served.entrypoint, served.flow) == (
        "weekly",
        "flows/refresh.py:refresh",
        refresh,
    )
    assert served.description == "The weekly refresh."
    assert served.parameters == {"kinds": ["oews"], "data_dir": str(tmp_path / "data")}
    (schedule,) = served.schedules
    assert (schedule.cron, schedule.timezone, schedule.day_or) == (
        "30 6 * * 1",
        "America/New_York",
        True,
    )


def test_interval_replaces_every_schedule(tmp_path: Path) -> None:
    (served,) = served_deployments(write(tmp_path, WEEKLY), interval=90)
    (schedule,) = served.schedules
    assert (schedule.interval, schedule.cron, schedule.active) == (
        datetime.timedelta(seconds=90),
        None,
        True,
    )
    assert served.describe_schedules().startswith("every 90 s (UTC), next ")
    for bad in (0, -5, float("inf")):
        with pytest.raises(SpecError, match="--interval must be a positive number of seconds"):
            served_deployments(write(tmp_path, WEEKLY), interval=bad)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "deployments: [\n",
            "not valid YAML: expected the node content, but found '<stream end>' at line 2",
        ),
        ("deployments: []\n", "no 'deployments' list"),
        ("- name: weekly\n", "no 'deployments' list"),
        ("deployments:\n  - entrypoint: flows/refresh.py:refresh\n", "deployment 1 has no name"),
        (
            "deployments:\n  - name: w\n    entrypoint: flows/refresh.py:main\n",
            "deployment 'w': unknown entrypoint 'flows/refresh.py:main'; known: "
            "['flows/backfill.py:backfill', 'flows/refresh.py:refresh']",
        ),
        (
            "deployments:\n  - {name: w, entrypoint: flows/refresh.py:refresh}\n"
            "  - {name: w, entrypoint: flows/backfill.py:backfill}\n",
            "deployment 'w' is declared twice",
        ),
    ],
    ids=["yaml", "empty", "not-a-mapping", "no-name", "entrypoint", "twice"],
)
def test_a_malformed_spec_is_one_line_naming_the_file(
    tmp_path: Path, text: str, problem: str
) -> None:
    spec = write(tmp_path, text)
    with pytest.raises(SpecError) as refused:
        load_deployments(spec)
    assert str(refused.value) == f"{spec}: {problem}"
    assert isinstance(refused.value, ConfigError)  # the CLI's one-paragraph refusal


def test_a_missing_spec_says_why(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as refused:
        load_deployments(tmp_path / "prefect.yaml")
    assert str(refused.value) == (
        f"{tmp_path / 'prefect.yaml'}: cannot read the deployment spec (No such file or directory)"
    )


@pytest.mark.parametrize(
    ("replace", "problem"),
    [
        (
            ("kinds: [oews]", "kind: oews"),
            "unknown parameter 'kind'; flows/refresh.py:refresh takes",
        ),
        (
            ('cron: "30 6 * * 1"', "interval: -60"),
            "schedule 1: an interval is a positive number of seconds, not -60",
        ),
        (
            ('cron: "30 6 * * 1"', "interval: 60\n        day_or: false"),
            "schedule 1: 'day_or' applies to cron schedules only",
        ),
        (('cron: "30 6 * * 1"', "rrule: 7"), "schedule 1: an rrule is text such as"),
        (
            ('cron: "30 6 * * 1"', 'cron: "30 6 * * 1"\n        active: "yes"'),
            "schedule 1: 'active' must be true or false, not 'yes'",
        ),
        (
            ('cron: "30 6 * * 1"', 'cron: "30 6 * * 1"\n        rrule: FREQ=DAILY'),
            "schedule 1: needs exactly one of cron, interval, rrule; has cron, rrule",
        ),
        (("schedules:", "schedule:"), "no 'schedules' list; serve runs deployments on their"),
    ],
    ids=["parameter", "interval", "day-or", "rrule", "active", "two-kinds", "no-schedules"],
)
def test_a_malformed_deployment_names_itself_and_the_key(
    tmp_path: Path, replace: tuple[str, str], problem: str
) -> None:
    spec = write(tmp_path, WEEKLY.replace(*replace))
    with pytest.raises(SpecError) as refused:
        served_deployments(spec)
    assert str(refused.value).startswith(f"{spec}: deployment 'weekly': {problem}")


def test_an_inactive_schedule_is_described_without_a_next_run() -> None:
    paused = Interval(datetime.timedelta(hours=1), active=False)
    assert describe_schedule(paused) == "every 3600 s (UTC), inactive"


def test_the_next_run_is_on_the_schedule_s_own_clock() -> None:
    """Monday 06:30 in New York is 06:30 local time whether EST or EDT is in force."""
    from prefect.schedules import Cron

    upcoming = next_run(Cron("30 6 * * 1", timezone="America/New_York"))
    assert upcoming is not None
    assert (upcoming.weekday(), upcoming.hour, upcoming.minute) == (0, 6, 30)
    assert upcoming.tzname() in ("EST", "EDT")
    assert upcoming > datetime.datetime.now(datetime.UTC)
