"""A refusal says whom to ask. A 403 page or API refusal said what was refused ("administering
people needs the role member-admin or above; bob is reader") and not whom to ask, so a town's
clerk asked the operator for what their member's admins give. Each refusal of the policy now
carries whom to ask (policy.ASKS): the member's admins for a member's matter, a cooperative
admin or the operator for the cooperative's, the operator for what only the host does; in
roles, never a person's name, on one line, in the reader's language."""

from __future__ import annotations

import html
import itertools
import re

import pytest
from fastapi.testclient import TestClient

from commune.errors import Forbidden
from tests.conftest import EN, PASSWORD, make_person

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def test_every_refusal_of_the_policy_says_whom_to_ask():
    from commune.govern.policy import (
        ACTIONS,
        ASK_COOPERATIVE,
        ASK_MEMBER,
        ASK_OPERATOR,
        ASK_OWNER,
        ASKS,
        COOPERATIVE,
        ROLES,
        Actor,
        Collection,
        Member,
        Role,
        Sharing,
        allowed,
    )

    actors = [Actor(i, f"u{i}", 1, "Ville A", role) for i, role in enumerate(ROLES)]
    resources = [
        COOPERATIVE,
        Member("Ville A", 1),
        Member("Ville B", 2),
        *(Role(r) for r in ROLES),
        *(
            Collection(name, visibility, owner_id, owner)
            for name, owner_id, owner in (
                ("a", 1, "Ville A"),
                ("b", 2, "Ville B"),
                ("c", None, None),
            )
            for visibility in ("private", "shared", "public")
        ),
    ]
    resources += [
        Sharing(c, v, owner)
        for c in resources
        if isinstance(c, Collection)
        for v in ("private", "public")
        for owner in (None, "Ville C")
    ]
    refusals = 0
    for actor, action, resource in itertools.product(actors, ACTIONS, resources):
        if isinstance(resource, Sharing) != (action == "share"):
            continue
        decision = allowed(actor, action, resource)
        if not decision:
            refusals += 1
            assert decision.ask in ASKS, (actor.role, action, resource, decision)
    assert refusals > 100
    # What each sends to: the member's own matters to its admins, the cooperative's and
    # another member's records to the cooperative's admins, a collection of another member
    # to its own admins, issuing a month to the operator.
    reader, admin = actors[0], actors[3]
    assert allowed(reader, "administer", Member("Ville A", 1)).ask == ASK_MEMBER
    assert allowed(reader, "contribute", Collection("a", "shared", 1, "Ville A")).ask == (
        ASK_MEMBER
    )
    assert allowed(admin, "administer", COOPERATIVE).ask == ASK_COOPERATIVE
    assert allowed(admin, "usage", Member("Ville B", 2)).ask == ASK_COOPERATIVE
    assert allowed(admin, "rules", Collection("b", "shared", 2, "Ville B")).ask == ASK_OWNER
    assert allowed(actors[4], "issue", COOPERATIVE).ask == ASK_OPERATOR
    assert allowed(admin, "grant", Role("cooperative-admin")).ask == ASK_OPERATOR


def test_the_library_s_refusal_ends_with_whom_to_ask(commune):
    make_person(commune, "mona", "Ville A", "member-admin")
    with pytest.raises(Forbidden) as refused:
        commune.admin.add_member("Ville Z", actor=commune.admin.actor("mona"))
    assert str(refused.value) == (
        "administering the cooperative needs the role cooperative-admin or above; mona is "
        "member-admin (ask a cooperative admin or the operator)"
    )


@pytest.fixture
def app(commune):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    keys = {
        "alice": make_person(commune, "alice", "Ville A", "member-admin"),
        "bob": make_person(commune, "bob", "Ville A", "reader"),
        "mona": make_person(commune, "mona", "Ville B", "member-admin"),
        "zoe": make_person(commune, "zoe", "Ville A", "cooperative-admin"),
    }
    app = create_app(commune)
    app.state.keys = keys
    return app


def test_an_api_refusal_says_whom_to_ask_without_naming_them(app):
    api = TestClient(app, base_url="https://testserver")
    bob = {"Authorization": f"Bearer {app.state.keys['bob']}"}
    r = api.post("/api/users/carl/remove", json={"reason": "x"}, headers=bob)
    assert r.status_code == 403
    assert r.json()["detail"] == (
        "administrer des personnes demande le rôle administrateur de membre ou au-dessus\u00a0; "
        "bob est lecteur (demandez aux administrateurs de votre membre)"
    )
    r = api.post("/api/users/carl/remove", json={"reason": "x"}, headers=bob | EN)
    detail = r.json()["detail"]
    assert detail.endswith("bob is reader (ask your member's admins)"), detail
    # One line, and nobody named but the asker: not Ville A's admins alice and zoe.
    assert "\n" not in detail and "alice" not in detail and "zoe" not in detail


def signed_in(app, user: str) -> tuple[TestClient, str]:  # type: ignore[no-untyped-def]
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    csrf = CSRF.search(client.get("/signin").text).group(1)
    r = client.post("/signin", data={"user": user, "password": PASSWORD, "csrf": csrf})
    assert r.status_code == 303
    return client, csrf


def main(r) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(r.text.split("<main", 1)[1].split("</main>")[0])


def test_a_403_page_says_whom_to_ask_in_the_reader_s_language(app):
    bob, _ = signed_in(app, "bob")
    r = bob.get("/admin")
    said = main(r)
    assert r.status_code == 403
    assert "Demandez aux administrateurs de votre membre." in said, said
    assert "alice" not in said and "zoe" not in said
    english = main(bob.get("/admin", headers=EN))
    assert "Ask your member's admins." in english, english
    # A member admin refused the cooperative's payouts: its admins, or the operator.
    mona, _ = signed_in(app, "mona")
    said = main(mona.get("/payouts"))
    assert "Demandez à un administrateur de la coopérative ou à l'opérateur." in said, said
    assert "zoe" not in said


def test_a_collection_made_public_is_asked_of_a_cooperative_admin_of_its_own_member(app):
    """Making a member's collection public is a cooperative admin's, of that member
    (policy.can_share): a member admin of Ville A refused it was told "ask a cooperative
    admin or the operator", and Ville B's cooperative admin, so asked, was refused in turn."""
    from commune.store import repository as repo

    commune = app.state.commune
    make_person(commune, "yan", "Ville B", "cooperative-admin")
    with commune.engine.begin() as conn:
        repo.collection_id(conn, "deliberations", create=True)
    commune.set_visibility("deliberations", "shared", member="Ville A")
    with pytest.raises(Forbidden) as refused:
        commune.set_visibility("deliberations", "public", actor=commune.admin.actor("alice"))
    assert str(refused.value).endswith("(ask a cooperative admin of your member, or the operator)")
    # Whom it names may do it: Ville A's cooperative admin, not Ville B's.
    with pytest.raises(Forbidden):
        commune.set_visibility("deliberations", "public", actor=commune.admin.actor("yan"))
    # On the administration page, in French.
    alice, _ = signed_in(app, "alice")
    csrf = CSRF.search(alice.get("/admin").text).group(1)
    r = alice.post(
        "/admin/collections/visibility",
        data={"collection": "deliberations", "visibility": "public", "csrf": csrf},
    )
    assert r.status_code == 403
    said = html.unescape(r.text)
    assert "demandez à un administrateur de la coopérative issu de votre membre, ou à " in said
    assert "demandez à un administrateur de la coopérative ou à l'opérateur" not in said
    commune.set_visibility("deliberations", "public", actor=commune.admin.actor("zoe"))
