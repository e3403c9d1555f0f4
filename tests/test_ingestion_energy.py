"""The energy of adding documents (`commune add`, uploads, `commune import`, `commune enrich`)
is in the ledger, in rows of its own kind: the member owning the collection pays for it, no
person's quota counts it, no question is counted for it, and every total shows it beside the
answers' energy. A month issued before it was metered reads as it was issued."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select, update

from commune.store.schema import INGESTION_MODES, documents, members, usage
from tests.conftest import EN, make_key


def _corpus(tmp_path: Path, n: int = 3) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    for i in range(n):
        (d / f"note-{i}.md").write_text(
            f"# Note {i}\n\nLe conseil municipal {i} se réunit le jeudi à la mairie.",
            encoding="utf-8",
        )
    return d


def _rows(commune, *where):  # type: ignore[no-untyped-def]
    with commune.engine.connect() as conn:
        return list(conn.execute(select(usage).where(*where).order_by(usage.c.id)))


def test_commune_add_writes_the_members_ingestion_rows_and_no_request(commune, tmp_path):
    """`commune add` embedded every passage and no ledger row said so: the transparency page,
    the statement and /metrics summed the answers alone."""
    make_key(commune, "ana", "Ville A")
    before = commune.transparency()["totals"]
    summary = commune.add(
        [_corpus(tmp_path)], collection="deliberations", member="Ville A", licence="etalab-2.0"
    )
    assert summary.added == 3
    rows = _rows(commune, usage.c.mode.in_(INGESTION_MODES))
    # One row per document stored, in its own transaction.
    assert len(rows) == 3
    ville_a = commune.actor("ana").member_id
    for row in rows:
        assert (row.route, row.mode, row.collection) == ("add", "ingest", "deliberations")
        assert (row.member_id, row.user_id) == (ville_a, None)  # the member, no person
        assert row.wh > 0 and row.cpu_seconds > 0
        # The answers' meter, and its method's words.
        assert row.energy_method.startswith("CPU time x ") and row.estimated

    after = commune.transparency()
    totals = after["totals"]
    # No request, no question: the requests' figures did not move.
    assert totals["requests"] == before["requests"]
    assert totals["by_kind"] == before["by_kind"]
    assert totals["wh"] == before["wh"]
    ingestion = totals["ingestion"]
    assert ingestion["rows"] == 3
    assert ingestion["wh"] == pytest.approx(sum(r.wh for r in rows), abs=1e-6)
    assert ingestion["by_kind"]["ingest"]["wh"] == ingestion["wh"]
    assert after["month"]["ingestion_wh"] == pytest.approx(ingestion["wh"], abs=1e-6)
    # Nor does it credit a contributor: credits come from the passages an answer cites.
    assert commune.credits(datetime.now(UTC).strftime("%Y-%m"))["contributors"] == []


def test_a_shared_collections_ingestion_is_the_operators(commune, tmp_path):
    commune.add([_corpus(tmp_path, 1)], collection="commun", licence="etalab-2.0")
    [row] = _rows(commune, usage.c.mode == "ingest")
    assert (row.member_id, row.user_id, row.collection) == (None, None, "commun")


def test_adding_documents_takes_nothing_from_the_quotas(commune, tmp_path):
    """A member's quotas are its people's questions: a town's archive added to its
    collection used them up, and its people were refused over quota."""
    from commune.govern.quotas import check_quotas

    make_key(commune, "ana", "Ville A", requests_per_day=1)
    with commune.engine.begin() as conn:
        conn.execute(
            update(members)
            .where(members.c.name == "Ville A")
            .values(requests_per_day=1, wh_per_month=1e-9, tokens_per_month=1)
        )
    commune.add([_corpus(tmp_path)], collection="archives", member="Ville A", licence="etalab-2.0")
    actor = commune.actor("ana")
    assert _rows(commune, usage.c.member_id == actor.member_id)  # its rows are there
    with commune.engine.connect() as conn:
        used = check_quotas(conn, actor, datetime.now(UTC))
    assert used is not None and used.used == 0
    answer = commune.ask("Quand se réunit le conseil municipal ?", actor=actor)
    assert answer.text


def test_the_statement_prices_ingestion_on_its_members_line_and_counts_no_request(
    commune, tmp_path
):
    from commune.account.statement import csv_text

    make_key(commune, "ana", "Ville A")
    commune.add([_corpus(tmp_path)], collection="deliberations", member="Ville A", licence="MIT")
    month = datetime.now(UTC).strftime("%Y-%m")
    stmt = commune.statement(month)
    [line] = [ln for ln in stmt.lines if ln.member == "Ville A"]
    rows = _rows(commune, usage.c.mode == "ingest")
    assert line.requests == 0  # three documents added, no question asked
    assert line.ingest_wh == pytest.approx(sum(r.wh for r in rows))
    assert line.wh == pytest.approx(line.ingest_wh)  # its energy, priced on its line
    assert stmt.ingest_kwh == pytest.approx(line.ingest_wh / 1000)
    data = stmt.to_json()
    assert data["ingest_kwh"] == stmt.ingest_kwh
    assert data["lines"][0]["ingest_wh"] == line.ingest_wh  # type: ignore[index]
    header, values = csv_text(stmt, dialect="rfc4180").splitlines()[:2]
    assert header.endswith(",ingest_wh") and float(values.split(",")[-1]) > 0
    assert csv_text(stmt).splitlines()[0].endswith(";ajouts_wh")


# The SHA-256 that Commune before ingestion was metered (c07a33a5) gave the statement of the
# ledger _old_month writes: an issue then recorded it.
ISSUED_BEFORE = "30eb42d5782b4f41b9025cbcc94bc0f296143a2ecff475300b8c9e133f2552f0"


def _old_month(conn) -> None:  # type: ignore[no-untyped-def]
    from commune.govern.members import add_member

    a = add_member(conn, "Ville A", "town")
    b = add_member(conn, "Asso B", "association")
    for member_id, wh, mode, route, day in (
        (a, 12.5, "extractive", "api/ask", 3),
        (a, 4.25, "ingest", "api/documents:upload", 4),  # an upload, metered as it was then
        (b, 7.0, "generate", "web/ask", 5),
        (None, 2.0, "list", "v1/models", 6),
    ):
        conn.execute(
            insert(usage).values(
                created_at=datetime(2026, 10, day, 12, tzinfo=UTC),
                route=route,
                mode=mode,
                model=None,
                collection=None,
                input_tokens=3,
                output_tokens=0,
                duration_ms=10.0,
                fallback=False,
                member_id=member_id,
                user_id=None,
                cpu_seconds=1.0,
                wh=wh,
                gco2e=wh * 0.052,
                energy_method="test",
                estimated=True,
            )
        )
    conn.execute(update(members).values(created_at=datetime(2026, 9, 1, tzinfo=UTC)))


def test_a_month_issued_before_ingestion_was_metered_still_matches_its_sha256(commune, tmp_path):
    """Its figures made again with ingestion apart (a new column, uploads no longer
    requests) would no longer be the bill the members were sent."""
    from commune.account.statement import build_statement, csv_text, digest, made_with
    from commune.config import CooperativeSettings
    from commune.store import audit

    settings = CooperativeSettings(server_cost_eur_month=1300, price_eur_per_kwh=0.25, rule="mix")
    with commune.engine.begin() as conn:
        _old_month(conn)
        # As the issue of then recorded it: no word of ingestion.
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
        made_now = build_statement(conn, settings, "2026-10")
    assert digest(made_now) != ISSUED_BEFORE  # what the check guards against
    stmt = commune.statement("2026-10")
    assert not [n for n in stmt.notices if "no longer those issued" in n], stmt.notices
    assert stmt.sha256 == ISSUED_BEFORE == digest(stmt)
    assert "ingest_kwh" not in stmt.to_json()
    assert [ln.requests for ln in stmt.lines] == [1, 2]  # Asso B, Ville A: its upload counted
    assert "ajouts_wh" not in csv_text(stmt)
    # Nor in any file written again, a member's own, nor in the CLI's lines.
    from commune.account.statement import export
    from commune.cli.accounting import french_statement

    for path in export(stmt, tmp_path / "out"):
        said = path.read_text(encoding="utf-8")
        assert "ingest" not in said and "ajout" not in said, path.name
    assert "ajout de documents" not in french_statement(stmt)


def test_a_month_issued_now_keeps_ingestion_apart_when_made_again(commune, monkeypatch):
    from commune.account.statement import digest
    from commune.store import repository as repo

    with commune.engine.begin() as conn:
        _old_month(conn)
    monkeypatch.setattr(repo, "now", lambda: datetime(2026, 11, 2, tzinfo=UTC))
    issued = commune.issue_statement("2026-10")
    again = commune.statement("2026-10")
    assert again.sha256 == issued.sha256 == digest(again)
    assert not [n for n in again.notices if "no longer" in n]
    assert again.ingest_kwh == pytest.approx(4.25 / 1000)
    assert [ln.requests for ln in again.lines] == [1, 1]  # the upload is no request now


def test_a_crash_keeps_each_stored_document_with_its_row_and_leaves_none_for_the_rest(
    commune, tmp_path, monkeypatch
):
    """The row of a document is written in the document's transaction: a crash while the
    second is stored rolls back its row with it, and the first keeps both."""
    from commune.commons.curation import ArrivalGate

    publish = ArrivalGate.publish
    calls = []

    def crashing(self, conn, revision_id, actor, reason):  # type: ignore[no-untyped-def]
        calls.append(revision_id)
        if len(calls) == 2:
            raise RuntimeError("the machine stopped")
        return publish(self, conn, revision_id, actor, reason)

    monkeypatch.setattr(ArrivalGate, "publish", crashing)
    with pytest.raises(RuntimeError):
        commune.add([_corpus(tmp_path)], collection="c", licence="etalab-2.0")
    with commune.engine.connect() as conn:
        stored = conn.execute(select(documents.c.id)).scalars().all()
    assert len(stored) == 1
    [row] = _rows(commune, usage.c.mode == "ingest")
    assert row.wh > 0


def test_an_uploads_documents_are_its_collections_members_and_the_upload_one_request(commune):
    """An upload was metered as one request of the person's, its documents' embedding
    included: now the documents are ingestion rows of the collection's member, and the
    request is its own row, of its own small work, in the person's quotas."""
    from commune.api.app import create_app

    key = make_key(commune, "cora", "Ville A", "contributor")
    client = TestClient(create_app(commune), headers={**EN, "Authorization": f"Bearer {key}"})
    for name in ("a.md", "b.md"):
        r = client.post(
            "/api/documents",
            files=[("files", (name, f"# {name}\n\nLe marché a lieu le samedi.".encode(), "text"))],
            data={"collection": "marche", "licence": "etalab-2.0"},
        )
        assert r.status_code == 200, r.text
    rows = _rows(commune, usage.c.mode == "ingest")
    assert [(r.route, r.user_id) for r in rows] == [("api/documents:upload", None)] * 2
    actor = commune.actor("cora")
    assert {r.member_id for r in rows} == {actor.member_id}  # the collection is Ville A's
    requests = _rows(commune, usage.c.mode == "upload")
    assert [(r.route, r.user_id, r.member_id) for r in requests] == [
        ("api/documents:upload", actor.user_id, actor.member_id)
    ] * 2
    # The request's row holds the receiving of the files, not their embedding: its meter
    # stopped before the add (test_an_upload_refused_whole_takes_no_request_of_the_day).


