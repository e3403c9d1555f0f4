"""An answer as the API, the OpenAI-compatible routes and MCP give it.

The library's fields as they are, and beside the energy's ``method`` (the ledger's English,
which programs match) its ``summary`` for a person, in the answer's language: "9,55 mWh,
0,497 mgCO2e, estimée (temps CPU x 12 W par cœur, un chiffre configuré)". A French answer
carried English only, for whoever shows how its energy was found.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from commune.charter.audience import shown
from commune.text.energy import summary

if TYPE_CHECKING:
    from commune.answering.answer import Answer
    from commune.govern.policy import Actor


def energy_of(answer: Answer) -> dict[str, Any] | None:
    if answer.energy is None:
        return None
    return {**answer.energy, "summary": summary(answer.energy, answer.language)}


def answer_json(answer: Answer, actor: Actor) -> dict[str, Any]:
    """``answer`` as ``actor`` is shown it: the commands and settings in its reasons only to
    those who administer (charter/audience.py)."""
    return {**shown(answer, actor).to_json(), "energy": energy_of(answer)}
