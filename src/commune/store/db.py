"""Opening a database: engine, SQLite pragmas, and migrations to head."""

from __future__ import annotations

import getpass
import logging
import os
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection

MIGRATIONS = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cur = dbapi_connection.cursor()
    # WAL lets readers (the API) run while a writer (an ingestion) commits;
    # synchronous=FULL syncs the WAL at every commit: NORMAL survives a killed process, but a
    # power cut could roll back the commits since the last checkpoint (an issued statement,
    # an answer's ledger row and credits; docs/reliability.md, bench/durability.py).
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # What is deleted is overwritten with zeros, not left in free pages: a purged question,
    # a removed person's words or a taken-down text stayed readable in the file until the
    # page was used again. Debian's SQLite does it by default; others' do not.
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()


@contextmanager
def no_wait(conn: Connection, on: bool = True, patience_ms: int = 0) -> Iterator[None]:
    """On SQLite, ``conn`` gives up at once (or after ``patience_ms``) on a write lock another
    process holds (``database is locked``), instead of waiting busy_timeout's 30 s; its wait
    restored after. Elsewhere, and with ``on`` false, nothing changes. Opens no transaction:
    begin one inside."""
    if not on or conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA busy_timeout={int(patience_ms)}")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql("PRAGMA busy_timeout=30000")
        conn.commit()


