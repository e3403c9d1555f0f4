"""The transparency page's content: the charter in force and its history, the models and
what the charter thinks of them, energy and carbon totals, the share of requests at each
step, and the latest evaluations: /transparency.json, `commune transparency`, and the web's
page (web/templates/transparency.html) all show this one report."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath
from typing import Any

from sqlalchemy import Engine, Integer, case, cast, func, select

from commune.charter import records, scores
from commune.charter.catalogue import ModelCard, allowed
from commune.charter.rules import Charter
from commune.index.enrich import coverage
from commune.store.repository import utc_text
from commune.store.schema import INGESTION, INGESTION_MODES, usage

# Evaluation questions and calibration runs (`commune model calibrate`) are asked by nobody:
# they are shown with the evaluations and the models' energy, not in the shares of real
# requests.
NOT_REQUESTS = ("eval", "calibrate")
# The ledger modes of a question that got its reply (an answer, or the charter's refusal):
# each has one decision record too. A question refused over quota did no work, so it has a
# record and no ledger row; a question whose client left mid-answer has a ledger row
# ("abandoned") and no record. Every other request's ledger row is a search, a listing, an
# embedding or an upload (the request: the documents it adds are ingestion's rows, summed
# apart, as are `commune add`'s).
ANSWERED = ("extractive", "generate", "cached", "refused")
# A search the charter refused leaves a "refused" row too (answering/screening.py: an MCP
# agent's, mcp/search, or a peer cooperative's, peer/search), and no decision record: a
# search, not a question. Counted among the questions, the page said "2 questions with an
# answer or the charter's refusal" for one asked. The search routes end in "search"; no
# answer's route does.
SEARCH_ROUTES = "%search"


def report(
    engine: Engine,
    charter: Charter,
    models: list[ModelCard],
    idle_watts: float = 0.0,
    refusal: dict[str, Any] | None = None,
    answer_tokens: int = 0,
) -> dict[str, Any]:
    """The page's data: ``charter`` in force, the decisions and energy in ``engine``'s
    database, what the charter says of each of ``models`` (for an answer of up to
    ``answer_tokens``, ``[generation] max_tokens``, as the redirect step weighs it), this
    month's energy beside the server's draw at rest (``idle_watts``), and the "nothing
    relevant" threshold answers are given at (``refusal``: ``threshold``,
    ``model_threshold``, ``configured``)."""
    from commune.account.idle import idle_draw
    from commune.account.ledger import ingestion_by_mode
    from commune.govern.quotas import month
    from commune.store import repository as repo

    window = month(repo.now())
    # The requests' rows: every row but evaluations', calibrations' and ingestion's.
    requested = usage.c.route.not_in(NOT_REQUESTS) & ~INGESTION
    with engine.connect() as conn:
        month_wh, month_ingest_wh = conn.execute(
            select(
                func.coalesce(func.sum(case((requested, usage.c.wh), else_=0.0)), 0.0),
                func.coalesce(func.sum(case((INGESTION, usage.c.wh), else_=0.0)), 0.0),
            ).where(usage.c.created_at >= window.start, usage.c.created_at < window.end)
        ).one()
        idle = idle_draw(conn, idle_watts, window.start, window.end)
        history = records.history(conn)
        counts = records.outcome_counts(conn, NOT_REQUESTS)
        totals = conn.execute(
            select(
                func.count(),
                func.sum(usage.c.wh),
                func.sum(usage.c.gco2e),
                func.sum(cast(usage.c.estimated, Integer)),
            ).where(requested)
        ).one()
        question = usage.c.mode.in_(ANSWERED) & ~(
            (usage.c.mode == "refused") & usage.c.route.like(SEARCH_ROUTES)
        )
        answered_rows, abandoned_rows = conn.execute(
            select(
                func.sum(cast(question, Integer)),
                func.sum(cast(usage.c.mode == "abandoned", Integer)),
            ).where(requested)
        ).one()
        # Ingestion's work by kind, beside the requests': adding documents, enriching them
        # with the second embedder, importing a dataset.
        ingested = ingestion_by_mode(conn)
        latest = scores.latest(conn)
        # The page is public: a private collection's name, and how well it is answered, are
        # its member's; a shared one's, the cooperative's members' (its bill of materials
        # names neither: api/routes/transparency.datasets_shown). Their evaluations are
        # counted, not shown. Kept to members by the charter, the page names a shared one:
        # every reader of it may read that collection.
        access = repo.collection_access(conn)
        kept = ("private", "shared") if charter.utility.transparency_public else ("private",)
        hidden = {r["name"] for r in access if r["visibility"] in kept}
        # Named on the page: a collection that exists and is not kept from its readers. A
        # name configured for a collection not created yet, or misspelt, could be a
        # member's: left out.
        shown = {r["name"] for r in access} - hidden
        embedded = coverage(conn)
    cards = []
    for card in models:
        # Weighed as every request weighs it, the per-request cap included: judged without
        # it, a model the cap keeps out of every answer (an uncalibrated local one) was
        # listed as allowed.
        ok, why = allowed(card, charter, set(), "en", answer_tokens)
        cards.append({**card.to_json(), "allowed": ok, "why": why})
    total = sum(n for _, _, n, _ in counts)
    steps: dict[str, dict[str, Any]] = {}
    for outcome, model, n, wh in counts:
        label = f"generated by {model}" if outcome == "generated" else outcome
        entry = steps.setdefault(label, {"requests": 0, "wh": 0.0})
        entry["requests"] += n
        entry["wh"] = round(entry["wh"] + float(wh or 0), 6)
    for entry in steps.values():
        entry["share"] = round(entry["requests"] / total, 4) if total else None
    requests, wh, gco2e, estimated = totals
    requests = int(requests or 0)
    over_quota = sum(n for outcome, _, n, _ in counts if outcome == "over-quota")
    answered, abandoned = int(answered_rows or 0), int(abandoned_rows or 0)
    # The file's name, not its path: the path is where the operator keeps it on the server
    # (/home/..., /srv/...), which the page, public by default, has no reason to tell; its
    # content is named by its hash, and shown in full.
    shown_charter = charter.to_json()
    path = shown_charter.pop("path")
    shown_charter["file"] = PurePath(path).name if path else None
    return {
        "charter": {**shown_charter, "text": charter.text, "history": history},
        "models": cards,
        # The ledger: every metered request, questions and the rest; and apart, ingestion's
        # work (documents added, enriched, imported), which is no request.
        "totals": {
            "requests": requests,
            "by_kind": {
                "answered_questions": answered,
                "abandoned_questions": abandoned,
                "other_requests": requests - answered - abandoned,
            },
            "wh": round(float(wh or 0), 6),
            "gco2e": round(float(gco2e or 0), 6),
            "estimated_requests": int(estimated or 0),
            "ingestion": {
                "wh": round(sum(wh for _, wh, _ in ingested.values()), 6),
                "gco2e": round(sum(g for _, _, g in ingested.values()), 6),
                # Its ledger rows: one per document stored, one per batch enriched.
                "rows": sum(n for n, _, _ in ingested.values()),
                "by_kind": {
                    mode: {"rows": n, "wh": round(wh, 6)}
                    for mode in INGESTION_MODES
                    for n, wh, _ in [ingested.get(mode, (0, 0.0, 0.0))]
                },
            },
            "note": "energy is measured only from a meter (RAPL, each request given its share: "
            "measured, shared); CPU time x configured watts is estimated, and remote models "
            "are modelled by the ecologits package",
        },
        # The requests' energy this month, ingestion's beside it, and the server's draw at
        # rest, which no request's meter sees.
        "month": {
            "month": window.start.strftime("%Y-%m"),
            "requests_wh": round(float(month_wh or 0), 6),
            "ingestion_wh": round(float(month_ingest_wh or 0), 6),
            "idle": idle.to_json(),
        },
        # The decision records: every question, those refused over quota included.
        # answered_requests = questions - over_quota = totals.by_kind.answered_questions.
        "steps": {
            "questions": total,
            "over_quota": over_quota,
            "answered_requests": total - over_quota,
            "by_outcome": steps,
        },
        # The searchable passages, and the share each embedding model has embedded: the
        # second, stronger one is filled in after the first (`commune enrich`), and ranking
        # uses it only for the passages it has reached.
        "embeddings": embedded,
        # When an answer says "nothing relevant": the refusal model's threshold, the one it
        # ships with or the operator's (`commune refusals`, [answer] refusal_threshold), and
        # the collections' own, one not public counted, not named. A lower threshold refuses
        # more questions, answerable ones included.
        "refusal": refusal
        and {
            **refusal,
            "collections": {k: v for k, v in refusal.get("collections", {}).items() if k in shown},
            "private_collections": sum(k in hidden for k in refusal.get("collections", {})),
        },
        "links": {
            "bill_of_materials": "/transparency/bom.json",
            "sovereignty_map": "/transparency/sovereignty.json",
        },
        "evaluations": [
            {
                k: utc_text(v)
                if isinstance(v, datetime)
                else (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in row.items()
            }
            for row in sorted(latest.values(), key=lambda r: (r["collection"], r["mode"]))
            if row["collection"] not in hidden
        ],
        "private_evaluations": sum(row["collection"] in hidden for row in latest.values()),
    }
