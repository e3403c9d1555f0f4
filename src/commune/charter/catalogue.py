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

from commune.account.calibration import CALIBRATE, counted_runs
from commune.charter.book import CharterBook
from commune.charter.rules import Charter, hosted_within
from commune.config import Settings
from commune.store.schema import usage
from commune.text.messages import localise


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
    wh_per_1k_tokens: float | None  # per 1,000 output tokens
    energy_method: str
    remote: bool  # served elsewhere (the generator class's capability, not its name)
    wh_per_1k_range: tuple[float, float] | None = None  # EcoLogits' min and max, if modelled

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _ledger_energy(conn: Connection, model: str) -> tuple[float, int, int, bool] | None:
    """Energy per 1,000 output tokens of a model's past answers and calibration runs, from
    the ledger: (Wh, output tokens, rows, estimated).

    Per *output* token, as EcoLogits counts a remote model and as the per-request cap is
    compared (the answer's tokens): reading the prompt is part of each written token's cost.
    Estimated as soon as one row is: a mix of measured and estimated is no better than its
    weakest part."""
    row = conn.execute(
        select(
            func.sum(usage.c.wh),
            func.sum(usage.c.output_tokens),
            func.count(),
            func.max(cast(usage.c.estimated, Integer)),
        )
        .where(usage.c.model == model)
        .where(usage.c.mode.in_(("generate", CALIBRATE)))
        .where(usage.c.output_tokens > 0)
    ).one()
    wh, tokens, n, estimated = row
    if not n or not tokens or wh is None:
        return None
    return float(wh) / tokens * 1000, int(tokens), int(n), bool(estimated)


def catalogue(settings: Settings, charter: Charter, conn: Connection | None) -> list[ModelCard]:
    """The configured generators, smallest first (unknown sizes last)."""
    from commune.account.energy import modelled_for
    from commune.errors import CommuneError
    from commune.generate.registry import generator_class, model_specs

    cards = []
    for name, spec in model_specs(settings).items():
        local = generator_class(spec.backend).local
        wh, method = spec.wh_per_1k_tokens, "configured (wh_per_1k_tokens)"
        span: tuple[float, float] | None = None
        if wh is not None:
            pass  # the operator's figure (a meter of their own, a published one) comes first
        elif local:
            # Measured here: the calibration batch and past answers, both in the ledger.
            seen = _ledger_energy(conn, name) if conn is not None else None
            if seen is not None:
                per_k, tokens, n, estimated = seen
                kind = "estimated" if estimated else "measured, shared"
                wh = per_k
                method = f"{kind}, over {counted_runs(n)} ({tokens} output tokens) in the ledger"
            else:
                method = f"not calibrated: run `commune model calibrate {name}`"
        else:
            # A model served elsewhere is modelled, never read back from the ledger: its rows
            # also hold this machine's retrieval, and older rows an older method.
            try:
                modelled = modelled_for(name, spec, 1000)
            except CommuneError as exc:
                modelled, method = None, f"unknown: {exc}"
            else:
                method = (
                    "unknown: set active_params_b and total_params_b to model it"
                    if modelled is None
                    else modelled.method
                )
            if modelled is not None:
                wh, span = modelled.wh, (modelled.wh_min, modelled.wh_max)
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
                wh_per_1k_range=None if span is None else (round(span[0], 6), round(span[1], 6)),
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
        # When they were read, under which charter (its SHA-256), and the cards.
        self._cards: tuple[float, str, list[ModelCard] | None] = (0.0, "", None)
        self._lock = threading.Lock()

    def cards(self, charter: Charter | None = None) -> list[ModelCard]:
        """The cards under ``charter`` (a request's, the one it began under; else the one in
        force): a local model's card carries its local_jurisdiction. Read at the redirect
        step, the charter in force, edited while the request searched, made the cards under
        the new charter and judged them under the old (a local model refused as hosted
        outside the old charter's jurisdictions)."""
        charter = self.charters.charter if charter is None else charter
        with self._lock:
            stamp, under, cards = self._cards
        # Made again under an edited charter, however recent: a local model's card carries
        # the charter's local_jurisdiction, and kept a minute, the cards let a local model
        # answer under a charter that had just moved this server out of its jurisdictions.
        if cards is None or under != charter.sha256 or time.monotonic() - stamp > CARDS_TTL_S:
            with self.engine.connect() as conn:
                cards = catalogue(self.settings, charter, conn)
            with self._lock:
                self._cards = (time.monotonic(), charter.sha256, cards)
        return cards

    def admitted(self) -> list[ModelCard]:
        """The models the charter can let answer: those its sovereignty rules (openness,
        jurisdiction) and its per-request cap do not exclude for every request. Whether one
        answers a given request still depends on its collections (:func:`allowed`); one
        excluded here never would, so /v1/models does not offer it (issue 24)."""
        charter = self.charters.charter
        # Weighed on an answer of [generation] max_tokens, as the redirect step weighs every
        # request (answering/path.py) and /transparency each model: without the cap, an
        # uncalibrated local model under request_wh_cap was offered, then never answered.
        tokens = self.settings.generation.max_tokens
        return [c for c in self.cards() if allowed(c, charter, set(), "en", tokens)[0]]

    def refresh(self) -> None:
        """Read the ledger again at the next look (a model was just calibrated)."""
        with self._lock:
            self._cards = (0.0, "", None)

    def card(self, name: str, charter: Charter | None = None) -> ModelCard:
        """A model's card (under ``charter``, as :meth:`cards`); an unknown model is an error
        that names the configured ones."""
        cards = {card.name: card for card in self.cards(charter)}
        if name not in cards:
            from commune.generate.registry import not_configured

            raise not_configured(self.settings, name, cards)
        return cards[name]


