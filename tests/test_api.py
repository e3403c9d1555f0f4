"""The HTTP API, called in-process through FastAPI's test client."""

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from commune.api.app import create_app
from tests.conftest import EN, LOOPBACK, make_key


@pytest.fixture
def client(commune, corpus, key):  # type: ignore[no-untyped-def]
    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    with TestClient(create_app(commune), headers={"Authorization": f"Bearer {key}"} | EN) as c:
        yield c


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_healthz_says_a_full_disk_and_stays_up(commune, monkeypatch):
    """/healthz said "ok" while the disk holding the home was full and every write failed
    (an answer's ledger row, an upload). It now says "disk_full" and why, in the caller's
    language, still with a 200: restarting the server frees no disk. The disk is read
    through os.statvfs, made to say 4 KiB free here; nothing is filled. A disk mounted
    read-only (squashfs, an ISO image: no free block counted) is not said full: that line
    sent the operator to free room that writing would not get."""
    import os
    from pathlib import Path
    from types import SimpleNamespace

    real = os.statvfs
    home = Path(commune.settings.home).resolve()
    disk = {"f_flag": 0, "f_bavail": 1, "f_frsize": 4096}

    def nearly_full(path):  # type: ignore[no-untyped-def]
        if Path(path).resolve() == home:
            return SimpleNamespace(f_blocks=2**28, f_bfree=1, f_bsize=4096, **disk)
        return real(path)

    client = TestClient(create_app(commune))
    assert client.get("/healthz", headers=EN).json()["status"] == "ok"
    monkeypatch.setattr(os, "statvfs", nearly_full)
    for language, said in (
        ("en", "the server's disk is full, nothing stored before is lost: tell the service's"),
        ("fr", "le disque du serveur est plein, rien de ce qui était enregistré n'est perdu"),
    ):
        r = client.get("/healthz", headers={"Accept-Language": language})
        body = r.json()
        assert r.status_code == 200 and body["status"] == "disk_full", body
        assert body["detail"].startswith(said) and body["generation"] >= 0, body
    disk.update(f_flag=os.ST_RDONLY, f_bavail=0)  # mounted read-only: no free block counted
    body = client.get("/healthz", headers=EN).json()
    assert body["status"] == "ok" and "detail" not in body, body


def test_search(client):
    r = client.post("/api/search", json={"query": "bac jaune", "k": 2, "collection": "mairie"})
    assert r.status_code == 200
    hits = r.json()
    assert len(hits) == 2 and "bac jaune" in hits[0]["text"]
    assert hits[0]["licence"] == "etalab-2.0"


def test_ask(client):
    r = client.post("/api/ask", json={"question": "Comment s'inscrire à la cantine scolaire ?"})
    assert r.status_code == 200
    body = r.json()
    assert body["found"] and "quotient familial" in body["text"]
    assert body["sources"][0]["title"] == "Restauration scolaire"


def test_documents(client):
    r = client.get("/api/documents", params={"collection": "mairie", "limit": 2})
    assert r.status_code == 200 and len(r.json()) == 2
    assert client.get("/api/documents", params={"limit": 0}).status_code == 400


@pytest.mark.parametrize(
    ("path", "payload", "status", "message"),
    [
        ("/api/search", {"query": "x", "k": 0}, 422, "k: must be greater than 0"),
        ("/api/search", {"query": ""}, 400, "the query is empty"),
        # Control or format characters only: "\u0000" passed a check for whitespace, and hit.
        ("/api/search", {"query": "\u0000"}, 400, "the query is empty"),
        ("/api/search", {"query": "\u200b\ufeff\u0007"}, 400, "the query is empty"),
        ("/api/ask", {"question": "\u0000"}, 400, "question is empty"),
        ("/api/search", {"query": "x", "collection": "nope"}, 404, "no collection named 'nope'"),
        ("/api/ask", {}, 422, "question: required"),
        ("/api/ask", {"question": "   "}, 400, "question is empty"),
    ],
)
def test_bad_requests_say_what_is_wrong(client, path, payload, status, message):
    r = client.post(path, json=payload)
    assert r.status_code == status
    assert message in r.text


