"""One permission check, `allowed(actor, action, resource)`, behind every route and command:
a matrix over every role, on each route and on the commands that act for a user (--as).

The app's route table is walked (ROUTE_ACCESS): a route without a decision there fails; each
route is called as anonymous, every role and a peer cooperative, with its security headers
checked; every web form is sent without its CSRF token; and every route is pointed at another
member's private documents, which no answer may show."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from commune.cli import cli
from commune.govern.policy import ROLES
from tests.conftest import PASSWORD, make_key, make_person

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
    # The page's key form offers only the people it would give one to.
    offered = re.search(r'<select id="key-user".*?</select>', web.get("/admin").text, re.S)
    assert offered and "reader-a" in offered.group(0) and "bob" not in offered.group(0)
    fields = {"csrf": token, "user": "bob", "back": "admin", "password": PASSWORD}
    r = web.post("/keys", data=fields)
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
    # A member just added has no admin to give its first one credentials: the refusal says
    # the operator does (it named "the admins of Ville D", who did not exist yet).
    c.admin.add_member("Ville D", actor=boss)
    with pytest.raises(Forbidden) as refusal:
        c.admin.add_user(
            "dina", member="Ville D", role="member-admin", actor=boss, password=PASSWORD
        )
    assert refusal.value.hint == (
        "Ville D has no admin yet: the operator gives its first one a password or a key "
        "(commune user password, commune key create)"
    )
    fields = {"csrf": token, "name": "dina", "member": "Ville D", "password": PASSWORD}
    fields["role"] = "member-admin"
    r = web.post("/admin/users", data=fields)
    assert r.status_code == 403
    assert (
        "Ville D n'a pas encore d'administrateur\u00a0: demandez à l'opérateur de donner "
        "au premier un mot de passe ou une clé"
    ) in html.unescape(r.text)
    assert not c.admin.user_exists("dina")
    # Ville B's own admin gives them keys and passwords, as before.
    with c.engine.begin() as conn:
        add_user(conn, "bmin", "Ville B", "member-admin")
    c.admin.create_key("bea", actor=c.admin.actor("bmin"))
    c.admin.set_password("bea", PASSWORD, actor=c.admin.actor("bmin"))


# -- The route table, walked ---------------------------------------------------------------
# Every route of the app and who may reach it: "public" (anyone), "key" (an API key of a
# member's person), "peer" (a peer cooperative's key: /peer/ only), "session" (a signed-in
# person), "local" (this machine, straight: /metrics), each with the least role that passes
# the route's own gate (the library then decides per collection, member or person). A route
# added without its line here fails test_every_route_has_a_permission_decision: decide who
# may reach it, then add it.
PUBLIC, KEY, PEER, SESSION, LOCAL = "public", "key", "peer", "session", "local"
ROUTE_ACCESS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/openapi.json"): (PUBLIC, "reader"),
    ("GET", "/docs"): (PUBLIC, "reader"),
    ("GET", "/healthz"): (PUBLIC, "reader"),
    ("GET", "/metrics"): (LOCAL, "reader"),
    ("POST", "/api/search"): (KEY, "reader"),
    ("POST", "/api/search/federated"): (KEY, "reader"),
    ("POST", "/api/ask"): (KEY, "reader"),
    ("POST", "/api/ask/stream"): (KEY, "reader"),
    ("GET", "/api/documents"): (KEY, "reader"),
    ("POST", "/api/documents"): (KEY, "contributor"),
    ("GET", "/api/collections"): (KEY, "reader"),
    # One's own, whatever one's role now: nobody else's (test_upload's).
    ("GET", "/api/contributions"): (KEY, "reader"),
    ("GET", "/api/usage"): (KEY, "reader"),
    ("POST", "/api/users/{name}/remove"): (KEY, "member-admin"),
    ("POST", "/api/users/{name}/password"): (KEY, "member-admin"),
    ("GET", "/v1/models"): (KEY, "reader"),
    ("GET", "/v1/models/{model:path}"): (KEY, "reader"),
    ("POST", "/v1/embeddings"): (KEY, "reader"),
    ("POST", "/v1/chat/completions"): (KEY, "reader"),
    ("POST", "/v1/completions"): (KEY, "reader"),
    ("GET", "/peer/catalogue"): (PUBLIC, "reader"),
    ("POST", "/peer/search"): (PEER, "reader"),
    ("POST", "/peer/cited"): (PEER, "reader"),
    ("POST", "/peer/retired"): (PEER, "reader"),
    ("GET", "/mcp"): (KEY, "reader"),
    ("POST", "/mcp"): (KEY, "reader"),
    ("DELETE", "/mcp"): (KEY, "reader"),
    ("GET", "/transparency.json"): (PUBLIC, "reader"),
    ("GET", "/transparency/bom.json"): (PUBLIC, "reader"),
    ("GET", "/transparency/sovereignty.json"): (PUBLIC, "reader"),
    ("GET", "/transparency"): (PUBLIC, "reader"),
    ("GET", "/signin"): (PUBLIC, "reader"),
    ("POST", "/signin"): (PUBLIC, "reader"),
    ("POST", "/language"): (PUBLIC, "reader"),
    ("POST", "/signout"): (PUBLIC, "reader"),  # signed out already: nothing to end
    ("GET", "/"): (SESSION, "reader"),
    ("POST", "/ask"): (SESSION, "reader"),
    ("POST", "/ask/stream"): (SESSION, "reader"),
    ("GET", "/commons"): (SESSION, "reader"),
    ("GET", "/documents/{document_id}"): (SESSION, "reader"),
    ("POST", "/documents/{document_id}/retire"): (SESSION, "curator"),
    ("POST", "/documents/{document_id}/reinstate"): (SESSION, "curator"),
    ("GET", "/contribute"): (SESSION, "contributor"),
    ("POST", "/contribute"): (SESSION, "contributor"),
    ("GET", "/curation"): (SESSION, "curator"),
    ("GET", "/curation/{revision_id}"): (SESSION, "curator"),
    ("POST", "/curation/{revision_id}"): (SESSION, "curator"),
    ("GET", "/dashboard"): (SESSION, "reader"),
    ("GET", "/statement"): (SESSION, "member-admin"),
    ("GET", "/statement.csv"): (SESSION, "member-admin"),
    ("GET", "/payouts"): (SESSION, "cooperative-admin"),
    ("GET", "/payouts.csv"): (SESSION, "cooperative-admin"),
    ("GET", "/account"): (SESSION, "reader"),
    ("POST", "/account/password"): (SESSION, "reader"),
    ("POST", "/account/payout"): (SESSION, "reader"),
    ("POST", "/keys"): (SESSION, "reader"),
    ("POST", "/keys/{key_id}/revoke"): (SESSION, "reader"),
    ("GET", "/admin"): (SESSION, "member-admin"),
    ("POST", "/admin/members"): (SESSION, "cooperative-admin"),
    # A departure stops a member's share of the cost: the cooperative's call, as adding one.
    ("POST", "/admin/members/leave"): (SESSION, "cooperative-admin"),
    ("POST", "/admin/members/stay"): (SESSION, "cooperative-admin"),
    # Any contributor's payout choice: the cooperative's admins, as payouts.may_choose says.
    ("POST", "/admin/payouts"): (SESSION, "cooperative-admin"),
    ("POST", "/admin/users"): (SESSION, "member-admin"),
    ("POST", "/admin/roles"): (SESSION, "member-admin"),
    ("POST", "/admin/users/remove"): (SESSION, "member-admin"),
    ("POST", "/admin/users/password"): (SESSION, "member-admin"),
    ("POST", "/admin/users/caps"): (SESSION, "member-admin"),
    ("POST", "/admin/collections/visibility"): (SESSION, "member-admin"),
    ("POST", "/admin/collections/rules"): (SESSION, "member-admin"),
    # Peering binds the whole cooperative: its admins decide it (peering/registry.may).
    ("POST", "/admin/collections/peers"): (SESSION, "cooperative-admin"),
}
# What each route is sent, so that a caller it lets through is not stopped by a missing
# field first: Ville A's own or shared things (the library's own refusals for another
# member's are test_no_route_shows_another_members_private_documents's).
QUESTION = "Quand ouvre la piscine ?"
SENT: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/search"): {"json": {"query": "piscine"}},
    ("POST", "/api/search/federated"): {"json": {"query": "piscine"}},
    ("POST", "/api/ask"): {"json": {"question": QUESTION}},
    ("POST", "/api/ask/stream"): {"json": {"question": QUESTION}},
    ("POST", "/api/documents"): {
        "files": {"files": ("note.txt", b"Le marche a lieu le samedi matin.", "text/plain")},
        "data": {"collection": "shared", "licence": "etalab-2.0"},
    },
    ("POST", "/api/users/{name}/remove"): {"json": {"reason": "parti"}},
    # Too short: refused once through the gate, nothing set.
    ("POST", "/api/users/{name}/password"): {
        "json": {"password": "court", "your_password": PASSWORD}
    },
    ("POST", "/v1/embeddings"): {"json": {"model": "use-multilingual-v3", "input": "verre"}},
    ("POST", "/v1/chat/completions"): {
        "json": {"model": "extractive", "messages": [{"role": "user", "content": QUESTION}]}
    },
    ("POST", "/v1/completions"): {"json": {"model": "extractive", "prompt": QUESTION}},
    ("POST", "/peer/search"): {"json": {"query": "piscine"}},
    ("POST", "/peer/cited"): {"json": {"cited": {}}},
    ("POST", "/peer/retired"): {"json": {}},
    ("POST", "/mcp"): {"json": {"jsonrpc": "2.0", "id": 1, "method": "ping"}},
    ("POST", "/signin"): {"data": {"user": "reader-a", "password": PASSWORD}},
    ("POST", "/language"): {"data": {"language": "en", "next": "/"}},
    ("POST", "/ask"): {"data": {"question": QUESTION}},
    ("POST", "/ask/stream"): {"data": {"question": QUESTION}},
    ("POST", "/contribute"): {
        "files": {"files": ("note.txt", b"Le marche a lieu le samedi matin.", "text/plain")},
        "data": {"collection": "shared", "licence": "etalab-2.0"},
    },
    ("POST", "/curation/{revision_id}"): {"data": {"decision": "approve", "reason": "ok"}},
    # No reason: a curator is told to give one in the form, and nothing is retired.
    ("POST", "/documents/{document_id}/retire"): {"data": {"category": "other"}},
    # No reason either: a curator is told to give one, and nothing is reinstated.
    ("POST", "/documents/{document_id}/reinstate"): {"data": {}},
    ("POST", "/account/password"): {"data": {"current": PASSWORD, "new": "court"}},
    ("POST", "/account/payout"): {"data": {"choice": "waive"}},
    ("POST", "/keys"): {"data": {"label": "script", "password": PASSWORD}},
    ("POST", "/admin/members"): {"data": {"name": " "}},
    # A day that is none: refused in the form, nothing recorded.
    ("POST", "/admin/members/leave"): {"data": {"member": "Ville A", "on": "2026-02-30"}},
    ("POST", "/admin/members/stay"): {"data": {"member": "Ville A"}},  # no departure to undo
    ("POST", "/admin/payouts"): {"data": {"contributor": "Personne", "choice": "waive"}},
    ("POST", "/admin/users"): {"data": {"name": "", "member": "Ville A"}},
    ("POST", "/admin/roles"): {"data": {"user": "reader-a", "role": "reader"}},
    ("POST", "/admin/users/remove"): {"data": {"user": "reader-a", "reason": ""}},
    ("POST", "/admin/users/password"): {
        "data": {"user": "reader-a", "password": "court", "yours": PASSWORD}
    },
    ("POST", "/admin/users/caps"): {"data": {"user": "reader-a", "requests_per_day": "x"}},
    ("POST", "/admin/collections/visibility"): {
        "data": {"collection": "privee-a", "visibility": "private"}
    },
    ("POST", "/admin/collections/rules"): {
        "data": {"collection": "privee-a", "approvals": "0", "role": "curator"}
    },
    # A private collection: refused to everyone, the cooperative's admins by the library.
    ("POST", "/admin/collections/peers"): {"data": {"collection": "privee-a"}},
}
# Whose secrets test_no_route_shows_another_members_private_documents hunts for.
SECRET = "Le budget confidentiel de Ville B prévoit de fermer la piscine olympique en mars."
PENDING = "Projet de délibération réservé : Ville B cède le gymnase à une entreprise."
# Anonymous, a person of each role (a key and a session), a reader's key alone (no session:
# no page opens with it), and a peer cooperative's key.
CALLERS = ("anonymous", *ROLES, "key alone", "peer")


def route_table(app) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every (method, path) the app answers, from its router (mounts of static files
    aside: they serve the package's own files)."""
    from fastapi.routing import iter_route_contexts

    return {
        (method, route.path)
        for route in iter_route_contexts(app.routes)
        for method in route.methods or ()
        if method != "HEAD"  # a GET's
    }


