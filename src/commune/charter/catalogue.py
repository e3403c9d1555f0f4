"""The model catalogue: every generator with what the charter judges it by.

Parameters, openness, licence, where it runs and what a thousand tokens cost in energy;
``allowed`` says whether the charter lets a request use it, and why not.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Integer, cast, func, select

from commune.charter.book import CharterBook
from commune.charter.rules import Charter
from commune.config import Settings
from commune.errors import NotFound
from commune.store.schema import usage


@dataclass(frozen=True)
class ModelCard:
    name: str
    backend: str  # the registry key: llamacpp (local) | openai (an endpoint) | a plugin's
    params_b: float | None
    openness: str
    licence: str | None
    origin: str | None
    hosting: str  # "local" or the endpoint's base URL
    jurisdiction: str | None
    wh_per_1k_tokens: float | None
    energy_method: str
    remote: bool  # served elsewhere (the generator class's capability, not its name)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ledger_energy(conn: Connection, model: str) -> tuple[float, int, int, bool] | None:
    """Energy per 1,000 tokens of a model's past answers, from the ledger."""
    row = conn.execute(
        select(
            func.sum(usage.c.wh),
            func.sum(usage.c.input_tokens + usage.c.output_tokens),
            func.count(),
            func.min(cast(usage.c.estimated, Integer)),
        )
        .where(usage.c.model == model)
        .where(usage.c.mode == "generate")
    ).one()
    wh, tokens, n, estimated = row
    if not n or not tokens or wh is None:
        return None
    return float(wh) / tokens * 1000, int(tokens), int(n), bool(estimated)


def catalogue(settings: Settings, charter: Charter, conn: Connection | None) -> list[ModelCard]:
    """The configured generators, smallest first (unknown sizes last)."""
    from commune.account.energy import ecologits_wh
    from commune.generate.registry import generator_class, model_specs

    cards = []
    for name, spec in model_specs(settings).items():
        local = generator_class(spec.backend).local
        wh, method = spec.wh_per_1k_tokens, "configured (wh_per_1k_tokens)"
        seen = _ledger_energy(conn, name) if conn is not None else None
        if seen is not None:
            per_k, tokens, n, estimated = seen
            kind = "estimated" if estimated else "measured"
            wh, method = per_k, f"{kind}, over {n} answers ({tokens} tokens) in the ledger"
        elif wh is None and not local and spec.active_params_b and spec.total_params_b:
            wh = ecologits_wh(spec.active_params_b, spec.total_params_b, 1000)
            method = "estimated by EcoLogits' method from the model's parameters"
        elif wh is None:
            method = "unknown: no meter reading, ledger history or parameters"
        cards.append(
            ModelCard(
                name=name,
                backend=spec.backend,
                params_b=spec.total_params_b,
                openness=spec.openness,
                licence=spec.licence,
                origin=spec.origin,
                hosting="local" if local else str(spec.base_url),
                jurisdiction=charter.sovereignty.local_jurisdiction if local else spec.jurisdiction,
                wh_per_1k_tokens=None if wh is None else round(wh, 6),
                energy_method=method,
                remote=not local,
            )
        )
    return sorted(cards, key=lambda c: (c.params_b is None, c.params_b or 0, c.name))


# The cards sum past answers from the ledger and are read on the request path: re-read at
# most this often.
CARDS_TTL_S = 60.0


class ModelCatalogue:
    """The model catalogue of a home, with each model's energy per 1,000 tokens from the
    ledger (re-read at most once a minute)."""

    def __init__(self, settings: Settings, charters: CharterBook, engine: Engine) -> None:
        self.settings = settings
        self.charters = charters
        self.engine = engine
        self._cards: tuple[float, list[ModelCard] | None] = (0.0, None)
        self._lock = threading.Lock()

    def cards(self) -> list[ModelCard]:
        with self._lock:
            stamp, cards = self._cards
        if cards is None or time.monotonic() - stamp > CARDS_TTL_S:
            with self.engine.connect() as conn:
                cards = catalogue(self.settings, self.charters.charter, conn)
            with self._lock:
                self._cards = (time.monotonic(), cards)
        return cards

    def admitted(self) -> list[ModelCard]:
        """The models the charter can let answer: those its sovereignty rules (openness,
        jurisdiction) do not exclude for every request. Whether one answers a given request
        still depends on its collections and energy (:func:`allowed`); one excluded here
        never would, so /v1/models does not offer it (issue 24)."""
        charter = self.charters.charter
        return [c for c in self.cards() if allowed(c, charter, set(), "en")[0]]

    def card(self, name: str) -> ModelCard:
        """A model's card; an unknown model is an error that names the configured ones."""
        cards = {card.name: card for card in self.cards()}
        if name not in cards:
            known = ", ".join(sorted(cards)) or "none"
            raise NotFound(
                f"unknown model {name!r}",
                f"configured models: {known}; add [models.{name}] to commune.toml",
            )
        return cards[name]


def allowed(
    card: ModelCard,
    charter: Charter,
    collections: set[str],
    language: str,
    estimated_tokens: int = 0,
) -> tuple[bool, str]:
    """May a request whose passages come from ``collections`` use this model? With why."""
    fr = language == "fr"
    sov = charter.sovereignty
    if card.openness not in sov.openness:
        return False, (
            f"{card.name} : ouverture « {card.openness} » non admise par la charte "
            f"({', '.join(sov.openness)})"
            if fr
            else f"{card.name}: openness '{card.openness}' is not allowed by the charter "
            f"({', '.join(sov.openness)})"
        )
    if card.jurisdiction not in sov.jurisdictions:
        where = card.jurisdiction or ("inconnue" if fr else "unknown")
        return False, (
            f"{card.name} : hébergé hors des juridictions admises ({where} ; admises : "
            f"{', '.join(sov.jurisdictions)})"
            if fr
            else f"{card.name}: hosted outside the allowed jurisdictions ({where}; allowed: "
            f"{', '.join(sov.jurisdictions)})"
        )
    kept = sorted(collections & set(sov.stays_here))
    if card.remote and kept:
        return False, (
            f"{card.name} est distant, et la collection {', '.join(kept)} reste ici"
            if fr
            else f"{card.name} is remote, and collection {', '.join(kept)} stays here"
        )
    cap = charter.sobriety.request_wh_cap
    if cap is not None and estimated_tokens:
        if card.wh_per_1k_tokens is None:
            return False, (
                f"{card.name} : énergie inconnue, et la charte plafonne chaque requête à {cap:g} Wh"
                if fr
                else f"{card.name}: its energy is unknown, and the charter caps each request "
                f"at {cap:g} Wh"
            )
        need = card.wh_per_1k_tokens * estimated_tokens / 1000
        if need > cap:
            return False, (
                f"{card.name} : environ {need:.3g} Wh pour cette requête, au-delà du plafond de "
                f"{cap:g} Wh"
                if fr
                else f"{card.name}: about {need:.3g} Wh for this request, over the cap of "
                f"{cap:g} Wh"
            )
    return True, (
        f"{card.name} est admis ({card.openness}, {card.jurisdiction})"
        if fr
        else f"{card.name} is allowed ({card.openness}, {card.jurisdiction})"
    )
