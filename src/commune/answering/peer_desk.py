"""The serving side of peering: another cooperative's search of this home's collections
shared outward (``POST /peer/search``).

The peer is a member of kind ``peer`` here: this home's own rules apply to it as to any
member, each with its reason: the visibility of collections (only those shared outward,
and readable by it), its quotas, the charter's refusal rules, the TDM reservations and the
licences against its declared use; and every search and every citation report taken is a
row of the ledger under it, counted by its quotas (a report refused for bad input, or
citing nothing, writes nothing; past them, one crediting a passage a search gave is taken). The
passages go back with their licence, attribution line and the collection's policy: the
asking cooperative enforces that policy against its own member, whom only it knows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import Connection

from commune.account.metering import Metering
from commune.answering.licensing import usable_for_answers, withhold
from commune.answering.retrieve import Hit
from commune.answering.screening import record_refusal, screen
from commune.answering.search import Searcher
from commune.charter.book import CharterBook
from commune.commons.library import Library
from commune.commons.peering import citations
from commune.commons.peering.policy import permits
from commune.commons.peering.shares import shared
from commune.config import Settings
from commune.govern.licences import attribution_text
from commune.govern.members import peer_use
from commune.govern.policy import Actor
from commune.text.lang import SUPPORTED, detect

ROUTE = "peer/search"
MAX_K = 20  # commune.toml's [peers] k is at most this (config._AT_MOST): peers ask no more
# What the peer desk judges by the collection's policy: a passage, or a document brought
# back whose title a peer asks for again (citations.Reinstated).
_Judged = TypeVar("_Judged", Hit, citations.Reinstated)


class PeerDesk:
    """Answers the peers of one home."""

    def __init__(
        self,
        *,
        settings: Settings,
        library: Library,
        searcher: Searcher,
        metering: Metering,
        charters: CharterBook,
    ) -> None:
        self.settings = settings
        self.library = library
        self.searcher = searcher
        self.metering = metering
        self.charters = charters

    def _peer(self, actor: Actor) -> str | None:
        """The peer's declared use; Forbidden for a key that is not a peer's."""
        with self.library.engine.connect() as conn:
            return peer_use(conn, actor.member_id)

    def origin(self) -> dict[str, str]:
        peers = self.settings.peers
        return {"cooperative": peers.name or self.settings.home.name, "url": peers.url}

    def search(
        self, query: str, actor: Actor, k: int = 5, language: str | None = None
    ) -> dict[str, Any]:
        """``language``: the one the asking member reads (the asking home knows it), for the
        refusals and reasons sent back; none, or not one of ours: the query's own."""
        use = self._peer(actor)
        k = max(1, min(k, MAX_K))
        if language not in SUPPORTED:
            language = detect(query, default="en")
        step = screen(self.charters.charter, self.metering, actor, query, language, use)
        if step.outcome == "refused":
            record_refusal(self.metering, ROUTE, actor)  # before admission: no place to free
            return {**self.origin(), "hits": [], "withheld": [], "refused": step.reason}
        with self.library.engine.connect() as conn:
            outward = {s.collection_id: s for s in shared(conn)}
        by_name = {s.collection: s for s in outward.values()}
        # With record: the quota is checked first, and the search is a row of the ledger.
        hits = self.searcher.search(query, k=k, actor=actor, record=ROUTE, within=list(outward))
        kept, withheld = usable_for_answers(
            hits, use, self.settings.charter.tdm_reserved, language, for_peer=True
        )
        kept = self._within_policies(kept, withheld, by_name, use, language)
        with self.library.engine.begin() as conn:
            citations.record_returned(conn, [h.chunk_id for h in kept], actor)
        # Read once the returns are written: on SQLite a transaction that wrote holds the one
        # write lock to its end, and the reinstatements are read by a scan of the whole audit
        # log (it has no index), which every other writer of this home then waited for.
        with self.library.engine.connect() as conn:
            since = self._since(conn, actor, use)
        return {
            **self.origin(),
            "hits": [self._shown(h, by_name[h.collection].policy.to_json()) for h in kept],
            "withheld": withheld,
            **since,
        }

    def retired(self, actor: Actor) -> dict[str, Any]:
        """``POST /peer/retired``: what each search reply says of the documents the peer
        ``actor``'s answers cited (:meth:`_since`), asked between searches (`commune peer
        forget` on its side); Forbidden for a key that is not a peer's."""
        use = self._peer(actor)
        with self.library.engine.connect() as conn:
            return self._since(conn, actor, use)

    def _since(self, conn: Connection, actor: Actor, use: str | None) -> dict[str, Any]:
        """The documents the peer's answers cited that this home has retired since
        (``retired``: the peer forgets their titles, keeping the counts; for personal data
        the title may name the person) and those brought back since (``reinstated``: each
        id with its title, which the peer shows again). A title goes back only where a
        passage of the document would go to this peer now: its collection still shared
        outward, its policy and licence allowing the peer's declared use, no TDM
        reservation this home's charter keeps from peers. A title the peer may no longer
        have stays forgotten there."""
        by_name = {s.collection: s for s in shared(conn)}
        # Those of a collection still shared at this second read only: one unshared since
        # reinstated_cited read the shares keeps its titles home (its policy, no longer
        # here, failed the whole reply).
        back = [r for r in citations.reinstated_cited(conn, actor) if r.collection in by_name]
        # The reasons of those left out are not sent (nor is their title): "en", unread.
        allowed, _ = usable_for_answers(
            back, use, self.settings.charter.tdm_reserved, "en", for_peer=True
        )
        allowed = self._within_policies(allowed, [], by_name, use, "en")
        return {
            "retired": citations.retired_cited(conn, actor),
            "reinstated": [{"document_id": r.document_id, "title": r.title} for r in allowed],
        }

    @staticmethod
    def _within_policies(
        hits: list[_Judged],
        withheld: list[dict[str, Any]],
        shares: dict[str, Any],
        use: str | None,
        language: str,
    ) -> list[_Judged]:
        """``hits`` whose collection's policy allows the peer's declared use; the others go
        to ``withheld`` with the reason. The asking side judges its own member's kind and
        use too, but a text that must not be used commercially should not leave this
        cooperative for a peer that said it would."""
        kept = []
        for hit in hits:
            # Only the use: the kinds are the asking member's, judged on its side.
            policy = replace(shares[hit.collection].policy, kinds=())
            decision = permits(policy, None, use, language)
            if decision:
                kept.append(hit)
            else:
                withhold(withheld, hit, decision.reason)
        return kept

    @staticmethod
    def _shown(hit: Hit, policy: dict[str, Any]) -> dict[str, Any]:
        return {
            **hit.to_json(),
            "attribution": attribution_text(
                hit.title, hit.publisher or hit.contributor, hit.licence, hit.source
            ),
            "policy": policy,
        }

    def cited(self, counts: dict[int, int], actor: Actor) -> dict[str, Any]:
        """A peer's answer cited these passages (chunk id -> citations): credited to their
        contributors here, under the peer, those that no longer match dropped with why
        (commons/peering/citations.py).

        A report is a request like a search: its quota is checked first (QuotaExceeded, 429,
        past it, unless the report credits a passage a search gave the peer) and it is a row
        of the ledger under the peer. A report citing nothing is no request:
        it writes nothing and counts in no quota (a peer could otherwise fill the ledger
        with rows of empty reports, which no quota ever stopped)."""
        from commune.govern.quotas import QuotaExceeded

        self._peer(actor)
        citations.check_report(counts)  # a malformed report: refused before its quota
        if not counts:
            return {"recorded": 0, "dropped": []}
        # Past its quota, a report is still taken for the passages a search gave the peer:
        # the search that spent the quota was admitted, and the report of its answer,
        # refused, lost its contributors their credits. Each passage is credited once, so
        # such reports are as many as the passages returned; one crediting none is refused.
        over: QuotaExceeded | None = None
        try:
            self.metering.admit(actor)
        except QuotaExceeded as exc:
            over = exc
        meter = self.metering.meter()
        try:
            with self.library.engine.begin() as conn:
                written = citations.record_cited_by_peer(conn, counts, actor)
                if over is not None and not written["recorded"]:
                    raise over
        except BaseException:
            # A report that failed: no row, its place in the quota free again, and its meter
            # leaves the requests at work now, not when the collector takes the exception's
            # frames (account/energy).
            if over is None:
                self.metering.release(actor)
            meter.discard()
            raise
        # Taken past the quota, it held no place: releasing one would free another request's.
        self.metering.record_usage(
            citations.ROUTE, "cited", None, 0, 0, None, meter, actor, held=over is None
        )
        return written
