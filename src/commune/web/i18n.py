"""French and English: gettext catalogues (Babel), the language of each request.

English is the source language (the msgids); ``locale/fr/LC_MESSAGES/messages.po`` is
the French catalogue. It is compiled in memory when first used, so no binary file is kept
in the repository. ``scripts/i18n.sh`` extracts new messages (pybabel extract/update);
``tests/test_web.py`` fails when a message of a page or of this package lacks French, and
when the catalogue holds one the extractor does not find (the script would drop it: a message
from another layer, api/errors.py's, is marked with ``N_`` here).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from commune.text import numbers, typography
from commune.text.messages import (
    LANGUAGE_COOKIE,
    before_names,
    from_accept_language,
    localise,
)

LANGUAGES = ("fr", "en")
DEFAULT = "fr"  # the cooperative's working language, when a browser states no preference
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
COOKIE = LANGUAGE_COOKIE

_current: ContextVar[str] = ContextVar("commune_language", default=DEFAULT)


@cache
def catalogue(language: str) -> Any:
    """The compiled catalogue for ``language`` (NullTranslations for English)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po
    from babel.support import NullTranslations, Translations

    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        messages = read_po(f, locale=language)
    if language == "fr":
        # French typography for every page, made here once (text/typography.py says which
        # space and why): the catalogue's French is written with ordinary spaces, readable
        # in the .po file, and a new message follows the rule without remembering it. The
        # values put in later (a file's name, a quoted answer) are not touched.
        for message in messages:
            if message.id and isinstance(message.string, str):
                message.string = typography.french(message.string)
            elif message.id and message.string:
                message.string = tuple(typography.french(s) for s in message.string)
    buffer = io.BytesIO()
    write_mo(buffer, messages)
    buffer.seek(0)
    return Translations(buffer)


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The user's choice (cookie), else the browser's first language we have, else French.

    The header is read as the API reads it (text/messages.from_accept_language), so a page
    and an API answer to the same browser speak the same language, and a language the
    browser refuses with ``q=0`` is never the one chosen."""
    if cookie in LANGUAGES:
        return str(cookie)
    return from_accept_language(accept_language)


def use(language: str) -> None:
    """Make ``language`` the one ``gettext`` speaks in for this request (a context variable:
    each request and thread has its own)."""
    _current.set(language if language in LANGUAGES else DEFAULT)


def current() -> str:
    return _current.get()


# French elides "de" before a vowel and contracts "de" and "à" with a name's article: "Rôle
# de %(u)s" with "amelie" reads "Rôle d'amelie", "versée à %(m)s" with "Le Havre" reads "versée
# au Havre". Only before a value put in, whose first letters the catalogue cannot know. The
# rule is the library's messages' own (text/messages.before_names), so that both faces say
# a name alike. A person's name is elided, never contracted: the catalogue puts one in as
# %(u)s (a login, "Le Goff": "Rôle de Le Goff", not "Rôle du Goff"), as the library's
# messages say of theirs (text/messages.PEOPLE).
PEOPLE = ("u",)


def elided(text: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``text`` with « de » and « à » said as French says them before its values, and the
    values to put in it (a name that lost its article is put in under a key of its own)."""
    if current() != "fr":
        return text, values
    return before_names(text, values, "%()s", people=PEOPLE)


def gettext(message: str, **values: Any) -> str:
    text = str(catalogue(current()).gettext(message))
    if not values:
        return text
    text, values = elided(text, values)
    return text % values