def test_a_contributor_uploads_no_more_than_their_requests_per_day(commune):
    """Uploads took no place in any quota: a contributor with one request a day uploaded
    file after file, each up to [limits] max_upload_mb, and the server embedded them all.
    An upload is their request: the second of the day is refused before a file is parsed."""
    from commune.api.app import create_app

    key = make_key(commune, "cora", "Ville A", "contributor", requests_per_day=1)
    client = TestClient(create_app(commune), headers={**EN, "Authorization": f"Bearer {key}"})

    def upload(name: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/api/documents",
            files=[("files", (name, f"# {name}\n\nLe marché a lieu le samedi.".encode(), "text"))],
            data={"collection": "marche", "licence": "etalab-2.0"},
        )

    assert upload("a.md").status_code == 200
    refused = upload("b.md")
    assert refused.status_code == 429, refused.text
    assert "user 'cora' has used their quota of 1 request per day" in refused.json()["detail"]
    assert refused.headers["Retry-After"]
    with commune.engine.connect() as conn:
        assert len(conn.execute(select(documents.c.id)).all()) == 1  # b.md was not stored
    assert len(_rows(commune, usage.c.mode == "ingest")) == 1


def test_an_upload_refused_whole_takes_no_request_of_the_day(commune, monkeypatch):
    """An upload's row was written before its files were added: one refused whole (a
    mistyped licence, a reader's) was a request all the same, and a contributor with one
    request a day, having mistyped the licence, was refused the upload itself until the next
    day (429), while a question refused counts none. The row is now written once the add is
    done, its meter stopped before it."""
    import time

    from commune.api.app import create_app
    from commune.commons.library import Library

    key = make_key(commune, "cora", "Ville A", "contributor", requests_per_day=1)
    reader = make_key(commune, "rita", "Ville A", "reader", requests_per_day=1)
    app = create_app(commune)

    def upload(secret: str, licence: str):  # type: ignore[no-untyped-def]
        return TestClient(app, headers={**EN, "Authorization": f"Bearer {secret}"}).post(
            "/api/documents",
            files=[("files", ("a.md", "# A\n\nLe marché a lieu le samedi.".encode(), "text"))],
            data={"collection": "marche", "licence": licence},
        )

    refused = upload(key, "etalab-2")
    assert refused.status_code == 400 and "invalid licence 'etalab-2'" in refused.json()["detail"]
    assert upload(reader, "etalab-2.0").status_code == 403
    assert _rows(commune, usage.c.mode == "upload") == []
    slow = Library.add

    def add(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.5)  # the documents' work, which is not the request's
        return slow(*args, **kwargs)

    monkeypatch.setattr(Library, "add", add)
    r = upload(key, "etalab-2.0")
    assert r.status_code == 200, r.text
    [request] = _rows(commune, usage.c.mode == "upload")
    assert request.user_id == commune.actor("cora").user_id and request.duration_ms < 500
    assert upload(key, "etalab-2.0").status_code == 429


