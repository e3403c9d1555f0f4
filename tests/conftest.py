"""Hermetic tests: a temporary home, no network beyond loopback, real SQLite, real models."""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

# One OpenBLAS thread per process, set before numpy loads (commune imports it) and inherited by
# pytest's workers and the servers the tests start. With its default of a thread per core,
# two workers on two cores kept four threads spinning between tiny matrix products: five
# test files took 76 s and 132 s of CPU, and 38 s and 63 s with one thread.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from commune.govern import accounts  # noqa: E402
from commune.store import db  # noqa: E402
from tests.fixtures import (  # noqa: E402
    HTML_PAGE,
    MARKDOWN_EN,
    TEXT_EN,
    make_docx,
    make_odt,
    make_pdf,
)

# A real PostgreSQL for the backend kit and the migration tests: postgres_server, postgres_url.
pytest_plugins = ["tests.postgres"]

_real_connect = socket.socket.connect


def _guarded_connect(self, address):  # type: ignore[no-untyped-def]
    host = address[0] if isinstance(address, tuple) else address
    if (
        isinstance(host, str)
        and not (host.startswith("127.") or host in ("::1", "localhost"))
        and not (self.family == socket.AF_UNIX)
    ):
        raise RuntimeError(f"tests must not reach the network (tried {address!r})")
    return _real_connect(self, address)


