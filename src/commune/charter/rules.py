"""The charter: the cooperative's rules for its AI, as a versioned TOML file in the home.

``charter.toml`` is validated when it is loaded (at start-up for ``commune serve``): a wrong
key, type or value stops with the file, the line and the reason. With no file, the default
charter below is in force; it is permissive but sober (extractive first, cache on, no
refusal rule) and says so on the transparency page.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from commune.commons.payouts import Weights
from commune.config import (
    OPENNESS,
    TOP_KEYS,
    config_file_present,
    jurisdiction_problem,
    own_tables,
    read_config_text,
    setting_tables,
)
from commune.errors import ConfigError
from commune.store.check import Check

CHARTER_FILE = "charter.toml"
MODE_PREFERENCES = ("extractive-first", "generation-first")
KEEP_QUESTION = ("hash", "text")
# The longest a record or a cached answer may be kept: a century. Each is compared with
# today minus it, and a span reaching before the year 1 stopped every answer ("a number is
# out of range") under a charter `commune charter check` had called valid.
MAX_RETENTION_DAYS = 36525
MAX_CACHE_TTL_HOURS = MAX_RETENTION_DAYS * 24


@dataclass(frozen=True)
class RefusalRule:
    """Uses or topics the cooperative excludes, with the message shown to whoever asked."""

    name: str
    message_fr: str
    message_en: str
    # Any of these words or phrases in the question (compared after analysis: stems,
    # accents folded, in French and English) triggers the rule.
    words: tuple[str, ...] = ()
    # Members whose declared use is one of these are refused ("commercial" for a
    # cooperative that keeps its commons to public service).
    uses: tuple[str, ...] = ()

    def message(self, language: str) -> str:
        return self.message_fr if language == "fr" else self.message_en


# The European Union's member states (ISO 3166-1 alpha-2): "EU" in a charter's jurisdictions
# admits an endpoint hosted in any of them. Compared as written, an endpoint in Germany
# ("DE") was refused as "hosted outside the allowed jurisdictions (DE; allowed: FR, EU)".
EU_MEMBERS = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)


def hosted_within(jurisdictions: Collection[str], where: str | None) -> bool:
    """Whether a model hosted in ``where`` (an ISO 3166 code, or "EU") is in one of the
    charter's ``jurisdictions``: named there, or a member state of the EU when "EU" is."""
    if where is None:
        return False
    return where in jurisdictions or ("EU" in jurisdictions and where in EU_MEMBERS)


@dataclass(frozen=True)
class Sovereignty:
    # Where models and endpoints may be hosted (ISO 3166 codes, or "EU": its member states).
    jurisdictions: tuple[str, ...] = ("FR", "EU")
    # Where this server, and so every local model, runs.
    local_jurisdiction: str = "FR"
    openness: tuple[str, ...] = ("MOF-I", "MOF-II", "MOF-III", "open-weights")
    # Collections whose passages are never sent to a remote endpoint.
    stays_here: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sobriety:
    request_wh_cap: float | None = None  # a model estimated above it is not used
    member_month_wh_cap: float | None = None  # past it, a member's requests are refused
    mode_preference: str = "extractive-first"
    cache: bool = True
    cache_ttl_hours: float = 24.0
    # Two questions at least this close in meaning (cosine of their USE-v3 embeddings, same
    # language and scope) share a cached answer. Chosen on the evaluation suite's dev split
    # (bench/calibrate_cache.py): no two of its questions with different expected answers
    # merge above 0.81; with a 0.05 margin, 0.86 merges none on dev or test either, and
    # still finds 93% of retyped variants (greeting, "please", swapped letters).
    near_duplicate_cosine: float | None = 0.86
    # The share of evaluation questions answered correctly that a way of answering must
    # reach on a collection to be chosen for it.
    quality_floor: float = 0.5
    quality_floors: tuple[tuple[str, float], ...] = ()

    def floor(self, collection: str | None) -> float:
        return dict(self.quality_floors).get(collection or "", self.quality_floor)


@dataclass(frozen=True)
class Utility:
    refuse: tuple[RefusalRule, ...] = ()
    retention_days: int = 90
    keep_question: str = "hash"  # "hash": the record keeps only the question's SHA-256
    transparency_public: bool = True


