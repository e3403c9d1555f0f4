"""The charter in force and the book of decisions taken under it.

One holder per home: it loads the charter once (validated, and remembered in the database
so that the transparency page can show its history), writes each request's decision
record, and purges the records past the charter's retention at most once an hour.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from commune.charter import records
from commune.charter.rules import Charter
from commune.errors import CommuneError
from commune.govern.policy import Actor

log = logging.getLogger(__name__)

T = TypeVar("T")

# Records past the charter's retention are purged at most this often per process: the
# purge runs on the request path, and a delete per request would cost more than it saves.
PURGE_EVERY_S = 3600.0

# The server's purger waits for a lock in tries this long, each a whole transaction, so that
# its stop (the server's shutdown) is heard between two; for as long as a write waits
# (SQLite's busy_timeout), then it gives up until the next time.
PURGE_TRY_MS = 250
PURGE_WAIT_S = 30.0


class PurgeStopped(Exception):
    """The server's purger was stopped while it waited for a lock: nothing was written."""


class CharterBook:
    def __init__(self, engine: Engine, home: Path) -> None:
        self.engine = engine
        self.home = home
        self._last_purge = 0.0
        self._lock = threading.Lock()
        self._reading = threading.Lock()
        self._charter: Charter | None = None
        self._seen: tuple[int, int, int] | None = None

    @property
    def charter(self) -> Charter:
        """The charter in force (charter.toml in the home, else the default), validated on
        first use: an invalid one stops here with its file, line and reason.

        Read again when the file changes: a server kept the charter it started with while
        the CLI, reading the edited file, recorded the new one as in force, so that the
        transparency page listed a version the answers were not given under. An invalid
        edit leaves the charter in force as it was, logged once (`commune charter check`
        validates a file before it is put in place)."""
        return self._in_force()

    def _in_force(
        self, wait: bool = True, stop: threading.Event | None = None, patience_ms: int = 0
    ) -> Charter:
        """:attr:`charter`; ``wait=False`` and ``stop``: see :meth:`purge` (a changed
        charter recorded in tries, which ``stop`` ends); ``patience_ms``: on PostgreSQL, a
        lock held elsewhere is waited for that long at most (a server's start:
        :meth:`at_start`)."""
        from commune.charter.rules import CHARTER_FILE, load_charter

        seen = _signature(self.home / CHARTER_FILE)
        with self._reading:
            if self._charter is not None and seen == self._seen:
                return self._charter
            try:
                charter = load_charter(self.home)
            except CommuneError as exc:
                if self._charter is None:
                    raise
                # The load's own advice ends "and start again", the command line's: a
                # running process takes the fixed file at its next request, unrestarted
                # (a restart with the file still wrong would refuse to start).
                log.error(
                    "charter.toml changed but is not valid, %s stays in force: %s (fix it "
                    "with `commune charter check`: the next request takes it, no restart)",
                    self._charter.version,
                    exc.message,
                )
                self._seen = seen
                return self._charter
            if self._charter is None or charter.sha256 != self._charter.sha256:
                if stop is None:
                    with self._begin(wait, patience_ms) as conn:
                        records.remember_charter(conn, charter)
                else:
                    self._in_tries(partial(records.remember_charter, charter=charter), stop)
                if self._charter is not None and seen is None:
                    log.warning("charter.toml is gone: the default charter is in force")
                elif self._charter is not None:
                    log.info("charter %s in force (was %s)", charter.version, self._charter.version)
            self._charter, self._seen = charter, seen
            return charter

    def at_start(self) -> Charter:
        """:attr:`charter` at a server's start. A changed charter is recorded under the
        charter's and the audit chain's locks: on PostgreSQL a session holding either (a
        psql transaction left open, a process stopped mid-write) held `commune serve` or
        `commune mcp` without end and without a word, before it listened; it is waited for
        as long as the migrations are (store/db.START_WAIT_MS), then the statement fails
        (store/db.gave_up_waiting). SQLite's busy_timeout bounds its own wait already."""
        from commune.store.db import START_WAIT_MS

        return self._in_force(patience_ms=START_WAIT_MS)

    def write(
        self,
        *,
        route: str,
        actor: Actor,
        question: str,
        language: str,
        collection: str | None,
        outcome: str,
        model: str | None,
        steps: list[dict[str, Any]],
        wh: float | None,
        conn: Connection | None = None,
        charter: Charter | None = None,
    ) -> int:
        """Write one request's decision record; returns its id. ``conn``: the caller's
        transaction, with ``charter`` read before it began (see below)."""
        from commune.store.db import within

        # Read before the transaction: a charter read again records itself on a connection
        # of its own, which would wait on this one's write lock.
        if charter is None:
            assert conn is None, "a caller's transaction needs the charter read before it"
            charter = self.charter
        with within(self.engine, conn) as tx:
            ident = records.write(
                tx,
                charter,
                route=route,
                actor=actor,
                question=question,
                language=language,
                collection=collection,
                outcome=outcome,
                model=model,
                steps=steps,
                wh=wh,
            )
            self.purge_due(tx, charter)
        return ident

    def purge_due(self, conn: Connection, charter: Charter) -> int:
        """Purge decision records past ``charter``'s retention, at most once an hour."""
        with self._lock:
            if self._last_purge and time.monotonic() - self._last_purge < PURGE_EVERY_S:
                return 0
            self._last_purge = time.monotonic()
        return records.purge(conn, charter)

    def purge(
        self, actor: str = "operator", *, wait: bool = True, stop: threading.Event | None = None
    ) -> int:
        """Purge now (`commune charter purge`), whenever the last one ran, and finish the
        erasures a crash left pending. ``wait=False`` (before a
        backup): a write lock held by another process fails it at once, instead of after
        the busy timeout (sqlalchemy's OperationalError). ``stop`` (the server's purger):
        a lock held elsewhere is waited for in short tries (PURGE_TRY_MS), each a whole
        transaction, until ``stop`` is set: then PurgeStopped, the transaction under way
        rolled back whole. So are a changed charter's recording and each pending erasure's
        transaction: they waited for their locks in one statement, which a shutdown could
        not end, and the purger was left behind, killed with the process."""
        from commune.store.db import scrub
        from commune.store.erasure import finish

        # Before the transaction, as write() reads it.
        charter = self._in_force(wait, stop)
        if stop is None:
            with self._begin(wait) as conn:
                gone = records.purge(conn, charter, actor=actor)
            # A personal-data takedown whose files a crash left in blobs/ (store/erasure.py).
            finish(self.engine, self.home)
        else:
            gone = self._in_tries(partial(records.purge, charter=charter, actor=actor), stop)
            finish(self.engine, self.home, run=partial(self._in_tries, stop=stop))
        scrub(self.engine)  # the purged records and erased texts, out of the log too
        return gone

    def _in_tries(self, work: Callable[[Connection], T], stop: threading.Event) -> T:
        """``work`` in one transaction, a lock held elsewhere waited for in tries of
        PURGE_TRY_MS, each rolled back whole, for PURGE_WAIT_S at most; PurgeStopped once
        ``stop`` is set."""
        from sqlalchemy.exc import OperationalError

        from commune.store.db import gave_up_waiting

        deadline = time.monotonic() + PURGE_WAIT_S
        while True:
            if stop.is_set():
                raise PurgeStopped
            try:
                with self._begin(False, PURGE_TRY_MS) as conn:
                    return work(conn)
            except OperationalError as exc:  # rolled back whole: nothing half written
                if not gave_up_waiting(exc) or time.monotonic() >= deadline:
                    raise

    @contextmanager
    def _begin(self, wait: bool, patience_ms: int = 0) -> Iterator[Connection]:
        from commune.store.db import lock_patience, no_wait

        with self.engine.connect() as conn, no_wait(conn, not wait, patience_ms), conn.begin():
            if patience_ms:
                lock_patience(conn, patience_ms)
            yield conn


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is edited or replaced (an editor renames a new one in)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)