def test_a_request_with_wrong_fields_is_told_which_in_one_line_in_its_language(client):
    """422 was pydantic's list only: English for developers, no code, no line to show."""
    fr = {"Accept-Language": "fr"}
    r = client.post("/api/ask", json={"question": 123, "mode": "vite"}, headers=fr)
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "question"], ["body", "mode"]]
    assert r.json()["message"] == (
        "question\u00a0: une chaîne de caractères est attendue\u00a0; mode\u00a0: valeur non "
        "admise (motif ^(auto|extractive|generate)$) (l'API est décrite sur /docs)"
    )
    r = client.post(
        "/api/search", content=b"{not json", headers={**fr, "Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["message"] == (
        "le corps de la requête n'est pas du JSON valide (au caractère 2) "
        "(l'API est décrite sur /docs)"
    )
    # A union's members are no fields: the field once, each of its wants joined by "or".
    r = client.post("/v1/embeddings", json={"model": "use-multilingual-v3", "input": 3.5})
    assert r.status_code == 400 and r.json()["message"].count("input:") == 1, r.json()
    assert "[" not in r.json()["message"].split("(")[0]  # no "list[str]" for a field
    r = client.post(
        "/v1/chat/completions",
        json={"model": "auto", "messages": [{"role": "robot", "content": "x"}]},
        headers=fr,
    )
    assert "messages.0.role\u00a0: doit être" in r.json()["message"]
    assert " ou " in r.json()["message"] and " or " not in r.json()["message"], r.json()
    r = client.post(
        "/api/search",
        content=b'{"query": "x", "k": 1e309}',  # read as infinity
        headers={**fr, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["message"].startswith("k\u00a0: un nombre fini est attendu"), r.json()
    r = client.post("/api/search", json={"query": "x", "k": 1000})
    assert r.json()["message"] == "k: must be at most 100 (the API is listed at /docs)"
    r = client.post("/v1/chat/completions", json={"model": "auto"}, headers=fr)
    assert r.json()["error"]["message"] == (
        "messages\u00a0: champ requis (l'API est décrite sur /docs)"
    )


def test_the_frameworks_own_refusals_say_what_to_do_in_one_line(client):
    # They came out as {"detail": "Not Found"} or "Method Not Allowed", with no code, and no
    # OpenAI error object on /v1 (review finding).
    r = client.get("/api/nothing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    assert (
        r.json()["detail"]
        == "nothing at /api/nothing (check the address; the API is listed at /docs)"
    )
    r = client.put("/api/search", json={"query": "x"})
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert "POST" in r.headers["allow"] and "PUT is not accepted at /api/search" in r.text
    r = client.get("/v1/nothing")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    r = client.post("/v1/chat/completions", json={"model": "auto", "messages": "hi"})
    assert r.status_code == 400 and r.json()["detail"][0]["loc"] == ["body", "messages"]
    assert r.json()["error"]["message"] == (
        "messages: a list is expected (the API is listed at /docs)"
    )
    french = client.get("/api/nothing", headers={"Accept-Language": "fr"})
    assert french.json()["detail"].startswith("rien à l'adresse /api/nothing")


def test_the_web_application_sends_a_visitor_to_sign_in(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/"
    page = client.get("/signin")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'action="/signin"' in page.text and '<script src="/static/commune.js"' in page.text
    script = client.get("/static/commune.js").text
    assert "dataset.stream" in script and "X-Fragment" in script  # streams, else plain form


def test_ask_stream_sends_verified_deltas_then_the_answer(client):
    import json

    r = client.post("/api/ask/stream", json={"question": "Quand passe le camion des ordures ?"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = [b.split("\n") for b in r.text.strip().split("\n\n")]
    kinds = [e[0] for e in events]
    assert kinds[-1] == "event: answer" and set(kinds[:-1]) == {"event: delta"}
    deltas = "".join(json.loads(e[1][6:])["text"] for e in events[:-1])
    answer = json.loads(events[-1][1][6:])
    assert deltas == answer["text"] and "mardi" in deltas and answer["sources"]


def test_ask_stream_errors_come_before_the_stream(client):
    r = client.post("/api/ask/stream", json={"question": "x", "collection": "nope"})
    assert r.status_code == 404 and "no collection named 'nope'" in r.json()["detail"]


def test_a_stream_that_fails_midway_ends_with_an_error_event(client, monkeypatch, caplog):
    # It used to stop silently after its deltas: a client took a cut answer for a whole one.
    import json
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from commune.account.metering import Metering

    def locked(*args, **kwargs):  # type: ignore[no-untyped-def]
        cause = sqlite3.OperationalError("database is locked")
        raise OperationalError("INSERT INTO usage", {}, cause)

    monkeypatch.setattr(Metering, "record_usage", locked)
    with caplog.at_level("ERROR", logger="commune.api"):
        r = client.post("/api/ask/stream", json={"question": "Quand passe le camion des ordures ?"})
    assert r.status_code == 200
    events = [b.split("\n") for b in r.text.strip().split("\n\n")]
    assert events[0][0] == "event: delta" and events[-1][0] == "event: error"
    error = json.loads(events[-1][1][6:])
    assert error["code"] == "database_locked" and error["incident"] in error["detail"]
    assert "INSERT" not in r.text  # the details stay in the operator's log
    assert "database is busy" in error["detail"]  # in the caller's language (English here)
    assert any(error["incident"] in rec.getMessage() and rec.exc_info for rec in caplog.records)


def test_two_writers_meeting_on_one_name_is_a_conflict_to_retry(commune):
    """A unique key two writers hit at once wrote nothing, and the request may be sent again:
    answered 500, a client's retry logic read a bug of the server's."""
    import sqlite3

    from fastapi.testclient import TestClient
    from sqlalchemy.exc import IntegrityError

    from commune.api.app import create_app

    def taken(*args: object, **kwargs: object) -> None:
        cause = sqlite3.IntegrityError("UNIQUE constraint failed: users.name")
        raise IntegrityError("INSERT INTO users", {}, cause)

    client = TestClient(
        create_app(commune, require_auth=False),
        raise_server_exceptions=False,
        base_url="http://127.0.0.1",
    )
    commune.search = taken  # type: ignore[method-assign]
    r = client.post("/api/search", json={"query": "verre"})
    body = r.json()
    assert r.status_code == 409 and body["code"] == "conflict", body
    assert body["incident"] and "INSERT" not in r.text


def test_a_database_out_of_reach_is_a_503_that_says_so(commune, caplog):
    """PostgreSQL stopped under a running server: every route, /healthz included, answered
    500 "internal error", which a client's retry and the operator's monitor read as a bug."""
    import psycopg
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError

    from commune.api.app import create_app
    from commune.text import faults

    def gone(*args: object, **kwargs: object) -> None:
        cause = psycopg.OperationalError(
            'connection is bad: connection to server on socket "/run/postgresql/.s.PGSQL.5432"'
            " failed: No such file or directory"
        )
        raise OperationalError("SELECT 1", {}, cause)

    client = TestClient(
        create_app(commune, require_auth=False),
        raise_server_exceptions=False,
        base_url="http://127.0.0.1",
    )
    commune.search = gone  # type: ignore[method-assign]
    with caplog.at_level("ERROR", logger="commune.api"):
        r = client.post("/api/search", json={"query": "verre"}, headers={"Accept-Language": "en"})
    body = r.json()
    assert r.status_code == 503 and body["code"] == "database_unreachable", body
    # One line in the operator's log, not a traceback per request (a load balancer's probe
    # of /healthz every few seconds, while PostgreSQL is down).
    [logged] = [rec for rec in caplog.records if body["incident"] in rec.getMessage()]
    assert logged.exc_info is None and "database unreachable" in logged.getMessage()
    assert "/run/postgresql" in logged.getMessage()  # the operator's log keeps the detail
    assert r.headers["Retry-After"] and body["incident"]
    assert body["detail"].startswith("the server cannot reach its database: retry")
    assert "/run/postgresql" not in r.text  # the server's paths are not the caller's
    # The command line's own line names what to check.
    said = faults.for_operator(
        OperationalError("SELECT 1", {}, psycopg.OperationalError("x")), "/var/lib/commune", "en"
    )
    assert said and "check that PostgreSQL runs" in said


@pytest.mark.parametrize(
    ("error", "code"),
    [
        # Out of reach: a host that drops packets times the connection out (connect_timeout),
        # no refusal, no SQLSTATE; a server shutting down; a connection cut.
        ("ConnectionTimeout", "database_unreachable"),
        ("AdminShutdown", "database_unreachable"),
        ("ConnectionFailure", "database_unreachable"),
        # The server's own faults or a retry, never "unreachable": a constraint, a bug in
        # SQL, a statement cancelled by its time-out, a serialization failure, a lock.
        ("ForeignKeyViolation", None),
        ("UndefinedTable", None),
        ("QueryCanceled", None),
        ("LockNotAvailable", None),
        ("PipelineAborted", None),
        ("SerializationFailure", "conflict"),
        # A hot standby, or default_transaction_read_only: SQLite's read-only database.
        ("ReadOnlySqlTransaction", "read_only"),
    ],
)
def test_only_a_database_out_of_reach_is_told_unreachable(error, code):
    """A PostgreSQL host down behind a firewall timed the connection out (psycopg's
    ConnectionTimeout, no SQLSTATE): answered 500 "internal error", not the 503 to retry."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    from commune.text import faults

    cause = getattr(psycopg.errors, error)("x")
    found = faults.kind(DBAPIError("SELECT 1", {}, cause))
    assert (found[0] if found else None) == code


@pytest.mark.parametrize("wrong", ["database", "role", "password"])
def test_a_database_refusing_the_login_is_told_as_the_operator_s_setting(
    wrong, postgres_server, commune, caplog
):
    """A wrong password, user or database name in database_url carries no SQLSTATE either:
    told "cannot reach its database: retry" (503 with Retry-After) and, on the command line,
    "check that PostgreSQL runs", when no retry heals it and PostgreSQL ran all along."""
    import psycopg
    from fastapi.testclient import TestClient
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError, OperationalError

    from commune.api.app import create_app
    from commune.text import faults

    if wrong == "password":  # the test server trusts its socket: PostgreSQL's own words
        refused: DBAPIError = OperationalError(
            "SELECT 1",
            {},
            psycopg.OperationalError(
                'connection failed: connection to server at "10.0.0.5", port 5432 failed: '
                'FATAL:  password authentication failed for user "commune"'
            ),
        )
    else:
        url = {
            "database": postgres_server.replace("/postgres?", "/nosuchbase?", 1),
            "role": postgres_server.replace("postgres:@/", "nosuchrole@/", 1),
        }[wrong]
        engine = create_engine(url)
        with pytest.raises(OperationalError) as raised:
            engine.connect()
        engine.dispose()
        refused = raised.value

    def fails(*args: object, **kwargs: object) -> None:
        raise refused

    client = TestClient(
        create_app(commune, require_auth=False),
        raise_server_exceptions=False,
        base_url="http://127.0.0.1",
    )
    commune.search = fails  # type: ignore[method-assign]
    with caplog.at_level("ERROR", logger="commune.api"):
        r = client.post("/api/search", json={"query": "verre"}, headers={"Accept-Language": "en"})
    body = r.json()
    assert r.status_code == 503 and body["code"] == "database_refused", body
    assert "Retry-After" not in r.headers and "retry" not in body["detail"], body
    assert "tell the service's operator" in body["detail"]
    [logged] = [rec for rec in caplog.records if body["incident"] in rec.getMessage()]
    assert logged.exc_info is None, "a traceback"
    assert "check database_url in commune.toml" in logged.getMessage()
    assert "does not exist" in logged.getMessage() or "password" in logged.getMessage()
    for language, check in (
        ("en", "check database_url in commune.toml (the user, the password, the database name)"),
        ("fr", "vérifiez database_url dans commune.toml (l'utilisateur, le mot de passe, le nom"),
    ):
        said = faults.for_operator(refused, "/var/lib/commune", language)
        assert said and check in said and "PostgreSQL runs" not in said, said
        assert "\n" not in said


def test_api_docs_work_offline(client):
    # Swagger UI came from a CDN and the page was blank without internet: now it is local.
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "/static/swagger/swagger-ui-bundle.js" in page.text
    js = client.get("/static/swagger/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    assert client.get("/static/swagger/swagger-ui.css").status_code == 200


def test_an_unexpected_error_is_logged_with_an_incident_number(client, monkeypatch, caplog):
    # Tracebacks were lost: nothing in the package logged.
    from commune.core import Commune

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Commune, "search", broken)
    with caplog.at_level("ERROR", logger="commune.api"):
        r = TestClient(client.app, raise_server_exceptions=False).post(
            "/api/search", json={"query": "bac"}, headers=client.headers
        )
    assert r.status_code == 500 and "incident" in r.json()["detail"]
    incident = r.json()["detail"].split("incident ")[1].split(")")[0]
    assert r.json()["incident"] == incident  # also on its own, for a client to show
    assert any(incident in rec.getMessage() and rec.exc_info for rec in caplog.records)
    assert "disk on fire" not in r.text  # the details stay in the operator's log


def test_each_request_is_logged_with_its_id_and_caller_never_its_key(client, key, caplog):
    import json as _json

    with caplog.at_level("INFO", logger="commune.requests"):
        r = client.post("/api/search", json={"query": "bac jaune"})
    assert r.status_code == 200 and r.headers["X-Request-ID"]
    lines = [
        _json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "commune.requests"
    ]
    line = next(x for x in lines if x["request_id"] == r.headers["X-Request-ID"])
    assert line["path"] == "/api/search" and line["status"] == 200 and line["user"]
    assert key not in caplog.text


def test_an_empty_question_or_query_gets_communes_own_french_line(commune):
    """An empty string got pydantic's English ("String should have at least 1 character"),
    where "   " got Commune's French."""
    from fastapi.testclient import TestClient

    from commune.api.app import create_app

    with TestClient(create_app(commune, require_auth=False), base_url=LOOPBACK) as client:
        r = client.post("/api/ask", json={"question": ""})
        assert (
            r.status_code == 400
            and r.json()["detail"] == "la question est vide\u00a0: posez une question"
        )
        r = client.post("/api/search", json={"query": ""})
        assert r.status_code == 400 and r.json()["detail"].startswith("la recherche est vide")


def test_without_keys_only_this_machines_own_pages_are_answered(commune, tmp_path):
    """`commune serve --no-auth` served any site's page: a form sent from one added a
    document as the operator, and a site made to point at 127.0.0.1 (DNS rebinding) read
    every collection, private ones included."""
    from fastapi.testclient import TestClient

    from commune.api.app import create_app

    page = tmp_path / "note.md"
    page.write_text("# Note\n\nUne note ajoutée par une page hostile.\n", encoding="utf-8")
    hostile = [
        {"Host": "evil.example:8000"},  # rebinding: the site's name, this machine's address
        {"Host": "127.0.0.1.evil.example"},
        {"Origin": "http://evil.example"},  # a form sent from another site's page
        {"Origin": "null"},  # from a sandboxed frame or a file
        {"Origin": "http://localhost.evil.example:8000"},
    ]
    with TestClient(create_app(commune, require_auth=False), base_url=LOOPBACK) as client:
        before = len(client.get("/api/documents", params={"limit": 1000}).json())
        for headers in hostile:
            r = client.post("/api/search", json={"query": "piscine"}, headers=headers)
            assert r.status_code == 403, headers
            assert r.json()["detail"].startswith("sans clés (--no-auth)"), r.json()
            with page.open("rb") as f:
                r = client.post(
                    "/api/documents",
                    data={"collection": "mairie", "licence": "CC-BY-4.0"},
                    files={"files": ("note.md", f, "text/markdown")},
                    headers=headers,
                )
            assert r.status_code == 403, headers
        assert len(client.get("/api/documents", params={"limit": 1000}).json()) == before
        # This machine's own pages and programs are answered as before.
        for headers in (
            {},
            {"Host": "localhost:8000", "Origin": "http://localhost:8000"},
            {"Host": "[::1]:8000", "Origin": "http://[::1]:8000"},
            {"Origin": "http://127.0.0.1:8000"},
        ):
            r = client.post("/api/search", json={"query": "piscine"}, headers=headers)
            assert r.status_code == 200, (headers, r.text)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/ask", b'{"question": 1e999}'),
        ("/api/search", b'{"query": "x", "k": NaN}'),
        ("/v1/embeddings", b'{"model": "use-multilingual-v3", "input": [Infinity]}'),
        ("/v1/chat/completions", b'{"model": "auto", "messages": [], "max_tokens": 1e999}'),
    ],
)
def test_a_number_json_cannot_write_is_refused_not_a_500(client, path, body):
    # Found by an exploratory test: pydantic echoes the refused input (1e999 reads as inf),
    # and JSON has no such number, so writing the 422 failed with a 500.
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == (400 if path.startswith("/v1/") else 422), r.text  # OpenAI's 400
    assert r.json()["code"] == "invalid_request" and "incident" not in r.text


def test_a_file_sent_as_text_is_named_as_such(client):
    # Found by an exploratory test: -F 'files=text' (not -F files=@path) read "files.0 : {}".
    r = client.post(
        "/api/documents",
        data={"files": "just a string", "collection": "x"},
        headers={"Accept-Language": "fr"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith("files.0\u00a0: un fichier est attendu, pas un texte")


def test_a_field_too_short_says_its_count_in_words_not_as_a_form(client):
    """An empty list of messages read « au moins 1 élément(s) », a form to fill in (as
    « 1 approbation(s) » did on the pages): the count takes its plural."""
    for lang, said in (
        ("fr", "messages\u00a0: trop court (au moins 1 élément)"),
        ("en", "messages: too short (at least 1 item)"),
    ):
        r = client.post(
            "/v1/chat/completions",
            json={"model": "auto", "messages": []},
            headers={"Accept-Language": lang},
        )
        assert r.status_code == 400 and said in r.json()["message"], r.text


def test_a_question_of_a_few_words_is_answered_in_the_callers_language(client):
    # "piscine municipale" says nothing of its language: the caller's Accept-Language decides
    # (the API's own route and the OpenAI-compatible one), French when it says nothing.
    for header, expected in (({"Accept-Language": "en"}, "en"), ({"Accept-Language": "fr"}, "fr")):
        r = client.post("/api/ask", json={"question": "piscine municipale"}, headers=header)
        assert r.status_code == 200 and r.json()["language"] == expected, r.text
    r = client.post(
        "/api/ask", json={"question": "Where is the town hall?"}, headers={"Accept-Language": "fr"}
    )
    assert r.json()["language"] == "en"  # a question that tells its own keeps it


MULTIPART = "multipart/form-data; boundary=b"


@pytest.mark.parametrize(
    ("path", "body", "kind", "said"),
    [
        # A client that sets the form's Content-Type itself, without the boundary.
        (
            "/api/documents",
            b"xx",
            "multipart/form-data",
            "le corps multipart n'a pas de délimiteur (boundary) dans son Content-Type "
            "(envoyez les fichiers avec les formulaires de votre client, par exemple "
            "curl -F files=@FICHIER)",
        ),
        (
            "/api/documents",
            b'--b\r\nContent-Disposition: form-data; filename="a.txt"\r\n\r\nhello\r\n--b--\r\n',
            MULTIPART,
            "une partie du corps multipart n'a pas de nom (envoyez les fichiers avec les "
            "formulaires de votre client, par exemple curl -F files=@FICHIER)",
        ),
        (
            "/api/documents",
            b"".join(
                b'--b\r\nContent-Disposition: form-data; name="f%d"\r\n\r\nx\r\n' % i
                for i in range(1001)
            )
            + b"--b--\r\n",
            MULTIPART,
            "plus de 1000 champs de formulaire dans une même requête (envoyez-les en plusieurs "
            "requêtes)",
        ),
        (
            "/api/documents",
            b'--b\r\nContent-Disposition: form-data; name="licence"\r\n\r\n'
            + b"x" * (1024 * 1024 + 1)
            + b"\r\n--b--\r\n",
            MULTIPART,
            "un champ de formulaire dépasse 1024 Ko (raccourcissez-le)",
        ),
        (
            "/api/search",
            b"\xff\xfe{",  # read as UTF-16 by json.loads, and not even that
            "application/json",
            "le corps de la requête n'est pas du texte en UTF-8 (envoyez du JSON encodé en UTF-8)",
        ),
        (
            "/api/search",
            b"[" * 30000 + b"]" * 30000,
            "application/json",
            "le corps de la requête est trop imbriqué pour être lu (envoyez un JSON moins "
            "imbriqué)",
        ),
    ],
)
def test_a_body_that_cannot_be_parsed_gets_communes_line_in_french(client, path, body, kind, said):
    # Found by an exploratory test: starlette's own English ("There was an error parsing the
    # body", "Missing boundary in multipart.") with nothing to do next, to a French caller.
    r = client.post(path, content=body, headers={"Content-Type": kind, "Accept-Language": "fr-FR"})
    assert r.status_code == 400, r.text
    assert r.json() == {"detail": said, "code": "invalid_request"}


def test_a_body_that_cannot_be_parsed_is_said_in_english_on_v1_too(client):
    r = client.post(
        "/v1/chat/completions", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    line = "the request body is not text in UTF-8 (send JSON encoded in UTF-8)"
    assert r.json()["detail"] == line and r.json()["error"]["message"] == line
    form = {"Content-Type": "multipart/form-data"}
    r = client.post("/api/documents", content=b"xx", headers=form)
    assert r.json()["detail"].startswith("the multipart body has no boundary in its Content-Type")


def test_how_an_answers_energy_was_found_is_said_in_its_language(client):
    # Found by an exploratory test: a French answer's energy said how it was found in the
    # ledger's English only. The method stays as it is, for programs; the summary is French.
    fr = {"Accept-Language": "fr"}
    question = {"question": "Comment s'inscrire à la cantine scolaire ?"}
    energy = client.post("/api/ask", json=question, headers=fr).json()["energy"]
    assert energy["method"].startswith("CPU time x ") and energy["method"].endswith("(estimated)")
    assert re.fullmatch(
        r"(< )?\d+,\d\d mWh, (< )?\d+,\d{3} mgCO2e, estimée \(temps CPU x \S+ W par cœur, un "
        r"chiffre "
        r"configuré\)",
        energy["summary"],
    ), energy
    streamed = client.post("/api/ask/stream", json=question, headers=fr).text
    last = json.loads(streamed.split("event: answer\ndata: ")[1].split("\n")[0])
    assert last["energy"]["summary"].endswith("(temps CPU x 12 W par cœur, un chiffre configuré)")
    chat = client.post(
        "/v1/chat/completions",
        json={
            "model": "extractive",
            "messages": [{"role": "user", "content": question["question"]}],
        },
    ).json()
    assert "estimée (temps CPU" in chat["commune"]["energy"]["summary"]
    english = {"question": "When does the swimming pool open?"}
    energy = client.post("/api/ask", json=english).json()["energy"]
    assert energy["summary"].endswith(" estimated (CPU time x 12 W per core, a configured figure)")


def test_a_remote_models_energy_reads_in_french_in_the_summary():
    from commune.text.energy import summary

    method = (
        "CPU time x 12 W per core, a configured figure (estimated) + ecologits 0.11.3, modelled: "
        "mistral (7.3B active, 7.3B total, 16-bit), 120 output tokens, FRA electricity mix, PUE "
        "1.1-1.3, 80 GB GPUs in EcoLogits' reference server, embodied impacts included"
    )
    said = summary({"wh": 0.0123, "gco2e": 0.0005, "measured": False, "method": method}, "fr")
    assert said == (
        "12,30 mWh, 0,500 mgCO2e, estimée (temps CPU x 12 W par cœur, un chiffre configuré + "
        "ecologits 0.11.3, modélisée\u00a0: mistral (7,3 milliards de paramètres actifs, "
        "7,3 milliards au total, 16 bits), 120 jetons produits, mix électrique FRA, PUE 1,1-1,3, "
        "GPU de 80 Go du serveur de référence d'EcoLogits, impacts de fabrication inclus)"
    )
    configured = (
        "gpu: 120 output tokens × 0.35 Wh per 1,000, a configured figure "
        "(models.gpu.wh_per_1k_tokens)"
    )
    missing = (
        "remote generation by gpu not estimated: set models.gpu.active_params_b and total_params_b"
    )
    for method, french in (
        (
            configured,
            "gpu\u00a0: 120 jetons produits × 0,35 Wh pour 1\u202f000, un chiffre "
            "configuré (models.gpu.wh_per_1k_tokens)",
        ),
        (
            missing,
            "génération à distance par gpu non estimée\u00a0: renseignez "
            "models.gpu.active_params_b et total_params_b",
        ),
    ):
        energy = {
            "wh": 0.001,
            "gco2e": 0.0,
            "measured": False,
            "method": f"CPU time x 12 W per core, a configured figure (estimated) + {method}",
        }
        assert summary(energy, "fr").endswith(f"+ {french})"), summary(energy, "fr")


def test_an_energy_without_carbon_says_no_carbon_figure_rather_than_zero():
    from commune.text.energy import summary

    energy = {"wh": 0.001, "gco2e": None, "measured": True, "method": "RAPL (measured)"}
    assert summary(energy, "fr") == "1,00 mWh, mesurée (RAPL)"
    assert summary({**energy, "gco2e": 0.0}, "en") == "1.00 mWh, 0.000 mgCO2e, measured (RAPL)"


def test_a_tiny_energy_reads_below_the_last_digit_and_rapl_says_shared():
    """Found by an exploratory test: a cached answer's few µWh read "0,00 mWh, 0,000
    mgCO2e", as if it cost nothing; and a RAPL share read "mesurée (… (measured, shared))",
    English inside the French, and not said shared in the person's words."""
    from commune.text.energy import summary

    tiny = {
        "wh": 0.0000012,
        "gco2e": 0.0000000001,
        "measured": False,
        "method": "CPU time x 12 W per core, a configured figure (estimated)",
    }
    assert summary(tiny, "fr").startswith("< 0,01 mWh, < 0,001 mgCO2e, estimée ("), summary(
        tiny, "fr"
    )
    assert summary(tiny, "en").startswith("< 0.01 mWh, < 0.001 mgCO2e, estimated (")
    rapl = {
        "wh": 0.0012,
        "gco2e": 0.00001,
        "measured": True,
        "method": "RAPL package energy x this request's share of the machine's CPU time "
        "(40%) (measured, shared)",
    }
    fr = summary(rapl, "fr")
    assert fr.startswith("1,20 mWh, 0,010 mgCO2e, mesurée, partagée (") and "measured" not in fr
    assert summary(rapl, "en").endswith(
        "measured, shared (RAPL package energy x this "
        "request's share of the machine's CPU time (40%))"
    )


def test_a_malformed_key_is_told_how_to_send_one_in_french(client):
    # Found following docs/fr/api.md with curl: the French refusal said « Authorization:
    # Bearer KEY », an English placeholder in the middle of the line.
    fr = {"Accept-Language": "fr", "Authorization": "Bearer mauvaise"}
    r = client.post("/api/ask", json={"question": "Horaires ?"}, headers=fr)
    assert r.status_code == 401 and r.json()["code"] == "authentication_failed"
    assert r.json()["detail"] == (
        "clé d'API mal formée (envoyez l'en-tête «\u00a0Authorization: Bearer\u00a0» suivi de la "
        "clé\u00a0; un administrateur crée les clés avec commune key create)"
    )


def test_a_database_out_of_reach_leaves_no_traceback_and_logs_the_503_it_answered(commune, caplog):
    """The one line incidents.py writes for a database out of reach was followed, for every
    request while PostgreSQL was down, by uvicorn's "Exception in ASGI application" and a
    traceback of some hundred lines: Starlette's handler for Exception raises again what it
    answered. The request log and /metrics, which saw that exception, said 500 where the
    client was told 503. The server (here the test client, which raises what reaches it)
    no longer receives the exception."""
    import json

    import psycopg
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import OperationalError

    from commune.api.app import create_app

    def gone(*args: object, **kwargs: object) -> None:
        cause = psycopg.OperationalError("connection is bad: No such file or directory")
        raise OperationalError("SELECT 1", {}, cause)

    client = TestClient(create_app(commune, require_auth=False), base_url="http://127.0.0.1")
    commune.search = gone  # type: ignore[method-assign]
    with caplog.at_level("INFO", logger="commune.requests"):
        r = client.post("/api/search", json={"query": "verre"})
    assert r.status_code == 503 and r.json()["code"] == "database_unreachable", r.text
    assert r.headers["X-Request-ID"]
    [line] = [rec.getMessage() for rec in caplog.records if rec.name == "commune.requests"]
    assert json.loads(line)["status"] == 503, line


def test_every_address_that_answers_get_answers_head_without_a_body(client):
    """HEAD /healthz was 405 (FastAPI's routes take only the methods they name): an uptime
    monitor checking with HEAD read the service as down, a link checker every page broken."""
    get, head = client.get("/healthz"), client.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    assert head.headers["content-type"] == "application/json"
    listed = client.head("/api/documents", params={"collection": "mairie"})
    assert listed.status_code == 200 and listed.content == b""
    assert client.head("/transparency.json").status_code == 200
    # Refused as the GET would be, its headers kept: no key, a value out of range.
    assert client.head("/api/collections", headers={"Authorization": ""}).status_code == 401
    refused = client.head("/api/documents", params={"limit": 0})
    assert refused.status_code == 400 and refused.content == b""
    # A route that takes POST only still refuses it, naming HEAD; one that takes GET says
    # that it takes HEAD too.
    r = client.request("HEAD", "/api/search")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    r = client.put("/api/collections")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    assert r.json()["detail"].startswith("PUT is not accepted at /api/collections")
    assert client.get("/docs").status_code == 200 and client.head("/docs").status_code == 200
    # /mcp's GET is a session's stream: its HEAD is MCP's own 405 (docs/api.md says so).
    assert client.head("/mcp").status_code == 405


def test_the_apis_timestamps_carry_their_zone(client, commune):
    """SQLite hands timestamps back without their zone: /api/documents said "added_at":
    "2026-12-07T10:59:50.209994", which a browser's Date (and Python's fromisoformat) read as
    the reader's own local time, an hour off in Paris; on PostgreSQL the same field had
    "+00:00". Every one is now UTC, said so."""
    from datetime import UTC, datetime, timedelta

    def utc(text: str) -> datetime:
        assert text.endswith("Z"), text  # one form in every response, as pydantic writes it
        when = datetime.fromisoformat(text)
        assert when.utcoffset() == timedelta(0), text
        assert abs(datetime.now(UTC) - when) < timedelta(hours=1), text
        return when

    listed = client.get("/api/documents", params={"limit": 1}).json()[0]
    utc(listed["added_at"]) and utc(listed["updated_at"])
    r = client.post(
        "/api/documents",
        files={"files": ("marche.txt", b"Le march\xc3\xa9 a lieu le samedi matin.")},
        data={"collection": "mairie", "licence": "etalab-2.0"},
    )
    assert r.status_code == 200, r.text
    utc(client.get("/api/contributions").json()["contributions"][0]["added_at"])
    for entry in client.get("/transparency.json").json()["charter"]["history"]:
        utc(entry["in_force_from"])


def test_any_sites_page_may_read_the_public_data_and_nothing_that_needs_a_key(client, home):
    """A town's site showing the cooperative's energy figures from its visitors' browsers
    had every answer withheld from its script: no Access-Control-Allow-Origin."""
    site = {"Origin": "https://www.ville-a.fr", "Authorization": ""}
    for path in ("/transparency.json", "/healthz"):
        r = client.get(path, headers=site)
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    # Its refusals too: the script reads why, not "blocked by CORS policy".
    r = client.get("/transparency/bom.json", headers=site)
    assert r.status_code == 404 and r.headers["access-control-allow-origin"] == "*"
    assert client.head("/transparency.json").headers["access-control-allow-origin"] == "*"
    # What needs a key is no other site's page's to read.
    r = client.get("/api/collections", headers={"Origin": "https://www.ville-a.fr"})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
    r = client.post("/api/search", json={"query": "bac"}, headers=site)
    assert "access-control-allow-origin" not in r.headers


def test_transparency_kept_to_members_is_no_other_sites_to_read(home):
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "charter.toml").write_text('version = "1"\n[utility]\ntransparency_public = false\n')
    with Commune(home) as commune:
        secret = make_key(commune, "alice", "Ville A")
        with TestClient(create_app(commune), headers={"Authorization": f"Bearer {secret}"}) as c:
            r = c.get("/transparency.json", headers={"Origin": "https://www.ville-a.fr"})
            assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
            assert c.get("/healthz").headers["access-control-allow-origin"] == "*"


def test_a_collections_name_written_with_combining_accents_is_the_same_collection(client):
    """ "marché" typed as e and a combining acute (macOS file names, text copied from some
    PDFs) was told "no collection named 'marché' (known collections: …, marché, …)", and an
    upload under it was refused for the accent alone ("not '́'")."""
    composed, decomposed = "marché", "marche\u0301"
    upload = {"files": ("samedi.txt", "Le marché a lieu le samedi matin.".encode())}
    given = {"licence": "etalab-2.0"}
    r = client.post("/api/documents", files=upload, data={"collection": composed, **given})
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/documents",
        files={"files": ("dimanche.txt", "Le marché ferme le dimanche à midi.".encode())},
        data={"collection": decomposed, **given},
    )
    assert r.status_code == 200 and r.json()["files"][0]["status"] == "added", r.text
    assert [c["name"] for c in client.get("/api/collections").json()].count(composed) == 1
    r = client.post("/api/documents", files=upload, data={"collection": decomposed, **given})
    assert r.json()["files"][0]["status"] == "unchanged", r.text  # the same document
    listed = client.get("/api/documents", params={"collection": decomposed})
    assert listed.status_code == 200 and len(listed.json()) == 2, listed.text
    hits = client.post("/api/search", json={"query": "marché samedi", "collection": decomposed})
    assert hits.status_code == 200 and {h["collection"] for h in hits.json()} == {composed}


def test_what_the_api_answers_is_what_its_openapi_description_declares(client, commune):
    """Each answer's body checked against the schema /openapi.json gives for its route,
    status and type. An upload none of whose files went in (400, each file's result) was
    declared as a refusal's {"detail", "code"}, and /peer/catalogue's JSON-LD as
    application/json: a client generated from the description failed on both."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    spec = client.get("/openapi.json").json()
    registry = Registry().with_resource("urn:api", Resource(spec, DRAFT202012))

    def conforms(r, route: str) -> None:
        method = r.request.method.lower()
        declared = spec["paths"][route][method]["responses"][str(r.status_code)]
        media = r.headers["content-type"].split(";")[0]
        assert media in declared.get("content", {}), (route, r.status_code, media)
        schema = json.loads(
            json.dumps(declared["content"][media].get("schema", {})).replace(
                '"#/components', '"urn:api#/components'
            )
        )
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        assert not [e.message for e in validator.iter_errors(r.json())], (route, r.text[:300])

    upload = {"files": ("vide.txt", b"")}
    conforms(
        client.post("/api/documents", files=upload, data={"collection": "mairie"}), "/api/documents"
    )
    upload = {"files": ("samedi.txt", "Le marché a lieu le samedi.".encode())}
    given = {"collection": "mairie", "licence": "etalab-2.0"}
    conforms(client.post("/api/documents", files=upload, data=given), "/api/documents")
    conforms(
        client.post("/api/documents", files=upload, data={**given, "licence": "x"}),
        "/api/documents",
    )
    conforms(client.get("/peer/catalogue"), "/peer/catalogue")
    for r, route in (
        (client.get("/api/documents", params={"limit": 2}), "/api/documents"),
        (client.get("/api/documents", params={"limit": 0}), "/api/documents"),
        (client.get("/api/collections"), "/api/collections"),
        (client.get("/api/contributions"), "/api/contributions"),
        (client.get("/api/usage"), "/api/usage"),
        (client.post("/api/search", json={"query": "bac"}), "/api/search"),
        (client.post("/api/search", json={"query": 1}), "/api/search"),
        (client.get("/api/usage", params={"start": "x"}), "/api/usage"),
        (client.post("/api/ask", json={"question": "Quand passe le camion ?"}), "/api/ask"),
        (client.get("/transparency.json"), "/transparency.json"),
        (client.get("/healthz"), "/healthz"),
    ):
        conforms(r, route)


def test_the_description_declares_the_line_a_422_gives_and_a_faults_incident(client):
    """A 422 carries code and message beside pydantic's list, and a 500 its incident: the
    description declared neither (nor any 500), so a client generated from it had no
    message to show a person, and no incident to give the operator."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    unprocessable = schemas["HTTPValidationError"]
    assert {"code", "message"} <= set(unprocessable["properties"])
    assert set(unprocessable["required"]) == {"detail", "code", "message"}
    r = client.post("/api/ask", json={"question": 1})
    assert r.status_code == 422 and set(unprocessable["required"]) <= set(r.json())
    assert "incident" in schemas["ErrorBody"]["properties"]
    fault = spec["paths"]["/api/ask"]["post"]["responses"]["500"]
    assert fault["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


def test_a_collection_may_be_named_in_a_script_written_with_marks(client):
    """Letters of any language: "हिन्दी" was refused for its vowel sign ("not 'ि'"), and
    Arabic written with its vowels the same; a mark alone, with no letter, is still none."""
    for name in ("हिन्दी", "عَرَبِيّ"):
        r = client.post(
            "/api/documents",
            files={"files": ("note.txt", "La bibliothèque ouvre le mardi.".encode())},
            data={"collection": name, "licence": "etalab-2.0"},
        )
        assert r.status_code == 200, r.text
        assert client.get("/api/documents", params={"collection": name}).status_code == 200
    for name in ("\u0301marche", "marche \u0301", "marche-\u0301\u0301", "(\u20dd)"):
        # A mark on no letter: alone, after a space or a dash, around a parenthesis.
        r = client.post(
            "/api/documents",
            files={"files": ("note.txt", b"x")},
            data={"collection": name, "licence": "etalab-2.0"},
        )
        assert r.status_code == 400 and "letters, digits" in r.json()["detail"], name


def test_a_listing_read_page_by_page_misses_no_document_that_another_left(client, commune):
    """Paged by offset, a document retired between two pages moved every later one back a
    place, and the first of the next page was never listed (a town's site mirroring the
    commons lost it). ``after``, the last id of the page before, starts the next page where
    that one ended, as MCP's listing does."""
    bob = {"Authorization": f"Bearer {make_key(commune, 'bob', 'Ville A')}"}  # a reader
    first = client.get("/api/documents", params={"limit": 2}, headers=bob).json()
    everyone = [d["id"] for d in client.get("/api/documents", headers=bob).json()]
    commune.retire(first[0]["id"], "données personnelles")
    by_offset = client.get("/api/documents", params={"limit": 2, "offset": 2}, headers=bob)
    assert by_offset.json()[0]["id"] == everyone[3]  # everyone[2] was skipped
    r = client.get("/api/documents", params={"limit": 2, "after": first[-1]["id"]}, headers=bob)
    assert [d["id"] for d in r.json()] == everyone[2:4]
    r = client.get("/api/documents", params={"after": 2**63}, headers=bob)
    assert r.status_code == 400 and r.json()["detail"].startswith("after must be 0..")
    r = client.get("/api/documents", params={"after": -1}, headers={**bob, "Accept-Language": "fr"})
    assert r.status_code == 400 and r.json()["detail"].startswith("after doit être entre 0 et")


def test_the_description_declares_what_healthz_answers_when_the_database_is_out_of_reach(
    commune,
):
    """A monitor generated from /openapi.json was told /healthz answers 200 only: its 503
    while PostgreSQL is out of reach, and a fault's 500 with its incident, were declared
    for every other route, not for the one a monitor reads."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    def gone() -> int:
        raise OperationalError("SELECT 1", {}, psycopg.OperationalError("connection is bad"))

    client = TestClient(create_app(commune), raise_server_exceptions=False, headers=EN)
    declared = client.get("/openapi.json").json()["paths"]["/healthz"]["get"]["responses"]
    commune.generation = gone  # type: ignore[method-assign]
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["code"] == "database_unreachable"
    for status in ("500", "503"):
        schema = declared[status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorBody"}, status


MAIN_ROUTES = {
    ("post", "/api/search"): "Hit",
    ("post", "/api/search/federated"): "FederatedHits",
    ("post", "/api/ask"): "AnswerReply",
    ("get", "/api/documents"): "Document",
    ("get", "/api/collections"): "CollectionRow",
    ("get", "/transparency.json"): "Transparency",
}


def main_replies(client):  # type: ignore[no-untyped-def]
    asked = {"question": "Comment s'inscrire à la cantine scolaire ?"}
    return {
        ("post", "/api/search"): client.post("/api/search", json={"query": "bac jaune"}),
        ("post", "/api/search/federated"): client.post(
            "/api/search/federated", json={"query": "bac jaune"}
        ),
        ("post", "/api/ask"): client.post("/api/ask", json=asked),
        ("get", "/api/documents"): client.get("/api/documents"),
        ("get", "/api/collections"): client.get("/api/collections"),
        ("get", "/transparency.json"): client.get("/transparency.json"),
    }


def names_every_key(spec, value, schema, where):  # type: ignore[no-untyped-def]
    """Every key of ``value``, nested ones too, is one that ``schema`` (of ``spec``, the
    /openapi.json) names, and every key it requires is there."""
    schemas = spec["components"]["schemas"]

    def resolved(schema):  # type: ignore[no-untyped-def]
        if "$ref" in schema:
            return schemas[schema["$ref"].rpartition("/")[2]]
        nullable = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
        return resolved(nullable[0]) if len(nullable) == 1 else schema

    schema = resolved(schema)
    if isinstance(value, list):
        for i, item in enumerate(value):
            names_every_key(spec, item, schema.get("items", {}), f"{where}[{i}]")
    elif isinstance(value, dict) and "properties" in schema:
        assert set(value) <= set(schema["properties"]), (
            where,
            set(value) - set(schema["properties"]),
        )
        assert set(schema.get("required", [])) <= set(value), where
        for key, item in value.items():
            names_every_key(spec, item, schema["properties"][key], f"{where}.{key}")
    elif isinstance(value, dict) and isinstance(schema.get("additionalProperties"), dict):
        for key, item in value.items():
            names_every_key(spec, item, schema["additionalProperties"], f"{where}.{key}")


def test_the_main_routes_name_the_fields_of_their_replies_in_the_description(client):
    """/openapi.json said "an object" of every main route's 200 (additionalProperties: true):
    a client generated from it got dictionaries, no field by name. Each names its fields now,
    and every key of a real reply, nested ones too, is one it names."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    for (method, route), r in main_replies(client).items():
        assert r.status_code == 200, (route, r.text)
        declared = spec["paths"][route][method]["responses"]["200"]["content"]
        schema = declared["application/json"]["schema"]
        model = schema.get("items", schema)["$ref"].rpartition("/")[2]
        assert model == MAIN_ROUTES[method, route]
        assert schemas[model]["properties"] and schemas[model]["required"], model
        names_every_key(spec, r.json(), schema, route)
    # The nested ones by name too: the answer's sources and decisions, the charter's tables.
    answer = schemas["AnswerReply"]["properties"]
    assert answer["sources"]["items"] == {"$ref": "#/components/schemas/Source"}
    assert answer["decisions"]["items"] == {"$ref": "#/components/schemas/Decision"}
    charter = schemas["CharterInForce"]["properties"]
    assert charter["utility"] == {"$ref": "#/components/schemas/Utility"} and "file" in charter


def test_the_main_routes_replies_are_the_librarys_json_as_it_was(client, commune):
    """The schemas describe the replies; they do not write them: each reply is the library's
    JSON, its keys in their order, no field dropped, no number rewritten (1 as 1.0)."""
    from commune.api.answers import answer_json
    from commune.govern.members import authenticate

    key = client.headers["Authorization"].removeprefix("Bearer ")
    with commune.engine.connect() as conn:
        alice = authenticate(conn, key)

    def same(r, expected):  # type: ignore[no-untyped-def]
        # As the routes wrote it when their return type was their response model: through
        # pydantic (a timestamp "…Z", a float as pydantic writes it), no schema applied.
        from pydantic import TypeAdapter

        before = list[dict[str, Any]] if isinstance(expected, list) else dict[str, Any]
        assert r.status_code == 200
        assert r.content == TypeAdapter(before).dump_json(expected), r.text[:300]

    hits = commune.search("bac jaune", k=10, actor=alice)
    same(client.post("/api/search", json={"query": "bac jaune"}), [h.to_json() for h in hits])
    same(client.get("/api/collections"), commune.collections(alice))
    same(client.get("/api/documents"), commune.documents(actor=alice))
    same(client.get("/transparency.json"), commune.transparency())
    r = client.post("/api/ask", json={"question": "Comment s'inscrire à la cantine scolaire ?"})
    assert r.status_code == 200
    answer = r.json()
    from commune.answering.answer import Answer

    shaped = answer_json(Answer.from_json({**answer, "energy": None}), alice)
    assert list(answer) == list(shaped)
    assert answer["sources"][0] == shaped["sources"][0]


def test_the_description_names_every_key_of_replies_whose_lists_are_filled(home, corpus, tmp_path):
    """The test above reads its home's replies, where the lists are empty: no model is
    configured, no collection evaluated, no refusal rule written, nothing excluded. A field
    the library added to a model's card, an evaluation (a column of eval_scores, every one of
    which /transparency.json gives), a refusal rule or an excluded document would have gone
    undescribed, and the test passed. Here each list holds one, and each is read."""
    from commune.core import Commune
    from tests.test_charter import CHARTER, models_toml, scores, write_charter

    write_charter(home, CHARTER)  # two refusal rules
    (home / "commune.toml").write_text(
        '[charter]\ntdm_reserved = "exclude"\n'
        + models_toml(gpu=("http://127.0.0.1:9/v1", 8.0, "FR")),
        encoding="utf-8",
    )
    reserved = tmp_path / "reserved"
    reserved.mkdir()
    (reserved / "cantine.md").write_text(
        "# Cantine\n\nL'inscription à la cantine scolaire se fait en mairie, au guichet.\n",
        encoding="utf-8",
    )
    with Commune(home) as commune:
        commune.add([corpus], collection="mairie", licence="etalab-2.0")
        # Its rights holder reserved text and data mining: excluded from the answers.
        commune.add([reserved], collection="mairie", licence="etalab-2.0", tdm_reserved=True)
        commune.set_visibility("mairie", "public")  # its evaluation shown on the public page
        scores(commune, "mairie", extractive=0.55)
        key = make_key(commune, "alice", "Ville A", "member-admin")
        with TestClient(create_app(commune), headers={"Authorization": f"Bearer {key}"}) as c:
            spec = c.get("/openapi.json").json()
            question = {"question": "Comment s'inscrire à la cantine scolaire ?"}
            answered = c.post("/api/ask", json=question).json()
            refused = c.post("/api/ask", json={"question": "Une ordonnance ?"}).json()
            shown = c.get("/transparency.json").json()
    assert answered["sources"] and answered["sentences"] and answered["decisions"]
    assert answered["excluded"] and answered["energy"], answered
    assert refused["mode"] == "refused"
    assert shown["models"] and shown["evaluations"] and shown["refusal"]
    assert shown["charter"]["utility"]["refuse"] and shown["charter"]["history"]
    for value, model in (
        (answered, "AnswerReply"),
        (refused, "AnswerReply"),
        (shown, "Transparency"),
    ):
        names_every_key(spec, value, {"$ref": f"#/components/schemas/{model}"}, model)


def test_the_description_of_a_documents_source_says_who_is_given_its_path(commune, corpus):
    """/openapi.json said a document's source_uri was "a file's name, not its path": the
    operator's listing (`commune serve --no-auth`) gives the path on the server."""
    commune.add([corpus / "pool.txt"], licence="etalab-2.0")
    client = TestClient(create_app(commune, require_auth=False), base_url="http://127.0.0.1")
    [listed] = client.get("/api/documents").json()
    assert listed["source_uri"] == str((corpus / "pool.txt").resolve())
    said = client.get("/openapi.json").json()["components"]["schemas"]["Document"]
    assert "to the operator alone" in said["properties"]["source_uri"]["description"]


def test_an_upload_with_an_empty_collection_is_refused_not_published_to_the_default(client):
    """`-F collection=$COLLECTION` with the variable unset sent collection= (empty): FastAPI
    reads an empty form field as one not sent, and the files went to the cooperative's
    default collection, shared with every member, where `commune add --collection ''`
    refuses the name. The API refuses it too, and nothing is written."""
    before = client.get("/api/documents", params={"limit": 1000}).json()
    for blank in ("", "  "):
        r = client.post(
            "/api/documents",
            files={"files": ("piscine.txt", b"La piscine ouvre le lundi.")},
            data={"collection": blank, "licence": "etalab-2.0"},
        )
        assert r.status_code == 400, (blank, r.text)
        assert "the collection's name is empty" in r.json()["detail"], r.text
        assert "leave it out to add to the default collection" in r.json()["detail"]
    assert client.get("/api/documents", params={"limit": 1000}).json() == before
    # Left out, the default collection still takes them.
    r = client.post(
        "/api/documents",
        files={"files": ("piscine.txt", b"La piscine ouvre le lundi.")},
        data={"licence": "etalab-2.0"},
    )
    assert r.status_code == 200 and r.json()["files"][0]["status"] == "added", r.text


def _names_its_fields(spec, schema) -> bool:  # type: ignore[no-untyped-def]
    """Whether ``schema`` (of ``spec``) names fields: a component with properties, a list of
    such, or a choice between such; not "an object" (additionalProperties) nor nothing."""
    if "$ref" in schema:
        named = spec["components"]["schemas"][schema["$ref"].rpartition("/")[2]]
        return bool(named.get("properties"))
    if "items" in schema:
        return _names_its_fields(spec, schema["items"])
    if "anyOf" in schema:
        return all(_names_its_fields(spec, s) for s in schema["anyOf"])
    return False


def test_every_routes_200_names_the_fields_of_its_reply(client, commune, home, corpus):
    """/openapi.json said "an object" of the 200 of /api/contributions, /api/usage, the peer
    routes, /v1's and others (or nothing: /v1's completions, /peer/catalogue), and a bare
    string of each stream: a client generated from it got dictionaries and no field by
    name. Every route's 200 names its fields now (a stream, its events), and a route added
    without a schema fails here; real replies use no key their schema does not name."""
    from click.testing import CliRunner

    from commune.cli import cli
    from tests.conftest import make_person

    spec = client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            ok = operation["responses"].get("200", {})
            assert ok.get("content"), (method, path)
            for media, body in ok["content"].items():
                schema = body.get("schema", {})
                if media == "text/event-stream":  # OpenAPI 3.1 has no schema for events
                    assert "data" in schema.get("description", ""), (method, path)
                else:
                    assert _names_its_fields(spec, schema), (method, path, media, schema)

    for args in (("share", "mairie"), ("peer", "issue", "coop-b")):
        done = CliRunner().invoke(cli, ["--home", str(home), *args])
        assert done.exit_code == 0, done.output
    peer = {"Authorization": f"Bearer {done.stdout.strip().split()[-1]}"}
    make_person(commune, "carol", "Ville A", "reader")
    upload = {"files": ("samedi.txt", "Le marché a lieu le samedi matin.".encode())}
    given = {"collection": "mairie", "licence": "etalab-2.0"}
    assert client.post("/api/documents", files=upload, data=given).status_code == 200
    question = "Quand passe le camion des ordures ?"
    alice = client.headers["Authorization"].removeprefix("Bearer ")
    replies = {
        ("get", "/healthz"): client.get("/healthz"),
        ("get", "/api/contributions"): client.get("/api/contributions"),
        ("get", "/api/usage"): client.get("/api/usage"),
        ("get", "/v1/models"): client.get("/v1/models"),
        ("get", "/v1/models/{model}"): client.get("/v1/models/auto"),
        ("post", "/v1/embeddings"): client.post(
            "/v1/embeddings", json={"model": "use-multilingual-v3", "input": ["bac jaune"]}
        ),
        ("post", "/v1/chat/completions"): client.post(
            "/v1/chat/completions",
            json={"model": "auto", "messages": [{"role": "user", "content": question}]},
        ),
        ("post", "/v1/completions"): client.post(
            "/v1/completions", json={"model": "auto", "prompt": question}
        ),
        ("post", "/peer/search"): client.post(
            "/peer/search", json={"query": "bac jaune"}, headers=peer
        ),
        ("post", "/peer/retired"): client.post("/peer/retired", headers=peer),
        ("post", "/peer/cited"): client.post("/peer/cited", json={"cited": {}}, headers=peer),
        ("get", "/peer/catalogue"): client.get("/peer/catalogue"),
        ("post", "/api/users/{name}/password"): client.post(
            "/api/users/carol/password",
            json={"password": "un-long-mot-de-passe", "your_password": alice},
        ),
        ("post", "/api/users/{name}/remove"): client.post(
            "/api/users/carol/remove", json={"reason": "parti"}
        ),
    }
    for (method, route), r in replies.items():
        assert r.status_code == 200, (route, r.text[:300])
        content = spec["paths"][route][method]["responses"]["200"]["content"]
        media = r.headers["content-type"].split(";")[0]
        names_every_key(spec, r.json(), content[media]["schema"], route)
    assert replies["get", "/api/contributions"].json()["contributions"]
    assert replies["post", "/peer/search"].json()["hits"]