def lock_patience(conn: Connection, patience_ms: int) -> None:
    """In ``conn``'s transaction, on PostgreSQL, a lock another transaction holds (a row, an
    advisory lock) is waited for ``patience_ms`` at most, then the statement fails
    (:func:`gave_up_waiting`): what :func:`no_wait`'s ``patience_ms`` is on SQLite, where
    this does nothing."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(patience_ms)}")


def gave_up_waiting(exc: BaseException) -> bool:
    """Whether ``exc`` is a statement that stopped waiting for a lock another transaction
    holds: SQLite's "database is locked", PostgreSQL's lock_timeout (SQLSTATE 55P03). Its
    transaction is rolled back whole: it may be tried again."""
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "55P03" or "database is locked" in str(orig)


def refuses_writes(exc: BaseException) -> bool:
    """Whether ``exc`` is a database that takes no write at all: SQLite's "attempt to write
    a readonly database" (query_only, a file or mount read-only), PostgreSQL's read-only
    transaction (SQLSTATE 25006: a replica, default_transaction_read_only). Waiting or
    trying again does not change it; the operator does."""
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) == "25006" or "readonly database" in str(orig)


def scrub(engine: Engine) -> None:
    """After an erasure has committed: the write-ahead log emptied into the database and
    cut to nothing, so that the pages holding the erased text before (a question, a
    taken-down passage) are not left in ``commune.db-wal`` until new writes cover them. Best
    effort, at once: a reader still on an older snapshot keeps the log (waiting for it would
    hold the request that erased), and new writes overwrite it. Nothing to do on PostgreSQL
    (its VACUUM reclaims deleted rows)."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn, no_wait(conn):
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _no_nul(
    _conn: Connection,
    _cursor: object,
    _statement: str,
    parameters: Any,
    _context: object,
    executemany: bool,
) -> None:
    """Refuse a text holding a NUL character before PostgreSQL's driver does: it raised
    DataError ("PostgreSQL text fields cannot contain NUL (0x00) bytes"), an internal error
    at the API (a 500, an incident in the log) and a traceback at the command line, where
    SQLite answered a name given with one, typed or sent as %00, as any unknown name."""
    from commune.errors import InvalidRequest

    for row in parameters if executemany else (parameters,):
        values = row.values() if isinstance(row, dict) else (row or ())
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise InvalidRequest(
                "a text given holds a NUL character (\\x00), which the database cannot store",
                "remove it and send the text again",
            )


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Days, months and "today's quota" are UTC days (as SQLite's, which stores UTC): a
    # server whose time zone is Europe/Paris would put a request at 23:30 UTC on the next
    # day's line, casting timestamps to text or dates in its own zone.
    # UTF-8 named in the connection's parameters, which outrank PGCLIENTENCODING (LATIN1 on
    # an older host): a text holding "€", "œ" or an emoji failed in the driver, unencodable.
    engine = create_engine(
        url,
        pool_pre_ping=True,
        connect_args={
            "options": "-c timezone=UTC",
            "client_encoding": "utf8",
            **_server_defaults(url),
        },
    )
    # PGTZ in the environment of the process that connects (the operator's) outranked that
    # startup option (a session in Paris time, seen by test_backends): the zone is also set
    # on each new connection, and so is the ISO date style, which PGDATESTYLE sets likewise.
    event.listen(engine, "connect", _utc_session)
    event.listen(engine, "before_cursor_execute", _no_nul)
    return engine


# How long a connection to a database server waits for the server to answer. psycopg's own
# default is 130 s: on a host that drops the packets (down, a firewall, a mistyped address),
# every command and a start stayed silent that long before saying anything. 10 s is ample for
# a server on the same network, even a busy one; across a slow link the operator gives the
# URL its own (?connect_timeout=30), or sets PGCONNECT_TIMEOUT, and either one wins.
CONNECT_TIMEOUT_S = 10

# The name this process's sessions carry on the server (pg_stat_activity.application_name):
# without one, a second Commune waiting on the start's lock named its holder by pid only,
# and a psql session and a Commune looked alike. The command line names each command
# ("commune serve", "commune check": :func:`name_sessions`); a program embedding Commune
# shows "commune". Process-wide, not per call: the server's pool opens its connections
# in other threads, long after the command began.
_sessions_name = "commune"


def name_sessions(name: str) -> None:
    """Name the sessions that the engines made from now on open on a database server."""
    global _sessions_name
    _sessions_name = name


def _server_defaults(url: str) -> dict[str, Any]:
    """The connection parameters Commune gives a database server's connections, except
    those the operator set: in the URL's query (``?connect_timeout=30&application_name=x``,
    which ``connect_args`` would override) or in libpq's environment (PGCONNECT_TIMEOUT,
    PGAPPNAME), which a parameter given here would override too."""
    target = make_url(url)
    if target.get_backend_name() != "postgresql":  # psycopg's parameters, libpq's names
        return {}
    given = target.query
    defaults: dict[str, Any] = {}
    if "connect_timeout" not in given and not os.environ.get("PGCONNECT_TIMEOUT"):
        defaults["connect_timeout"] = CONNECT_TIMEOUT_S
    if "application_name" not in given and not os.environ.get("PGAPPNAME"):
        defaults["application_name"] = _sessions_name
    return defaults


def _utc_session(dbapi_connection: Any, _record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
        # A day is read from a timestamp cast to text (account/ledger.daily_series): in
        # PGDATESTYLE=German it read "31.01.2025", and the dashboards' days counted nothing.
        cursor.execute("SET DateStyle TO 'ISO'")
    dbapi_connection.commit()  # a session setting outlives the transaction that made it


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (a no-op when it is there), and say in the
    reader's language what ran, if anything did (logger ``commune.store``).

    Alembic's own log is held back: opening its context, even to read the schema's revision
    and find nothing to do, logs "Context impl SQLiteImpl." and "Will assume
    non-transactional DDL.", two lines in English that reached the journal at every
    `commune serve` start; and a migration logs "Running upgrade 0021 -> 0022, Wrong keys
    and passwords, counted in the database: each server process counted them in", its
    docstring's first line cut short."""
    with _alembic_held_back():
        try:
            _upgrade(engine)
        except Exception as exc:
            if engine.dialect.name != "postgresql" or not gave_up_waiting(exc):
                raise
            raise held_at_start(engine) from None


_HOLDING = threading.local()  # whether this thread runs Commune's own migrations


class _CommunesMigrations(logging.Filter):
    """Alembic's lines below WARNING while this thread runs :func:`upgrade`. Its level was
    set to WARNING for the process's life: a program embedding Commune lost the log of its
    own alembic migrations, set to INFO, once it had opened a home; a level set and put back
    around each call would have let another thread's lines through, or held them back."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not getattr(_HOLDING, "on", False)


_HELD_BACK = _CommunesMigrations()


@contextmanager
def _alembic_held_back() -> Iterator[None]:
    was = getattr(_HOLDING, "on", False)
    _HOLDING.on = True
    try:
        # A logger's filter sees only the lines logged on that logger, not its children's:
        # each of alembic's is given it, those that importing alembic logs on first (its
        # plugins, "setup plugin …", once per process) made before the import.
        _hold_back("alembic.runtime.plugins", "alembic.runtime.migration")
        import alembic.command  # noqa: F401
        import alembic.runtime.migration  # noqa: F401

        made = list(logging.Logger.manager.loggerDict)
        _hold_back(*[n for n in made if n == "alembic" or n.startswith("alembic.")])
        yield
    finally:
        _HOLDING.on = was


def _hold_back(*names: str) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if _HELD_BACK not in logger.filters:
            logger.addFilter(_HELD_BACK)


def _upgrade(engine: Engine) -> None:
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    scripts = ScriptDirectory.from_config(cfg)
    head = scripts.get_current_head()
    with engine.connect() as conn:
        lock_patience(conn, START_WAIT_MS)
        current = MigrationContext.configure(conn).get_current_revision()
        if current == head:
            return
    if current is not None and current not in {s.revision for s in scripts.walk_revisions()}:
        # A database a later version migrated, opened by this one (a version installed back
        # over an upgraded home, without restoring the backup taken before): alembic's
        # "Can't locate revision" stopped every command with its traceback.
        from commune.errors import CommuneError

        raise CommuneError(
            f"the database {shown_url(str(engine.url))} was upgraded by a later version of "
            f"Commune (its schema is {current}; this version's is {head})",
            "install that version again, or restore the backup taken before the upgrade with "
            "commune restore DIR --force, as docs/operations.md says in section 4",
        )
    with engine.begin() as conn:
        # Bounded, on PostgreSQL: the advisory lock below (another process migrating) and
        # the migrations' ALTER TABLE (behind any transaction open on that table, a psql
        # session left "idle in transaction") were waited for without end, and the start
        # said nothing. SQLite's busy_timeout bounds its own wait already.
        lock_patience(conn, START_WAIT_MS)
        lock(conn, "migrate")  # PostgreSQL: two processes starting at once migrate once
        if MigrationContext.configure(conn).get_current_revision() == head:
            return
        current = MigrationContext.configure(conn).get_current_revision()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    _said_migrated(current, head)


# How long a start waits, on PostgreSQL, for a lock another session holds (another process's
# migration, a transaction open on a table a migration alters): SQLite's busy_timeout, 30 s.
# Past it, the start stops with what holds the lock (exit 2: commune.service starts again
# 5 s later, and a migration that ended meanwhile lets it through).
START_WAIT_MS = 30_000


def held_at_start(engine: Engine, waited_on: tuple[str, ...] = ("migrate",)) -> Exception:
    """The error of a start that waited :data:`START_WAIT_MS` for a lock: which session holds
    it, as far as PostgreSQL tells: the one holding the migration's advisory lock (another
    Commune migrating), else one holding an advisory lock of ``waited_on``'s kinds (the
    charter's record waits on "charter" and "audit": the chain's head), else the oldest
    session holding a lock in the database (what an ALTER TABLE waits behind), and what to
    do. pg_locks shows every role's locks; pg_stat_activity hides another role's state and
    transaction start from a role without pg_read_all_stats: then the pid alone is said."""
    from sqlalchemy import bindparam, text

    from commune.errors import CommuneError

    where = shown_url(str(engine.url))
    waited = f"{START_WAIT_MS / 1000:g}"
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT a.pid, a.application_name AS app, a.state, "
                "to_char(a.xact_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS since, "
                "EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted "
                "AND l.locktype = 'advisory' AND l.classid = :migrate AND l.objid = 0) "
                "AS migrating, "
                "EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.granted "
                "AND l.locktype = 'advisory' AND l.classid IN :spaces) AS holding "
                "FROM pg_stat_activity a WHERE a.datname = current_database() "
                "AND a.pid <> pg_backend_pid() AND EXISTS (SELECT 1 FROM pg_locks l "
                "WHERE l.pid = a.pid AND l.granted AND l.locktype IN ('relation', 'advisory') "
                "AND l.database = (SELECT oid FROM pg_database "
                "WHERE datname = current_database())) "
                "ORDER BY migrating DESC, holding DESC, a.xact_start NULLS LAST, "
                "a.backend_start LIMIT 1"
            ).bindparams(bindparam("spaces", expanding=True)),
            {"migrate": LOCKS["migrate"], "spaces": [LOCKS[k] for k in waited_on]},
        ).first()
    if row is None:  # let go between the time-out and this look: starting again is enough
        return CommuneError(
            f"the database {where} was locked by another session for {waited} s",
            "start again",
        )
    who = f"pid {row.pid}" + (f", {row.app}" if row.app else "")
    if row.migrating:
        if row.since:
            return CommuneError(
                f"the database {where} is being migrated by another process ({who}, since "
                f"{row.since} UTC): waited {waited} s",
                "wait for it to end, then start again",
            )
        return CommuneError(
            f"the database {where} is being migrated by another process ({who}): waited {waited} s",
            "wait for it to end, then start again",
        )
    end = (
        f"end that transaction (as postgres: SELECT pg_terminate_backend({row.pid})), or wait "
        "for it, then start again"
    )
    if row.since:
        return CommuneError(
            f"the database {where} is locked by another session ({who}, {row.state}, in a "
            f"transaction since {row.since} UTC): waited {waited} s",
            end,
        )
    return CommuneError(
        f"the database {where} is locked by another session ({who}): waited {waited} s",
        end,
    )


def _said_migrated(before: str | None, head: str | None) -> None:
    from commune.text.messages import from_environment, localise

    message = (
        f"database schema made at migration {head}"
        if before is None
        else f"database schema upgraded from migration {before} to migration {head}"
    )
    logging.getLogger("commune.store").info(localise(message, from_environment(os.environ)))


@contextmanager
def within(engine: Engine, conn: Connection | None) -> Iterator[Connection]:
    """``conn`` when a caller's transaction is given (its writes then commit or roll back
    with the caller's others: an answer's ledger row, credits and decision record are one),
    else a transaction of its own on ``engine``."""
    if conn is not None:
        yield conn
        return
    with engine.begin() as own:
        yield own


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement.

    SQLite's default transactions start as readers: two writers can both check that a
    document is absent, then both insert it. ``BEGIN IMMEDIATE`` takes the write lock
    first, so a check and the write that depends on it are one step; others wait
    (busy_timeout). Other databases lock the rows they write; a plain transaction is used.
    """
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


