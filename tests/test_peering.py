"""Peering between cooperatives (docs/peering.md): two real `commune serve` processes on
loopback, each with its own home; and the policy, its ODRL form, and the commands' bad input.

One pair of servers for the whole module (each loads the embedder once); tiny corpora."""

from __future__ import annotations

import json
import socket
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from commune.cli import cli
from commune.commons.peering.policy import Policy, context, odrl, parse, permits
from commune.errors import InvalidRequest
from tests.conftest import serve_process, wait_until

OPEN_TEXT = (
    "# Recycling centre\n\nThe recycling centre of Ville B is open from Tuesday to Saturday, "
    "from 9 am to 5 pm. Garden waste and old furniture are taken free of charge.\n"
)
NC_TEXT = (
    "# Market stalls\n\nA stall at the Saturday market of Ville B costs 12 euros per day. "
    "Traders book their stall at the market office before Thursday noon.\n"
)
LOCAL_TEXT = (
    "# Library\n\nThe library of Ville A lends books and films for three weeks with a "
    "free reader card.\n"
)


def run(home: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def ok(home: Path, *args: str) -> str:
    result = run(home, *args)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def post(url: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
    req = urllib.request.Request(
        url,
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {key}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=300) as reply:  # a hang guard
            return reply.status, json.loads(reply.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(home / "commune.db") as db:
        return db.execute(sql).fetchall()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Cooperative B shares two collections (one non-commercial) and issued a key to A;
    A registered B, and has a non-commercial town and a commercial member."""
    root = tmp_path_factory.mktemp("peering")
    a, b = root / "a", root / "b"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LANG", "C.UTF-8")
        mp.setenv("HOME", str(root / "user-home"))
        mp.delenv("COMMUNE_HOME", raising=False)
        mp.delenv("COMMUNE_DATABASE_URL", raising=False)
        for home, name in ((a, "Coop A"), (b, "Coop B")):
            home.mkdir()
            (home / "commune.toml").write_text(
                # A hang guard: the peer's time limit is tested on a home of its own below,
                # and a busy machine must not turn these answers into timeouts.
                f'[peers]\nname = "{name}"\ntimeout_s = 120\n',
                encoding="utf-8",
            )
        docs = root / "docs"
        docs.mkdir()
        (docs / "recycling.md").write_text(OPEN_TEXT, encoding="utf-8")
        (docs / "market.md").write_text(NC_TEXT, encoding="utf-8")
        (docs / "library.md").write_text(LOCAL_TEXT, encoding="utf-8")
        ok(b, "add", str(docs / "recycling.md"), "--collection", "open-b", "--licence", "CC-BY-4.0")
        ok(b, "add", str(docs / "market.md"), "--collection", "nc-b", "--licence", "CC-BY-4.0")
        ok(b, "share", "open-b")
        ok(b, "share", "nc-b", "--policy", "non-commercial")
        peer_key = ok(b, "peer", "issue", "coop-a").strip()
        ok(a, "add", str(docs / "library.md"), "--collection", "local-a", "--licence", "CC0-1.0")
        ok(a, "member", "add", "Ville A", "--kind", "town")
        ok(a, "member", "add", "Boutique", "--declared-use", "commercial")
        ok(a, "user", "add", "alice", "--member", "Ville A")
        ok(a, "user", "add", "bob", "--member", "Boutique")
        alice = ok(a, "key", "create", "alice").strip()
        bob = ok(a, "key", "create", "bob").strip()
        server_b, url_b = serve_process(b, auth=True)
        try:
            server_a, url_a = serve_process(a, auth=True)
        except BaseException:
            server_b.terminate()
            raise
        ok(a, "peer", "add", "coop-b", url_b, "--key", peer_key)
        # B's first search loads its embedder, which may take longer than A waits: warmed
        # here, so that what A is told is about peering, not the start-up.
        assert post(f"{url_b}/peer/search", {"query": "warm up"}, peer_key)[0] == 200
        try:
            yield {
                "a": a,
                "b": b,
                "url_a": url_a,
                "url_b": url_b,
                "server_b": server_b,
                "alice": alice,
                "bob": bob,
                "peer_key": peer_key,
            }
        finally:
            for proc in (server_a, server_b):
                proc.terminate()
                proc.wait(30)


def ask(pair: dict[str, Any], who: str, question: str) -> dict[str, Any]:
    status, answer = post(
        f"{pair['url_a']}/api/ask",
        {"question": question, "mode": "extractive", "peers": True},
        pair[who],
    )
    assert status == 200, answer
    return answer


LEDGER = (
    "select count(*) from usage join members on members.id = usage.member_id "
    "where usage.route = 'peer/search' and members.name = 'coop-a' and members.kind = 'peer'"
)


def test_a_member_gets_a_cited_answer_from_the_peer_and_both_sides_count_it(pair):
    before = rows(pair["b"], LEDGER)[0][0]
    answer = ask(pair, "alice", "When is the recycling centre open?")
    assert answer["found"], (answer["notice"], answer["excluded"], answer["decisions"])
    via = [s for s in answer["sources"] if s["origin"]]
    assert via, answer["sources"]
    source = via[0]
    assert source["title"] == "Recycling centre"
    assert source["origin"]["peer"] == "coop-b"
    assert source["origin"]["cooperative"] == "Coop B"
    assert source["attribution"].endswith("— via coop-b")
    assert "CC-BY-4.0" in source["attribution"]
    assert "Tuesday to Saturday" in answer["text"]
    # B's ledger: a row for the search, under the peer member it issued the key to.
    assert rows(pair["b"], LEDGER) == [(before + 1,)]
    # Cited, not merely returned: B credits its contributor under the peer once A reports.
    month = datetime.now(UTC).strftime("%Y-%m")
    wait_until(
        lambda: rows(pair["b"], "select count(*) from credits where route = 'peer/cited'")[0][0],
        "B to record what A's answer cited",
    )
    report_b = json.loads(ok(pair["b"], "credits", "--month", month, "--json"))
    assert [r["peer"] for r in report_b["cited_by_peers"]] == ["coop-a"]
    report_a = json.loads(ok(pair["a"], "credits", "--month", month, "--json"))
    assert [(r["peer"], r["title"]) for r in report_a["from_peers"]] == [
        ("coop-b", "Recycling centre")
    ]
    assert report_a["documents"] == []  # A's own credits are for A's own documents only
    # Search too reaches the peer, from the command line, as a member.
    found = ok(pair["a"], "search", "--peers", "--as", "alice", "-k", "3", "recycling centre")
    assert "Recycling centre — via coop-b" in found


def test_a_non_commercial_collection_is_withheld_from_a_commercial_member(pair):
    question = "How much does a stall at the Saturday market cost?"
    answer = ask(pair, "bob", question)
    assert not any(s["origin"] for s in answer["sources"])
    withheld = [e for e in answer["excluded"] if e["title"] == "Market stalls"]
    assert withheld, answer["excluded"]
    assert "forbids commercial use" in withheld[0]["reason"]
    assert "via coop-b" in withheld[0]["reason"]
    # The same question from the non-commercial town is answered from it.
    allowed = ask(pair, "alice", question)
    assert any(s["title"] == "Market stalls" for s in allowed["sources"]), allowed


def test_the_api_searches_the_peers_and_says_what_it_withheld(pair):
    """/api/search/federated: the command line's `search --peers`, for a member's key."""
    body = {"query": "How much does a stall at the Saturday market cost?", "k": 5}
    status, found = post(f"{pair['url_a']}/api/search/federated", body, pair["bob"])
    assert status == 200, found
    assert set(found) == {"hits", "withheld", "notices"}
    assert "Market stalls" not in [h["title"] for h in found["hits"]]  # non-commercial only
    [withheld] = [w for w in found["withheld"] if w["title"] == "Market stalls"]
    assert "forbids commercial use" in withheld["reason"]
    status, found = post(f"{pair['url_a']}/api/search/federated", body, pair["alice"])
    assert status == 200, found
    via = [h for h in found["hits"] if (h.get("origin") or {}).get("peer") == "coop-b"]
    assert [h["title"] for h in via][:1] == ["Market stalls"], found["hits"]
    assert found["withheld"] == [] and found["notices"] == []
    # One scale for both homes' hits, in the order shown: a peer's came with score 0.0.
    scores = [h["score"] for h in found["hits"]]
    assert all(s > 0 for s in scores) and scores == sorted(scores, reverse=True), scores
    # This home's part of the search is metered like /api/search, under the caller.
    metered = rows(
        pair["a"],
        "select count(*) from usage join users on users.id = usage.user_id "
        "where usage.route = 'api/search' and users.name in ('alice', 'bob')",
    )
    assert metered[0][0] >= 2


def test_the_catalogue_publishes_each_shared_collection_with_its_policy(pair):
    with urllib.request.urlopen(f"{pair['url_b']}/peer/catalogue", timeout=300) as reply:
        data = json.loads(reply.read())
    datasets = {d["dct:identifier"]: d for d in data["dcat:dataset"]}
    assert set(datasets) == {"open-b", "nc-b"}
    nc = datasets["nc-b"]["odrl:hasPolicy"]
    assert nc["@type"] == "odrl:Offer"
    purpose = nc["odrl:prohibition"][0]["odrl:constraint"][0]
    assert purpose["odrl:leftOperand"] == {"@id": "odrl:purpose"}
    assert "odrl:prohibition" not in datasets["open-b"]["odrl:hasPolicy"]
    import rdflib

    graph = rdflib.Graph().parse(data=json.dumps(data), format="json-ld")
    assert graph.query(
        "PREFIX odrl: <http://www.w3.org/ns/odrl/2/> PREFIX dcat: <http://www.w3.org/ns/dcat#> "
        "ASK { ?c a dcat:Catalog ; dcat:dataset ?d . ?d odrl:hasPolicy ?p . "
        "?p a odrl:Offer ; odrl:prohibition ?x }"
    ).askAnswer


def test_a_member_key_is_not_a_peer_key(pair):
    status, body = post(f"{pair['url_a']}/peer/search", {"query": "library"}, pair["alice"])
    assert status == 403, body
    status, body = post(f"{pair['url_b']}/peer/cited", {"cited": {"999": 1}}, pair["peer_key"])
    # A passage that is not shared: nothing credited, and said.
    assert status == 200 and body["recorded"] == 0, body
    assert [(d["passage"], d["why"]) for d in body["dropped"]] == [(999, "not-shared")], body
    # Nor is a peer's key a member's: it would read what is shared inside B only.
    status, body = post(f"{pair['url_b']}/api/search", {"query": "market"}, pair["peer_key"])
    assert status == 401 and "n'ouvre que les routes /peer/" in body["detail"], body


def test_a_peer_has_its_own_quota(pair):
    frugal = ok(pair["b"], "peer", "issue", "coop-c", "--requests-per-day", "1").strip()
    assert post(f"{pair['url_b']}/peer/search", {"query": "market"}, frugal)[0] == 200
    status, body = post(f"{pair['url_b']}/peer/search", {"query": "market"}, frugal)
    assert status == 429 and "coop-c" in body["detail"], body


def test_a_silent_or_stopped_peer_is_named_and_the_others_still_answer(pair, tmp_path):
    """A home of its own with a shorter limit (the pair's is a hang guard), so that B's
    server, which the other tests share, keeps running. 10 s: long enough for B to answer
    on a busy machine, the silent peer is waited for that long."""
    from commune.core import Commune

    c = tmp_path / "c"
    c.mkdir()
    (c / "commune.toml").write_text('[peers]\nname = "Coop C"\ntimeout_s = 10\n', "utf-8")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "library.md").write_text(LOCAL_TEXT, encoding="utf-8")
    ok(c, "add", str(docs / "library.md"), "--collection", "local-c", "--licence", "CC0-1.0")
    ok(
        c,
        "peer",
        "add",
        "coop-b",
        pair["url_b"],
        "--key",
        ok(pair["b"], "peer", "issue", "coop-c-slow").strip(),
    )
    silent = socket.socket()  # takes the connection and never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    with socket.socket() as gone:  # nothing listens there any more
        gone.bind(("127.0.0.1", 0))
        gone_port = gone.getsockname()[1]
    try:
        ok(
            c,
            "peer",
            "add",
            "coop-slow",
            f"http://127.0.0.1:{silent.getsockname()[1]}",
            "--key",
            "cmn_x_y",
        )
        with Commune(c) as commune:
            answer = commune.ask(
                "When is the recycling centre open?", mode="extractive", peers=True
            )
        assert "peer coop-slow did not answer in 10 s" in (answer.notice or ""), answer.notice
        assert any(s.origin for s in answer.sources)  # coop-b still answered
    finally:
        silent.close()
    ok(c, "peer", "remove", "coop-slow")
    ok(c, "peer", "add", "coop-gone", f"http://127.0.0.1:{gone_port}", "--key", "cmn_x_y")
    with Commune(c) as commune:
        answer = commune.ask("Which library lends films?", mode="extractive", peers=True)
    assert "peer coop-gone could not be reached" in (answer.notice or ""), answer.notice
    assert answer.found and answer.sources[0].title == "Library"
    # Searched with a few keywords, the notices are the asker's language, as an answer's
    # (found by an exploratory test: `search --peers` said them in English in French).
    with Commune(c) as commune:
        _, _, notices = commune.federated_search("médiathèque films", asker_language="fr")
        assert notices and notices[0].startswith("le pair coop-gone est injoignable"), notices
        _, _, notices = commune.federated_search("library films", asker_language="fr")
        assert notices[0].startswith("le pair coop-gone est injoignable"), notices


def test_a_peer_retirement_reaches_the_titles_kept_here_without_a_question(pair, tmp_path):
    """Known gap: a title of a peer's document cited here, which the peer has since retired
    (for personal data, its title may name the person), was forgotten only when a question
    next reached that peer. `commune peer forget` asks each peer for its retirements alone
    (POST /peer/retired) and blanks the titles at once; a member's key may not ask."""
    text = (
        "# Complaint of Jean Dupont\n\nJean Dupont complained that the church bell of Ville B "
        "rings every quarter of an hour through the night.\n"
    )
    (tmp_path / "complaint.md").write_text(text, encoding="utf-8")
    ok(
        pair["b"],
        "add",
        str(tmp_path / "complaint.md"),
        "--collection",
        "open-b",
        "--licence",
        "CC-BY-4.0",
    )
    question = "What did Jean Dupont complain about the church bell?"
    wait_until(
        lambda: any(
            s["origin"] and s["title"] == "Complaint of Jean Dupont"
            for s in ask(pair, "alice", question)["sources"]
        ),
        "A's answer to cite B's new document",
    )
    cited = "select title from peer_citations where title like 'Complaint%'"
    wait_until(
        lambda: rows(
            pair["b"],
            "select count(*) from credits join documents on documents.id = credits.document_id "
            "where credits.route = 'peer/cited' and documents.title like 'Complaint%'",
        )[0][0],
        "B to record that A's answer cited it",
    )
    assert rows(pair["a"], cited)
    [(doc,)] = rows(pair["b"], "select id from documents where title like 'Complaint%'")
    ok(
        pair["b"],
        "retire",
        str(doc),
        "--reason",
        "demande de M. Dupont",
        "--category",
        "personal-data",
    )
    status, reply = post(f"{pair['url_b']}/peer/retired", {}, pair["alice"])
    assert status == 401 or status == 403, (status, reply)  # a member's key of A's is none of B's
    status, reply = post(f"{pair['url_b']}/peer/retired", {}, pair["peer_key"])
    assert status == 200 and doc in reply["retired"], reply
    said = ok(pair["a"], "peer", "forget")
    assert said.strip() == "coop-b: 1 title forgotten", said
    assert rows(pair["a"], cited) == []
    assert rows(pair["a"], "select count(*) from peer_citations where title = ''")[0][0] >= 1
    assert ok(pair["a"], "peer", "forget").strip() == "coop-b: 0 titles forgotten"


def test_fusion_takes_ranks_and_breaks_ties_by_the_shared_cosine():
    from commune.answering.federation import fuse
    from commune.answering.retrieve import Hit

    def hit(chunk: int, cosine: float) -> Hit:
        return Hit(chunk, chunk, "t", "s", "", 0.0, None, "x", "c", "en", None, None, None,
                   None, 1, 1, cosine, 0.0)  # fmt: skip

    local, theirs = [hit(1, 0.1), hit(2, 0.5)], [hit(-1, 0.6), hit(-2, 0.05)]
    assert [h.chunk_id for h in fuse(local, theirs)] == [-1, 1, 2, -2]


# -- the policy, its ODRL form, and bad input ----------------------------------------------------
def test_policy_decisions_carry_their_reason():
    nc = Policy(non_commercial=True)
    assert permits(nc, "town", "non-commercial")
    refused = permits(nc, "town", "commercial", "fr")
    assert not refused and "usage commercial" in refused.reason
    towns = Policy(kinds=("town",))
    assert permits(towns, "town", "commercial")
    refused = permits(towns, "association", "non-commercial")
    assert not refused and "kind town (yours: association)" in refused.reason
    assert not permits(towns, None, None)  # the operator is no member of any kind
    # What a peer's policy does not say is read as the strictest.
    assert Policy.from_json({}).non_commercial


def test_policy_parsing_refuses_unknown_clauses_and_kinds():
    assert parse("non-commercial, share-alike", "town,association") == Policy(
        non_commercial=True, share_alike=True, kinds=("town", "association")
    )
    with pytest.raises(InvalidRequest, match="unknown policy clause 'no-ai'"):
        parse("no-ai")
    with pytest.raises(InvalidRequest, match="unknown member kind 'city'"):
        parse("", "city")


def test_the_odrl_offer_reads_as_rdf():
    import rdflib

    policy = Policy(non_commercial=True, share_alike=True, tdm_reserved=True, kinds=("town",))
    doc = {"@context": {**context(), "foaf": "http://xmlns.com/foaf/0.1/"}}
    doc.update(odrl(policy, "https://b.example/peer/catalogue#nc-b", "Coop B"))
    graph = rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")
    prefixes = (
        "PREFIX odrl: <http://www.w3.org/ns/odrl/2/> PREFIX tdm: <http://www.w3.org/ns/tdmrep#> "
    )
    for what, query in {
        "an Offer with a duty to attribute": "ASK { ?o a odrl:Offer ; odrl:permission ?p . "
        "?p odrl:duty ?d . ?d odrl:action odrl:attribute }",
        "commercial use prohibited": "ASK { ?o odrl:prohibition ?p . ?p odrl:constraint ?c . "
        "?c odrl:leftOperand odrl:purpose ; odrl:rightOperand 'commercial' }",
        "text and data mining prohibited": "ASK { ?o odrl:prohibition ?p . "
        "?p odrl:action tdm:mine }",
    }.items():
        assert graph.query(prefixes + query).askAnswer, what


def test_bad_input_is_one_line_and_changes_nothing(home, tmp_path):
    doc = tmp_path / "a.md"
    doc.write_text(LOCAL_TEXT, encoding="utf-8")
    ok(home, "add", str(doc), "--collection", "mine", "--licence", "CC0-1.0")
    ok(home, "member", "add", "Ville A", "--kind", "town")
    ok(home, "visibility", "mine", "private", "--member", "Ville A")
    for args, said in (
        (("share", "mine"), "is private to its member"),
        (("share", "nowhere"), "no collection named 'nowhere'"),
        (("share", "mine", "--policy", "no-ai"), "unknown policy clause"),
        (("peer", "add", "b", "ftp://b.example", "--key", "cmn_a_b"), "http:// or https://"),
        # urlsplit's own "Invalid IPv6 URL" came out, with no hint (review finding).
        (("peer", "add", "b", "http://[::1", "--key", "cmn_a_b"), "http:// or https://"),
        (("peer", "add", "b", "https://b.example:port", "--key", "cmn_a_b"), "http:// or https://"),
        (("peer", "add", "b", "https://b.example", "--key", "secret"), "the key must be"),
        (("peer", "remove", "b"), "no peer named 'b'"),
    ):
        result = run(home, *args)
        assert result.exit_code == 2, result.output
        assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert json.loads(ok(home, "peer", "list", "--json")) == []
    french = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "share", "mine"]
    )
    assert french.exit_code == 2
    assert french.stderr.strip() == (
        "erreur\u00a0: la collection 'mine' est privée à son membre\u00a0: elle ne peut pas être "
        "partagée avec des pairs (rendez-la d'abord partagée\u00a0: commune visibility mine shared)"
    )
    ok(home, "visibility", "mine", "shared")
    shared = CliRunner(env={"LANG": None}).invoke(cli, ["--home", str(home), "share", "mine"])
    assert shared.output == (
        "mine\u00a0: partagée avec les pairs (attribution\u00a0; membres de tout type)\n"
    )
    ok(home, "peer", "add", "b", "https://b.example/", "--key", "cmn_1234abcd_secretpart")
    listed = ok(home, "peer", "list")
    assert "cmn_1234abcd_…" in listed and "secretpart" not in listed
    assert "https://b.example\t" in listed


def test_a_peer_reinstatement_gives_back_the_title_its_retirement_took(pair, tmp_path):
    """Known gap: a document of B's cited by A's answers, retired by mistake, then
    reinstated (`commune reinstate`), stayed "(retired by the peer)" at A for good: the
    retirement travelled (its title forgotten), its undoing did not. B's replies now list the
    documents brought back with their titles; A gives each back where it forgot it, at the
    next question that reaches B as at `commune peer forget`."""
    text = (
        "# Bell tower visits\n\nThe bell tower of Ville B is open for visits on the first "
        "Sunday of each month, from 2 pm to 6 pm.\n"
    )
    (tmp_path / "bell.md").write_text(text, encoding="utf-8")
    ok(
        pair["b"],
        "add",
        str(tmp_path / "bell.md"),
        "--collection",
        "open-b",
        "--licence",
        "CC0-1.0",
    )
    question = "When can the bell tower be visited?"
    wait_until(
        lambda: any(
            s["origin"] and s["title"] == "Bell tower visits"
            for s in ask(pair, "alice", question)["sources"]
        ),
        "A's answer to cite B's new document",
    )
    [(doc,)] = rows(pair["b"], "select id from documents where title = 'Bell tower visits'")
    wait_until(
        lambda: rows(
            pair["b"],
            f"select count(*) from credits where route = 'peer/cited' and document_id = {doc}",
        )[0][0],
        "B to record that A's answer cited it",
    )
    cited = f"select distinct title from peer_citations where document_id = {doc}"
    assert rows(pair["a"], cited) == [("Bell tower visits",)]
    # Retired by mistake, then brought back: `commune peer forget` forgets, then gives back.
    ok(pair["b"], "retire", str(doc), "--reason", "wrong file", "--category", "error")
    assert ok(pair["a"], "peer", "forget").strip() == "coop-b: 1 title forgotten"
    assert rows(pair["a"], cited) == [("",)]
    ok(pair["b"], "reinstate", str(doc), "--reason", "retired by mistake")
    status, reply = post(f"{pair['url_b']}/peer/retired", {}, pair["peer_key"])
    assert status == 200 and doc not in reply["retired"], reply
    assert {"document_id": doc, "title": "Bell tower visits"} in reply["reinstated"], reply
    said = ok(pair["a"], "peer", "forget")
    assert said.strip() == "coop-b: 0 titles forgotten, 1 title given back", said
    assert rows(pair["a"], cited) == [("Bell tower visits",)]
    assert ok(pair["a"], "peer", "forget").strip() == "coop-b: 0 titles forgotten"
    # The same by a question that reaches B (its reply lists both), and the document is
    # sent again: A's answer cites it once more.
    ok(pair["b"], "retire", str(doc), "--reason", "wrong file again", "--category", "error")
    ask(pair, "alice", "When is the recycling centre open?")
    assert rows(pair["a"], cited) == [("",)]
    ok(pair["b"], "reinstate", str(doc), "--reason", "retired by mistake again")
    wait_until(
        lambda: any(
            s["origin"] and s["title"] == "Bell tower visits"
            for s in ask(pair, "alice", question)["sources"]
        ),
        "A's answer to cite B's reinstated document",
    )
    assert rows(pair["a"], cited) == [("Bell tower visits",)]
    month = datetime.now(UTC).strftime("%Y-%m")
    report = json.loads(ok(pair["a"], "credits", "--month", month, "--json"))
    bell = [r for r in report["from_peers"] if r["document_id"] == doc]
    assert bell and all(r["title"] == "Bell tower visits" and not r["forgotten"] for r in bell)
