"""The asking side of peering: a question reaches the registered peers' shared collections.

Each peer is asked at once, in parallel, for at most ``[peers] timeout_s``: a peer down or
slow is left out of that answer with a notice, never waited for. What comes back is judged
here, where the member asking is known: the collection's policy (policy.permits: a
non-commercial source is never used for a member that declared a commercial use; kinds not
allowed are withheld), each withheld passage said with its reason. The passages kept are
measured against the question with this home's own embedder and analysers (the peer's
relevance statistics cover its private collections too, and are never sent), then merged
with this home's hits by reciprocal rank fusion: each list's rank, not its scores, which
two deployments do not compute alike.

A peer's passage keeps its origin (Hit.origin); the answer cites it "via" the peer, and
after answering, the passages actually cited are reported back to the peer
(``POST /peer/cited``) so that its credits, and its contributors' payouts, count them.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine

from commune.answering.retrieve import Hit, coverage, prepare_query
from commune.commons.peering import citations, registry
from commune.commons.peering.policy import Policy, permits
from commune.config import PeerSettings
from commune.embed import Embedder
from commune.govern.members import profile
from commune.govern.policy import Actor, Decision
from commune.text.analysis import analyze
from commune.text.numbers import number, plural
from commune.text.say import prose, say

log = logging.getLogger("commune.peers")
RRF_K = 60  # the usual constant of reciprocal rank fusion (Cormack et al., 2009)


@dataclass
class Gathered:
    """The peers' part of one answer."""

    hits: list[Hit] = field(default_factory=list)
    withheld: list[dict[str, Any]] = field(default_factory=list)  # as licensing's excluded
    notices: list[str] = field(default_factory=list)


class PeerUnavailable(Exception):
    """A peer answered otherwise than with passages (down, refused the key, over quota).

    ``why``: what the asker is told (Federation._silent), one of "unreachable" (nothing
    listens at its address), "certificate" (its TLS certificate was refused), "plain" (an
    https:// address answered in plain http), "broken" (the connection broke off), "status"
    (an HTTP error: ``status``) and "unreadable" (not a reply this version reads). The
    message is the technical detail, for the log. ``code``: the error's code in the peer's
    reply ("rate_limited", "quota_exceeded"), if any; ``said``: its words (``detail``)."""

    def __init__(
        self, detail: str, why: str = "unreadable", status: int = 0, code: str = "", said: str = ""
    ) -> None:
        super().__init__(detail)
        self.why = why
        self.status = status
        self.code = code
        self.said = said


def _refused(status: int, data: Any) -> PeerUnavailable:
    """A peer's reply with an HTTP error ``status``, its JSON body ``data`` (or None)."""
    detail = code = said = ""
    if isinstance(data, dict):
        detail = str(data.get("detail") or data.get("error") or "")[:200]
        code = str(data.get("code") or "")[:50]
        # Its words, quoted to the asker: "detail" for a refusal of its own checks, but for
        # a request it could not read (422) pydantic's list of errors, whose line is
        # "message" (api/errors.py); the list's Python form was quoted to a person.
        said = next(
            (
                w.strip()[:200]
                for w in (data.get("detail"), data.get("message"), data.get("error"))
                if isinstance(w, str) and w.strip()
            ),
            "",
        )
    return PeerUnavailable(f"HTTP {status} {detail}".strip(), "status", status, code, said)


# What one reply may bring: enough for ``[peers] k`` passages, never a flood to read or embed.
MAX_REPLY_BYTES = 2_000_000
MAX_TEXT = 4_000  # characters of a peer passage kept: this home embeds and quotes them
MAX_NAME = 200  # of a cooperative's or a collection's name, as this home's own (members.MAX_NAME)
MAX_ATTRIBUTION = 4_000  # an attribution line: its title (500), source (2,000), licence, authors


