"""Hostile and malformed input that the earlier suites did not cover: PDFs cut short or
locked, HTML that is only script, odd Unicode in queries, malformed requests, guessed keys,
and the headers every page carries."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from commune.errors import IngestError
from tests.conftest import EN, make_key
from tests.fixtures import make_pdf


def locked(pdf: bytes) -> bytes:
    """The same PDF with a Standard security handler whose user password is not empty."""
    encrypt = (
        b"/Encrypt << /Filter /Standard /V 1 /R 2 /O <"
        + b"00" * 32
        + b"> /U <"
        + b"11" * 32
        + b"> /P -4 >> /ID [<"
        + b"ab" * 16
        + b"> <"
        + b"ab" * 16
        + b">] "
    )
    return pdf.replace(b"trailer\n<< ", b"trailer\n<< " + encrypt)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "cut.pdf",
            make_pdf(["Un arrêté municipal sur le stationnement."])[:300],
            # PDFium's own words ("Data format error") are no reader's, nor French.
            "not a readable PDF (damaged, cut short, or not a PDF) (fetch it again",
        ),
        ("locked.pdf", locked(make_pdf(["Un document confidentiel."])), "password-protected"),
        (
            "script.html",
            b"<html><head><script>alert(1)</script></head><body><script>x()</script></body></html>",
            "no text",
        ),
    ],
)
def test_bad_documents_give_one_line_errors_and_store_nothing(
    commune, tmp_path, name, data, message
):
    from commune.ingest.readers import read_file

    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(IngestError) as err:
        read_file(data, path)
    assert message in str(err.value) and "\n" not in str(err.value)
    summary = commune.add([path], licence="etalab-2.0")
    assert summary.failed == 1 and commune.documents() == []


@pytest.fixture
def client(commune, corpus):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    commune.add([corpus], licence="etalab-2.0")
    c = TestClient(create_app(commune), headers=EN)
    c.headers["Authorization"] = f"Bearer {make_key(commune, 'uma', 'Ville U')}"
    return c


@pytest.mark.parametrize(
    "query",
    [
        "🙂🙂🙂",
        "مرحبا بكم في المكتبة",
        "\u200b\u200b\u200b",
        "e\u0301e\u0301",
        "\x00",
        "a" * 2000,
        "ﬁ ﬂ Ⅻ ①",
        "'; DROP TABLE documents; --",
        "<script>alert(1)</script>",
    ],
)
def test_unicode_edge_queries_never_fail(client, query):
    for path, body in (("/api/search", {"query": query}), ("/api/ask", {"question": query})):
        r = client.post(path, json=body)
        assert r.status_code in (200, 400), (query, r.status_code, r.text[:200])
        if r.status_code == 400:
            assert "\n" not in r.json()["detail"]


def test_malformed_json_and_wrong_content_types_are_refused_cleanly(client):
    bad = [
        client.post("/api/ask", content=b"{not json", headers={"Content-Type": "application/json"}),
        client.post("/api/ask", content=b"question=hi", headers={"Content-Type": "text/plain"}),
        client.post("/api/ask", json=["a", "list"]),
        client.post("/api/ask", json={"question": 42}),
        client.post("/api/search", json={"query": "x", "k": "many"}),
        client.post("/v1/chat/completions", json={"model": "auto", "messages": "hi"}),
        client.post("/api/documents", json={"files": "not a file"}),
    ]
    # /v1/ answers them 400, as OpenAI does (its clients raise BadRequestError for 400 only).
    assert [r.status_code for r in bad] == [422] * 5 + [400, 422]


def test_guessed_keys_are_slowed_down(commune):
    from commune.api.app import create_app

    client = TestClient(create_app(commune), headers=EN)
    for _ in range(5):  # no key at all is not a guess: never counted
        assert client.get("/api/collections").status_code == 401
    for i in range(20):
        r = client.get("/api/collections", headers={"Authorization": f"Bearer cmn_guess{i}"})
        assert r.status_code == 401
    r = client.get("/api/collections", headers={"Authorization": "Bearer cmn_guess-again"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "too many failed API keys" in r.json()["detail"]
    # A good key still works: the guesses of others behind the same address (a NAT, a proxy)
    # lock nobody out (issue 22); tests/test_edges.py holds the rest.
    good = make_key(commune, "gus", "Ville G")
    assert (
        client.get("/api/collections", headers={"Authorization": f"Bearer {good}"}).status_code
        == 200
    )


def test_every_page_carries_security_headers_and_no_inline_script(client):
    page = client.get("/signin")
    for r in (page, client.get("/api/collections"), client.get("/transparency")):
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert r.headers["Referrer-Policy"] == "no-referrer"
        csp = r.headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp
            and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        )
    # The policy can hold: the page's only script is loaded from the server.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)
    assert client.get("/static/commune.js").headers["content-type"].startswith("text/javascript")


def test_the_swagger_packages_own_pages_are_held_by_the_policy(client):
    """/docs needs Swagger UI's folder served, which holds its demo page too: exempt from the
    policy with the folder, it ran inline script and fetched the Petstore's API from
    petstore.swagger.io, on the cooperative's address. /docs still works: it alone is exempt."""
    for page in ("/static/swagger/index.html", "/static/swagger/oauth2-redirect.html"):
        r = client.get(page)
        assert r.status_code == 200
        csp = r.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "connect-src 'self'" in csp, page
    docs = client.get("/docs")
    assert docs.status_code == 200 and "Content-Security-Policy" not in docs.headers
    bundle = client.get("/static/swagger/swagger-ui-bundle.js")
    assert bundle.status_code == 200


