"""Removing a person through the API (POST /api/users/{name}/remove): the same library call
as `commune user remove` and the administration page, and a removed person's key is refused
at once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from commune.api.app import create_app
from tests.conftest import EN, make_key


@pytest.fixture
def keys(commune):  # type: ignore[no-untyped-def]
    return {
        "alice": make_key(commune, "alice", "Ville A", "member-admin"),
        "bob": make_key(commune, "bob", "Ville A", "reader"),
        "dan": make_key(commune, "dan", "Ville B", "member-admin"),
    }


def test_a_member_admin_removes_a_person_whose_key_is_refused_at_once(commune, keys):
    with TestClient(create_app(commune)) as c:

        def as_(user: str, **headers: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {keys[user]}", **headers}

        assert c.get("/api/collections", headers=as_("bob")).status_code == 200
        r = c.post("/api/users/bob/remove", json={"reason": "x"}, headers=as_("dan") | EN)
        assert r.status_code == 404 and "no user named 'bob'" in r.text  # another member's
        r = c.post("/api/users/alice/remove", json={"reason": "x"}, headers=as_("bob") | EN)
        assert r.status_code == 403
        r = c.post("/api/users/bob/remove", json={"reason": ""}, headers=as_("alice"))
        assert r.status_code == 400 and "retirer quelqu'un demande une raison" in r.text
        r = c.post("/api/users/bob/remove", json={"reason": "parti"}, headers=as_("alice"))
        assert r.status_code == 200, r.text
        assert r.json()["keys_revoked"] == 1
        r = c.get("/api/collections", headers=as_("bob"))
        assert r.status_code == 401
        r = c.post("/api/users/bob/remove", json={"reason": "parti"}, headers=as_("alice"))
        assert r.status_code == 404 and "a été retiré de la coopérative" in r.text


def test_a_members_last_admin_is_not_removed_through_the_api(commune, keys):
    """A cooperative admin of Ville B removed Ville A's only member admin, and Ville A had
    nobody of its own to manage its people: refused (400) in the caller's language, saying
    what to do first, and alice keeps her key."""
    zoe = make_key(commune, "zoe", "Ville B", "cooperative-admin")
    with TestClient(create_app(commune)) as c:
        headers = {"Authorization": f"Bearer {zoe}"}
        for language, said in (
            (
                {},
                "alice est le dernier administrateur de Ville A\u00a0: sans administrateur, "
                "personne de Ville A ne gérerait plus ses personnes (nommez d'abord un autre "
                "administrateur de Ville A\u00a0: faites d'une personne de Ville A son "
                "administrateur de membre)",
            ),
            (
                EN,
                "alice is the last admin of Ville A: without one, nobody of Ville A would "
                "manage its people (appoint another admin of Ville A first: make a person of "
                "Ville A its member admin)",
            ),
        ):
            r = c.post("/api/users/alice/remove", json={"reason": "x"}, headers=headers | language)
            assert r.status_code == 400 and r.json()["detail"] == said, r.text
        alice = {"Authorization": f"Bearer {keys['alice']}"}
        assert c.get("/api/collections", headers=alice).status_code == 200