@pytest.fixture
def town(home, corpus, tmp_path):  # type: ignore[no-untyped-def]
    """Two members, each with a person of every member role and a private collection, a
    cooperative admin of Ville A, a shared collection, a peer cooperative; Ville B's private
    collection holds a document and a revision waiting for its curators; /metrics is on."""
    from commune.api.app import create_app
    from commune.core import Commune
    from commune.govern.members import add_member, authenticate

    (home).mkdir(parents=True, exist_ok=True)
    (home / "commune.toml").write_text("[metrics]\nenabled = true\n", encoding="utf-8")
    c = Commune(home)
    with c.engine.begin() as conn:
        add_member(conn, "Ville A", "town")
        add_member(conn, "Ville B", "town")
    c.add([corpus / "pool.txt"], collection="shared", licence="etalab-2.0")
    c.add([corpus / "dechets.html"], collection="privee-a", licence="etalab-2.0", member="Ville A")
    secret = tmp_path / "budget-b.txt"
    secret.write_text(SECRET, encoding="utf-8")
    c.add([secret], collection="privee-b", licence="etalab-2.0", member="Ville B")
    keys = {}
    for town, member in (("a", "Ville A"), ("b", "Ville B")):
        for role in ROLES[:-1]:
            keys[f"{role}-{town}"] = make_person(c, f"{role}-{town}", member, role)
    keys["cooperative-admin-a"] = make_person(c, "cooperative-admin-a", "Ville A", ROLES[-1])
    keys["peer"] = c.admin.issue_peer("Coop Voisine")[1]
    c.set_curation_rules("privee-b", 1, "curator")
    waiting = tmp_path / "gymnase-b.txt"
    waiting.write_text(PENDING, encoding="utf-8")
    with c.engine.connect() as conn:
        contributor_b = authenticate(conn, keys["contributor-b"])
    c.add([waiting], collection="privee-b", licence="etalab-2.0", actor=contributor_b)
    app = create_app(c)
    yield c, app, keys
    c.close()


