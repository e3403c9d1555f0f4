"""What the people who ask are shown of the charter's reasons and of an answer's notice.

The charter records its reasons whole, for the operator and the audit: "smollm2 n'est pas
encore étalonné (…) : `commune model calibrate smollm2` le mesure", "Le modèle a atteint sa
limite de 200 jetons ([generation] max_tokens)". A citizen or a town-hall clerk who reads them
under "Why this answer?" can run no command and edit no configuration: the command and the key
read as jargon, and tell a stranger how the host is set up. So the faces (the web page,
/api/ask, the OpenAI routes, MCP) show whoever administers the cooperative everything, and
everyone else the same reasons without the command or the key: still true, only shorter. The
record, the audit and the CLI (the operator's) keep the whole text.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Protocol, TypeVar

from commune.govern.policy import COOPERATIVE, Actor, allowed

# A clause that tells the operator what to run: ": `commune model calibrate smollm2` le
# mesure", ": run `commune …`", " : lancez `commune …`", up to where the sentence goes on.
_COMMAND = re.compile(
    r"\s*:\s*(?:run |lancez )?`commune [^`]*`(?:\s+(?:le mesure|measures it))?",
)
# A command named aside, in parentheses: "aucune coopérative pair n'est enregistrée ici
# (commune peer add) : réponse …", the peers' notice, which a reader asking with "peers":
# true was shown whole. Only the CLI's own commands: French calls a town a "commune", and a
# charter's message ("à la mairie (commune de naissance)") lost its parenthesis for readers.
# The whole aside, when the command stands among other steps: "(check the address's port,
# commune peer update coop-b --url, or ask its operator to serve https there)" is what the
# operator does, each step of it, and a reader was shown the command mid-sentence. A step:
# the command opens the aside, or a part of it after a comma, a semicolon or a colon, or
# after "run", "lancez", "with", "avec", or is quoted (`commune …`); not after any word,
# where French reads "commune" as the town and a few commands as its verbs ("(la commune
# retire l'acte ancien)", "serve", "user", "import"), and a reader lost that aside.
CLI_COMMANDS = (
    "add ask audit backup bom charter check collections credits curation documents enrich "
    "eval export history import key mcp member migrate model payouts peer refusals reindex "
    "reinstate restore retire review search serve share sovereignty statement transparency "
    "user visibility"
).split()
_COMMAND_ASIDE = re.compile(
    r"\s*\((?:[^()]*?(?:[,;:]\s+|`|\b(?:run|lancez|relancez|with|avec)\s))?"
    rf"commune (?:{'|'.join(CLI_COMMANDS)})\b[^()]*\)"
)
# A setting named in brackets: " ([generation] max_tokens)", " ([limits] generation_seconds)".
_SETTING = re.compile(r"\s*\(\[[a-z_.]+\] [a-z_]+\)")
# The charter's own setting named as the rule that refused: "(règle « sobriety.member_month_
# wh_cap »)". A refusal rule the charter names in words ("évaluation-personnes") stays: it
# says which of the charter's published rules applied. \s: French puts a no-break space
# inside its guillemets (text/typography.py).
_SETTING_RULE = re.compile(r"\s*\((?:règle «\s[a-z_]+\.[a-z_.]+\s»|rule '[a-z_]+\.[a-z_.]+')\)")


def plain(text: str) -> str:
    """``text`` without the commands to run or the settings to change that only the operator
    can act on."""
    for pattern in (_COMMAND, _COMMAND_ASIDE, _SETTING, _SETTING_RULE):
        text = pattern.sub("", text)
    return text


def sees_everything(actor: Actor) -> bool:
    """The operator and the cooperative's admins: they run the host or ask who does."""
    return bool(allowed(actor, "administer", COOPERATIVE))


class Explained(Protocol):
    notice: str | None
    decisions: list[dict[str, Any]]


A = TypeVar("A", bound=Explained)


def shown(answer: A, actor: Actor) -> A:
    """``answer`` as ``actor`` is shown it: whole for those who administer, else with its
    notice and its decisions' reasons :func:`plain` (a copy: the recorded answer, the cache's,
    is left whole)."""
    if sees_everything(actor):
        return answer
    out = copy.copy(answer)
    out.notice = plain(answer.notice) if answer.notice else answer.notice
    out.decisions = [
        {**d, "reason": plain(d["reason"])} if isinstance(d.get("reason"), str) else d
        for d in answer.decisions
    ]
    return out
