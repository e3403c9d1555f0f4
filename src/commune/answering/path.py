"""The request path of every answer (CLI, API, OpenAI routes, web page): the charter's five
steps in order, then the answer, each step's decision carried by the reply.

    refuse -> reduce -> regulate -> (retrieve) -> redirect -> answer -> responsibility

The responsibility record is written last, once every decision is known, and listed in
its place (fourth) among the decisions.

The path is built once per home from the services it needs, each handed down typed: it
never calls back into the facade.
"""

from __future__ import annotations

from collections import abc as cabc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from sqlalchemy import Connection

from commune.account.energy import Meter
from commune.account.metering import Metering
from commune.answering import cache
from commune.answering.answer import Answer, pieces
from commune.answering.cache import AnswerCache, CacheHit
from commune.answering.retrieve import Hit
from commune.answering.screening import record_refusal, screen
from commune.answering.search import Searcher, blank, check_length
from commune.charter import scores, steps
from commune.charter.book import CharterBook
from commune.charter.catalogue import ModelCard, ModelCatalogue
from commune.charter.scores import Scoreboard
from commune.commons.credits import Credits
from commune.commons.library import Library
from commune.config import Settings
from commune.embed import Embedder
from commune.errors import InvalidRequest
from commune.generate.base import AskerGone, Generator
from commune.govern.policy import OPERATOR, Actor
from commune.identity import running_code
from commune.text.lang import question_language
from commune.text.say import prose, say

if TYPE_CHECKING:
    from commune.answering.federation import Federation
    from commune.charter.rules import Charter
    from commune.index.catalog import Catalog

MODES = ("auto", "extractive", "generate")
# Retrieval depth for answers: the extractive scorer and the generator's passages draw
# from these.
ANSWER_HITS = 8
# Passages of the best document added beside the hits for an extractive answer: on the
# suites' dev splits, the answer's facts stand in the best five hits for 69% (Debian) and 62%
# (fiches) of questions, and with the document's three passages closest in meaning besides,
# in 75% and 72%; five more add one point.
COMPANIONS = 3

Event = str | Answer  # an answer's text as checked pieces, then the whole Answer


class GeneratorSource(Protocol):
    """Where the path gets the model it chose (generate/registry.Generators, or a double)."""

    def get(self, name: str | None = None) -> Generator: ...


def _joined(language: str, *notices: str | None) -> str:
    """An answer's notices, one after the other: French puts a no-break space before its
    semicolon ("réponse sans lui; le pair coop-c…" read as English between French clauses)."""
    return prose(language, " ; ", "; ").join(n for n in notices if n)


def limited_to_one_collection(collection: str, *, searching: bool = False) -> InvalidRequest:
    """Asked of one of this home's collections and of the peer cooperatives at once: the
    collection answered from the peers' collections too, though the asker had said it alone.

    ``searching``: a federated search, whose route has no "peers" field to drop: the API's
    caller was told "drop peers", and searches that collection alone on /api/search."""
    return InvalidRequest(
        f"a question limited to the collection {collection!r} asks no peer cooperative",
        "drop --peers to ask that collection alone, or --collection to ask the peers too",
        field_hint=(
            "search that collection alone with /api/search, or drop collection to search "
            "the peers too"
            if searching
            else "drop peers to ask that collection alone, or collection to ask the peers too"
        ),
    )


@dataclass
class AskRequest:
    """One question, as every face asks it."""

    question: str
    collection: str | None = None
    mode: str = "auto"  # auto (the charter decides) | extractive | generate
    model: str | None = None  # for generated answers: the model asked for
    route: str = "ask"  # the face and route, as the ledger and the records name it
    actor: Actor = OPERATOR
    # False for questions nobody asked (the evaluation): their energy is still recorded,
    # but they do not count as citations in the contributors' credits.
    credit: bool = True
    use_cache: bool = True
    # Ask the registered peer cooperatives too (answering/federation.py); None: as
    # commune.toml's [peers] federate says.
    peers: bool | None = None
    # The asker's language as the face knows it (the CLI's locale, the page's), for a
    # question too short to tell its own (text/lang.question_language); None: English.
    asker_language: str | None = None
    # Whether the asker has left (the face's connection closed), read between a model's
    # tokens: a client gone midway cost the whole generation (its CPU time, its energy, the
    # member's quota), written for nobody. None: the asker cannot leave (the evaluation).
    gone: Callable[[], bool] | None = None

    @cached_property
    def language(self) -> str:
        return question_language(self.question, self.asker_language)

    def check(self, settings: Settings) -> None:
        """Refuse a malformed request before any work, saying what to change."""
        if self.mode not in MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if blank(self.question):
            raise InvalidRequest("the question is empty: ask something")
        check_length(settings, self.question, "question")
        if self.mode == "extractive" and self.model:
            raise InvalidRequest(
                "a model is for generated answers",
                "drop --model, or use --mode generate",
                field_hint="drop model, or give mode generate",  # the API's and MCP's fields
            )
        if self.collection and self.peers:
            raise limited_to_one_collection(self.collection)