def test_a_file_that_takes_too_long_to_read_is_stopped_and_the_batch_goes_on(home, corpus):
    """[limits] max_parse_seconds reads files in a child process: past the limit it is
    stopped. A limit of a millisecond is shorter than any real parse, PDF included."""
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_parse_seconds = 0.001\n")
    with Commune(home) as c:
        s = c.add([corpus / "etat-civil.pdf", corpus / "pool.txt"], licence="etalab-2.0")
        assert s.failed == 2 and c.documents() == []
        assert all("took more than 0.001 s" in e and "max_parse_seconds" in e for e in s.errors)
    (home / "commune.toml").write_text("[limits]\nmax_parse_seconds = 60\n")
    with Commune(home) as c:  # a generous limit: the same files go in, read by the child
        s = c.add([corpus / "etat-civil.pdf", corpus / "pool.txt"], licence="etalab-2.0")
        assert s.added == 2, s.errors
        assert c.search("acte de naissance")[0].title


def test_an_error_raised_in_the_child_keeps_its_hint(home, tmp_path):
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_parse_seconds = 60\n")
    bad = tmp_path / "locked.pdf"
    bad.write_bytes(locked(make_pdf(["Secret."])))
    with Commune(home) as c:
        (error,) = c.add([bad], licence="etalab-2.0").errors
    assert "password-protected (remove the password" in error


def test_a_file_its_reader_library_chokes_on_fails_alone_and_the_batch_goes_on(home, tmp_path):
    # A PDF that declares two pages and holds one raised PdfiumError, an ODT heading level
    # that is not a number a ValueError: each stopped the batch with a traceback (review).
    from commune.core import Commune
    from tests.fixtures import edited_odt

    (tmp_path / "a.txt").write_text("Le marché a lieu le samedi matin sur la place.\n")
    pdf = make_pdf(["Le locataire doit payer son loyer chaque mois."])
    (tmp_path / "b-pages.pdf").write_bytes(pdf.replace(b"/Count 1", b"/Count 2"))
    (tmp_path / "c-outline.odt").write_bytes(
        edited_odt(tmp_path, lambda x: x.replace(b'outline-level="2"', b'outline-level="deux"'))
    )
    (tmp_path / "d.txt").write_text("La piscine ouvre à 9 heures le dimanche.\n")
    with Commune(home) as c:
        s = c.add([tmp_path], licence="etalab-2.0")
        # The ODT's heading level is read as 1: only the PDF fails.
        assert (s.added, s.failed) == (3, 1), s.errors
        # A page that will not load is a damaged file, said as one (readers._pdf_refusal).
        assert s.errors[0].startswith("b-pages.pdf: not a readable PDF (damaged, cut short")
        assert "save it as a new PDF" in s.errors[0]
        assert len(c.documents()) == 3


