"""Finding BLS-looking claims in an article: pure functions of the text and a lexicon of
occupation titles (no database, no network).

A claim is a number (dollars, percent, a count) with the occupation it is about (the nearest
title before it in the sentence, else the last one named before, until a heading without
one), the words that say what it is (median, mean, hourly, growth, openings, jobs), the
period it names, and the place and industry its clause names. Offsets are
character offsets into the article as given: an HTML article is read with its tags and
entities blanked out, character for character, so an offset means the same in both.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from decimal import Decimal
from html import unescape

from rapidfuzz import fuzz, process

from figures.figure import ALL_INDUSTRIES, NATIONAL

# --- the article as text ------------------------------------------------------------------------

_HTML_SKIP = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>", re.DOTALL)
_HTML_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def is_html(raw: str, name: str = "") -> bool:
    return name.lower().endswith((".html", ".htm")) or bool(
        re.search(r"<(html|body|p|div|h[1-6])\b", raw[:2000], re.IGNORECASE)
    )


def plain_text(raw: str, html: bool) -> str:
    """The article's words at their own offsets: in HTML, tags, scripts and styles become
    spaces and an entity becomes its character followed by spaces (same length)."""
    if not html:
        return raw

    def blank(m: re.Match[str]) -> str:
        return re.sub(r"[^\n]", " ", m.group(0))

    def entity(m: re.Match[str]) -> str:
        char = unescape(m.group(0))  # the standard library's table of entities
        char = char if len(char) == 1 else " "
        return (" " if char == "\xa0" else char) + " " * (len(m.group(0)) - 1)

    text = _HTML_SKIP.sub(blank, raw)
    text = _HTML_TAG.sub(blank, text)
    return _HTML_ENTITY.sub(entity, text)


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence (a line break ends one too; "$24.50" does not)."""
    spans = []
    for m in re.finditer(r"(?:[^.!?\n]|[.](?=\d))+(?:[.!?]+|(?=\n)|$)", text):
        if m.group(0).strip():
            spans.append((m.start(), m.end()))
    return spans


# --- numbers --------------------------------------------------------------------------------

_SCALE = {"k": Decimal(1000), "thousand": Decimal(1000), "million": Decimal(1_000_000)}
_MONEY = re.compile(
    r"\$\s?(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d{1,2}))?(?:\s?(?P<scale>[kK]\b|thousand|million))?"
)
_PERCENT = re.compile(r"(?P<num>\d+)(?:\.(?P<dec>\d+))?\s?(?:%|percent\b|per cent\b)")
_COUNT = re.compile(
    r"(?<![\d$.,])(?P<num>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<dec>\d+))?"
    r"(?:\s(?P<scale>thousand|million))?(?=\s+(?:new\s+|more\s+)?"
    r"(?:jobs|workers|people|positions|openings|job openings)\b)"
)


@dataclasses.dataclass(frozen=True)
class Number:
    start: int
    end: int
    text: str
    value: Decimal
    tolerance: Decimal  # what rounding as written allows either side
    kind: str  # usd, percent, count


def _number(m: re.Match[str], kind: str) -> Number:
    digits = m.group("num").replace(",", "")
    dec = m.group("dec") or ""
    scale = _SCALE.get((m.groupdict().get("scale") or "").lower(), Decimal(1))
    value = Decimal(f"{digits}.{dec}" if dec else digits) * scale
    if dec:
        step = Decimal(1).scaleb(-len(dec)) * scale
    elif kind == "percent":
        step = Decimal(1)
    elif scale != 1:
        # a scale word is the rounding: "$200K" and "190 thousand" to the thousand, "3 million"
        # to the million (the zeros of "200" say no more than "$200,000" would)
        step = scale
    else:  # "$37,100" may be 37,110 rounded to hundreds; "$37,110" is exact to the dollar
        zeros = len(digits) - len(digits.rstrip("0")) if digits.strip("0") else 0
        step = Decimal(10) ** min(zeros, 3)
    return Number(m.start(), m.end(), m.group(0), value, step / 2, kind)


