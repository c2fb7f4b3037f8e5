"""A number as a writer prints it, by unit: the catalogue's formats
(:data:`transforms.oews_catalog.UNITS`), for OEWS and projections measures alike."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from transforms.oews_catalog import UNITS, Format

TEXT_PERCENT = {"employment_change_pct"}  # percents BLS rounds to whole numbers in text
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
    places = 0 if unit == "percent" and measure in TEXT_PERCENT else fmt.places
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