# Advisory lock spaces on PostgreSQL: one number per kind of thing locked.
LOCKS = {
    "audit": 1,
    "quota": 2,
    "migrate": 3,
    "enrich": 4,
    "document": 5,
    "collection": 6,
    "charter": 7,
    "name": 8,
    "file": 9,
    "keys": 10,
    "cache": 11,
    "guesses": 12,
}


def lock(conn: Connection, kind: str, key: int | str = 0) -> None:
    """Serialise a read-then-write between processes until the transaction ends.

    PostgreSQL takes a transaction-level advisory lock on (kind, key): two server processes
    appending to the audit chain, admitting requests against one member's quota, or adding
    the same document, then wait for each other instead of both reading the same state.

    SQLite has one write lock for the whole database: it is taken here unless this
    transaction already holds it. Python's sqlite3 opens a transaction only at the first
    write, so a transaction begun with ``engine.begin()`` that reads before it writes (the
    audit chain's head, a quota's count) would read outside any lock, and two processes
    would both chain onto the same head. ``BEGIN IMMEDIATE`` makes the reads that follow
    part of the write: others wait (busy_timeout). A migration taken under it is one
    transaction too: interrupted, it leaves the schema as it was."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy import text

        conn.execute(
            text("SELECT pg_advisory_xact_lock(:a, :b)"), {"a": LOCKS[kind], "b": _number(key)}
        )
    elif conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        if raw is not None and not raw.in_transaction:  # holding the write lock already
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _number(key: int | str) -> int:
    """The advisory lock's second key: a name's CRC-32 as PostgreSQL's signed int4."""
    return key if isinstance(key, int) else zlib.crc32(key.encode("utf-8")) - 2**31


