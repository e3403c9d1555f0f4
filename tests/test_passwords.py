"""Passwords as stored: argon2id with RFC 9106's second recommended profile. The other tests
hash at argon2id's lowest cost (tests/conftest.py); this one reads the production hasher."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commune.govern import accounts
from tests.conftest import PASSWORD, PRODUCTION_HASHER, make_person


def test_a_password_is_stored_as_argon2id_with_rfc_9106s_second_profile(
    monkeypatch: pytest.MonkeyPatch,
    commune,  # type: ignore[no-untyped-def]
) -> None:
    from commune.govern.accounts import sign_in
    from commune.store.schema import users

    def stored() -> str:
        with commune.engine.begin() as conn:
            query = select(users.c.password_hash).where(users.c.name == "ada")
            return str(conn.execute(query).scalar())

    make_person(commune, "ada", "Ville A")  # hashed at the tests' lowest cost
    assert stored().startswith("$argon2id$v=19$m=8,t=1,p=1$"), stored()
    monkeypatch.setattr(accounts, "_hasher", PRODUCTION_HASHER)  # from here, production's
    with commune.engine.begin() as conn:
        sign_in(conn, "ada", PASSWORD)
    # A hash with other parameters is replaced at sign-in: 64 MiB, 3 passes, 4 lanes.
    assert stored().startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored()
    with commune.engine.begin() as conn:
        sign_in(conn, "ada", PASSWORD)  # the new hash signs in too
