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
from commune.text.numbers import small
from commune.text.say import say


def summary(energy: Mapping[str, Any] | None, language: str | None) -> str | None:
    """The figure, its carbon and how it was found; None where no figure was taken."""
    if not energy or energy.get("wh") is None:
        return None
    measured = energy.get("measured")
    method = str(energy.get("method") or "")
    # RAPL's reading is the machine's, of which this request is given its share: said as
    # the ledger says it ("measured, shared"), not as a reading of this request alone.
    shared = measured and "(measured, shared)" in method
    kind = (
        say(language, "mesurée, partagée", "measured, shared")
        if shared
        else say(language, "mesurée", "measured")
        if measured
        else say(language, "estimée", "estimated")
    )
    for said in (" (measured, shared)", " (measured)", " (estimated)"):  # said by kind
        method = method.replace(said, "")
    # This machine's share, then a remote model's (account/metering.py), each in its words.
    method = " + ".join(localise(part, language) for part in method.split(" + "))
    # A cached answer's few µWh read "< 0,01 mWh", not "0,00 mWh": not nothing.
    mwh = small(energy["wh"] * 1000, 2, language)
    # No carbon figure is no figure, not zero (a grid's intensity left unset).
    gco2e = energy.get("gco2e")
    mg = "" if gco2e is None else f"{small(gco2e * 1000, 3, language)} mgCO2e, "
    return f"{mwh} mWh, {mg}{kind}" + (f" ({method})" if method else "")
