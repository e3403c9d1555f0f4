"""An answer's energy as a person reads it, in the answer's language.

The figure's ``method`` is the ledger's English, which programs and the ledger's readers
match ("CPU time x 12 W per core, a configured figure (estimated)"): it stays as it is.
:func:`summary` is the line beside it for a person, "9,55 mWh, 0,497 mgCO2e, estimée (temps
CPU x 12 W par cœur, un chiffre configuré)", as `commune ask` prints it and the API's
``energy.summary`` carries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from commune.text.messages import localise
from commune.text.numbers import number
from commune.text.say import say


def summary(energy: Mapping[str, Any] | None, language: str | None) -> str | None:
    """The figure, its carbon and how it was found; None where no figure was taken."""
    if not energy or energy.get("wh") is None:
        return None
    measured = energy.get("measured")
    kind = (
        say(language, "mesurée", "measured") if measured else say(language, "estimée", "estimated")
    )
    method = str(energy.get("method") or "")
    method = method.replace(" (measured)", "").replace(" (estimated)", "")  # said by kind
    # This machine's share, then a remote model's (account/metering.py), each in its words.
    method = " + ".join(localise(part, language) for part in method.split(" + "))
    mwh = number(energy["wh"] * 1000, 2, language)
    # No carbon figure is no figure, not zero (a grid's intensity left unset).
    gco2e = energy.get("gco2e")
    mg = "" if gco2e is None else f"{number(gco2e * 1000, 3, language)} mgCO2e, "
    return f"{mwh} mWh, {mg}{kind}" + (f" ({method})" if method else "")
