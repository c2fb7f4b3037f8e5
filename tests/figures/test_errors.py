"""FigureError: the one line the CLI prints, and the exit code it gives."""

from __future__ import annotations

from figures.errors import FigureError


def test_the_line_offers_the_closest_choices() -> None:
    err = FigureError("Unknown measure 'annual_medain'.", ["annual_median", "annual_mean"])
    assert err.code == 2  # a wrong request
    assert str(err) == "Unknown measure 'annual_medain'."
    assert err.line() == (
        "Unknown measure 'annual_medain'. Did you mean: annual_median, annual_mean?"
    )


def test_a_value_bls_did_not_publish_exits_3_and_offers_nothing() -> None:
    err = FigureError("BLS did not publish employment for 29-9021 (May 2024).", code=3)
    assert (err.code, err.choices) == (3, [])
    assert err.line() == "BLS did not publish employment for 29-9021 (May 2024)."