def _post(
    url: str, key: str, body: dict[str, Any], timeout_s: float, language: str | None = None
) -> tuple[int, bytes]:
    """POST ``body`` and read the reply within ``timeout_s`` in all: httpx's timeouts are
    per connect and per read, so a peer trickling its reply would otherwise hold on; the
    body is streamed and dropped past the deadline or past MAX_REPLY_BYTES. ``language``:
    the one the reader of the peer's refusals reads, asked as any API caller asks it."""
    import httpx

    headers = {"Authorization": f"Bearer {key}"}
    if language:
        # A peer's refusal (its 400: "the query is 900 characters long, over the limit of
        # 500") is quoted in the asker's notice, and the peer says it in French unless asked
        # otherwise: an English notice quoted it in French.
        headers["Accept-Language"] = language
    deadline = time.monotonic() + timeout_s
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(timeout_s)) as client,
            client.stream("POST", url, json=body, headers=headers) as reply,
        ):
            data = bytearray()
            for chunk in reply.iter_bytes():
                data += chunk
                if time.monotonic() > deadline:
                    raise TimeoutError
                if len(data) > MAX_REPLY_BYTES:
                    raise PeerUnavailable("reply too large")
            return reply.status_code, bytes(data)
    except httpx.TimeoutException:
        raise TimeoutError from None
    except httpx.ConnectError as exc:
        # A certificate refused is a connection error too, but nothing like a peer down: its
        # operator, or this home's, has a certificate to renew or an address to correct.
        why = _connect_failure(exc)
        raise PeerUnavailable(f"ConnectError: {exc}", why) from None
    except httpx.HTTPError as exc:
        raise PeerUnavailable(f"{type(exc).__name__}: {exc}", "broken") from None


# What OpenSSL says of a handshake answered in plain http (an HTTP reply where the server's
# TLS hello was due): by version, the first bytes read as a record of a wrong version, too
# long, or of no known protocol.
_PLAIN_HTTP = {
    "WRONG_VERSION_NUMBER",
    "PACKET_LENGTH_TOO_LONG",
    "UNKNOWN_PROTOCOL",
    "RECORD_LAYER_FAILURE",
}


def _connect_failure(exc: BaseException) -> str:
    """Why a connection to a peer failed, as PeerUnavailable.why: "certificate" when the
    TLS handshake refused its certificate (expired, self-signed, another name's), "plain"
    when its https:// address answered in plain http (a proxy missing, or the port of
    commune serve itself), else "unreachable". httpx says each as a ConnectError, the ssl
    module's error among its causes."""
    import ssl

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return "certificate"
        if isinstance(seen, ssl.SSLError) and seen.reason in _PLAIN_HTTP:
            return "plain"
        seen = seen.__cause__ or seen.__context__
    return "unreachable"


def _ask(
    peer: registry.Peer, query: str, k: int, timeout_s: float, language: str | None = None
) -> dict[str, Any]:
    # The language the asker reads: the peer says its refusals and reasons in it. Guessed
    # from a few words there, "tarif" was read as English and refused in English in a
    # French answer. A peer of an older version ignores it.
    asked: dict[str, Any] = {"query": query, "k": k}
    if language:
        asked["language"] = language
    status, body = _post(f"{peer.url}/peer/search", peer.key, asked, timeout_s, language)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if status != 200:
        raise _refused(status, data)
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        raise PeerUnavailable("not a Commune peer reply")
    return data


def _in_daemon(target: Callable[[], None], name: str) -> threading.Thread:
    # Daemons: a peer still answering never keeps a command (commune ask --peers) from
    # ending; whoever started them waits at most the time limit.
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread


def ask_all(
    peers: list[registry.Peer],
    query: str,
    k: int,
    timeout_s: float,
    language: str | None = None,
) -> dict[str, dict[str, Any] | BaseException]:
    """Each peer's reply, or why there is none; never more than ``timeout_s`` in all."""
    out: dict[str, dict[str, Any] | BaseException] = {}

    def one(peer: registry.Peer) -> None:
        try:
            out[peer.name] = _ask(peer, query, k, timeout_s, language)
        except Exception as exc:  # whatever went wrong is that peer's notice
            out[peer.name] = exc

    deadline = time.monotonic() + timeout_s
    threads = [_in_daemon(partial(one, p), f"commune-peer-{p.name}") for p in peers]
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    # Not waited for: a late reply is dropped when it comes (the deadline in _post ends it).
    return {p.name: out.get(p.name, TimeoutError()) for p in peers}


