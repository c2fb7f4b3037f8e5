"""A number as a writer prints it, by unit: the catalogue's formats
(:data:`transforms.oews_catalog.UNITS`), for OEWS and projections measures alike."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from transforms.oews_catalog import UNITS, Format

# Percents BLS rounds to whole numbers in text (the Occupational Outlook Handbook), from its
# unrounded figures. The table gives one decimal, which settles the whole number unless it
# ends in exactly .5: 20.5 is 20.47 or 20.54 unrounded, 20% or 21% (BLS printed 20% for
# 11-9111 in 2016-26, where half-up would say 21%). Such a value is shown as published.
TEXT_PERCENT = {"employment_change_pct"}
_HALF = Decimal("0.5")
_OTHER = Format(2)  # a unit the catalogue does not know: two decimals


def _round_half_up(value: Decimal, places: int) -> Decimal:
    # ``+ 0`` turns a negative zero (-0.4 rounded) into 0, so text never reads "-0%".
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP) + 0


def format_value(value: Decimal | float | int | str, unit: str, measure: str) -> str:
    """A number as a writer prints it: $51,140 · $24.16 · 194,800 · 7% · 1.05; text as it is."""
    if unit == "text":
        return str(value)
    number = Decimal(str(value))
    fmt = UNITS.get(unit, _OTHER)
    places = fmt.places
    if unit == "percent" and measure in TEXT_PERCENT:
        places = 1 if abs(number) % 1 == _HALF else 0
    if places is None:
        digits = f"{number.normalize():f}"
    else:
        digits = format(_round_half_up(number, places), f"{',' if fmt.grouped else ''}.{places}f")
    return f"{fmt.prefix}{digits}{fmt.suffix}"


def json_number(value: Decimal | float | int | None) -> float | int | None:
    """A number for JSON: an int when it is whole (50250, not 50250.0), else a float."""
    if value is None:
        return None
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)
