"""Several server processes on one SQLite home, under concurrent clients: nothing lost,
nothing counted twice (every answer is one ledger row and one decision record)."""

from __future__ import annotations

import json
import sqlite3
import threading
import urllib.error
import urllib.request

from click.testing import CliRunner

from commune.cli import cli
from tests.conftest import serve_process


def ask_at_once(servers, questions: int, headers: dict[str, str] | None = None) -> list[int]:  # type: ignore[no-untyped-def]
    """Two clients per server, each asking ``questions`` different questions in turn, all at
    once; the servers are stopped afterwards. The HTTP statuses, in no particular order."""
    statuses: list[int] = []
    lock = threading.Lock()

    def client(url: str, i: int) -> None:
        for n in range(questions):
            body = json.dumps({"question": f"Quand passe le camion {i}-{n} ?"}).encode()
            req = urllib.request.Request(
                f"{url}/api/ask", body, {"Content-Type": "application/json", **(headers or {})}
            )
            try:
                with urllib.request.urlopen(req, timeout=300) as reply:
                    status = reply.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            with lock:
                statuses.append(status)

    try:
        threads = [
            threading.Thread(target=client, args=(url, i)) for i, (_, url) in enumerate(servers * 2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(900)  # a hang guard: a busy machine is slow, not wrong
        assert not any(t.is_alive() for t in threads), "a client hung"
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(30)
    return statuses


def test_two_servers_on_one_home_count_every_answer_once(home, corpus):
    assert (
        CliRunner()
        .invoke(cli, ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"])
        .exit_code
        == 0
    )
    servers = [serve_process(home), serve_process(home)]
    statuses = ask_at_once(servers, 8)
    assert statuses.count(200) == 32, statuses
    with sqlite3.connect(home / "commune.db") as conn:
        usage = conn.execute("select count(*) from usage where route = 'api/ask'").fetchone()[0]
        records = conn.execute("select count(*) from decisions where route = 'api/ask'")
        assert records.fetchone()[0] == 32
    assert usage == 32


def test_three_servers_on_one_postgresql_keep_quotas_and_the_ledger_exact(
    home, corpus, postgres_url
):
    """Three `commune serve` processes on one PostgreSQL; a member's user allowed 10
    requests a day; 24 questions at once across the three: exactly 10 answered, 14 refused,
    10 ledger rows, 24 decision records, no hold left."""
    from sqlalchemy import create_engine, text

    from commune.core import Commune
    from tests.conftest import make_key

    home.mkdir(parents=True)
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    with Commune(home) as c:
        c.add([corpus], licence="etalab-2.0")
        key = make_key(c, "bob", "Ville B", "reader", requests_per_day=10)
    servers = [serve_process(home, auth=True) for _ in range(3)]
    statuses = ask_at_once(servers, 4, {"Authorization": f"Bearer {key}"})
    assert sorted(statuses) == [200] * 10 + [429] * 14, statuses
    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        one = conn.execute
        assert one(text("select count(*) from usage where route = 'api/ask'")).scalar() == 10
        assert one(text("select count(*) from decisions where route = 'api/ask'")).scalar() == 24
        assert one(text("select count(*) from quota_holds")).scalar() == 0
    engine.dispose()


def test_wrong_keys_are_counted_once_across_server_processes(home):  # type: ignore[no-untyped-def]
    """Wrong keys were counted in each server process's memory: behind a proxy sharing
    requests among two processes, a guesser had 40 tries a minute where the limit says 20.
    The count is the database's: 20 wrong keys spread over two processes, and the next one
    is refused (429 with Retry-After) by either."""
    home.mkdir(parents=True)
    guess_across_two_servers(home)


def test_wrong_keys_are_counted_once_across_servers_on_postgresql(home, postgres_url):  # type: ignore[no-untyped-def]
    home.mkdir(parents=True)
    (home / "commune.toml").write_text(f'database_url = "{postgres_url}"\n')
    guess_across_two_servers(home)


def guess_across_two_servers(home) -> None:  # type: ignore[no-untyped-def]
    from commune.core import Commune
    from tests.conftest import make_key

    with Commune(home) as c:
        make_key(c, "bob", "Ville B", "reader")  # a home with its database
    servers = [serve_process(home, auth=True) for _ in range(2)]

    def wrong(url: str, i: int) -> tuple[int, str | None]:
        req = urllib.request.Request(
            f"{url}/api/search",
            json.dumps({"query": "verre"}).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer wrong{i}"},
        )
        try:
            urllib.request.urlopen(req, timeout=300).close()
        except urllib.error.HTTPError as exc:
            with exc:  # its connection, closed
                return exc.code, exc.headers["Retry-After"]
        raise AssertionError("a wrong key was accepted")

    try:
        statuses = [wrong(servers[i % 2][1], i)[0] for i in range(20)]
        assert statuses == [401] * 20, statuses
        for _, url in servers:
            code, retry = wrong(url, 99)
            assert code == 429 and int(retry or 0) >= 1
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(30)
