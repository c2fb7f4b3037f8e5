"""Reading columns by name: one normalisation of BLS header text, one matcher for every file.

BLS adds, moves and renames columns over the years, so no reader trusts a position. A header
cell is normalised (case, runs of spaces and newlines, en and em dashes, footnote markers such
as ``(1)`` or ``[1]``) and then claimed by a known column. What no known column claims is
*schema drift*: the load goes on without it and the release says so. A required column that
no header cell matches is a failure that shows the header as it was found.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence

from core.errors import ValidationError

# A spelling is an exact normalised name, or a pattern searched in the normalised name.
Spelling = str | re.Pattern[str]

# "(1)" or "[1]" after a header; never a year in parentheses ("Median annual wage (2024)").
_FOOTNOTE_MARK = re.compile(r"\[\d{1,2}\]|\(\d{1,2}\)")
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "\u00a0": " "})


def normalise(text: object) -> str:
    """Header text as compared: lower case, single spaces, ASCII dashes, no footnote marks.

    A year typed as a number (``2016.0`` in a workbook) reads as ``2016``.
    """
    if isinstance(text, float) and text.is_integer():
        text = int(text)
    cleaned = _FOOTNOTE_MARK.sub("", "" if text is None else str(text)).translate(_DASHES)
    return re.sub(r"\s+", " ", cleaned).strip().lower()


@dataclasses.dataclass(frozen=True)
class Columns:
    """Where each known column stands in one file's header."""

    positions: dict[str, int]  # canonical name → index in the header
    unknown: list[str]  # header cells (as BLS wrote them) that no known column claims
    header: list[str]  # the header as found (cells as text, padding stripped)

    def __contains__(self, name: object) -> bool:
        return name in self.positions

    def __getitem__(self, name: str) -> int:
        return self.positions[name]


def _spellings(
    columns: Mapping[str, Iterable[Spelling]] | Iterable[str],
) -> dict[str, list[Spelling]]:
    """Canonical name → spellings, plain ones normalised like the header (``'LOC_Q'`` matches)."""
    if isinstance(columns, Mapping):
        return {name: [_spelling(s) for s in spellings] for name, spellings in columns.items()}
    return {name: [normalise(name)] for name in columns}


def _spelling(spelling: Spelling) -> Spelling:
    return spelling if isinstance(spelling, re.Pattern) else normalise(spelling)


def _claims(spelling: Spelling, name: str) -> bool:
    if isinstance(spelling, re.Pattern):
        return spelling.search(name) is not None
    return spelling == name


def by_name(
    header: Sequence[object],
    label: str,
    *,
    required: Mapping[str, Iterable[Spelling]] | Iterable[str],
    optional: Mapping[str, Iterable[Spelling]] | Iterable[str] = (),
    ignored: Iterable[Spelling] = (),
) -> Columns:
    """Match a header against known columns, wherever they stand.

    ``required`` and ``optional`` map a canonical name to its accepted spellings (a plain
    list of names means each name is its own spelling). ``ignored`` lists spellings of
    columns we know and do not load (they are not drift). Each header cell is claimed by at
    most one column, the first that matches in the order given (required before optional).
    Raises ValidationError naming the missing columns and the header found; a column that
    two header cells claim is an error too (which one holds the data would be a guess).
    """
    shown = ["" if c is None else str(c).strip() for c in header]
    names = [normalise(c) for c in header]
    known = {**_spellings(required), **_spellings(optional)}
    positions: dict[str, int] = {}
    twice: dict[str, list[str]] = {}
    unknown: list[str] = []
    ignore = [_spelling(s) for s in ignored]
    for index, name in enumerate(names):
        if not name:
            continue
        owner = next(
            (col for col, spellings in known.items() if any(_claims(s, name) for s in spellings)),
            None,
        )
        if owner is None:
            if not any(_claims(s, name) for s in ignore):
                unknown.append(shown[index])
            continue
        if owner in positions:
            twice.setdefault(owner, [shown[positions[owner]]]).append(shown[index])
            continue
        positions[owner] = index
    missing = [col for col in _spellings(required) if col not in positions]
    if missing or twice:
        problems = []
        if missing:
            problems.append(f"missing {missing}")
            if unknown:
                problems.append(f"not recognised {unknown}")
        if twice:
            problems.append(
                "; ".join(
                    f"{col} matches {cells} (one column expected)" for col, cells in twice.items()
                )
            )
        raise ValidationError(
            label,
            "required columns",
            f"{'; '.join(problems)}; header found: {[c for c in shown if c]}",
        )
    return Columns(positions=positions, unknown=unknown, header=shown)


def drift_note(file: str, columns: Sequence[str]) -> str:
    """The sentence a release, its artifact and the run summary carry for new columns."""
    listed = ", ".join(f"'{c}'" for c in columns)
    return (
        f"{file}: new column{'s' if len(columns) != 1 else ''} {listed} "
        "(not known to this version; loaded without it)"
    )