def test_import_rows_are_of_their_own_kind(commune, tmp_path):
    out = tmp_path / "dataset"
    commune.add([_corpus(tmp_path, 2)], collection="source", licence="etalab-2.0")
    commune.export_collection("source", out)
    commune.import_dataset(out, "copie")
    rows = _rows(commune, usage.c.mode == "import")
    assert rows and {(r.route, r.collection) for r in rows} == {("import", "copie")}
    totals = commune.transparency()["totals"]["ingestion"]["by_kind"]
    assert totals["import"]["rows"] == len(rows)


def test_metrics_show_ingestion_beside_the_requests(home, tmp_path):
    from commune.api.app import create_app
    from commune.core import Commune
    from tests.test_metrics import _client, _samples, _value

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[metrics]\nenabled = true\n", encoding="utf-8")
    app = create_app(Commune(home))
    app.state.commune.add([_corpus(tmp_path)], collection="c", licence="etalab-2.0")
    with _client(app) as client:
        seen = _samples(client.get("/metrics").text)
    assert _value(seen, "commune_metered_requests_total") == 0
    assert _value(seen, "commune_energy_wh_total") == 0
    assert _value(seen, "commune_ingestion_energy_wh_total", kind="ingest") > 0
    assert _value(seen, "commune_ingestion_carbon_gco2e_total", kind="ingest") > 0
    assert ("commune_ingestion_energy_wh_total", (("kind", "enrich"),)) in seen