def caller(c, app, keys, who: str):  # type: ignore[no-untyped-def]
    """A client as ``who``: their key on every request and, for a member's person, a
    session of their own (its CSRF token returned); anonymous has a pre-sign-in token."""
    from fastapi.testclient import TestClient

    from commune.govern.members import authenticate
    from commune.web import sessions

    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    if who != "anonymous":
        name = {"peer": "peer", "key alone": "reader-a"}.get(who, f"{who}-a")
        client.headers["Authorization"] = f"Bearer {keys[name]}"
    if who in ("anonymous", "key alone", "peer"):  # no session: the sign-in page's token
        client.cookies.set(sessions.HOST_PREFIX + sessions.CSRF_COOKIE, "signed-out-token")
        return client, "signed-out-token"
    with c.engine.connect() as conn:
        actor = authenticate(conn, keys[name])
    token = app.state.web_sessions.open(actor, 1.0)
    client.cookies.set(sessions.HOST_PREFIX + sessions.COOKIE, token)  # over https
    return client, app.state.web_sessions.find(token).csrf


def send(client, method: str, path: str, csrf: str, sent: dict[str, Any]):  # type: ignore[no-untyped-def]
    kw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in sent.items()}
    if method == "POST" and "json" not in kw and not path.startswith(("/api/", "/v1/", "/peer/")):
        kw.setdefault("data", {})["csrf"] = csrf  # a web form carries its token
    return client.request(method, path, **kw)