def lock_all(conn: Connection, kind: str, keys: Iterable[int | str]) -> None:
    """:func:`lock` each of ``keys``, in the order of their lock numbers: two transactions
    that each hold several of one kind then never wait for each other in a circle."""
    for key in sorted(set(keys), key=_number):
        lock(conn, kind, key)


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite database URL; None for other databases and in-memory ones."""
    path = make_url(url).database if url.startswith("sqlite") else None
    return None if not path or path == ":memory:" else path


def holds_database(url: str, home: str | os.PathLike[str]) -> bool:
    """Whether a home has its database yet, without making one: for SQLite, its file, with
    something in it (an empty file is what an open that found no database leaves); for a
    database server, the home's directory, which holds the original files beside it, and
    Commune's tables in the database (a database_url naming another, empty database, a
    mistyped name or postgres's own, was given Commune's tables by `commune check`, which
    then found every check ok on "0 documents")."""
    path = sqlite_path(url)
    if path is None:
        return os.path.isdir(home) and _has_tables(url)
    return os.path.isfile(path) and (
        os.path.getsize(path) > 0 or os.path.isfile(f"{path}-wal")  # written, not checkpointed
    )


def shown_url(url: str) -> str:
    """``url`` as a message may show it: its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def _has_tables(url: str) -> bool:
    """Whether the database server's database holds Commune's tables (its migrations'
    table). A server out of reach, a login refused or no driver is said here, in
    open_database's words: said there after this try, a host that drops the packets made
    every command wait for two connection timeouts. True for anything else: opening it
    says what is wrong."""
    from sqlalchemy import exc

    engine = None
    try:
        engine = create_engine(url, connect_args=_server_defaults(url))
        with engine.connect() as conn:
            return bool(inspect(conn).has_table("alembic_version"))
    except (exc.OperationalError, exc.InterfaceError, exc.NoSuchModuleError, ImportError) as e:
        raise _cannot_open(url, e) from None
    except Exception:  # noqa: BLE001 -- said by open_database, with what to do
        return True
    finally:
        if engine is not None:
            engine.dispose()


