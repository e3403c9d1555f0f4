"""Whether an answer came from what was asked for, and if not, who answered and why.

A model asked for by name either answers or is replaced by extraction: the charter does not
allow it (charter/steps.redirect), the charter's reduce step chose extraction or the cache,
or the model failed and the answer fell back. Each face says so (issue 24: the /v1 routes
replaced a model silently); this module words it once, in the question's language.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from commune.answering.answer import Answer

EXTRACTIVE = "extractive"
AUTO = "auto"  # the charter chooses: nothing was asked for, so nothing is replaced


@dataclass(frozen=True)
class Substitution:
    requested: str
    answered_by: str
    reason: str
    notice: str  # one sentence, in the question's language

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def answered_by(requested: str, answer: Answer) -> str:
    """Who answered, named as asked for (a configured model's name, or ``extractive``);
    under ``auto``, the model's own id."""
    if answer.mode != "generate":
        return EXTRACTIVE
    return requested if requested not in (AUTO, EXTRACTIVE) else answer.model or AUTO


def substitution(requested: str, answer: Answer) -> Substitution | None:
    """None when ``answer`` is from ``requested`` (``auto``, ``extractive`` or a model's
    name), or was refused (nothing answered in anyone's place)."""
    answered = answered_by(requested, answer)
    if requested in (AUTO, answered) or answer.mode == "refused":
        return None
    steps = {d.get("step"): d for d in answer.decisions}
    reduced = steps.get("reduce", {})
    why = str(
        answer.notice
        or (reduced.get("reason") if reduced.get("outcome") in ("extractive", "cached") else None)
        or steps.get("redirect", {}).get("reason")
        or ""
    )
    if answer.notice and requested in answer.notice:
        # The charter's override line (charter/steps.override_notice) already names the
        # model asked for, what answered instead and why: said once, not wrapped.
        notice = answer.notice
    elif answer.language == "fr":
        by = "par extraction" if answered == "extractive" else f"de «\u00a0{answered}\u00a0»"
        notice = f"Modèle demandé «\u00a0{requested}\u00a0»\u00a0; réponse {by}"
        notice += f"\u00a0: {_after_colon(why)}" if why else ""
    else:
        by = "by extraction" if answered == "extractive" else f"by '{answered}'"
        notice = f"Asked for model '{requested}', answered {by}"
        notice += f": {_after_colon(why)}" if why else ""
    return Substitution(requested, answered, why, notice)


def _after_colon(text: str) -> str:
    """A reason continuing a sentence: "Le modèle…" reads "le modèle…" after a colon (a
    name or an acronym, "EcoLogits", "GPU", keeps its capital)."""
    if len(text) > 1 and text[0].isupper() and text[1].islower() and " " in text[:12]:
        if text.split(" ", 1)[0].lower() in _ARTICLES:
            return text[0].lower() + text[1:]
    return text


# The words a reason starts with when it is a sentence, not a name.
_ARTICLES = frozenset(
    {"le", "la", "les", "l'", "un", "une", "aucun", "aucune", "ce", "cette"}
    | {"the", "a", "an", "no", "this"}
)
