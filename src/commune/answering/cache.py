"""Reduce: an answer already given is given again, at no cost but the look-up.

An entry is keyed by the question, the scope (the collections the asker may read, the
collection asked for, the member's declared use, the mode and model asked for, the charter
in force, the home's settings, the code that answers: commune.identity) and the index
generation: any change to the commons starts a new generation, so nothing stale is served.
A near-duplicate question shares the answer: same language and scope, embeddings at least
the charter's ``near_duplicate_cosine`` apart, and the same words in the same order but for
a greeting, a "please" and a typo (:func:`same_words`).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, insert, or_, select

from commune.govern.accounts import was_removed
from commune.store.repository import now
from commune.store.schema import answer_cache

# Near-duplicates are looked for among the newest entries of a scope only: the look-up must
# stay cheaper than the answer it saves.
NEAR_DUPLICATE_WINDOW = 500


def normalise(question: str) -> str:
    return " ".join(question.casefold().split()).rstrip(" ?!.")


# Said around a question, never part of it (bench/calibrate_cache.py's variants).
_POLITE = re.compile(
    r"\b(?:s'il (?:vous|te) pla[iî]t|thank you|bonjour|bonsoir|salut|merci|svp|stp|hello|hi|"
    r"please|thanks)\b"
)
_WORD = re.compile(r"\w+")


def words(question: str) -> list[str]:
    """The question's words, lowercased and without accents, politeness left out."""
    folded = unicodedata.normalize("NFKD", question.casefold().replace("’", "'"))
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _WORD.findall(_POLITE.sub(" ", plain))


def _one_typo(a: str, b: str) -> bool:
    """Two letters swapped, or one letter dropped or doubled, in a word of four letters or
    more. Not one letter replaced: "enable" and "unable" are one replacement apart."""
    if min(len(a), len(b)) < 4:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and (a[diff[1]] == b[diff[0]])
        )
    short, long_ = sorted((a, b), key=len)
    if len(long_) - len(short) != 1:
        return False
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def same_words(a: str, b: str) -> bool:
    """Whether two questions say the same words in the same order, but for politeness and
    one typo per word. Embeddings alone put "How do I enable the firewall?" 0.94 from "How
    do I disable the firewall?", and "start" 0.90 from "stop"; and the order matters too
    ("convert a PDF to ODT" is not "convert an ODT to PDF"). A paraphrase in other words is
    answered afresh."""
    left, right = words(a), words(b)
    return len(left) == len(right) and all(
        x == y or _one_typo(x, y) for x, y in zip(left, right, strict=True)
    )


def digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


@dataclass
class CacheHit:
    answer: dict[str, Any]
    cosine: float  # 1.0 for the same question
    age_s: float


