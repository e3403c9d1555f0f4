"""Load on loopback, bounded in count: concurrent clients get answers and no error, and
every answer is in the ledger; past the configured concurrency, the server says 503 with
Retry-After at once instead of letting a queue grow. Latencies are printed
(docs/reliability.md reports them), never asserted: a busy machine is slow, not wrong."""

from __future__ import annotations

import statistics
import threading
import time

import httpx

from tests.conftest import serve, wait_until

QUESTIONS = [
    "Quand passe le camion des ordures ?",
    "Où mettre les emballages en plastique ?",
    "When can adults swim in the lanes?",
    "Comment obtenir un acte de naissance ?",
    "When are the children's lessons at the pool?",
]


def hammer(url: str, clients: int, per_client: int) -> list[tuple[int, float, httpx.Headers]]:
    """Each client asks ``per_client`` questions in turn, all clients at once; every request
    completes (the join's deadline only stops a hang)."""
    results: list[tuple[int, float, httpx.Headers]] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        with httpx.Client(timeout=300) as http:
            for n in range(per_client):
                q = f"{QUESTIONS[(i + n) % len(QUESTIONS)]} ({i}-{n})"  # no cache hit
                started = time.perf_counter()
                r = http.post(f"{url}/api/ask", json={"question": q})
                with lock:
                    results.append((r.status_code, time.perf_counter() - started, r.headers))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(900)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert len(results) == clients * per_client, "a client stopped on an exception (above)"
    return results


def answers_in_the_ledger(engine) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engine.connect() as conn:
        return int(
            conn.execute(text("select count(*) from usage where route = 'api/ask'")).scalar_one()
        )


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def test_concurrent_clients_get_answers_and_no_error(commune, corpus):
    from commune.api.app import create_app

    commune.add([corpus], licence="etalab-2.0")
    with serve(create_app(commune, require_auth=False)) as url:
        results = hammer(url, clients=4, per_client=10)
    codes = [c for c, _, _ in results]
    assert len(results) >= 20 and set(codes) == {200}, codes
    assert answers_in_the_ledger(commune.engine) == len(results)
    print(f"\nload: 4 clients, {len(results)} answers, p95 {p95([s for _, s, _ in results]):.3f} s")


def test_overload_is_refused_with_503_and_retry_after(home, corpus, monkeypatch):
    """With one answer in flight and a limit of one, the next search or answer is refused at
    once; cheap routes still answer; once the answer is done, the next one goes through."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_concurrent_requests = 1\n")
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        entered, release = threading.Event(), threading.Event()
        ask = c.ask

        def held_ask(*args, **kwargs):  # type: ignore[no-untyped-def]
            entered.set()  # an answer in flight, held until the test lets it go
            assert release.wait(600)  # a hang guard, as every timeout below
            return ask(*args, **kwargs)

        monkeypatch.setattr(c, "ask", held_ask)
        with serve(create_app(c, require_auth=False)) as url:
            first: list[int] = []
            t = threading.Thread(
                target=lambda: first.append(
                    httpx.post(
                        f"{url}/api/ask", json={"question": "Piscine ?"}, timeout=600
                    ).status_code
                )
            )
            t.start()
            assert entered.wait(300)
            for path, body in (
                ("/api/ask", {"question": "Verre ?"}),
                ("/api/search", {"query": "verre"}),
            ):
                # The answer in flight is held: a request queued behind it would never return.
                r = httpx.post(f"{url}{path}", json=body, timeout=300)
                assert r.status_code == 503 and r.headers["retry-after"] == "1"
                assert "max_concurrent_requests" in r.json()["detail"]
            assert httpx.get(f"{url}/healthz", timeout=300).status_code == 200
            release.set()
            t.join(600)
            assert first == [200]
            again = httpx.post(f"{url}/api/ask", json={"question": "Verre ?"}, timeout=300)
            assert again.status_code == 200


def test_a_streamed_answer_counts_until_its_last_byte(home, corpus, monkeypatch):
    """The guard counted a request until its headers went out: a streamed answer, whose body
    is the model's work, escaped the limit (review finding). Held mid-body, it now counts."""
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_concurrent_requests = 1\n")
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        midway, release = threading.Event(), threading.Event()
        ask_stream = c.ask_stream

        def held(*args, **kwargs):  # type: ignore[no-untyped-def]
            events = ask_stream(*args, **kwargs)
            yield next(events)  # the first piece goes out with the 200
            midway.set()
            assert release.wait(600)  # a hang guard, as every timeout below
            yield from events

        monkeypatch.setattr(c, "ask_stream", held)
        with serve(create_app(c, require_auth=False)) as url:
            body: list[str] = []

            def read() -> None:
                with httpx.stream(
                    "POST", f"{url}/api/ask/stream", json={"question": "Piscine ?"}, timeout=600
                ) as r:
                    body.append(r.read().decode())

            t = threading.Thread(target=read)
            t.start()
            assert midway.wait(300)
            r = httpx.post(f"{url}/api/search", json={"query": "verre"}, timeout=300)
            assert r.status_code == 503 and "max_concurrent_requests" in r.json()["detail"]
            release.set()
            t.join(600)
            assert body and body[0].rstrip().split("\n\n")[-1].startswith("event: answer")
            again = httpx.post(f"{url}/api/search", json={"query": "verre"}, timeout=300)
            assert again.status_code == 200