def fuse(local: list[Hit], *others: list[Hit], rescore: bool = False) -> list[Hit]:
    """Reciprocal rank fusion of ranked lists. Equal ranks tie; the tie is broken by the
    one measure both sides share, the cosine to the question by this home's embedder
    (Federation._measure computes it for the peers' passages), then this home first.

    ``rescore``: each hit returned carries its fused score instead of its list's own (copies;
    the lists are left as they were). A search shown to a person or a program puts every
    hit on one scale: a peer's hits came with no score (0.0) beside this home's scores, and a
    program sorting by score put them last whatever their rank."""
    scored: list[tuple[float, float, int, Hit]] = []
    for order, hits in enumerate((local, *others)):
        scored += [(1 / (RRF_K + rank), h.cosine, order, h) for rank, h in enumerate(hits, 1)]
    scored.sort(key=lambda t: (-t[0], -t[1], t[2]))
    if rescore:
        return [replace(h, score=round(fused, 6)) for fused, _, _, h in scored]
    return [h for *_, h in scored]


class Federation:
    """Asks one home's registered peers, and tells them what its answers cited."""

    def __init__(
        self, *, settings: PeerSettings, engine: Engine, embedder: Callable[[], Embedder]
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.embedder = embedder

    def peers(self) -> list[registry.Peer]:
        with self.engine.connect() as conn:
            return registry.registered(conn)

    def gather(self, question: str, actor: Actor, language: str) -> Gathered:
        peers = self.peers()
        got = Gathered()
        if not peers:
            # Asked for the peers (--peers, "peers": true, a federated search) with none
            # registered, the answer said nothing of them.
            got.notices.append(
                prose(
                    language,
                    "aucune coopérative pair n'est enregistrée ici (commune peer add) : "
                    "réponse à partir des seules collections de cette coopérative",
                    "no peer cooperative is registered here (commune peer add): answered "
                    "from this cooperative's collections alone",
                )
            )
            return got
        with self.engine.connect() as conn:
            kind, use = profile(conn, actor.member_id)
        replies = ask_all(peers, question, self.settings.k, self.settings.timeout_s, language)
        lists: list[list[Hit]] = []
        ids = _Ids()
        for peer in peers:
            reply = replies[peer.name]
            if isinstance(reply, BaseException):
                got.notices.append(self._silent(peer.name, reply, language))
                log.info("peer %s: %r", peer.name, reply)
                continue
            # The peer's documents this home cited and the peer has retired since: their
            # titles are forgotten here at this contact (commons/peering/citations.py); those
            # it brought back since have theirs again. It touches no passage of this answer.
            with self.engine.begin() as conn:
                citations.forget_titles(conn, peer.name, reply.get("retired"))
                citations.restore_titles(conn, peer.name, reply.get("reinstated"))
            try:
                # As a whole: a reply read in part could keep a passage whose policy or
                # withheld twin was the part that could not be read.
                kept, withheld, notices = self._read(peer, reply, kind, use, language, ids)
            except Exception as exc:
                log.warning("peer %s sent a reply this version cannot read: %r", peer.name, exc)
                got.notices.append(_unreadable(peer.name, language))
                continue
            lists.append(kept)
            got.notices += notices
            for w in withheld:
                if all(x["document_id"] != w["document_id"] for x in got.withheld):
                    got.withheld.append(w)
        self._measure(question, [h for hits in lists for h in hits])
        got.hits = fuse([], *lists)
        return got

    def _read(
        self,
        peer: registry.Peer,
        reply: dict[str, Any],
        kind: str | None,
        use: str | None,
        language: str,
        ids: _Ids,
    ) -> tuple[list[Hit], list[dict[str, Any]], list[str]]:
        """One peer's reply: (its passages allowed to the member, those withheld with their
        reason, notices). Raises on anything it cannot read."""
        notices: list[str] = []
        # A lone surrogate ("\\ud800", which JSON's escapes write and no UTF-8 carries) in
        # a title failed the asker's whole answer in a UnicodeEncodeError where its records
        # are written: the reply is one this version cannot read, as the API refuses such
        # a body (api/unicode.py).
        json.dumps(reply, ensure_ascii=False).encode("utf-8")
        if reply.get("refused"):
            refused = str(reply["refused"])[:500]
            notices.append(
                prose(
                    language,
                    "le pair {peer} a refusé la question : {refused}",
                    "peer {peer} refused the question: {refused}",
                    peer=peer.name,
                    refused=refused,  # the peer's own words: not respaced (text/say.prose)
                )
            )
        kept: list[Hit] = []
        withheld: list[dict[str, Any]] = []
        # No more than asked for: the rest would cost this home embedding time.
        for data in reply["hits"][: self.settings.k]:
            if not isinstance(data, dict):
                raise TypeError(f"a passage is an object, got {type(data).__name__}")
            hit, policy = self._hit(peer, reply, data, ids)
            decision = permits(policy, kind, use, language) and _licensed(hit.licence, language)
            if decision:
                kept.append(hit)
            else:
                withheld.append(
                    {
                        "document_id": hit.document_id,
                        "title": hit.title,
                        "licence": hit.licence,
                        "reason": f"{decision.reason} (via {peer.name})",
                    }
                )
        # What the peer itself left out (its charter, its licences), said as it said it.
        theirs = reply.get("withheld") or []
        if not isinstance(theirs, list):
            raise TypeError("withheld is a list")
        for w in theirs:  # read as a whole, as its passages are, though not all listed
            if not isinstance(w, dict) or not {"document_id", "title", "reason"} <= set(w):
                raise TypeError("a withheld passage has document_id, title and reason")
        # No more listed than passages asked for, which is all a peer can leave out (each
        # passage it found is sent or withheld): the 2 MB a reply may hold took some 2,000
        # titles of 500 characters, each a line of the answer's notes, in the answer cache
        # and the reply to whoever asked. The rest is said as a number, for the reader to
        # know the peer left more out.
        if (more := len(theirs) - self.settings.k) > 0:
            count = number(more, 0, language)
            notices.append(
                prose(
                    language,
                    f"le pair {peer.name} a écarté {count} autre"
                    + ("s passages, non listés" if more > 1 else " passage, non listé"),
                    f"peer {peer.name} withheld {count} more passage"
                    + ("s, not listed" if more > 1 else ", not listed"),
                )
            )
        for w in theirs[: self.settings.k]:
            withheld.append(
                {
                    "document_id": ids.document(peer.name, int(w["document_id"])),
                    "title": str(w["title"])[:500],
                    "licence": _text(w.get("licence")),
                    "reason": f"{str(w['reason'])[:500]} (via {peer.name})",
                }
            )
        return kept, withheld, notices

    def _silent(self, name: str, error: BaseException, language: str) -> str:
        """Why the answer comes without the peer ``name``, in the asker's words: the
        connection's own words ("ConnectError") said nothing to a member, in English to a
        French one, and a revoked key was said in the peer's reply to its own members
        ("ask your member's administrator for a new key"), which the asker took for theirs."""
        limit = self.settings.timeout_s if isinstance(error, TimeoutError) else 0.0
        said, _ = unanswered(name, error, language, limit)
        return said + prose(language, " : réponse sans lui", ": answered without it")

    def _hit(
        self, peer: registry.Peer, reply: dict[str, Any], data: dict[str, Any], ids: _Ids
    ) -> tuple[Hit, Policy]:
        policy = Policy.from_json(data.get("policy"))
        remote_doc, remote_chunk = int(data["document_id"]), int(data["chunk_id"])
        # Each text of the reply cut as the passage's own are: kept whole, a peer's name of
        # its cooperative, or of a collection, of a megabyte was copied into every passage of
        # the answer, the answer cache and the reply to whoever asked.
        collection = str(data["collection"])[:MAX_NAME]
        origin = {
            "peer": peer.name,
            "cooperative": str(reply.get("cooperative") or peer.name)[:MAX_NAME],
            "url": peer.url,
            "document_id": remote_doc,
            "chunk_id": remote_chunk,
            "collection": collection,
            "policy": policy.to_json(),
            "attribution": str(data.get("attribution") or "")[:MAX_ATTRIBUTION],
        }
        hit = Hit(
            # Negative ids: never one of this home's documents or passages.
            document_id=ids.document(peer.name, remote_doc),
            chunk_id=ids.chunk(peer.name, remote_chunk),
            title=str(data["title"])[:500],
            source=str(data["source"])[:2000],
            section=str(data.get("section") or "")[:500],
            score=0.0,
            licence=_canonical(_text(data.get("licence"))),
            text=str(data["text"])[:MAX_TEXT],
            collection=f"{peer.name}:{collection}",
            language=str(data.get("language") or "en")[:10],
            anchor=_text(data.get("anchor")),
            page=_whole(data.get("page")),
            contributor=_text(data.get("contributor")),
            publisher=_text(data.get("publisher")),
            lexical_rank=_whole(data.get("lexical_rank")),
            dense_rank=_whole(data.get("dense_rank")),
            cosine=0.0,
            coverage=0.0,
            # The collection's TDM reservation travels with it: this home's charter decides.
            tdm_reserved=bool(data.get("tdm_reserved")) or policy.tdm_reserved,
            origin=origin,
        )
        if hit.lexical_rank is None and hit.dense_rank is None:
            hit.dense_rank = 1  # found by the peer's search, not beside it
        return hit, policy

    def _measure(self, question: str, hits: list[Hit]) -> None:
        """Cosine and coverage by this home's embedder and analysers."""
        if not hits:
            return
        embedder = self.embedder()
        q = prepare_query(question, embedder)
        vectors = embedder.embed_passages([f"{h.title}\n{h.text}" for h in hits])
        # Every word of the question weighs the same: this home has no statistics of the
        # peer's commons, and the peer's are not sent (they cover its private collections).
        weights = dict.fromkeys(q.terms, 1.0)
        for h, v in zip(hits, vectors, strict=True):
            h.cosine = round(float(v @ q.vector), 4)
            terms = set(analyze(f"{h.title}\n{h.section}\n{h.text}", h.language))
            h.coverage = round(coverage(q, terms, weights), 4)

    # -- after the answer ----------------------------------------------------------------------
    def cited(
        self,
        route: str,
        answer: Any,
        hits: list[Hit],
        actor: Actor,
        conn: Connection | None = None,
    ) -> Callable[[], None]:
        """Keep the peers' documents the answer cited; returns what tells each peer which of
        its passages were cited (in the background: the answer does not wait for it).

        ``conn``: the caller's transaction, the answer's other records' (path.py). The peers
        are then told once it commits, by calling what this returns: told from inside it, a
        peer credited its contributor for an answer whose records here rolled back (the
        asker got an error, no answer), and again when the asker tried once more. Without
        ``conn`` the records are committed here, and the peers told before returning."""
        from commune.store.db import within

        by_chunk = {h.chunk_id: h for h in hits if h.origin is not None}
        sources = [s for s in answer.sources if getattr(s, "origin", None)]
        if not sources:
            return _nobody
        per_source: dict[int, int] = {}
        per_chunk: dict[int, int] = {}
        for s in answer.sentences:
            for n in s.get("sources", [s.get("source")]):
                per_source[n] = per_source.get(n, 0) + 1
            chunk = s.get("chunk_id")
            if chunk in by_chunk:
                per_chunk[chunk] = per_chunk.get(chunk, 0) + 1
        rows = [
            {
                "peer": s.origin["peer"],
                "document_id": int(s.origin["document_id"]),
                "title": s.title,
                "licence": s.licence,
                "contributor": s.contributor,
                "citations": per_source.get(s.n, 1),
            }
            for s in sources
        ]
        if not per_chunk:  # a generated answer names sources, not passages
            per_chunk = {s.chunk_id: per_source.get(s.n, 1) for s in sources}
        reports: dict[str, dict[int, int]] = {}
        for chunk, n in per_chunk.items():
            origin = by_chunk[chunk].origin if chunk in by_chunk else None
            if origin is not None:
                counts = reports.setdefault(origin["peer"], {})
                counts[int(origin["chunk_id"])] = counts.get(int(origin["chunk_id"]), 0) + n
        with within(self.engine, conn) as tx:
            citations.record_peer_sources(tx, route, rows, actor)
            # Read on the answer's transaction: a second connection taken from the pool
            # while this one holds SQLite's write lock could wait for the pool; and what is
            # left to do once it commits (start the threads) cannot fail the answer then.
            peers = {p.name: p for p in registry.registered(tx)} if reports else {}
        tell = partial(_tell, peers, reports, self.settings.timeout_s)
        if conn is None:
            tell()
            return _nobody
        return tell


def _tell(
    peers: dict[str, registry.Peer], reports: dict[str, dict[int, int]], timeout_s: float
) -> None:
    for name, counts in reports.items():
        if name in peers:
            # Not a daemon, so that a command ending right after its answer still sends it;
            # the request itself runs in a daemon that this thread waits for at most the time
            # limit, so the command's exit never waits longer.
            threading.Thread(target=_report, args=(peers[name], counts, timeout_s)).start()


def _unreadable(name: str, language: str) -> str:
    return prose(
        language,
        f"le pair {name} a envoyé une réponse que cette version ne sait pas lire : réponse "
        "sans lui",
        f"peer {name} sent a reply this version cannot read: answered without it",
    )


def unanswered(
    name: str, error: BaseException, language: str, timeout_s: float, *, retired: bool = False
) -> tuple[str, bool]:
    """Why the peer ``name`` gave nothing, as one clause in ``language`` ("peer coop-b could
    not be reached (…)"), and whether asking again later may help (not for a refused key).

    ``retired``: it was asked which documents it retired (``POST /peer/retired``, `commune
    peer forget`), not searched: a peer older than that route, whose search answers, was
    said to offer "no peer search at its address"."""
    if isinstance(error, TimeoutError):
        seconds = number(timeout_s, 0 if timeout_s == int(timeout_s) else 1, language)
        return prose(
            language,
            f"le pair {name} n'a pas répondu en {seconds} s",
            f"peer {name} did not answer in {seconds} s",
        ), True
    if not isinstance(error, PeerUnavailable):
        return prose(
            language,
            "le pair {name} n'a pas répondu ({error})",
            "peer {name} did not answer ({error})",
            name=name,
            error=error,  # the connection's or the peer's own words: not respaced
        ), True
    status = error.status
    if error.why == "unreachable":
        return prose(
            language,
            f"le pair {name} est injoignable (connexion refusée ou adresse introuvable)",
            f"peer {name} could not be reached (connection refused or address not found)",
        ), True
    if error.why == "certificate":
        return prose(
            language,
            f"le certificat du pair {name} n'a pas pu être vérifié (expiré, auto-signé ou "
            "établi pour un autre nom)",
            f"the certificate of peer {name} could not be verified (expired, self-signed or "
            "made out to another name)",
        ), True
    if error.why == "plain":
        # Said as unreachable, the operator looked for a peer down, when its address names
        # a port that speaks plain http (commune serve's own, without the proxy before it).
        return prose(
            language,
            f"le pair {name} répond en http simple à son adresse https:// (vérifiez le port "
            f"de l'adresse, commune peer update {name} --url, ou demandez à son opérateur "
            "de servir https à cette adresse)",
            f"peer {name} answers in plain http at its https:// address (check the address's "
            f"port, commune peer update {name} --url, or ask its operator to serve https "
            "there)",
        ), False
    if error.why == "broken":
        return prose(
            language,
            f"le pair {name} a interrompu sa réponse",
            f"peer {name} broke off its reply",
        ), True
    if error.why != "status":
        return prose(
            language,
            f"le pair {name} a envoyé une réponse que cette version ne sait pas lire",
            f"peer {name} sent a reply this version cannot read",
        ), False
    if status in (401, 403):
        return prose(
            language,
            f"le pair {name} a refusé la clé de cette coopérative (HTTP {status}, révoquée "
            "ou erronée ; son opérateur peut en délivrer une nouvelle)",
            f"peer {name} refused this cooperative's key (HTTP {status}, revoked or wrong; "
            "its operator can issue a new one)",
        ), False
    if status in (400, 422):
        # The request as sent: a question longer than the peer's [limits] max_query_chars
        # (400, its words say so), or a version of the peer that reads the request otherwise
        # (422). Said as "failed", the operator waited for it to pass.
        words = error.said.strip()
        if retired:  # no question was sent: only the version can differ
            return prose(
                language,
                "le pair {name} a refusé la requête de cette coopérative (HTTP {status}{words} "
                "; vérifiez que sa version lit les requêtes de celle-ci)",
                "peer {name} refused this cooperative's request (HTTP {status}{words}; check "
                "that its version reads this one's requests)",
                name=name,
                status=status,
                words=(say(language, "\u00a0: ", ": ") + words) if words else "",
            ), False
        return prose(
            language,
            "le pair {name} a refusé la requête de cette coopérative (HTTP {status}{words} ; "
            "vérifiez que la question tient dans ses limites et que sa version lit les "
            "requêtes de celle-ci)",
            "peer {name} refused this cooperative's request (HTTP {status}{words}; check "
            "that the question is within its limits and that its version reads this one's "
            "requests)",
            name=name,
            status=status,
            # The peer's own words: not respaced (text/say.prose); the colon before them is.
            words=(say(language, "\u00a0: ", ": ") + words) if words else "",
        ), False
    if status == 429 and error.code == "rate_limited":
        # Not a quota: past twenty wrong keys a minute, a peer answers a wrong key 429 instead
        # of 401 (http/signins.py). A revoked key was said to be a quota spent after twenty
        # questions, and its operator looked at the quotas.
        return prose(
            language,
            f"le pair {name} a refusé la clé de cette coopérative, trop de fois pour la "
            f"vérifier de nouveau pour l'instant (HTTP {status}, révoquée ou erronée ; son "
            "opérateur peut en délivrer une nouvelle)",
            f"peer {name} refused this cooperative's key, too many times to check it again "
            f"for now (HTTP {status}, revoked or wrong; its operator can issue a new one)",
        ), False
    if status == 429:
        return prose(
            language,
            f"le pair {name} a refusé la question, le quota de cette coopérative chez lui "
            "étant épuisé (HTTP 429)",
            f"peer {name} refused the question, this cooperative's quota there being spent "
            "(HTTP 429)",
        ), True
    if status in (404, 405) and retired:
        return prose(
            language,
            f"le pair {name} ne dit pas à son adresse quels documents il a retirés (HTTP "
            f"{status} : adresse erronée, ou version plus ancienne)",
            f"peer {name} does not say at its address which documents it retired (HTTP "
            f"{status}: a wrong address, or an older version)",
        ), False
    if status in (404, 405):
        return prose(
            language,
            f"le pair {name} n'offre pas de recherche entre pairs à son adresse (HTTP "
            f"{status} : adresse erronée, ou version plus ancienne)",
            f"peer {name} offers no peer search at its address (HTTP {status}: a wrong "
            "address, or an older version)",
        ), False
    return prose(
        language,
        f"le pair {name} a échoué (HTTP {status})",
        f"peer {name} failed (HTTP {status})",
    ), True


def _nobody() -> None:
    """No peer to tell."""


def ask_retired(
    peer: registry.Peer, timeout_s: float, language: str | None = None
) -> dict[str, Any]:
    """What the peer ``peer`` says of the documents this home's answers cited (``POST
    /peer/retired``): ``retired``, the ids it retired since, and ``reinstated``, those it
    brought back since with their titles (absent from a peer of an older version): each
    read by citations.forget_titles and restore_titles. Raises on a peer that cannot answer.
    Its reply is read with federation's bounds: within ``timeout_s`` in all, and small.
    ``language``: the one its refusal is said in (the operator's)."""
    status, body = _post(f"{peer.url}/peer/retired", peer.key, {}, timeout_s, language)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if status != 200:
        raise _refused(status, data)
    if not isinstance(data, dict):
        raise PeerUnavailable(f"HTTP {status}", "status", status)
    return data


def _report(peer: registry.Peer, counts: dict[int, int], timeout_s: float) -> None:
    def send() -> None:
        try:
            status, body = _post(
                f"{peer.url}/peer/cited",
                peer.key,
                {"cited": {str(c): n for c, n in counts.items()}},
                timeout_s,
            )
            if status != 200:
                log.warning(_not_taken(peer.name, f"HTTP {status}"))
                return
            # The passages it no longer credits (its collection changed since its search),
            # each with why; the others were credited.
            try:
                reply = json.loads(body)
            except ValueError:
                reply = None
            dropped = reply.get("dropped") if isinstance(reply, dict) else None
            if isinstance(dropped, list) and dropped:
                log.warning(_dropped(peer.name, len(counts), dropped))
        except Exception as exc:
            log.warning(_not_taken(peer.name, repr(exc)))

    _in_daemon(send, f"commune-peer-report-{peer.name}").join(timeout_s)


def _operator_language() -> str:
    """The language of the operator's log: the server's or the command's locale."""
    import os

    from commune.text.messages import from_environment

    return from_environment(os.environ)


def _not_taken(name: str, why: str) -> str:
    """The operator's log line for a citation report the peer ``name`` refused or never
    received (``why``: its HTTP status, or the error's own words), in their language."""
    return prose(
        _operator_language(),
        "le pair {name} n'a pas pris les citations ({why})",
        "peer {name} did not take the citations ({why})",
        name=name,
        why=why,
    )


def _dropped(name: str, cited: int, dropped: list[Any]) -> str:
    """The operator's log line for the passages the peer ``name`` did not credit, in the
    operator's language: each passage with why, in this home's words when the peer's
    ``why`` is one it knows (commons/peering/citations.DROPPED), else in the peer's own
    words."""
    from commune.text.messages import localise

    language = _operator_language()

    def said(d: Any) -> str:
        if not isinstance(d, dict):
            return str(d)
        why = d.get("why")
        known = citations.DROPPED.get(why) if isinstance(why, str) else None
        reason = localise(known, language) if known else str(d.get("reason"))
        return f"{d.get('passage')} ({reason})"

    # An answer citing one passage is common: "0 des 1 passages cités ; écartés" read wrong.
    return prose(
        language,
        "le pair {name} a crédité {credited} {cited} ; {gone} : {which}",
        "peer {name} credited {credited} of the {cited}; dropped: {which}",
        name=name,
        credited=cited - len(dropped),
        cited=plural(
            language,
            cited,
            say(language, "sur {n} passage cité", "{n} passage cited"),
            say(language, "des {n} passages cités", "{n} passages cited"),
        ),
        gone=plural(language, len(dropped), "écarté", "écartés"),
        which=say(language, "\u00a0; ", "; ").join(said(d) for d in dropped[:20]),
    )


def _licensed(licence: str | None, language: str) -> Decision:
    """May a peer's passage under ``licence`` be used here at all? This home publishes no
    document without a licence it can read (an SPDX expression, or a cooperative's own
    ``LicenseRef-…``, read at its strictest); a peer's passage sent with none, or with "All
    rights reserved", had no terms to follow: it was cited, and quoted to a member that
    declared a commercial use, as if it were free.

    Readable is not enough: its terms must be ones this home knows (govern/licences.TERMS),
    as it publishes none of its own documents under other terms (a curator gives them one it
    knows). A peer of another version may know more: its "CC-BY-NC-2.0", valid SPDX, was
    quoted to a member that declared a commercial use, nothing here saying non-commercial."""
    from commune.errors import CommuneError
    from commune.govern.licences import normalise, terms_for_use

    try:
        normalise(licence or "")
    except CommuneError:
        return Decision(
            False,
            prose(
                language,
                "sa licence ({licence}) n'est pas une expression SPDX que cette coopérative "
                "sait lire : ses conditions ne peuvent pas être suivies",
                "its licence ({licence}) is not an SPDX expression this cooperative can read, "
                "so its terms cannot be followed",
                licence=licence or say(language, "aucune", "none given"),
            ),
        )
    if terms_for_use(licence) is None:
        return Decision(
            False,
            prose(
                language,
                "les conditions de sa licence ({licence}) ne sont pas dans la table des "
                "licences de cette coopérative : elles ne peuvent pas être suivies",
                "the terms of its licence ({licence}) are not in this cooperative's licence "
                "table, so they cannot be followed",
                licence=licence,
            ),
        )
    return Decision(True, say(language, "sa licence est lisible", "its licence can be read"))


def _canonical(licence: str | None) -> str | None:
    """A peer's licence as this home writes it (its SPDX form: "CC-BY-SA-4.0" for a peer's
    "cc-by-sa-4.0", "GPL-2.0-or-later" for "GPL-2.0+"), as its own documents' are: written
    as sent, one licence was named twice in an answer's share-alike note ("CC-BY-SA-4.0,
    cc-by-sa-4.0"). One this home cannot read stays as sent: it is withheld (_licensed)."""
    from commune.errors import CommuneError
    from commune.govern.licences import normalise

    if not licence:
        return licence
    try:
        return normalise(licence)
    except CommuneError:
        return licence


def _text(value: Any) -> str | None:
    """An optional text field of a peer's reply."""
    return None if value is None else str(value)[:500]


def _whole(value: Any) -> int | None:
    """An optional whole number of a peer's reply (a bool is not one)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected a whole number, got {value!r}")
    return int(value)


class _Ids:
    """Negative ids for the peers' documents and passages, one per (peer, peer's id)."""

    def __init__(self) -> None:
        self.documents: dict[tuple[str, int], int] = {}
        self.chunks: dict[tuple[str, int], int] = {}

    def document(self, peer: str, remote: int) -> int:
        return self.documents.setdefault((peer, remote), -(len(self.documents) + 1))

    def chunk(self, peer: str, remote: int) -> int:
        return self.chunks.setdefault((peer, remote), -(len(self.chunks) + 1))
