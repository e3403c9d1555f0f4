"""Wrong keys and passwords, counted in the database (``failed_sign_ins``), so that every
server process of a deployment shares one count: counted in each process's memory, a
guesser behind a proxy that spreads requests over N processes was allowed N times the
limit. The rule itself (what is counted, the 429 past the limit) is http/signins.py's."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy import Connection, Engine, delete, insert, select, update

from commune.store.db import lock
from commune.store.schema import failed_sign_ins


def _digest(name: str) -> str:
    """What a count is stored under: the SHA-256 of its name. A user field holds what was
    typed (a password typed into it, now and then); the database keeps no such text."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()


def count_wrong(
    conn: Connection, names: Sequence[str], limit: int, window_s: float, at: float
) -> dict[str, float] | None:
    """Count one wrong credential at ``at`` (seconds since the epoch) under each of ``names``.
    Returns None when every count was under ``limit`` in the ``window_s`` before, else, for
    each of ``names`` whose count holds that many, the seconds until its next try is checked
    again: until the oldest of its last ``limit`` tries leaves the window.

    A wrong try refused here counts too, so only the last ``limit`` tries of a count decide:
    no more are kept, which also bounds what a guesser's flood leaves in the database. (The
    tries a server process then refuses from the waits returned, http/signins.py, are not
    written.) The rows of every count past the window are deleted at each wrong try."""
    lock(conn, "guesses")  # two processes must not both read a count under the limit
    t = failed_sign_ins
    since = at - window_s
    # The wall clock, shared by every process, may be set back (NTP correcting a clock that
    # ran fast): the tries made before were then in the future, counted and kept for as long
    # as it had been set back, and a wrong try was told to wait that long. They count as made
    # now: the window's wait at most. A clock set forward is time passed: the window ends.
    conn.execute(update(t).where(t.c.at > at).values(at=at))
    conn.execute(delete(t).where(t.c.at < since))
    kept = max(limit, 1)
    over, full = False, dict[str, float]()
    for name, given in {_digest(n): n for n in names}.items():
        times = list(
            conn.execute(
                select(t.c.at)
                .where((t.c.name == name) & (t.c.at >= since))
                .order_by(t.c.at.desc(), t.c.id.desc())
                .limit(kept)
            ).scalars()
        )
        over = over or len(times) >= limit
        conn.execute(insert(t).values(name=name, at=at))
        last = [at, *times[: kept - 1]]
        if len(last) >= kept:
            oldest = last[-1]
            full[given] = window_s - (at - oldest)
            conn.execute(delete(t).where((t.c.name == name) & (t.c.at < oldest)))
    return full if over else None


# Longer than any window a count is kept for (a minute: [web] failed_sign_ins_per_minute):
# what the purge leaves of the wrong tries, which the next one would otherwise delete.
KEPT_S = 86400.0


def forget_old(conn: Connection, at: float) -> int:
    """Delete the wrong tries older than a day before ``at`` (seconds since the epoch): a
    count's rows were deleted only at the next wrong try, so that after the last one the
    digests of its address and name (an IPv4 address's SHA-256 is undone by trying the 4
    billion of them) stayed in the database and every backup for good. Run by the purge
    (charter/records.purge: hourly, at a server's start, before a backup)."""
    t = failed_sign_ins
    return int(conn.execute(delete(t).where(t.c.at < at - KEPT_S)).rowcount or 0)


class WrongTries:
    """The counts of one deployment, in its database (``engine``); without one (a test of
    the rule alone), in a database of their own in memory."""

    def __init__(self, engine: Engine | None = None) -> None:
        if engine is None:
            from sqlalchemy import create_engine
            from sqlalchemy.pool import StaticPool

            engine = create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
            failed_sign_ins.create(engine)
        self.engine = engine

    def clear(self) -> None:
        """Forget every count (the wrong tries made so far)."""
        with self.engine.begin() as conn:
            conn.execute(delete(failed_sign_ins))

    def count(
        self, names: Sequence[str], limit: int, window_s: float, at: float
    ) -> dict[str, float] | None:
        """:func:`count_wrong`, in a transaction of its own."""
        with self.engine.begin() as conn:
            return count_wrong(conn, names, limit, window_s, at)
