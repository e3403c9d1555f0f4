"""What an HTTP caller is told when something goes wrong: the library's own checks of what it
gave (InvalidRequest, 400) with their message and hint; anything else, even a ValueError from
deep down, a 500 with an incident number, its message and traceback in the operator's log only.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from commune.errors import CommuneError, InvalidRequest
from tests.conftest import EN, LOOPBACK


@pytest.fixture
def client(commune):  # type: ignore[no-untyped-def]
    from commune.api.app import create_app

    # Unexpected errors are re-raised by Starlette once answered: read the answer instead.
    with TestClient(
        create_app(commune, require_auth=False),
        raise_server_exceptions=False,
        headers=EN,
        base_url=LOOPBACK,
    ) as c:
        yield c


def break_search(monkeypatch: pytest.MonkeyPatch, exc: Exception) -> None:
    from commune.core import Commune

    def broken(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(Commune, "search", broken)


def test_an_invalid_request_is_a_400_with_its_message_and_hint(client, monkeypatch):
    break_search(
        monkeypatch, InvalidRequest("top_k must be greater than 0, got -3", "ask for 1 to 100")
    )
    r = client.post("/api/search", json={"query": "bac"})
    assert r.status_code == 400
    assert r.json() == {
        "detail": "top_k must be greater than 0, got -3 (ask for 1 to 100)",
        "code": "invalid_request",
    }


def test_the_librarys_own_checks_raise_invalid_request(commune):
    # Still a ValueError, for code that caught what these checks raised before.
    with pytest.raises(InvalidRequest, match="k must be greater than 0, got 0") as caught:
        commune.search("bac", k=0)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, CommuneError)


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/api/documents", {"limit": 0}, "limit must be 1..1000 and offset >= 0, got 0, 0"),
        ("/api/usage", {"start": "hier"}, "start must be a date like 2026-11-23, got 'hier'"),
        ("/api/usage", {"start": "2026-11-02", "end": "2026-11-01"}, "start must be before end"),
    ],
)
def test_the_apis_own_checks_say_what_is_wrong(client, path, params, message):
    r = client.get(path, params=params)
    assert r.status_code == 400 and message in r.json()["detail"]


@pytest.mark.parametrize(
    "exc",
    [
        # What a driver or a parser raises: its message may show paths, SQL or a reply.
        ValueError("invalid literal for int() with base 10: '/srv/commune/secret.db'"),
        RuntimeError("disk on fire at /srv/commune/secret.db"),
    ],
)
def test_any_other_error_is_a_500_with_an_incident_number(client, monkeypatch, caplog, exc):
    break_search(monkeypatch, exc)
    with caplog.at_level(logging.ERROR, logger="commune.api"):
        r = client.post("/api/search", json={"query": "bac"})
    assert r.status_code == 500
    body = r.json()
    incident = body["incident"]
    assert len(incident) == 8 and f"incident {incident}" in body["detail"]
    assert "secret.db" not in r.text and "Traceback" not in r.text
    logged = [rec for rec in caplog.records if incident in rec.getMessage()]
    assert logged and logged[0].exc_info and logged[0].exc_info[1] is exc
    assert "secret.db" in caplog.text  # the operator's log keeps what the caller is not shown


def test_an_openai_client_reads_the_incident_as_a_server_error(client, monkeypatch):
    from commune.core import Commune

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("upstream said: {'key': 'sk-secret'}")

    monkeypatch.setattr(Commune, "ask", broken)
    r = client.post(
        "/v1/chat/completions",
        json={"model": "extractive", "messages": [{"role": "user", "content": "bac ?"}]},
    )
    assert r.status_code == 500 and "sk-secret" not in r.text
    body = r.json()
    assert body["error"]["type"] == "server_error" and body["incident"] in body["error"]["message"]


def test_an_openai_request_without_a_question_is_a_400(client):
    r = client.post(
        "/v1/chat/completions",
        json={"model": "extractive", "messages": [{"role": "system", "content": "be brief"}]},
    )
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "messages must contain a user message with text"
    assert r.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("nothing", ["   ", "\u200b\u0000", "\ufeff \u2060"])
def test_an_openai_question_of_control_characters_only_is_told_as_one_of_spaces(client, nothing):
    """A message of control or format characters only is no text, as one of spaces is: it
    was refused further on, by the answer, with /api/ask's « the question is empty: ask
    something », where the chat said which message holds no text."""
    said = {
        "/v1/chat/completions": (
            {"messages": [{"role": "user", "content": nothing}]},
            "messages must contain a user message with text",
        ),
        "/v1/completions": ({"prompt": nothing}, "prompt must be a question with text"),
    }
    for route, (body, message) in said.items():
        r = client.post(route, json={"model": "extractive", **body})
        assert r.status_code == 400 and r.json()["error"]["message"] == message, r.text


def test_an_error_keeps_both_its_hints_across_processes():
    # Raised in a child process (files parsed under a time limit) and re-raised here: the
    # hint for the API and the web travels with the CLI's.
    import pickle

    from commune.errors import InvalidRequest

    sent = InvalidRequest("too long", "give a shorter --collection", field_hint="a shorter one")
    back = pickle.loads(pickle.dumps(sent))
    assert str(back) == "too long (give a shorter --collection)"
    assert back.in_fields() == "too long (a shorter one)"


def test_a_500_carries_its_request_id_and_the_sites_headers(commune, monkeypatch, caplog):
    """An unexpected error's 500 was answered outside every middleware of ours (Starlette's
    last resort), then raised again to the server: the one response an operator needs to
    find in the request log came without its X-Request-ID, a web page's 500 without the
    security headers, and uvicorn wrote a second traceback ("Exception in ASGI
    application") under the incident's."""
    import json

    from commune.api.app import create_app

    break_search(monkeypatch, RuntimeError("disk on fire"))
    # raise_server_exceptions left on: an error raised again to the server fails here.
    client = TestClient(create_app(commune, require_auth=False), headers=EN, base_url=LOOPBACK)
    with caplog.at_level(logging.INFO, logger="commune.requests"):
        r = client.post("/api/search", json={"query": "bac"})
    assert r.status_code == 500 and r.json()["code"] == "internal_error"
    logged = [
        json.loads(rec.getMessage()) for rec in caplog.records if rec.name == "commune.requests"
    ]
    assert [(line["request_id"], line["status"]) for line in logged] == [
        (r.headers["X-Request-ID"], 500)
    ]
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"


def test_an_incidents_log_line_names_its_request(client, monkeypatch, caplog):
    """The incident number a person reports leads to the traceback; that line did not name
    the request, so which person, member and route it was (the request log's line, by
    X-Request-ID) could only be guessed from the time."""
    break_search(monkeypatch, RuntimeError("disk on fire"))
    with caplog.at_level(logging.ERROR, logger="commune.api"):
        r = client.post("/api/search", json={"query": "bac"})
    incident = r.json()["incident"]
    [logged] = [rec for rec in caplog.records if incident in rec.getMessage()]
    assert f"request {r.headers['X-Request-ID']}" in logged.getMessage()