# The modules whose tests take longest (each a real cluster, several servers or processes,
# a browser), measured with --durations: run first. pytest-xdist's worksteal gives each
# worker a contiguous half and rebalances from the ends of the queues, so the long tests no
# longer come last, with one worker running them while the other has nothing left. Ray
# comes last among them (see there).
FIRST = (
    "test_crash",
    "test_multiprocess",
    "test_statement",
    "test_peering",
    "test_operational",
    "test_browser",
    "test_mcp",
    "test_bom",
    "test_french_more",
    "test_phones",
    "test_deploy",
    # Last of these: a Ray node has 30 s to register (hard-coded in Ray), and with mypy and
    # the other worker's servers and browsers beside it, a slow machine missed them in all
    # three attempts, twice. Later, mypy is done and the heaviest modules are past.
    "test_ray",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.module.__name__.rsplit(".", 1)[-1] if item.module else ""
        return FIRST.index(name) if name in FIRST else len(FIRST)

    items.sort(key=rank)  # stable: each module's own order is kept


PRODUCTION_HASHER = accounts._hasher


def _cheapest_argon2id():  # type: ignore[no-untyped-def]
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def _memoise_use_embeddings() -> None:
    """Each text's vector from the real USE model, computed once per test process. Every
    test that builds a home embeds the same small corpus again (several hundred homes): the
    answer, retrieval, commons, cooperative, charter and web tests took 77 s, and 59 s with
    this. The vectors are the model's own; only a repeat is served from memory."""
    import numpy as np

    from commune.embed.builtin import UseMultilingual

    real = UseMultilingual._embed
    memo: dict[tuple[str, str], np.ndarray] = {}

    def embed(self, texts: list[str], kind: str) -> np.ndarray:  # type: ignore[no-untyped-def]
        todo = [t for t in dict.fromkeys(texts) if (kind, t) not in memo]
        if todo:
            for text, vector in zip(todo, np.asarray(real(self, todo, kind)), strict=True):
                memo[(kind, text)] = vector
        return np.vstack([memo[(kind, t)] for t in texts])

    UseMultilingual._embed = embed  # type: ignore[method-assign]


_memoise_use_embeddings()

_MIGRATE = db.upgrade
_MIGRATED: list[bytes] = []  # an empty database at the newest migration, made once a process


def _upgrade_from_a_migrated_copy(engine):  # type: ignore[no-untyped-def]
    """A new SQLite database starts as a copy of one the real migrations built in this
    process, then `upgrade` runs as always (and finds nothing to do). Running the 12
    migrations took 0.11 s a home, and the tests make several hundred homes; the migrations
    themselves still run in every worker, in every subprocess and on PostgreSQL."""
    path = db.sqlite_path(str(engine.url))
    if path and os.path.getsize(path) == 0 and not os.path.exists(f"{path}-wal"):
        if not _MIGRATED:
            with tempfile.TemporaryDirectory() as tmp:
                built = db.make_engine(f"sqlite:///{tmp}/migrated.db")
                _MIGRATE(built)
                with built.connect() as conn:  # everything into the one file
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
                built.dispose()
                _MIGRATED.append(Path(tmp, "migrated.db").read_bytes())
        Path(path).write_bytes(_MIGRATED[0])
    _MIGRATE(engine)


@pytest.fixture(autouse=True)
def _keep_the_workers_priority(monkeypatch: pytest.MonkeyPatch) -> None:
    """`commune enrich` lowers its thread's CPU priority for good (index/enrich.py). Run in a
    pytest worker's main thread (CliRunner), it left that worker at nice 10 for the rest of
    the run, and every server, CLI and Ray node it then started inherited it: a Ray node
    starved by the other worker and mypy missed its 30 s to register, three times in a row.
    Off the main thread (the server's background job) the real one runs."""
    from commune.index import enrich

    real = enrich.lower_priority

    def off_the_main_thread() -> None:
        if threading.current_thread() is not threading.main_thread():
            real()

    monkeypatch.setattr(enrich, "lower_priority", off_the_main_thread)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    # Passwords in tests are hashed with argon2id at its lowest cost: the same algorithm and
    # code paths (a stored hash carries its parameters, and a hash made with others is
    # rehashed at sign-in). The production parameters cost 0.17 s and 64 MiB a hash, a
    # third of the web tests' time; tests/test_passwords.py checks them.
    monkeypatch.setattr(accounts, "_hasher", _cheapest_argon2id)
    monkeypatch.setattr(db, "upgrade", _upgrade_from_a_migrated_copy)
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.delenv("COMMUNE_HOME", raising=False)
    monkeypatch.delenv("COMMUNE_DATABASE_URL", raising=False)
    # The CLI speaks French unless the locale says English (text/messages.py): tests read
    # the English unless they set LANG themselves, whatever the machine's locale. (The API's
    # test clients ask for English with Accept-Language where a test reads a message.)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def make_home(home: Path) -> Path:
    """``home`` with its database and nothing in it, as `commune member add` leaves one: the
    CLI's commands that make no home refuse a home without a database (cli/group.py)."""
    from commune.core import Commune

    with Commune(home) as c:
        c.engine  # noqa: B018 -- opening it makes the database
    return home


@pytest.fixture
def made_home(home: Path) -> Path:
    return make_home(home)


@pytest.fixture
def commune(home: Path):  # type: ignore[no-untyped-def]
    from commune.core import Commune

    with Commune(home) as c:
        yield c


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """One small document in each supported format, French and English."""
    d = tmp_path / "corpus"
    d.mkdir()
    (d / "dechets.html").write_text(HTML_PAGE, encoding="utf-8")
    (d / "library.md").write_text(MARKDOWN_EN, encoding="utf-8")
    (d / "pool.txt").write_text(TEXT_EN, encoding="utf-8")
    (d / "etat-civil.pdf").write_bytes(
        make_pdf(
            [
                "Pour obtenir un acte de naissance, adressez une demande au service "
                "de l'état civil.",
                "La carte d'identité se renouvelle en mairie sur rendez-vous "
                "avec une photo récente.",
            ]
        )
    )
    make_odt(
        d / "cantine.odt",
        "Restauration scolaire",
        [
            (
                "Inscription à la cantine",
                [
                    "L'inscription à la cantine scolaire se fait en ligne avant le début de chaque "
                    "trimestre, avec le quotient familial de la caisse d'allocations familiales."
                ],
            ),
            ("Menus", ["Les menus de la semaine sont affichés à l'entrée de chaque école."]),
        ],
    )
    make_docx(
        d / "parking.docx",
        "Parking permits",
        [
            (
                "Residents",
                [
                    "Residents of the old town apply for a parking permit at the town hall with "
                    "proof of address and the vehicle registration certificate."
                ],
            ),
            ("Visitors", ["Visitors park in the free car park next to the railway station."]),
        ],
    )
    return d


def make_key(commune, user: str, member: str, role: str = "reader", **quotas) -> str:  # type: ignore[no-untyped-def]
    """A member (created if needed), a user with ``role``, and an API key for it."""
    from commune.govern.members import add_member, add_user, create_key, list_members

    with commune.engine.begin() as conn:
        if member not in {m["name"] for m in list_members(conn)}:
            add_member(conn, member, "town")
        add_user(conn, user, member, role, **quotas)
        return create_key(conn, user)[1]


PASSWORD = "correct horse battery"

# The API answers in French unless the caller prefers English (text/messages.py): the test
# clients of tests that read an English message send this.
EN = {"Accept-Language": "en"}


def make_person(commune, user: str, member: str, role: str = "reader") -> str:  # type: ignore[no-untyped-def]
    """Like make_key, with the password PASSWORD for the web application."""
    from commune.govern.accounts import set_password

    secret = make_key(commune, user, member, role)
    with commune.engine.begin() as conn:
        set_password(conn, user, PASSWORD)
    return secret


@pytest.fixture
def key(commune) -> str:  # type: ignore[no-untyped-def]
    return make_key(commune, "alice", "Ville A", "member-admin")


T = TypeVar("T")


def read_terminal(leader: int) -> bytes:
    """All a process wrote to the terminal whose leader end is ``leader``, until it closed
    (Linux says so with EIO once the process's end is gone)."""
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    return shown


def wait_until(
    condition: Callable[[], T], what: str, timeout: float = 120, every: float = 0.05
) -> T:
    """Poll ``condition`` until it returns something true, and return that. The deadline only
    stops a hang: a busy machine is slow, never wrong, so it is generous, and a test asserts
    what happened, never how fast (speed is measured in bench/)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout:.0f} s (a hang guard)")
        time.sleep(every)


# The base URL of an in-process client of an app served without keys (`commune serve
# --no-auth`), which answers requests naming this machine only (api/middleware.py).
LOOPBACK = "http://127.0.0.1"


@contextlib.contextmanager
def serve(app, port: int | None = None, **config):  # type: ignore[no-untyped-def]
    """Run an ASGI app with uvicorn on a free loopback port (or ``port``: another server
    there before, stopped, as when a server restarts), with uvicorn's ``config``; yields its
    base URL."""
    import threading

    import uvicorn

    if port is None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), "uvicorn to start")
    assert server.started, "uvicorn stopped before serving (its log above says why)"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def serve_process(home: Path, auth: bool = False):  # type: ignore[no-untyped-def]
    """`commune serve --no-auth` (or with keys, ``auth``) in its own process on a free
    loopback port, once it answers /healthz: (process, base URL). The caller stops it."""
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "commune.cli",
            "--home",
            str(home),
            "serve",
            *([] if auth else ["--no-auth"]),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if proc.poll() is not None:
            return True  # exited: no use waiting
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=10).close()
        except OSError:
            return False
        return True

    try:
        wait_until(healthy, f"commune serve on {url}", timeout=300, every=0.1)
    except AssertionError:
        proc.kill()
        proc.wait(30)
        raise
    if proc.returncode is not None:
        raise AssertionError(f"commune serve exited with status {proc.returncode} on {url}")
    return proc, url
