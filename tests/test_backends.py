"""The storage and retrieval conformance kit: every database backend passes the same tests.

SQLite (the embedded default) and PostgreSQL 18 with pgvector (a real server started by the
tests, tests/postgres.py). A new backend subclasses StoreKit and overrides one fixture,
``database_url``.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import exc, func, select, text

from tests.conftest import make_key


def count(c, table) -> int:  # type: ignore[no-untyped-def]
    with c.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


class StoreKit:
    @pytest.fixture
    def database_url(self, tmp_path):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    @pytest.fixture
    def c(self, database_url, tmp_path):  # type: ignore[no-untyped-def]
        from commune.core import Commune

        home = tmp_path / "home"
        home.mkdir()
        (home / "commune.toml").write_text(f'database_url = "{database_url}"\n')
        with Commune(home) as commune:
            yield commune

    def test_the_schema_is_at_head_and_the_home_checks_whole(self, c, corpus):
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        from commune.store.db import MIGRATIONS

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        head = ScriptDirectory.from_config(cfg).get_current_head()
        with c.engine.connect() as conn:
            assert conn.execute(text("select version_num from alembic_version")).scalar() == head
        c.add([corpus], collection="mairie", licence="etalab-2.0")
        report = c.check()
        assert report.ok, [ch for ch in report.checks if not ch.ok]
        assert "ledger" in {ch.name for ch in report.checks}

    def test_french_english_and_cross_lingual_search_and_answers(self, c, corpus):
        c.add([corpus], collection="mairie", licence="etalab-2.0")
        assert c.search("ordures ménagères", k=3)[0].title == "Gestion des déchets"
        assert c.search("swimming pool opening hours", k=3)[0].title == "Swimming pool"
        # A French question finds the English page (the dense half crosses languages).
        assert "Swimming pool" in {h.title for h in c.search("horaires de la piscine", k=5)}
        answer = c.ask("Quand passe le camion des ordures ?")
        assert answer.found and "mardi matin" in answer.text and answer.sources

    def test_a_new_revision_replaces_the_old_text_and_retired_documents_vanish(self, c, tmp_path):
        d = tmp_path / "docs"
        d.mkdir()
        page = d / "horaires.txt"
        page.write_text("La médiathèque ouvre le mercredi à quatorze heures.", encoding="utf-8")
        c.add([d], collection="mairie", licence="CC0-1.0")
        page.write_text("La médiathèque ouvre le samedi à dix heures.", encoding="utf-8")
        summary = c.add([d], collection="mairie", licence="CC0-1.0")
        assert summary.updated == 1
        texts = " ".join(h.text for h in c.search("médiathèque ouvre", k=5))
        assert "samedi" in texts and "mercredi" not in texts
        doc = c.documents()[0]
        assert [r["number"] for r in c.history(doc["id"])] == [1, 2]
        c.retire(doc["id"], "fermée")
        assert c.search("médiathèque ouvre", k=5) == []

    def test_private_collections_stay_private(self, c, corpus):
        c.add([corpus], collection="prive", licence="etalab-2.0", member=None)
        make_key(c, "alice", "Ville A", "reader")
        make_key(c, "bob", "Ville B", "reader")
        c.set_visibility("prive", "private", "Ville A")
        alice, bob = c.actor("alice"), c.actor("bob")
        assert c.search("ordures", actor=alice)
        assert c.search("ordures", actor=bob) == []
        assert [x["name"] for x in c.collections(bob)] == []

    def test_the_ledger_is_append_only(self, c):
        from commune.store.schema import usage

        with c.metering.metered("test", c.actor(None)):
            pass
        assert count(c, usage) == 1
        for statement in ("UPDATE usage SET wh = 0", "DELETE FROM usage"):
            with pytest.raises(exc.DBAPIError, match="append-only"):
                with c.engine.begin() as conn:
                    conn.execute(text(statement))
        assert count(c, usage) == 1

    def test_the_audit_chain_verifies_and_tampering_is_found(self, c):
        for i in range(3):
            make_key(c, f"user{i}", "Ville A", "reader")  # each grant is audited
        assert c.verify_audit().ok
        with c.engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET subject = 'user forged' WHERE id = 2"))
        assert not c.verify_audit().ok

    def test_quotas_hold_exactly_under_concurrent_requests(self, c, corpus):
        from commune.govern.quotas import QuotaExceeded
        from commune.store.schema import quota_holds, usage

        c.add([corpus], collection="mairie", licence="etalab-2.0")
        make_key(c, "carol", "Ville C", "reader", requests_per_day=5)
        carol = c.actor("carol")
        outcomes: list[str] = []
        lock = threading.Lock()

        def ask(i: int) -> None:
            try:
                c.ask(f"Quand passe le camion des ordures {i} ?", actor=carol, use_cache=False)
                result = "answered"
            except QuotaExceeded:
                result = "refused"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)  # a hang guard
        assert not any(t.is_alive() for t in threads), "a request hung"
        assert outcomes.count("answered") == 5 and outcomes.count("refused") == 7
        with c.engine.connect() as conn:
            mine = select(func.count()).where(usage.c.user_id == carol.user_id)
            assert conn.execute(mine).scalar_one() == 5
        assert count(c, quota_holds) == 0  # every hold became its ledger row

    def test_the_monthly_statement_adds_up_to_the_cent(self, c, corpus):
        from datetime import UTC, datetime

        c.add([corpus], collection="mairie", licence="etalab-2.0")
        make_key(c, "alice", "Ville A", "reader")
        make_key(c, "bob", "Ville B", "reader")
        for user in ("alice", "bob", "bob"):
            c.ask("Quand passe le camion des ordures ?", actor=c.actor(user), use_cache=False)
        stmt = c.statement(datetime.now(UTC).strftime("%Y-%m"))
        assert sum(line.total_eur for line in stmt.lines) == stmt.total
        assert {line.member: line.requests for line in stmt.lines} == {"Ville A": 1, "Ville B": 2}


class TestSQLite(StoreKit):
    @pytest.fixture
    def database_url(self, tmp_path):  # type: ignore[no-untyped-def]
        return f"sqlite:///{tmp_path / 'commune.db'}"


class TestPostgreSQL(StoreKit):
    @pytest.fixture
    def database_url(self, postgres_url):  # type: ignore[no-untyped-def]
        return postgres_url