@dataclass
class _CacheSlot:
    """Where this request's answer is looked up, and kept if it may be."""

    generation: int
    key: str | None = None
    scope: str | None = None
    vector: np.ndarray | None = None
    hit: CacheHit | None = None


@dataclass
class _Progress:
    """What one request has decided so far."""

    request: AskRequest
    meter: Meter
    # The charter read when the request began: its decisions, the cache's scope and the
    # record all follow it. Read again at each, an edit of charter.toml while a request was
    # at work (a generation takes up to two minutes) recorded the steps decided under the
    # old charter as taken under the new, and kept the answer in the new one's cache, where
    # nothing decided under the old one may be served (_look_up).
    charter: Charter
    decisions: list[steps.Step] = field(default_factory=list)
    # The charter answered otherwise than asked: said on the reply, on every face.
    notice: str | None = None
    # Its answer may be kept in the answer cache, the question's text with it: said in the
    # responsibility step.
    cached: bool = False


class AskPath:
    """Runs one request through the five steps, over the services of one home."""

    def __init__(
        self,
        *,
        settings: Settings,
        library: Library,
        searcher: Searcher,
        metering: Metering,
        charters: CharterBook,
        models: ModelCatalogue,
        generators: GeneratorSource,
        credits: Credits,
        answers: AnswerCache,
        scoreboard: Scoreboard,
        embedder: Callable[[], Embedder],
        catalog: Callable[[], Catalog],
        federation: Federation | None = None,
    ) -> None:
        self.settings = settings
        self._settings = settings.fingerprint()  # the cache's scope (see _look_up)
        self.library = library
        self.searcher = searcher
        self.metering = metering
        self.charters = charters
        self.models = models
        self.generators = generators
        self.credits = credits
        self.answers = answers
        self.scoreboard = scoreboard
        self.embedder = embedder  # called when needed: loading it may load a model
        self.catalog = catalog  # the latest search snapshot
        self.federation = federation  # the peer cooperatives, if any is asked

    def ask(self, req: AskRequest) -> Answer:
        """The whole answer at once."""
        *_, answer = self.stream(req)
        assert isinstance(answer, Answer)  # the last event is always the Answer
        return answer

    def stream(self, req: AskRequest) -> Iterator[Event]:
        """Yield the answer's text as checked pieces, then the whole ``Answer``."""
        req.check(self.settings)
        charter = self.charters.charter
        ids, names = self.library.reach(req.collection, req.actor)  # an unknown one: 404
        requested = None
        if req.mode == "generate":
            # An unknown model is an error, not a fallback.
            requested = self.models.card(
                req.model or self.settings.generation.default_model, charter
            )
        elif req.model:
            # In auto too: the charter may quote and never read the name, but a misspelt one
            # asked for is the asker's slip, said now rather than met at the next generation.
            self.models.card(req.model)
        run = _Progress(req, self.metering.meter(), charter)
        try:
            yield from self._steps(run, ids, names, requested)
        finally:
            # Whatever ended the request, its meter leaves those at work now: dropped
            # unstopped by a failure before its row, it stayed counted until the collector
            # took it, and every answer of the process meanwhile shared its CPU time with
            # a request that had ended (account/energy.py).
            run.meter.discard()

    def _steps(
        self, run: _Progress, ids: list[int] | None, names: list[str], requested: ModelCard | None
    ) -> Iterator[Event]:
        """The five steps of a request whose meter runs (stream)."""
        req, charter = run.request, run.charter
        federated = (
            self.federation is not None
            # A question limited to one of this home's collections is answered from it
            # alone: with [peers] federate, it was answered from the peers' collections too.
            and not req.collection
            and (self.settings.peers.federate if req.peers is None else req.peers)
            # None registered: under [peers] federate the cache still serves; asked for by
            # the question (--peers), it is told that there is no peer to ask.
            and (req.peers is True or bool(self.federation.peers()))
        )
        if federated:
            # Not from the cache, nor kept in it: the peers' passages, and whether a peer
            # answers at all, change without this home's index changing.
            req.use_cache = False

        # 1. Refuse.
        declared = self.library.declared_use(req.actor)
        step = screen(charter, self.metering, req.actor, req.question, req.language, declared)
        run.decisions.append(step)
        if step.outcome == "refused":
            yield from self._refused(run, step)
            return

        # 2. Reduce.
        # The snapshot's generation, not the database's: under the refresher (serve) the
        # snapshot may be a moment behind, and its answers must be cached as of it.
        slot = self._look_up(req, ids, declared, self.catalog().generation, charter)
        run.cached = slot.key is not None and slot.hit is None
        latest = self.scoreboard.latest()
        sobriety = charter.sobriety
        # A way of answering must suffice for every collection in reach: the strictest floor.
        floor = max((sobriety.floor(n) for n in names), default=None)
        floor = sobriety.quality_floor if floor is None else floor
        extractive_score, scored_on = scores.score_for(latest, names, "extractive", None)
        step = steps.reduce(
            charter, req.language, req.mode, slot.hit, extractive_score, scored_on, floor
        )
        run.decisions.append(step)
        reduced = step.outcome

        # 3. Regulate.
        from commune.govern.quotas import QuotaExceeded

        try:
            tightest = self.metering.admit(req.actor)
        except QuotaExceeded as exc:
            run.decisions.append(steps.over_quota(req.language, str(exc)))
            # Recorded as every other request is, step 4 with it: where the record is kept
            # and for how long (no answer is made, none is cached).
            run.decisions.append(steps.responsibility(run.charter, req.language))
            self._record(run, run.decisions, "over-quota", None, None)
            raise
        run.decisions.append(steps.regulate(req.language, tightest))

        if slot.hit is not None:
            yield from self._cached(run, slot.hit.answer)
            return

        # Retrieval, then 5. Redirect.
        hits = self.searcher.search(req.question, req.collection, k=ANSWER_HITS, actor=req.actor)
        from commune.answering.licensing import usable_for_answers

        hits, excluded = usable_for_answers(
            hits, declared, self.settings.charter.tdm_reserved, req.language
        )
        peer_notices: list[str] = []
        if federated and self.federation is not None:
            from commune.answering.federation import fuse

            gathered = self.federation.gather(req.question, req.actor, req.language)
            # This home's charter and the licences apply to a peer's passages as to its own.
            theirs, left_out = usable_for_answers(
                gathered.hits, declared, self.settings.charter.tdm_reserved, req.language
            )
            hits = fuse(hits, theirs)
            excluded = [*excluded, *gathered.withheld, *left_out]
            peer_notices = gathered.notices
        cards = self.models.cards(charter)  # the request's: see ModelCatalogue.cards
        # The cap is compared with the tokens the answer may take: energy per output token
        # already carries the prompt's reading (EcoLogits' method, and the ledger's).
        estimated_tokens = self.settings.generation.max_tokens
        model_scores = {
            card.name: scores.score_for(latest, names, "generate", card.name)[0] for card in cards
        }
        redirect, chosen = steps.redirect(
            charter,
            req.language,
            req.mode,
            reduced,
            requested,
            cards,
            model_scores,
            {h.collection for h in hits} | set(names if req.collection else []),
            floor,
            estimated_tokens,
            # The charter's per-collection rules name this home's collections: a peer's
            # never matches them, so its passages get their own rule (local models only).
            from_peers=any(h.origin is not None for h in hits),
        )
        run.decisions.append(redirect)
        run.notice = steps.override_notice(req.language, req.mode, requested, chosen, redirect)
        if peer_notices:
            run.notice = _joined(req.language, run.notice, *peer_notices)
        yield from self._answer(run, hits, excluded, chosen, slot)

    # -- the cache -----------------------------------------------------------------------------
    def _look_up(
        self,
        req: AskRequest,
        ids: list[int] | None,
        declared: str | None,
        generation: int,
        charter: Charter,
    ) -> _CacheSlot:
        sobriety = charter.sobriety
        slot = _CacheSlot(generation)
        if not (sobriety.cache and req.use_cache):
            return slot
        # The charter is part of the scope: under a new one (other floors, collections that
        # stay here), nothing decided under the old one is served.
        # And so are the home's settings: a TDM reservation now excluded, another default
        # model, other retrieval weights change the answer (evaluation/pins.py hashes them).
        # And the code: an upgrade (a retrained sentence ranker, another refusal model, a
        # fixed reader) answers otherwise, and the cache outlives a restart in the database.
        # And the enrichment: passages given e5 vectors rank otherwise (`commune enrich`),
        # though the commons, and so its generation, did not change.
        # And who reads the sources: the operator is shown a local file's path, everyone else
        # its name (search.py); with the same collections, the operator's cached answer was
        # served to a reader, the path with it.
        audience = "operator" if req.actor.is_operator else "reader"
        slot.scope = cache.digest(
            req.collection,
            ids,
            audience,
            declared,
            req.mode,
            req.model,
            charter.sha256,
            self._settings,
            running_code(),
            self.searcher.enrichment_version(),
        )
        # The language too: a question too short to tell its own is answered in the asker's.
        slot.key = cache.digest(cache.normalise(req.question), slot.scope, req.language)
        slot.hit = self.answers.exact(slot.key, generation, sobriety.cache_ttl_hours)
        if slot.hit is None and sobriety.near_duplicate_cosine is not None:
            # Embedded once: the search below reuses the vector (the embedder's cache).
            slot.vector = self.embedder().embed_query(req.question)
            slot.hit = self.answers.near(
                slot.scope,
                generation,
                sobriety.cache_ttl_hours,
                req.language,
                slot.vector,
                sobriety.near_duplicate_cosine,
                req.question,
            )
        return slot

    def _store(
        self, req: AskRequest, answer: Answer, hits: list[Hit], slot: _CacheSlot, charter: Charter
    ) -> None:
        assert slot.key is not None and slot.scope is not None  # only a looked-up slot is kept
        data = answer.to_json()
        for k in ("decisions", "decision_id", "energy"):
            data.pop(k, None)
        data["revisions"] = {h.chunk_id: h.revision_id for h in hits}
        self.answers.store(
            slot.key,
            slot.scope,
            slot.generation,
            req.language,
            slot.vector,
            self.embedder().name,
            data,
            charter.sobriety.cache_ttl_hours,
            req.actor.user_id,
        )

    # -- the answers ---------------------------------------------------------------------------
    def _answer(
        self,
        run: _Progress,
        hits: list[Hit],
        excluded: list[dict[str, Any]],
        chosen: ModelCard | None,
        slot: _CacheSlot,
    ) -> Iterator[Event]:
        from commune.answering.answer import extractive_stream, relevant_hits, stream_generated
        from commune.answering.licensing import (
            finish_licensing,
            for_generation,
            left_out_of_generation,
        )

        req = run.request
        generator = None
        spent: dict[str, Any] = {}  # a model's work when its stream is closed midway
        events: cabc.Generator[Event, None, None]
        # The "nothing relevant" threshold of the collection asked, or else of the best
        # passage's (this home's: a peer's collection names are its own), or the home's.
        asked = req.collection or next((h.collection for h in hits[:1] if h.origin is None), None)
        refusal_threshold = self.settings.answer.threshold_for(asked)
        # A model is given the rest; no-derivatives passages may only be quoted.
        free = for_generation(hits)[0] if chosen is not None else hits
        # Of the passages that answer (those the model would be given): the ones it may
        # reword, and the no-derivatives ones it may only quote.
        passages = self.settings.generation.passages
        usable, quote_only = for_generation(relevant_hits(hits, req.language, passages))
        if chosen is not None and quote_only and not usable:
            # Only no-derivatives sources answer it: they may be quoted, not paraphrased, so
            # the answer quotes them (the licence notes say why) instead of leaving it unanswered.
            chosen = None
            run.decisions = [d for d in run.decisions if d.step != "redirect"]
            run.decisions.append(
                steps.Step(
                    "redirect",
                    "extractive",
                    say(
                        req.language,
                        "aucun modèle\u00a0: les sources trouvées n'autorisent pas de modification "
                        "(licence ND), elles sont citées mot pour mot",
                        "no model: the sources found allow no derivatives (ND licence), so they "
                        "are quoted word for word",
                    ),
                    "licence",
                )
            )
        elif chosen is not None and quote_only:
            excluded = [*excluded, *left_out_of_generation(quote_only, req.language)]
        if chosen is not None:
            generator = self.generators.get(chosen.name)
            events = stream_generated(
                req.question,
                free,
                self.embedder(),
                generator,
                self.settings.generation.passages,
                max_seconds=self.settings.limits.generation_seconds or None,
                equivalents=self.searcher.equivalents(req.question),
                refusal_threshold=refusal_threshold,
                lang=req.language,
                gone=req.gone,
                spent=spent,
            )
        else:
            # The best document's other passages that come closest to the question: the
            # answer may stand in one the search ranked below others.
            companions = (
                self.searcher.companions(
                    req.question, hits[0], {h.chunk_id for h in hits}, COMPANIONS
                )
                if hits and hits[0].origin is None  # a peer's document is not here to read
                else []
            )
            events = extractive_stream(
                req.question,
                hits,
                self.embedder(),
                companions,
                self.searcher.equivalents(req.question),
                refusal_threshold,
                lang=req.language,
            )
        recorded = False
        # Failing while its records are written, an answer leaves none of them (they land
        # together or not at all); the place it holds lapses as any failed request's does.
        in_records = False
        try:
            for event in events:
                if isinstance(event, Answer):
                    if run.notice is not None:  # the override first, then any fallback's
                        event.notice = _joined(req.language, run.notice, event.notice)
                    tell_peers: Callable[[], None] | None = None
                    in_records = True
                    with self._recording() as conn:
                        energy = self.metering.record_usage(
                            req.route,
                            event.mode,
                            event.model,
                            event.input_tokens,
                            event.output_tokens,
                            req.collection,
                            run.meter,
                            req.actor,
                            fallback=chosen is not None and event.mode != "generate",
                            generator=generator,
                            conn=conn,
                        )
                        event.energy = energy.to_json()
                        finish_licensing(event, excluded)
                        if req.credit:
                            revisions = {h.chunk_id: h.revision_id for h in hits}
                            self.credits.record(req.route, event, revisions, req.actor, conn)
                            if self.federation is not None:
                                tell_peers = self.federation.cited(
                                    req.route, event, hits, req.actor, conn
                                )
                        outcome = "generated" if event.mode == "generate" else "extractive"
                        self._finish(run, event, outcome, energy.wh, conn)
                    recorded, in_records = True, False
                    if tell_peers is not None:  # once the records here are committed
                        tell_peers()
                    whole = chosen is None or (event.mode == "generate" and event.notice is None)
                    if slot.key is not None and whole:
                        # A fallback (the model failed) or an answer cut short (a limit, parts
                        # removed) is not kept: the next try may succeed.
                        self._store(req, event, hits, slot, run.charter)
                yield event
        except GeneratorExit:
            # The client went away mid-answer: the work done so far is still recorded. A caller
            # that stops reading once it has the Answer (the CLI) closes the stream at that
            # yield: the answer is recorded already, and a second, "abandoned" row counted its
            # CPU twice and took a second request off the day's quota.
            events.close()
            if not recorded:
                self.metering.record_usage(
                    req.route,
                    "abandoned",
                    spent.get("model"),
                    spent.get("input_tokens", 0),
                    spent.get("output_tokens", 0),
                    req.collection,
                    run.meter,
                    req.actor,
                    generator=generator if spent else None,
                )
            raise
        except AskerGone as left:
            # The asker left while the model wrote, and it stopped: an abandoned answer, with
            # the model's work until then, measured here (CPU time, RAPL) and, for a remote
            # model, estimated from the tokens it wrote, not from a whole answer's estimate.
            self.metering.record_usage(
                req.route,
                "abandoned",
                left.model,
                left.input_tokens,
                left.output_tokens,
                req.collection,
                run.meter,
                req.actor,
                generator=generator,
            )
            raise
        except Exception:
            # A model (or the library under a backend) failed in a way it does not say, as
            # no GeneratorUnavailable: the request fails, but its work is on the ledger like
            # an abandoned answer's, and the place admit() held in the quota is free again;
            # left, it counted as a request still at work for five minutes.
            if not recorded and not in_records:
                self.metering.record_usage(
                    req.route, "abandoned", None, 0, 0, req.collection, run.meter, req.actor
                )
            raise

    def _cached(self, run: _Progress, data: dict[str, Any]) -> Iterator[Event]:
        req = run.request
        stored = dict(data)
        raw = stored.pop("revisions", None)
        revisions = {int(k): v for k, v in raw.items()} if isinstance(raw, dict) else {}
        answer = Answer.from_json(stored)
        answer.question = req.question
        answer.input_tokens = answer.output_tokens = 0  # no model ran for this one
        try:
            # Its sentences are known: they go first, the accounting after them. A reader
            # who leaves early was still answered from the cache, and is recorded so.
            yield from pieces(answer)
        finally:
            self._account_cached(run, answer, revisions)
        yield answer

    def _account_cached(
        self, run: _Progress, answer: Answer, revisions: dict[int, int | None]
    ) -> None:
        req = run.request
        with self._recording() as conn:
            energy = self.metering.record_usage(
                req.route,
                "cached",
                answer.model,
                0,
                0,
                req.collection,
                run.meter,
                req.actor,
                conn=conn,
            )
            answer.energy = energy.to_json()
            if req.credit and answer.sources:
                self.credits.record(req.route, answer, revisions, req.actor, conn)
            self._served_from_cache(run, answer, energy.wh, conn)

    def _served_from_cache(
        self, run: _Progress, answer: Answer, wh: float | None, conn: Connection
    ) -> None:
        req = run.request
        run.decisions.append(
            steps.Step(
                "redirect",
                "none",
                say(
                    req.language,
                    "aucun modèle\u00a0: réponse du cache",
                    "no model: answer from the cache",
                ),
            )
        )
        self._finish(run, answer, "cached", wh, conn)

    def _refused(self, run: _Progress, step: steps.Step) -> Iterator[Event]:
        req = run.request
        answer = Answer(req.question, req.language, step.reason, found=False, mode="refused")
        answer.notice = steps.refusal_notice(req.language, step)
        with self._recording() as conn:
            # Refused before step 3 admits it: it holds no place, and must not free another's.
            energy = record_refusal(
                self.metering, req.route, req.actor, req.collection, run.meter, conn
            )
            answer.energy = energy.to_json()
            self._finish(run, answer, "refused", energy.wh, conn)
        yield answer.text
        yield answer

    @contextmanager
    def _recording(self) -> Iterator[Connection]:
        """One transaction for an answer's records: its ledger row (and the quota hold it
        frees), its contributors' credits, the peers' cited documents and its decision
        record. Written one by one, a crash between them left an answer billed but not
        credited, or credited with no decision record: the month's money then no longer
        matched its answers."""
        with self.charters.engine.begin() as conn:
            yield conn

    def _finish(
        self,
        run: _Progress,
        answer: Answer,
        outcome: str,
        wh: float | None,
        conn: Connection,
    ) -> None:
        """Step 4: put the responsibility decision in its place, write the record, on the
        answer's transaction (under the request's charter, read before it began: read in it,
        a changed charter.toml recorded itself on a connection of its own, which waited on
        this one's write lock)."""
        req = run.request
        done = [d for d in run.decisions if d.step != "redirect"]
        done.append(steps.responsibility(run.charter, req.language, run.cached))
        done += [d for d in run.decisions if d.step == "redirect"]
        answer.decisions = [d.to_json() for d in done]
        answer.decision_id = self._record(run, done, outcome, answer.model, wh, conn)

    def _record(
        self,
        run: _Progress,
        decisions: list[steps.Step],
        outcome: str,
        model: str | None,
        wh: float | None,
        conn: Connection | None = None,
    ) -> int:
        """Write the request's decision record under the charter it began under (run.charter),
        whatever step ended it: given none, the book reads the charter in force, and a
        charter.toml edited meanwhile named the new charter (and its retention) for steps
        decided under the old."""
        req = run.request
        return self.charters.write(
            route=req.route,
            actor=req.actor,
            question=req.question,
            language=req.language,
            collection=req.collection,
            outcome=outcome,
            model=model,
            steps=[d.to_json() for d in decisions],
            wh=wh,
            conn=conn,
            charter=run.charter,
        )