# A model's openness in a French reason, in the words /transparency uses (web/i18n.py's
# catalogue): "smollm2 est admis (open-weights, FR)" was English inside the French reason of
# every generated answer. The Model Openness Framework's classes (MOF-I…) are names. (A
# refusal quotes the value as charter.toml and commune.toml write it, in both languages.)
OPENNESS_FR = {"open-weights": "poids ouverts", "closed": "fermé", "unknown": "inconnu"}


def openness_fr(openness: str) -> str:
    return OPENNESS_FR.get(openness, openness)


def allowed(
    card: ModelCard,
    charter: Charter,
    collections: set[str],
    language: str,
    estimated_tokens: int = 0,
    *,
    from_peers: bool = False,
) -> tuple[bool, str]:
    """May a request whose passages come from ``collections`` use this model? With why
    (:func:`judge`, without the rule)."""
    rule, why = judge(card, charter, collections, language, estimated_tokens, from_peers=from_peers)
    return rule is None, why


def judge(
    card: ModelCard,
    charter: Charter,
    collections: set[str],
    language: str,
    estimated_tokens: int = 0,
    *,
    from_peers: bool = False,
) -> tuple[str | None, str]:
    """The charter's key that keeps this model out of a request whose passages come from
    ``collections`` (None: it may answer), and why, in ``language``. The key is the redirect
    step's rule: all of them were "sovereignty", the per-request cap's refusal too.

    ``estimated_tokens``: the output tokens the answer may take, compared with the model's
    energy per 1,000 output tokens (like with like). ``from_peers``: passages of peer
    cooperatives are among them."""
    fr = language == "fr"
    sov = charter.sovereignty
    if card.openness not in sov.openness:
        return "sovereignty.openness", (
            f"{card.name}\u00a0: ouverture «\u00a0{card.openness}\u00a0» non admise par la charte "
            f"({', '.join(sov.openness)})"
            if fr
            else f"{card.name}: openness '{card.openness}' is not allowed by the charter "
            f"({', '.join(sov.openness)})"
        )
    if not hosted_within(sov.jurisdictions, card.jurisdiction):
        where = card.jurisdiction or ("inconnue" if fr else "unknown")
        return "sovereignty.jurisdictions", (
            f"{card.name}\u00a0: hébergé hors des juridictions admises ({where}\u00a0; "
            f"admises\u00a0: {', '.join(sov.jurisdictions)})"
            if fr
            else f"{card.name}: hosted outside the allowed jurisdictions ({where}; allowed: "
            f"{', '.join(sov.jurisdictions)})"
        )
    kept = sorted(collections & set(sov.stays_here))
    if card.remote and kept:
        return "sovereignty.stays_here", (
            f"{card.name} est distant, et la collection {', '.join(kept)} reste ici"
            if fr
            else f"{card.name} is remote, and collection {', '.join(kept)} stays here"
        )
    # A peer's passages stay on this machine: the peer's own rules on where its texts may
    # go (its charter's collections that stay here, its jurisdictions) are not sent with
    # them, so the strictest reading holds: no model served elsewhere, only a local one or
    # extraction (docs/peering.md).
    if card.remote and from_peers:
        # No key of this charter decides it (the peers' own rules do not travel): its pillar.
        return "sovereignty", (
            f"{card.name} est distant, et des passages de coopératives pairs restent ici"
            if fr
            else f"{card.name} is remote, and passages from peer cooperatives stay here"
        )
    cap = charter.sobriety.request_wh_cap

    def wh(value: float, spec: str = "g") -> str:
        """A figure in the reason's language: "0,5 Wh" in French, "0.5 Wh" in English."""
        text = format(value, spec)
        return text.replace(".", ",") if fr else text

    if cap is not None and estimated_tokens:
        if card.wh_per_1k_tokens is None and not card.remote:
            return "sobriety.request_wh_cap", (
                f"{card.name} n'est pas encore étalonné (son énergie est inconnue, et la charte "
                f"plafonne chaque requête à {wh(cap)} Wh)\u00a0: `commune model calibrate "
                f"{card.name}` le mesure"
                if fr
                else f"{card.name} is not calibrated (its energy is unknown, and the charter "
                f"caps each request at {cap:g} Wh): `commune model calibrate {card.name}` "
                "measures it"
            )
        if card.wh_per_1k_tokens is None:
            return "sobriety.request_wh_cap", (
                f"{card.name}\u00a0: énergie inconnue ({localise(card.energy_method, 'fr')}), et "
                f"la charte plafonne chaque requête à {wh(cap)} Wh"
                if fr
                else f"{card.name}: its energy is unknown ({card.energy_method}), and the "
                f"charter caps each request at {cap:g} Wh"
            )
        # The top of the range where there is one: a cap is not passed on a middle value.
        per_k = card.wh_per_1k_range[1] if card.wh_per_1k_range else card.wh_per_1k_tokens
        need = per_k * estimated_tokens / 1000
        if need > cap:
            return "sobriety.request_wh_cap", (
                f"{card.name}\u00a0: environ {wh(need, '.3g')} Wh pour les {estimated_tokens} "
                f"jetons de réponse au plus, au-delà du plafond de {wh(cap)} Wh"
                if fr
                else f"{card.name}: about {need:.3g} Wh for up to {estimated_tokens} answer "
                f"tokens, over the cap of {cap:g} Wh"
            )
    return None, (
        f"{card.name} est admis ({openness_fr(card.openness)}, {card.jurisdiction})"
        if fr
        else f"{card.name} is allowed ({card.openness}, {card.jurisdiction})"
    )
