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
        notice = f"Modèle demandé « {requested} », réponse de « {answered} »"
        notice += f" : {why}" if why else ""
    else:
        notice = f"Asked for model '{requested}', answered by '{answered}'"
        notice += f": {why}" if why else ""
    return Substitution(requested, answered, why, notice)
