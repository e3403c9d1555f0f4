"""One permission check, `allowed(actor, action, resource)`, behind every route and command:
a matrix over every role, on each route and on the commands that act for a user (--as)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from commune.cli import cli
from commune.govern.policy import ROLES
from tests.conftest import make_key

PDF = b"%PDF-1.4\n"


@pytest.fixture
def coop(home, corpus):  # type: ignore[no-untyped-def]
    """Ville A with a user of every role and a private collection; Ville B's curator."""
    from commune.api.app import create_app
    from commune.core import Commune
    from commune.govern.members import add_member

    c = Commune(home)
    with c.engine.begin() as conn:
        add_member(conn, "Ville A", "town")
        add_member(conn, "Ville B", "town")
    c.add([corpus / "pool.txt"], collection="shared", licence="etalab-2.0")
    c.add([corpus / "dechets.html"], collection="privee-a", licence="etalab-2.0", member="Ville A")
    keys = {role: make_key(c, f"{role}-a", "Ville A", role) for role in ROLES}
    keys["other"] = make_key(c, "bob", "Ville B", "curator")
    client = TestClient(create_app(c))
    yield c, client, keys
    c.close()


def call(client, key, method, path, **kw):  # type: ignore[no-untyped-def]
    return client.request(
        method, path, headers={"Authorization": f"Bearer {key}"}, **kw
    ).status_code


RANK = {role: i for i, role in enumerate(ROLES)}


@pytest.mark.parametrize("who", [*ROLES, "other"])
def test_every_route_for_every_role(coop, who):
    c, client, keys = coop
    key = keys[who]
    inside = who != "other"  # a user of Ville A, which owns privee-a
    private = 200 if inside else 404
    assert (
        call(client, key, "POST", "/api/search", json={"query": "tri", "collection": "privee-a"})
        == private
    )
    assert (
        call(
            client,
            key,
            "POST",
            "/api/ask",
            json={"question": "Où va le verre ?", "collection": "privee-a"},
        )
        == private
    )
    assert call(client, key, "GET", "/api/documents?collection=privee-a") == private
    stream = {"question": "Où va le verre ?", "collection": "privee-a"}
    assert call(client, key, "POST", "/api/ask/stream", json=stream) == private
    chat = {
        "model": "extractive",
        "collection": "privee-a",
        "messages": [{"role": "user", "content": "Où va le verre ?"}],
    }
    assert call(client, key, "POST", "/v1/chat/completions", json=chat) == private
    embed = {"model": "use-multilingual-v3", "input": "verre"}
    assert call(client, key, "POST", "/v1/embeddings", json=embed) == 200
    assert call(client, key, "GET", "/api/documents?collection=shared") == 200
    assert call(client, key, "GET", "/api/collections") == 200
    assert call(client, key, "GET", "/v1/models") == 200
    assert call(client, key, "GET", "/transparency.json") == 200
    # Contributing needs the contributor role, in a collection one may read.
    upload = {"files": ("note.txt", b"Le marche a lieu le samedi matin.", "text/plain")}
    contributes = who == "other" or RANK[who] >= RANK["contributor"]
    assert call(
        client, key, "POST", "/api/documents", files=upload, data={"collection": "shared"}
    ) == (200 if contributes else 403)
    assert call(
        client, key, "POST", "/api/documents", files=upload, data={"collection": "privee-a"}
    ) == (404 if not inside else 200 if contributes else 403)
    # Usage: one's own always; the member's for its admins; another member's never, except
    # for cooperative admins.
    assert call(client, key, "GET", "/api/usage") == 200
    assert call(client, key, "GET", "/api/usage?member=Ville%20A") == (200 if inside else 404)
    assert call(client, key, "GET", "/api/usage?member=Ville%20B") == (
        200 if who in ("cooperative-admin", "other") else 404
    )


def test_a_reader_sees_only_their_own_usage(coop):
    c, client, keys = coop
    for role in ("reader", "member-admin"):
        client.post(
            "/api/ask",
            json={"question": "Piscine ?"},
            headers={"Authorization": f"Bearer {keys[role]}"},
        )

    def total(role: str) -> int:  # type: ignore[no-untyped-def]
        r = client.get(
            "/api/usage?member=Ville%20A", headers={"Authorization": f"Bearer {keys[role]}"}
        )
        return sum(d["requests"] for d in r.json()["days"])

    assert total("member-admin") > total("reader") >= 1


