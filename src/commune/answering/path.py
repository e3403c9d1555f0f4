"""The request path of every answer (CLI, API, OpenAI routes, web page): the charter's five
steps in order, then the answer, each step's decision carried by the reply.

    refuse -> reduce -> regulate -> (retrieve) -> redirect -> answer -> responsibility

The responsibility record is written last, once every decision is known, and listed in
its place (fourth) among the decisions.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from commune.answering import cache
from commune.answering.search import check_length
from commune.charter import records, scores, steps
from commune.errors import InvalidRequest, NotFound
from commune.govern.policy import Actor
from commune.text.lang import detect

MODES = ("auto", "extractive", "generate")
# Retrieval depth for answers: the extractive scorer and the generator's passages draw
# from these.
ANSWER_HITS = 8


@dataclass
class Request:
    question: str
    language: str
    collection: str | None
    mode: str
    model: str | None
    route: str
    actor: Actor
    credit: bool
    use_cache: bool


class AskPath:
    """Runs one request through the five steps, over the services of a Commune."""

    def __init__(self, commune: Any) -> None:
        self.c = commune

    def stream(
        self,
        question: str,
        collection: str | None = None,
        mode: str = "auto",
        model: str | None = None,
        route: str = "ask",
        actor: Actor | None = None,
        credit: bool = True,
        use_cache: bool = True,
    ) -> Iterator[Any]:
        """Yield the answer's text as verified pieces, then the whole ``Answer``."""
        from commune.govern.policy import OPERATOR

        if mode not in MODES:
            raise InvalidRequest(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if not question.strip():
            raise InvalidRequest("the question is empty: ask something")
        check_length(self.c.settings, question, "question")
        if mode == "extractive" and model:
            raise InvalidRequest(
                "--model is for generated answers: drop it, or use --mode generate"
            )
        req = Request(
            question,
            detect(question, default="en"),
            collection,
            mode,
            model,
            route,
            actor or OPERATOR,
            credit,
            use_cache,
        )
        charter = self.c.charter
        c = self.c
        ids, names = c.library.reach(collection, req.actor)  # an unknown collection: 404
        requested = None
        if mode == "generate":
            # An unknown model is an error, not a fallback.
            requested = self._card(model or c.settings.generation.default_model)
        meter = c.metering.meter()
        decisions: list[steps.Step] = []

        # 1. Refuse.
        declared = c.declared_use(req.actor)
        # The member's monthly energy is summed only where the charter caps it.
        cap = charter.sobriety.member_month_wh_cap
        month_wh = c.metering.member_month_wh(req.actor) if cap is not None else None
        step = steps.refuse(charter, question, req.language, declared, month_wh)
        decisions.append(step)
        if step.outcome == "refused":
            yield from self._refused(req, step, decisions, meter)
            return

        # 2. Reduce.
        # The snapshot's generation, not the database's: under the refresher (serve) the
        # snapshot may be a moment behind, and its answers must be cached as of it.
        generation = c.catalog().generation
        with c.engine.connect() as conn:
            latest = scores.latest(conn)
        key = scope = None
        vector = None
        hit = None
        sobriety = charter.sobriety
        if sobriety.cache and use_cache:
            # The charter is part of the scope: under a new one (other floors, collections
            # that stay here), nothing decided under the old one is served.
            scope = cache.digest(collection, ids, declared, mode, model, charter.sha256)
            key = cache.digest(cache.normalise(question), scope)
            with c.engine.connect() as conn:
                hit = cache.exact(conn, key, generation, sobriety.cache_ttl_hours)
            if hit is None and sobriety.near_duplicate_cosine is not None:
                # Embedded once: the search below reuses the vector (the embedder's cache).
                vector = c.embedder.embed_query(question)
                with c.engine.connect() as conn:
                    hit = cache.near(
                        conn,
                        scope,
                        generation,
                        sobriety.cache_ttl_hours,
                        req.language,
                        vector,
                        sobriety.near_duplicate_cosine,
                    )
        # A way of answering must suffice for every collection in reach: the strictest floor.
        floor = max((charter.sobriety.floor(n) for n in names), default=None)
        floor = charter.sobriety.quality_floor if floor is None else floor
        extractive_score, scored_on = scores.score_for(latest, names, "extractive", None)
        step = steps.reduce(charter, req.language, mode, hit, extractive_score, scored_on, floor)
        decisions.append(step)
        reduced = step.outcome

        # 3. Regulate.
        from commune.govern.quotas import QuotaExceeded

        try:
            tightest = c.metering.admit(req.actor)
        except QuotaExceeded as exc:
            decisions.append(steps.over_quota(req.language, str(exc)))
            self._record(req, decisions, "over-quota", None, None)
            raise
        decisions.append(steps.regulate(req.language, tightest))

        if hit is not None:
            yield from self._cached(req, hit.answer, decisions, meter)
            return

        # Retrieval, then 5. Redirect.
        hits = c.searcher.search(question, collection, k=ANSWER_HITS, actor=req.actor)
        hits, excluded = c.usable_for_answers(hits, req.actor)
        cards = c.model_cards()
        passages = c.settings.generation.passages
        words = sum(len(h.text.split()) for h in hits[:passages])
        estimated_tokens = int(words * 4 / 3) + c.settings.generation.max_tokens
        model_scores = {
            card.name: scores.score_for(latest, names, "generate", card.name)[0] for card in cards
        }
        redirect, chosen = steps.redirect(
            charter,
            req.language,
            mode,
            reduced,
            requested,
            cards,
            model_scores,
            {h.collection for h in hits} | set(names if collection else []),
            floor,
            estimated_tokens,
        )
        decisions.append(redirect)
        yield from self._answer(
            req, hits, excluded, chosen, decisions, meter, key, scope, vector, generation
        )

    # -- the answers ---------------------------------------------------------------------------
    def _card(self, name: str):  # type: ignore[no-untyped-def]
        cards = {card.name: card for card in self.c.model_cards()}
        if name not in cards:
            known = ", ".join(sorted(cards)) or "none"
            raise NotFound(
                f"unknown model {name!r}",
                f"configured models: {known}; add [models.{name}] to commune.toml",
            )
        return cards[name]

    def _answer(  # type: ignore[no-untyped-def]
        self, req, hits, excluded, chosen, decisions, meter, key, scope, vector, generation
    ) -> Iterator[Any]:
        from commune.answering.answer import extractive_stream, stream_generated
        from commune.answering.licensing import finish_licensing

        c = self.c
        generator = None
        events: Any  # a generator of verified pieces, then the Answer
        if chosen is not None:
            generator = c.generator(chosen.name)
            events = stream_generated(
                req.question, hits, c.embedder, generator, c.settings.generation.passages
            )
        else:
            events = extractive_stream(req.question, hits, c.embedder)
        try:
            for event in events:
                if not isinstance(event, str):
                    remote = generator if getattr(generator, "backend", "") == "openai" else None
                    energy = c.metering.record_usage(
                        req.route,
                        event.mode,
                        event.model,
                        event.input_tokens,
                        event.output_tokens,
                        req.collection,
                        meter,
                        req.actor,
                        fallback=chosen is not None and event.mode != "generate",
                        remote=remote,
                    )
                    event.energy = energy.to_json()
                    finish_licensing(event, excluded)
                    if req.credit:
                        c.record_credits(req.route, event, hits, req.actor)
                    outcome = "generated" if event.mode == "generate" else "extractive"
                    self._finish(req, event, decisions, outcome, energy.wh)
                    if key is not None and (chosen is None or event.mode == "generate"):
                        # A fallback (the model failed) is not kept: the next try may succeed.
                        self._store(req, event, hits, key, scope, vector, generation)
                yield event
        except GeneratorExit:
            # The client went away mid-answer: the work done so far is still recorded.
            events.close()
            c.metering.record_usage(
                req.route, "abandoned", None, 0, 0, req.collection, meter, req.actor
            )
            raise

    def _cached(self, req, data, decisions, meter) -> Iterator[Any]:  # type: ignore[no-untyped-def]
        from commune.answering.answer import Answer

        c = self.c
        revisions = {int(k): v for k, v in data.pop("revisions", {}).items()}
        answer = Answer.from_json(data)
        answer.question = req.question
        answer.input_tokens = answer.output_tokens = 0  # no model ran for this one
        energy = c.metering.record_usage(
            req.route, "cached", answer.model, 0, 0, req.collection, meter, req.actor
        )
        answer.energy = energy.to_json()
        if req.credit and answer.sources:
            from commune.commons.credits import record

            with c.engine.begin() as conn:
                record(conn, req.route, answer, revisions, req.actor)
        decisions.append(
            steps.Step(
                "redirect",
                "none",
                steps.say(
                    req.language,
                    "aucun modèle : réponse du cache",
                    "no model: answer from the cache",
                ),
            )
        )
        self._finish(req, answer, decisions, "cached", energy.wh)
        yield answer.text
        yield answer

    def _refused(self, req, step, decisions, meter) -> Iterator[Any]:  # type: ignore[no-untyped-def]
        from commune.answering.answer import Answer

        c = self.c
        answer = Answer(req.question, req.language, step.reason, found=False, mode="refused")
        energy = c.metering.record_usage(
            req.route, "refused", None, 0, 0, req.collection, meter, req.actor
        )
        answer.energy = energy.to_json()
        self._finish(req, answer, decisions, "refused", energy.wh)
        yield answer.text
        yield answer

    def _finish(self, req, answer, decisions, outcome, wh) -> None:  # type: ignore[no-untyped-def]
        """Step 4: put the responsibility decision in its place, write the record."""
        charter = self.c.charter
        done = [d for d in decisions if d.step != "redirect"]
        done.append(steps.responsibility(charter, req.language))
        done += [d for d in decisions if d.step == "redirect"]
        answer.decisions = [d.to_json() for d in done]
        answer.decision_id = self._record(req, done, outcome, answer.model, wh)

    def _record(self, req, decisions, outcome, model, wh) -> int:  # type: ignore[no-untyped-def]
        charter = self.c.charter
        with self.c.engine.begin() as conn:
            ident = records.write(
                conn,
                charter,
                route=req.route,
                actor=req.actor,
                question=req.question,
                language=req.language,
                collection=req.collection,
                outcome=outcome,
                model=model,
                steps=[d.to_json() for d in decisions],
                wh=wh,
            )
            self.c.purge_due(conn)
        return ident

    def _store(self, req, answer, hits, key, scope, vector, generation) -> None:  # type: ignore[no-untyped-def]
        c = self.c
        data = answer.to_json()
        for k in ("decisions", "decision_id", "energy"):
            data.pop(k, None)
        data["revisions"] = {h.chunk_id: h.revision_id for h in hits}
        with c.engine.begin() as conn:
            cache.store(
                conn,
                key,
                scope,
                generation,
                req.language,
                vector,
                c.embedder.name,
                data,
                c.charter.sobriety.cache_ttl_hours,
            )
