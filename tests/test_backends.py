"""The storage and retrieval conformance kit: every database backend passes the same tests.

SQLite (the embedded default) and PostgreSQL 18 with pgvector (a real server started by the
tests, tests/postgres.py). A new backend subclasses StoreKit and overrides one fixture,
``database_url``.
"""

from __future__ import annotations

import contextlib
import json
import threading

import pytest
from sqlalchemy import exc, func, select, text

from tests.conftest import make_key


def count(c, table) -> int:  # type: ignore[no-untyped-def]
    with c.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _taking_no_write(c):  # type: ignore[no-untyped-def]
    """``c``'s database takes no write from now on, as a replica, a role with
    default_transaction_read_only, or a SQLite file opened read-only, until the function
    returned is called."""
    from sqlalchemy import event

    def read_only(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cursor = dbapi_conn.cursor()
        if c.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
            dbapi_conn.commit()  # a SET rolled back with its transaction is undone
        cursor.close()

    def writable() -> None:
        event.remove(c.engine, "connect", read_only)
        c.engine.dispose()

    event.listen(c.engine, "connect", read_only)
    c.engine.dispose()
    return writable


def _a_request_at_2330_utc_counts_on_its_utc_day(engine) -> None:  # type: ignore[no-untyped-def]
    """A request at 23:30 UTC on 31 January, written and read through ``engine``: the daily
    series (dashboards, GET /api/usage) puts it on the 31st, whatever the session's zone or
    date style."""
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from commune.account.ledger import daily_series
    from commune.store.schema import usage

    with engine.begin() as conn:
        conn.execute(
            insert(usage).values(
                created_at=datetime(2025, 1, 31, 23, 30, tzinfo=UTC),
                duration_ms=1.0,
                fallback=False,
                cpu_seconds=0.1,
                wh=0.5,
                estimated=True,
                route="ask",
                mode="extractive",
                input_tokens=1,
                output_tokens=1,
            )
        )
    with engine.connect() as conn:
        days = daily_series(
            conn, None, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 28, tzinfo=UTC)
        )
    assert [(d["day"], d["requests"]) for d in days if d["requests"]] == [("2025-01-31", 1)]


def _migrate(engine, rev: str, down: bool = False) -> None:  # type: ignore[no-untyped-def]
    """The schema of ``engine``'s database moved to migration ``rev`` (down to it, with
    ``down``), as `commune migrate` would, in one transaction."""
    from alembic import command
    from alembic.config import Config

    from commune.store.db import MIGRATIONS

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(cfg, rev)