@pytest.mark.parametrize("role", ROLES)
def test_commands_that_act_for_a_user(coop, home, role, tmp_path):
    c, _, _ = coop
    c.set_curation_rules("shared", 1, "curator")
    note = tmp_path / "note.txt"
    note.write_text("Le marché a lieu le samedi matin sur la place.")
    run = CliRunner()
    added = run.invoke(
        cli,
        [
            "--home",
            str(home),
            "add",
            str(note),
            "--collection",
            "shared",
            "--licence",
            "etalab-2.0",
            "--as",
            f"{role}-a",
        ],
    )
    may_add = RANK[role] >= RANK["contributor"]
    assert (added.exit_code == 0) is may_add, added.output
    if not may_add:
        assert "adding documents needs the role contributor" in added.output
        return
    rev = c.pending()[0]["id"]
    reviewer = "curator-a" if role != "curator" else "member-admin-a"
    approved = run.invoke(
        cli,
        ["--home", str(home), "review", "approve", str(rev), "--reason", "ok", "--as", reviewer],
    )
    assert approved.exit_code == 0, approved.output
    doc = next(
        d["id"]
        for d in c.documents("shared")
        if "marché" in d["title"].lower() or d["title"].startswith("note")
    )
    retired = run.invoke(
        cli, ["--home", str(home), "retire", str(doc), "--reason", "old", "--as", f"{role}-a"]
    )
    assert (retired.exit_code == 0) is (RANK[role] >= RANK["curator"]), retired.output


def test_the_policy_gives_its_reason():
    from commune.govern.policy import Actor, Collection, Member, allowed

    reader = Actor(1, "rita", 1, "Ville A", "reader")
    private_b = Collection("rh", "private", 2, "Ville B")
    d = allowed(reader, "read", private_b)
    assert not d and "private to Ville B" in d.reason
    d = allowed(reader, "contribute", Collection("guides", "shared", None, None))
    assert (
        not d and d.reason == "adding documents needs the role contributor or above; rita is reader"
    )
    assert allowed(reader, "usage", Member("Ville A", 1))
    assert not allowed(reader, "usage", Member("Ville B", 2))
    with pytest.raises(ValueError, match="unknown action"):
        allowed(reader, "fly", private_b)


# Who may make which collection what (policy.can_share): (role, collection, visibility, owner
# named) -> allowed. Ville A's people act; "a" is Ville A's, "b" Ville B's, "coop" nobody's.
SHARES = {
    ("curator", "a-private", "shared", None): False,  # below member-admin
    ("member-admin", "a-private", "shared", None): True,
    ("member-admin", "a-shared", "private", None): True,
    ("member-admin", "a-private", "public", None): False,  # public: a cooperative admin's
    ("member-admin", "a-private", "shared", "Ville A"): True,  # its owner named again
    ("member-admin", "a-private", "shared", "Ville B"): False,  # handing it over: operator's
    ("member-admin", "coop", "public", None): False,  # the cooperative's: its admins'
    ("member-admin", "b-shared", "private", None): False,  # another member's
    ("member-admin", "b-private", "shared", None): False,  # not even seen
    ("cooperative-admin", "a-private", "public", None): True,
    ("cooperative-admin", "coop", "public", None): True,
    ("cooperative-admin", "b-shared", "public", None): False,  # another member's, still
    ("cooperative-admin", "b-private", "shared", None): False,
    ("operator", "b-private", "public", "Ville A"): True,
}


@pytest.mark.parametrize("case", list(SHARES), ids=lambda c: "-".join(x or "_" for x in c))
def test_who_may_change_who_reads_a_collection(case):
    from commune.govern.policy import OPERATOR, Actor, Collection, Sharing, allowed

    role, name, visibility, owner = case
    collections = {
        "a-private": Collection("a-private", "private", 1, "Ville A"),
        "a-shared": Collection("a-shared", "shared", 1, "Ville A"),
        "b-private": Collection("b-private", "private", 2, "Ville B"),
        "b-shared": Collection("b-shared", "shared", 2, "Ville B"),
        "coop": Collection("coop", "shared", None, None),
    }
    actor = OPERATOR if role == "operator" else Actor(7, "ana", 1, "Ville A", role)
    decision = allowed(actor, "share", Sharing(collections[name], visibility, owner))
    assert bool(decision) is SHARES[case], decision.reason
    assert decision.reason  # every answer says why
