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


def test_two_servers_on_one_home_count_every_answer_once(home, corpus):
    assert (
        CliRunner()
        .invoke(cli, ["--home", str(home), "add", str(corpus), "--licence", "etalab-2.0"])
        .exit_code
        == 0
    )
    servers = [serve_process(home), serve_process(home)]
    statuses: list[int] = []
    lock = threading.Lock()
    try:

        def client(url: str, i: int) -> None:
            for n in range(8):
                body = json.dumps({"question": f"Quand passe le camion {i}-{n} ?"}).encode()
                req = urllib.request.Request(
                    f"{url}/api/ask", body, {"Content-Type": "application/json"}
                )
                try:
                    status = urllib.request.urlopen(req, timeout=60).status
                except urllib.error.HTTPError as exc:
                    status = exc.code
                with lock:
                    statuses.append(status)

        threads = [
            threading.Thread(target=client, args=(url, i)) for i, (_, url) in enumerate(servers * 2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        for proc, _ in servers:
            proc.terminate()
            proc.wait(30)
    assert statuses.count(200) == 32, statuses
    with sqlite3.connect(home / "commune.db") as conn:
        usage = conn.execute("select count(*) from usage where route = 'api/ask'").fetchone()[0]
        records = conn.execute("select count(*) from decisions where route = 'api/ask'")
        assert records.fetchone()[0] == 32
    assert usage == 32