def test_many_clients_past_the_limit_get_answers_or_503_never_an_error(home, corpus):
    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_concurrent_requests = 2\n")
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with serve(create_app(c, require_auth=False)) as url:
            results = hammer(url, clients=12, per_client=4)
        codes = [code for code, _, _ in results]
        assert answers_in_the_ledger(c.engine) == codes.count(200)  # refusals cost nothing
    assert set(codes) <= {200, 503} and 200 in codes, codes
    assert all(h["retry-after"] == "1" for code, _, h in results if code == 503)
    print(
        f"\noverload: 12 clients, limit 2: {codes.count(200)} answered, {codes.count(503)} refused"
    )


def _guard(app):  # type: ignore[no-untyped-def]
    """The application's overload guard, as built by its first request."""
    from commune.api.middleware import OverloadGuard

    node = app.middleware_stack
    while node is not None and not isinstance(node, OverloadGuard):
        node = getattr(node, "app", None)
    assert node is not None, "no overload guard in the application"
    return node


def test_uploads_are_refused_with_503_when_the_server_is_full(commune, corpus):
    """Uploads (the API's and the contribute page's) were outside the guard: with every slot
    taken by answers, files were still read, parsed and indexed. Now they are refused at once,
    in one line saying to send them again, with Retry-After, and nothing is stored."""
    import re

    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from commune.api.app import create_app
    from commune.store.schema import documents, revisions
    from tests.conftest import EN, PASSWORD, make_person

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    key = make_person(commune, "dora", "Ville A", "contributor")
    app = create_app(commune)
    web = TestClient(app, base_url="https://testserver", follow_redirects=False)
    page = web.get("/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    signed = web.post("/signin", data={"user": "dora", "password": PASSWORD, "csrf": csrf})
    assert signed.status_code == 303
    page = web.get("/contribute").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    def stored() -> tuple[int, int]:
        with commune.engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (documents, revisions)
            )

    before = stored()
    guard = _guard(app)
    guard.in_flight = guard.limit  # every slot taken by answers in flight
    files = [("files", ("ateliers.txt", b"Les ateliers ont lieu le mercredi.", "text/plain"))]
    form = {"collection": "mairie", "licence": "CC-BY-4.0"}
    api = TestClient(app, base_url="https://testserver")
    r = api.post(
        "/api/documents",
        data=form,
        files=files,
        headers={"Authorization": f"Bearer {key}", **EN},
    )
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "retry in a second" in r.json()["detail"] and "\n" not in r.json()["detail"]
    r = web.post(
        "/contribute", data={**form, "csrf": csrf}, files=files, headers={"Accept": "text/html"}
    )
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "Le serveur est occupé à répondre à d'autres\u00a0: renvoyez-le dans un instant." in (
        r.text.replace("&#x27;", "'")
    )
    assert stored() == before
    guard.in_flight = 0  # the answers done: the same upload goes through
    r = api.post(
        "/api/documents", data=form, files=files, headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 200 and stored() != before


def test_a_body_sent_a_byte_at_a_time_does_not_hold_a_slot(home, corpus):
    """A client sending its body a byte now and then held its slot of the guard for as long
    as it liked: eight such clients kept every answer out. Now the body must arrive within
    [limits] body_seconds: the trickler gets 408 and the connection closed, and the slot is
    free for the next search. Bounded by the socket's timeout, never timed."""
    import socket

    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_concurrent_requests = 1\nbody_seconds = 1\n")
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with serve(create_app(c, require_auth=False)) as url:
            port = int(url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
                s.sendall(
                    b"POST /api/search HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 100\r\n"
                    b"Accept-Language: en\r\n\r\n{"
                )
                answer = _trickle_until_answered(s, b" ")
                closed = False
                while not closed:  # the rest, up to the close
                    chunk = s.recv(65536)
                    answer += chunk
                    closed = not chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), answer[:300]
            assert closed  # the rest of the body is not waited for
            assert b"[limits] body_min_kb_per_second, body_seconds" in body
            assert b"send it again" in body
            r = httpx.post(f"{url}/api/search", json={"query": "verre"}, timeout=300)
            assert r.status_code == 200  # the slot was given back


def test_an_upload_arriving_steadily_on_a_slow_line_is_not_cut_off(home, corpus):
    """[limits] body_seconds was the whole body's time: a contributor on a slow line whose
    file took longer than that got 408 while its bytes kept coming, and could never send it.
    Past body_seconds a body must keep up [limits] body_min_kb_per_second: an upload sent at
    8 KB/s for three times body_seconds is stored, a byte now and then is still cut off."""
    import socket

    from sqlalchemy import func, select

    from commune.api.app import create_app
    from commune.core import Commune
    from commune.store.schema import documents

    home.mkdir(parents=True)
    # body_min_kb_per_second left at its default (4)
    (home / "commune.toml").write_text("[limits]\nmax_concurrent_requests = 1\nbody_seconds = 1\n")
    text = ("Le conseil municipal se réunit le premier lundi du mois. " * 420).encode()
    boundary = b"----commune-slow-line"
    body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="licence"\r\n\r\n'
        b"etalab-2.0\r\n--" + boundary + b"\r\nContent-Disposition: form-data; "
        b'name="files"; filename="conseil.txt"\r\nContent-Type: text/plain\r\n\r\n'
        + text
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    assert len(body) > 24_000
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with serve(create_app(c, require_auth=False)) as url:
            port = int(url.rsplit(":", 1)[1])
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
                s.sendall(
                    b"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
                    b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                    b"Accept-Language: en\r\n\r\n"
                )
                for i in range(0, len(body), 1024):  # 1 KB every 1/8 s: 8 KB/s
                    s.sendall(body[i : i + 1024])
                    time.sleep(0.125)
                answer = b""
                while chunk := s.recv(65536):
                    answer += chunk
            assert time.monotonic() - started > 3  # three times body_seconds
            head = answer.partition(b"\r\n\r\n")[0]
            assert head.startswith(b"HTTP/1.1 200"), answer[:400]
            assert b"conseil.txt" in answer
            with c.engine.connect() as conn:
                stored = select(func.count()).where(documents.c.source_uri.contains("conseil.txt"))
                assert conn.execute(stored.select_from(documents)).scalar_one() == 1


def _trickle_until_answered(s, byte: bytes) -> bytes:  # type: ignore[no-untyped-def]
    """Send ``byte`` every 0.2 s on socket ``s`` until the server's answer has its head (or
    the server closed): what has come of the answer so far."""
    s.settimeout(0.2)
    answer = b""
    for _ in range(600):
        try:
            s.sendall(byte)
        except OSError:  # closed by the server: its answer is in the buffer
            pass
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            continue
        answer += chunk
        if not chunk or b"\r\n\r\n" in answer:
            break
    s.settimeout(120)
    return answer


def _trickled(port: int, path: str, headers: bytes) -> bytes:
    """What the server answers a body of 100 bytes sent a byte every 0.2 s."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
        s.sendall(
            b"POST "
            + path.encode()
            + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n"
            + headers
            + b"\r\n"
        )
        answer = _trickle_until_answered(s, b"q")
        head = answer.partition(b"\r\n\r\n")[0].lower()
        length = int(head.split(b"content-length:")[1].split(b"\r\n")[0])
        while len(answer.partition(b"\r\n\r\n")[2]) < length:
            answer += s.recv(65536)
    return answer


def test_a_body_too_slow_is_said_as_such_to_a_program_and_to_a_person(home, corpus):
    """A body too slow, read by the route, went through the framework's handler: a program
    read code invalid_request, not the body_too_slow docs/api.md names, and a person on the
    sign-in page read the operator's sentence naming [limits]. Now body_too_slow, and the
    person's line in their language."""
    import json

    from commune.api.app import create_app
    from commune.core import Commune

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nbody_seconds = 1\n")
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        with serve(create_app(c, require_auth=False)) as url:
            port = int(url.rsplit(":", 1)[1])
            answer = _trickled(
                port, "/api/search", b"Content-Type: application/json\r\nAccept-Language: en\r\n"
            )
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), answer[:300]
            assert json.loads(body)["code"] == "body_too_slow"
            answer = _trickled(
                port,
                "/signin",
                b"Content-Type: application/x-www-form-urlencoded\r\nAccept: text/html\r\n"
                b"Accept-Language: fr\r\n",
            )
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), answer[:300]
            page = body.decode().replace("&#x27;", "'")
            assert "Ce que vous avez envoyé a mis trop de temps à arriver" in page, page
            assert "[limits]" not in page