@dataclass(frozen=True)
class Charter:
    version: str = "default"
    name: str = "Commune's default charter"
    sovereignty: Sovereignty = field(default_factory=Sovereignty)
    sobriety: Sobriety = field(default_factory=Sobriety)
    utility: Utility = field(default_factory=Utility)
    # How the contributors' payouts fund is split among citations, published documents and
    # curation reviews (commons/payouts.py gives the defaults' reasons).
    payouts: Weights = field(default_factory=Weights)
    sha256: str = ""
    text: str = ""  # the file as written ("" for the default)
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("text")
        out["sobriety"]["quality_floors"] = dict(self.sobriety.quality_floors)
        return out


class _Lines:
    """Finds the line of a key in the file, for error messages (tomllib gives none)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def of(self, table: str, key: str | None = None, index: int | None = None) -> int | None:
        start = 0
        if table:
            header = re.compile(
                rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]"
                if index is not None
                else rf"^\s*\[\s*{re.escape(table)}\s*\]"
            )
            seen = -1
            for i, line in enumerate(self.lines):
                if header.match(line):
                    seen += 1
                    if index is None or seen == index:
                        start = i
                        break
            else:
                return None
            if key is None:
                return start + 1
        pattern = re.compile(rf"^\s*[\"']?{re.escape(key or '')}[\"']?\s*=")
        for i in range(start + (1 if table else 0), len(self.lines)):
            if table and i > start and re.match(r"^\s*\[", self.lines[i]):
                break
            if pattern.match(self.lines[i]):
                return i + 1
        return start + 1 if table else None

    def item(self, table: str, key: str, index: int) -> int | None:
        """The line where the item number ``index`` (from 0) of the array ``key = [...]`` in
        ``[table]`` begins: a refusal rule written ``refuse = [{…}, {…}]`` over several lines
        is named by its own line, not by the line of ``refuse = [``. Every item counts, an
        inline table or not: a rule written as a string (``refuse = ["publicité", {…}]``) is
        item 0, and its error names its line, not the line of the table after it."""
        first = self.of(table, key)
        if first is None:
            return None
        text = "\n".join(self.lines[first - 1 :])
        at, line, seen = text.find("=") + 1, first, -1
        opened: list[str] = []
        expecting = False  # in the array, after its "[" or a ",": the next item begins
        while 0 < at < len(text):
            c = text[at]
            if opened == ["["] and expecting and c not in " \t\r\n#,]":
                seen, expecting = seen + 1, False
                if seen == index:
                    return line
            if c == "\n":
                line += 1
            elif c == "#":
                at = text.find("\n", at) - 1 if "\n" in text[at:] else len(text)
            elif c in "\"'":
                quote = c * 3 if text.startswith(c * 3, at) else c
                end = at + len(quote)
                while end < len(text) and not text.startswith(quote, end):
                    end += 2 if c == '"' and text[end] == "\\" else 1
                # A multi-line string may end with one or two quotes of its own before its
                # three: """il dit "non"""" holds 'il dit "non"'.
                for _ in range(2 if len(quote) == 3 else 0):
                    if text.startswith(quote + c, end):
                        end += 1
                line += text.count("\n", at, end)
                at = end + len(quote) - 1
            elif c in "[{":
                opened.append(c)
                expecting = opened == ["["]
            elif c == "," and opened == ["["]:
                expecting = True
            elif c in "]}":
                if opened:
                    opened.pop()
                if not opened:
                    return None  # the array closed before its item number ``index``
            at += 1
        return None


MOVE_CHARTER = "move the [charter] table (tdm_reserved) into commune.toml"


class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _Lines(text)

    def fail(
        self,
        table: str,
        key: str | None,
        reason: str,
        index: int | None = None,
        hint: str = "fix the charter (docs/charter.md) and start again",
    ) -> NoReturn:
        line = self.lines.of(table, key, index)
        if line is None:
            # Written as TOML also allows, a rule named no line: one pair of brackets where
            # two are meant ([utility.refuse]), or an inline table in its parent's array
            # (refuse = [{…}]).
            found: list[tuple[str, str | None]] = []
            if key:
                found.append((f"{table}.{key}".strip("."), None))
            if index is not None:
                found.append((table, None))
            line = next((n for t, k in found if (n := self.lines.of(t, k))), None)
            if line is None and "." in table:
                parent, _, last = table.rpartition(".")
                if index is not None:
                    line = self.lines.item(parent, last, index)
                line = line or self.lines.of(parent, last)
        where = f"{self.path}" + (f", line {line}" if line else "")
        name = ".".join(p for p in (table, key) if p)
        raise ConfigError(f"{where}: {name}: {reason}", hint)

    def table(
        self, raw: Any, table: str, known: set[str], index: int | None = None
    ) -> dict[str, Any]:
        if not isinstance(raw, dict):
            self.fail(table, None, "must be a table", index)
        for key in raw:
            if key not in known:
                self.fail(table, key, f"unknown key; known keys: {', '.join(sorted(known))}", index)
        return raw

    def string(
        self,
        raw: dict[str, Any],
        table: str,
        key: str,
        choices: Collection[str] | None = None,
        index: int | None = None,
    ) -> str:
        value = raw[key]
        if not isinstance(value, str) or not value.strip():
            self.fail(table, key, f"must be a non-empty string, got {value!r}", index)
        if choices and value not in choices:
            self.fail(table, key, f"must be one of {', '.join(choices)}, got {value!r}", index)
        return value

    def strings(
        self,
        raw: dict[str, Any],
        table: str,
        key: str,
        choices: Collection[str] | None = None,
        index: int | None = None,
    ) -> tuple[str, ...]:
        value = raw[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.fail(table, key, f"must be a list of non-empty strings, got {value!r}", index)
        for v in value:
            if choices and v not in choices:
                self.fail(table, key, f"{v!r} is not one of {', '.join(choices)}", index)
        return tuple(value)

    def number(self, raw: dict[str, Any], table: str, key: str, share: bool = False) -> float:
        value = raw[key]
        # TOML has inf and nan: neither is a cap, a lifetime or a share (nan passes every
        # comparison, and an infinite lifetime stopped every answer at the cache).
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            self.fail(table, key, f"must be a finite number greater than 0, got {value!r}")
        if share and value > 1:
            self.fail(table, key, f"is a share of questions: between 0 and 1, got {value!r}")
        return float(value)

    def boolean(self, raw: dict[str, Any], table: str, key: str) -> bool:
        value = raw[key]
        if not isinstance(value, bool):
            self.fail(table, key, f"must be true or false, got {value!r}")
        return value


def _sovereignty(r: _Reader, raw: Any) -> Sovereignty:
    t = "sovereignty"
    raw = r.table(raw, t, set(Sovereignty.__dataclass_fields__))
    values: dict[str, Any] = {}
    for key in ("jurisdictions", "stays_here"):
        if key in raw:
            values[key] = r.strings(raw, t, key)
    if "openness" in raw:
        values["openness"] = r.strings(raw, t, "openness", OPENNESS)
    if "local_jurisdiction" in raw:
        values["local_jurisdiction"] = r.string(raw, t, "local_jurisdiction")
    # Compared as written with the models' jurisdictions ("FR"): "France" or "fr" was taken
    # without a word, then matched no model, so that every one, the local ones too, was
    # refused as hosted outside the charter's jurisdictions.
    for key in ("jurisdictions", "local_jurisdiction"):
        given = values.get(key, ())
        for code in (given,) if isinstance(given, str) else given:
            if problem := jurisdiction_problem(code):
                r.fail(t, key, problem)
    return Sovereignty(**values)


def _sobriety(r: _Reader, raw: Any) -> Sobriety:
    t = "sobriety"
    raw = r.table(raw, t, set(Sobriety.__dataclass_fields__))
    values: dict[str, Any] = {}
    for key in ("request_wh_cap", "member_month_wh_cap", "cache_ttl_hours"):
        if key in raw:
            values[key] = r.number(raw, t, key)
    if values.get("cache_ttl_hours", 0) > MAX_CACHE_TTL_HOURS:
        r.fail(
            t,
            "cache_ttl_hours",
            f"must be at most {MAX_CACHE_TTL_HOURS} (a century), got {raw['cache_ttl_hours']!r}",
        )
    for key in ("near_duplicate_cosine", "quality_floor"):
        if key in raw:
            values[key] = r.number(raw, t, key, share=True)
    if "mode_preference" in raw:
        values["mode_preference"] = r.string(raw, t, "mode_preference", MODE_PREFERENCES)
    if "cache" in raw:
        values["cache"] = r.boolean(raw, t, "cache")
    if "quality_floors" in raw:
        floors = raw["quality_floors"]
        if not isinstance(floors, dict):
            r.fail(t, "quality_floors", "must be a table: collection = floor")
        values["quality_floors"] = tuple(
            (name, r.number(floors, f"{t}.quality_floors", name, share=True))
            for name in sorted(floors)
        )
    return Sobriety(**values)


def _utility(r: _Reader, raw: Any) -> Utility:
    t = "utility"
    raw = r.table(raw, t, set(Utility.__dataclass_fields__))
    values: dict[str, Any] = {}
    if "retention_days" in raw:
        days = raw["retention_days"]
        if isinstance(days, bool) or not isinstance(days, int) or days <= 0:
            r.fail(t, "retention_days", f"must be a whole number of days above 0, got {days!r}")
        if days > MAX_RETENTION_DAYS:
            r.fail(
                t,
                "retention_days",
                f"must be at most {MAX_RETENTION_DAYS} days (a century), got {days!r}",
            )
        values["retention_days"] = days
    if "keep_question" in raw:
        values["keep_question"] = r.string(raw, t, "keep_question", KEEP_QUESTION)
    if "transparency_public" in raw:
        values["transparency_public"] = r.boolean(raw, t, "transparency_public")
    if "refuse" in raw:
        rules = raw["refuse"]
        if not isinstance(rules, list):
            r.fail(t, "refuse", "must be an array of tables: [[utility.refuse]]")
        parsed, names = [], set()
        for i, rule in enumerate(rules):
            rt = "utility.refuse"
            rule = r.table(rule, rt, set(RefusalRule.__dataclass_fields__), i)
            for key in ("name", "message_fr", "message_en"):
                if key not in rule:
                    r.fail(rt, None, f"rule {i + 1} needs {key}", i)
            name = r.string(rule, rt, "name", index=i)
            if name in names:
                r.fail(rt, "name", f"two rules are named {name!r}", i)
            names.add(name)
            words = r.strings(rule, rt, "words", index=i) if "words" in rule else ()
            for phrase in words:
                if not _counts(phrase):
                    # Matched as the question's terms are (charter/steps.py): a phrase of
                    # stop words or signs alone has none, and would refuse nothing, silently.
                    r.fail(
                        rt,
                        "words",
                        f"{phrase!r} holds no word that counts (only stop words or signs): "
                        "it can never match",
                        i,
                    )
            from commune.govern.members import DECLARED_USES

            uses = r.strings(rule, rt, "uses", DECLARED_USES, i) if "uses" in rule else ()
            if not words and not uses:
                r.fail(rt, None, f"rule {name!r} needs words or uses to match", i)
            parsed.append(
                RefusalRule(
                    name,
                    r.string(rule, rt, "message_fr", index=i),
                    r.string(rule, rt, "message_en", index=i),
                    words,
                    uses,
                )
            )
        values["refuse"] = tuple(parsed)
    return Utility(**values)


def _payouts(r: _Reader, raw: Any) -> Weights:
    """The payout weights: all three, since a table that left one out would leave the reader
    guessing whether it kept its default or was meant to be 0."""
    t = "payouts"
    if isinstance(raw, dict) and "monthly_eur" in raw:
        # commune.toml's [payouts] holds the fund; this one, how it is split.
        r.fail(
            t,
            "monthly_eur",
            "a setting of commune.toml's [payouts], not of charter.toml",
            hint="move monthly_eur into commune.toml's [payouts]",
        )
    raw = r.table(raw, t, set(Weights.__dataclass_fields__))
    values: dict[str, float] = {}
    for key in Weights.__dataclass_fields__:
        if key not in raw:
            r.fail(t, None, f"{key} is missing: give all three weights (0 leaves a measure out)")
        value = raw[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            r.fail(t, key, f"must be a weight of 0 or more, got {value!r}")
        values[key] = float(value)
    if not any(values.values()):
        r.fail(t, None, "the weights are all 0: at least one measure must pay")
    return Weights(**values)


def payout_weights(text: str, where: str) -> Weights:
    """The ``[payouts]`` weights of a charter's text as it was recorded in force (``where``
    names that version in an error): the defaults where it has no such table, as the
    default charter ("") has none."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: not valid TOML: {exc}", "fix the charter") from None
    if "payouts" not in raw:
        return Weights()
    return _payouts(_Reader(Path(where), text), raw["payouts"])


