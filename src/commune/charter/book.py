"""The charter in force and the book of decisions taken under it.

One holder per home: it loads the charter once (validated, and remembered in the database
so that the transparency page can show its history), writes each request's decision
record, and purges the records past the charter's retention at most once an hour.
"""

from __future__ import annotations

import threading
import time
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from commune.charter import records
from commune.charter.rules import Charter
from commune.govern.policy import Actor

# Records past the charter's retention are purged at most this often per process: the
# purge runs on the request path, and a delete per request would cost more than it saves.
PURGE_EVERY_S = 3600.0


class CharterBook:
    def __init__(self, engine: Engine, home: Path) -> None:
        self.engine = engine
        self.home = home
        self._last_purge = 0.0
        self._lock = threading.Lock()

    @cached_property
    def charter(self) -> Charter:
        """The charter in force (charter.toml in the home, else the default), validated on
        first use: an invalid one stops here with its file, line and reason."""
        from commune.charter.rules import load_charter

        charter = load_charter(self.home)
        with self.engine.begin() as conn:
            records.remember_charter(conn, charter)
        return charter

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
    ) -> int:
        """Write one request's decision record; returns its id."""
        with self.engine.begin() as conn:
            ident = records.write(
                conn,
                self.charter,
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
            self.purge_due(conn)
        return ident

    def purge_due(self, conn: Connection) -> int:
        """Purge decision records past the charter's retention, at most once an hour."""
        with self._lock:
            if self._last_purge and time.monotonic() - self._last_purge < PURGE_EVERY_S:
                return 0
            self._last_purge = time.monotonic()
        return records.purge(conn, self.charter)

    def purge(self, actor: str = "operator") -> int:
        """Purge now (`commune purge`), whenever the last one ran."""
        with self.engine.begin() as conn:
            return records.purge(conn, self.charter, actor=actor)