def test_wrong_sign_ins_with_huge_names_are_counted_in_bounded_memory(commune):
    """The sign-in form's user field reaches [limits] max_body_kb (a megabyte): each wrong
    one was kept whole in the failed sign-ins' count for its window, a megabyte held per
    request. A name longer than any account's is counted cut, as the same claim."""
    from commune.api.app import create_app

    app = create_app(commune)
    failures = app.state.failed_sign_ins
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = client.get("/signin")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    huge = "x" * 200_000
    for i in range(5):
        r = client.post(
            "/signin", data={"csrf": token, "user": f"{i}{huge}", "password": "wrong password!"}
        )
        assert r.status_code == 401
    from sqlalchemy import select

    from commune.store.schema import failed_sign_ins

    with commune.engine.connect() as conn:  # the count is the database's, by name's digest
        held = sum(len(name) for name in conn.execute(select(failed_sign_ins.c.name)).scalars())
    assert held < 5000, held  # five names of a few hundred characters, and the address
    # A real account's claim is still its own count: 20 wrong ones, then 429 for it.
    for _ in range(20):
        failures.failed("192.0.2.1", "user " + "y" * 200, "sign-ins")
    with pytest.raises(Exception, match="too many failed sign-ins"):
        failures.failed("192.0.2.2", "user " + "y" * 200, "sign-ins")


def test_the_wait_given_to_a_guesser_who_keeps_trying_is_long_enough(monkeypatch):
    """Wrong tries made while refused still count, but the wait was worked out from the
    oldest try only, and from whichever count tripped first: 30 wrong sign-ins, the wait
    given, and the next one was refused again. The wait given is one after which a try is
    checked, whichever of the address's and the name's counts is the longer to empty."""
    from commune.govern.quotas import QuotaExceeded
    from commune.http import signins

    clock = [1000.0]
    monkeypatch.setattr(signins.time, "time", lambda: clock[0])
    failures = signins.FailedSignIns(limit=20, window_s=60.0)
    # The address's count fills first, from other names; then the name's, later.
    for i in range(15):
        failures.failed("192.0.2.9", f"user other{i}", "sign-ins")
        clock[0] += 1
    waits = []
    for _ in range(30):
        try:
            failures.failed("192.0.2.9", "user carol", "sign-ins")
        except QuotaExceeded as refused:
            waits.append(refused.retry_after)
        clock[0] += 1
    assert len(waits) == 25  # the address reached 20 after five of carol's
    clock[0] += waits[-1] - 1  # the wait given counts from the last refusal
    failures.failed("192.0.2.9", "user carol", "sign-ins")  # checked: no 429


def test_wrong_sign_ins_past_the_window_are_deleted_from_the_database(monkeypatch):
    """The count is kept in the database, shared by every server process: what it holds
    of a wrong try (the digests of the address and of the name claimed) is deleted once
    the window has passed, at the next wrong try, and never more than the limit per count."""
    from sqlalchemy import func, select

    from commune.govern.quotas import QuotaExceeded
    from commune.http import signins
    from commune.store.schema import failed_sign_ins

    clock = [1000.0]
    monkeypatch.setattr(signins.time, "time", lambda: clock[0])
    failures = signins.FailedSignIns(limit=5, window_s=60.0)

    def rows() -> int:
        with failures.tries.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(failed_sign_ins)).scalar())

    for i in range(30):
        # Each try through a process of its own, that knows of no refusal (one that does
        # refuses from memory, writing nothing): every try reaches the database.
        process = signins.FailedSignIns(limit=5, window_s=60.0, tries=failures.tries)
        try:
            process.failed("192.0.2.9", f"user u{i % 2}", "sign-ins")
        except QuotaExceeded:
            pass
        clock[0] += 1
    assert rows() == 5 + 5 + 5  # the address's last five, and each name's
    clock[0] += 61
    failures.failed("198.51.100.1", None, "sign-ins")
    assert rows() == 1
    with failures.tries.engine.connect() as conn:
        stored = list(conn.execute(select(failed_sign_ins.c.name)).scalars())
    assert "198.51.100.1" not in stored[0] and len(stored[0]) == 64  # its digest only