def default_charter() -> Charter:
    base = Charter()
    digest = hashlib.sha256(json.dumps(base.to_json(), sort_keys=True).encode()).hexdigest()
    return Charter(sha256=digest)


def load_charter(home: Path, path: Path | None = None) -> Charter:
    """The charter in force for a home: its ``charter.toml``, else the default."""
    file = path or home / CHARTER_FILE
    if not config_file_present(file):
        if path is not None:
            raise ConfigError(f"no charter at {file}", "give the path of a charter.toml")
        return default_charter()
    text = read_config_text(file)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}", "fix the charter") from None
    r = _Reader(file, text)
    known = {"version", "name", "sovereignty", "sobriety", "utility", "payouts"}
    for key in raw:
        if key == "charter":
            # [charter] tdm_reserved is read from commune.toml (config.py); the guides call it
            # "the asking side's charter", and an operator put it here, to be told only that
            # the key was unknown.
            r.fail("", key, "a table of commune.toml, not of charter.toml", hint=MOVE_CHARTER)
        if key not in known and key in own_tables():
            # [retrieval], [limits], [models.NAME]… written here: "unknown" and the charter's
            # keys sent the operator looking for a misspelling.
            r.fail(
                "",
                key,
                "a table of commune.toml, not of charter.toml",
                hint=f"move the [{key}] table into commune.toml",
            )
        if key not in known and key in TOP_KEYS:
            # database_url written here was told only "unknown key", with the charter's keys:
            # the operator looked for a misspelling, not for the other file.
            r.fail(
                "",
                key,
                "a setting of commune.toml, not of charter.toml",
                hint=f"move the {key} line into commune.toml",
            )
        tables = [] if key in known else setting_tables(key)
        if tables:  # session_hours, max_file_mb… written before any table
            r.fail(
                "",
                key,
                f"a setting of commune.toml's {tables[0]}, not of charter.toml",
                hint=f"move that line into commune.toml, under {tables[0]}",
            )
        if key not in known:
            r.fail("", key, f"unknown key; known: {', '.join(sorted(known))}")
    if "version" not in raw:
        raise ConfigError(
            f"{file}, line 1: version is missing",
            'a charter is versioned: add version = "2026-12-01" (or your own scheme)',
        )
    version = r.string(raw, "", "version") if isinstance(raw["version"], str) else None
    if version is None:
        r.fail("", "version", f"must be a string, got {raw['version']!r}")
    return Charter(
        version=str(version),
        name=r.string(raw, "", "name") if "name" in raw else "Charter",
        sovereignty=_sovereignty(r, raw.get("sovereignty", {})),
        sobriety=_sobriety(r, raw.get("sobriety", {})),
        utility=_utility(r, raw.get("utility", {})),
        payouts=_payouts(r, raw["payouts"]) if "payouts" in raw else Weights(),
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        text=text,
        path=str(file),
    )


