"""One permission check, `allowed(actor, action, resource)`, behind every route and command:
a matrix over every role, on each route and on the commands that act for a user (--as)."""

from __future__ import annotations

import html
import re

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from commune.cli import cli
from commune.govern.policy import ROLES
from tests.conftest import PASSWORD, make_key

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


def csrf(browser, path: str) -> str:  # type: ignore[no-untyped-def]
    """The CSRF token of the form on ``path``, as a browser reads it."""
    found = re.search(r'name="csrf" value="([^"]+)"', browser.get(path).text)
    assert found, path
    return found.group(1)


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


def test_a_cooperative_admin_gives_no_key_nor_password_to_another_members_people(coop):
    """A key or a password acts as its person. A cooperative admin of Ville A minted a key for
    Ville B's curator (the /admin page's key form) and read Ville B's private collections
    with it, private even to cooperative admins (docs/cooperative.md); or added a person to
    Ville B with a password of their choosing, and signed in as them."""
    from commune.errors import Forbidden
    from commune.govern.accounts import set_password
    from commune.govern.members import add_user, authenticate

    c, client, keys = coop
    with c.engine.begin() as conn:
        boss = authenticate(conn, keys["cooperative-admin"])
        add_user(conn, "bea", "Ville B", "reader")
        set_password(conn, boss.user, PASSWORD)
    refused = f"a key or a password acts as its person: {boss.user} would read the private"
    with pytest.raises(Forbidden, match=refused):
        c.admin.create_key("bob", actor=boss)
    with pytest.raises(Forbidden, match=refused):
        c.admin.set_password("bea", PASSWORD, actor=boss)
    with pytest.raises(Forbidden, match=refused):
        c.admin.add_user("spy", member="Ville B", actor=boss, password=PASSWORD)
    # The web's forms, the same refusal in French; nothing made.
    made = len(c.admin.keys())
    web = TestClient(client.app, base_url="https://testserver", follow_redirects=False)
    web.post(
        "/signin", data={"user": boss.user, "password": PASSWORD, "csrf": csrf(web, "/signin")}
    )
    token = csrf(web, "/admin")
    r = web.post("/keys", data={"csrf": token, "user": "bob", "back": "admin"})
    assert r.status_code == 403 and 'id="new-key"' not in r.text
    assert "Une clé ou un mot de passe agit comme sa personne" in html.unescape(r.text)
    fields = {"csrf": token, "name": "spy", "member": "Ville B", "password": PASSWORD}
    assert web.post("/admin/users", data=fields).status_code == 403
    assert not c.admin.user_exists("spy") and len(c.admin.keys()) == made
    # Administering Ville B's people still allows what gives no access: adding one without a
    # password, revoking their key; and keys for their own member's people.
    c.admin.add_user("bruno", member="Ville B", actor=boss)
    c.admin.revoke_key(next(k["id"] for k in c.admin.keys() if k["user"] == "bob"), actor=boss)
    c.admin.create_key("reader-a", actor=boss)
    # Ville B's own admin gives them keys and passwords, as before.
    with c.engine.begin() as conn:
        add_user(conn, "bmin", "Ville B", "member-admin")
    c.admin.create_key("bea", actor=c.admin.actor("bmin"))
    c.admin.set_password("bea", PASSWORD, actor=c.admin.actor("bmin"))