def find_numbers(text: str, start: int, end: int) -> list[Number]:
    """Dollar amounts, percentages and counts of jobs, workers or openings in a span."""
    found: list[Number] = []
    chunk = text[start:end]
    for pattern, kind in ((_MONEY, "usd"), (_PERCENT, "percent"), (_COUNT, "count")):
        for m in pattern.finditer(chunk):
            n = _number(m, kind)
            n = dataclasses.replace(n, start=n.start + start, end=n.end + start)
            if not any(f.start <= n.start < f.end or n.start <= f.start < n.end for f in found):
                found.append(n)
    return sorted(found, key=lambda n: n.start)


# --- periods --------------------------------------------------------------------------------

_MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
_CYCLE = re.compile(r"\b((?:19|20)\d{2})\s*(?:–|-|—|to|through|and)\s*((?:19|20)?\d{2})\b")
_MONTH_YEAR = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+((?:19|20)\d{2})\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:in|of|for|during)\s+((?:19|20)\d{2})\b", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Period:
    text: str
    year: int | None = None  # a reference year (May, for OEWS)
    month: str | None = None  # the month the text names with it, if any
    cycle: str | None = None  # a projections cycle, ``2014-24``


def periods(text: str, start: int, end: int) -> list[tuple[int, Period]]:
    """Every period a span names, with its offset."""
    found: list[tuple[int, Period]] = []
    chunk = text[start:end]
    for m in _CYCLE.finditer(chunk):
        first, last = int(m.group(1)), m.group(2)
        last_year = int(last) if len(last) == 4 else (first // 100) * 100 + int(last)
        if 5 <= last_year - first <= 15:
            found.append(
                (start + m.start(), Period(m.group(0), cycle=f"{first}-{last_year % 100:02d}"))
            )
    for m in _MONTH_YEAR.finditer(chunk):
        period = Period(m.group(0), year=int(m.group(2)), month=m.group(1).capitalize())
        found.append((start + m.start(), period))
    for m in _YEAR.finditer(chunk):
        if not any(at <= start + m.start(1) < at + len(p.text) for at, p in found):
            found.append((start + m.start(), Period(m.group(0), year=int(m.group(1)))))
    return found


def period_of(found: list[tuple[int, Period]], at: int, projections: bool) -> Period | None:
    """The period nearest to offset ``at`` of the kind the measure has: a cycle for a
    projection, a year for an estimate (a cycle says nothing about a wage's year)."""
    pool = [(o, p) for o, p in found if (p.cycle is not None) == projections]
    return min(pool, key=lambda item: abs(item[0] - at))[1] if pool else None


# --- occupations ----------------------------------------------------------------------------

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_LEADING = {"the", "a", "an", "for", "of", "as", "and", "or", "to", "in", "all", "most", "many"}


def _norm(words: Iterable[str]) -> str:
    return " ".join(w.lower().replace("’", "'") for w in words)


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _within(phrase: list[str], title: list[str]) -> bool:
    """Every word of the writer's phrase is a word of the title (a short form leaves words
    out, never adds one), allowing singular for plural and a typo."""
    forms = [_singular(t) for t in title]
    return all(
        any(_singular(w) == f or fuzz.ratio(_singular(w), f) >= 88 for f in forms) for w in phrase
    )


@dataclasses.dataclass(frozen=True)
class Occupation:
    soc_code: str
    soc_version: str
    title: str

    @property
    def preference(self) -> tuple[bool, int, str]:
        """Among occupations a phrase fits equally well: a detailed occupation before the
        broad group of the same name (29-2072 before 29-2070; a broad code ends in 0), the
        newest SOC version before older ones (29-1211 of 2018 before 29-1061 of 2010, both
        "Anesthesiologists"), then the code."""
        digits = "".join(ch for ch in self.soc_version if ch.isdigit())[:4]
        return (self.soc_code.endswith("0"), -int(digits or 0), self.soc_code)


@dataclasses.dataclass(frozen=True)
class Mention:
    start: int
    end: int
    text: str
    occupation: Occupation
    score: float


class Lexicon:
    """Occupation titles (SOC 2010, SOC 2018, the EP matrix), singular and plural, matched
    with rapidfuzz: the longest phrase whose best title is one occupation, never a tie."""

    def __init__(
        self,
        occupations: Iterable[Occupation],
        aliases: Iterable[tuple[str, Occupation]] = (),
    ) -> None:
        self.choices: list[str] = []
        self.owners: list[Occupation] = []
        heads: set[str] = set()
        named = [(occ.title, occ) for occ in occupations] + list(aliases)
        for name, occ in named:
            words = [w.lower() for w in _WORD.findall(name)]
            if not words:
                continue
            for form in {_norm(words), _norm([*words[:-1], _singular(words[-1])])}:
                self.choices.append(form)
                self.owners.append(occ)
            heads |= {words[-1], _singular(words[-1])}
        self.heads = frozenset(heads)

    def _best(self, phrase: str) -> tuple[float, Occupation] | None:
        found = process.extract(
            phrase, self.choices, scorer=fuzz.token_set_ratio, score_cutoff=90, limit=12
        )
        if not found:
            return None
        words = phrase.split()
        ranked = sorted(
            (
                (score, fuzz.ratio(phrase, choice), self.owners[i])
                for choice, score, i in found
                if _within(words, choice.split())
            ),
            key=lambda r: (-r[0], -r[1], r[2].preference),
        )
        if not ranked:
            return None
        best = ranked[0]
        rivals = {r[2].soc_code for r in ranked} - {best[2].soc_code}
        if rivals and best[1] < 100:
            return None  # several occupations fit and none by its exact title: no guess
        return best[0], best[2]

    def _exact(self, word: str) -> tuple[float, Occupation] | None:
        forms = {word, _singular(word)}
        found = sorted(
            {self.owners[i] for i, c in enumerate(self.choices) if c in forms},
            key=lambda o: o.preference,
        )
        if not found:
            return None
        # Several codes of one title (a SOC 2010 code and its 2018 successor, a broad group
        # and its one detailed occupation) are one occupation: the preferred one. Two that
        # are equally preferred are two occupations: no guess.
        if len(found) > 1 and found[0].preference[:2] == found[1].preference[:2]:
            return None
        return 100.0, found[0]

    def by_code(self, code: str) -> Occupation | None:
        return next((o for o in self.owners if o.soc_code == code), None)

    def mentions(self, text: str, start: int, end: int) -> list[Mention]:
        words = list(_WORD.finditer(text, start, end))
        out: list[Mention] = []
        j = 0
        while j < len(words):
            if words[j].group(0).lower() not in self.heads:
                j += 1
                continue
            hit = None
            for i in range(max(0, j - 7), j + 1):  # the longest phrase first
                if words[i].group(0).lower() in _LEADING:
                    continue
                phrase = _norm(w.group(0) for w in words[i : j + 1])
                # one word names an occupation only as its whole name ("RNs", "Cashiers")
                best = self._best(phrase) if i < j else self._exact(phrase)
                if best is not None:
                    first, last = words[i], words[j]
                    hit = Mention(
                        first.start(),
                        last.end(),
                        text[first.start() : last.end()],
                        best[1],
                        best[0],
                    )
                    break
            if hit is not None and not (out and out[-1].end > hit.start):
                out.append(hit)
            j += 1
        return out


# --- scope: where and in which industry ----------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scope:
    """Where a figure is of: an area and an industry (national and all industries when the
    text names neither)."""

    area_code: str = NATIONAL
    area: str = "the nation"
    industry_code: str = ALL_INDUSTRIES
    industry: str = "all industries"

    @property
    def is_default(self) -> bool:
        return self.area_code == NATIONAL and self.industry_code == ALL_INDUSTRIES

    def words(self) -> str:
        parts = []
        if self.area_code != NATIONAL:
            parts.append(f"in {self.area}")
        if self.industry_code != ALL_INDUSTRIES:
            parts.append(f"in {self.industry}")
        return " ".join(parts) or "national, all industries"


def _industry_words(name: str) -> list[str]:
    """An industry's name as a writer says it: no ``Sector 62 -`` prefix, no parentheses."""
    name = re.sub(r"^Sector\s+[\d-]+\s*-\s*", "", name)
    name = re.sub(r"\(.*?\)", "", name)
    return [w.lower() for w in _WORD.findall(name)]


class Places:
    """The states, metros and industries a release has estimates for, found in text: a state
    by its name, a metro by its first city, an industry by a phrase after "in" whose words
    are all in one industry's name (never a tie)."""

    def __init__(
        self, areas: Iterable[tuple[str, str, str]], industries: Iterable[tuple[str, str]]
    ) -> None:
        self.areas: dict[str, tuple[str, str]] = {}
        for code, kind, name in areas:
            if kind == "S":
                self.areas[name.lower()] = (code, name)
            elif kind == "M":
                city = re.split(r"[-,]", name)[0].strip()
                key = city.lower()
                self.areas[key] = ("", "") if key in self.areas else (code, name)  # a tie: none
        self.industries = [
            (code, re.sub(r"^Sector\s+[\d-]+\s*-\s*", "", name), _industry_words(name))
            for code, name in industries
            if code not in (ALL_INDUSTRIES, "000001")
        ]

    def area(self, text: str) -> tuple[int, str, str] | None:
        """(offset, code, name) of the last state or metro the text names (the nearest to a
        number at its end)."""
        found = []
        for key, (code, name) in self.areas.items():
            if not code:
                continue
            for m in re.finditer(rf"\b{re.escape(key)}\b", text, re.IGNORECASE):
                if m.group(0)[0].isupper():
                    found.append((m.start(), code, name))
        return max(found) if found else None

    def industry(self, text: str) -> tuple[int, str, str] | None:
        """(offset, code, name) of the last industry named after "in" (the longest phrase
        that fits exactly one industry)."""
        found: list[tuple[int, str, str]] = []
        # the words are in a lookahead, so "in Boston who work in hospitals" finds both
        pattern = r"\b(?i:in)\s+(?:the\s+)?(?=((?:[A-Za-z][A-Za-z'-]*\s*){1,6}))"
        for m in re.finditer(pattern, text):
            words = [w.lower() for w in _WORD.findall(m.group(1))]
            for size in range(len(words), 0, -1):
                phrase = words[:size]
                if phrase[-1] in {"and", "or", "of", "the"} or phrase[0] in _MONTHS:
                    continue
                fits = [(c, n) for c, n, ws in self.industries if all(w in ws for w in phrase)]
                exact = [(c, n) for c, n, ws in self.industries if ws == phrase]
                chosen = exact or fits
                if len(chosen) == 1:
                    found.append((m.start(), chosen[0][0], chosen[0][1]))
                    break
        return max(found) if found else None

    def scope(self, text: str) -> Scope:
        area, industry = self.area(text), self.industry(text)
        return Scope(
            area_code=area[1] if area else NATIONAL,
            area=area[2] if area else "the nation",
            industry_code=industry[1] if industry else ALL_INDUSTRIES,
            industry=industry[2] if industry else "all industries",
        )


# --- claims ---------------------------------------------------------------------------------

ALL_OCCUPATIONS = "00-0000"
_ALL = re.compile(
    r"\ball (?:occupations|jobs|workers)\b|\bnational (?:average|median)\b|\baverage for all\b",
    re.IGNORECASE,
)
# Measures the words may name that only the projections have (a cycle is their period).
PROJECTED = frozenset(
    {"employment_change_pct", "self_employed_pct", "openings_annual", "openings_total"}
)


@dataclasses.dataclass(frozen=True)
class Claim:
    start: int  # the claim's span: from its occupation (or sentence) to the number
    end: int
    quote: str
    number: Number
    mention: Mention
    measure: str  # what the words say it is (a measure name of figures.measures)
    statistic_named: bool  # the text says median/mean (else a wage is taken as median)
    period: Period | None
    scope: Scope = Scope()
    # the words right around the number in its clause ("at least $115.00 an hour")
    near: str = ""


def described_measure(number: Number, words: str) -> tuple[str, bool] | None:
    """The measure the words around a number name, and whether they name the statistic."""
    w = words.lower()
    if number.kind == "usd":
        hourly = bool(re.search(r"\bhour|hourly\b", w)) or number.value < 200
        period = "hourly" if hourly else "annual"
        if re.search(r"\bmedian\b", w):
            return f"{period}_median", True
        if re.search(r"\b(mean|average)\b", w):
            return f"{period}_mean", True
        if re.search(r"\b(wage|salary|salaries|pay|earn|earned|earns|make|makes)\b", w):
            return f"{period}_median", False
        return None
    if number.kind == "percent":
        if re.search(r"self[- ]employed", w):
            return "self_employed_pct", True
        if re.search(r"\b(grow|grows|growth|increase|rise|projected|change|expand)", w):
            return "employment_change_pct", True
        if _FALL_WORDS.search(w):
            return "employment_change_pct", True
        return None
    if re.search(r"\bopenings?\b", w):
        total = re.search(r"\b(over the decade|in total|total)\b", w)
        return ("openings_total" if total else "openings_annual"), True
    if re.search(r"\b(jobs|employed|employment|workers|people|positions)\b", w):
        return "employment", True
    return None


_FALL_WORDS = re.compile(
    r"\b(declin(e|es|ed|ing)|decreas(e|es|ed|ing)|fall(s|ing)?|fell|drop(s|ped|ping)?"
    r"|shrink(s|ing)?|shrank)\b",
    re.IGNORECASE,
)
# Where a clause ends, looking back from a number: a comma, a semicolon, a colon, a
# parenthesis, or the end of a sentence (a point followed by a blank, not a decimal point).
_CLAUSE_BREAK = re.compile(r"[,;:()]|[.!?](?=\s)")


def _near(text: str, number: Number, before: int, after: int) -> str:
    """The last ``before`` words of the number's clause ahead of it, the number, and the
    first ``after`` words behind it up to the clause's end."""
    head = _CLAUSE_BREAK.split(text[max(0, number.start - 120) : number.start])[-1]
    tail = _CLAUSE_BREAK.split(text[number.end : number.end + 120])[0]
    return " ".join([*head.split()[-before:], number.text, *tail.split()[:after]])


def _falls(text: str, number: Number, near: str) -> bool:
    """Whether a projected change is a decline: a minus sign written before the number
    ("-3.7%", "−4%", not the dash of a range such as "2014-24") or a word next to it that
    says it falls ("projected to decline 4 percent", "a 4% drop"); a fall named elsewhere in
    the sentence ("although hiring fell in 2020, … grow 7 percent") is not this number's."""
    sign = text[number.start - 1 : number.start] if number.start else ""
    before = text[number.start - 2 : number.start - 1] if number.start > 1 else ""
    if sign in ("-", "\u2212") and not before.isalnum():
        return True
    return bool(_FALL_WORDS.search(near))


def find_claims(text: str, lexicon: Lexicon, places: Places | None = None) -> list[Claim]:
    spans = sentences(text)
    claims: list[Claim] = []
    recent: list[Mention] = []  # mentions of the last sentences, nearest last
    for start, end in spans:
        here = lexicon.mentions(text, start, end)
        numbers = find_numbers(text, start, end)
        for k, number in enumerate(numbers):
            before = [m for m in here if m.end <= number.start]
            mention = before[-1] if before else (here[0] if here else None)
            if mention is None and recent:
                mention = recent[-1]
            if mention is None:
                continue
            # The words that say what it is: from the number before (or the sentence's
            # start) to the number, and after it up to the next number or clause break.
            lead = numbers[k - 1].end if k else start
            stop = numbers[k + 1].start if k + 1 < len(numbers) else end
            after = re.search(r"[,;]|$", text[number.end : min(stop, number.end + 60)])
            context = text[lead : number.end + (after.start() if after else 0)]
            # A comparison ("the 3% average for all occupations", "the national average of
            # 7%") is a figure of all occupations, whatever the sentence is about.
            compared = _ALL.search(context)
            everyone = lexicon.by_code(ALL_OCCUPATIONS) if compared else None
            if compared and everyone is not None:
                at = lead + compared.start()
                mention = Mention(at, lead + compared.end(), compared.group(0), everyone, 100.0)
                here = [*here, mention] if mention not in here else here
            described = described_measure(number, context)
            if described is None:
                continue
            near = _near(text, number, before=3, after=2)
            if described[0] == "employment_change_pct" and _falls(text, number, near):
                number = dataclasses.replace(number, value=-number.value)
            span_start = min(mention.start, number.start) if mention in here else start
            claims.append(
                Claim(
                    start=span_start,
                    end=max(number.end, mention.end if mention in here else number.end),
                    quote=" ".join(text[span_start : max(number.end, end)].split()),
                    number=number,
                    mention=mention,
                    measure=described[0],
                    statistic_named=described[1],
                    period=period_of(
                        periods(text, start, end), number.start, described[0] in PROJECTED
                    ),
                    # a projection is national; an estimate is of the place and industry
                    # its clause names
                    scope=places.scope(text[start : len(context) + lead])
                    if places is not None and described[0] not in PROJECTED
                    else Scope(),
                    near=near,
                )
            )
        recent = (recent + here)[-3:] if here else recent[-3:]
        if not here and text[start:end].lstrip().startswith("#"):
            recent = []  # a heading without an occupation ends the last one's section
    return claims