def test_a_wrong_sign_in_waiting_for_the_database_does_not_stop_the_server(commune):
    """Counted in the database, a wrong password on the sign-in page wrote from the server's
    event loop: while another writer held SQLite (an answer recorded, a `commune add`), that
    wrong password held every request of the process, a page as much as an answer, for as
    long as the writer did (up to busy_timeout's 30 s). Now the count waits in a thread and
    the server answers others meanwhile."""
    import asyncio
    import sqlite3
    import threading
    import time

    import httpx

    from commune.api.app import create_app

    app = create_app(commune)
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)  # type: ignore[union-attr]
    writer = sqlite3.connect(
        commune.engine.url.database, isolation_level=None, check_same_thread=False
    )
    writer.execute("BEGIN IMMEDIATE")  # another writer, holding the database for 3 s
    threading.Timer(3.0, lambda: writer.execute("COMMIT")).start()

    async def both() -> tuple[int, float, int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as web:
            for cookie in client.cookies.jar:
                web.cookies.set(cookie.name, cookie.value or "")
            wrong = asyncio.create_task(
                web.post(
                    "/signin",
                    data={"csrf": token, "user": "nobody", "password": "wrong password!"},
                )
            )
            started = time.monotonic()
            await asyncio.sleep(0.5)  # the wrong sign-in waits for the database meanwhile
            page = await web.get("/static/commune.css")
            took = time.monotonic() - started
            return page.status_code, took, (await wrong).status_code

    status, took, wrong = asyncio.run(both())
    assert status == 200 and wrong == 401
    assert took < 1.5, took  # half a second, not the writer's 3 s
    writer.close()


def test_a_clock_set_back_does_not_lengthen_the_wait_of_wrong_sign_ins(monkeypatch):
    """The count's times are the wall clock's, shared by every process: set back by an hour
    (NTP correcting a clock that ran fast), the tries made before were an hour in the future,
    counted and kept for that hour, and a person who mistyped from the town hall's address
    was told to wait an hour and a minute. Tries from the future count as made now: the
    wait is the window's at most, and they leave the database with it."""
    from sqlalchemy import func, select

    from commune.govern.quotas import QuotaExceeded
    from commune.http import signins
    from commune.store.schema import failed_sign_ins

    clock = [100_000.0]
    monkeypatch.setattr(signins.time, "time", lambda: clock[0])
    failures = signins.FailedSignIns(limit=20, window_s=60.0)
    for i in range(20):
        failures.failed("192.0.2.7", f"user u{i}", "sign-ins")
    clock[0] -= 3600  # the clock set back an hour
    with pytest.raises(QuotaExceeded) as refused:
        failures.failed("192.0.2.7", "user anne", "sign-ins")
    assert refused.value.retry_after <= 61
    clock[0] += 61  # the window passed: checked again, and the old tries gone
    failures.failed("192.0.2.7", "user anne", "sign-ins")
    with failures.tries.engine.connect() as conn:
        left = conn.execute(select(func.count()).select_from(failed_sign_ins)).scalar_one()
    assert left == 2  # this try's, under the address and under anne


def test_a_flood_of_wrong_keys_past_the_limit_writes_nothing_more_to_the_database(commune):
    """Each wrong key was a write to the database, refused ones too: a guesser sending them
    as fast as it could kept SQLite's one write lock busy (about 240 a second on this
    machine), and every answer's ledger row waited behind them. Past the limit, the process
    now refuses at once from what the database told it (429 with the wait), without writing:
    with another writer holding the database, the refusal does not wait for it."""
    import sqlite3
    import time

    from sqlalchemy import func, select

    from commune.govern.quotas import QuotaExceeded
    from commune.http.signins import FailedSignIns
    from commune.store.schema import failed_sign_ins

    failures = FailedSignIns(limit=20, window_s=60.0, tries=commune.wrong_tries())
    for i in range(20):
        failures.failed("192.0.2.66", f"key{i}")
    with pytest.raises(QuotaExceeded):
        failures.failed("192.0.2.66", "key20")  # the database says: past the limit
    with commune.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(failed_sign_ins)).scalar_one()
    writer = sqlite3.connect(commune.engine.url.database, isolation_level=None, timeout=60)
    writer.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        started = time.monotonic()
        for i in range(200):
            with pytest.raises(QuotaExceeded) as refused:
                failures.failed("192.0.2.66", f"flood{i}")
            assert 1 <= refused.value.retry_after <= 61
        assert time.monotonic() - started < 2  # not one wait for the writer
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with commune.engine.connect() as conn:
        after = conn.execute(select(func.count()).select_from(failed_sign_ins)).scalar_one()
    assert after == rows
    failures.failed("198.51.100.3", "key0")  # another address is counted as before
