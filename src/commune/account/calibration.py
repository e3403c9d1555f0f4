"""Calibration: a local model's energy per 1,000 output tokens, measured on this machine
before anyone is answered by it.

Without it a local model has no history, so its energy is unknown and a charter that caps
each request refuses it, and it never gets the history that would admit it. A short batch
of fixed prompts is metered like any request (RAPL's share where readable, else CPU time x
the configured watts, labelled estimated) and written to the ledger under the mode
``calibrate``: the catalogue reads it back with the model's answers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from commune.account.metering import Metering
from commune.errors import InvalidRequest
from commune.generate.base import Generator
from commune.govern.policy import OPERATOR

CALIBRATE = "calibrate"  # the ledger's mode for a calibration run

# Short questions of the kind the model will answer, in both languages.
PROMPTS = (
    "Résume en deux phrases à quoi sert une déchetterie municipale.",
    "Explain in two sentences how a town library lends books.",
    "Comment s'inscrire à la cantine scolaire ? Réponds brièvement.",
)


@dataclass(frozen=True)
class Calibration:
    model: str
    runs: int
    output_tokens: int
    wh: float
    wh_per_1k_tokens: float
    measured: bool  # every run read by a meter (RAPL's share); else estimated
    method: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def calibrate(
    generator: Generator, metering: Metering, runs: int = 3, max_tokens: int = 48
) -> Calibration:
    """Run ``runs`` short generations, each metered and recorded; their energy per 1,000
    output tokens."""
    if not generator.local:
        # Its figure is the operator's (wh_per_1k_tokens, measured on the GPU server), else
        # EcoLogits': the hint said only "calibrate a local model", and not where the
        # measured figure of a remote one goes.
        raise InvalidRequest(
            f"{generator.name} is served elsewhere: its energy is modelled by EcoLogits, "
            "there is nothing to calibrate here",
            f"measure it on its server and set models.{generator.name}.wh_per_1k_tokens in "
            'commune.toml, or calibrate a local model (backend = "llamacpp")',
        )
    if runs < 1:
        raise InvalidRequest(f"runs must be at least 1, got {runs}")
    wh = 0.0
    tokens = 0
    measured = True
    methods: set[str] = set()
    # Loading the weights cost as much as a whole run (SmolLM2: about 5 s of CPU), and the
    # first run paid it: recorded apart, as the work it is, and out of the figure (no token).
    meter = metering.meter()
    generator.warm_up()
    metering.record_usage(CALIBRATE, "load", generator.name, 0, 0, None, meter, OPERATOR)
    for i in range(runs):
        prompt = PROMPTS[i % len(PROMPTS)]
        meter = metering.meter()
        done = generator.complete([{"role": "user", "content": prompt}], max_tokens=max_tokens)
        energy = metering.record_usage(
            CALIBRATE,
            CALIBRATE,
            generator.name,
            done.input_tokens,
            done.output_tokens,
            None,
            meter,
            OPERATOR,
            generator=generator,
        )
        wh += energy.wh or 0.0
        tokens += done.output_tokens
        measured = measured and not energy.estimated
        methods.add(energy.method.split(" (")[0])
    if not tokens:
        raise InvalidRequest(
            f"{generator.name} wrote no token in {counted_runs(runs)}: nothing to calibrate on",
            "check the model with `commune ask --mode generate --model NAME`",
        )
    label = "measured, shared" if measured else "estimated"
    return Calibration(
        model=generator.name,
        runs=runs,
        output_tokens=tokens,
        wh=wh,
        wh_per_1k_tokens=wh / tokens * 1000,
        measured=measured,
        method=f"{label}: {'; '.join(sorted(methods))}, over {counted_runs(runs)}",
    )


def counted_runs(n: int) -> str:
    """The runs counted in English ("1 run", "3 runs"), as text/messages.py translates them."""
    return "1 run" if n == 1 else f"{n} runs"
