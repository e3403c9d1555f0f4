"""Resetting someone else's password from the administration page and the API: only the CLI
did (`commune user password`), so a town's member admin whose clerk forgot a password asked
the operator at a shell. Both go through Admin.set_password, as the CLI does: the same rule
(one's own member's people, from a role strictly above theirs), the admin's own password
asked again (as for a key), the person's sessions ended and keys revoked unless kept, and
the audit row naming who did it."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import EN, PASSWORD, make_key, make_person

NEW = "a fresh passphrase for bob"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.client = TestClient(app, base_url="https://testserver", follow_redirects=False)
        self.csrf = ""

    def seen(self, r):  # type: ignore[no-untyped-def]
        r.page = html.unescape(r.text)
        found = CSRF.search(r.text)
        if found:
            self.csrf = found.group(1)
        return r

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        return self.seen(self.client.get(path, **kw))

    def post(self, path: str, data: dict, csrf: bool = True, **kw):  # type: ignore[no-untyped-def,type-arg]
        data = ({"csrf": self.csrf} if csrf else {}) | data
        return self.seen(self.client.post(path, data=data, **kw))


def signed_in(app, user: str, password: str = PASSWORD) -> Browser:  # type: ignore[no-untyped-def]
    b = Browser(app)
    b.get("/signin")
    assert b.post("/signin", {"user": user, "password": password, "next": "/"}).status_code == 303
    return b


@pytest.fixture
def people(commune):  # type: ignore[no-untyped-def]
    return {
        "alice": make_person(commune, "alice", "Ville A", "member-admin"),
        "bob": make_person(commune, "bob", "Ville A", "reader"),
        "carl": make_person(commune, "carl", "Ville A", "member-admin"),
        "dan": make_person(commune, "dan", "Ville B", "member-admin"),
    }


@pytest.fixture
def app(commune, people):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    app = create_app(commune)
    app.state.failed_sign_ins.window_s = 3600
    return app


def password_form(page: str) -> str:
    return page[page.index('action="/admin/users/password"') :].split("</form>")[0]


def audit_rows(commune) -> list[dict]:  # type: ignore[type-arg,no-untyped-def]
    from commune.store.audit import entries

    with commune.engine.connect() as conn:
        rows = entries(conn, 500)
    # Those an admin wrote: the fixtures' own passwords are the operator's.
    return [e for e in rows if e["action"] == "password-set" and e["actor"] != "operator"]


def test_a_member_admin_resets_a_clerks_password_on_the_administration_page(app, commune, people):
    api = TestClient(app, base_url="https://testserver")
    bearer = {"Authorization": f"Bearer {people['bob']}"}
    alice = signed_in(app, "alice")
    bobs_session = signed_in(app, "bob")
    page = alice.get("/admin").page
    form = password_form(page)
    # Offered for the people she may give a password: bob, not herself (her own is on
    # /account), not carl (her equal), not another member's dan. It says the keys go.
    assert '<option value="bob">' in form
    assert 'value="alice"' not in form and 'value="carl"' not in form and "dan" not in form
    assert "ses clés d'API sont révoquées, sauf si vous les gardez" in page
    assert 'name="yours" type="password"' in form and 'name="keep_keys"' in form

    # Without the form's token: nothing done.
    r = alice.post(
        "/admin/users/password", {"user": "bob", "password": NEW, "yours": PASSWORD}, csrf=False
    )
    assert r.status_code == 403
    # Her own password wrong: refused in the form, counted as a guess, nothing done.
    r = alice.post("/admin/users/password", {"user": "bob", "password": NEW, "yours": "nope"})
    assert r.status_code == 403
    assert "Votre mot de passe est faux\u00a0: aucun mot de passe n'a été défini." in (
        password_form(r.page)
    )
    assert api.get("/api/collections", headers=bearer).status_code == 200
    assert not audit_rows(commune)
    # Her equal: refused, saying why, nothing done.
    r = alice.post(
        "/admin/users/password",
        {"user": "carl", "password": NEW, "yours": PASSWORD},
        headers=EN,
    )
    assert r.status_code == 403 and "carl is member-admin, as alice is" in r.page

    r = alice.post("/admin/users/password", {"user": "bob", "password": NEW, "yours": PASSWORD})
    assert r.status_code == 303 and r.headers["location"] == "/admin?done=password&revoked=1"
    said = alice.get(r.headers["location"]).page
    done = "Mot de passe défini\u00a0: ses sessions sont fermées et 1 clé d'API a été révoquée."
    assert done in said
    english = alice.get(r.headers["location"], headers=EN).page
    assert "their sessions ended and 1 API key was revoked" in english
    # Bob's key and session are gone; the new password opens his account; the audit log
    # says alice set it.
    assert api.get("/api/collections", headers=bearer).status_code == 401
    assert bobs_session.get("/account").status_code == 303
    signed_in(app, "bob", NEW)
    (row,) = audit_rows(commune)
    assert row["actor"] == "alice" and row["subject"] == "user bob"


def test_a_reset_that_keeps_the_keys_says_so(app, commune, people):
    api = TestClient(app, base_url="https://testserver")
    alice = signed_in(app, "alice")
    alice.get("/admin")
    r = alice.post(
        "/admin/users/password",
        {"user": "bob", "password": NEW, "yours": PASSWORD, "keep_keys": "1"},
    )
    assert r.headers["location"] == "/admin?done=password-kept"
    assert "ses clés d'API gardées" in alice.get(r.headers["location"]).page
    bearer = {"Authorization": f"Bearer {people['bob']}"}
    assert api.get("/api/collections", headers=bearer).status_code == 200


def test_the_api_resets_a_password_as_the_cli_does(app, commune, people):
    api = TestClient(app, base_url="https://testserver")

    def as_(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {people[user]}"}

    body = {"password": NEW, "your_password": PASSWORD}
    # Another member's person: as for a name nobody has.
    r = api.post("/api/users/bob/password", json=body, headers=as_("dan") | EN)
    assert r.status_code == 404 and "no user named 'bob'" in r.text
    # A reader, and an equal: refused.
    assert api.post("/api/users/alice/password", json=body, headers=as_("bob")).status_code == 403
    r = api.post("/api/users/carl/password", json=body, headers=as_("alice") | EN)
    assert r.status_code == 403 and "only a higher role gives them a password" in r.text
    # A key alone is not enough: the caller's password again, its wrong guesses counted.
    wrong = body | {"your_password": "not hers"}
    r = api.post("/api/users/bob/password", json=wrong, headers=as_("alice"))
    assert r.status_code == 403 and "mot de passe faux\u00a0: rien n'a été fait" in r.text
    app.state.failed_sign_ins.limit = 1
    r = api.post("/api/users/bob/password", json=wrong, headers=as_("alice"))
    assert r.status_code == 429
    app.state.failed_sign_ins.limit = 20
    app.state.failed_sign_ins.clear()
    assert api.get("/api/collections", headers=as_("bob")).status_code == 200
    assert not audit_rows(commune)

    r = api.post("/api/users/bob/password", json=body, headers=as_("alice"))
    assert r.status_code == 200, r.text
    assert r.json() == {"user": "bob", "sessions_ended": True, "keys_revoked": 1}
    assert NEW not in r.text
    assert api.get("/api/collections", headers=as_("bob")).status_code == 401
    signed_in(app, "bob", NEW)
    (row,) = audit_rows(commune)
    assert row["actor"] == "alice"


def test_ones_own_password_is_not_reset_through_the_form_or_the_api(app, commune, people):
    """One's own password is changed on /account, with the current one. Through the reset,
    the re-authentication takes a key from someone who has none: a key-only reader (or a key
    stolen from one) set the account's first password with the key alone, and the password
    outlived the key's revocation; a member admin's own reset signed them out."""
    from commune.govern.members import AuthError

    api = TestClient(app, base_url="https://testserver")
    kim = make_key(commune, "kim", "Ville A", "reader")  # a key, no password
    bearer = {"Authorization": f"Bearer {kim}"}
    body = {"password": NEW, "your_password": kim, "keep_keys": True}
    r = api.post("/api/users/kim/password", json=body, headers=bearer)
    assert r.status_code == 400, r.text
    assert r.json()["detail"] == (
        "votre propre mot de passe se change avec l'actuel, il ne se réinitialise pas "
        "(changez-le sur la page de votre compte, /account)"
    )
    with pytest.raises(AuthError):
        commune.admin.sign_in("kim", NEW)
    # A member admin's own, on the administration page: said in the form, nothing done.
    alice = signed_in(app, "alice")
    alice.get("/admin")
    r = alice.post(
        "/admin/users/password",
        {"user": "alice", "password": NEW, "yours": PASSWORD},
        headers=EN,
    )
    assert r.status_code == 400
    assert "Your own password is changed with your current one, not reset" in (
        password_form(r.page)
    )
    assert alice.get("/admin").status_code == 200  # still signed in
    alices_key = {"Authorization": f"Bearer {people['alice']}"}
    assert api.get("/api/collections", headers=alices_key).status_code == 200
    commune.admin.sign_in("alice", PASSWORD)
    assert not audit_rows(commune)