def test_an_upload_on_its_way_holds_no_slot(home, corpus):
    """An upload held one of the guard's slots while its body arrived: a 200 MB file at
    1 Mbit/s kept one of eight for about 27 minutes, and a few contributors on slow lines
    kept every question out. Now the slot is taken once the body is whole: with one slot and
    an upload half sent, a search is answered, and the upload, once whole, is stored. One
    whose body is whole when every slot is taken is refused at once, as before: no queue."""
    import socket

    from sqlalchemy import func, select

    from commune.api.app import create_app
    from commune.core import Commune
    from commune.store.schema import documents

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_concurrent_requests = 1\n")
    boundary = b"----commune-on-its-way"
    body = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="licence"\r\n\r\n'
        b"etalab-2.0\r\n--" + boundary + b"\r\nContent-Disposition: form-data; "
        b'name="files"; filename="marche.txt"\r\nContent-Type: text/plain\r\n\r\n'
        + "Le marché a lieu le samedi matin sur la place.\n".encode() * 200
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    half = len(body) // 2

    def upload(port: int, meanwhile) -> bytes:  # type: ignore[no-untyped-def]
        """The server's answer to the upload, ``meanwhile()`` run with half of it sent."""
        with socket.create_connection(("127.0.0.1", port), timeout=120) as s:
            s.sendall(
                b"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                b"Accept-Language: en\r\n\r\n" + body[:half]
            )
            time.sleep(0.5)  # the server has the headers and half the body
            meanwhile()
            s.sendall(body[half:])
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        return answer

    def marche() -> int:
        with c.engine.connect() as conn:
            stored = select(func.count()).where(documents.c.source_uri.contains("marche.txt"))
            return int(conn.execute(stored.select_from(documents)).scalar_one())

    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        app = create_app(c, require_auth=False)
        with serve(app) as url:
            port = int(url.rsplit(":", 1)[1])

            def search() -> None:
                r = httpx.post(f"{url}/api/search", json={"query": "verre"}, timeout=300)
                assert r.status_code == 200, r.text  # was 503: the upload held the slot

            answer = upload(port, search)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:400]
            assert marche() == 1
            guard = _guard(app)

            def fill() -> None:
                guard.in_flight = guard.limit  # every slot taken by answers in flight

            answer = upload(port, fill)
            head, _, said = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503") and b"retry-after: 1" in head.lower()
            assert b"max_concurrent_requests" in said
            assert marche() == 1  # nothing more stored
            guard.in_flight = 0
        # A route's own refusal still comes before the body is read: a contribution from
        # someone not signed in is answered from its headers, its 10 MB never waited for.
        with serve(create_app(c)) as url:
            port = int(url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
                s.sendall(
                    b"POST /contribute HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
                    b"Content-Length: 10000000\r\nAccept: text/html\r\n\r\n" + body[:half]
                )
                answer = s.recv(65536)  # a TimeoutError if the server waits for the body
            assert answer.startswith((b"HTTP/1.1 303", b"HTTP/1.1 401")), answer[:300]


def test_a_contribution_whose_body_ends_with_every_slot_taken_is_refused_at_once(commune, corpus):
    """The contribute page's form takes its slot once its body is whole (above): if every
    slot was taken meanwhile, it is refused then, at once, on the page a refused form gets
    without script (503, Retry-After), nothing stored, and its slot never counted. Driven
    in-process, to fill the slots between its two parts."""
    import re

    import anyio
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from commune.api.app import create_app
    from commune.store.schema import documents
    from tests.conftest import PASSWORD, make_person

    commune.add([corpus], collection="mairie", licence="etalab-2.0")
    make_person(commune, "dora", "Ville A", "contributor")
    app = create_app(commune)
    web = TestClient(app, base_url="https://testserver", follow_redirects=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/signin").text).group(1)  # type: ignore[union-attr]
    web.post("/signin", data={"user": "dora", "password": PASSWORD, "csrf": csrf})
    csrf = re.search(r'name="csrf" value="([^"]+)"', web.get("/contribute").text).group(1)  # type: ignore[union-attr]
    request = web.build_request(
        "POST",
        "/contribute",
        data={"csrf": csrf, "publisher": "Médiathèque", "licence": "CC-BY-4.0"},
        files=[("files", ("ateliers.txt", b"Les ateliers ont lieu le mercredi.", "text/plain"))],
        headers={"Accept": "text/html"},
    )
    body = b"".join(request.stream)  # type: ignore[union-attr]
    parts = [body[:50], body[50:]]
    guard = _guard(app)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        if parts:
            chunk = parts.pop(0)
            if not parts:
                guard.in_flight = guard.limit  # every slot taken while the body arrived
            return {"type": "http.request", "body": chunk, "more_body": bool(parts)}
        await anyio.sleep(600)  # the client stays: a hang guard
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.items()]
    scope = {
        **{"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1"},
        **{"method": "POST", "scheme": "https", "path": "/contribute", "query_string": b""},
        **{"raw_path": b"/contribute", "root_path": "", "headers": headers, "state": {}},
        **{"client": ("127.0.0.1", 1), "server": ("testserver", 443)},
    }
    anyio.run(app, scope, receive, send)
    assert sent[0]["status"] == 503 and (b"retry-after", b"1") in sent[0]["headers"]  # type: ignore[operator]
    page = b"".join(m.get("body", b"") for m in sent[1:]).decode()  # type: ignore[misc]
    assert "Le serveur est occupé à répondre à d&#x27;autres\u00a0: renvoyez-le" in page, page
    assert guard.in_flight == guard.limit  # the refused form never counted
    with commune.engine.connect() as conn:
        stored = select(func.count()).where(documents.c.source_uri.contains("ateliers.txt"))
        assert conn.execute(stored.select_from(documents)).scalar_one() == 0


def test_uploads_arriving_at_once_are_bounded_by_the_limit(home, corpus):
    """An upload whose body arrives holds no slot (above), but what it has sent is held in
    memory or the temporary directory, up to [limits] max_upload_mb: with nothing counting
    uploads on their way, one caller opening thirty at once against a limit of one had all
    thirty taken in (each file under 1 MB is kept in memory). At most max_concurrent_requests
    uploads are taken in at once, arriving or being read, as before they held no slot while
    arriving: the next is refused from its headers, and a question still goes through."""
    import socket

    from sqlalchemy import func, select

    from commune.api.app import create_app
    from commune.core import Commune
    from commune.store.schema import documents

    home.mkdir(parents=True)
    (home / "commune.toml").write_text("[limits]\nmax_concurrent_requests = 1\n")
    boundary = b"----commune-at-once"

    def body(name: str) -> bytes:
        return (
            b"--" + boundary + b'\r\nContent-Disposition: form-data; name="licence"\r\n\r\n'
            b"etalab-2.0\r\n--" + boundary + b"\r\nContent-Disposition: form-data; "
            b'name="files"; filename="'
            + name.encode()
            + b'"\r\nContent-Type: text/plain\r\n\r\n'
            + "Le marché a lieu le samedi matin sur la place.\n".encode() * 200
            + b"\r\n--"
            + boundary
            + b"--\r\n"
        )

    def headers(sent: bytes) -> bytes:
        return (
            b"POST /api/documents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
            b"Content-Length: " + str(len(sent)).encode() + b"\r\nAccept-Language: en\r\n\r\n"
        )

    def answer(s: socket.socket) -> bytes:
        said = b""
        while chunk := s.recv(65536):
            said += chunk
        return said

    def stored(name: str) -> int:
        with c.engine.connect() as conn:
            found = select(func.count()).where(documents.c.source_uri.contains(name))
            return int(conn.execute(found.select_from(documents)).scalar_one())

    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        app = create_app(c, require_auth=False)
        with serve(app) as url:
            port = int(url.rsplit(":", 1)[1])
            slow, other = body("lent.txt"), body("autre.txt")
            with socket.create_connection(("127.0.0.1", port), timeout=120) as first:
                first.sendall(headers(slow) + slow[: len(slow) // 2])
                time.sleep(0.5)  # the server has its headers and half its body
                with socket.create_connection(("127.0.0.1", port), timeout=120) as second:
                    second.sendall(headers(other) + other)
                    said = answer(second)
                head, _, text = said.partition(b"\r\n\r\n")
                # was 200: a second upload taken in, and any number after it
                assert head.startswith(b"HTTP/1.1 503"), said[:400]
                assert b"retry-after: 1" in head.lower() and b"max_concurrent_requests" in text
                assert stored("autre.txt") == 0
                r = httpx.post(f"{url}/api/search", json={"query": "verre"}, timeout=300)
                assert r.status_code == 200, r.text  # a question is not kept out
                first.sendall(slow[len(slow) // 2 :])
                assert answer(first).startswith(b"HTTP/1.1 200")
            assert stored("lent.txt") == 1
            r = httpx.post(
                f"{url}/api/documents",
                data={"licence": "etalab-2.0"},
                files={"files": ("autre.txt", b"Le marche a lieu le samedi.", "text/plain")},
                timeout=300,
            )
            assert r.status_code == 200, r.text  # the first one done: sent again, taken in
            guard = _guard(app)  # every count back to nothing once the answers are out
            wait_until(lambda: (guard.in_flight, guard.uploads) == (0, 0), "the guard's counts")