def test_every_route_has_a_permission_decision(town):
    _, app, _ = town
    routes = route_table(app)
    assert routes - set(ROUTE_ACCESS) == set(), "a route without its line in ROUTE_ACCESS"
    assert set(ROUTE_ACCESS) - routes == set(), "ROUTE_ACCESS names a route the app lacks"


def test_every_route_for_every_caller_as_its_table_says(town):
    """Walk the route table as anonymous, each role and a peer: who gets through each
    route's gate is what ROUTE_ACCESS says, and every answer carries the security headers."""
    c, app, keys = town
    spare = c.admin.create_key("reader-a", label="spare")[0]  # the one revoked
    own_revision = c.pending()[0]["id"]  # Ville B's: curators of Ville A get 404, not 403
    values = {"{name}": "nobody-here", "{document_id}": "1", "{revision_id}": str(own_revision)}
    values["{model:path}"] = "extractive"
    values["{key_id}"] = str(spare)
    clients = {who: caller(c, app, keys, who) for who in CALLERS}
    wrong = []
    for (method, path), (access, least) in sorted(ROUTE_ACCESS.items()):
        address = path
        for name, value in values.items():
            address = address.replace(name, value)
        for who in CALLERS:
            if (method, path) == ("POST", "/signout"):
                clients[who] = caller(c, app, keys, who)  # each its own session to end
            client, csrf = clients[who]
            r = send(client, method, address, csrf, SENT.get((method, path), {}))
            if path in ("/signin", "/signout"):  # signed in as reader-a, or signed out
                clients[who] = caller(c, app, keys, who)
            signin = r.status_code == 303 and r.headers["location"].startswith("/signin?")
            through = r.status_code not in (401, 403) and not signin
            person = who in ROLES
            expected = {
                PUBLIC: True,
                KEY: (person and RANK[who] >= RANK[least])
                or (who, least) == ("key alone", "reader"),
                SESSION: person and RANK[who] >= RANK[least],
                PEER: who == "peer",
                LOCAL: False,  # the test client is not this machine's loopback
            }[access]
            if through != expected:
                wrong.append(f"{who} {method} {address}: {r.status_code} {r.text[:120]}")
            # Signed out, a page sends to the sign-in page; a key route says 401.
            if who == "anonymous" and access == SESSION:
                assert signin, (method, path, r.status_code)
            if who == "anonymous" and access in (KEY, PEER):
                assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
            # /mcp answers 503 until its session manager runs (the app's lifespan, not run
            # here: test_mcp.py serves it).
            assert r.status_code < 500 or path == "/mcp", (who, method, address, r.text[:300])
            assert r.headers["x-content-type-options"] == "nosniff", (method, path)
            assert r.headers["x-frame-options"] == "DENY", (method, path)
            assert r.headers["referrer-policy"] == "no-referrer", (method, path)
            if path not in ("/docs", "/metrics"):  # Swagger's own inline script
                assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
            if r.headers.get("content-type", "").startswith("text/html") and access == SESSION:
                # A signed-in page shows private data (a key once): never kept in a cache.
                assert r.headers.get("cache-control") == "no-store", (who, method, path)
    assert wrong == []


