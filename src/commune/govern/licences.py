"""Licences as SPDX expressions: validation, and what each licence asks of its users.

The knowledge table below is the cooperative's reading of each licence: does it
require attribution, share-alike, forbid commercial use or derivatives, or is it
public domain. An expression is read the way a re-user may: for "A OR B" the
alternative with the fewest obligations, for "A AND B" the obligations of both.
A licence missing from the table has unknown terms: its documents wait for a
curator instead of being published.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from commune.errors import CommuneError
from commune.text.typography import NBSP


@dataclass(frozen=True)
class Terms:
    name: str
    url: str
    attribution: bool = True
    share_alike: bool = False
    non_commercial: bool = False
    no_derivatives: bool = False
    public_domain: bool = False

    @property
    def burden(self) -> int:
        return sum(
            (self.attribution, self.share_alike, 2 * self.non_commercial, 2 * self.no_derivatives)
        )


def _cc(code: str, version: str, name: str) -> Terms:
    parts = code.split("-")
    return Terms(
        name=f"Creative Commons {name} {version}",
        url=f"https://creativecommons.org/licenses/{code.lower().removeprefix('cc-')}/{version}/",
        share_alike="SA" in parts,
        non_commercial="NC" in parts,
        no_derivatives="ND" in parts,
    )


TERMS: dict[str, Terms] = {
    "CC0-1.0": Terms(
        "Creative Commons Zero 1.0",
        "https://creativecommons.org/publicdomain/zero/1.0/",
        attribution=False,
        public_domain=True,
    ),
    "PDDL-1.0": Terms(
        "Open Data Commons Public Domain Dedication and License 1.0",
        "https://opendatacommons.org/licenses/pddl/1-0/",
        attribution=False,
        public_domain=True,
    ),
    "etalab-2.0": Terms(
        "Licence Ouverte / Open Licence 2.0 (Etalab)",
        "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    ),
    "ODC-By-1.0": Terms(
        "Open Data Commons Attribution License 1.0", "https://opendatacommons.org/licenses/by/1-0/"
    ),
    "ODbL-1.0": Terms(
        "Open Data Commons Open Database License 1.0",
        "https://opendatacommons.org/licenses/odbl/1-0/",
        share_alike=True,
    ),
    "MIT": Terms("MIT License", "https://opensource.org/license/mit"),
    "Apache-2.0": Terms("Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    "BSD-3-Clause": Terms("BSD 3-Clause License", "https://opensource.org/license/bsd-3-clause"),
    "GPL-2.0-or-later": Terms(
        "GNU General Public License v2.0 or later",
        "https://www.gnu.org/licenses/old-licenses/gpl-2.0.html",
        share_alike=True,
    ),
    "GPL-3.0-or-later": Terms(
        "GNU General Public License v3.0 or later",
        "https://www.gnu.org/licenses/gpl-3.0.html",
        share_alike=True,
    ),
    "AGPL-3.0-or-later": Terms(
        "GNU Affero General Public License v3.0 or later",
        "https://www.gnu.org/licenses/agpl-3.0.html",
        share_alike=True,
    ),
    "GFDL-1.3-or-later": Terms(
        "GNU Free Documentation License v1.3 or later",
        "https://www.gnu.org/licenses/fdl-1.3.html",
        share_alike=True,
    ),
}
for _version in ("3.0", "4.0"):
    for _code, _name in (
        ("CC-BY", "Attribution"),
        ("CC-BY-SA", "Attribution-ShareAlike"),
        ("CC-BY-NC", "Attribution-NonCommercial"),
        ("CC-BY-ND", "Attribution-NoDerivatives"),
        ("CC-BY-NC-SA", "Attribution-NonCommercial-ShareAlike"),
        ("CC-BY-NC-ND", "Attribution-NonCommercial-NoDerivatives"),
    ):
        TERMS[f"{_code}-{_version}"] = _cc(_code, _version, _name)


@lru_cache(maxsize=1)
def spdx_licensing() -> Any:  # license-expression ships no type hints
    """The SPDX licensing index, built once: building it takes a tenth of a second."""
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


# SPDX's own way to name a licence its list does not hold: "LicenseRef-" and an idstring
# (letters, digits, "." and "-"). A cooperative names its own licence so, and records its text.
LICENCE_REF = re.compile(r"^LicenseRef-[A-Za-z0-9.-]+$", re.IGNORECASE)
_UNKNOWN_KEYS = "Unknown license key"


# The longest LicenseRef-… name: its text is recorded under it (licence_texts.identifier).
MAX_REF = 200


def normalise(expression: str) -> str:
    """Return the canonical SPDX form of ``expression`` or raise with the reason."""
    hint = (
        "give an SPDX expression such as CC-BY-SA-4.0, etalab-2.0 or "
        "'GPL-2.0-or-later OR CC-BY-SA-3.0', or your own licence as LicenseRef-NAME"
    )
    if not expression.strip():
        raise CommuneError("the licence is empty", hint)
    if _dangling(expression):
        # license-expression drops an operator left at the end of a chain of its kind: "MIT
        # OR Apache-2.0 OR", the third licence forgotten, was stored as "MIT OR Apache-2.0".
        raise CommuneError(f"invalid licence {expression!r}: {malformed(expression)}", hint)
    try:
        info = spdx_licensing().validate(expression.strip())
    except Exception:  # license-expression itself fails on some malformed input ("MIT/GPL")
        raise CommuneError(
            f"invalid licence {expression!r}: {malformed(expression)}", hint
        ) from None
    unknown = [s for s in info.invalid_symbols if not LICENCE_REF.match(s)]
    # The library's "Unknown license key(s): …" is said in our words (and so in French): the
    # identifiers it names are ours to list.
    errors = [e for e in info.errors if not e.startswith(_UNKNOWN_KEYS)]
    misspelt = [s for s in unknown if s.lower().startswith("licenseref-")]
    if misspelt and not errors:
        # "LicenseRef-Ville de Lyon" is a name of the cooperative's own, spaces and all: it
        # read "unknown to SPDX", which SPDX never knows any LicenseRef- to be.
        spelt = _ref_spelled(misspelt[0])
        if spelt is None:  # "LicenseRef-" alone
            raise CommuneError(
                f"invalid licence {expression!r}: LicenseRef- needs a name after it",
                "name your own licence as in LicenseRef-Ville-de-Lyon",
            )
        raise CommuneError(
            f"invalid licence {expression!r}: {misspelt[0]} is not a LicenseRef- name: "
            "letters, digits, '.' and '-' only after LicenseRef-",
            f"write {spelt}",
        )
    if unknown and not errors:
        raise CommuneError(
            f"invalid licence {expression!r}: unknown to SPDX: {', '.join(unknown)}", hint
        )
    if errors:
        raise CommuneError(f"invalid licence {expression!r}: {malformed(expression)}", hint)
    longest = max(info.invalid_symbols, key=len, default="")
    if len(longest) > MAX_REF:
        # Its text is recorded under it (licence_texts.identifier, 200 characters): SQLite
        # stored a longer one, and on PostgreSQL the add failed on the column's length.
        raise CommuneError(
            f"a LicenseRef- name is {len(longest)} characters long, over {MAX_REF}",
            "give your own licence a shorter LicenseRef-NAME",
        )
    if info.invalid_symbols:  # LicenseRef-… only: SPDX knows none, by definition
        fixed = re.sub(r"(?i)\blicenseref-", "LicenseRef-", expression.strip())
        return str(spdx_licensing().parse(fixed, validate=False))
    return str(info.normalized_expression)


def malformed(expression: str) -> str:
    """Why ``expression`` does not parse, in our words. The library's own ("A plain license
    symbol cannot be used as an exception in a \"WITH symbol\" statement. for token: …") are
    English in every language, and read so inside a French line."""
    from license_expression import (
        PARSE_INVALID_EXCEPTION,
        PARSE_INVALID_EXPRESSION,
        PARSE_INVALID_OPERATOR_SEQUENCE,
        PARSE_INVALID_SYMBOL_AS_EXCEPTION,
        PARSE_INVALID_SYMBOL_SEQUENCE,
        ExpressionParseError,
    )

    expression = expression.strip()
    if expression.count("(") != expression.count(")"):
        return "unbalanced parentheses"
    if _dangling(expression):  # MIT OR, (MIT AND) OR Apache-2.0
        return "each AND, OR or WITH needs a licence on either side"
    joined = _JOINED.search(expression)
    if joined:  # MIT/Apache-2.0, as package metadata and web pages write it
        sign = joined.group(1) or joined.group(2)
        return f"{sign!r} does not join licences: write OR (either) or AND (both)"
    try:
        spdx_licensing().parse(expression, strict=True)
    except ExpressionParseError as exc:
        token = exc.token_string
        if exc.error_code == PARSE_INVALID_EXCEPTION:  # an exception alone
            return f"{token} is an exception: it follows WITH, as in GPL-2.0-or-later WITH {token}"
        if exc.error_code == PARSE_INVALID_SYMBOL_AS_EXCEPTION:  # MIT WITH GPL-2.0
            return (
                f"after WITH comes a licence exception such as Classpath-exception-2.0, not {token}"
            )
        if exc.error_code == PARSE_INVALID_OPERATOR_SEQUENCE:  # MIT OR OR GPL-2.0
            return "each AND, OR or WITH needs a licence on either side"
        if exc.error_code == PARSE_INVALID_SYMBOL_SEQUENCE:  # MIT Apache-2.0
            return f"two licences side by side: write OR (either) or AND (both) before {token}"
        if exc.error_code == PARSE_INVALID_EXPRESSION and str(token).upper() == "WITH":
            # A WITH E1 WITH E2, MIT OR WITH Apache-2.0
            return (
                "WITH comes once, between a licence and its exception, as in GPL-2.0-or-later "
                "WITH Classpath-exception-2.0"
            )
    except Exception:  # any other failure is said as malformed, below
        pass
    return "incomplete or malformed expression"


def _ref_spelled(name: str) -> str | None:
    """``name`` as a LicenseRef- may be written: "LicenseRef-Ville de Lyon" is
    "LicenseRef-Ville-de-Lyon", "LicenseRef-Montréal" "LicenseRef-Montreal"."""
    import unicodedata

    plain = unicodedata.normalize("NFKD", name[len("LicenseRef-") :])
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = re.sub(r"[^A-Za-z0-9.-]+", "-", plain).strip("-")
    return f"LicenseRef-{plain}" if plain else None


_OPERATORS = {"and", "or", "with"}
# A sign written between two licences for OR or AND: "MIT/Apache-2.0", "MIT, Apache-2.0",
# "MIT & Apache-2.0", "CC-BY-4.0 + MIT" (a "+" stuck to its licence is SPDX's "or later").
_JOINED = re.compile(r"(?<=\S)\s*(&&|\|\||[/,;&|])\s*(?=\S)|(?<=\s)(\+)(?=\s)")


def _dangling(expression: str) -> bool:
    """Whether an AND, OR or WITH (in any case, as license-expression reads them) lacks a
    licence on one side: first or last, or just inside a parenthesis."""
    tokens = ["(", *re.findall(r"[()]|[^\s()]+", expression), ")"]
    return any(
        t.lower() in _OPERATORS and (before == "(" or after == ")")
        for before, t, after in zip(tokens, tokens[1:], tokens[2:], strict=False)
    )


def licence_refs(expression: str | None) -> list[str]:
    """The ``LicenseRef-…`` identifiers in a normalised expression, in order."""
    if not expression:
        return []
    return [t for t in re.split(r"[\s()]+", expression) if LICENCE_REF.match(t)]


class TextMissing(CommuneError):
    """A ``LicenseRef-…`` without its recorded text. Its hint names `--licence-text`, an
    option of `commune add` only: where the text cannot be given (the contribute page,
    POST /api/documents, a review), :meth:`elsewhere` says what to do instead."""

    def __init__(self, missing: list[str]) -> None:
        super().__init__(
            f"no text is recorded for {', '.join(missing)}",
            f"give it with --licence-text FILE (one licence at a time): {missing[0]} means "
            "nothing without its text",
        )
        self.missing = missing

    def __reduce__(self) -> tuple[type, tuple[list[str]]]:  # type: ignore[override]
        return (type(self), (self.missing,))

    def elsewhere(self) -> CommuneError:
        return CommuneError(
            self.message,
            f"choose a licence of the list, or have the operator record its text first: "
            f"commune add FILE --licence {self.missing[0]} --licence-text TEXT",
        )


def check_texts(conn: Connection, expression: str | None, text: str | None, actor: str) -> None:
    """Make sure each ``LicenseRef-…`` of ``expression`` has its text recorded, recording
    ``text`` for the one that has none; refuse, saying what to give, when that cannot be.

    An identifier outside the SPDX list names nothing by itself: a document under it is
    published only once a reader can read the licence. One identifier names one text for
    good: the documents already under it were published under that text."""
    import hashlib

    from sqlalchemy import insert, select

    from commune.store import audit
    from commune.store.repository import now
    from commune.store.schema import licence_texts

    refs = licence_refs(expression)
    if text is not None and not refs:
        raise CommuneError(
            "a licence text is for your own licence, named LicenseRef-NAME",
            f"drop --licence-text: {expression or 'no licence'} needs none",
        )
    if text is not None and not text.strip():
        raise CommuneError("the licence text is empty", "give the file holding the licence")
    rows = conn.execute(
        select(licence_texts.c.identifier, licence_texts.c.sha256).where(
            licence_texts.c.identifier.in_(refs)
        )
    ).all()
    known = {r.identifier: r.sha256 for r in rows}
    missing = [r for r in refs if r not in known]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None
    if text is not None:
        for ref in refs:
            if ref in known and known[ref] != digest:
                raise CommuneError(
                    f"{ref} already names another text (sha256 {known[ref][:12]}…)",
                    "give a new identifier for a new text (e.g. LicenseRef-NAME-2), or drop "
                    "--licence-text to use the recorded one",
                )
    if not missing:
        return
    if text is None or len(missing) > 1:
        raise TextMissing(missing)
    conn.execute(
        insert(licence_texts).values(
            identifier=missing[0],
            text=text,
            sha256=digest,
            recorded_at=now(),
            recorded_by=actor,
        )
    )
    audit.append(conn, actor, "licence-text", missing[0], sha256=digest)


def licence_text(conn: Connection, identifier: str) -> str | None:
    """The recorded text of a ``LicenseRef-…`` licence, if any."""
    from sqlalchemy import select

    from commune.store.schema import licence_texts

    found = conn.execute(
        select(licence_texts.c.text).where(licence_texts.c.identifier == identifier)
    ).scalar()
    return None if found is None else str(found)


_BY_LOWER = {k.lower(): k for k in TERMS}  # SPDX ids are case-insensitive


def _key(symbol: str) -> str | None:
    return _BY_LOWER.get(symbol.lower())


def terms_of(expression: str | None) -> Terms | None:
    """The obligations a re-user of ``expression`` takes on; None when they are not known."""
    if not expression:
        return None
    from dataclasses import replace

    from license_expression import AND, OR, LicenseSymbol, LicenseWithExceptionSymbol

    def walk(node: Any) -> Terms | None:
        if isinstance(node, LicenseSymbol):
            key = _key(node.key)
            return TERMS[key] if key else None
        if isinstance(node, LicenseWithExceptionSymbol):
            # An SPDX exception only grants permissions beyond its licence's (the Classpath
            # exception lets a program link the library under its own terms): the licence's
            # own terms are the most a re-user owes, so reading them alone asks no less than
            # the text does. Unknown, every document under "GPL-2.0-or-later WITH
            # Classpath-exception-2.0" waited for a curator and was quoted nowhere.
            base = walk(node.license_symbol)
            if base is None:
                return None
            return replace(base, name=f"{base.name} with {node.exception_symbol.key}")
        parts = [walk(arg) for arg in node.args]
        if isinstance(node, OR):
            known = [p for p in parts if p is not None]
            return min(known, key=lambda t: t.burden) if known else None
        if isinstance(node, AND):
            every = [p for p in parts if p is not None]
            if len(every) < len(parts):
                return None
            return Terms(
                " and ".join(p.name for p in every),
                every[0].url,
                attribution=any(p.attribution for p in every),
                share_alike=any(p.share_alike for p in every),
                non_commercial=any(p.non_commercial for p in every),
                no_derivatives=any(p.no_derivatives for p in every),
                public_domain=all(p.public_domain for p in every),
            )
        return None

    return walk(spdx_licensing().parse(expression))


def terms_for_use(expression: str | None) -> Terms | None:
    """The terms answers follow: the table's, or for an expression whose unknown parts are all
    the cooperative's own licences (``LicenseRef-…``), the strictest reading (attribution,
    no commercial use, no derivatives): Commune does not read a licence's text, so it
    assumes no more freedom than the text might give."""
    known = terms_of(expression)
    if known is not None or not expression or not licence_refs(expression):
        return known
    from license_expression import LicenseSymbol

    symbols = spdx_licensing().license_symbols(spdx_licensing().parse(expression))
    keys = [s.key for s in symbols if isinstance(s, LicenseSymbol)]
    if any(_key(k) is None and not LICENCE_REF.match(k) for k in keys):
        return None  # an SPDX licence outside the table: its terms are simply unknown
    return Terms(
        f"{expression} (the cooperative's own licence, read at its strictest)",
        "",
        non_commercial=True,
        no_derivatives=True,
    )


def attribution_text(
    title: str, author: str | None, licence: str | None, source: str, language: str = "en"
) -> str:
    """The credit line a citation must carry: title, author or publisher, licence and link,
    in the reader's ``language`` (French readers were given "licence unknown" and an English
    colon). A licence's name stays as its authors wrote it."""
    french = language.lower().startswith("fr")
    terms = terms_of(licence)
    who = f", {author}" if author else ""
    # French puts a no-break space inside its guillemets and before its colon
    # (text/typography.py); the title itself stays as its document gives it.
    space = NBSP if french else " "
    named = f"«{space}{title}{space}»{who}"
    if terms is None:
        unknown = "inconnue" if french else "unknown"
        return f"{named}, licence {licence or unknown} — {source}"
    if terms.public_domain:
        return f"{named}, {terms.name} ({terms.url}) — {source}"
    colon = f"{NBSP}:" if french else ":"
    return f"{named}, {licence}{colon} {terms.name} ({terms.url}) — {source}"