def unknown_collections(charter: Charter, known: Collection[str]) -> list[str]:
    """What ``charter`` names as a collection (stays_here, quality_floors) that is none of
    ``known``, one line each. Not an error: a charter may name a collection before it is
    made. But a misspelt name is valid TOML that does nothing, and in stays_here it sent the
    passages it meant to keep here to a remote endpoint."""
    held = f"(known: {', '.join(sorted(known))})" if known else "(it holds none yet)"
    named = [("sovereignty.stays_here", n) for n in charter.sovereignty.stays_here]
    named += [("sobriety.quality_floors", n) for n, _ in charter.sobriety.quality_floors]
    return [
        f"{key}: {name!r} is no collection of this home {held}: a misspelt name does nothing"
        for key, name in named
        if name not in known
    ]


def check_charter(home: Path) -> Check:
    """`commune check`'s line for the charter: a charter.toml that every question would
    refuse (invalid TOML, not UTF-8, a wrong key) fails the check, as it fails `ask`."""
    try:
        charter = load_charter(home)
    except ConfigError as exc:
        return Check("charter", False, str(exc))
    where = charter.path or "the default charter (no charter.toml)"
    return Check("charter", True, f"{where}: valid, version {charter.version}")


def _counts(phrase: str) -> bool:
    """Whether ``phrase`` holds a term in French or in English, as a question is read."""
    from commune.text.analysis import analyze

    return bool(analyze(phrase, "fr") or analyze(phrase, "en"))
