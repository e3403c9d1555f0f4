"""Reduce: an answer already given is given again, at no cost but the look-up.

An entry is keyed by the question, the scope (the collections the asker may read, the
collection asked for, the member's declared use, the mode and model asked for, the charter
in force) and the index generation: any change to the commons starts a new generation, so
nothing stale is served. A near-duplicate question (same language and scope, embeddings at
least the charter's ``near_duplicate_cosine`` apart) shares the answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, delete, insert, or_, select

from commune.store.repository import now
from commune.store.schema import answer_cache

# Near-duplicates are looked for among the newest entries of a scope only: the look-up must
# stay cheaper than the answer it saves.
NEAR_DUPLICATE_WINDOW = 500


def normalise(question: str) -> str:
    return " ".join(question.casefold().split()).rstrip(" ?!.")


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
) -> CacheHit | None:
    """The closest cached question of the same scope and language, if close enough."""
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
    best = int(np.argmax(cosines))
    if float(cosines[best]) < threshold:
        return None
    row = kept[best][0]
    return CacheHit(json.loads(row.answer), float(cosines[best]), _age(row.created_at))


def _age(created: Any) -> float:
    if created.tzinfo is None:  # SQLite hands back naive datetimes
        from datetime import UTC

        created = created.replace(tzinfo=UTC)
    age: float = (now() - created).total_seconds()
    return age


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
) -> None:
    # Entries of older generations or past their lifetime can never be served: drop them.
    conn.execute(
        delete(answer_cache).where(
            or_(
                answer_cache.c.generation != generation,
                answer_cache.c.created_at < now() - timedelta(hours=ttl_hours),
            )
        )
    )
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
        )
    )


class AnswerCache:
    """The answer cache of a home, each read or write in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def exact(self, key: str, generation: int, ttl_hours: float) -> CacheHit | None:
        with self.engine.connect() as conn:
            return exact(conn, key, generation, ttl_hours)

    def near(
        self,
        scope: str,
        generation: int,
        ttl_hours: float,
        language: str,
        vector: np.ndarray,
        threshold: float,
    ) -> CacheHit | None:
        with self.engine.connect() as conn:
            return near(conn, scope, generation, ttl_hours, language, vector, threshold)

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
    ) -> None:
        with self.engine.begin() as conn:
            store(conn, key, scope, generation, language, vector, embedder, answer, ttl_hours)