def _shut_down(c, caplog, monkeypatch):  # type: ignore[no-untyped-def]
    """The server's shutdown (stop_purger) while its purger waits for a lock held elsewhere,
    then the purger waited for until it has ended, however slow the machine: it must have
    ended because it was stopped (its log line says so), not because a wait for the lock ran
    out (PURGE_WAIT_S made longer than any run of the tests) nor by the clock."""
    import logging

    import commune.charter.book as book

    monkeypatch.setattr(book, "PURGE_WAIT_S", 3600.0)
    [purger] = [t for t in threading.enumerate() if t.name == "commune-purge"]
    with caplog.at_level(logging.INFO, logger="commune.charter"):
        c.stop_purger()
        purger.join(600)  # a guard against a hang, not a measure of speed
    assert not purger.is_alive()
    assert not [t for t in threading.enumerate() if t.name == "commune-purge"]
    said = [r.getMessage() for r in caplog.records if r.name == "commune.charter"]
    assert any("stopped by the server's shutdown" in m for m in said), said


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

    def test_the_energy_counter_a_restarted_server_reports_is_not_below_the_last(self, c):  # type: ignore[no-untyped-def]
        """A process sums the ledger in parts, a scrape's new rows at a time; a restarted one sums
        it whole. Floats added in another grouping differ in their last bit: the same four rows
        gave 2.0727930000000003 Wh, then 2.072793 after a restart, which Prometheus reads as a
        counter reset, so that increase() and rate() counted every Wh ever metered again. The
        sums are now exact whatever their grouping: the restarted server reports the same."""
        from datetime import timedelta

        from sqlalchemy import insert

        from commune.account.observed import Totals, observe
        from commune.store.repository import now
        from commune.store.schema import usage

        def metered(conn, *whs: float) -> None:  # type: ignore[no-untyped-def]
            for wh in whs:  # an hour old: settled, summed once
                conn.execute(
                    insert(usage).values(
                        created_at=now() - timedelta(hours=1),
                        route="api/ask",
                        mode="extractive",
                        input_tokens=0,
                        output_tokens=0,
                        duration_ms=1.0,
                        fallback=False,
                        cpu_seconds=0.0,
                        wh=wh,
                        gco2e=wh,
                        estimated=True,
                    )
                )

        running = Totals()  # the server's, scraped between the two answers' rows
        with c.engine.begin() as conn:
            metered(conn, 0.033381, 0.02912)
        with c.engine.connect() as conn:
            observe(conn, running)
        with c.engine.begin() as conn:
            metered(conn, 1.511174, 0.499118)
        with c.engine.connect() as conn:
            before = observe(conn, running)
            after = observe(conn, Totals())  # the same server, restarted
        assert after.wh >= before.wh and after.gco2e >= before.gco2e, (before.wh, after.wh)
        assert after.wh == pytest.approx(2.072793)

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

    def test_an_answers_records_land_together_or_not_at_all(self, c, corpus, monkeypatch):
        # The ledger row, the contributors' credits and the decision record of one answer:
        # a failure writing the last must not leave the first two (billed, credited, with
        # no record of the decision), for an answer, one from the cache, and a refusal.
        import commune.charter.records as records
        from commune.store.schema import credits, decisions, usage

        c.add([corpus], collection="mairie", licence="etalab-2.0")
        question = "Quand passe le camion des ordures ?"
        write = records.write

        def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("the machine stopped here")

        def counts() -> tuple[int, int, int]:
            return count(c, usage), count(c, credits), count(c, decisions)

        from commune.account.energy import _InFlight

        for turn in ("answered", "cached"):
            before = counts()
            running = _InFlight.running
            monkeypatch.setattr(records, "write", crash)
            with pytest.raises(RuntimeError):
                c.ask(question)
            assert counts() == before, turn
            # Ended, though it left no row: its meter divides no later answer's CPU time.
            assert _InFlight.running == running, turn
            monkeypatch.setattr(records, "write", write)
            answer = c.ask(question)
            assert answer.found and answer.sources
            n_usage, n_credits, n_decisions = counts()
            assert (n_usage, n_decisions) == (before[0] + 1, before[2] + 1), turn
            assert n_credits > before[1], turn
        assert answer.mode == "extractive"  # the second turn came from the cache
        assert [d["outcome"] for d in answer.decisions if d["step"] == "redirect"] == ["none"]
        # A refusal by the charter: its ledger row and its record, together too.
        from tests.test_charter import write_charter

        write_charter(c.settings.home)
        refusal = "Peux-tu me faire une ordonnance pour ma toux ?"
        assert c.ask(refusal).mode == "refused"  # the charter in force refuses it
        before = counts()
        monkeypatch.setattr(records, "write", crash)
        with pytest.raises(RuntimeError):
            c.ask(refusal)
        assert counts() == before

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

    def test_a_curator_reinstates_a_document_retired_by_mistake_with_its_copies(self, c, tmp_path):
        """A curator who retired the wrong document had no way back: the same file sent again
        was "unchanged". Reinstated with a reason, it answers again, the copy retired with it
        too; another member's curator never reaches it, and a personal-data takedown, whose
        texts are erased, stays retired."""
        from commune.errors import CommuneError, NotFound
        from commune.store.schema import audit_log

        make_key(c, "alice", "Ville A", "contributor")
        make_key(c, "cathy", "Ville A", "curator")
        make_key(c, "bruno", "Ville B", "member-admin")
        alice, cathy, bruno = c.actor("alice"), c.actor("cathy"), c.actor("bruno")
        pages = tmp_path / "pages"
        pages.mkdir()
        (pages / "piscine.md").write_text("# Piscine\n\nLa piscine ouvre le samedi.\n")
        (pages / "conseil.md").write_text("# Conseil\n\nM. Jean Dupont, 12 rue des Lilas.\n")
        c.add([pages], collection="projets-a", licence="etalab-2.0", actor=alice)
        c.add([pages / "piscine.md"], collection="archives-a", licence="etalab-2.0", actor=alice)
        ids = {(d["collection"], d["title"]): d["id"] for d in c.documents()}
        piscine, copy = ids["projets-a", "Piscine"], ids["archives-a", "Piscine"]
        assert c.retire(piscine, "pas celui-là", category="error", actor=cathy) == [copy]

        def found(q: str) -> set[int]:
            return {h.document_id for h in c.search(q, k=10, actor=cathy)}

        assert not found("piscine samedi") & {piscine, copy}

        with pytest.raises(NotFound):  # another member's private collection: not seen
            c.reinstate(piscine, "erreur", actor=bruno)
        assert c.reinstate(piscine, "retiré par erreur", actor=cathy) == [copy]
        assert {piscine, copy} <= found("piscine samedi")
        with c.engine.connect() as conn:
            rows = conn.execute(
                select(audit_log.c.actor, audit_log.c.subject)
                .where(audit_log.c.action == "reinstate")
                .order_by(audit_log.c.id)
            ).all()
        assert [tuple(r) for r in rows] == [
            ("cathy", f"document {piscine}"),
            ("cathy", f"document {copy}"),
        ]
        with pytest.raises(NotFound, match=f"no retired document {piscine}"):
            c.reinstate(piscine, "encore", actor=cathy)

        conseil = ids["projets-a", "Conseil"]
        c.retire(conseil, "demande de M. Dupont", category="personal-data", actor=cathy)
        with pytest.raises(CommuneError, match="texts are erased"):
            c.reinstate(conseil, "erreur", actor=cathy)
        assert conseil not in found("rue des Lilas")

    def test_a_published_documents_hash_is_its_published_files_while_another_waits(
        self, c, tmp_path
    ):
        """A document kept its published text while a new revision waited for a curator (its
        licence changed), but it was listed and served with the waiting file's SHA-256: a
        re-user checking the file, or the open-data export's sha256, found the two apart,
        and could confirm a guess of the waiting file. The curators' queue still shows the
        waiting file's."""
        import hashlib

        d = tmp_path / "docs"
        d.mkdir()
        page = d / "horaires.txt"
        page.write_text("La médiathèque ouvre le mercredi à quatorze heures.", encoding="utf-8")
        published = hashlib.sha256(page.read_bytes()).hexdigest()
        c.add([d], collection="mairie", licence="CC-BY-4.0")
        page.write_text("La médiathèque ouvre le samedi à dix heures.", encoding="utf-8")
        waiting = hashlib.sha256(page.read_bytes()).hexdigest()
        assert c.add([d], collection="mairie", licence="CC-BY-NC-4.0").outcomes[0].held
        make_key(c, "rita", "Ville A")
        for actor in (c.actor("rita"), None):  # a reader, and the operator
            kw = {} if actor is None else {"actor": actor}
            [listed] = c.documents(**kw)
            served = c.document(listed["id"], **kw)
            assert "mercredi" in served["text"] and served["licence"] == "CC-BY-4.0"
            assert (listed["content_hash"], served["content_hash"]) == (published, published)
        [queued] = c.pending()
        assert c.show_revision(queued["id"])["revision"]["content_hash"] == waiting
        c.review(queued["id"], "approve", "the author relicensed it")
        assert c.document(listed["id"])["content_hash"] == waiting
        assert c.documents()[0]["content_hash"] == waiting

    def test_private_collections_stay_private(self, c, corpus):
        c.add([corpus], collection="prive", licence="etalab-2.0", member=None)
        make_key(c, "alice", "Ville A", "reader")
        make_key(c, "bob", "Ville B", "reader")
        c.set_visibility("prive", "private", "Ville A")
        alice, bob = c.actor("alice"), c.actor("bob")
        assert c.search("ordures", actor=alice)
        assert c.search("ordures", actor=bob) == []
        assert [x["name"] for x in c.collections(bob)] == []

    def test_a_charter_brought_back_is_in_force_again_in_the_history(self, c):
        """The history records each time a charter came into force: going back to an
        earlier one (its hash already recorded) listed the newer one as the latest."""
        from dataclasses import replace

        from commune.charter import records

        first = c.charter
        second = replace(first, version="second", sha256="b" * 64)
        with c.engine.begin() as conn:
            assert records.remember_charter(conn, second)
            assert records.remember_charter(conn, first)
            assert not records.remember_charter(conn, first)  # already in force: no entry
            history = records.history(conn)
        assert [h["sha256"] for h in history][:3] == [first.sha256, "b" * 64, first.sha256]

    def test_this_stops_migrations_go_down_and_up_again_on_a_populated_home(self, database_url):
        """0013 to 0017 up from a populated 0012; 0015 (a charter may return) and 0016
        (people removed), down and up again over a home with charters, people, keys and
        sessions: 0015's downgrade named PostgreSQL's constraint otherwise than its upgrade
        drops it, and 0016's copied ``users``, which the keys' and sessions' foreign keys
        refuse to drop on SQLite."""
        from datetime import UTC, datetime

        from commune.store.db import make_engine

        engine = make_engine(database_url)

        def go(rev: str, down: bool = False) -> None:
            _migrate(engine, rev, down)

        go("0012")  # before 0013 (a session's key), 0014 (its reading), 0015, 0016 and 0017
        at = datetime.now(UTC)
        rows = [
            "INSERT INTO members (id, name, kind, created_at) VALUES (1, 'Ville A', 'town', :t)",
            "INSERT INTO users (id, member_id, name, role, created_at) "
            "VALUES (1, 1, 'alice', 'reader', :t)",
            "INSERT INTO api_keys (user_id, prefix, digest, label, created_at) "
            "VALUES (1, 'abcd', 'x', 'k', :t)",
            "INSERT INTO web_sessions (digest, user_id, csrf, created_at, expires_at) "
            "VALUES ('d', 1, 'c', :t, :t)",
            "INSERT INTO charters (sha256, version, text, in_force_from) "
            "VALUES ('a', '1', 'x', :t), ('b', '2', 'x', :t)",
        ]
        with engine.begin() as conn:
            for sql in rows:
                conn.execute(text(sql), {"t": at})
        try:
            go("head")
            with engine.connect() as conn:
                # 0013 ended the sessions that cannot say which key opened them; 0016 and
                # 0017 added their columns, empty.
                assert conn.execute(text("SELECT ended_at FROM web_sessions")).scalar()
                assert conn.execute(text("SELECT removed_at FROM users")).scalar() is None
                assert (
                    conn.execute(text("SELECT count(retired_category) FROM documents")).scalar()
                    == 0
                )
            with engine.begin() as conn:  # the first charter back in force
                conn.execute(
                    text(
                        "INSERT INTO charters (sha256, version, text, in_force_from) "
                        "VALUES ('a', '1', 'x', :t)"
                    ),
                    {"t": at},
                )
            go("0014", down=True)
            with engine.connect() as conn:
                kept = conn.execute(text("SELECT sha256 FROM charters ORDER BY id")).all()
                assert [r[0] for r in kept] == ["b", "a"]  # the latest entry of each
            go("head")
            with engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM api_keys")).scalar() == 1
        finally:
            engine.dispose()

    def test_a_members_own_governance_and_a_takedown_that_travels(self, c, tmp_path):
        """What the cooperative's people do to their own member's collections and people,
        on each store: an upload starts its member's private collection; its member's admin
        shares it and sets its curation rules, another member's admin may neither; that
        admin removes a person (keys dead, records kept, name kept); a takedown's category
        is kept, and the next export carries it to a home that imported an earlier one."""
        from commune.errors import CommuneError, Forbidden, NotFound
        from commune.govern.members import AuthError
        from commune.store.schema import documents

        key = make_key(c, "alice", "Ville A", "contributor")
        make_key(c, "arthur", "Ville A", "member-admin")
        make_key(c, "bruno", "Ville B", "member-admin")
        alice, arthur, bruno = c.actor("alice"), c.actor("arthur"), c.actor("bruno")
        pages = tmp_path / "pages"
        pages.mkdir()
        (pages / "conseil.md").write_text("# Conseil\n\nM. Jean Dupont, 12 rue des Lilas.\n")
        (pages / "piscine.md").write_text("# Piscine\n\nLa piscine ouvre le samedi.\n")
        (pages / "horaires.md").write_text("# Horaires\n\nLa mairie ouvre le lundi.\n")
        c.add([pages], collection="projets-a", licence="etalab-2.0", actor=alice)
        [row] = c.collections()
        assert (row["visibility"], row["owner"]) == ("private", "Ville A")
        assert c.search("piscine samedi", actor=bruno) == []

        with pytest.raises(Forbidden, match="needs a cooperative admin"):
            c.set_visibility("projets-a", "public", actor=arthur)
        with pytest.raises(NotFound):  # another member's private collection: not seen
            c.set_visibility("projets-a", "shared", actor=bruno)
        c.set_visibility("projets-a", "shared", actor=arthur)
        assert c.search("piscine samedi", actor=bruno)
        with pytest.raises(Forbidden, match="its admins set its curation rules"):
            c.set_curation_rules("projets-a", 0, "curator", actor=bruno)
        assert c.set_curation_rules("projets-a", 2, "curator", actor=arthur).released == 0

        done = c.admin.remove_user("alice", "partie en 2026", actor=arthur)
        assert (done["keys_revoked"], done["member"]) == (1, "Ville A")
        with pytest.raises(AuthError):
            c.authenticate(key)
        with pytest.raises(CommuneError, match="already exists"):
            make_key(c, "alice", "Ville A")
        assert {d["contributor"] for d in c.documents()} == {"alice (Ville A)"}

        ids = {d["title"]: d["id"] for d in c.documents()}
        c.export_collection("projets-a", tmp_path / "older")
        c.import_dataset(tmp_path / "older", "copie")
        # The copy of a takedown is held at once, another member's or the cooperative's (its
        # curators decide); the copy of a page retired as outdated waits for the next export.
        c.retire(ids["Conseil"], "demande de M. Dupont", category="personal-data", actor=arthur)
        c.retire(ids["Horaires"], "remplacé", category="outdated", actor=arthur)
        with c.engine.connect() as conn:
            kept = conn.execute(
                select(documents.c.id, documents.c.retired_category).where(
                    documents.c.retired_category.is_not(None)
                )
            ).all()
        assert sorted(kept) == [(ids["Conseil"], "personal-data"), (ids["Horaires"], "outdated")]

        def published() -> set[tuple[str, str]]:
            return {
                (d["collection"], d["title"]) for d in c.documents() if d["status"] == "published"
            }

        assert published() == {
            ("projets-a", "Piscine"),
            ("copie", "Piscine"),
            ("copie", "Horaires"),
        }
        c.export_collection("projets-a", tmp_path / "newer")
        listed = (tmp_path / "newer" / "retired.jsonl").read_text()
        assert "Dupont" not in listed
        assert sorted(json.loads(x)["category"] for x in listed.splitlines()) == [
            "outdated",
            "personal-data",
        ]
        # The hours, and the takedown's copy, held until then: the dataset gave it, and its
        # publisher retired it (left waiting, a curator's approval published it again).
        assert c.import_dataset(tmp_path / "newer", "copie")["retired"] == 2
        assert published() == {("projets-a", "Piscine"), ("copie", "Piscine")}
        assert not [h for h in c.search("Dupont rue des Lilas", k=5) if "Dupont" in h.text]
        assert c.verify_audit().ok

    def test_a_personal_data_takedown_erases_the_text_and_its_file(self, c, tmp_path):
        """The takedown's texts blanked in its transaction, its file deleted after, and the
        home whole as it is (store/erasure.py), on either database."""
        from commune.store.blobs import blob_path
        from commune.store.schema import chunks, revisions

        p = tmp_path / "arrete.txt"
        p.write_text("Monsieur Zorglub habite 12 rue des Lilas.\n", encoding="utf-8")
        c.add([p], collection="mairie", licence="etalab-2.0")
        [d] = c.documents()
        c.retire(d["id"], "l'adresse d'un habitant", category="personal-data")
        with c.engine.connect() as conn:
            texts = conn.execute(select(chunks.c.text + chunks.c.terms)).scalars().all()
            digest = conn.execute(select(revisions.c.content_hash)).scalar_one()
        assert texts and not any(texts)
        assert not blob_path(c.settings.home, digest).exists()
        report = c.check()
        assert report.ok, [ch for ch in report.checks if not ch.ok]
        assert c.verify_audit().ok

    def test_a_server_nobody_asks_purges_what_is_past_the_retention(self, c):
        """The decision records past the retention were purged on the request path, and by
        `commune backup` on SQLite: a PostgreSQL home nobody asked (its nightly unit runs
        pg_dump) kept them, and every web session, for good. A running server purges them
        at start, then hourly, asked or not."""
        import time
        from datetime import UTC, datetime, timedelta

        from fastapi.testclient import TestClient
        from sqlalchemy import insert, update

        from commune.api.app import create_app
        from commune.govern.sessions import open_session
        from commune.store.schema import decisions, web_sessions

        make_key(c, "alice", "Ville A")
        long_ago = datetime.now(UTC) - timedelta(days=400)
        with c.engine.begin() as conn:
            conn.execute(
                insert(decisions).values(
                    created_at=long_ago,
                    route="ask",
                    question="Où habite Monsieur Zorglub ?",
                    question_sha256="ab" * 32,
                    language="fr",
                    outcome="extractive",
                    steps="[]",
                    charter_sha256="cd" * 32,
                )
            )
            open_session(conn, c.actor("alice"), 12)
            conn.execute(update(web_sessions).values(expires_at=long_ago))
        with TestClient(create_app(c)):  # started, and nobody asks
            deadline = time.monotonic() + 30
            while count(c, decisions) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert count(c, decisions) == 0
            assert count(c, web_sessions) == 0
        assert c.verify_audit().ok

    def test_the_purge_forgets_who_made_the_ledger_s_requests_past_the_retention(self, c):
        """The ledger kept each request's person for good, while the decision records, the
        ended sessions and the credits' asker went with the retention: its triggers refused
        any change. The purge now sets the person of the rows past it to UNNAMED (0, not
        NULL, which marks ingestion's rows), and the triggers let that one change through.
        A person's own usage stops at the retention; the member's totals stay the same."""
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import insert

        from commune.store.schema import UNNAMED, usage

        make_key(c, "alice", "Ville A")
        alice = c.actor("alice")
        long_ago = datetime.now(UTC) - timedelta(days=400)

        def row(at, mode, user_id):  # type: ignore[no-untyped-def]
            return {
                "created_at": at,
                "route": "api/ask" if mode != "ingest" else "add",
                "mode": mode,
                "input_tokens": 10,
                "output_tokens": 5,
                "duration_ms": 1.0,
                "fallback": False,
                "member_id": alice.member_id,
                "user_id": user_id,
                "cpu_seconds": 0.1,
                "wh": 0.5,
                "gco2e": 0.02,
            }

        with c.engine.begin() as conn:
            conn.execute(
                insert(usage),
                [
                    row(long_ago, "extractive", alice.user_id),  # alice's question, long ago
                    row(long_ago, "ingest", alice.user_id),  # her upload, before ingestion
                    row(long_ago, "ingest", None),  # ingestion's: no one's
                ],
            )
        with c.metering.metered("api/ask", alice):  # today's question: hers still
            pass

        def seen() -> tuple[list, list, dict]:  # type: ignore[type-arg]
            start, end = long_ago - timedelta(days=1), datetime.now(UTC) + timedelta(days=1)
            own = c.usage_series(alice, start, end)
            members = c.usage_by_member(start, end)
            return own, members, c.transparency()["totals"]

        own, members, totals = seen()
        assert sum(d["requests"] for d in own) == 3
        assert c.purge_decisions() == 0
        with c.engine.connect() as conn:
            people = conn.execute(select(usage.c.user_id).order_by(usage.c.id)).scalars().all()
        assert people == [UNNAMED, UNNAMED, None, alice.user_id]
        after_own, after_members, after_totals = seen()
        assert sum(d["requests"] for d in after_own) == 1  # today's only
        assert after_members == members
        assert after_totals == totals
        assert c.purge_decisions() == 0  # nothing more to forget, nothing audited twice
        # Nothing else may change on the ledger: neither another column with the person,
        # nor a person given back, nor ingestion's rows made someone's.
        for statement in (
            "UPDATE usage SET wh = 0",
            f"UPDATE usage SET user_id = 0, wh = 0 WHERE user_id = {alice.user_id}",
            f"UPDATE usage SET user_id = {alice.user_id} WHERE user_id = 0",
            "UPDATE usage SET user_id = 0 WHERE user_id IS NULL",
            "DELETE FROM usage",
        ):
            with pytest.raises(exc.DBAPIError, match="append-only"):
                with c.engine.begin() as conn:
                    conn.execute(text(statement))
        assert c.check().ok
        assert c.verify_audit().ok

    def test_the_ledger_refuses_any_other_column_changed_with_its_person(self, c):
        """Migration 0023 lets the purge set a ledger row's person to 0 and refuses any other
        change: on SQLite its trigger lists the columns by hand. Every column of the ledger
        but the person, changed in the same UPDATE (to another value, or to NULL), is
        refused; the person alone goes to 0. A column added to the ledger without adding it
        to the trigger fails here."""
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import Boolean, DateTime, Float, Integer, insert, update

        from commune.store.schema import UNNAMED, usage

        make_key(c, "alice", "Ville A")
        alice = c.actor("alice")
        long_ago = datetime.now(UTC) - timedelta(days=400)
        written = {
            "created_at": long_ago,
            "route": "api/ask",
            "mode": "generate",
            "model": "m",
            "collection": "mairie",
            "input_tokens": 10,
            "output_tokens": 5,
            "duration_ms": 1.0,
            "fallback": False,
            "member_id": alice.member_id,
            "user_id": alice.user_id,
            "cpu_seconds": 0.1,
            "wh": 0.5,
            "gco2e": 0.02,
            "energy_method": "estimated",
            "estimated": True,
        }
        with c.engine.begin() as conn:
            conn.execute(insert(usage).values(written))

        def other(column):  # type: ignore[no-untyped-def]
            if isinstance(column.type, Boolean):
                return not written[column.name]
            if isinstance(column.type, DateTime):
                return long_ago - timedelta(days=1)
            if isinstance(column.type, Integer):
                return 4242
            if isinstance(column.type, Float):
                return 9.25
            return "autre"

        columns = [col for col in usage.columns if col.name != "user_id"]
        assert len(columns) == 16
        for column in columns:
            for value in [other(column)] + ([None] if column.nullable else []):
                with pytest.raises(exc.DBAPIError, match="append-only"):
                    with c.engine.begin() as conn:
                        conn.execute(update(usage).values({"user_id": UNNAMED, column: value}))
        with c.engine.begin() as conn:
            assert conn.execute(update(usage).values(user_id=UNNAMED)).rowcount == 1
        with c.engine.connect() as conn:
            assert conn.execute(select(usage.c.user_id)).scalar_one() == UNNAMED

    def test_a_ledger_row_of_this_month_keeps_its_person_for_the_monthly_quota(
        self, c, monkeypatch
    ):
        """Under a retention shorter than a month, forgetting the person of this month's rows
        gave a person back what their quota per month had counted: only the rows before
        both the retention and this month are unnamed. Migration 0023 goes down (the ledger
        refuses the change again) and up."""
        from datetime import UTC, datetime

        from sqlalchemy import insert

        from commune.charter import records
        from commune.store.schema import UNNAMED, usage

        (c.settings.home / "charter.toml").write_text(
            'version = "1"\n[utility]\nretention_days = 1\n', encoding="utf-8"
        )
        make_key(c, "alice", "Ville A")
        alice = c.actor("alice")
        today = datetime(2026, 12, 20, 12, tzinfo=UTC)
        monkeypatch.setattr(records, "now", lambda: today)
        with c.engine.begin() as conn:
            for at in (datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC)):
                conn.execute(
                    insert(usage).values(
                        created_at=at,
                        route="api/ask",
                        mode="extractive",
                        input_tokens=1000,
                        output_tokens=0,
                        duration_ms=1.0,
                        fallback=False,
                        member_id=alice.member_id,
                        user_id=alice.user_id,
                    )
                )

        def people() -> list[int | None]:
            with c.engine.connect() as conn:
                return conn.execute(select(usage.c.user_id).order_by(usage.c.id)).scalars().all()

        def go(rev: str, down: bool = False) -> None:
            _migrate(c.engine, rev, down)

        go("0022", down=True)
        with pytest.raises(exc.DBAPIError, match="append-only"):
            c.purge_decisions()
        assert people() == [alice.user_id, alice.user_id]
        go("head")
        c.purge_decisions()
        assert people() == [UNNAMED, alice.user_id]  # November's forgotten, December's kept
        assert c.check().ok

    def test_a_pending_erasure_on_a_database_refusing_writes_does_not_stop_the_start(
        self, c, tmp_path, monkeypatch, caplog
    ):
        """The server's start finishes the personal-data erasures a crash left pending: on a
        database that refused the write (read-only), the exception stopped the start, and
        the service stayed down. Now the start goes on, says so in one line of the
        operator's log in its language, and the purge finishes the erasure once it can."""
        import logging
        import time

        from fastapi.testclient import TestClient

        from commune.api.app import create_app
        from commune.store.blobs import blob_path
        from commune.store.erasure import pending
        from commune.store.schema import revisions

        p = tmp_path / "arrete.txt"
        p.write_text("Monsieur Zorglub habite 12 rue des Lilas.\n", encoding="utf-8")
        c.add([p], collection="mairie", licence="etalab-2.0")
        [d] = c.documents()
        with monkeypatch.context() as crash:  # the texts erased, then the process died
            crash.setattr(c, "finish_erasures", lambda: 0)
            c.retire(d["id"], "l'adresse d'un habitant", category="personal-data")
        with c.engine.connect() as conn:
            digest = conn.execute(select(revisions.c.content_hash)).scalar_one()
            assert pending(conn) == [d["id"]]
        original = blob_path(c.settings.home, digest)
        assert original.exists()
        # The charter in force and the index built, as under the server the crash stopped.
        assert c.charter and c.search("Zorglub", k=1) is not None

        writable = _taking_no_write(c)
        monkeypatch.setenv("LANG", "fr_FR.UTF-8")
        for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            monkeypatch.delenv(name, raising=False)
        with caplog.at_level(logging.WARNING, logger="commune.erasure"):
            with TestClient(create_app(c)) as client:
                assert client.get("/healthz").status_code == 200
        said = [r.getMessage() for r in caplog.records if r.name == "commune.erasure"]
        assert len(said) == 1 and "\n" not in said[0], said
        assert said[0].startswith(
            "un effacement de données personnelles resté en attente n'a pas été terminé au "
            "démarrage\u00a0: "
        ), said
        assert said[0].endswith(
            "(le serveur démarre quand même\u00a0; l'effacement de chaque heure le réessaie)"
        ), said
        with c.engine.connect() as conn:  # the erasure not marked done (its file may be gone)
            assert pending(conn) == [d["id"]]
        writable()
        c.start_purger()  # the server's hourly purge, once the database takes writes again

        def left() -> list[int]:
            with c.engine.connect() as conn:
                return pending(conn)

        deadline = time.monotonic() + 30
        while left() and time.monotonic() < deadline:
            time.sleep(0.1)
        c.stop_purger()
        assert left() == []
        assert not original.exists()
        assert c.verify_audit().ok

    def test_the_hourly_purge_takes_a_pending_erasure_s_words_out_of_the_index(
        self, c, tmp_path, monkeypatch
    ):
        """A personal-data takedown cut short (its texts erased, then the process died) left
        its words in the search index's bases on disk, and a start on a database refusing
        the write did not finish it. The server's hourly purge finishes the erasure and
        rebuilds the index without them: no file under index/ holds the erased name, and
        searches still find the rest."""
        import time

        from commune.store.erasure import pending

        p = tmp_path / "arrete.txt"
        p.write_text("Monsieur Zorglub habite 12 rue des Lilas.\n", encoding="utf-8")
        q = tmp_path / "piscine.txt"
        q.write_text("La piscine ouvre à neuf heures, sauf le lundi.\n", encoding="utf-8")
        c.add([p, q], collection="mairie", licence="etalab-2.0")
        assert c.search("Zorglub", k=1)  # a base on disk holds it
        index = c.settings.index_dir

        def held() -> list[str]:
            return [
                str(f.relative_to(index))
                for f in index.rglob("*")
                if f.is_file() and b"zorglub" in f.read_bytes().lower()
            ]

        [zorglub] = [d["id"] for d in c.documents() if "arrete" in d["source_uri"]]
        with monkeypatch.context() as crash:  # the texts erased, then the process died
            crash.setattr(c, "finish_erasures", lambda: 0)
            c.retire(zorglub, "l'adresse d'un habitant", category="personal-data")
        with c.engine.connect() as conn:
            assert pending(conn) == [zorglub]
        assert held()
        c.start_purger()  # the server's hourly purge
        deadline = time.monotonic() + 60
        while held() and time.monotonic() < deadline:
            time.sleep(0.2)
        c.stop_purger()
        assert held() == []
        with c.engine.connect() as conn:
            assert pending(conn) == []
        assert [h.document_id for h in c.search("piscine lundi", k=3)]
        assert not [h for h in c.search("Zorglub", k=3) if h.document_id == zorglub]

    def test_the_server_s_shutdown_stops_a_purge_waiting_for_a_lock_and_keeps_it_whole(
        self, c, caplog, monkeypatch
    ):
        """The purger waited for a lock held elsewhere in one statement (SQLite's busy
        timeout, 30 s; PostgreSQL's lock, for good): the server's shutdown gave up on it
        after 10 s and left it running, killed with the process. It now waits in short
        tries, each a whole transaction: the shutdown ends it, nothing written, and the
        next purge does it all. (No sleep nor duration here: a busy machine is slow, not
        wrong.)"""
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import event, insert

        from commune.store.db import lock
        from commune.store.schema import audit_log, decisions

        with c.engine.begin() as conn:
            conn.execute(
                insert(decisions).values(
                    created_at=datetime.now(UTC) - timedelta(days=400),
                    route="ask",
                    question_sha256="ab" * 32,
                    language="fr",
                    outcome="extractive",
                    steps="[]",
                    charter_sha256="cd" * 32,
                )
            )
        assert c.charter  # in force already, as in a server that has run
        audited = count(c, audit_log)

        def purgers() -> list[threading.Thread]:
            return [t for t in threading.enumerate() if t.name == "commune-purge"]

        deleting = threading.Event()

        def seen(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("DELETE FROM DECISIONS"):
                deleting.set()  # the purge's transaction has begun its write

        event.listen(c.engine, "before_cursor_execute", seen)
        with c.engine.connect() as holder, holder.begin():
            lock(holder, "audit")  # another process appending (SQLite: its one write lock)
            c.start_purger()
            # PostgreSQL: the record deleted, the purge waits to audit it; SQLite: the
            # delete waits for the write lock.
            assert deleting.wait(600)
            assert purgers()
            _shut_down(c, caplog, monkeypatch)  # the lock still held: the stop ended it
        event.remove(c.engine, "before_cursor_execute", seen)
        assert count(c, decisions) == 1  # the half-done purge rolled back whole
        assert count(c, audit_log) == audited
        assert c.purge_decisions() == 1  # done whole by the next purge
        assert count(c, audit_log) == audited + 1
        assert c.verify_audit().ok

    @pytest.mark.parametrize("waiting", ["charter", "erasure"])
    def test_the_server_s_shutdown_stops_a_purge_waiting_to_record_a_charter_or_an_erasure(
        self, c, tmp_path, monkeypatch, caplog, waiting
    ):
        """The purger's two other waits for a lock held elsewhere, recording a changed
        charter.toml and finishing a pending erasure, were one statement each (SQLite's busy
        timeout, 30 s; PostgreSQL's lock, for good): the shutdown gave up on the purger
        after 10 s and left it running. They now wait in tries too: the shutdown ends the
        purger, nothing written, and the next start records or finishes it."""
        import commune.store.db as db
        from commune.charter import records
        from commune.store.erasure import _key as erasure_key
        from commune.store.erasure import pending
        from commune.store.schema import audit_log, charters

        assert c.charter  # in force already, as in a server that has run
        if waiting == "charter":
            (c.settings.home / "charter.toml").write_text('version = "2"\n', encoding="utf-8")
        else:
            p = tmp_path / "arrete.txt"
            p.write_text("Monsieur Zorglub habite 12 rue des Lilas.\n", encoding="utf-8")
            c.add([p], collection="mairie", licence="etalab-2.0")
            [d] = c.documents()
            with monkeypatch.context() as crash:  # the texts erased, then the process died
                crash.setattr(c, "finish_erasures", lambda: 0)
                c.retire(d["id"], "l'adresse d'un habitant", category="personal-data")
            # Nothing past the retention: the purge's first write is the erasure's.
            monkeypatch.setattr(records, "purge", lambda *a, **k: 0)
        recorded, audited = count(c, charters), count(c, audit_log)
        asked = threading.Event()
        real_lock = db.lock

        def lock(conn, kind, key=0):  # type: ignore[no-untyped-def]
            if kind in ("charter", "document"):
                asked.set()  # the purge's write has begun: it waits for the holder
            real_lock(conn, kind, key)

        def purgers() -> list[threading.Thread]:
            return [t for t in threading.enumerate() if t.name == "commune-purge"]

        with c.engine.connect() as holder, holder.begin():
            # Another process writing (SQLite: its one write lock).
            if waiting == "charter":
                real_lock(holder, "charter")
            else:
                real_lock(holder, "document", erasure_key(c.documents()[0]["id"]))
            monkeypatch.setattr(db, "lock", lock)
            c.start_purger()
            assert asked.wait(600)
            assert purgers()
            _shut_down(c, caplog, monkeypatch)  # the lock still held: the stop ended it
        monkeypatch.undo()
        assert count(c, charters) == recorded and count(c, audit_log) == audited
        if waiting == "charter":
            assert c.charter.version == "2"  # the next start records it
            assert count(c, charters) == recorded + 1
        else:
            assert c.finish_erasures() == 1  # the next start finishes it
            with c.engine.connect() as conn:
                assert pending(conn) == []
        assert c.verify_audit().ok

    def test_a_charter_not_recorded_on_a_database_taking_no_write_stops_the_start(self, c):
        """A charter.toml edited while the database takes no write (a replica,
        default_transaction_read_only, SQLite read-only): the start raised the driver's
        error, a traceback on PostgreSQL and on SQLite a line about the home's permissions
        (exit 2, restarted every 5 s). It now stops in one line of the operator's language,
        exit 78 (ConfigError), for no answer is given under a charter the transparency
        record does not show; with the charter recorded last put back, it starts."""
        from fastapi.testclient import TestClient

        from commune.api.app import create_app
        from commune.errors import ConfigError
        from commune.store.schema import audit_log, charters
        from commune.text.messages import localise

        assert c.charter  # the default, recorded
        c.refresh()  # and the index built, as under a server that has run
        recorded, audited = count(c, charters), count(c, audit_log)
        charter = c.settings.home / "charter.toml"
        charter.write_text('version = "2"\n', encoding="utf-8")
        writable = _taking_no_write(c)
        with pytest.raises(ConfigError) as refused:
            create_app(c)
        said = localise(str(refused.value), "fr")
        assert "\n" not in said
        assert said.startswith(
            "la charte 2 n'a pas pu être consignée comme en vigueur\u00a0: la base de données "
            "n'accepte aucune écriture ("
        ), said
        assert said.endswith(
            "(aucune réponse n'est donnée sous une charte que le registre de transparence ne "
            "montre pas\u00a0: rendez la base de données accessible en écriture (sous "
            "PostgreSQL, servez depuis le primaire, pas un réplica, avec "
            "default_transaction_read_only à off), ou remettez la charte consignée en "
            "dernier, puis relancez)"
        ), said
        charter.unlink()  # the charter recorded last, put back
        with TestClient(create_app(c)) as client:
            assert client.get("/healthz").status_code == 200
        writable()
        assert count(c, charters) == recorded and count(c, audit_log) == audited

    def test_an_index_not_recordable_at_start_serves_from_memory_and_says_so(
        self, c, tmp_path, monkeypatch, caplog
    ):
        """The search index built at the server's start is recorded in the database before it
        takes its place on disk: a database taking no write stopped the start (the
        application's start-up failed, the service down). The server now starts, searches
        are served from the index kept in memory, none is left on disk (unrecorded, the
        next load would take it for another database's), and one line of the operator's
        log says so in its language."""
        import logging
        import shutil

        from fastapi.testclient import TestClient

        from commune.api.app import create_app

        p = tmp_path / "piscine.txt"
        p.write_text("La piscine ouvre à neuf heures, sauf le lundi.\n", encoding="utf-8")
        c.add([p], collection="mairie", licence="etalab-2.0")
        assert c.charter
        shutil.rmtree(c.settings.index_dir, ignore_errors=True)  # none built yet, or lost
        writable = _taking_no_write(c)
        monkeypatch.setenv("LANG", "fr_FR.UTF-8")
        for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            monkeypatch.delenv(name, raising=False)
        with caplog.at_level(logging.WARNING, logger="commune.index"):
            with TestClient(create_app(c)) as client:
                assert client.get("/healthz").status_code == 200
                [hit] = c.search("piscine lundi", k=1)
        assert "piscine" in hit.title.lower()
        said = [r.getMessage() for r in caplog.records if r.name == "commune.index"]
        assert len(said) == 1 and "\n" not in said[0], said
        assert (
            said[0].startswith("l'index de recherche construit à la génération ")
            and " n'a pas été gardé sur le disque\u00a0: la base de données n'accepte aucune "
            in (said[0])
        ), said
        assert said[0].endswith(
            "(les recherches sont servies depuis la mémoire\u00a0; il est reconstruit au "
            "prochain démarrage, tant que la base de données n'accepte pas d'écriture)"
        ), said
        assert not list(c.settings.index_dir.glob("g*"))
        writable()
        assert c.reindex()["chunks"] == 1  # once the database takes writes, kept on disk
        assert list(c.settings.index_dir.glob("g*"))

    def test_a_replica_s_index_kept_in_memory_takes_its_primary_s_changes_beside_it(
        self, c, tmp_path, caplog
    ):
        """The index a server on a database taking no write (a replica following its
        primary) builds at start is served from memory. At each change the primary made, it
        was built whole again, and one more line of the log said it was not kept: a full
        build per change, where the log and the docs say it is built again at the next
        start. The changes are now served beside it, as beside a base on disk: found by
        searches, and no other line."""
        import logging
        import shutil

        from commune.core import Commune

        a = tmp_path / "piscine.txt"
        a.write_text("La piscine ouvre à neuf heures, sauf le lundi.\n", encoding="utf-8")
        c.add([a], collection="mairie", licence="etalab-2.0")
        assert c.charter
        shutil.rmtree(c.settings.index_dir, ignore_errors=True)  # none built yet, or lost
        writable = _taking_no_write(c)
        try:
            with caplog.at_level(logging.WARNING, logger="commune.index"):
                [hit] = c.search("piscine lundi", k=1)
                assert "piscine" in hit.title.lower()
                b = tmp_path / "mairie.txt"
                b.write_text("La mairie ferme à midi le samedi.\n", encoding="utf-8")
                with Commune(c.settings.home) as primary:  # the primary writes
                    primary.add([b], collection="mairie", licence="etalab-2.0")
                c.refresh()  # the replica follows
                [hit] = c.search("mairie samedi", k=1)
                assert "mairie" in hit.title.lower()
        finally:
            writable()
        said = [r.getMessage() for r in caplog.records if r.name == "commune.index"]
        assert len(said) == 1, said  # the build at start, not one more per change
        assert not list(c.settings.index_dir.glob("g*"))

    def test_a_replica_s_index_in_memory_is_not_kept_over_a_personal_data_takedown(
        self, c, tmp_path
    ):
        """A replica's index kept in memory, with the changes since beside it: a personal-data
        takedown on its primary must not leave the erased person's words in it (its
        vocabulary, read for the question's words), as none is left in a base on disk
        (Commune._forget_erased): it is built again without them."""
        import shutil

        from commune.core import Commune

        a = tmp_path / "arrete.txt"
        a.write_text(
            "Arrêté de stationnement. Monsieur Zorglub Marchandeau habite 12 rue des Lilas.\n",
            encoding="utf-8",
        )
        b = tmp_path / "piscine.txt"
        b.write_text("La piscine ouvre à neuf heures, sauf le lundi.\n", encoding="utf-8")
        c.add([a, b], collection="mairie", licence="etalab-2.0")
        assert c.charter
        [zorglub] = [d["id"] for d in c.documents() if "arrete" in d["source_uri"]]
        shutil.rmtree(c.settings.index_dir, ignore_errors=True)

        def words(catalog) -> set[str]:  # type: ignore[no-untyped-def]
            found: set[str] = set()
            while catalog is not None:
                for segment in catalog.lexical.segments:
                    found |= {w for w, j in segment.vocab.items() if segment.df[j]}
                catalog = catalog.base
            return found

        writable = _taking_no_write(c)
        try:
            assert "zorglub" in words(c.refresh())  # built at start, kept in memory
            with Commune(c.settings.home) as primary:  # the primary takes it down
                primary.retire(zorglub, "l'adresse d'un habitant", category="personal-data")
            catalog = c.refresh()  # the replica follows
            assert "zorglub" not in words(catalog)
            [hit] = c.search("piscine lundi", k=1)
            assert "piscine" in hit.title.lower()
        finally:
            writable()

    def test_the_purger_on_a_database_taking_no_write_says_so_in_one_line(self, c, monkeypatch):
        """The server's purger on a database that takes no write (a replica,
        default_transaction_read_only, SQLite read-only) logged the driver's whole error each
        hour, in English whatever the server's language: several lines, the SQL statement
        and its parameters included. It is now one line of the operator's log, in the
        server's language, saying the next purge tries again."""
        import logging

        assert c.charter  # in force already, as in a server that has run
        monkeypatch.setenv("LANG", "fr_FR.UTF-8")
        for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            monkeypatch.delenv(name, raising=False)
        said: list[str] = []
        logged = threading.Event()

        class Seen(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.levelno >= logging.WARNING:
                    said.append(record.getMessage())
                    logged.set()

        seen = Seen()
        logger = logging.getLogger("commune.charter")
        logger.addHandler(seen)
        writable = _taking_no_write(c)
        try:
            c.start_purger()
            assert logged.wait(600)  # its first purge, at once
            c.stop_purger()
        finally:
            logger.removeHandler(seen)
            writable()
        [line] = said
        assert "\n" not in line and "[SQL" not in line and "[parameters" not in line, line
        assert line.startswith(
            "l'effacement passé la durée de conservation n'a pas été fait\u00a0: "
        ), line
        assert line.endswith("(le prochain effacement de chaque heure le réessaie)"), line

    def test_a_nul_character_in_what_people_send_is_refused_not_an_internal_error(self, c):
        """PostgreSQL's driver refuses a NUL in a text (DataError): a name sent as %00 was an
        internal error (500) at the API and a traceback at the command line, where SQLite
        answered it as any unknown name."""
        from fastapi.testclient import TestClient

        from commune.api.app import create_app
        from commune.errors import CommuneError
        from commune.govern.members import AuthError

        key = make_key(c, "alice", "Ville A", "member-admin")
        make_key(c, "bob", "Ville A", "reader")
        with pytest.raises(CommuneError):
            c.admin.remove_user("bob\x00", "parti", actor=c.actor("alice"))
        with pytest.raises(AuthError, match="wrong user name or password"):  # as any unknown
            c.admin.sign_in("bob\x00", "correct horse battery")
        with TestClient(create_app(c), raise_server_exceptions=False) as client:
            r = client.post(
                "/api/users/bob%00/remove",
                json={"reason": "parti"},
                headers={"Authorization": f"Bearer {key}"},
            )
        assert r.status_code in (400, 404), r.text
        if r.status_code == 400:
            assert "un texte donné contient un caractère NUL" in r.json()["detail"], r.text
        assert [p["name"] for p in c.admin.people(c.actor("alice"))] == ["alice", "bob"]

    def test_a_file_with_a_nul_character_is_stored_without_it(self, c, tmp_path):
        """A NUL past the first 8 KB a text file is checked on (or a PDF glyph read as one):
        SQLite stored it, and on PostgreSQL the whole add stopped at that file."""
        from commune.store.schema import chunks

        d = tmp_path / "docs"
        d.mkdir()
        filler = "La mairie publie ses horaires chaque semaine pour les habitants. " * 150
        (d / "a-long.txt").write_text(f"{filler}\nLe marché\x00 a lieu le jeudi.\n", "utf-8")
        (d / "b-piscine.txt").write_text("La piscine ouvre le samedi.\n", "utf-8")
        summary = c.add([d], collection="mairie", licence="CC0-1.0")
        assert (summary.added, summary.failed) == (2, 0), summary.outcomes
        with c.engine.connect() as conn:
            texts = list(conn.execute(select(chunks.c.text)).scalars())
        assert not [t for t in texts if "\x00" in t]
        assert [t for t in texts if "Le marché a lieu le jeudi" in t]

    def test_a_peers_long_contributor_name_is_kept_to_its_column(self, c):
        """A peer's passage whose contributor's name is over 200 characters (the peer's to
        give): on PostgreSQL every answer citing it failed on the column's length."""
        from commune.commons.peering.citations import record_peer_sources
        from commune.store.schema import peer_citations

        c.add_peer("coop-b", "https://b.example", key="cmn_1234abcd_secretpart")
        cited = {"peer": "coop-b", "document_id": 7, "title": "Piscine", "licence": None}
        with c.engine.begin() as conn:
            record_peer_sources(
                conn, "ask", [{**cited, "contributor": "é" * 300, "citations": 1}], c.actor(None)
            )
        with c.engine.connect() as conn:
            kept = conn.execute(select(peer_citations.c.contributor)).scalar_one()
        assert kept == "é" * 200

    def test_the_names_a_hint_offers_come_in_their_order(self, c):
        """ "known members: ...": PostgreSQL gave them in the order they were added, SQLite
        in the order of their names."""
        from commune.errors import NotFound

        for name in ("Ville B", "Ville A", "Petite Asso"):
            c.admin.add_member(name, kind="town")
        with pytest.raises(NotFound, match=r"known members: Petite Asso, Ville A, Ville B\)$"):
            c.admin.set_member_quotas("Nulle", {"requests_per_day": 5})

    def test_a_remote_models_energy_method_is_kept_whole(self, c):
        """A remote model's EcoLogits estimate, with this machine's share, runs past 200
        characters: PostgreSQL refused the ledger row, and the answer with it."""
        from commune.store import repository as repo
        from commune.store.schema import usage

        method = (
            "CPU time x 12 W per core, a configured figure (estimated) + ecologits 0.11.3, "
            "modelled: gpu (24B active, 24B total, 16-bit), 20 output tokens, FRA electricity "
            "mix, PUE 1.1-1.4, 80 GB GPUs in EcoLogits' reference server, embodied impacts "
            "included"
        )
        assert len(method) > 200
        with c.engine.begin() as conn:
            repo.record_usage(
                conn,
                route="ask",
                mode="generate",
                model="gpu",
                input_tokens=100,
                output_tokens=20,
                duration_ms=1.0,
                fallback=False,
                cpu_seconds=0.1,
                wh=0.003,
                energy_method=method,
                estimated=True,
            )
        with c.engine.connect() as conn:
            assert conn.execute(select(usage.c.energy_method)).scalar_one() == method

    def test_a_licence_ref_too_long_to_record_is_refused_before_anything_is_stored(
        self, c, tmp_path
    ):
        """Its text is recorded under its name (200 characters): SQLite stored a longer one,
        and on PostgreSQL the add failed on the column's length, an internal error."""
        from commune.errors import CommuneError

        page = tmp_path / "piscine.txt"
        page.write_text("La piscine ouvre le samedi.\n", "utf-8")
        name = "LicenseRef-" + "x" * 250
        with pytest.raises(CommuneError, match="LicenseRef- name is 261 characters long"):
            c.add([page], collection="mairie", licence=name, licence_text="Texte.")
        assert c.documents() == [] and c.collections() == []
        c.add([page], collection="mairie", licence="LicenseRef-" + "x" * 189, licence_text="T.")
        assert [d["licence"] for d in c.documents()] == ["LicenseRef-" + "x" * 189]

    def test_a_peers_name_is_held_to_the_rule_of_names(self, c):
        """Over 200 characters, SQLite stored it and PostgreSQL failed on the column's length
        (an internal error); a line break forged a line of `commune peer list`."""
        from commune.errors import InvalidRequest

        key = "cmn_abcd_efghijklmnop"
        for name in ("p" * 201, "ville-b\nville-c"):
            with pytest.raises(InvalidRequest, match="a peer name must be 1 to 200 characters"):
                c.add_peer(name, "https://commune.ville-b.fr", key=key)
        assert c.peers() == []
        c.add_peer("p" * 200, "https://commune.ville-b.fr", key=key)
        assert [p["name"] for p in c.peers()] == ["p" * 200]

    def test_what_a_peer_gives_of_a_cited_passage_is_kept_as_the_store_can(self, c):
        """A peer's title with a NUL character, or a document id past PostgreSQL's
        integers (the peer's to give): on PostgreSQL every answer citing that passage
        failed, its asker told of a NUL character they never sent, or of an internal
        error. SQLite stored both."""
        from commune.commons.peering.citations import record_peer_sources
        from commune.store.schema import peer_citations

        c.add_peer("coop-b", "https://b.example", key="cmn_1234abcd_secretpart")
        cited = {"peer": "coop-b", "licence": "CC-BY\x00", "contributor": "V\x00B"}
        with c.engine.begin() as conn:
            record_peer_sources(
                conn,
                "ask",
                [
                    {**cited, "document_id": 7, "title": "Pisc\x00ine", "citations": 1},
                    {**cited, "document_id": 2**40, "title": "Marché", "citations": 1},
                ],
                c.actor(None),
            )
        with c.engine.connect() as conn:
            kept = conn.execute(
                select(
                    peer_citations.c.document_id,
                    peer_citations.c.title,
                    peer_citations.c.licence,
                    peer_citations.c.contributor,
                )
            ).all()
        assert [tuple(r) for r in kept] == [(7, "Piscine", "CC-BY", "VB")]

    def test_a_removed_peer_s_titles_are_forgotten_and_said_so_on_every_store(self, c):
        """A removed peer's titles are blanked, and the credits report says why, a peer
        added again included: its citations' times are compared with its registration's,
        which each store returns as its own kind of datetime."""
        from datetime import UTC, datetime

        from commune.commons.peering.citations import record_peer_sources, report

        key = "cmn_1234abcd_secretpart"
        c.add_peer("coop-b", "https://b.example", key=key)
        one = {"peer": "coop-b", "document_id": 7, "title": "Piscine", "licence": "CC-BY-4.0"}
        with c.engine.begin() as conn:
            record_peer_sources(conn, "ask", [{**one, "citations": 1}], c.actor(None))
        assert c.remove_peer("coop-b") == 1
        c.add_peer("coop-b", "https://b.example", key=key)
        with c.engine.connect() as conn:
            start, end = datetime(1970, 1, 1, tzinfo=UTC), datetime(2999, 1, 1, tzinfo=UTC)
            [row] = report(conn, start, end)["from_peers"]
        assert (row["title"], row["contributor"], row["forgotten"]) == (
            "",
            "(unknown)",
            "peer removed",
        )

    def test_a_document_brought_back_has_its_title_again_at_the_peer_on_every_store(
        self, c, tmp_path
    ):
        """A reinstatement travels as a retirement does, on each store: the serving side
        lists a document its peer cited, retired then reinstated, with its title (read from
        the audit log's reinstatements), and the asking side gives the title back where it
        forgot it, comparing its citations' times with the peer's registration, which each
        store returns as its own kind of datetime. A home may play both sides: this one
        does."""
        from commune.commons.peering.citations import (
            forget_titles,
            record_peer_sources,
            restore_titles,
        )
        from commune.store.schema import peer_citations

        (tmp_path / "bell.md").write_text(
            "# Bell tower visits\n\nThe bell tower is open for visits on the first Sunday.\n"
        )
        c.add([tmp_path / "bell.md"], collection="open-b", licence="CC-BY-4.0")
        c.share("open-b")
        c.admin.issue_peer("coop-a")
        peer = c.actor("coop-a")
        [hit] = c.peer_search("bell tower visits", actor=peer, k=1)["hits"]
        assert c.peer_desk.cited({hit["chunk_id"]: 1}, peer)["recorded"] == 1
        doc = hit["document_id"]
        c.retire(doc, "wrong file", category="error")
        c.reinstate(doc, "retired by mistake")
        said = c.peer_retired(actor=peer)
        assert said == {
            "retired": [],
            "reinstated": [{"document_id": doc, "title": "Bell tower visits"}],
        }
        c.add_peer("coop-b", "https://b.example", key="cmn_1234abcd_secretpart")
        one = {"peer": "coop-b", "document_id": doc, "title": "Bell tower visits",
               "licence": "CC-BY-4.0", "contributor": "Ville B", "citations": 1}  # fmt: skip
        with c.engine.begin() as conn:
            record_peer_sources(conn, "ask", [one], c.actor(None))
            assert forget_titles(conn, "coop-b", [doc]) == 1
            assert restore_titles(conn, "coop-b", said["reinstated"]) == 1
            assert restore_titles(conn, "coop-b", said["reinstated"]) == 0  # given back once
        with c.engine.connect() as conn:
            kept = conn.execute(select(peer_citations.c.title)).scalars().all()
        assert kept == ["Bell tower visits"]

    def test_a_peer_search_reads_the_reinstatements_through_an_index(self, c):
        """Every /peer/search reads the subjects of the audit log's reinstatements
        (citations.reinstatements); without an index on (action, subject) each read the
        whole log, which is never purged. The plan of that very query names the index on
        each store. PostgreSQL's planner reads a small table whole whatever its indexes:
        told not to where it can avoid it, it says whether the index serves the query."""
        from commune.commons.peering.citations import reinstatements

        with c.engine.begin() as conn:
            query = str(
                reinstatements().compile(
                    dialect=conn.dialect, compile_kwargs={"literal_binds": True}
                )
            )
            if conn.dialect.name == "sqlite":
                plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}").all()
            else:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plan = conn.exec_driver_sql(f"EXPLAIN {query}").all()
        assert any("ix_audit_log_action_subject" in str(row) for row in plan), plan

    def test_a_peer_removed_while_an_answer_is_under_way_keeps_no_title_of_it(self, c):
        """A peer removed while an answer citing it was under way (its passages gathered,
        the model still writing): the answer's rows, written after the removal or committed
        after it, kept the title and contributor the removal had blanked, for good. On
        PostgreSQL the removal did not wait for the answer and blanked what it saw."""
        import time

        from commune.commons.peering.citations import record_peer_sources
        from commune.store.schema import peer_citations

        key = "cmn_1234abcd_secretpart"
        one = {"peer": "coop-b", "document_id": 7, "title": "Plainte de M. Dupont",
               "licence": "CC-BY-4.0", "contributor": "Jean Dupont", "citations": 1}  # fmt: skip

        def kept() -> list[tuple[object, ...]]:
            with c.engine.connect() as conn:
                query = select(peer_citations.c.title, peer_citations.c.contributor)
                return [tuple(r) for r in conn.execute(query)]

        # Removed before the answer's records are written.
        c.add_peer("coop-b", "https://b.example", key=key)
        c.remove_peer("coop-b")
        with c.engine.begin() as conn:
            record_peer_sources(conn, "ask", [one], c.actor(None))
        assert kept() == [("", None)]
        # Removed while they are being written: the removal waits for them, then blanks them.
        c.add_peer("coop-c", "https://c.example", key=key)
        removed: list[int] = []
        with c.engine.begin() as conn:
            record_peer_sources(conn, "ask", [{**one, "peer": "coop-c"}], c.actor(None))
            remover = threading.Thread(target=lambda: removed.append(c.remove_peer("coop-c")))
            remover.start()
            time.sleep(1)  # the removal, if it did not wait, is done by now
        remover.join(30)
        assert removed == [1]
        assert kept() == [("", None), ("", None)]

    def test_a_peer_removed_while_its_titles_come_back_keeps_none_of_them(self, c, monkeypatch):
        """A peer removed while this home gives back the titles of the documents it
        reinstated (read as blank, not yet written): the removal blanked what it saw, then
        the titles were written back, kept for good for a peer no longer asked, where no
        takedown of its own reaches. Now the titles are written only while the peer is
        there: the removal waits for them (PostgreSQL), or they are not written (SQLite)."""
        from commune.commons.peering import citations
        from commune.store.schema import peer_citations

        one = {"peer": "coop-b", "document_id": 7, "title": "Plainte de M. Dupont",
               "licence": "CC-BY-4.0", "contributor": "Jean Dupont", "citations": 1}  # fmt: skip
        c.add_peer("coop-b", "https://b.example", key="cmn_1234abcd_secretpart")
        with c.engine.begin() as conn:
            citations.record_peer_sources(conn, "ask", [one], c.actor(None))
            assert citations.forget_titles(conn, "coop-b", [7]) == 1
        removed: list[int] = []
        remover = threading.Thread(target=lambda: removed.append(c.remove_peer("coop-b")))
        written = citations.update

        def removal_between_read_and_write(table: object) -> object:
            # The removal, once restore_titles has read which titles are blank.
            monkeypatch.setattr(citations, "update", written)
            remover.start()
            remover.join(1)  # done by now, unless it waits for this transaction
            return written(table)

        monkeypatch.setattr(citations, "update", removal_between_read_and_write)
        with c.engine.begin() as conn:
            citations.restore_titles(conn, "coop-b", [{"document_id": 7, "title": "Plainte"}])
        remover.join(30)
        assert removed == [1]
        with c.engine.connect() as conn:
            kept = [tuple(r) for r in conn.execute(select(peer_citations.c.title))]
        assert kept == [("",)]

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

    def test_adding_documents_writes_the_members_ingestion_rows_shown_apart(self, c, corpus):
        """`commune add` embedded every passage and wrote no ledger row: its energy was in
        no total. Now one row per document, in its transaction, the collection's member's."""
        from datetime import UTC, datetime

        from commune.store.schema import documents, usage

        c.admin.add_member("Ville A", kind="town")
        summary = c.add([corpus], collection="mairie", member="Ville A", licence="etalab-2.0")
        with c.engine.connect() as conn:
            rows = conn.execute(select(usage).where(usage.c.mode == "ingest")).all()
            stored = conn.execute(select(func.count()).select_from(documents)).scalar_one()
        assert len(rows) == stored == summary.added
        assert {(r.route, r.collection, r.user_id) for r in rows} == {("add", "mairie", None)}
        [owner] = {r.member_id for r in rows}
        assert owner is not None and all(r.wh > 0 for r in rows)
        report = c.transparency()
        assert report["totals"]["requests"] == 0
        assert report["totals"]["ingestion"]["rows"] == stored
        stmt = c.statement(datetime.now(UTC).strftime("%Y-%m"))
        [line] = stmt.lines
        assert line.requests == 0
        assert line.ingest_wh == pytest.approx(sum(r.wh for r in rows)) == line.wh

    def test_the_audit_chain_verifies_and_tampering_is_found(self, c):
        for i in range(3):
            make_key(c, f"user{i}", "Ville A", "reader")  # each grant is audited
        assert c.verify_audit().ok
        with c.engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET subject = 'user forged' WHERE id = 2"))
        assert not c.verify_audit().ok

    def test_two_processes_appending_to_the_audit_chain_keep_it_whole(self, c, tmp_path):
        """Each appends in a transaction whose first write is the audit entry (as issuing
        payouts does): on SQLite the chain's head was read outside the write lock, and two
        entries chained onto the same head."""
        import subprocess
        import sys

        script = (
            "import pathlib, sys, time\n"
            "from commune.store import audit\n"
            "from commune.store.db import open_database\n"
            "engine = open_database(sys.argv[1])\n"
            "ready = pathlib.Path(sys.argv[3])\n"
            "(ready / sys.argv[2]).touch()\n"
            "while len(list(ready.iterdir())) < 2:  # both start together\n"
            "    time.sleep(0.01)\n"
            "for i in range(200):\n"
            "    with engine.begin() as conn:\n"
            "        audit.append(conn, 'admin' + sys.argv[2], 'payouts', f'month {i}')\n"
        )
        url = c.engine.url.render_as_string(hide_password=False)
        ready = tmp_path / "ready"
        ready.mkdir()
        procs = [subprocess.Popen([sys.executable, "-c", script, url, t, str(ready)]) for t in "12"]
        assert [p.wait(timeout=600) for p in procs] == [0, 0]
        report = c.verify_audit()
        assert report.ok and report.entries == 400, report.problems[:3]

    def test_two_adds_of_the_same_new_file_store_it_once(self, c, tmp_path):
        """Both check that the document is absent, then both write it: on PostgreSQL the
        second failed on the unique source (a traceback, the whole batch lost)."""
        from commune.commons.curation import ArrivalGate
        from commune.ingest import batch

        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        both_checked = threading.Barrier(2, timeout=3)  # broken when one waits for the other

        class Gate(ArrivalGate):
            def decide(self, conn, coll_id, licence, existing, held=None):  # type: ignore[no-untyped-def]
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_checked.wait()
                return super().decide(conn, coll_id, licence, existing, held)

        c.add([page], collection="mairie", licence="CC0-1.0")  # the collection, the model
        page.write_text("La piscine municipale ouvre le mardi à neuf heures.\n", "utf-8")
        outcomes: list[str] = []

        def add() -> None:
            from commune.ingest.pipeline import Provenance

            try:
                summary = batch.ingest_paths(
                    c.engine,
                    c.settings,
                    [page],
                    "mairie",
                    Provenance("CC0-1.0", None, None, None, False, c.actor(None)),
                    Gate(),
                )
                outcomes.extend(f.status for f in summary.outcomes)
            except Exception as e:  # noqa: BLE001  (what a user would see)
                outcomes.append(type(e).__name__)

        threads = [threading.Thread(target=add) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert sorted(outcomes) == ["unchanged", "updated"], outcomes

    def test_two_adds_of_one_name_at_once_make_one_person_and_tell_the_other(self, c, monkeypatch):
        """Both found the name free, then both wrote it: on PostgreSQL the second failed on
        the unique key (the driver's traceback), and "Alice" beside "alice" both went in."""
        from commune.govern import members

        with c.engine.begin() as conn:
            members.add_member(conn, "Ville A", "town")
        both_checked = threading.Barrier(2, timeout=3)  # broken when one waits for the other
        real = members._not_a_twin

        def slow(*args):  # type: ignore[no-untyped-def]
            real(*args)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait()

        monkeypatch.setattr(members, "_not_a_twin", slow)
        for names in (("alice", "alice"), ("Bruno", "bruno")):
            outcomes: list[str] = []

            def add(name: str, outcomes: list[str] = outcomes) -> None:
                try:
                    with c.engine.begin() as conn:
                        members.add_user(conn, name, "Ville A")
                    outcomes.append("added")
                except Exception as e:  # noqa: BLE001  (what a user would see)
                    outcomes.append(f"{type(e).__name__}: {e}")

            threads = [threading.Thread(target=add, args=(n,)) for n in names]
            for t in threads:
                t.start()
            for t in threads:
                t.join(600)
            both_checked.reset()
            told = [o for o in outcomes if o != "added"]
            assert len(outcomes) == 2 and len(told) == 1, outcomes
            assert told[0].startswith("CommuneError: a user named"), outcomes
            assert "already exists" in told[0], outcomes
        with c.engine.connect() as conn:
            names = [r[0] for r in conn.execute(text("SELECT name FROM users ORDER BY id"))]
        assert sorted(n.casefold() for n in names) == ["alice", "bruno"]

    def test_two_keys_made_at_once_past_the_cap_make_one(self, c, monkeypatch):
        """[limits] max_keys_per_user counts a person's active keys, expired ones out; two
        creations at once both counted one short of the cap without the lock, and both went
        in."""
        from commune.govern import members
        from commune.govern.admin import Admin
        from commune.store.repository import now
        from commune.store.schema import api_keys

        admin = Admin(c.engine, max_keys_per_user=2)
        admin.add_member("Ville A", kind="town")
        admin.add_user("alice", member="Ville A")
        lapsed = admin.create_key("alice", expires_days=1)[0]
        with c.engine.begin() as conn:  # expired now: it no longer counts
            conn.execute(api_keys.update().where(api_keys.c.id == lapsed).values(expires_at=now()))
        admin.create_key("alice")
        both_counted = threading.Barrier(2, timeout=3)  # broken when one waits for the other
        real = members._within_keys

        def slow(*args):  # type: ignore[no-untyped-def]
            real(*args)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_counted.wait()

        monkeypatch.setattr(members, "_within_keys", slow)
        outcomes: list[str] = []

        def make() -> None:
            try:
                admin.create_key("alice")
                outcomes.append("made")
            except Exception as e:  # noqa: BLE001  (what a user would see)
                outcomes.append(f"{type(e).__name__}: {e}")

        threads = [threading.Thread(target=make) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert sorted(outcomes)[0] == "CommuneError: alice already has 2 active keys, the most " + (
            "[limits] max_keys_per_user allows (revoke one first: commune key list, then "
            "commune key revoke ID)"
        ), outcomes
        assert sorted(outcomes)[1] == "made", outcomes
        assert len([k for k in admin.keys() if k["revoked_at"] is None]) == 3  # 2 + the lapsed

    def test_a_unique_key_two_writers_hit_at_once_is_one_line_in_both_languages(self, c):
        """What a race no lock foresees leaves behind (a unique key, a deadlock): the CLI and
        the API said it with the driver's traceback, or as an unnamed internal error."""
        from commune.cli.group import operational_error
        from commune.http.incidents import incident

        for _ in range(2):  # the second insert is what the slower of two writers meets
            try:
                with c.engine.begin() as conn:
                    conn.execute(
                        text(
                            "INSERT INTO members (name, kind, created_at, declared_use) "
                            "VALUES ('Ville A', 'town', CURRENT_TIMESTAMP, 'non-commercial')"
                        )
                    )
            except exc.IntegrityError as e:
                refused = e
        english = operational_error(refused, "/srv/commune", "en")
        french = operational_error(refused, "/srv/commune", "fr")
        assert english is not None and french is not None
        assert english.startswith("another command or request wrote the same thing"), english
        assert "run the command again" in english and "\n" not in english
        assert french.startswith("une autre commande ou requête a écrit"), french
        told = incident(refused, "en", "on POST /api/people")
        assert told.code == "conflict" and told.message.startswith("another request wrote")
        with c.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM members")).scalar() == 1

    def test_a_takedown_while_its_file_is_added_elsewhere_leaves_no_copy_published(
        self, c, tmp_path, monkeypatch
    ):
        """The add found no retired document with the file, then the retirement looked for
        published copies and found none (the add had not committed): on PostgreSQL the copy
        was published after the takedown."""
        from commune.store import repository

        page = tmp_path / "a" / "deliberation.txt"
        page.parent.mkdir()
        page.write_text("Madame Durand, 12 rue des Lilas, a demandé une aide.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        [doc] = c.documents()
        checked, retired = threading.Event(), threading.Event()
        real = repository.retired_holder

        def slow(*args):  # type: ignore[no-untyped-def]
            found = real(*args)
            checked.set()
            retired.wait(3)  # the retirement, unless it waits for this add (then in vain)
            return found

        monkeypatch.setattr(repository, "retired_holder", slow)
        copy = tmp_path / "b" / "deliberation.txt"
        copy.parent.mkdir()
        copy.write_bytes(page.read_bytes())
        adding = threading.Thread(
            target=c.add, args=([copy],), kwargs={"collection": "archives", "licence": "CC0-1.0"}
        )
        adding.start()
        assert checked.wait(600)
        c.retire(doc["id"], "données personnelles", category="personal-data")
        retired.set()
        adding.join(600)
        published = [d for d in c.documents() if d["status"] == "published"]
        assert published == [], published
        assert c.search("Madame Durand rue des Lilas", k=5) == []

    def test_a_curators_decisions_outlive_a_newer_reader(self, c, tmp_path, monkeypatch):
        """A licence confirmed over the file's own stays confirmed at each reader upgrade
        (repo.approved looks through the revisions of the same bytes), and a rejected file is
        not read again (pipeline._stands)."""
        from commune.ingest import readers
        from tests.test_dila import FICHE_XML
        from tests.test_ingest import read_otherwise

        fiche = tmp_path / "F1367.xml"
        fiche.write_text(FICHE_XML, encoding="utf-8")
        doc_id = c.add([fiche], collection="autre", licence="CC-BY-SA-4.0").outcomes[0].document_id
        [held] = c.pending()
        c.review(held["id"], "approve", "the publisher's own re-use terms")
        note = tmp_path / "avis.txt"
        note.write_text("Avis : la salle des fêtes est louée le samedi.", "utf-8")
        # No licence: held for a curator.
        note_id = c.add([note], collection="mairie").outcomes[0].document_id
        [held] = c.pending()
        c.review(held["id"], "reject", "not the town's wording")
        # Read otherwise too: unchanged for the rejection alone, not for passages that came
        # out as stored (pipeline._read_alike), which would hide a rejection not kept.
        read_otherwise(c, note_id)
        for version in ("next", "after"):
            monkeypatch.setitem(readers.READINGS, "application/xml", f"dila-{version}")
            monkeypatch.setitem(readers.READINGS, "text/plain", f"txt-{version}")
            read_otherwise(c, doc_id)  # a newer reader that reads the fiche otherwise
            again = c.add([fiche], collection="autre")
            assert (again.updated, again.outcomes[0].held) == (1, None), version
            assert c.add([note], collection="mairie").unchanged == 1
        [rev] = [r for r in c.revisions(doc_id) if r["status"] == "published"]
        assert (rev["licence"], rev["number"]) == ("CC-BY-SA-4.0", 3)
        assert not c.pending()

    def test_a_file_a_newer_reader_reads_as_stored_waits_for_no_curator(
        self, c, tmp_path, monkeypatch
    ):
        """An upgrade's newer readers (txt-2, md-3, odt-6, ods-2) read every stored file of
        their formats again, and each was a new revision, in a collection asking approvals
        one more to approve, though most came out as they were stored: the curators' queue
        filled with revisions changing nothing. Read as stored, a file records its new reading
        only (pipeline._read_alike); read otherwise, it is a new revision, held as before."""
        from commune.ingest import readers
        from commune.store.schema import chunks, revisions
        from tests.test_ingest import read_otherwise

        same = tmp_path / "piscine.txt"
        same.write_text("La piscine municipale ouvre le mercredi après-midi.\n", "utf-8")
        changed = tmp_path / "cantine.txt"
        changed.write_text("Le repas de la cantine coûte trois euros.\n", "utf-8")
        first = c.add([same, changed], collection="mairie", licence="CC0-1.0")
        same_id, changed_id = (o.document_id for o in first.outcomes)
        c.set_curation_rules("mairie", 1, "curator")
        monkeypatch.setitem(readers.READINGS, "text/plain", "txt-next")  # the upgrade
        read_otherwise(c, changed_id)  # which reads this one otherwise than it was stored
        stored = count(c, chunks)
        again = c.add([same, changed], collection="mairie", licence="CC0-1.0")
        assert [(o.status, o.held is not None) for o in again.outcomes] == [
            ("unchanged", False),
            ("updated", True),
        ]
        [held] = c.pending()
        assert held["document_id"] == changed_id
        assert held["hold_reason"].startswith("the same file, read again by a newer reader")
        with c.engine.connect() as conn:
            kept = conn.execute(
                select(revisions.c.number, revisions.c.reading, revisions.c.status).where(
                    revisions.c.document_id == same_id
                )
            ).all()
        assert [tuple(r) for r in kept] == [(1, "txt-next", "published")]
        assert count(c, chunks) == stored + 1  # the changed file's passage, and no other
        # Its reading recorded, the file is not read again at the next add.
        assert c.add([same], collection="mairie", licence="CC0-1.0").unchanged == 1
        assert [p["document_id"] for p in c.pending()] == [changed_id]

    def test_an_approval_and_a_rejection_at_once_leave_one_decision(self, c, tmp_path, monkeypatch):
        """Both curators read "proposed", then both wrote: the revision ended "rejected"
        while its document served it."""
        from commune.commons import curation
        from commune.govern.policy import Actor
        from commune.store.schema import documents, revisions

        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie")  # no licence: held for a curator
        [pending] = c.pending()
        both_read = threading.Barrier(2, timeout=3)  # broken when one waits for the other
        rules = curation.rules

        def slow(conn, coll_id):  # type: ignore[no-untyped-def]
            found = rules(conn, coll_id)
            with contextlib.suppress(threading.BrokenBarrierError):
                both_read.wait()
            return found

        monkeypatch.setattr(curation, "rules", slow)
        outcomes: list[str] = []

        def review(name: str, decision: str) -> None:
            who = Actor(None, name, None, None, "cooperative-admin")
            licence = "CC0-1.0" if decision == "approve" else None
            try:
                with c.engine.begin() as conn:
                    curation.review(conn, pending["id"], decision, "lu", who, licence=licence)
                outcomes.append(decision)
            except Exception as e:  # noqa: BLE001
                outcomes.append(type(e).__name__)

        threads = [
            threading.Thread(target=review, args=("alice", "approve")),
            threading.Thread(target=review, args=("bob", "reject")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert sorted(outcomes) in (["CommuneError", "approve"], ["CommuneError", "reject"])
        with c.engine.connect() as conn:
            status = conn.execute(select(revisions.c.status)).scalar_one()
            served = conn.execute(select(documents.c.published_revision_id)).scalar_one()
        assert (status, served is not None) in (("published", True), ("rejected", False))

    def test_a_rejection_and_rules_lowered_at_once_leave_one_decision(
        self, c, tmp_path, monkeypatch
    ):
        """The rules lowered to no approval published the revision a curator was rejecting:
        on PostgreSQL it ended "rejected" while its document served it (or "published",
        the curator told it was rejected)."""
        from commune.commons import curation
        from commune.govern.policy import Actor
        from commune.store.schema import documents, revisions

        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        c.set_curation_rules("mairie", 1, "curator")
        page.write_text("La piscine municipale ouvre le mardi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")  # held for one approval
        [pending] = c.pending()
        both_read = threading.Barrier(2, timeout=3)  # broken when one waits for the other

        def pausing(real):  # type: ignore[no-untyped-def]
            def read(*args):  # type: ignore[no-untyped-def]
                found = real(*args)
                with contextlib.suppress(threading.BrokenBarrierError):
                    both_read.wait()
                return found

            return read

        # What each reads once it has seen the revision waiting: the rules (review), a
        # newer text published (the rules' release).
        monkeypatch.setattr(curation, "rules", pausing(curation.rules))
        monkeypatch.setattr(curation, "_newer_published", pausing(curation._newer_published))
        outcomes: list[str] = []

        def reject() -> None:
            who = Actor(None, "alice", None, None, "cooperative-admin")
            try:
                with c.engine.begin() as conn:
                    outcomes.append(curation.review(conn, pending["id"], "reject", "non", who))
            except Exception as e:  # noqa: BLE001
                outcomes.append(type(e).__name__)

        def lower() -> None:
            try:
                done = c.set_curation_rules("mairie", 0, "curator")
                outcomes.append(f"released {done.released}")
            except Exception as e:  # noqa: BLE001
                outcomes.append(type(e).__name__)

        threads = [threading.Thread(target=reject), threading.Thread(target=lower)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert sorted(outcomes) in (
            ["rejected", "released 0"],
            ["CommuneError", "released 1"],
        ), outcomes
        with c.engine.connect() as conn:
            status = conn.execute(
                select(revisions.c.status).where(revisions.c.id == pending["id"])
            ).scalar_one()
            served = conn.execute(select(documents.c.published_revision_id)).scalar_one()
        assert (status, served == pending["id"]) in (("published", True), ("rejected", False))

    def test_a_retirement_and_rules_lowered_at_once_leave_one_decision(
        self, c, tmp_path, monkeypatch
    ):
        """A takedown of a document whose new text waits for an approval, while its
        collection's rules are lowered to none: on PostgreSQL the retirement held the
        document's row and waited for the audit log, the rules held the audit log and
        waited to publish the text on that row, and one of them failed (deadlock)."""
        from commune.commons import curation
        from commune.store.schema import documents

        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        c.set_curation_rules("mairie", 1, "curator")
        page.write_text("La piscine municipale ouvre le mardi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")  # held for one approval
        [document] = c.documents()
        both_there = threading.Barrier(2, timeout=3)  # broken when one waits for the other
        append, newer = curation.audit.append, curation._newer_published

        def wait() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                both_there.wait()

        def audited(conn, actor, action, *args, **kwargs):  # type: ignore[no-untyped-def]
            if action == "retire":  # its document's row written, the audit log not yet
                wait()
            return append(conn, actor, action, *args, **kwargs)

        def read(*args):  # type: ignore[no-untyped-def]
            found = newer(*args)
            wait()  # the rules' audit row written, the text not yet published
            return found

        monkeypatch.setattr(curation.audit, "append", audited)
        monkeypatch.setattr(curation, "_newer_published", read)
        outcomes: list[str] = []

        def retire() -> None:
            try:
                c.retire(document["id"], "données personnelles", category="personal-data")
                outcomes.append("retired")
            except Exception as e:  # noqa: BLE001
                outcomes.append(type(e).__name__)

        def lower() -> None:
            try:
                done = c.set_curation_rules("mairie", 0, "curator")
                outcomes.append(f"released {done.released}")
            except Exception as e:  # noqa: BLE001
                outcomes.append(type(e).__name__)

        threads = [threading.Thread(target=retire), threading.Thread(target=lower)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(600)
        assert sorted(outcomes) in (["released 0", "retired"], ["released 1", "retired"])
        with c.engine.connect() as conn:
            assert conn.execute(select(documents.c.status)).scalar_one() == "retired"

    def test_a_days_requests_are_counted_on_its_utc_day(self, c):
        """A PostgreSQL database set to Europe/Paris (initdb's default on a French host)
        put a request at 23:30 UTC on the next day's line."""
        from datetime import UTC, datetime

        from sqlalchemy import insert

        from commune.account.ledger import daily_series
        from commune.store.schema import usage

        if c.engine.dialect.name == "postgresql":
            with c.engine.connect() as conn:
                name = conn.exec_driver_sql("select current_database()").scalar()
                conn.exec_driver_sql(f"ALTER DATABASE \"{name}\" SET timezone TO 'Europe/Paris'")
                conn.commit()
            c.engine.dispose()  # new connections read the database's setting
        row = dict(route="ask", mode="extractive", input_tokens=1, output_tokens=1)
        with c.engine.begin() as conn:
            conn.execute(
                insert(usage).values(
                    created_at=datetime(2025, 1, 31, 23, 30, tzinfo=UTC),
                    duration_ms=1.0,
                    fallback=False,
                    cpu_seconds=0.1,
                    wh=0.5,
                    estimated=True,
                    **row,
                )
            )
        with c.engine.connect() as conn:
            days = daily_series(
                conn, None, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 2, 28, tzinfo=UTC)
            )
        assert [(d["day"], d["requests"]) for d in days if d["requests"]] == [("2025-01-31", 1)]

    def test_a_session_zone_from_the_environment_does_not_move_a_utc_day(self, c, monkeypatch):
        """PGTZ in the operator's environment (Europe/Paris on a French host) outranked the
        engine's ``-c timezone=UTC`` startup option (found by h13): every session of the
        server ran in Paris time, and a request at 23:30 UTC counted on the next day's line,
        quotas and statements with it. The engine now sets UTC on each connection itself."""

        from commune.store.db import make_engine

        monkeypatch.setenv("PGTZ", "Europe/Paris")
        engine = make_engine(c.engine.url.render_as_string(hide_password=False))
        try:
            if engine.dialect.name == "postgresql":
                with engine.connect() as conn:
                    assert conn.exec_driver_sql("show timezone").scalar() == "UTC"
            _a_request_at_2330_utc_counts_on_its_utc_day(engine)
        finally:
            engine.dispose()

    @pytest.mark.parametrize("style", ["German", "SQL, DMY", "Postgres, MDY"])
    def test_a_date_style_from_the_environment_does_not_break_the_days(self, c, monkeypatch, style):
        """PGDATESTYLE in the operator's environment reaches the session as PGTZ does: the
        daily series reads its day from a timestamp cast to text, which a session in German
        style wrote "31.01.2025 23:30:00 UTC", and the dashboards' days came out as
        "31.01.2025" (GET /api/usage, the /dashboard page); each connection now sets ISO too."""

        from commune.store.db import make_engine

        monkeypatch.setenv("PGDATESTYLE", style)
        engine = make_engine(c.engine.url.render_as_string(hide_password=False))
        try:
            _a_request_at_2330_utc_counts_on_its_utc_day(engine)
        finally:
            engine.dispose()

    def test_a_client_encoding_from_the_environment_still_stores_any_text(self, c, monkeypatch):
        """PGCLIENTENCODING in the operator's environment (LATIN1, LATIN9 on an older host)
        reached the session as PGTZ does: a text holding "€", "œ" or an emoji failed with
        UnicodeEncodeError in the driver, before it reached the database."""
        from commune.govern.members import add_member, list_members
        from commune.store.db import make_engine

        monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
        engine = make_engine(c.engine.url.render_as_string(hide_password=False))
        try:
            with engine.begin() as conn:
                add_member(conn, "Cœur d'Été € 🌍", "association")
            with engine.connect() as conn:
                assert "Cœur d'Été € 🌍" in {m["name"] for m in list_members(conn)}
        finally:
            engine.dispose()

    def test_key_list_prints_a_keys_expiry_in_utc(self, c):
        """A PostgreSQL session in Europe/Paris (PGTZ in the operator's environment) printed a
        key expiring at 23:30 UTC on 31 January as "expires 2030-02-01", the session's date,
        where SQLite's said the 31st: ``commune key list`` says UTC dates, as the rest do."""
        from datetime import UTC, datetime, timedelta

        from click.testing import CliRunner
        from sqlalchemy import update

        from commune.cli import cli
        from commune.store.schema import api_keys

        make_key(c, "alice", "Ville A", "reader")
        with c.engine.begin() as conn:
            conn.execute(
                update(api_keys).values(expires_at=datetime(2030, 1, 31, 23, 30, tzinfo=UTC))
            )
        out = CliRunner(env={"LANG": "en", "PGTZ": "Europe/Paris"}).invoke(
            cli, ["--home", str(c.settings.home), "key", "list"]
        )
        assert out.exit_code == 0, out.output
        assert "\talice\texpires 2030-01-31\t" in out.output, out.output
        # Every connection is now in UTC (make_engine), which the command above cannot get
        # past: the list itself gives UTC dates in a session set to another zone too.
        from commune.govern.members import list_keys

        with c.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TIME ZONE 'Europe/Paris'")
            [key] = list_keys(conn)
            conn.rollback()
        assert key["expires_at"] == datetime(2030, 1, 31, 23, 30, tzinfo=UTC)
        assert key["expires_at"].utcoffset() == timedelta(0), key["expires_at"]

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

    def test_a_month_issued_before_ingestion_was_metered_matches_its_sha256_here(self, c):
        """The SHA-256 Commune gave before ingestion was metered (c07a33a5) for this ledger
        holds on every store: a month made again with ingestion apart was another bill."""
        from commune.account.statement import digest, made_with
        from commune.config import CooperativeSettings
        from commune.store import audit
        from tests.test_ingestion_energy import ISSUED_BEFORE, _old_month

        settings = CooperativeSettings(server_cost_eur_month=1300, price_eur_per_kwh=0.25)
        with c.engine.begin() as conn:
            _old_month(conn)
            audit.append(
                conn,
                "operator",
                "statement",
                "month 2026-10",
                settings=made_with(settings, 0.0),
                total="0",
                currency="EUR",
                members=2,
                sha256=ISSUED_BEFORE,
            )
        stmt = c.statement("2026-10")
        assert stmt.sha256 == ISSUED_BEFORE == digest(stmt), stmt.notices

    def test_two_issues_of_a_month_at_once_record_one(self, c, database_url, tmp_path, monkeypatch):
        """Issuing read whether the month was issued before taking the audit log's lock: two
        issues at once (two operators, two commune.toml) both read "not issued" and both
        recorded theirs, one's figures printed as issued with the other's settings."""
        from datetime import UTC, datetime

        from sqlalchemy import update

        from commune.core import Commune
        from commune.store import audit
        from commune.store.schema import audit_log, members

        # A member in the month: a month with nobody to bill is not issued.
        make_key(c, "alice", "Ville A", "reader")
        with c.engine.begin() as conn:
            conn.execute(update(members).values(created_at=datetime(2025, 1, 2, tzinfo=UTC)))
        home = tmp_path / "other"
        home.mkdir()
        (home / "commune.toml").write_text(
            f'database_url = "{database_url}"\n[cooperative]\nserver_cost_eur_month = 2000\n'
        )
        real, checked, go = audit.append, threading.Event(), threading.Event()

        def slow(conn, actor, action, subject, **details):  # type: ignore[no-untyped-def]
            if action == "statement" and threading.current_thread().name == "first":
                checked.set()  # it read "not issued": the other issue comes now
                go.wait(3)  # held as long as the other may take, or until it is done
            return real(conn, actor, action, subject, **details)

        monkeypatch.setattr(audit, "append", slow)
        issued = {}
        with Commune(home) as other:
            first = threading.Thread(
                target=lambda: issued.update(first=c.issue_statement("2025-01")), name="first"
            )
            first.start()
            assert checked.wait(60)
            issued["second"] = other.issue_statement("2025-01")  # waits for the first's
            go.set()
            first.join(60)
        assert not first.is_alive()
        with c.engine.connect() as conn:
            entries = select(func.count()).where(audit_log.c.action == "statement")
            assert conn.execute(entries).scalar_one() == 1
        assert issued["second"].total == issued["first"].total
        assert issued["second"].issued == issued["first"].issued != ""

    def test_times_are_given_in_utc_said_so_and_names_read_composed(self, c, tmp_path):
        """One form on every database: SQLite hands timestamps back without a zone and
        PostgreSQL with "+00:00", and the API and an export gave each as it came; a
        collection's name written decomposed is the one stored composed."""
        from datetime import datetime, timedelta

        from fastapi.testclient import TestClient

        from commune.api.app import create_app

        page = tmp_path / "marche.txt"
        page.write_text("Le marché a lieu le samedi matin.\n", "utf-8")
        c.add([page], collection="marché", licence="CC0-1.0")
        with TestClient(create_app(c, require_auth=False), base_url="http://127.0.0.1") as web:
            r = web.get("/api/documents", params={"collection": "marche\u0301"})
            assert r.status_code == 200, r.text
            [listed] = r.json()
        c.export_collection("marché", tmp_path / "dataset")
        [line] = [
            json.loads(raw)
            for raw in (tmp_path / "dataset" / "documents.jsonl").read_text("utf-8").splitlines()
        ]
        for said in (listed["added_at"], listed["updated_at"], line["added_at"]):
            assert said.endswith("Z"), said
            assert datetime.fromisoformat(said).utcoffset() == timedelta(0), said
        assert datetime.fromisoformat(line["added_at"]) == datetime.fromisoformat(
            listed["added_at"]
        )

    def test_two_first_exports_at_once_share_the_homes_identity(self, c, database_url, tmp_path):
        """Known gap: the home's identity and export key (meta) were read, then written if
        absent, in a plain transaction. Two first exports at once both found none, and the
        slower failed on the key the other had just written (a unique key's error, "run the
        command again"). The slower now takes what the first wrote."""
        import time

        from sqlalchemy import insert

        from commune.commons import opendata
        from commune.store.db import make_engine
        from commune.store.schema import meta

        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        other = make_engine(database_url)
        home = "6f1c0a56-1f0b-4a7e-9d55-6a4e0c1e2b3d"
        results: list[object] = []
        try:
            with other.connect() as conn:  # the faster export: written, not yet committed
                trans = conn.begin()
                conn.execute(insert(meta).values(key=opendata.HOME_ID, value=home))
                conn.execute(insert(meta).values(key=opendata.EXPORT_KEY, value="ab" * 32))

                def slower() -> None:
                    try:
                        results.append(opendata.dataset_identity(c.engine, "mairie"))
                        results.append(opendata._export_key(c.engine))
                    except Exception as e:  # noqa: BLE001 - the failure is what is asserted
                        results.append(e)

                thread = threading.Thread(target=slower)
                thread.start()
                time.sleep(0.5)
                trans.commit()
                thread.join(30)
        finally:
            other.dispose()
        import uuid

        from commune.store.schema import collections

        with c.engine.connect() as conn:
            cid = conn.execute(select(collections.c.id)).scalar_one()
        assert results[0] == f"urn:uuid:{uuid.uuid5(uuid.UUID(home), f'collection {cid}')}", results
        assert results[1] == bytes.fromhex("ab" * 32), results

    def test_sign_in_sessions_through_the_facade_live_and_end_as_they_should(self, c, monkeypatch):
        """The web's sessions, now the library's (govern/sessions.py) and reached through the
        facade, on each backend: found with their person and CSRF token; a sign-in while
        signed in ends the one it replaces; sign-out, expiry, a revoked key and a removed
        person each end one (PostgreSQL reads its times back with their zone, SQLite
        without)."""
        from datetime import timedelta

        from commune.govern import sessions
        from commune.store.repository import now

        make_key(c, "alice", "Ville A", "contributor")
        bruno_key = make_key(c, "bruno", "Ville A")
        alice, bruno = c.actor("alice"), c.actor("bruno")
        first = c.open_session(alice, 1.0)
        found = c.find_session(first)
        assert found is not None and found.actor == alice and len(found.csrf) > 20
        second = c.open_session(alice, 1.0, replacing=first)  # signed in again
        assert c.find_session(first) is None and c.find_session(second).actor == alice
        c.end_session(second)  # signed out
        assert c.find_session(second) is None
        c.end_session(None)  # nothing to end: nothing happens
        third = c.open_session(alice, 1.0)
        later = now() + timedelta(hours=2)
        monkeypatch.setattr(sessions, "now", lambda: later)
        assert c.find_session(third) is None  # expired
        monkeypatch.undo()
        assert c.find_session(third).actor == alice
        by_key = c.open_session(bruno, 1.0, bruno_key.split("_")[1])
        assert c.find_session(by_key).actor == bruno
        key_id = next(k["id"] for k in c.admin.keys() if k["user"] == "bruno")
        c.admin.revoke_key(key_id)
        assert c.find_session(by_key) is None  # opened with a key since revoked
        c.admin.remove_user("alice", "left the town hall")
        assert c.find_session(third) is None  # removal ends every session of theirs

    def test_an_admins_reset_ends_the_sessions_and_revokes_the_keys_in_its_transaction(
        self, c, monkeypatch
    ):
        """An admin's reset (the /admin form's and POST /api/users/{name}/password's
        library call) on each backend: the person's sessions, password and key-opened ones
        alike, end, and their keys are revoked, in the transaction that sets the password;
        a reset that fails before its audit row is written leaves the old password and the
        keys working, never a new password with live keys."""
        from commune.govern.members import AuthError
        from commune.store import audit
        from tests.conftest import PASSWORD, make_person

        make_person(c, "alice", "Ville A", "member-admin")
        bob_key = make_person(c, "bob", "Ville A", "reader")
        alice, bob = c.actor("alice"), c.actor("bob")
        by_password = c.open_session(bob, 1.0)
        by_key = c.open_session(bob, 1.0, bob_key.split("_")[1])
        new = "a new passphrase for bob"

        def crash(*args: object, **kwargs: object) -> None:
            raise RuntimeError("the server stopped here")

        monkeypatch.setattr(audit, "append", crash)
        with pytest.raises(RuntimeError):
            c.admin.set_password("bob", new, actor=alice, actor_password=PASSWORD)
        monkeypatch.undo()
        assert c.authenticate(bob_key).user == "bob"
        assert c.find_session(by_password) and c.find_session(by_key)
        c.admin.sign_in("bob", PASSWORD)

        assert c.admin.set_password("bob", new, actor=alice, actor_password=PASSWORD) == 1
        assert c.find_session(by_password) is None and c.find_session(by_key) is None
        with pytest.raises(AuthError):
            c.authenticate(bob_key)
        assert c.admin.sign_in("bob", new).user == "bob"

    def test_what_the_charter_no_longer_keeps_is_gone_from_the_database(self, c, corpus):
        """Retention, keep_question and a takedown, on every backend: the records past the
        retention deleted, the texts a "hash" charter does not keep erased, and the cached
        answers quoting a retired document deleted with it."""
        from datetime import timedelta

        from sqlalchemy import update

        from commune.store.schema import answer_cache, decisions

        home = c.settings.home
        text_charter = 'version = "1"\n[utility]\nretention_days = 30\nkeep_question = "text"\n'
        (home / "charter.toml").write_text(text_charter, encoding="utf-8")
        c.add([corpus], licence="etalab-2.0")
        old = c.ask("Où mettre les emballages en plastique ?")
        recent = c.ask("Quand passe le camion des encombrants ?")
        with c.engine.begin() as conn:
            conn.execute(
                update(decisions)
                .where(decisions.c.id == old.decision_id)
                .values(created_at=decisions.c.created_at - timedelta(days=31))
            )
        (home / "charter.toml").write_text(
            text_charter.replace('"text"', '"hash"').replace('"1"', '"2"'), encoding="utf-8"
        )
        assert c.purge_decisions() == 1
        with c.engine.connect() as conn:
            kept = dict(conn.execute(select(decisions.c.id, decisions.c.question)).all())
            assert count(c, answer_cache) >= 1
        assert kept == {recent.decision_id: None}
        [cited, *_] = recent.sources
        c.retire(cited.document_id, "l'adresse d'un habitant", category="personal-data")
        assert count(c, answer_cache) == 0

    def test_an_answer_found_before_a_takedown_is_not_cached_after_it(self, c, corpus, monkeypatch):
        from commune.answering.cache import AnswerCache
        from commune.store.schema import answer_cache

        c.add([corpus], licence="etalab-2.0")
        question = "Quand passe le camion des encombrants ?"
        [cited, *_] = c.ask(question).sources
        caching = AnswerCache.store

        def taken_down_meanwhile(self, key, scope, *args, **kwargs):  # type: ignore[no-untyped-def]
            c.retire(cited.document_id, "l'adresse d'un habitant", category="personal-data")
            caching(self, key, scope, *args, **kwargs)

        monkeypatch.setattr(AnswerCache, "store", taken_down_meanwhile)
        c.ask("Quel jour passe le camion des encombrants ?")  # not served from the cache
        assert count(c, answer_cache) == 0

    def test_a_contributor_is_told_of_the_document_that_publishes_the_same_bytes(self, c, tmp_path):  # type: ignore[no-untyped-def]
        """Found reviewing 4cab4d76: a contributor's note « the same bytes as document N, at
        another address » named a document whose newest revision held those bytes while it
        waited for a curator (another person's upload nobody reads yet, no passage found
        twice), and named none when a document published them under a newer waiting text."""
        make_key(c, "cora", "Ville A", "contributor")
        make_key(c, "dana", "Ville A", "contributor")
        cora, dana = c.actor("cora"), c.actor("dana")
        sent = tmp_path / "sent"
        sent.mkdir()
        v1 = "Le marché couvert ouvre le dimanche de 8 h à 13 h."
        v2 = "Le marché couvert ouvre le samedi et le dimanche de 8 h à 13 h."

        def send(name, text, actor, licence="etalab-2.0"):  # type: ignore[no-untyped-def]
            (sent / name).write_text(text, encoding="utf-8")
            summary = c.add([sent / name], collection="vie-a", licence=licence, actor=actor)
            [outcome] = summary.outcomes
            return outcome

        first = send("marche.txt", v1, cora)
        assert first.status == "added" and first.held is None
        waiting = send("marche.txt", v2, dana, licence=None)  # no licence: it waits
        assert waiting.status == "updated" and waiting.held
        unread = send("marche-bis.txt", v2, cora)
        assert unread.status == "added" and unread.note is None, unread.note
        twice = send("marche-ter.txt", v1, cora)
        assert twice.status == "added"
        assert twice.note == (
            f"marche-ter.txt: the same bytes as document {first.document_id}, at another "
            "address: each passage would be found twice (ask a curator of the collection to "
            "retire one of them)"
        )

    def test_a_member_that_leaves_pays_its_months_and_never_one_after(self, c, monkeypatch):
        """A member that left the cooperative was still charged an equal share of the fixed
        cost every month: nothing recorded a departure. It now pays the months it was in,
        the month it leaves included, and the others share the fixed cost from then on; the
        month issued before is the record it was, figures and SHA-256 alike."""
        from dataclasses import replace
        from datetime import UTC, datetime
        from decimal import Decimal

        from sqlalchemy import update

        from commune.account.statement import build_statement, digest
        from commune.govern import members as m
        from commune.store.schema import members
        from commune.text.messages import localise

        for user, member in (("anne", "Ville A"), ("bruno", "Agglo B"), ("chloe", "Asso C")):
            make_key(c, user, member)
        with c.engine.begin() as conn:
            conn.execute(update(members).values(created_at=datetime(2026, 9, 1, tzinfo=UTC)))
        september = c.issue_statement("2026-09")
        monkeypatch.setattr(m, "now", lambda: datetime(2026, 10, 20, tzinfo=UTC))
        done = c.admin.leave("Agglo B", reason="délibération du 15 octobre")
        assert done["left_at"] == "2026-11-01T00:00:00+00:00"  # the end of the month under way
        equal = replace(c.settings.cooperative, rule="equal", floor_eur=0.0)

        notices: dict[str, list[str]] = {}

        def shares(month: str) -> dict[str, Decimal]:
            with c.engine.connect() as conn:
                stmt = build_statement(conn, equal, month)
            notices[month] = stmt.notices
            return {line.member: line.fixed_eur for line in stmt.lines}

        pool = Decimal(str(c.settings.cooperative.server_cost_eur_month)).quantize(Decimal("0.01"))
        october, november = shares("2026-10"), shares("2026-11")
        assert set(october) == {"Ville A", "Agglo B", "Asso C"}  # its last month: charged
        assert set(november) == {"Ville A", "Asso C"}  # never after
        assert sum(november.values()) == pool  # the two left share the whole fixed cost
        assert abs(november["Ville A"] - november["Asso C"]) <= Decimal("0.01")
        # Said on its last month's statement, whose readers see its line go next month.
        last = "Agglo B leaves the cooperative on 2026-11-01: 2026-10 is the last month it pays"
        assert last in notices["2026-10"]
        assert localise(last, "fr") == (
            "Agglo B quitte la coopérative le 2026-11-01\u00a0: 2026-10 est le dernier mois qu'il "
            "paie"
        )
        assert not any("leaves" in n for n in notices["2026-11"])
        again = c.statement("2026-09")
        assert [line.member for line in again.lines] == [line.member for line in september.lines]
        assert again.sha256 == september.sha256 == digest(again)

    def test_a_departed_members_people_are_told_why_their_key_and_password_open_nothing(
        self, c, monkeypatch
    ):
        """Its people signed in and asked as before once their member had left. From the
        day it takes effect, their key, their password and their open session open nothing,
        and the refusal says why in one line in their language; before it, all work. Their
        use stays in the ledger as it was."""
        from datetime import UTC, datetime

        from sqlalchemy import func, select

        from commune.govern import accounts, sessions
        from commune.govern import members as m
        from commune.store.schema import usage
        from commune.text.messages import localise
        from tests.conftest import PASSWORD, make_person

        key = make_person(c, "anne", "Ville A")
        make_key(c, "bruno", "Ville B")
        token = c.open_session(c.authenticate(key), 8)
        with c.engine.connect() as conn:
            rows = conn.execute(select(func.count()).select_from(usage)).scalar_one()
        monkeypatch.setattr(m, "now", lambda: datetime(2026, 12, 20, tzinfo=UTC))
        c.admin.leave("Ville A", datetime(2027, 1, 1, tzinfo=UTC))
        assert c.authenticate(key).user == "anne"  # not yet: a departure to come
        with c.engine.begin() as conn:
            assert accounts.sign_in(conn, "anne", PASSWORD).user == "anne"
        monkeypatch.setattr(m, "now", lambda: datetime(2027, 1, 1, tzinfo=UTC))
        monkeypatch.setattr(sessions, "now", lambda: datetime(2027, 1, 1, tzinfo=UTC))
        said = "Ville A left the cooperative on 2027-01-01: its people's keys and passwords open"
        with pytest.raises(m.Departed, match=said) as refused:
            c.authenticate(key)
        assert localise(str(refused.value), "fr") == (
            "Ville A a quitté la coopérative le 2027-01-01\u00a0: les clés et les mots de passe "
            "de ses personnes n'ouvrent plus rien (adressez-vous à l'opérateur de la coopérative)"
        )
        with c.engine.begin() as conn:
            with pytest.raises(m.Departed, match=said):
                accounts.sign_in(conn, "anne", PASSWORD)
            with pytest.raises(m.Departed, match=said):  # the sign-in reads a name in any case
                accounts.sign_in(conn, "Anne", PASSWORD)
            with pytest.raises(m.AuthError, match="wrong user name or password"):
                accounts.sign_in(conn, "anne", "not the password")  # told nothing more
            assert sessions.find(conn, token) is None
            assert conn.execute(select(func.count()).select_from(usage)).scalar_one() == rows

    def test_a_removal_deletes_the_answers_cached_for_the_persons_questions(self, c, monkeypatch):
        """The answer cache keeps each question's text beside its answer, and named nobody:
        a removed person's questions stayed there until the cache expired (up to a century),
        though the removal said they lose their text. On each backend: their entries go with
        the removal, in its transaction (a removal that fails halfway deletes none, removes
        nobody), another's stay, and an answer of theirs cached after it is not kept."""
        import numpy as np

        from commune.answering.cache import AnswerCache
        from commune.store import audit
        from commune.store.schema import answer_cache

        make_key(c, "alice", "Ville A", "member-admin")
        make_key(c, "bob", "Ville A")
        make_key(c, "carol", "Ville A")
        bob, carol = c.actor("bob"), c.actor("carol")
        answers = AnswerCache(c.engine)

        def cache(question: str, asker: int | None) -> None:
            answers.store(
                question,
                "scope",
                0,
                "fr",
                np.ones(4, "f4"),
                "e",
                {"question": question},
                24.0,
                asker,
            )

        def questions() -> list[str]:
            with c.engine.connect() as conn:
                kept = conn.execute(select(answer_cache.c.answer).order_by(answer_cache.c.id))
                return [json.loads(a)["question"] for a in kept.scalars()]

        cache("Où habite M. Dupont ?", bob.user_id)
        cache("Quand passe le camion ?", carol.user_id)
        cache("Où est la piscine ?", None)  # the operator's

        def crash(*args: object, **kwargs: object) -> None:
            raise RuntimeError("the server stopped here")

        monkeypatch.setattr(audit, "append", crash)
        with pytest.raises(RuntimeError):
            c.admin.remove_user("bob", "parti", actor=c.actor("alice"))
        monkeypatch.undo()
        assert len(questions()) == 3 and c.actor("bob") == bob

        done = c.admin.remove_user("bob", "parti", actor=c.actor("alice"))
        assert done["cached_answers_deleted"] == 1
        assert questions() == ["Quand passe le camion ?", "Où est la piscine ?"]
        # A request of theirs under way when they were removed finishes, its answer not kept.
        cache("Où habite Mme Martin ?", bob.user_id)
        assert questions() == ["Quand passe le camion ?", "Où est la piscine ?"]

    def test_the_purge_deletes_the_answers_cached_past_the_retention_naming_their_asker(self, c):
        """An entry of the answer cache names its asker (migration 0025) and lives
        cache_ttl_hours, which a charter may set past the retention: a purge made every record
        forget who asked, and left the cache saying who asked what. Past the retention, an
        entry naming its asker goes; the operator's, naming nobody, and a newer one stay."""
        from datetime import UTC, datetime, timedelta

        from sqlalchemy import insert

        from commune.store import audit
        from commune.store.schema import answer_cache, audit_log

        make_key(c, "bob", "Ville A")
        bob = c.actor("bob")
        long_ago = datetime.now(UTC) - timedelta(days=400)

        def entry(question: str, at: datetime, asker: int | None) -> dict:  # type: ignore[type-arg]
            return {
                "key": question,
                "scope": "s",
                "generation": 0,
                "language": "fr",
                "answer": json.dumps({"question": question}),
                "created_at": at,
                "user_id": asker,
            }

        with c.engine.begin() as conn:
            conn.execute(
                insert(answer_cache),
                [
                    entry("Où habite M. Dupont ?", long_ago, bob.user_id),
                    entry("Où est la piscine ?", long_ago, None),  # the operator's
                    entry("Quand passe le camion ?", datetime.now(UTC), bob.user_id),
                ],
            )
        c.purge_decisions()
        with c.engine.connect() as conn:
            kept = conn.execute(select(answer_cache.c.key).order_by(answer_cache.c.id)).scalars()
            assert list(kept) == ["Où est la piscine ?", "Quand passe le camion ?"]
            details = conn.execute(
                select(audit_log.c.details).where(audit_log.c.action == audit.PURGE_DECISIONS)
            ).scalars()
            assert [json.loads(d).get("cached_answers_deleted") for d in details] == [1]
        c.purge_decisions()  # nothing more to delete, nothing audited twice
        assert count(c, answer_cache) == 2
        assert c.verify_audit().ok

    def test_an_answer_cached_while_its_asker_is_removed_waits_then_is_not_kept(self, c):
        """PostgreSQL reads committed rows: an answer cached while the asker's removal was
        under way read them not yet removed, and its entry, written after the removal's
        delete, kept their question's text. It waits for the removal now, then keeps
        nothing. (SQLite's one write lock puts the two one after the other.)"""
        from commune.answering.cache import AnswerCache
        from commune.govern import accounts
        from commune.govern.policy import OPERATOR
        from commune.store.schema import answer_cache
        from tests.conftest import wait_until

        if c.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's write lock serialises them")
        make_key(c, "bob", "Ville A")
        bob = c.actor("bob")
        answers = AnswerCache(c.engine)
        with c.engine.begin() as conn:
            accounts.remove_user(conn, OPERATOR, "bob", "parti")

            def cache() -> None:
                answers.store(
                    "q", "s", 0, "fr", None, None, {"question": "Où ?"}, 24.0, bob.user_id
                )

            caching = threading.Thread(target=cache)
            caching.start()
            with c.engine.connect() as watch:
                waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                # Until it waits for the removal (or, not waiting, has cached its answer).
                wait_until(
                    lambda: not caching.is_alive() or watch.execute(waiting).scalar(),
                    "the cache to wait",
                )
        caching.join()
        assert count(c, answer_cache) == 0

    @pytest.mark.parametrize("removed", ["before the record", "while it is written"])
    def test_a_record_written_after_its_askers_removal_keeps_no_text(
        self, c, tmp_path, monkeypatch, removed
    ):
        """Under keep_question = "text", a request under way when its asker was removed wrote
        its decision record, with the question's text, after the removal had erased their
        texts: it stayed until the retention's purge, though the removal says they are gone.
        The record now reads its asker under their row's lock: a removal landing between the
        answer and its record leaves it the SHA-256, the steps and the energy, no text; one
        landing while it is written (PostgreSQL) waits for it, then erases its text."""
        from contextlib import contextmanager

        from commune.answering.path import AskPath
        from commune.charter import records
        from commune.store.schema import answer_cache, decisions

        if removed == "while it is written" and c.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's one write lock puts the removal before the record or after")
        (c.settings.home / "charter.toml").write_text(
            'version = "1"\n[utility]\nkeep_question = "text"\n', encoding="utf-8"
        )
        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        make_key(c, "alice", "Ville A", "member-admin")
        make_key(c, "bob", "Ville A")
        bob = c.actor("bob")
        question = "Quand ouvre la piscine municipale ?"
        done: dict[str, object] = {}

        def remove() -> None:
            done["removal"] = c.admin.remove_user("bob", "parti", actor=c.actor("alice"))

        if removed == "before the record":
            recording = AskPath._recording

            @contextmanager
            def removed_first(self):  # type: ignore[no-untyped-def]
                remove()  # the answer found, its records not yet begun
                with recording(self) as conn:
                    yield conn

            monkeypatch.setattr(AskPath, "_recording", removed_first)
            answer = c.ask(question, actor=bob)
            assert done["removal"]["questions_erased"] == 0  # type: ignore[index]
        else:
            reached, go = threading.Event(), threading.Event()
            write = records.write

            def written(*args, **kwargs):  # type: ignore[no-untyped-def]
                ident = write(*args, **kwargs)
                reached.set()  # the record written, its transaction not yet committed
                assert go.wait(600)
                return ident

            def ask() -> None:
                done["answer"] = c.ask(question, actor=bob)

            monkeypatch.setattr(records, "write", written)
            asking = threading.Thread(target=ask)
            asking.start()
            assert reached.wait(600)
            removing = threading.Thread(target=remove)
            removing.start()
            _until_one_waits(c.engine, removing)  # or, not waiting for the record, removed
            go.set()
            asking.join(600)
            removing.join(600)
            answer = done["answer"]  # type: ignore[assignment]
            assert done["removal"]["questions_erased"] == 1  # type: ignore[index]
        assert answer.text and answer.decision_id is not None  # the request finished
        with c.engine.connect() as conn:
            row = conn.execute(select(decisions).where(decisions.c.id == answer.decision_id)).one()
        assert row.question is None
        assert row.question_sha256 == records.question_hash(question)
        assert json.loads(row.steps) and row.user_id == bob.user_id
        assert count(c, answer_cache) == 0
        assert c.verify_audit().ok

    def test_the_answers_cached_before_they_named_their_asker_are_deleted(self, c):
        """0025 (answer_cache.user_id): an entry cached before it names nobody, so that no
        removal could find its question's text; the migration deletes it. Down and up again."""
        from datetime import UTC, datetime

        from sqlalchemy import inspect

        from commune.store.schema import answer_cache

        _migrate(c.engine, "0024", down=True)
        with c.engine.begin() as conn:
            columns = {r["name"] for r in inspect(conn).get_columns("answer_cache")}
            assert "user_id" not in columns
            conn.execute(
                text(
                    "INSERT INTO answer_cache (key, scope, generation, language, answer, "
                    "created_at) VALUES ('k', 's', 0, 'fr', :a, :t)"
                ),
                {"a": '{"question": "Où habite M. Dupont ?"}', "t": datetime.now(UTC)},
            )
        _migrate(c.engine, "head")
        assert count(c, answer_cache) == 0
        assert c.check().ok

    def test_a_redirect_lapses_when_its_member_leaves_never_in_a_month_paid_out(self, c, tmp_path):
        """A share redirected to a member was paid to it after it left the cooperative. It
        goes back to its contributor from the first month the member is out of; a redirect
        to a member out by then is refused, until its departure is undone (member stay);
        and a departure that would move a month whose payouts were issued is refused."""
        from datetime import UTC, datetime
        from decimal import Decimal

        from sqlalchemy import update

        from commune.commons.payouts import Weights, build
        from commune.errors import InvalidRequest
        from commune.store.schema import members

        this = datetime.now(UTC).strftime("%Y-%m")
        start = datetime.strptime(this + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
        later = f"{int(this[:4]) + (this[5:] == '12')}-{int(this[5:]) % 12 + 1:02d}"
        for user, member in (("anne", "Ville A"), ("bea", "Ville B"), ("chloe", "Ville C")):
            make_key(c, user, member)
        with c.engine.begin() as conn:  # members since the spring: they may leave on the 1st
            conn.execute(update(members).values(created_at=datetime(2026, 3, 1, tzinfo=UTC)))
        (tmp_path / "compost.md").write_text("# Compost\n\nLe compost se fait le samedi.")
        c.add(
            [tmp_path / "compost.md"],
            collection="vie",
            licence="etalab-2.0",
            contributor="Jardins partagés",
        )
        c.set_payout_choice("Jardins partagés", "redirect", to="Ville B")
        # Ville C leaves at the end of the month: a redirect from the month after is refused
        # (it would lapse on its first month), and accepted once the departure is undone.
        c.admin.leave("Ville C")
        with pytest.raises(InvalidRequest, match=f"'Ville C' leaves the cooperative on .*{later}"):
            c.set_payout_choice("Jardins partagés", "redirect", to="Ville C", from_month=later)
        c.admin.stay("Ville C")
        assert (
            c.set_payout_choice("Jardins partagés", "redirect", to="Ville C", from_month=later)[
                "target"
            ]
            == "Ville C"
        )
        # Paid out this month to Ville B: its departure from the 1st would take it back.
        issued, _ = c.issue_payouts(this, amount="10.00")
        assert issued.recipients() == {"Ville B": Decimal("10.00")}
        said = f"the payouts of {this} were issued with a share redirected to Ville B"
        with pytest.raises(InvalidRequest, match=said):
            c.admin.leave("Ville B", start)
        assert c.payouts(this, amount="10.00").recipients() == issued.recipients()
        # Recorded back then, the departure from the 1st takes the share back to its
        # contributor, on either database (PostgreSQL hands the time back in its zone).
        with c.engine.connect() as conn:  # not committed: the month issued stays as it is
            conn.execute(update(members).where(members.c.name == "Ville B").values(left_at=start))
            [line] = build(conn, this, Decimal("10.00"), Weights()).lines
        assert (line.paid_to, line.choice, line.lapsed, line.left_on) == (
            "Jardins partagés",
            "receive",
            "Ville B",
            start.date().isoformat(),
        )

    @pytest.mark.parametrize("rule", ["before", "between", "since"])
    def test_a_month_paid_out_is_issued_again_the_same_whichever_rule_paid_it(
        self, c, tmp_path, monkeypatch, rule
    ):
        """A month paid out before a redirect to a member that left could lapse (before
        96c195e1) paid the share to the member, its departure recorded already (that rule
        read none). Issued again, it lapsed: the share paid to its contributor, another
        SHA-256 than its audit entry's. It is paid as it was now; and a month paid out since
        the rule (its issue says so), or by the code that brought it in before its issues said
        so (96c195e1, "between": its entry's hash tells), keeps lapsing, issued again."""
        from datetime import UTC, datetime
        from decimal import Decimal

        from sqlalchemy import update

        from commune.store import audit
        from commune.store.schema import audit_log, members
        from tests.test_payouts import paid_out_before_the_lapse

        this = datetime.now(UTC).strftime("%Y-%m")
        start = datetime.strptime(this + "-01", "%Y-%m-%d").replace(tzinfo=UTC)
        later = f"{int(this[:4]) + (this[5:] == '12')}-{int(this[5:]) % 12 + 1:02d}"
        over = datetime.strptime(later + "-01", "%Y-%m-%d").replace(tzinfo=UTC)  # a month on
        for user, member in (("anne", "Ville A"), ("bea", "Ville B")):
            make_key(c, user, member)
        with c.engine.begin() as conn:  # members since the spring: they may leave on the 1st
            conn.execute(update(members).values(created_at=datetime(2026, 3, 1, tzinfo=UTC)))
        (tmp_path / "compost.md").write_text("# Compost\n\nLe compost se fait le samedi.")
        c.add(
            [tmp_path / "compost.md"],
            collection="vie",
            licence="etalab-2.0",
            contributor="Jardins partagés",
        )
        c.set_payout_choice("Jardins partagés", "redirect", to="Ville B")
        c.admin.leave("Ville B", start)  # recorded before the month was paid out
        with monkeypatch.context() as m:  # the month paid out once it was over
            m.setattr(audit, "now", lambda: over)
            if rule == "since":
                first, digest = c.issue_payouts(this, amount="10.00")
            else:  # as the code before issued it, its audit entry and all
                first, digest = paid_out_before_the_lapse(
                    c, this, "10.00", lapsing=rule == "between"
                )
        paid_to = "Ville B" if rule == "before" else "Jardins partagés"
        assert first.recipients() == {paid_to: Decimal("10.00")}
        again, again_digest = c.issue_payouts(this)  # its fund, as it was paid out
        assert again_digest == digest and again.lines == first.lines
        assert c.payouts(this).recipients() == {paid_to: Decimal("10.00")}  # the pages'
        with c.engine.connect() as conn:  # the rule each issue was built under, said
            said = conn.execute(
                select(audit_log.c.details)
                .where(audit_log.c.action == "payouts")
                .order_by(audit_log.c.id)
            ).scalars()
            rules = [json.loads(d).get("redirects_lapse") for d in said]
        assert (
            rules == {"before": [None, False], "between": [None, True], "since": [True, True]}[rule]
        )
        assert c.verify_audit().ok

    def test_a_departure_goes_down_and_up_with_its_migration(self, c, database_url):
        """0024 (members.left_at) goes down and up again over a home with a departure
        recorded: down, the member is a member again; up, it has no departure."""
        from datetime import UTC, datetime

        from sqlalchemy import inspect

        make_key(c, "anne", "Ville A")
        make_key(c, "bruno", "Ville B")
        c.admin.leave("Ville A", datetime(2099, 1, 1, tzinfo=UTC))

        def go(rev: str, down: bool = False) -> None:
            _migrate(c.engine, rev, down)

        go("0023", down=True)
        with c.engine.connect() as conn:
            columns = {r["name"] for r in inspect(conn).get_columns("members")}
        assert "left_at" not in columns
        go("head")
        assert [m.get("left_at") for m in c.admin.members()] == [None, None]
        assert c.check().ok


class TestSQLite(StoreKit):
    @pytest.fixture
    def database_url(self, tmp_path):  # type: ignore[no-untyped-def]
        return f"sqlite:///{tmp_path / 'commune.db'}"


class TestPostgreSQL(StoreKit):
    @pytest.fixture
    def database_url(self, postgres_url):  # type: ignore[no-untyped-def]
        return postgres_url


def test_backup_and_restore_of_a_postgresql_home_say_what_to_keep(postgres_url, tmp_path):
    """The database alone is not the home: its original files are in blobs/. Told only
    "use pg_dump", an operator kept a dump whose documents' originals were gone."""
    from click.testing import CliRunner

    from commune.cli import cli
    from commune.core import Commune
    from commune.store.db import open_database
    from tests.conftest import make_home

    with Commune(make_home(tmp_path / "sqlite-home")) as lived_in:  # a backup to restore
        lived_in.backup(tmp_path / "backup")
    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    open_database(postgres_url).dispose()  # its tables made: an empty database is refused
    for language, words in (
        ("en_US.UTF-8", ("pg_dump, then copy the home's blobs/", "put back the blobs/")),
        ("fr_FR.UTF-8", ("pg_dump, puis copiez le dossier blobs/", "remettez le dossier blobs/")),
    ):
        run = CliRunner(env={"LANG": language})
        out = run.invoke(cli, ["--home", str(home), "backup", str(tmp_path / "copy")])
        assert out.exit_code == 2 and words[0] in out.output, out.output
        out = run.invoke(cli, ["--home", str(home), "restore", str(tmp_path / "backup")])
        assert out.exit_code == 2 and words[1] in out.output, out.output


def test_a_refused_postgresql_backup_purges_nothing(postgres_url, tmp_path):
    """`commune backup` copies SQLite homes only: on PostgreSQL it purged the decision
    records past the retention (and erased the questions), then said to use pg_dump."""
    from datetime import UTC, datetime, timedelta

    from click.testing import CliRunner
    from sqlalchemy import insert

    from commune.cli import cli
    from commune.store.db import open_database
    from commune.store.schema import decisions

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    engine = open_database(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            insert(decisions).values(
                created_at=datetime.now(UTC) - timedelta(days=400),
                route="ask",
                question="Où habite Monsieur Zorglub ?",
                question_sha256="ab" * 32,
                language="fr",
                outcome="answered",
                steps="[]",
                charter_sha256="cd" * 32,
            )
        )
    out = CliRunner().invoke(cli, ["--home", str(home), "backup", str(tmp_path / "copy")])
    assert out.exit_code == 2, out.output
    with engine.connect() as conn:
        assert conn.execute(select(decisions.c.question)).scalars().all() == [
            "Où habite Monsieur Zorglub ?"
        ]
    engine.dispose()


def test_a_postgresql_restore_says_it_lists_nothing_it_takes_back(postgres_url, tmp_path):
    """A SQLite restore lists the takedowns, readers and roles it takes back; pg_restore,
    which Commune does not run, lists none, and said nothing of it. The refusal says so and
    where to read them, to a home handed its pg_dump directory (-Fd) too: it was told "not a
    Commune backup", not to use pg_restore."""
    from click.testing import CliRunner

    from commune.cli import cli

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    dump = tmp_path / "dump"  # what pg_dump -Fd writes: a toc.dat and its data files
    dump.mkdir()
    (dump / "toc.dat").write_bytes(b"PGDMP")
    for language, words in (
        ("en_US.UTF-8", ("use pg_restore", "pg_restore lists nothing it takes back", "audit log")),
        ("fr_FR.UTF-8", ("utilisez pg_restore", "ne liste rien de ce qu'il défait", "audit log")),
    ):
        out = CliRunner(env={"LANG": language}).invoke(
            cli, ["--home", str(home), "restore", str(dump)]
        )
        assert out.exit_code == 2, out.output
        said = " ".join(out.output.split())
        assert all(w in said for w in words), out.output
        assert "backup" not in said.split("pg_restore")[0], out.output


def _until_one_waits(engine, writer: threading.Thread) -> None:  # type: ignore[no-untyped-def]
    """Return once a connection of this database waits for a lock (or ``writer`` ended):
    the state, polled, not a time; 6000 looks bound a hang."""
    import time

    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    for _ in range(6000):
        with engine.connect() as conn:
            if conn.execute(query).scalar_one() or not writer.is_alive():
                return
        time.sleep(0.01)
    raise AssertionError("neither writer waited for the other, nor ended")


@pytest.mark.parametrize("first", ["arrival", "retirement"])
def test_a_takedown_and_a_new_revision_of_another_members_copy_at_once_both_succeed(
    postgres_url, tmp_path, monkeypatch, first
):
    """A takedown holds another member's copy of its file (its row, its revision), while a
    new revision of that copy arrives: the arrival held the copy's row and waited for the
    audit log, the retirement held the audit log and waited for the copy's row, and
    PostgreSQL failed one (deadlock). Each writer is stopped where it holds the most, the
    other started against it, for each order."""
    from commune.commons import curation
    from commune.core import Commune

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        make_key(c, "alice", "Ville A", "curator")
        make_key(c, "bob", "Ville B", "contributor")
        alice, bob = c.actor("alice"), c.actor("bob")
        page = tmp_path / "a" / "stationnement.md"
        page.parent.mkdir()
        page.write_text("# Stationnement\n\nM. Dupont, 12 rue des Lilas, 06 12.\n", "utf-8")
        c.add([page], collection="mairie-a", licence="etalab-2.0", actor=alice)
        copy = tmp_path / "b" / "stationnement.md"
        copy.parent.mkdir()
        copy.write_bytes(page.read_bytes())
        c.add([copy], collection="voirie-b", licence="etalab-2.0", actor=bob)
        ids = {d["collection"]: d["id"] for d in c.documents()}
        copy.write_text("# Stationnement\n\nLe stationnement résident, rue des Lilas.\n", "utf-8")

        # Where each holds the most: the arrival has written the copy's row and its old
        # revision, the audit log not yet; the retirement holds the audit log, the copy
        # not yet.
        stop = {"arrival": "publish", "retirement": "retire"}[first]
        reached, go = threading.Event(), threading.Event()
        append = curation.audit.append

        def audited(conn, actor, action, *args, **kwargs):  # type: ignore[no-untyped-def]
            mine = threading.current_thread().name == first and action == stop
            if mine and first == "arrival" and not reached.is_set():
                reached.set()
                assert go.wait(600)
            done = append(conn, actor, action, *args, **kwargs)
            if mine and first == "retirement" and not reached.is_set():
                reached.set()
                assert go.wait(600)
            return done

        monkeypatch.setattr(curation.audit, "append", audited)
        outcomes: dict[str, str] = {}

        def arrive() -> None:
            try:
                c.add([copy], collection="voirie-b", licence="etalab-2.0", actor=bob)
                outcomes["arrival"] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes["arrival"] = f"{type(e).__name__}: {e}"

        def retire() -> None:
            try:
                c.retire(ids["mairie-a"], "données personnelles", alice, "personal-data")
                outcomes["retirement"] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes["retirement"] = f"{type(e).__name__}: {e}"

        writers = {
            "arrival": threading.Thread(target=arrive, name="arrival"),
            "retirement": threading.Thread(target=retire, name="retirement"),
        }
        second = "retirement" if first == "arrival" else "arrival"
        writers[first].start()
        assert reached.wait(600)
        writers[second].start()
        _until_one_waits(c.engine, writers[second])
        go.set()
        for w in writers.values():
            w.join(600)
        assert outcomes == {"arrival": "ok", "retirement": "ok"}, outcomes
        status = {d["collection"]: d["status"] for d in c.documents()}
        assert status["mairie-a"] == "retired"
        # Its new text is not the file taken down: published, whichever came first.
        assert status["voirie-b"] == "published", status
        assert c.verify_audit().ok


@pytest.mark.parametrize("first", ["removal", "retirement"])
def test_a_removal_and_a_retirement_at_once_both_succeed(postgres_url, tmp_path, first):
    """A person's removal deletes the answers cached for their questions, and a retirement
    every answer cached before it: the removal held its person's entries and waited for the
    audit log, the retirement held the audit log and waited for those entries, and
    PostgreSQL failed one (deadlock). Each writer is stopped where it holds the most, the
    other started against it, for each order."""
    import numpy as np

    from commune.answering.cache import AnswerCache
    from commune.core import Commune
    from commune.store import audit, repository
    from commune.store.schema import answer_cache

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        make_key(c, "alice", "Ville A", "member-admin")
        make_key(c, "bob", "Ville A")
        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        [document] = c.documents()
        with c.engine.connect() as conn:
            generation = repository.generation(conn)
        AnswerCache(c.engine).store(
            "k",
            "s",
            generation,
            "fr",
            np.ones(4, "f4"),
            "e",
            {"question": "Où ?"},
            24.0,
            c.actor("bob").user_id,
        )
        # Where each holds the most: the removal has deleted bob's entries, the audit log
        # not yet; the retirement holds the audit log, the cache's entries not yet.
        stop = {"removal": "user-remove", "retirement": "retire"}[first]
        reached, go = threading.Event(), threading.Event()
        append = audit.append

        def audited(conn, actor, action, *args, **kwargs):  # type: ignore[no-untyped-def]
            mine = threading.current_thread().name == first and action == stop
            if mine and first == "removal" and not reached.is_set():
                reached.set()
                assert go.wait(600)
            done = append(conn, actor, action, *args, **kwargs)
            if mine and first == "retirement" and not reached.is_set():
                reached.set()
                assert go.wait(600)
            return done

        outcomes: dict[str, str] = {}

        def remove() -> None:
            try:
                c.admin.remove_user("bob", "parti", actor=c.actor("alice"))
                outcomes["removal"] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes["removal"] = f"{type(e).__name__}: {e}"

        def retire() -> None:
            try:
                c.retire(document["id"], "périmé")
                outcomes["retirement"] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes["retirement"] = f"{type(e).__name__}: {e}"

        writers = {
            "removal": threading.Thread(target=remove, name="removal"),
            "retirement": threading.Thread(target=retire, name="retirement"),
        }
        second = "retirement" if first == "removal" else "removal"
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(audit, "append", audited)
            writers[first].start()
            assert reached.wait(600)
            writers[second].start()
            _until_one_waits(c.engine, writers[second])
            go.set()
            for w in writers.values():
                w.join(600)
        assert outcomes == {"removal": "ok", "retirement": "ok"}, outcomes
        assert count(c, answer_cache) == 0
        assert c.verify_audit().ok


def test_an_answer_cached_during_a_removal_and_a_retirement_fails_none(postgres_url, tmp_path):
    """The cache read the index generation (FOR SHARE), then waited for its asker's row,
    which their removal held while it waited for the audit log, which a retirement held
    while it waited to bump that generation: a deadlock on PostgreSQL, and one of the three
    failed. The cache reads its asker's row first now, holding nothing while it waits."""
    import time

    import numpy as np

    from commune.answering.cache import AnswerCache
    from commune.core import Commune
    from commune.store import audit, repository
    from commune.store.schema import answer_cache

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        make_key(c, "alice", "Ville A", "member-admin")
        make_key(c, "bob", "Ville A")
        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        [document] = c.documents()
        bob = c.actor("bob").user_id
        with c.engine.connect() as conn:
            generation = repository.generation(conn)
        reached, go = threading.Event(), threading.Event()
        append = audit.append

        def audited(conn, actor, action, *args, **kwargs):  # type: ignore[no-untyped-def]
            done = append(conn, actor, action, *args, **kwargs)
            if action == "retire":  # the audit log held, the generation not yet bumped
                reached.set()
                assert go.wait(600)
            return done

        outcomes: dict[str, str] = {}

        def run(name: str, work) -> None:  # type: ignore[no-untyped-def]
            try:
                work()
                outcomes[name] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes[name] = f"{type(e).__name__}: {e}"

        writers = [
            threading.Thread(
                target=run, args=("retirement", lambda: c.retire(document["id"], "périmé"))
            ),
            threading.Thread(
                target=run,
                args=(
                    "removal",
                    lambda: c.admin.remove_user("bob", "parti", actor=c.actor("alice")),
                ),
            ),
            threading.Thread(
                target=run,
                args=(
                    "cache",
                    lambda: AnswerCache(c.engine).store(
                        "k",
                        "s",
                        generation,
                        "fr",
                        np.ones(4, "f4"),
                        "e",
                        {"question": "Où ?"},
                        24.0,
                        bob,
                    ),
                ),
            ),
        ]
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )

        def until_waiting(n: int, writer: threading.Thread) -> None:
            for _ in range(6000):  # polled, not timed; bounds a hang
                with c.engine.connect() as conn:
                    if conn.execute(waiting).scalar_one() >= n or not writer.is_alive():
                        return
                time.sleep(0.01)
            raise AssertionError(f"fewer than {n} writers waited")

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(audit, "append", audited)
            writers[0].start()
            assert reached.wait(600)
            writers[1].start()  # bob's row written, then waits for the audit log
            until_waiting(1, writers[1])
            writers[2].start()  # waits for bob's row
            until_waiting(2, writers[2])
            go.set()
            for w in writers:
                w.join(600)
        assert outcomes == {"retirement": "ok", "removal": "ok", "cache": "ok"}, outcomes
        assert count(c, answer_cache) == 0


def test_two_imports_retiring_one_document_at_once_both_succeed(
    postgres_url, tmp_path, monkeypatch
):
    """Two imports of a dataset whose publisher retired a document: both found it here, the
    first retired it, and the second failed ("no document N that is not already retired"),
    then ran again fine. The second leaves it as the first retired it."""
    from commune.commons import curation, opendata
    from commune.core import Commune
    from commune.govern.policy import OPERATOR

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        [doc] = c.documents()
        import hashlib

        line = {
            "sha256": [hashlib.sha256(page.read_bytes()).hexdigest()],
            "category": "outdated",
            "retired_at": "2026-11-30T10:00:00+00:00",
        }
        origin = {"origin": "piscines", "dataset": str(tmp_path / "dataset")}
        # Given by that dataset (a dataset retires only what it gave: migration 0020).
        from sqlalchemy import insert

        from commune.store.repository import now
        from commune.store.schema import dataset_texts

        with c.engine.begin() as conn:
            conn.execute(
                insert(dataset_texts).values(
                    document_id=doc["id"],
                    content_hash=line["sha256"][0],
                    origin="piscines",
                    given_at=now(),
                )
            )
        # The one stopped where it has found the document and not retired it yet.
        reached, go = threading.Event(), threading.Event()
        real = curation.retire_from_dataset

        def retiring(*args, **kwargs):  # type: ignore[no-untyped-def]
            if threading.current_thread().name == "first" and not reached.is_set():
                reached.set()
                assert go.wait(600)
            return real(*args, **kwargs)

        monkeypatch.setattr(curation, "retire_from_dataset", retiring)
        outcomes: dict[str, object] = {}

        def run() -> None:
            name = threading.current_thread().name
            try:
                outcomes[name] = opendata._retire_here(
                    c.library, "mairie", [line], origin, OPERATOR
                )
            except Exception as e:  # noqa: BLE001
                outcomes[name] = f"{type(e).__name__}: {e}"

        first = threading.Thread(target=run, name="first")
        second = threading.Thread(target=run, name="second")
        first.start()
        assert reached.wait(600)
        second.start()
        _until_one_waits(c.engine, second)
        go.set()
        first.join(600)
        second.join(600)
        assert sorted(map(str, outcomes.values())) == ["{'retired': 0}", "{'retired': 1}"], outcomes
        assert [d["status"] for d in c.documents()] == ["retired"]
        retirements = [e for e in c.audit_entries() if e["action"] == "retire"]
        assert [e["subject"] for e in retirements] == [f"document {doc['id']}"]


def test_an_approval_and_a_new_revision_of_its_document_at_once_never_deadlock(
    postgres_url, tmp_path, monkeypatch
):
    """A curator approves a document's waiting text while its newer text arrives and is
    published: the arrival held the document's row and waited to supersede its published
    revision, which the approval held while it waited for the row, and PostgreSQL failed
    one (deadlock). The approval now waits for the arrival, and finds its text outdated."""
    from commune.commons import curation
    from commune.core import Commune

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        page.write_text("La piscine municipale ouvre le mardi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC-BY-4.0")  # a licence change: waits
        [waiting] = c.pending()
        page.write_text("La piscine municipale ouvre le jeudi à neuf heures.\n", "utf-8")

        # The arrival stopped once it holds the document's row, before it publishes.
        reached, go = threading.Event(), threading.Event()
        publish = curation.publish

        def publishing(*args, **kwargs):  # type: ignore[no-untyped-def]
            if threading.current_thread().name == "arrival" and not reached.is_set():
                reached.set()
                assert go.wait(600)
            return publish(*args, **kwargs)

        monkeypatch.setattr(curation, "publish", publishing)
        outcomes: dict[str, str] = {}

        def arrive() -> None:
            try:
                c.add([page], collection="mairie", licence="CC0-1.0")
                outcomes["arrival"] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes["arrival"] = f"{type(e).__name__}: {e}"

        def approve() -> None:
            try:
                outcomes["approval"] = c.review(waiting["id"], "approve", "lu")
            except Exception as e:  # noqa: BLE001
                outcomes["approval"] = f"{type(e).__name__}: {e}"

        arrival = threading.Thread(target=arrive, name="arrival")
        approval = threading.Thread(target=approve, name="approval")
        arrival.start()
        assert reached.wait(600)
        approval.start()
        _until_one_waits(c.engine, approval)
        go.set()
        arrival.join(600)
        approval.join(600)
        assert outcomes["arrival"] == "ok", outcomes
        assert outcomes["approval"] == (
            f"CommuneError: revision {waiting['id']} is outdated, not awaiting review"
        ), outcomes
        texts = " ".join(h.text for h in c.search("piscine municipale ouvre", k=5))
        assert "jeudi" in texts and "mardi" not in texts


@pytest.mark.parametrize("first", ["arrival", "rules"])
def test_rules_lowered_and_a_new_revision_of_a_waiting_document_at_once_both_succeed(
    postgres_url, tmp_path, monkeypatch, first
):
    """The rules lowered to no approval while a document's newer text arrives: the arrival
    read the rules before the change committed (one approval), the change looked for what
    waits before the arrival committed, and the newer text waited for an approval nobody
    was asked for any more. Each is stopped where it holds the most, the other started
    against it: neither fails (no deadlock), and the newer text is published either way."""
    from commune.commons import curation
    from commune.core import Commune
    from commune.store import repository

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        c.set_curation_rules("mairie", 1, "curator")
        page.write_text("La piscine municipale ouvre le mardi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")  # held for one approval
        page.write_text("La piscine municipale ouvre le jeudi à neuf heures.\n", "utf-8")

        reached, go = threading.Event(), threading.Event()

        def stopped() -> None:
            if threading.current_thread().name == first and not reached.is_set():
                reached.set()
                assert go.wait(600)

        write_revision, append = repository.write_revision, curation.audit.append

        def written(*args, **kwargs):  # type: ignore[no-untyped-def]
            done = write_revision(*args, **kwargs)
            stopped()  # the arrival holds the document's row
            return done

        def audited(conn, actor, action, *args, **kwargs):  # type: ignore[no-untyped-def]
            done = append(conn, actor, action, *args, **kwargs)
            if action == "curation-rules":
                stopped()  # the rules' change holds the audit log, the text not published
            return done

        monkeypatch.setattr(repository, "write_revision", written)
        monkeypatch.setattr(curation.audit, "append", audited)
        outcomes: dict[str, str] = {}

        def arrive() -> None:
            try:
                c.add([page], collection="mairie", licence="CC0-1.0")
                outcomes["arrival"] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes["arrival"] = f"{type(e).__name__}: {e}"

        def lower() -> None:
            try:
                outcomes["rules"] = (
                    f"released {c.set_curation_rules('mairie', 0, 'curator').released}"
                )
            except Exception as e:  # noqa: BLE001
                outcomes["rules"] = f"{type(e).__name__}: {e}"

        writers = {
            "arrival": threading.Thread(target=arrive, name="arrival"),
            "rules": threading.Thread(target=lower, name="rules"),
        }
        second = "rules" if first == "arrival" else "arrival"
        writers[first].start()
        assert reached.wait(600)
        writers[second].start()
        _until_one_waits(c.engine, writers[second])
        go.set()
        for w in writers.values():
            w.join(600)
        assert outcomes == {"arrival": "ok", "rules": "released 1"}, outcomes
        texts = " ".join(h.text for h in c.search("piscine municipale ouvre", k=5))
        assert "jeudi" in texts and "mardi" not in texts, texts
        assert c.pending() == []


def test_a_transfer_and_a_new_revision_in_the_collection_at_once_both_succeed(
    postgres_url, tmp_path, monkeypatch
):
    """An arrival holds its collection's rules as read until it commits (ArrivalGate), and
    then takes the audit log to publish; a transfer that took the audit log before the
    collection's row would wait for the arrival while the arrival waited for it."""
    from commune.core import Commune
    from commune.store import repository

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        make_key(c, "alice", "Ville A", "curator")
        make_key(c, "bob", "Ville B", "curator")
        page = tmp_path / "piscine.txt"
        page.write_text("La piscine municipale ouvre le lundi à neuf heures.\n", "utf-8")
        c.add([page], collection="mairie", licence="CC0-1.0")
        c.set_visibility("mairie", "shared", member="Ville A")
        page.write_text("La piscine municipale ouvre le jeudi à neuf heures.\n", "utf-8")
        reached, go = threading.Event(), threading.Event()
        write_revision = repository.write_revision

        def written(*args, **kwargs):  # type: ignore[no-untyped-def]
            done = write_revision(*args, **kwargs)
            if threading.current_thread().name == "arrival":
                reached.set()
                assert go.wait(600)
            return done

        monkeypatch.setattr(repository, "write_revision", written)
        outcomes: dict[str, str] = {}

        def arrive() -> None:
            try:
                c.add([page], collection="mairie", licence="CC0-1.0")
                outcomes["arrival"] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes["arrival"] = f"{type(e).__name__}: {e}"

        def transfer() -> None:
            try:
                c.set_visibility("mairie", "shared", member="Ville B", transfer=True)
                outcomes["transfer"] = "ok"
            except Exception as e:  # noqa: BLE001
                outcomes["transfer"] = f"{type(e).__name__}: {e}"

        arrival = threading.Thread(target=arrive, name="arrival")
        handing = threading.Thread(target=transfer, name="transfer")
        arrival.start()
        assert reached.wait(600)
        handing.start()
        _until_one_waits(c.engine, handing)
        go.set()
        arrival.join(600)
        handing.join(600)
        assert outcomes == {"arrival": "ok", "transfer": "ok"}, outcomes
        assert [(r["name"], r["owner"]) for r in c.collections()] == [("mairie", "Ville B")]


def test_a_postgresql_database_taking_no_write_is_said_as_such(
    postgres_server, postgres_url, tmp_path
):
    """A role or database with default_transaction_read_only (or a hot standby) refuses every
    write with SQLSTATE 25006; text/faults.py classified SQLite's "readonly database" only,
    and a command that writes ended on the driver's words or its traceback, and a caller was
    answered 500 "internal error" for a setting of the operator's. Now the operator is told
    which database takes no write and what to change, the caller "read-only", in both
    languages, and nothing is written."""
    from click.testing import CliRunner
    from sqlalchemy import create_engine, make_url

    from commune.cli import cli
    from commune.store.db import open_database
    from commune.text import faults

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    doc = tmp_path / "pool.txt"
    doc.write_text("The swimming pool opens at nine on Sundays.\n")
    name = make_url(postgres_url).database
    open_database(postgres_url).dispose()  # its tables made, as a server's start makes them
    # From the server's own database: the test's, read-only, would refuse the RESET.
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    try:
        said = {}
        for language in ("en_GB.UTF-8", "fr_FR.UTF-8"):
            out = CliRunner(env={"LANG": language}).invoke(
                cli, ["--home", str(home), "add", str(doc), "--licence", "etalab-2.0"]
            )
            assert out.exit_code == 2 and out.output.count("\n") == 1, out.output
            said[language[:2]] = out.output
        assert said["en"].startswith(
            "error: the service's PostgreSQL database takes no write (PostgreSQL: cannot "
            "execute INSERT in a read-only transaction): nothing was written; point "
            "database_url in commune.toml at the primary server"
        ), said["en"]
        assert "--home" not in said["en"] and str(home) not in said["en"]  # not the home's disk
        assert said["fr"].startswith(
            "erreur\u00a0: la base de données PostgreSQL du service n'accepte aucune écriture "
        ) and ("default_transaction_read_only à off" in said["fr"]), said["fr"]
        probe = create_engine(postgres_url)
        with pytest.raises(exc.DBAPIError) as refused, probe.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x int)")
        probe.dispose()
        found = faults.kind(refused.value)
        assert found is not None and found[0] == "read_only", found
        assert faults.for_caller(refused.value, "en") == (
            "read_only",
            "the server's storage is read-only: tell the service's operator",
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE {name} RESET default_transaction_read_only")
        admin.dispose()
    out = CliRunner().invoke(cli, ["--home", str(home), "documents"])
    assert "pool" not in out.output, out.output  # nothing was written


def test_a_postgresql_start_waits_for_a_held_lock_a_bounded_time_and_says_who_holds_it(
    postgres_url, tmp_path, monkeypatch
):
    """A start on PostgreSQL waited without end and without a word for a lock another session
    held: the migration's advisory lock (another Commune migrating: a second `serve`, a
    `commune migrate`), or, for a migration's DROP TRIGGER or ALTER TABLE, any transaction
    open on the table (a psql session left "idle in transaction"). It now waits as long as
    SQLite's busy_timeout (made short here: the lock is held for the whole test, so the
    outcome does not depend on how fast the machine is), then stops in one line naming the
    session that holds the lock and what to do, in the operator's language; exit 2, which
    commune.service restarts."""
    from click.testing import CliRunner
    from sqlalchemy import create_engine

    from commune.cli import cli
    from commune.errors import CommuneError
    from commune.store import db

    monkeypatch.setattr(db, "START_WAIT_MS", 300)
    other = create_engine(postgres_url, connect_args={"application_name": "psql"})
    # Another process migrating an empty database: it holds the migration's lock.
    with other.connect() as held:
        held.exec_driver_sql("SELECT pg_advisory_xact_lock(3, 0)")
        pid = held.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with pytest.raises(CommuneError) as err:
            db.open_database(postgres_url)
        said = str(err.value)
        assert said.startswith("the database ") and (
            f"is being migrated by another process (pid {pid}, psql, since " in said
        ), said
        assert said.endswith("waited 0.3 s (wait for it to end, then start again)"), said
        held.rollback()
    db.open_database(postgres_url).dispose()  # the lock let go: the start goes through
    # Behind 0025, which alters a table (ALTER TABLE waits for every reader of it), while a
    # session has read every table and stays open. Not merely one migration behind: 0026
    # only creates an index, which waits for writers, not readers, and so for nobody here.
    engine = create_engine(postgres_url)
    _migrate(engine, "0024", down=True)
    engine.dispose()
    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with other.connect() as held:
        tables = held.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).scalars()
        for table in list(tables):
            held.exec_driver_sql(f'SELECT 1 FROM "{table}" LIMIT 0')
        pid = held.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        for language, words in (
            (
                "en_GB.UTF-8",
                f"is locked by another session (pid {pid}, psql, idle in transaction, in a "
                "transaction since ",
            ),
            ("fr_FR.UTF-8", f"est verrouillée par une autre session (pid {pid}, psql, "),
        ):
            out = CliRunner(env={"LANG": language}).invoke(cli, ["--home", str(home), "check"])
            assert out.exit_code == 2 and out.output.count("\n") == 1, out.output
            assert words in out.output and f"pg_terminate_backend({pid})" in out.output, out.output
        held.rollback()
    other.dispose()
    out = CliRunner().invoke(cli, ["--home", str(home), "check"])  # migrated now
    assert out.exit_code == 0, out.output


def test_a_commune_holding_the_start_s_lock_is_named_by_its_command(postgres_url, monkeypatch):
    """Commune's sessions had no application_name: a second Commune starting while a first
    one migrated was told "another process (pid 4242, since …)", a pid on a database server
    the operator may not log in to, and a psql session and a Commune read alike. Each
    command now names its sessions ("commune serve"), and the line names the holder by it;
    a name the operator's URL gives its sessions is kept."""
    from commune.errors import CommuneError
    from commune.store import db

    monkeypatch.setattr(db, "START_WAIT_MS", 300)  # the lock is held throughout: no race
    monkeypatch.delenv("PGAPPNAME", raising=False)
    monkeypatch.setattr(db, "_sessions_name", db._sessions_name)  # put back after
    db.name_sessions("commune serve")  # as `commune serve` names its own (cli/group.py)
    serving = db.make_engine(postgres_url)
    try:
        with serving.connect() as held:
            held.exec_driver_sql("SELECT pg_advisory_xact_lock(3, 0)")  # migrating
            pid = held.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            db.name_sessions("commune check")
            with pytest.raises(CommuneError) as err:
                db.open_database(postgres_url)
            said = str(err.value)
            assert f"is being migrated by another process (pid {pid}, commune serve, " in said
            held.rollback()
    finally:
        serving.dispose()
    own = db.make_engine(f"{postgres_url}&application_name=ville-a")
    try:
        with own.connect() as conn:
            assert conn.exec_driver_sql("SHOW application_name").scalar_one() == "ville-a"
    finally:
        own.dispose()


@pytest.mark.parametrize("waiting", ["charter", "erasure"])
def test_a_postgresql_start_waits_a_bounded_time_for_the_charter_and_the_erasures(
    postgres_url, tmp_path, monkeypatch, caplog, request, waiting
):
    """The start's migrations were bounded (START_WAIT_MS), but the two writes a server's
    start makes after them were not: recording a charter.toml changed since the last run
    (under the charter's and the audit chain's locks) and finishing a personal-data erasure
    a crash left pending (under the document's lock). A session holding one of those locks
    (a psql transaction left open) held `commune serve` and `commune mcp` without end and
    without a word, before they listened (seen: a serve waiting until the holder let go).
    Now the charter's record stops the start as the migrations' wait does, in one line
    naming the holder (exit 2: the service starts again); the erasure, which the hourly
    purge finishes as well, is left with one line of the log and the start goes on."""
    import logging

    from sqlalchemy import create_engine

    from commune.core import Commune
    from commune.errors import CommuneError
    from commune.store import db
    from commune.store.erasure import _key as erasure_key
    from commune.store.erasure import pending
    from commune.store.schema import charters
    from commune.text.messages import localise

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    c = Commune(home)
    request.addfinalizer(c.close)  # before the database is dropped, whatever the outcome
    assert c.charter  # the default, recorded, as in a server that has run
    if waiting == "charter":
        (home / "charter.toml").write_text('version = "2"\n', encoding="utf-8")
    else:
        p = tmp_path / "arrete.txt"
        p.write_text("Monsieur Zorglub habite 12 rue des Lilas.\n", encoding="utf-8")
        c.add([p], collection="mairie", licence="etalab-2.0")
        [d] = c.documents()
        with monkeypatch.context() as crash:  # the texts erased, then the process died
            crash.setattr(c, "finish_erasures", lambda **_: 0)
            c.retire(d["id"], "l'adresse d'un habitant", category="personal-data")
    recorded = count(c, charters)
    # Short here: the lock is held for the whole wait, so the outcome does not depend on
    # how fast the machine is; the join below only keeps a regression from hanging.
    monkeypatch.setattr(db, "START_WAIT_MS", 300)
    other = create_engine(postgres_url, connect_args={"application_name": "psql"})
    outcome: dict[str, object] = {}

    def start() -> None:
        try:
            if waiting == "charter":
                outcome["value"] = c.charter_at_start()
            else:
                outcome["value"] = c.finish_erasures_at_start()
        except Exception as e:  # noqa: BLE001 -- examined below
            outcome["error"] = e

    with other.connect() as held, caplog.at_level(logging.WARNING, "commune.erasure"):
        if waiting == "charter":
            db.lock(held, "audit")  # another process appending to the audit chain
        else:
            db.lock(held, "document", erasure_key(d["id"]))
        pid = held.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        starting = threading.Thread(target=start, daemon=True)
        starting.start()
        starting.join(120)
        stuck = starting.is_alive()
        held.rollback()
    starting.join(600)
    other.dispose()
    assert not stuck, "the start waited past the bound for the lock another session held"
    # The bound is the start's alone (SET LOCAL): a request on a pooled connection after it
    # waits for a lock as it always did, not 30 s then an error.
    pooled = [c.engine.connect() for _ in range(max(c.engine.pool.checkedin(), 1))]
    try:
        assert {p.exec_driver_sql("SHOW lock_timeout").scalar_one() for p in pooled} == {"0"}
    finally:
        for p in pooled:
            p.close()
    if waiting == "charter":
        error = outcome.get("error")
        assert isinstance(error, CommuneError), outcome
        said = str(error)
        assert (
            f"is locked by another session (pid {pid}, psql, idle in transaction, in a "
            "transaction since " in said
        ), said
        assert f"pg_terminate_backend({pid})" in said, said
        assert localise(said, "fr").startswith("la base "), localise(said, "fr")
        assert count(c, charters) == recorded  # nothing written
        assert c.charter_at_start().version == "2"  # the lock let go: the start records it
        assert count(c, charters) == recorded + 1
    else:
        assert outcome == {"value": 0}, outcome
        assert "not finished at start" in caplog.text, caplog.text
        with c.engine.connect() as conn:
            assert len(pending(conn)) == 1  # left to the purge, whole
        assert c.finish_erasures() == 1


@pytest.mark.parametrize("removal", [False, True])
def test_two_admins_of_one_member_taken_out_at_once_leave_it_one(postgres_url, tmp_path, removal):
    """Two cooperative admins each take one of a member's two admins out at once (a role
    lowered, or a removal): each saw the other admin still there, and the member was left
    with none. The second waits for the first (accounts.keeps_an_admin's lock per member,
    an advisory lock on PostgreSQL: two sessions, two server processes), then sees it and
    is refused; the member keeps one admin."""
    from commune.core import Commune
    from commune.errors import InvalidRequest
    from commune.govern import accounts
    from commune.govern.policy import OPERATOR

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        c.admin.add_member("Ville A")
        for name in ("alice", "bob"):
            c.admin.add_user(name, member="Ville A", role="member-admin")
        outcome: list[str] = []

        def second() -> None:
            try:
                if removal:
                    c.admin.remove_user("bob", "left the town hall")
                else:
                    c.admin.set_role("bob", "reader")
                outcome.append("done")
            except InvalidRequest as e:
                outcome.append(str(e))

        with c.engine.begin() as conn:  # the first, not committed yet
            accounts.set_role(conn, OPERATOR, "alice", "reader")
            other = threading.Thread(target=second, name="second")
            other.start()
            _until_one_waits(c.engine, other)
        other.join(600)
        assert len(outcome) == 1 and outcome[0].startswith(
            "bob is the last admin of Ville A: without one, nobody of Ville A would manage"
        ), outcome
        roles = {u: c.admin.actor(u).role for u in ("alice", "bob")}
        assert roles == {"alice": "reader", "bob": "member-admin"}