def test_every_form_needs_its_csrf_token(town):
    """Every web form (every POST outside the API) sent without this session's token, or
    with another's, is refused and changes nothing: the audit log, people, keys, documents
    and sessions stay as they were."""
    from sqlalchemy import func, select

    from commune.store.schema import api_keys, audit_log, documents, users, web_sessions

    c, app, keys = town
    forms = sorted(
        (m, p)
        for m, p in route_table(app)
        if m == "POST" and not p.startswith(("/api/", "/v1/", "/peer/", "/mcp"))
    )
    assert len(forms) >= 15
    boss, _ = caller(c, app, keys, "cooperative-admin")
    _, another_sessions = caller(c, app, keys, "reader")

    def state() -> list[int]:
        with c.engine.connect() as conn:
            return [
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (audit_log, users, api_keys, documents, web_sessions)
            ] + [
                conn.execute(
                    select(func.count())
                    .select_from(web_sessions)
                    .where(web_sessions.c.ended_at.is_(None))
                ).scalar_one()
            ]

    before = state()
    values = {"{revision_id}": str(c.pending()[0]["id"]), "{key_id}": "1", "{document_id}": "1"}
    for method, path in forms:
        address = path
        for name, value in values.items():
            address = address.replace(name, value)
        sent = SENT.get((method, path), {})
        for token in (None, "forged", another_sessions):
            data = dict(sent.get("data", {}), **({"csrf": token} if token else {}))
            r = boss.request(method, address, data=data, files=sent.get("files"))
            assert r.status_code == 403, (path, token, r.status_code)
            assert "formulaire a expiré" in html.unescape(r.text), path
    assert state() == before


