"""The errors a person reads: what each says, and what it carries for the code that catches it."""

from __future__ import annotations

import pytest

from core.errors import (
    AnalystFileError,
    CatalogError,
    ConfigError,
    FetchError,
    LockHeldError,
    PipelineError,
    ValidationError,
)


def test_a_validation_error_names_the_file_the_check_and_at_most_five_examples() -> None:
    rows = [f"OEUN00000000000002920721{n} | 2024 | A01 | x" for n in range(7)]
    err = ValidationError("oe.data.0.Current", "values are numbers or '-'", "7 bad values", rows)

    assert (err.file, err.check, err.detail) == (
        "oe.data.0.Current",
        "values are numbers or '-'",
        "7 bad values",
    )
    assert err.examples == rows[:5]
    assert str(err) == "\n".join(
        [
            "oe.data.0.Current: check 'values are numbers or '-'' failed: 7 bad values",
            *(f"  e.g. {row}" for row in rows[:5]),
        ]
    )
    rows.clear()  # the error keeps its own copy
    assert len(err.examples) == 5


def test_a_validation_error_without_examples_is_one_line() -> None:
    err = ValidationError("oe.area", "codes", "area codes are 7 digits")
    assert err.examples == []
    assert str(err) == "oe.area: check 'codes' failed: area codes are 7 digits"


def test_a_fetch_error_carries_the_url_and_the_status() -> None:
    err = FetchError("https://x/oe.area: HTTP 404.", url="https://x/oe.area", status=404)
    assert (str(err), err.url, err.status) == (
        "https://x/oe.area: HTTP 404.",
        "https://x/oe.area",
        404,
    )
    assert FetchError("cut short", url="file:///m/oe.area").status is None


def test_a_catalog_error_names_the_catalog() -> None:
    err = CatalogError("unreadable", catalog="/data/warehouse/catalog.sqlite")
    assert (str(err), err.catalog) == ("unreadable", "/data/warehouse/catalog.sqlite")


def test_an_analyst_file_error_says_what_is_published_and_what_the_file_still_shows() -> None:
    err = AnalystFileError(
        "2026-11-28.2", "/d/bls.duckdb", "No space left on device", "2026-11-28.1"
    )
    assert (err.release_id, err.analyst_db, err.cause, err.shows) == (
        "2026-11-28.2",
        "/d/bls.duckdb",
        "No space left on device",
        "2026-11-28.1",
    )
    assert str(err) == (
        "Release 2026-11-28.2 is published and latest → 2026-11-28.2, but /d/bls.duckdb could "
        "not be rebuilt: No space left on device. Its bundle, figures.json and "
        "`bls-refresh figure` already serve 2026-11-28.2; the analyst file still shows release "
        "2026-11-28.1 (its half-written copy was removed). Once the cause is fixed, the next "
        "`bls-refresh run` or `ingest` rebuilds it, or `bls-refresh verify --repair` does so now."
    )


def test_an_analyst_file_error_without_a_release_or_a_usable_file() -> None:
    err = AnalystFileError(None, "/d/bls.duckdb", "disk I/O error", None)
    assert str(err).startswith(
        "/d/bls.duckdb could not be rebuilt: disk I/O error; the analyst file still shows no "
        "usable release (its half-written copy was removed)."
    )


@pytest.mark.parametrize(
    "error",
    [
        ConfigError("no contact"),
        FetchError("x", url="u"),
        ValidationError("f", "c", "d"),
        LockHeldError("held"),
        CatalogError("x", catalog="c"),
        AnalystFileError(None, "a", "b", None),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_error_is_caught_as_a_pipeline_error(error: PipelineError) -> None:
    """The command line turns a PipelineError into one paragraph; nothing else is expected."""
    with pytest.raises(PipelineError) as caught:
        raise error
    assert caught.value is error