def test_an_upload_metered_before_the_upgrade_stays_a_request_in_every_total(home):
    """An upload was metered as its sender's request (mode "ingest", their user_id): moved
    out of the requests at the upgrade, /metrics' request and energy counters fell back, read
    by rate() as a reset (the whole history counted again), and its member's statement line
    called it documents added to its collections."""
    from commune.api.app import create_app
    from commune.core import Commune
    from tests.test_metrics import _client, _samples, _value

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[metrics]\nenabled = true\n", encoding="utf-8")
    app = create_app(Commune(home))
    commune = app.state.commune
    make_key(commune, "cora", "Ville A", "contributor")
    cora = commune.actor("cora")
    with commune.engine.begin() as conn:
        conn.execute(
            insert(usage).values(
                created_at=datetime.now(UTC),
                route="api/documents:upload",
                mode="ingest",
                model=None,
                collection=None,
                input_tokens=0,
                output_tokens=0,
                duration_ms=10.0,
                fallback=False,
                member_id=cora.member_id,
                user_id=cora.user_id,
                cpu_seconds=1.0,
                wh=4.25,
                gco2e=0.221,
                energy_method="test",
                estimated=True,
            )
        )
    with _client(app) as client:
        seen = _samples(client.get("/metrics").text)
    assert _value(seen, "commune_metered_requests_total") == 1  # as before the upgrade
    assert _value(seen, "commune_energy_wh_total") == pytest.approx(4.25)
    assert _value(seen, "commune_ingestion_energy_wh_total", kind="ingest") == 0
    [line] = [ln for ln in commune.statement(datetime.now(UTC).strftime("%Y-%m")).lines]
    assert (line.requests, line.wh, line.ingest_wh) == (1, pytest.approx(4.25), 0)