@contextmanager
def file_lock(path: str | os.PathLike[str]) -> Iterator[None]:
    """An exclusive lock between processes on one machine, held for the ``with`` block."""
    import fcntl

    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# Held, shared, by every process that serves a home for long (commune serve, commune mcp)
# and by every other command of the CLI that opens it (cli/group.py); taken exclusive by
# commune restore, which must not replace a database under a process that would go on
# writing to the one it has open: its writes then vanish (an add running during a restore
# --force put its documents in the replaced database, and left an index generation that a
# later one took for its own).
SERVING_LOCK = "commune.serving"


@contextmanager
def serving(
    home: str | os.PathLike[str], waiting: Callable[[], None] | None = None
) -> Iterator[None]:
    """Mark the home as served for the ``with`` block; many servers may share it. A restore
    in progress makes a server wait for it to finish before it opens the database;
    ``waiting`` is called first then (to say so: a command that waits in silence looks
    hung)."""
    import fcntl

    path = os.path.join(home, SERVING_LOCK)
    fh = None
    try:
        fh = open(path, "a")
    except OSError:
        # A read-only home (a backup's copy being read, a mount for reporting): nothing can
        # restore into it either; its lock is held read-only if it has one.
        with suppress(OSError):
            fh = open(path)
    if fh is None:  # outside the handler: a command's own error must not carry this one
        if not os.path.isdir(home):
            # Not a read-only home but none: taken back (take_back) since the command saw its
            # folder; going on unheld, the command made a new empty home in its place.
            raise _removed(home)
        yield
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting is not None:
                waiting()
            fcntl.flock(fh, fcntl.LOCK_SH)
        if not _same_file(fh, path):
            # What held it was a refused command taking back the new home it made
            # (take_back): the lock is now on a removed file, which holds no one off, and the
            # command went on to make a new empty home where the other had been.
            raise _removed(home)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _removed(home: str | os.PathLike[str]) -> Exception:
    from commune.errors import CommuneError

    return CommuneError(
        f"the home {home} was removed while the command waited for it", "run the command again"
    )