def exact(conn: Connection, key: str, generation: int, ttl_hours: float) -> CacheHit | None:
    """The same question, in the same scope, on the same generation, within the lifetime."""
    row = conn.execute(
        select(answer_cache.c.answer, answer_cache.c.created_at)
        .where(answer_cache.c.key == key, answer_cache.c.generation == generation)
        .where(answer_cache.c.created_at >= now() - timedelta(hours=ttl_hours))
        .order_by(answer_cache.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else CacheHit(json.loads(row.answer), 1.0, _age(row.created_at))


def near(
    conn: Connection,
    scope: str,
    generation: int,
    ttl_hours: float,
    language: str,
    vector: np.ndarray,
    threshold: float,
    question: str,
) -> CacheHit | None:
    """The closest cached question of the same scope and language, if close enough and
    made of the same words (:func:`same_words`)."""
    rows = conn.execute(
        select(answer_cache.c.answer, answer_cache.c.created_at, answer_cache.c.vector)
        .where(answer_cache.c.scope == scope, answer_cache.c.generation == generation)
        .where(answer_cache.c.language == language)
        .where(answer_cache.c.created_at >= now() - timedelta(hours=ttl_hours))
        .where(answer_cache.c.vector.is_not(None))
        .order_by(answer_cache.c.id.desc())
        .limit(NEAR_DUPLICATE_WINDOW)
    ).all()
    vectors = [np.frombuffer(r.vector, dtype="<f4") for r in rows]
    kept = [(r, v) for r, v in zip(rows, vectors, strict=True) if v.shape == vector.shape]
    if not kept:
        return None
    cosines = np.stack([v for _, v in kept]) @ vector.astype("<f4")
    for best in np.argsort(-cosines, kind="stable").tolist():
        if float(cosines[best]) < threshold:
            return None
        row = kept[best][0]
        answer = json.loads(row.answer)
        if same_words(str(answer.get("question", "")), question):
            return CacheHit(answer, float(cosines[best]), _age(row.created_at))
    return None


def _age(created: Any) -> float:
    if created.tzinfo is None:  # SQLite hands back naive datetimes
        from datetime import UTC

        created = created.replace(tzinfo=UTC)
    age: float = (now() - created).total_seconds()
    return age


def sweep(conn: Connection, generation: int, ttl_hours: float) -> int:
    """Delete the entries that can never be served again (another generation, or past their
    lifetime): each holds a question's text and embedding. Returns how many."""
    gone = conn.execute(
        delete(answer_cache).where(
            or_(
                answer_cache.c.generation != generation,
                answer_cache.c.created_at < now() - timedelta(hours=ttl_hours),
            )
        )
    ).rowcount
    return int(gone or 0)


# Entries past their lifetime are swept at most this often per process, on the request path
# (as the charter's decision records are purged, charter/book.PURGE_EVERY_S).
SWEEP_EVERY_S = 3600.0


def store(
    conn: Connection,
    key: str,
    scope: str,
    generation: int,
    language: str,
    vector: np.ndarray | None,
    embedder: str | None,
    answer: dict[str, Any],
    ttl_hours: float,
    asker: int | None = None,
) -> None:
    """Keep ``answer`` to the question of ``asker`` (a person's id; None: the operator's),
    who is named on the entry so that their removal deletes it (govern/accounts.remove_user)."""
    # Cached only on the generation still current: an answer found before a takedown and
    # cached after it (two requests at once) put the retired passages back in the database,
    # until the next answer was cached; and its delete below took the current entries. The
    # generation is read under the lock its bump takes: SQLite's write lock, taken first;
    # PostgreSQL's row lock (FOR SHARE waits for a takedown in flight, or holds it back until
    # this entry is in, for its delete to take).
    from commune.store.db import lock
    from commune.store.repository import GENERATION
    from commune.store.schema import meta

    if conn.dialect.name == "sqlite":
        lock(conn, "cache")
    # The asker's row before the generation: a removal holds that row while it waits for the
    # audit log, which a retirement holds while it waits to bump the generation; read the
    # other way round, the three waited for each other (PostgreSQL failed one, deadlock).
    # A request already under way when its asker is removed finishes (remove_user), and
    # its answer, cached after the removal's delete, kept their question's text for the
    # cache's lifetime: not cached. SQLite's write lock is store()'s already.
    if asker is not None and was_removed(conn, asker):
        return
    current = conn.execute(
        select(meta.c.value).where(meta.c.key == GENERATION).with_for_update(read=True)
    ).scalar()
    if int(current or 0) != generation:
        return
    # Entries of older generations or past their lifetime can never be served: drop them.
    sweep(conn, generation, ttl_hours)
    conn.execute(
        insert(answer_cache).values(
            key=key,
            scope=scope,
            generation=generation,
            language=language,
            vector=None if vector is None else vector.astype("<f4").tobytes(),
            embedder=embedder,
            answer=json.dumps(answer, ensure_ascii=False, default=str),
            created_at=now(),
            user_id=asker,
        )
    )


class AnswerCache:
    """The answer cache of a home, each read or write in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._last_sweep = 0.0
        self._lock = threading.Lock()

    def exact(self, key: str, generation: int, ttl_hours: float) -> CacheHit | None:
        self.sweep_due(generation, ttl_hours)
        with self.engine.connect() as conn:
            return exact(conn, key, generation, ttl_hours)

    def sweep_due(self, generation: int, ttl_hours: float) -> int:
        """Sweep the entries no request can be served (:func:`sweep`), at most once an hour.
        Swept only when an answer was kept, a question's text stayed on a quiet server
        past the lifetime the responsibility step says (charter/steps.responsibility)."""
        with self._lock:
            if self._last_sweep and time.monotonic() - self._last_sweep < SWEEP_EVERY_S:
                return 0
            self._last_sweep = time.monotonic()
        with self.engine.begin() as conn:
            return sweep(conn, generation, ttl_hours)

    def near(
        self,
        scope: str,
        generation: int,
        ttl_hours: float,
        language: str,
        vector: np.ndarray,
        threshold: float,
        question: str,
    ) -> CacheHit | None:
        with self.engine.connect() as conn:
            return near(conn, scope, generation, ttl_hours, language, vector, threshold, question)

    def store(
        self,
        key: str,
        scope: str,
        generation: int,
        language: str,
        vector: np.ndarray | None,
        embedder: str | None,
        answer: dict[str, Any],
        ttl_hours: float,
        asker: int | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            store(
                conn, key, scope, generation, language, vector, embedder, answer, ttl_hours, asker
            )
