"""What a sentence claims, read without a model: its numbers, dates, negations and names.

A generated sentence may quote its passage's words and still change what it says: "30 jours"
for "15 jours", "mardi" for "jeudi", a dropped "ne ... pas", "la CAF" for "la MSA". The
support test (share of content words, :mod:`commune.answering.grounding`) lets those
through, because one changed word is a small share. So the gate also asks, of each cited
sentence and the passages it cites:

- every number (with its unit, when it has one) and every date of the sentence occurs in them;
- the sentence is negative exactly when the passage sentence it best matches is;
- every named entity of the sentence (capitalised name, acronym, path, command) occurs in them;
- each of those numbers and names stands in a passage sentence that says most nearly what the
  words around it say: a value of the passage said of something else ("86 €" for a minor's
  passport, where 86 € is an adult's) is caught, within the limits of shared words;
- every clause of the sentence ("..., et ...", "; ...") finds half its content words in them:
  a clause appended to a faithful one may carry a fact of its own.

Each rule is lexical and deterministic, and each rejection says which rule and which value
("number 30 not in [2]"). It proves no entailment: a sentence that keeps every number and name
and still says something else passes it; that is what the support test and the citation are
for. How often it catches a changed sentence, and keeps a faithful one, is measured by
``bench/perturb.py`` (``bench/results/citation_check.json``).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from commune.ingest.chunking import split_sentences

# -- normalisation ------------------------------------------------------------------------------

_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "«": '"', "»": '"', "“": '"'})
_CITATIONS = re.compile(r"\s*\[\d{1,3}\]")
_INNER_CITATIONS = re.compile(r"\s*(?:\[\d{1,3}\]\s*)+[,;]?(?=\s*\w)")


def normalize(text: str) -> str:
    """NFKC (non-breaking spaces become spaces), straight quotes, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).replace("”", '"')
    return " ".join(_CITATIONS.sub("", text).split())


# -- numbers ------------------------------------------------------------------------------------

_SPELLED = {
    "zéro": 0, "zero": 0, "deux": 2, "two": 2, "trois": 3, "three": 3, "quatre": 4, "four": 4,
    "cinq": 5, "five": 5, "six": 6, "sept": 7, "seven": 7, "huit": 8, "eight": 8, "neuf": 9,
    "nine": 9, "dix": 10, "ten": 10, "onze": 11, "eleven": 11, "douze": 12, "twelve": 12,
    "treize": 13, "thirteen": 13, "quatorze": 14, "fourteen": 14, "quinze": 15, "fifteen": 15,
    "seize": 16, "sixteen": 16, "vingt": 20, "twenty": 20, "trente": 30, "thirty": 30,
    "quarante": 40, "forty": 40, "cinquante": 50, "fifty": 50, "soixante": 60, "sixty": 60,
    "cent": 100, "hundred": 100, "mille": 1000, "thousand": 1000,
}  # fmt: skip
# "un"/"one" are left out: far more often an article or a pronoun than a count.
_UNITS = {
    "jour": "day", "jours": "day", "day": "day", "days": "day",
    "semaine": "week", "semaines": "week", "week": "week", "weeks": "week",
    "mois": "month", "month": "month", "months": "month",
    "an": "year", "ans": "year", "année": "year", "années": "year", "year": "year", "years": "year",
    "heure": "hour", "heures": "hour", "h": "hour", "hour": "hour", "hours": "hour",
    "minute": "minute", "minutes": "minute", "min": "minute",
    "€": "euro", "euro": "euro", "euros": "euro", "eur": "euro",
    "%": "percent", "percent": "percent", "pourcent": "percent",
    "ko": "kb", "kb": "kb", "kib": "kb", "kio": "kb", "mo": "mb", "mb": "mb", "mib": "mb",
    "mio": "mb", "go": "gb", "gb": "gb", "gib": "gb", "gio": "gb", "tb": "tb",  # "to": a word
}  # fmt: skip
# A dotted run of three or more groups is an address or a version: kept as written.
_DOTTED = r"\d+(?:\.\d+){2,}"
_DIGITS = r"\d+(?:(?: |,|\.)\d{3})*(?:[.,]\d+)?"
_NUMBER = re.compile(rf"(?<![\w.,/])({_DOTTED}|{_DIGITS})(?!\d)")
_UNIT_AFTER = re.compile(r"\s?(%|€|[A-Za-zÀ-ÿ]+)")
_WORD = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ]+(?:-[A-Za-zÀ-ÖØ-öø-ÿ]+)*")