def _same_file(fh: IO[str], path: str) -> bool:
    """Whether ``path`` still names the file ``fh`` has open."""
    try:
        return os.path.samestat(os.fstat(fh.fileno()), os.stat(path))
    except OSError:
        return False


@contextmanager
def unserved(home: str | os.PathLike[str]) -> Iterator[bool]:
    """Hold the home against servers for the ``with`` block; yields False (and holds
    nothing) when one is serving it. Released when the process ends, however it ends."""
    import fcntl

    os.makedirs(home, exist_ok=True)
    with open(os.path.join(home, SERVING_LOCK), "a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# What a new home's database holds before anything is stored in it: its schema's version.
BOOKKEEPING_TABLES = frozenset({"alembic_version"})


def take_back(url: str, home: str | os.PathLike[str]) -> bool:
    """Remove a home that the calling command made and then stored nothing in (it was
    refused: an unknown licence, an empty name, a peer's wrong key, Ctrl-C before the first
    file), and say whether it did. ``commune --home TYPO add ... --licence BAD`` left a new
    empty home at TYPO, and every later command on TYPO reported on it ("0 documents")
    instead of saying there is no home there (cli/group.py refuses a home with no database
    for that reason).

    Kept when the database is another server's (not ours to judge), lies outside the home,
    holds a row of anything but its schema's version (a table Commune fills at its start
    one day makes this keep every home, never lose one), or when another process holds
    the home."""
    path = sqlite_path(url)
    if path is None or Path(path).resolve().parent != Path(home).resolve():
        return False
    if not os.path.isdir(home):
        return False
    import shutil
    import sqlite3
    from contextlib import closing

    with unserved(home) as alone:
        if not alone:
            return False
        if os.path.isfile(path):
            try:
                with closing(
                    sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True)
                ) as db:
                    tables = [
                        name
                        for (name,) in db.execute(
                            "SELECT name FROM sqlite_master WHERE type='table'"
                        )
                    ]
                    for table in tables:
                        if table in BOOKKEEPING_TABLES:
                            continue
                        if db.execute(f'SELECT 1 FROM "{table}" LIMIT 1').fetchone():
                            return False
            except sqlite3.Error:
                return False  # unreadable: not ours to judge empty
        shutil.rmtree(home, ignore_errors=True)
    return True


@contextmanager
def _migration_lock(url: str) -> Iterator[None]:
    """Two commands starting on a new home must not both create its tables."""
    path = sqlite_path(url)
    if path is None:
        yield
        return
    with file_lock(f"{path}.migrate-lock"):
        yield


def _private_sqlite_file(url: str) -> None:
    """Members' private documents, key hashes and the ledger live in the database: readable
    by the service's user only. SQLite gives its -wal and -shm files the database's mode."""
    path = sqlite_path(url)
    if path is None:
        return
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))  # created private if new
    for name in (path, f"{path}-wal", f"{path}-shm"):
        if os.path.exists(name):
            os.chmod(name, 0o600)  # homes made before this rule


def _driver_hint(url: str) -> str:
    """What to do when SQLAlchemy has no dialect or driver for ``url``: install psycopg for
    a PostgreSQL URL; for another scheme, write the URL Commune reads. A hosting provider's
    postgres://… was told to install the driver it already had, and mysql://… to install
    PostgreSQL's."""
    backend = make_url(url).get_backend_name()
    if backend == "postgresql":
        return "install its driver: pip install 'commune-coop[postgres]' for PostgreSQL"
    if backend == "postgres":
        return "begin the URL with postgresql+psycopg:// (SQLAlchemy's name), not postgres://"
    return (
        "Commune's database is SQLite (the default) or PostgreSQL: "
        "postgresql+psycopg://user:password@host/db"
    )