def ngettext(singular: str, plural: str, n: float, **values: Any) -> str:
    text = str(catalogue(current()).ngettext(singular, plural, n))
    return text % values if values else text


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue, to be translated where it is shown."""
    return message


# Names of the charter's steps and their outcomes as people read them (the reasons come
# from the charter in the question's language); the pages and `commune transparency` show
# them.
STEPS = {
    "refuse": N_("Refuse"),
    "reduce": N_("Reduce"),
    "regulate": N_("Regulate"),
    "retrieve": N_("Retrieve"),
    "redirect": N_("Redirect"),
    "answer": N_("Answer"),
    "responsibility": N_("Responsibility"),
}
OUTCOMES = {
    "pass": N_("passed"),
    "refused": N_("refused"),
    "cached": N_("from the cache"),
    "extractive": N_("quoted"),
    "generate": N_("generated"),
    "none": N_("nothing to do"),
    "recorded": N_("recorded"),
    "over-quota": N_("over quota"),
}


# The library's messages that reach the pages with values in them (hold reasons, review
# outcomes, refused uploads): each pattern names its values, and the catalogue has the
# message with the same names. Exact messages are looked up as they are.
PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in (
        (
            r"the collection needs (?P<n>\d+) approval\(s\) by a (?P<role>[\w-]+) or above",
            N_("the collection needs %(n)s approval(s) by a %(role)s or above"),
        ),
        (r"(?P<n>\d+) of (?P<m>\d+) approvals", N_("%(n)s of %(m)s approvals")),
        (
            r"(?P<n>\d+) of (?P<m>\d+) approvals; held first because (?P<held>.+)",
            N_("%(n)s of %(m)s approvals; held first because %(held)s"),
        ),
        (
            # The category's own word stays: it is the export's (retired.jsonl) as well.
            r"the same file as a retired document \((?P<category>[\w-]+)\)",
            N_("the same file as a retired document (%(category)s)"),
        ),
        (
            r"revision (?P<n>\d+) was published after it",
            N_("revision %(n)s was published after it"),
        ),
        (
            r"revision (?P<n>\d+), contributed by another member, was published after it: a "
            r"reviewer must confirm that this one replaces it",
            N_(
                "revision %(n)s, contributed by another member, was published after it: a "
                "reviewer must confirm that this one replaces it"
            ),
        ),
        (
            # Held for something else too, and replacing another member's published text
            # (ingest/pipeline.py): both reasons, each in the reader's words.
            r"(?P<held>.+); the published revision was contributed by another member: a "
            r"reviewer must confirm that this one replaces it",
            N_(
                "%(held)s; the published revision was contributed by another member: a "
                "reviewer must confirm that this one replaces it"
            ),
        ),
        (
            # Held for something else, and the collection's rules raised since
            # (commons/curation._release): both reasons, each in the reader's words.
            r"the collection needs (?P<n>\d+) approval\(s\) by a (?P<role>[\w-]+) or above; "
            r"(?P<held>.+)",
            N_("the collection needs %(n)s approval(s) by a %(role)s or above; %(held)s"),
        ),
        (
            r"the terms of licence (?P<licence>.+) are not in the licence table: "
            r"a reviewer must check them",
            N_(
                "the terms of licence %(licence)s are not in the licence table: a reviewer must "
                "check them"
            ),
        ),
        (
            r"the licence changed from (?P<old>.+) to (?P<new>.+): a reviewer must confirm",
            N_("the licence changed from %(old)s to %(new)s: a reviewer must confirm"),
        ),
        (
            r"the same file, read again by a newer reader: (?P<held>.+)",
            N_("the same file, read again by a newer reader: %(held)s"),
        ),
        (
            r"the same file as document (?P<n>\d+), which was retired: approving it publishes "
            r"it again",
            N_(
                "the same file as document %(n)s, which was retired: approving it publishes "
                "it again"
            ),
        ),
        (
            r"the file declares licence (?P<declared>.+), but (?P<given>.+) was given: "
            r"a reviewer must confirm",
            N_(
                "the file declares licence %(declared)s, but %(given)s was given: a reviewer "
                "must confirm"
            ),
        ),
        (
            r"(?P<file>.+): the content is not a (?P<kind>\w+) file",
            N_("%(file)s: the content is not a %(kind)s file"),
        ),
        (
            # A suffix only: "(no extension)" is said by text/messages.py, whose French the
            # pages fall back on; here it stayed English inside the French line.
            r"(?P<file>.+): unsupported type (?P<suffix>\..*)",
            N_("%(file)s: unsupported type %(suffix)s"),
        ),
        (
            r"(?P<file>.+): over the limit of (?P<mb>[\d.]+) MB",
            N_("%(file)s: over the limit of %(mb)s MB"),
        ),
        (r"(?P<file>.+): sent twice in one upload", N_("%(file)s: sent twice in one upload")),
        # Any error that is not Commune's own (api/errors.py): its number, for the operator.
        (
            r"internal error \(incident (?P<id>[0-9a-f]+)\): the operator's log has it",
            N_("internal error (incident %(id)s): the operator's log has it"),
        ),
        # The permission policy's reasons (govern/policy.py), shown after a refusal.
        (
            r"(?P<action>[\w ']+) needs the role (?P<needed>[\w-]+) or above; "
            r"(?P<user>.+) is (?P<role>[\w-]+)",
            N_("%(action)s needs the role %(needed)s or above; %(user)s is %(role)s"),
        ),
        (
            r"this needs the role (?P<needed>[\w-]+); (?P<user>.+) is (?P<role>[\w-]+)",
            N_("this needs the role %(needed)s; %(user)s is %(role)s"),
        ),
        (
            r"granting (?P<granted>[\w-]+) needs that role; (?P<user>.+) is (?P<role>[\w-]+)",
            N_("granting %(granted)s needs that role; %(user)s is %(role)s"),
        ),
        # A floor no member can be held to (account/statement.py), on /statement.
        (
            r"the floor of (?P<floor>\S+) (?P<cur>\S+) reaches the fixed cost \((?P<pool>\S+) "
            r"(?P=cur)\) of the one member: it pays the fixed cost, not the floor \(lower "
            r"floor_eur in commune.toml \[cooperative\]\)",
            # The page's readers edit no commune.toml: it says who does (as of idle_watts).
            N_(
                "the floor of %(floor)s %(cur)s reaches the fixed cost (%(pool)s %(cur)s) of the "
                "one member: it pays the fixed cost, not the floor (the operator lowers "
                "floor_eur in commune.toml [cooperative])"
            ),
        ),
        (
            r"the floor of (?P<floor>\S+) (?P<cur>\S+) for each of (?P<n>\d+) members reaches the "
            r"fixed cost \((?P<pool>\S+) (?P=cur)\): every member pays an equal share of it "
            r"\(lower floor_eur in commune.toml \[cooperative\]\)",
            N_(
                "the floor of %(floor)s %(cur)s for each of %(n)s members reaches the fixed cost "
                "(%(pool)s %(cur)s): every member pays an equal share of it (the operator "
                "lowers floor_eur in commune.toml [cooperative])"
            ),
        ),
        # The month under way (account/statement.py), on /statement.
        (
            r"(?P<month>\d{4}-\d{2}) is not over: these are its figures so far",
            N_("%(month)s is not over: these are its figures so far"),
        ),
        # A month before any member joined (account/statement.py), on /statement.
        (
            r"no member was in the cooperative in (?P<month>\S+): its (?P<amount>\S+) "
            r"(?P<cur>\S+) is nobody's share \(add members with commune member add\)",
            # A member admin read "add members with commune member add", a command she has not.
            N_(
                "no member was in the cooperative in %(month)s: its %(amount)s %(cur)s is "
                "nobody's share (the operator adds members with commune member add)"
            ),
        ),
        # How a model's energy figure was obtained (charter/catalogue.py), on /transparency.
        (
            r"not calibrated: run `commune model calibrate (?P<name>.+)`",
            N_("not calibrated: run `commune model calibrate %(name)s`"),
        ),
        (
            r"(?P<how>estimated|measured, shared), over 1 run "
            r"\((?P<tokens>\d+) output tokens\) in the ledger",
            N_("%(how)s, over 1 run (%(tokens)s output tokens) in the ledger"),
        ),
        (
            r"(?P<how>estimated|measured, shared), over (?P<n>\d+) runs "
            r"\((?P<tokens>\d+) output tokens\) in the ledger",
            N_("%(how)s, over %(n)s runs (%(tokens)s output tokens) in the ledger"),
        ),
        # A remote model's, modelled (account/energy.py, modelled_for).
        (
            r"ecologits (?P<version>\S+), modelled: (?P<name>.+) \((?P<active>[\d.e+]+)B active, "
            r"(?P<total>[\d.e+]+)B total, (?P<bits>\d+)-bit\), (?P<tokens>\d+) output tokens, "
            r"(?P<zone>\S+) electricity mix, PUE (?P<pue>\S+), (?P<gb>[\d.e+]+) GB GPUs in "
            r"EcoLogits' reference server, embodied impacts included",
            N_(
                "ecologits %(version)s, modelled: %(name)s (%(active)s active, %(total)s "
                "total, %(bits)s-bit), %(tokens)s output tokens, %(zone)s electricity mix, PUE "
                "%(pue)s, %(gb)s GB GPUs in EcoLogits' reference server, embodied impacts "
                "included"
            ),
        ),
    )
]
# The policy's actions as its reasons name them (policy.WORDS): the %(action)s above.
ACTIONS = (
    N_("reading this collection"),
    N_("adding documents"),
    N_("reviewing in this collection"),
    N_("retiring a document"),
    N_("seeing usage"),
    N_("administering people"),
    # The cooperative itself (policy.allowed: its members, its peers, payouts): a member
    # admin refused the peering form on /admin read "Administering the cooperative" in French.
    N_("administering the cooperative"),
    N_("granting roles"),
    N_("curating"),
    N_("seeing the statement"),
    N_("changing who reads a collection"),
    N_("setting a collection's curation rules"),
)
# Exact library messages shown on pages; listed here so that the catalogue has them.
LIBRARY = (
    N_("no licence given: a reviewer must set one before publication"),
    N_("the document was retired: approving this revision brings it back"),
    N_(
        "sent while the document was retired, since reinstated: approving this revision "
        "publishes it"
    ),
    N_(
        "the published revision was contributed by another member: a reviewer must confirm "
        "that this one replaces it"
    ),
    N_("upload the file itself, or rename it to what it is"),
    N_("upload txt, md, html, pdf, odt, ods or docx files"),
    N_("split it, or ask the operator to raise [limits] max_file_mb"),
    N_("send each file once"),
    N_("contributors do not review their own revisions"),
    N_(
        "the same file as a document retired in another collection: approving it publishes it again"
    ),
    N_("a reviewer of the collection must check this file before it is published"),
    # The page for an address no route has, or a form's address opened again
    # (api/errors.py, outside the pages' sources the extractor reads): listed here, or
    # scripts/i18n.sh would drop their French from the catalogue.
    N_("nothing at this address"),
    N_("check it, or start again from the question box"),
    # A library error's hint that names a CLI command, on a page (render.for_the_web).
    N_("check the address, or start again from the Commons page"),
    N_("this page is reached through its form, not by its address"),
    N_("start again from the question box"),
    N_("published"),
    N_("rejected"),
    N_("changes-requested"),
    N_("proposed"),
    N_("superseded"),
    N_("outdated"),
    N_("retired"),
    N_("approve"),
    N_("reject"),
    N_("request-changes"),
    # The transparency page's values (charter/rules.py, config.OPENNESS, catalogue.py).
    N_("Commune's default charter"),
    N_("Charter"),  # the name of a charter.toml that gives none
    N_("default"),
    N_("open-weights"),
    N_("closed"),
    N_("unknown"),
    N_("local"),
    N_("estimated"),
    N_("measured, shared"),
    # A model's energy figure the operator configured, or none (charter/catalogue.py); the
    # first whole, its parenthesis being no hint.
    N_("configured (wh_per_1k_tokens)"),
    N_("unknown: set active_params_b and total_params_b to model it"),
    N_(
        "energy is measured only from a meter (RAPL, each request given its share: measured, "
        "shared); CPU time x configured watts is estimated, and remote models are modelled by "
        "the ecologits package"
    ),
)


# Roles, member kinds and declared uses as people read them; the stored values stay the
# identifiers the API and the CLI take ("member-admin", "town").
LABELS = {
    "reader": N_("reader"),
    "contributor": N_("contributor"),
    "curator": N_("curator"),
    "member-admin": N_("member admin"),
    "cooperative-admin": N_("cooperative admin"),
    "town": N_("town"),
    "agglomeration": N_("agglomeration"),
    "association": N_("association"),
    "public-body": N_("public body"),
    "other": N_("other"),
    "peer": N_("peer cooperative"),  # another cooperative, holding a peer key (peering)
    "non-commercial": N_("non-commercial"),
    "commercial": N_("commercial"),
}


def label(value: str | None) -> str:
    """A role, member kind or declared use in the current language (else as it is)."""
    if value is None:
        return "—"
    return gettext(LABELS[value]) if value in LABELS else value


def _one(text: str, fallback: bool = False) -> str:
    """``text`` in the current language from the pages' catalogue; with ``fallback``, in
    French from the CLI's and the API's (text/messages.py) where the catalogue lacks it."""
    said = _from_catalogue(text)
    if fallback and said == text and current() == "fr":
        return localise(text, "fr")
    return said


# A pattern's message that counts, said with its plural by the count (the catalogue's
# plural forms): « 1 approbation(s) » and « 2 approval(s) » read as forms to fill in.
# Each gives the catalogue's text for a count, the values put in after (ngettext() is
# called here so that scripts/i18n.sh extracts the pair as one plural entry).
COUNTED: dict[str, Callable[[int], str]] = {
    "the collection needs %(n)s approval(s) by a %(role)s or above": lambda count: ngettext(
        "the collection needs %(n)s approval by a %(role)s or above",
        "the collection needs %(n)s approvals by a %(role)s or above",
        count,
    ),
    "the collection needs %(n)s approval(s) by a %(role)s or above; %(held)s": lambda count: (
        ngettext(
            "the collection needs %(n)s approval by a %(role)s or above; %(held)s",
            "the collection needs %(n)s approvals by a %(role)s or above; %(held)s",
            count,
        )
    ),
}


def _from_catalogue(text: str) -> str:
    found = str(catalogue(current()).gettext(text))
    if found != text:
        return found
    for pattern, message in PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            values = match.groupdict()
            for name in ("action", "how"):  # one of ACTIONS or WORDS: translated too
                if name in values:
                    values[name] = str(catalogue(current()).gettext(values[name]))
            for name in ("role", "needed", "granted"):  # roles read as labels, not ids
                if name in values:
                    values[name] = label(values[name])
            if "held" in values:  # why the revision waits, itself a reason to translate
                values["held"] = translate(values["held"])
            for name in ("active", "total"):  # a model's size: "7.3B", « 0,5 milliard »
                if name in values:  # only the modelled energy's pattern names them
                    values[name] = numbers.billions(values[name], current())
            if current() == "fr":  # a model's figures with a decimal comma: "PUE 1,1-1,4"
                for name in ("pue", "gb", "mb"):
                    if re.fullmatch(r"\d+(\.\d+)?(-\d+(\.\d+)?)?", values.get(name) or ""):
                        values[name] = values[name].replace(".", ",")
            for name in ("floor", "pool", "amount"):  # money, as the page's table writes it
                if re.fullmatch(r"\d+\.\d+", values.get(name) or ""):
                    values[name] = numbers.number(float(values[name]), 2, current())
            if message in COUNTED and (values.get("n") or "").isdigit():
                text, values = elided(COUNTED[message](int(values["n"])), values)
                return text % values
            return gettext(message, **values)
    return text


# Two catalogues and two ways of finding a hint are kept apart on purpose: folded into one,
# some reader's words would change.
# - The pages' catalogue (locale/, gettext, extracted from the templates) and the library's
#   (text/messages.py: exact lines and patterns over the library's English, for the CLI, the
#   API and the MCP, which have no page's gettext) say some lines differently: "send each
#   file once" is « envoyez chaque fichier une fois » on a page, « … une seule fois » from
#   the API; "NAME: over the limit of 5 MB" « au-delà de la limite » and « dépasse la
#   limite ». One catalogue would change one face's words. translate() reads the pages'
#   first, then the library's for what the pages' lacks.
# - A message's hint to translate is what follows its last " (" here, and the parenthesis
#   that balances the closing one in text/messages.split_hint. They part on a hint that
#   holds parentheses ("change it with: commune visibility NAME VISIBILITY (and --member
#   MEMBER --transfer to hand it over)"): split as the library splits it, a page would
#   translate hints differently from how it does today. A hint naming a CLI command is found
#   as the library finds it (render.without_cli_hint), so such a hint goes whole.
# - Two ways keep the CLI's commands from a reader with no shell: the field_hint an error
#   is raised with (errors.CommuneError, for the API, the MCP and the pages), and
#   render.for_the_web (and forms.refused), which drop or replace a hint naming a command. The
#   API shows a hint with no field_hint as it is, and the pages drop it, so neither
#   mechanism can do the other's work without changing what one face says.
# - text/say.say is no catalogue: it writes a line in both languages where it is made, in
#   the question's language (the charter's reasons, kept in the decision record as said),
#   with values a catalogue's pattern would have to read back out of the English.
def translate(text: str | None) -> str:
    """A library message in the current language where the catalogue has it; a message
    with its hint ("message (hint)", errors.CommuneError) is translated part by part."""
    if not text:
        return ""
    whole = str(catalogue(current()).gettext(text))
    if whole != text:  # a message whose parenthesis is its own, not a hint
        return whole
    head, sep, hint = text.rpartition(" (")
    parts = (head, hint[:-1])
    if sep and hint.endswith(")") and any(_one(p) != p for p in parts):
        # The part the pages' catalogue lacks in the CLI's and the API's French: a message
        # translated there, with a hint only the pages give, stayed English.
        return "{} ({})".format(*(_one(p, fallback=True) for p in parts))
    said = _one(text)
    if said == text and current() == "fr":
        # Not in the pages' catalogue: the French the CLI and the API say (text/messages.py),
        # e.g. why the charter does not allow a model, on /transparency.
        return localise(text, "fr")
    return said
