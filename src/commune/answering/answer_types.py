"""What kind of fact a question asks for, and which kinds a sentence holds.

"How long do we have to register the birth?" wants a duration, "combien coûte…" an amount,
"which file" a path: the sentence that answers holds one. The sentence scorer
(answering/answer.py) takes, for each kind, whether the question asks for it and whether
the candidate holds it; the match of the two is what it learns to weigh. Patterns are
French and English, since questions come in both and passages too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType

# Each kind: the question's words that ask for it, and the sentence's forms that hold it.
_NUMBER = r"\d+(?:[.,]\d+)?|un|une|deux|trois|quatre|cinq|six|sept|huit|dix|douze|quinze|vingt|trente|one|two|three|four|five|six|seven|ten|twelve|fifteen|twenty|thirty"  # noqa: E501

ASKS = {
    "duration": re.compile(
        r"\b(combien de (temps|jours|mois|ans|années|semaines|heures)|quel délai|délai|"
        r"durée|pendant combien|jusqu'à quand|how long|how many (days|months|years|weeks|hours)|"
        r"deadline|time limit|how soon|within how)\b",
        re.IGNORECASE,
    ),
    "amount": re.compile(
        r"\b(combien|montant|coût|coûte|prix|tarif|payer|frais|taxe|amende|somme|"
        r"how much|cost|costs|price|fee|fees|fine|amount|pay|charge|rate|percentage|"
        r"pourcentage|taux|plafond|ceiling|maximum|minimum|how many)\b",
        re.IGNORECASE,
    ),
    "age": re.compile(r"\b(quel âge|à partir de quel âge|âgé|age|how old|aged?)\b", re.IGNORECASE),
    "when": re.compile(
        r"\b(quand|à quel moment|quelle date|date|when|what date|which day|avant le|before)\b",
        re.IGNORECASE,
    ),
    "place": re.compile(
        r"\b(où|auprès de (qui|quel)|à quel (service|guichet|organisme)|adresse|site|"
        r"where|which (office|service|website|site|address)|address|to whom|website)\b",
        re.IGNORECASE,
    ),
    "who": re.compile(
        r"\b(qui|quel organisme|quelle autorité|quel tribunal|quelle administration|"
        r"who|which (body|authority|court|administration|organisation|organization))\b",
        re.IGNORECASE,
    ),
    "command": re.compile(
        r"\b(commande|command|commands|taper|tape|type|run|lancer|exécuter|outil|tool|"
        r"programme|program|utilitaire|utility|paquet|package)\b",
        re.IGNORECASE,
    ),
    "file": re.compile(
        r"\b(fichier|file|files|répertoire|dossier|directory|folder|chemin|path|config|"
        r"configuration)\b",
        re.IGNORECASE,
    ),
    "yesno": re.compile(
        r"^\s*(est-ce que|est-il|peut-on|puis-je|dois-je|faut-il|ai-je|a-t-on|y a-t-il|"
        r"is|are|can|could|do|does|must|should|may|will|am)\b",
        re.IGNORECASE,
    ),
}

HOLDS = {
    "duration": re.compile(
        rf"\b({_NUMBER})\s*(jours?|mois|ans?|années?|semaines?|heures?|minutes?|"
        r"days?|months?|years?|weeks?|hours?|minutes?)\b",
        re.IGNORECASE,
    ),
    "amount": re.compile(
        r"(\d[\d\s  .,]*\s*(€|euros?|eur\b|%|pour ?cent|percent))|(€\s*\d)|"
        r"\b(gratuit|gratuite|free of charge|no charge|payant)\b",
        re.IGNORECASE,
    ),
    "age": re.compile(rf"\b({_NUMBER})\s*(ans|years? old)\b|\bâgée?s? de\b|\baged\b", re.I),
    "when": re.compile(
        r"\b(\d{1,2}(er)? (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|"
        r"novembre|décembre)|(january|february|march|april|may|june|july|august|september|"
        r"october|november|december) \d{1,2}|\d{4}|avant|après|dès|à partir du|before|after|"
        r"from|until|jusqu'au)\b",
        re.IGNORECASE,
    ),
    "place": re.compile(
        r"\b(mairie|préfecture|sous-préfecture|tribunal|caf|urssaf|cpam|greffe|notaire|"
        r"consulat|ambassade|service|guichet|site|en ligne|online|https?://|www\.|"
        r"town hall|prefecture|court|office)\b",
        re.IGNORECASE,
    ),
    "who": re.compile(
        r"\b(le |la |l')?(maire|préfet|juge|tribunal|conseil|ministre|employeur|caf|urssaf|"
        r"officier|administration|commission|mayor|prefect|judge|court|council|employer|"
        r"administrator|root|superuser|maintainer|mainteneur)\b",
        re.IGNORECASE,
    ),
    "command": re.compile(
        r"(^[$#]\s+\S)|\b(apt|apt-get|aptitude|dpkg|systemctl|sudo|mount|ssh|ls|cp|mv|"
        r"chmod|chown|useradd|adduser|grep|make|git|debconf|update-[\w-]+|\w+ --?\w)",
        re.IGNORECASE,
    ),
    "file": re.compile(r"(/[\w.-]+/[\w./-]*|\b[\w-]+\.(conf|list|cfg|ini|d|txt|log|sh)\b)"),
    "yesno": re.compile(
        r"\b(oui|non|ne\b[^.]*\bpas|pas besoin|obligatoire|interdit|possible|impossible|"
        r"yes|no|not|must|cannot|can't|required|mandatory|forbidden|allowed)\b",
        re.IGNORECASE,
    ),
}

KINDS = tuple(ASKS)


def asked(question: str) -> dict[str, bool]:
    """The kinds of fact ``question`` asks for (several may hold: "combien de temps")."""
    return {kind: bool(pattern.search(question)) for kind, pattern in ASKS.items()}


# Nine searches per candidate sentence, and the same passages answer many questions: the
# last sentences' kinds are kept (bench/answer_cpu.py).
@lru_cache(maxsize=8192)
def held(sentence: str) -> Mapping[str, bool]:
    """The kinds of fact ``sentence`` states (read-only: the mapping is shared)."""
    return MappingProxyType({kind: bool(p.search(sentence)) for kind, p in HOLDS.items()})
