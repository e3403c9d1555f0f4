"""The library's most common one-line errors in French, for the CLI and the API.

The library raises its errors in English (the messages many callers and logs already
match); a face that knows its reader is French (``LANG=fr_FR.UTF-8``, ``Accept-Language:
fr``) shows them through :func:`localise`. A message not listed here is shown as it is:
an English line is better than a wrong French one. The web pages have their own
catalogue (commune/web/i18n.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Exact messages and hints.
EXACT = {
    "the question is empty: ask something": "la question est vide : posez une question",
    "authentication required": "authentification requise",
    "malformed API key": "clé d'API mal formée",
    "unknown API key": "clé d'API inconnue",
    "this API key was revoked": "cette clé d'API a été révoquée",
    "this API key has expired": "cette clé d'API a expiré",
    "send 'Authorization: Bearer KEY'; an admin creates keys with commune key create": (
        "envoyez « Authorization: Bearer KEY » ; un·e administrateur·rice crée les clés avec "
        "commune key create"
    ),
    "ask your member admin for a new key": (
        "demandez une nouvelle clé à l'administrateur·rice de votre membre"
    ),
}
WHO = {"member": "le membre", "user": "l'utilisateur·rice"}
QUOTAS = {"requests per day": "requêtes par jour", "Wh per month": "Wh par mois"}
# Messages with values: each pattern names its values, the French template uses them.
PATTERNS = [
    (re.compile(p), fr)
    for p, fr in (
        (r"no collection named (?P<name>'[^']*')", "aucune collection nommée {name}"),
        (r"known collections: (?P<known>.*)", "collections connues : {known}"),
        (
            r"(?P<who>member|user) (?P<name>'.*') has used its quota of (?P<limit>\S+) "
            r"(?P<quota>requests per day|Wh per month) \((?P<used>\S+) used\)",
            "{who} {name} a épuisé son quota de {limit} {quota} ({used} utilisés)",
        ),
        (r"retry after (?P<when>.+) UTC", "réessayez après le {when} UTC"),
        # Peering (docs/peering.md).
        (
            r"collection (?P<name>'[^']*') is private to its member, so it cannot be shared "
            r"with peers",
            "la collection {name} est privée à son membre : elle ne peut pas être partagée "
            "avec des pairs",
        ),
        (
            r"make it shared first: commune visibility (?P<name>\S+) shared",
            "rendez-la d'abord partagée : commune visibility {name} shared",
        ),
        (
            r"collection (?P<name>'[^']*') is not shared with peers",
            "la collection {name} n'est pas partagée avec des pairs",
        ),
        (
            r"unknown policy clause (?P<name>'[^']*'): use (?P<known>.*)",
            "clause de politique inconnue {name} : utilisez {known}",
        ),
        (r"attribution is always required", "l'attribution est toujours exigée"),
        (
            r"unknown member kind (?P<name>'[^']*'): use one or more of (?P<known>.*)",
            "type de membre inconnu {name} : utilisez un ou plusieurs de {known}",
        ),
        (
            r"the peer's address must be an http:// or https:// URL, got (?P<name>.*)",
            "l'adresse du pair doit être une URL http:// ou https://, reçu {name}",
        ),
        (
            r"give the address its commune serve answers on, e\.g\. (?P<url>\S+)",
            "donnez l'adresse où répond son commune serve, par exemple {url}",
        ),
        (
            r"the key must be the cmn_… key the peer issued to this cooperative",
            "la clé doit être la clé cmn_… que le pair a délivrée à cette coopérative",
        ),
        (
            r"ask the peer's operator for one: commune peer issue NAME, on their side",
            "demandez-en une à l'opérateur du pair : commune peer issue NOM, de son côté",
        ),
        (r"no peer named (?P<name>'[^']*')", "aucun pair nommé {name}"),
        (r"known peers: (?P<known>.*)", "pairs connus : {known}"),
        (r"a peer named (?P<name>'[^']*') already exists", "un pair nommé {name} existe déjà"),
        (
            r"remove it first: commune peer remove (?P<name>\S+)",
            "retirez-le d'abord : commune peer remove {name}",
        ),
    )
]


def _french(text: str) -> str | None:
    if text in EXACT:
        return EXACT[text]
    for pattern, template in PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            values = found.groupdict()
            values["who"] = WHO.get(values.get("who", ""), values.get("who", ""))
            values["quota"] = QUOTAS.get(values.get("quota", ""), values.get("quota", ""))
            return template.format(**values)
    return None


def localise(message: str, language: str | None) -> str:
    """``message`` ("what happened (what to do)") in ``language`` where it is known."""
    if not (language or "").lower().startswith("fr"):
        return message
    whole = _french(message)
    if whole is not None:
        return whole
    head, sep, hint = message.rpartition(" (")
    if sep and hint.endswith(")"):
        first, then = _french(head), _french(hint[:-1])
        if first is not None or then is not None:
            return f"{first or head} ({then or hint[:-1]})"
    return message


def from_environment(environ: Mapping[str, str]) -> str:
    """The CLI reader's language from the locale variables, in POSIX precedence (LC_ALL,
    then LC_MESSAGES, then LANG): "fr" for a French locale, else "en"."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "fr" if value.lower().startswith("fr") else "en"
    return "en"


def from_accept_language(header: str | None) -> str:
    """The API caller's language: "fr" when French is its first choice among French and
    English, else "en" (the language API clients and their logs are written in)."""
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.split("-")[0].strip().lower()
        if lang not in ("fr", "en"):
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if best is None or (-q, i) < (-best[0], best[1]):
            best = (q, i, lang)
    return best[2] if best is not None and best[0] > 0 else "en"
