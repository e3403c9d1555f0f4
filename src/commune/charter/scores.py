"""The last evaluation score of each way of answering, per collection (from `commune eval`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from commune.store.repository import now
from commune.store.schema import eval_scores


def record(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(eval_scores), [{**r, "created_at": now()} for r in rows])


def latest(conn: Connection) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    """(collection, mode, model) -> its newest score."""
    out: dict[tuple[str, str, str | None], dict[str, Any]] = {}
    for r in conn.execute(select(eval_scores).order_by(eval_scores.c.id)).mappings():
        out[(r["collection"], r["mode"], r["model"])] = dict(r)
    return out


def score_for(
    scores: dict[tuple[str, str, str | None], dict[str, Any]],
    collections: list[str],
    mode: str,
    model: str | None,
) -> tuple[float | None, list[str]]:
    """The lowest score over ``collections`` (a way of answering must suffice for each),
    and the collections it was measured on; None when none was evaluated."""
    found = [
        (c, scores[(c, mode, model)]["correct"]) for c in collections if (c, mode, model) in scores
    ]
    if not found:
        return None, []
    return min(s for _, s in found), [c for c, _ in found]


class Scoreboard:
    """The latest evaluation scores of a home, which the reduce and redirect steps read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def latest(self) -> dict[tuple[str, str, str | None], dict[str, Any]]:
        with self.engine.connect() as conn:
            return latest(conn)

    def record(self, rows: list[dict[str, Any]]) -> None:
        with self.engine.begin() as conn:
            record(conn, rows)