# What to check when PostgreSQL refuses the login, by where the URL came from.
REFUSED_LOGIN = (
    "PostgreSQL runs but refuses this login: check database_url in commune.toml "
    "(the user, the password, the database name)"
)


# What to check when the database server does not answer at all (CONNECT_TIMEOUT_S). The
# parameter is shown with both its separators: "?connect_timeout=30" put after a URL that has
# a query already (?sslmode=require) made sslmode "require?connect_timeout=30", refused.
NO_ANSWER = (
    "check that PostgreSQL runs there and listens on that address, that database_url in "
    "commune.toml names the right host and port, and that no firewall drops the connection; "
    "a slow network may be given longer with connect_timeout=30 in the URL (?connect_timeout=30, "
    "&connect_timeout=30 after another parameter)"
)


def _cannot_open(url: str, e: Exception) -> Exception:
    """A server that is down, a wrong address or password, a driver not installed: the
    operator's everyday faults, said in one line (never the driver's traceback).

    A URL no driver here reads (postgres://, mysql://, psycopg not installed) and a login
    PostgreSQL refuses (a wrong password, a role or a database that does not exist) are
    configuration errors (ConfigError: exit 78, which commune.service does not restart):
    started again every 5 s they met the same URL and the same refusal, forever, a failed
    login in PostgreSQL's log each time. A server down or out of reach is not: a restart
    cures a PostgreSQL still starting at boot."""
    from sqlalchemy import exc

    from commune.errors import CommuneError, ConfigError
    from commune.text import faults

    where = shown_url(url)
    why = f"{e.__class__.__name__}: {(str(e).splitlines() or [''])[0]}"
    if isinstance(e, exc.NoSuchModuleError | ImportError):
        return ConfigError(f"cannot open the database {where}: {why}", _driver_hint(url))
    if (faults.kind(e) or ("",))[0] == "database_refused":
        # PostgreSQL answered and said no: "and that it runs" sent the operator to a
        # server that was running all along.
        return ConfigError(f"cannot open the database {where}: {why}", REFUSED_LOGIN)
    if any(type(c).__name__ == "ConnectionTimeout" for c in (e, getattr(e, "orig", None))):
        # Nothing answered at all: psycopg's "connection timeout expired" named neither the
        # host nor what to look at. Not a configuration error: a server still booting, or a
        # network back up, lets the next start through.
        return CommuneError(
            f"the database server {_server_of(url)} did not answer within "
            f"{_timeout_of(url)} s ({where})",
            NO_ANSWER,
        )
    hint = "check the URL (postgresql+psycopg://user:password@host/db) and that it runs"
    return CommuneError(f"cannot open the database {where}: {why}", hint)


# Where libpq looks for a server when no host is named: the socket directory it was built
# with, Debian's and psycopg's own wheels' alike (libpq's refusals name it). Not localhost: a
# URL without a host (postgresql+psycopg://commune@/commune) never goes through TCP.
DEFAULT_SOCKET_DIR = "/var/run/postgresql"


def _server_of(url: str) -> str:
    """The server ``url`` connects to, as libpq fills in what it leaves out: host:port, or a
    local socket's file as libpq names it (/var/run/postgresql/.s.PGSQL.5432), which
    "/var/run/postgresql:5432" or "localhost:5432" sent the operator to look for on TCP."""
    target = make_url(url)

    def given(name: str) -> str | None:  # a query's parameter given twice is a tuple
        value = target.query.get(name)
        return value if value is None or isinstance(value, str) else ",".join(value)

    host = target.host or given("host") or os.environ.get("PGHOST") or DEFAULT_SOCKET_DIR
    port = target.port or given("port") or os.environ.get("PGPORT") or 5432
    if host.startswith("/"):  # libpq's rule: a host that is a path is a socket's directory
        return f"{host.rstrip('/')}/.s.PGSQL.{port}"
    return f"{host}:{port}"