def test_no_route_shows_another_members_private_documents(town):
    """Every route, as anyone but Ville B's people, pointed at Ville B's private things: its
    document's id, its waiting revision, its people and keys, its collection and member by
    name, a question its document answers. No answer, source, listing, page, error, export
    or metric shows a word of Ville B's private document or of its waiting revision."""
    c, app, keys = town
    theirs = next(d for d in c.documents() if d["title"].startswith("Le budget"))
    their_key = next(k["id"] for k in c.admin.keys() if k["user"] == "reader-b")
    values = {
        "{document_id}": str(theirs["id"]),
        "{revision_id}": str(c.pending()[0]["id"]),
        "{key_id}": str(their_key),
        "{name}": "reader-b",
    }
    question = "Quand la piscine olympique ferme-t-elle ?"
    query = {"collection": "privee-b", "member": "Ville B", "q": "piscine olympique"}
    body = {
        "query": question,
        "question": question,
        "model": "extractive",
        "messages": [{"role": "user", "content": question}],
        "prompt": question,
        "input": question,
        "reason": "curiosité",
        "cited": {},
    }
    form = {
        "question": question,
        "decision": "approve",
        "reason": "ok",
        "user": "reader-b",
        "member": "Ville B",
        "visibility": "shared",
        "label": "x",
    }
    # Ville B's reader asks first: the answer, from its private document, is in the cache.
    theirs_asked = TestClient(app, headers={"Authorization": f"Bearer {keys['reader-b']}"})
    said = theirs_asked.post("/api/ask", json={"question": question}).text.lower()
    assert "confidentiel" in said
    # Words of Ville B's private texts and of their file names that no request here sends.
    hidden = ("confidentiel", "gymnase", "délibération", "budget-b", "fermer la piscine")
    shown = []
    # Named, Ville B's collection is refused as absent; unnamed, every collection one reads
    # is searched and answered from, which must leave Ville B's out.
    for collection in ("privee-b", None):
        fields = {"collection": collection} if collection else {}
        for who in CALLERS:
            for method, path in sorted(ROUTE_ACCESS):
                client, csrf = caller(c, app, keys, who)  # a session anew: /signout ends one
                address = path
                for name, value in values.items():
                    address = address.replace(name, value)
                if path.startswith(("/api/", "/v1/", "/peer/", "/mcp")):
                    sent: dict[str, Any] = {"json": body | fields} if method == "POST" else {}
                    if path.startswith("/api/ask"):  # its model is the charter's choice
                        sent["json"] = {k: v for k, v in sent["json"].items() if k != "model"}
                else:
                    sent = {"data": form | fields} if method == "POST" else {}
                if path == "/api/documents" and method == "POST":
                    upload = ("n.txt", b"Une note de plus sur la piscine.", "text/plain")
                    sent = {"files": {"files": upload}, "data": {"collection": "privee-b"}}
                asked = {k: v for k, v in query.items() if k != "collection"} | fields
                r = send(client, method, address, csrf, sent | {"params": asked})
                text = html.unescape(r.text).lower()
                shown += [f"{who} {method} {address}: {w}" for w in hidden if w in text]
    assert shown == []


def test_a_reader_is_offered_no_contribution_form(town):
    """docs/web.md: /contribute is for contributors and above. A reader was shown the link
    and the whole form, chose files, sent them (up to [limits] max_upload_mb), and only then
    read that adding documents needs the role contributor."""
    c, app, keys = town
    reader, csrf = caller(c, app, keys, "reader")
    assert 'href="/contribute"' not in reader.get("/").text
    r = reader.get("/contribute")
    said = html.unescape(r.text)
    assert r.status_code == 403 and "Contribuer est réservé aux contributeurs" in said
    assert "ajouter des documents demande le rôle contributeur ou plus" in said
    upload = {"files": ("note.txt", b"Le marche a lieu le samedi matin.", "text/plain")}
    fields = {"csrf": csrf, "collection": "shared", "licence": "etalab-2.0"}
    before = len(c.documents())
    assert reader.post("/contribute", data=fields, files=upload).status_code == 403
    assert len(c.documents()) == before
    contributor, _ = caller(c, app, keys, "contributor")
    assert 'href="/contribute"' in contributor.get("/").text
    assert contributor.get("/contribute").status_code == 200


def test_a_curator_lists_what_waits_only_in_the_collections_they_curate(town):
    """The curation queue shows a curator what waits in the collections they curate only
    (curation.curatable); the document listings showed it by the role alone: a curator of
    Ville A listed, in Ville B's shared collection, the document waiting for Ville B's
    curators, its unpublished title and its contributor, on /api/documents and /commons."""
    c, app, keys = town
    c.set_visibility("privee-b", "shared")  # read by Ville A's people, curated by Ville B's
    theirs = {"collection": "privee-b"}
    for who in ("curator", "member-admin", "reader"):
        client, _ = caller(c, app, keys, who)  # Ville A's, with a key and a session
        listed = client.get("/api/documents", params=theirs).json()
        assert [d["status"] for d in listed] == ["published"], who
        assert "gymnase" not in json.dumps(listed), who
        page = html.unescape(client.get("/commons", params=theirs).text)
        assert "Le budget confidentiel" in page and "gymnase" not in page, who
    # Ville B's curator, who reviews it, lists it as before.
    mine = TestClient(app, headers={"Authorization": f"Bearer {keys['curator-b']}"})
    listed = mine.get("/api/documents", params=theirs).json()
    assert sorted(d["status"] for d in listed) == ["proposed", "published"]
    assert "gymnase" in json.dumps(listed)