def test_the_transparency_page_shows_ingestion_beside_the_requests(commune, tmp_path):
    from commune.cli.transparency import french_transparency

    commune.add([_corpus(tmp_path)], collection="c", licence="etalab-2.0")
    data = json.loads(json.dumps(commune.transparency(), default=str))
    said = french_transparency(data)
    assert "ingestion, à côté des requêtes\u00a0:" in said
    assert "0 requête au registre" in said


def test_the_statement_and_transparency_pages_show_ingestion_beside_the_answers(commune, tmp_path):
    import html
    import re

    from commune.api.app import create_app
    from tests.test_web import browser, make_person

    make_person(commune, "alice", "Ville A", "cooperative-admin")
    commune.add([_corpus(tmp_path)], collection="c", member="Ville A", licence="etalab-2.0")
    app = create_app(commune)
    alice = browser(app, "alice")
    month = datetime.now(UTC).strftime("%Y-%m")
    page = html.unescape(alice.get(f"/statement?month={month}").page)
    assert "Dont ajout de documents (Wh)" in page
    # French words: « à part des requêtes » reads "except the requests", « sont allés à »
    # a calque of "went to".
    assert re.search(r"Sur l.énergie du mois, .+? kWh ont servi à ajouter des documents", page)
    shown = html.unescape(browser(app).get("/transparency").text)
    assert "À côté des requêtes, l'ingestion (documents ajoutés" in shown
    assert "à part des" not in shown.lower()


def test_enrichment_rows_are_the_operators_one_per_batch_stored(tmp_path):
    """`commune enrich` embedded every passage a second time, and no row said so."""
    from commune.core import Commune

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text("[enrich]\nbatch = 2\n", encoding="utf-8")
    with Commune(home) as c:
        c.add([_corpus(tmp_path, 4)], collection="c", licence="etalab-2.0")
        done = c.enrich()
        assert done.enriched == 4
        rows = _rows(c, usage.c.mode == "enrich")
        assert [(r.route, r.member_id, r.user_id, r.collection) for r in rows] == [
            ("enrich", None, None, None)
        ] * 2
        assert all(r.wh > 0 and r.energy_method.startswith("CPU time x ") for r in rows)
        assert c.transparency()["totals"]["ingestion"]["by_kind"]["enrich"]["rows"] == 2