def _timeout_of(url: str) -> int:
    """How long psycopg waited for ``url``'s server, in seconds: the URL's connect_timeout,
    PGCONNECT_TIMEOUT or :data:`CONNECT_TIMEOUT_S`, as psycopg reads them (2 s at least)."""
    from psycopg.conninfo import timeout_from_conninfo

    params = {k: v for k, v in make_url(url).query.items() if isinstance(v, str)}
    return timeout_from_conninfo({**params, **_server_defaults(url)})


def open_database(url: str) -> Engine:
    from sqlalchemy import exc

    from commune.errors import CommuneError

    _private_sqlite_file(url)
    try:
        engine = make_engine(url)
        with _migration_lock(url):
            upgrade(engine)
    except CommuneError:
        engine.dispose()  # its connections closed: a start that stops leaves nothing open
        raise
    except (exc.OperationalError, exc.InterfaceError, exc.NoSuchModuleError, ImportError) as e:
        if url.startswith("sqlite"):  # a file: its faults are said where it is read
            raise
        raise _cannot_open(url, e) from None
    except exc.ProgrammingError as e:
        # PostgreSQL 15 and later let only a database's owner (or whom it grants CREATE)
        # make tables in its public schema: a database created by postgres and merely
        # granted to Commune's user failed at the first migration, with a traceback.
        sqlstate = getattr(e.orig, "sqlstate", None)
        if url.startswith("sqlite") or sqlstate not in ("42501", "42P07"):
            raise
        engine.dispose()  # its connection, back in the pool, is closed: nothing is left open
        target = make_url(url)
        where = shown_url(url)
        why = f"{type(e.orig).__name__}: {(str(e.orig).splitlines() or [''])[0]}"
        # As libpq fills in what the URL leaves out (postgresql+psycopg:///commune, peer
        # authentication): the hint said "the user None" and "OWNER TO None".
        user = target.username or os.environ.get("PGUSER") or getpass.getuser()
        name = target.database or os.environ.get("PGDATABASE") or user
        if sqlstate == "42P07":
            # A migration met a table it makes: the database records an older version than
            # its tables. pg_restore --clean of a dump taken before an upgrade (going back,
            # docs/operations.md, section 4) drops and restores the dump's tables only, and
            # leaves those the newer version added: the next upgrade stopped on "relation
            # already exists", with a traceback.
            raise CommuneError(
                f"cannot upgrade the database {where}: {why}",
                "it holds tables a later version added, beside an older version's record (a "
                "pg_restore --clean of a dump taken before an upgrade leaves them): restore "
                f"the dump into an empty database (as postgres: dropdb {name}, then createdb "
                f"--owner {user} {name}, then pg_restore), as the operator's guide says "
                "(section 4, going back)",
            ) from None
        if re.search(
            r"must be owner of|permission denied for (table|sequence|function)", str(e.orig)
        ):
            # The tables are there but another role owns them (reading alembic_version is
            # refused first, or altering a table once that is granted): a pg_restore run as
            # postgres (--no-owner, or a dump of a database postgres owned). Owning the
            # database does not give its tables, so "ALTER DATABASE … OWNER TO" changed
            # nothing; REASSIGN OWNED BY postgres would hand over postgres's own objects too.
            raise CommuneError(
                f"cannot open the database {where}: {why}",
                f"its tables belong to another user than {user} (a pg_restore run as postgres): "
                f"restore again as postgres with pg_restore --clean --if-exists --no-owner "
                f"--role={user}, or as postgres give each table of the public schema to {user} "
                f"(ALTER TABLE … OWNER TO {user}; docs/operations.md, Backups, says how)",
            ) from None
        raise CommuneError(
            f"cannot open the database {where}: {why}",
            f"the user {user} may not create tables there: make it the database's "
            f"owner (as postgres: ALTER DATABASE {name} OWNER TO {user})",
        ) from None
    return engine


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