def _values(token: str) -> set[str]:
    """Every reading of a written number: "1,500" is 1500 in English and 1.5 in French."""
    if re.fullmatch(_DOTTED, token):
        return {token}
    readings: set[str] = set()
    bare = token.replace(" ", "")
    for thousands, decimal in ((",", "."), (".", ",")):
        groups = bare.split(decimal)
        if len(groups) > 2:
            continue
        whole = groups[0]
        if thousands in whole and not re.fullmatch(rf"\d{{1,3}}(?:\{thousands}\d{{3}})+", whole):
            continue
        text = whole.replace(thousands, "") + ("." + groups[1] if len(groups) == 2 else "")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            readings.add(_canonical(float(text)))
    return readings or {bare}


def _canonical(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


@dataclass(frozen=True)
class Number:
    written: str
    values: frozenset[str]
    unit: str | None


def numbers(text: str, skip: Sequence[tuple[int, int]] = ()) -> list[Number]:
    """Numbers in digits or small spelled-out ones, each with the unit written after it."""
    found: list[Number] = []
    for m in _NUMBER.finditer(text):
        if any(a <= m.start() < b for a, b in skip):
            continue
        found.append(Number(m.group(1), frozenset(_values(m.group(1))), _unit(text, m.end())))
    for m in _WORD.finditer(text):
        if any(a <= m.start() < b for a, b in skip):
            continue
        parts = m.group(0).lower().split("-")
        if parts == ["cent"] and text[max(m.start() - 5, 0) : m.start()].lower() == "pour ":
            continue  # "5 pour cent": the unit of the number before
        if parts and all(p in _SPELLED for p in parts) and len(parts) <= 3:
            total = sum(_SPELLED[p] for p in parts)
            if len(parts) > 1 and parts[0] in {"cent", "mille"}:
                continue  # "cent-vingt" is rare enough to leave unread
            found.append(Number(m.group(0), frozenset({str(total)}), _unit(text, m.end())))
    return found


def _unit(text: str, end: int) -> str | None:
    m = _UNIT_AFTER.match(text, end)
    if not m:
        return None
    word = m.group(1).lower()
    if word == "pour" and text[m.end() : m.end() + 5].lower() == " cent":
        return "percent"
    return _UNITS.get(word)


# -- dates --------------------------------------------------------------------------------------

_MONTHS = {
    "janvier": 1, "février": 2, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
    "juillet": 7, "août": 8, "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11,
    "décembre": 12, "decembre": 12, "january": 1, "february": 2, "march": 3, "april": 4,
    "may": 5, "june": 6, "july": 7, "august": 8, "september": 9, "october": 10,
    "november": 11, "december": 12,
}  # fmt: skip
_WEEKDAYS = {
    "lundi": 1, "mardi": 2, "mercredi": 3, "jeudi": 4, "vendredi": 5, "samedi": 6,
    "dimanche": 7, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5,
    "saturday": 6, "sunday": 7,
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"(?P<d>\d{1,2})(?:er|st|nd|rd|th)?"
_YEAR = r"(?P<y>1[89]\d\d|2[01]\d\d)"
_DATES = [
    re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?!\d)"),
    re.compile(r"(?<![\d/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})(?!\d)"),
    re.compile(rf"(?<!\w){_DAY}\s+(?P<m>{_MONTH})(?:\s+{_YEAR})?(?!\w)", re.IGNORECASE),
    re.compile(rf"(?<!\w)(?P<m>{_MONTH})\s+{_DAY}(?:,?\s+{_YEAR})?(?!\w)", re.IGNORECASE),
    re.compile(rf"(?<!\w)(?P<m>{_MONTH})(?:\s+{_YEAR})?(?!\w)", re.IGNORECASE),
    re.compile(r"(?<!\w)(?P<w>" + "|".join(_WEEKDAYS) + r")s?(?!\w)", re.IGNORECASE),
]
# "may" and "mai"... "may" is a verb far more often than a month: only with a day or a year.
_BARE_MONTH_AMBIGUOUS = {"may"}


@dataclass(frozen=True)
class Date:
    written: str
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None

    def within(self, other: Date) -> bool:
        """The same date, or a part of it ("12 mars" of "12 mars 2024")."""
        if self.weekday is not None or other.weekday is not None:
            return self.weekday == other.weekday
        pairs = ((self.year, other.year), (self.month, other.month), (self.day, other.day))
        return all(mine is None or mine == theirs for mine, theirs in pairs)


def dates(text: str, language: str = "fr") -> tuple[list[Date], list[tuple[int, int]]]:
    """Dates and weekdays, with the spans they take (their digits are not read as numbers)."""
    found: list[Date] = []
    spans: list[tuple[int, int]] = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            if any(a < m.end() and m.start() < b for a, b in spans):
                continue
            g = m.groupdict()
            if g.get("w"):
                found.append(Date(m.group(0), weekday=_WEEKDAYS[g["w"].lower()]))
            elif g.get("a"):
                a, b = int(g["a"]), int(g["b"])
                day, month = (b, a) if language == "en" and a <= 12 else (a, b)
                found.append(Date(m.group(0), int(g["y"]), month, day))
            else:
                month_word = g["m"]
                if month_word.isdigit():
                    month = int(month_word)
                else:
                    if (
                        month_word.lower() in _BARE_MONTH_AMBIGUOUS
                        and not g.get("d")
                        and not g.get("y")
                    ):
                        continue
                    month = _MONTHS[month_word.lower()]
                year = int(g["y"]) if g.get("y") else None
                found.append(Date(m.group(0), year, month, int(g["d"]) if g.get("d") else None))
            spans.append((m.start(), m.end()))
    return found, spans


# -- negation -----------------------------------------------------------------------------------

_NEGATION = {
    "fr": re.compile(
        r"(?<!\w)(?:n'|(?:ne|sans|aucun|aucune|jamais|nullement|non|ni|rien)(?!\w))",
        re.IGNORECASE,
    ),
    "en": re.compile(
        r"(?<!\w)(?:not|no|never|none|nothing|nobody|neither|nor|without|cannot)(?!\w)"
        r"|n't(?!\w)",
        re.IGNORECASE,
    ),
}
# Restrictive "ne ... que" (only) and "n'importe" (any) are not negations.
_NOT_NEGATION = re.compile(r"n'importe|(?:ne\s+|n')(?:\w+\s+){1,3}qu", re.IGNORECASE)
_NEGATIVE_WORD = re.compile(r"(?<!\w)(?:pas|plus|jamais|rien|aucun|aucune|personne)(?!\w)", re.I)


def negated(text: str, language: str) -> bool:
    """Whether the sentence says "not" (in either language: a passage may mix them)."""
    for lang in (language, *(x for x in _NEGATION if x != language)):
        for m in _NEGATION[lang].finditer(text):
            word = m.group(0).lower()
            if word in {"ne", "n'"}:
                rest = text[m.start() :]
                if _NOT_NEGATION.match(rest) and not _NEGATIVE_WORD.search(rest[:60]):
                    continue
            return True
    return False


# -- named entities -----------------------------------------------------------------------------

_CODE = re.compile(
    r"`[^`]{1,60}`"  # `apt-get update`
    r"|(?<![\w/])(?:~|\.{1,2})?/[\w.+-]+(?:/[\w.+-]*)*"  # /etc/apt/sources.list
    r"|https?://\S+|[\w.+-]+@[\w-]+\.[\w.-]+"  # addresses
    r"|(?<![\w-])--?[a-z][\w-]*"  # --force, -y
    r"|\b[\w-]+(?:[._][\w-]+)+\b"  # sources.list, service-public.fr, x86_64
)
_CAPITAL = re.compile(
    r"(?<![\w-])(?<!\w\w')[A-ZÀ-ÖØ-Ý][\w'+.-]*[\w+]"
    r"(?:(?:(?:\s+(?:de|du|des|la|le|of|the))?\s+|\s+d')[A-ZÀ-ÖØ-Ý][\w'+.-]*[\w+])*"
)
# Capitalised but not names: words that open a clause, and the pronouns of address.
_NOT_NAMES = {
    "vous", "il", "elle", "ils", "elles", "nous", "on", "le", "la", "les", "un", "une", "des",
    "ce", "cette", "ces", "si", "en", "pour", "dans", "à", "au", "aux", "attention", "note",
    "i", "you", "it", "the", "a", "an", "this", "if", "in", "for", "to", "with",
    "de", "du", "et", "ou", "par", "sur", "avec", "and", "or", "by", "of", "as", "at", "is",
    "oui", "non", "yes", "no", "cas", "exemple", "example", "tip", "warning", "astuce",
}  # fmt: skip


def entities(text: str, skip: Sequence[tuple[int, int]] = ()) -> list[str]:
    """Names not at the start of the sentence, acronyms, and code: paths, commands, options."""
    found: list[str] = []
    taken: list[tuple[int, int]] = list(skip)  # dates: "March" is not a name
    for m in _CODE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        token = m.group(0).strip("'.,;:")
        if re.fullmatch(r"[\d.,]+", token) or re.fullmatch(r"[A-Za-zÀ-ÿ]+'[A-Za-zÀ-ÿ]+", token):
            continue  # a number, or an elision ("l'État") that the quote pattern caught
        if len(token) > 1:
            found.append(token)
            taken.append((m.start(), m.end()))
    first = re.match(r"\W*", text)
    start = first.end() if first else 0
    for m in _CAPITAL.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        name = m.group(0)
        words = name.split()
        at_start = m.start() <= start or re.search(r"[.:!?]\s*$", text[: m.start()]) is not None
        if at_start and not _acronym(words[0]):
            words = words[1:]  # the capital is the sentence's, not the name's
            while words and words[0].lower() in _NOT_NAMES:
                words = words[1:]
        while words and words[-1].lower() in _NOT_NAMES:
            words = words[:-1]
        if not words or (len(words) == 1 and words[0].lower() in _NOT_NAMES):
            continue
        if not words[0][0].isupper():
            continue
        found.append(" ".join(words))
    return found


def _acronym(word: str) -> bool:
    return sum(c.isupper() for c in word) >= 2


# -- the check ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claims:
    numbers: tuple[Number, ...]
    dates: tuple[Date, ...]
    negated: bool
    entities: tuple[str, ...]


def claims(text: str, language: str) -> Claims:
    text = normalize(text)
    found_dates, spans = dates(text, language)
    return Claims(
        tuple(numbers(text, spans)),
        tuple(found_dates),
        negated(text, language),
        tuple(entities(text, spans)),
    )


def _contains(haystack: str, needle: str) -> bool:
    return re.search(rf"(?<![\w]){re.escape(needle.lower())}(?![\w])", haystack.lower()) is not None


# A clause joined by a coordination ("..., et ...", "; ...") may carry a fact of its own: each
# clause of three content words or more must find this share of them in the passages (the
# whole sentence's share, SUPPORT_THRESHOLD in grounding, lets a short invented clause through).
# Chosen on the dev half of bench/perturb.py: from 0.3 to 0.5 every faithful dev pair was kept,
# and 0.5 rejected the most invented clauses.
CLAUSE_SUPPORT = 0.5
_CLAUSES = re.compile(
    r",\s+(?:et|and|mais|but|puis|then|or|ou)\s+|\s*;\s*|\s+—\s+"
    r"|\s+(?:et|and)\s+(?=(?:c'est|il|elle|on|vous|le|la|les|this|the|it|you)\b)"
)


def _unsupported_clauses(text: str, source: str, language: str) -> list[tuple[int, str]]:
    from commune.text.analysis import analyze

    held = set(analyze(source, language))
    out = []
    for i, clause in enumerate(_CLAUSES.split(text), 1):
        terms = set(analyze(clause, language))
        if len(terms) >= 3 and len(terms & held) / len(terms) < CLAUSE_SUPPORT:
            out.append((i, clause))
    return out


def _closest(clause: str, passages: Sequence[str], language: str) -> str:
    """The sentence or clause of the passages that shares the most words with ``clause``."""
    from commune.text.analysis import analyze

    mine = set(analyze(clause, language))
    best, score = "", -1.0
    for passage in passages:
        for whole in split_sentences(passage):
            # Its clauses too: "X is not Y; allow 2 hours" makes two claims.
            pieces = [
                c for c in _CLAUSES.split(whole) + re.split(r"\s+(?:mais|but)\s+", whole) if c
            ]
            for candidate in {whole, *pieces}:
                theirs = set(analyze(candidate, language))
                overlap = len(mine & theirs) / (len(mine | theirs) or 1)
                if overlap > score or (overlap == score and candidate < best):
                    best, score = candidate, overlap
    return best


def _negation_changed(text: str, passages: Sequence[str], language: str) -> str | None:
    """Whether a clause's polarity differs from the passage's closest one: "added", "dropped"."""
    clauses = [c for c in _CLAUSES.split(text) if len(c.split()) >= 3]
    for clause in clauses if len(clauses) > 1 else [text]:
        mine = negated(clause, language)
        if mine != negated(_closest(clause, passages, language), language):
            return "added" if mine else "dropped"
    return None


# A number or a name the passages hold, said of something else: "La carte d'identité d'un
# mineur est valable 15 ans" where the passage gives 15 years for an adult's card and 10 for a
# minor's. A model that picks the wrong figure of its context makes this mistake most often,
# and the checks above let it through (every value occurs somewhere). So the words around each
# number and name of the sentence (ALIGN_WINDOW words on each side) are laid beside the
# passage sentences that say most nearly the same thing, by their shared words (numbers left
# out, so that the changed value does not choose the sentence), and the value must stand in
# one of them. Around the value rather than the whole sentence: a faithful sentence may join
# two of the passage's ("X et Y"), each value beside its own. Sentences within ALIGN_NEAR of
# the closest share count; words that share under ALIGN_MIN with every sentence restate none,
# and are left to the rules above.
ALIGN_WINDOW = 12
ALIGN_MIN = 0.3
ALIGN_NEAR = 0.7
_DIGIT_TERM = re.compile(r"\d")
_ANAPHORA = re.compile(
    r"(?:Il|Elle|Ils|Elles|Celui-ci|Celle-ci|Ceux-ci|Celles-ci|Ce|Cet|Cette|Ces"
    r"|It|They|He|She|This|These|That|Those)(?!\w)"
)
_SPAN_WORD = re.compile(r"\S+")


def _content(text: str, language: str) -> set[str]:
    from commune.text.analysis import analyze

    return {t for t in analyze(text, language) if not _DIGIT_TERM.search(t)}


class _Around:
    """The words of a sentence around each of its values: from ALIGN_WINDOW before to
    ALIGN_WINDOW after, within the clause that holds them ("X; Y": Y's words say nothing of
    X's values). Clauses and words are found once and searched by bisection: a sentence
    quoting a table may hold thousands of values."""

    def __init__(self, text: str) -> None:
        self.text = text
        cuts = [(m.start(), m.end()) for m in _CLAUSES.finditer(text)]
        self.cut_starts = [a for a, _ in cuts]
        self.cut_ends = [b for _, b in cuts]
        words = [(m.start(), m.end()) for m in _SPAN_WORD.finditer(text)]
        self.starts = [a for a, _ in words]
        self.ends = [b for _, b in words]

    def __call__(self, start: int, end: int) -> str:
        i = bisect_right(self.cut_ends, start)
        low = self.cut_ends[i - 1] if i else 0
        i = bisect_left(self.cut_starts, end)
        high = self.cut_starts[i] if i < len(self.cut_starts) else len(self.text)
        # The clause's words, the first and last the value touches, then the window.
        lo, hi = bisect_right(self.ends, low), bisect_left(self.starts, high) - 1
        first, last = bisect_right(self.ends, start), bisect_left(self.starts, end) - 1
        if lo > hi or first > last:
            return self.text[low:high]
        a, b = max(first - ALIGN_WINDOW, lo), min(last + ALIGN_WINDOW, hi)
        return self.text[max(self.starts[a], low) : min(self.ends[b], high)]


def _statements(passage: str) -> list[str]:
    """The passage's sentences, a label joined to what it labels: "Example 6.1. Entry format
    in /etc/apt/sources.list" is cut after "6.1." (a capital follows), and "2. Data Link: ..."
    after "2.", but the number is the label's, and a sentence naming "example 6.1" restates
    the words it labels."""
    out: list[str] = []
    label = ""
    for piece in split_sentences(passage):
        if _NUMBER.search(piece) and len(piece.split()) <= 2:
            label = f"{label} {piece}".strip()
            continue
        out.append(f"{label} {piece}".strip())
        label = ""
    return [*out, label] if label else out


def _moved(
    text: str, passages: Sequence[str], language: str, flagged: set[str]
) -> list[tuple[str, str]]:
    """(kind, value) of each number or name held by the passages but not by the sentences
    its neighbouring words restate."""
    by_passage = [_statements(p) for p in passages]
    sentences = [s for p in by_passage for s in p]
    if not sentences:
        return []
    terms = [_content(s, language) for s in sentences]
    lowered = [s.lower() for s in sentences]
    # A passage sentence that opens on a pronoun ("Il détecte les disques.") is about a name of
    # the one before ("Le BIOS ..."): a sentence that writes that name in the pronoun's place,
    # before any word of the one it restates ("Le BIOS détecte les disques."), says what it says.
    antecedent: list[str | None] = []
    for p in by_passage:
        before = None
        for s in p:
            antecedent.append(before if _ANAPHORA.match(s) else None)
            before = s.lower()
    # Each passage sentence's numbers (a day or a year of a date counts), read once and only
    # when asked: a long passage's sentences are read once, not once per value of the sentence.
    held: dict[int, set[str]] = {}

    def values_of(i: int) -> set[str]:
        if i not in held:
            found = {v for n in numbers(sentences[i]) for v in n.values}
            for d in dates(sentences[i], language)[0]:
                found |= {str(part) for part in (d.year, d.day) if part is not None}
            held[i] = found
        return held[i]

    around = _Around(text)
    lower = text.lower()

    def near(start: int, end: int) -> list[int] | None:
        mine = _content(around(start, end), language)
        if not mine:
            return None
        shares = [len(mine & theirs) / len(mine) for theirs in terms]
        best = max(shares)
        if best < ALIGN_MIN:
            return None
        return [i for i, share in enumerate(shares) if share >= ALIGN_NEAR * best]

    def holds(name: re.Pattern[str], i: int, start: int) -> bool:
        """Whether passage sentence ``i`` holds the name the sentence writes at ``start``."""
        if name.search(lowered[i]):
            return True
        earlier = antecedent[i]
        return (
            earlier is not None
            and name.search(earlier) is not None
            and not (_content(text[:start], language) & terms[i])
        )

    out: list[tuple[str, str]] = []
    _, spans = dates(text, language)
    for m in _NUMBER.finditer(text):
        if any(a <= m.start() < b for a, b in spans) or m.group(1) in flagged:
            continue
        found = near(m.start(), m.end())
        if found is None:
            continue
        if not any(_values(m.group(1)) & values_of(i) for i in found):
            out.append(("number", m.group(1)))
    for name in dict.fromkeys(entities(text, spans)):
        if name in flagged:
            continue
        pattern = re.compile(rf"(?<![\w]){re.escape(name.lower())}(?![\w])")
        # Each place the sentence names it: "/etc/" beside "/etc/selinux/" is another value.
        places = [(m.start(), near(m.start(), m.end())) for m in pattern.finditer(lower)]
        if places and all(
            f is not None and not any(holds(pattern, i, start) for i in f) for start, f in places
        ):
            out.append(("name", name))
    return out


@dataclass(frozen=True)
class Contradiction:
    """One claim of the sentence its passages do not make: which rule, which value, where."""

    kind: str  # "number", "date", "name", "negation" or "clause" (a clause not supported)
    value: str  # as the sentence writes it ("30", "12 mars", "MSA"; "added" or "dropped")
    where: str  # the cited passages, "[2]" or "[1][3]"
    detail: str = ""
    # A number or a name the passages hold, beside other words than the sentence's (_moved).
    elsewhere: bool = False

    def __str__(self) -> str:
        if self.elsewhere:
            return f"{self.kind} {self.value} said of something else in {self.where}"
        if self.kind == "negation":
            what = "adds a negation" if self.value == "added" else "drops the negation"
            return f"{what} of {self.where}"
        if self.kind == "clause":
            return f"clause {self.value} not supported by {self.where}{self.detail}"
        return f"{self.kind} {self.value} not in {self.where}{self.detail}"


def contradictions(
    sentence: str, passages: Sequence[str], language: str, cited: Sequence[int] = ()
) -> list[Contradiction]:
    """What the sentence claims that its passages do not ([] when every claim is found).

    ``cited`` only names the passages in the reasons ("number 30 not in [2]").
    """
    where = "[" + "][".join(str(n) for n in cited) + "]" if cited else "the passage"
    text = normalize(sentence)
    source = normalize(" ".join(passages))
    mine = claims(text, language)
    theirs = claims(source, language)
    # Every number the passages hold, wherever it stands (a day of a date counts too).
    held: dict[str, set[str | None]] = {}
    for n in numbers(source):
        for v in n.values:
            held.setdefault(v, set()).add(n.unit)
    for d in theirs.dates:
        for part in (d.year, d.day):
            if part is not None:
                held.setdefault(str(part), set()).add(None)
    found: list[Contradiction] = []
    for n in mine.numbers:
        units: set[str | None] = set().union(*(held.get(v, set()) for v in n.values))
        if not units:
            found.append(Contradiction("number", n.written, where))
        elif n.unit and n.unit not in units and None not in units:
            given = " or ".join(sorted(u for u in units if u))
            found.append(Contradiction("number", f"{n.written} {n.unit}", where, f" ({given})"))
    for d in mine.dates:
        if not any(d.within(other) for other in theirs.dates) or (
            d.year is not None and str(d.year) not in held
        ):
            found.append(Contradiction("date", d.written, where))
    for name in mine.entities:
        if not _contains(source, name):
            found.append(Contradiction("name", name, where))
    flagged = {c.value for c in found} | {c.value.split(" ")[0] for c in found}
    # A citation within the sentence closes what rests on it ("X [1], Y [2]."): Y's words say
    # nothing of X's values.
    parts = normalize(_INNER_CITATIONS.sub(" ; ", sentence))
    for kind, value in _moved(parts, [normalize(p) for p in passages], language, flagged):
        found.append(Contradiction(kind, value, where, elsewhere=True))
    for i, clause in _unsupported_clauses(text, source, language):
        found.append(Contradiction("clause", str(i), where, f" ({clause[:40]}...)"))
    flipped = _negation_changed(text, [normalize(p) for p in passages], language)
    if flipped:
        found.append(Contradiction("negation", flipped, where))
    return found