def test_the_charters_monthly_energy_cap_counts_the_questions_not_the_documents(home, tmp_path):
    """A member's collection filled by `commune add` spent its energy budget: its people's
    first question of the month was refused by sobriety.member_month_wh_cap."""
    from commune.core import Commune
    from tests.test_charter import CHARTER, write_charter

    write_charter(
        home, CHARTER.replace("[sobriety]\n", "[sobriety]\nmember_month_wh_cap = 0.000001\n")
    )
    with Commune(home) as c:
        make_key(c, "fred", "Ville F")
        c.add([_corpus(tmp_path)], collection="f", member="Ville F", licence="etalab-2.0")
        fred = c.actor("fred")
        assert sum(r.wh for r in _rows(c, usage.c.member_id == fred.member_id)) > 0.000001
        first = c.ask("Quand se réunit le conseil municipal ?", actor=fred)
        assert first.mode != "refused", first.decisions


def test_an_ingestion_is_one_run_among_the_requests_not_one_per_document(commune):
    """Each document's row started a new meter, counted as one more request running: an
    answer running beside an add of twenty files had its CPU time divided by twenty-one."""
    import gc
    import time

    from commune.account.energy import _InFlight
    from commune.account.metering import ADD, Ingestion

    gc.collect()  # meters earlier tests dropped without stopping leave the count now
    answer = commune.metering.meter()
    t0 = time.process_time()
    ingestion = Ingestion(commune.metering, ADD)
    for _ in range(20):
        ingestion.charge(None, None)
    # The answer and the add, beside any meter an earlier test of this process left to the
    # collector: the add counts once, not once per document.
    at_work = _InFlight.running
    while time.process_time() - t0 < 0.2:  # the answer's work, and the add's beside it
        sum(i * i for i in range(1000))
    cpu, _, _, _ = answer.stop()
    spent = time.process_time() - t0
    assert at_work >= 2
    assert cpu == pytest.approx(spent / at_work, rel=0.1)
    assert len(_rows(commune, usage.c.mode == "ingest")) == 20


def test_the_servers_enrichment_finding_nothing_to_do_takes_no_answers_share(tmp_path):
    """The background job started a meter each time it looked for passages to enrich (every
    minute), found none, and wrote no row: an answer running meanwhile had its CPU time
    divided by one more request for each look, the rest of it in no row of the ledger."""
    import gc
    import time

    from commune.account.energy import _InFlight
    from commune.core import Commune
    from commune.embed import get_embedder
    from commune.index.enrich import Enricher

    home = tmp_path / "home"
    home.mkdir()
    with Commune(home) as c:
        c.add([_corpus(tmp_path, 2)], collection="c", licence="etalab-2.0")
        c.enrich()  # every passage enriched: the job finds nothing to do
        embedder = get_embedder(c.enrichment_model())
        # A meter an earlier test of this process dropped without stopping leaves the count
        # when the collector takes it: taken now, and any still held counted.
        gc.collect()
        before = _InFlight.running
        answer = c.metering.meter()
        t0 = time.process_time()
        job = Enricher(c.engine, lambda: embedder, idle_seconds=0.02, metering=c.metering)
        job.start()
        time.sleep(0.3)  # a dozen looks
        job.stop()
        while time.process_time() - t0 < 0.2:  # the answer's own work
            sum(i * i for i in range(1000))
        cpu, _, _, _ = answer.stop()
        spent = time.process_time() - t0
        # It ran alone (beside any meter still held): all of its share.
        assert cpu == pytest.approx(spent / (before + 1), rel=0.1)
        assert not _rows(c, usage.c.route == "serve/enrich")
