"""Moving a home's database to another one (SQLite to PostgreSQL): `commune migrate --to URL`.

The target is brought to the schema's head by the same migrations, then every table is
copied in primary-key order, in batches that each commit on their own. An interrupted
run resumes where the target stops: tables with one integer key continue after their
largest key; ``embeddings`` (keyed by chunk and model) redoes its last chunk. Then each
table is verified on both sides: row count, and a checksum of every row's values (the sum,
modulo 2^256, of one SHA-256 per row, so that neither side's collation or row order
matters). Only when every table agrees does the home switch to the new database
(``database_url`` in commune.toml, the previous file kept as commune.toml.bak). The
source is never written to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, delete, func, insert, select, text

from commune.errors import CommuneError
from commune.store.files import write_whole
from commune.store.schema import metadata

BATCH = 2000
MARKER = "migrated_from"  # meta key in the target: which source it is a copy of
_MOD = 2**256


@dataclass
class TableResult:
    name: str
    source_rows: int
    target_rows: int
    source_sum: str
    target_sum: str

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_sum == self.target_sum


@dataclass
class Migration:
    copied: dict[str, int] = field(default_factory=dict)
    tables: list[TableResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.tables) and all(t.ok for t in self.tables)


def _canonical(value: Any) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, str):  # as _storable leaves it on PostgreSQL
        return value.replace("\x00", "")
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):  # SQLite hands back naive datetimes, stored in UTC
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def checksum(engine: Engine, table: Table) -> tuple[int, str]:
    """(rows, checksum) of a table, independent of row order."""
    total, rows = 0, 0
    cols = list(table.columns)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(select(*cols))
        for row in result:
            digest = hashlib.sha256(
                "\x1f".join(_canonical(v) for v in row).encode("utf-8", "surrogatepass")
            ).digest()
            total = (total + int.from_bytes(digest, "big")) % _MOD
            rows += 1
    return rows, f"{total:064x}"


def _tables() -> list[Table]:
    return list(metadata.sorted_tables)  # parents before children: foreign keys hold


def _identity(engine: Engine) -> str:
    """What names the source: its URL without password, and its audit chain's head."""
    from commune.store.audit import head

    with engine.connect() as conn:
        last, count = head(conn)
    return f"{engine.url.render_as_string(hide_password=True)}#{count}:{last[:16]}"


def _copy(
    source: Engine,
    target: Engine,
    table: Table,
    progress: Callable[[str, int], None] | None,
) -> int:
    pk = list(table.primary_key.columns)
    key = pk[0]
    copied = 0
    with target.begin() as conn:
        last = conn.execute(select(func.max(key))).scalar()
        if last is not None and len(pk) > 1:
            # Keyed by (chunk, model): the last chunk may be cut between two batches.
            conn.execute(delete(table).where(key == last))
    if key.type.python_type is not int:
        # A small table keyed by text (meta: the audit chain's head, the index generation):
        # the source's values replace whatever the target's migrations wrote.
        with source.connect() as src, target.begin() as dst:
            rows = [_storable(target, dict(r._mapping)) for r in src.execute(select(table))]
            dst.execute(delete(table).where(key.in_([r[key.name] for r in rows])))
            if rows:
                dst.execute(insert(table), rows)
        return len(rows)
    query = select(table).order_by(*pk)
    if last is not None:
        query = query.where(key >= last) if len(pk) > 1 else query.where(key > last)
    with source.connect() as src:
        result = src.execution_options(stream_results=True, yield_per=BATCH).execute(query)
        for batch in result.partitions(BATCH):
            rows = [_storable(target, dict(r._mapping)) for r in batch]
            with target.begin() as dst:
                dst.execute(insert(table), rows)
            copied += len(rows)
            if progress:
                progress(table.name, copied)
    return copied


def _storable(target: Engine, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as ``target`` can store it: PostgreSQL stores no NUL character in a text, and
    SQLite homes may hold some (a file's stray byte, read before they were dropped): the
    migration stopped at the first, and the home could not move. They mean nothing in a
    text; the verification compares the texts without them (_canonical)."""
    if target.dialect.name != "postgresql":
        return row
    return {
        k: v.replace("\x00", "") if isinstance(v, str) and "\x00" in v else v
        for k, v in row.items()
    }


def _reset_sequences(target: Engine) -> None:
    """Rows came with their ids: PostgreSQL's sequences must start after them."""
    if target.dialect.name != "postgresql":
        return
    with target.begin() as conn:
        for table in _tables():
            pk = list(table.primary_key.columns)
            if len(pk) != 1 or pk[0].type.python_type is not int or not pk[0].autoincrement:
                continue
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk[0].name}'), "
                    f"COALESCE(MAX({pk[0].name}), 1), MAX({pk[0].name}) IS NOT NULL) "
                    f'FROM "{table.name}"'
                )
            )


def migrate(
    source: Engine,
    target_url: str,
    progress: Callable[[str, int], None] | None = None,
) -> Migration:
    """Copy ``source`` into the database at ``target_url``, then verify every table."""
    from sqlalchemy import make_url

    from commune.store.db import NO_ANSWER, REFUSED_LOGIN, open_database

    # Compared as URLs: the home's own, as its engine renders it, escapes a socket
    # directory in the query ("host=%2Ftmp"), which the URL given after a switch does not.
    if make_url(target_url) == source.url:
        raise CommuneError("the target is the home's own database", "give another URL")
    try:
        target = open_database(target_url)  # the same migrations, to head
    except CommuneError as e:  # already one line that says what to do: which base, too
        why = e.message.removeprefix("cannot open the database ")
        # The URL given here, not the home's commune.toml (which names no database while
        # the home is on SQLite), is the one to check.
        hint = e.hint
        if hint == REFUSED_LOGIN:
            hint = (
                "PostgreSQL runs but refuses this login: check the URL given to --to (the "
                "user, the password, the database name; a database is made by createdb "
                "--owner USER NAME, docs/scaling.md)"
            )
        if hint == NO_ANSWER:  # its message names the server and the URL already
            raise CommuneError(
                e.message,
                NO_ANSWER.replace("database_url in commune.toml", "the URL given to --to"),
            ) from None
        raise CommuneError(f"cannot open the target database: {why}", hint) from None
    except Exception as exc:  # noqa: BLE001 -- any driver's failure to connect, said plainly
        raise CommuneError(
            f"cannot open the target database: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}",
            "check the URL (postgresql+psycopg://user:password@host/db) and that it runs",
        ) from None
    try:
        return _run(source, target, progress)
    finally:
        target.dispose()


def _run(source: Engine, target: Engine, progress: Callable[[str, int], None] | None) -> Migration:
    from commune.store.schema import meta

    identity = _identity(source)
    with target.begin() as conn:
        marker = conn.execute(select(meta.c.value).where(meta.c.key == MARKER)).scalar()
        holds_data = any(
            conn.execute(select(func.count()).select_from(t)).scalar()
            for t in _tables()
            if t.name != "meta"
        )
        if marker is None and holds_data:
            raise CommuneError(
                "the target database already holds data that did not come from this home",
                "migrate into an empty database",
            )
        if marker is not None and marker.split("#")[0] != identity.split("#")[0]:
            raise CommuneError(
                f"the target is a copy of another home ({marker.split('#')[0]})",
                "migrate into an empty database",
            )
        if marker is None:
            conn.execute(insert(meta).values(key=MARKER, value=identity))
    done = Migration()
    for table in _tables():
        done.copied[table.name] = _copy(source, target, table, progress)
    _reset_sequences(target)
    done.tables = _verify(source, target)
    differing = {t.name for t in done.tables if not t.ok and t.name != "meta"}
    if differing:
        # A resumed copy adds the rows it has not seen, by key; rows changed or deleted in the
        # source since an earlier run (a --no-switch trial, a server left running) would
        # differ for ever. Those tables, and those whose rows point into them, are copied
        # again whole, then everything is verified again.
        # The ledger is append-only in the target too (its triggers refuse a deletion): rows
        # the source appended meanwhile (a server still answering) are added by key, the
        # persons its purge forgot are forgotten in the target too (_unname), and a ledger
        # row changed otherwise in the source fails the verification, as it should.
        again = _with_dependents(differing - APPEND_ONLY)
        if "usage" in differing:
            _unname(source, target)
        with target.begin() as conn:
            for table in reversed(_tables()):
                if table.name in again:
                    conn.execute(delete(table))
        for table in _tables():
            if table.name in again or table.name in differing & APPEND_ONLY:
                done.copied[table.name] += _copy(source, target, table, progress)
        _reset_sequences(target)
        done.tables = _verify(source, target)
    return done


# Tables the database itself keeps append-only (migrations 0003 and 0007).
APPEND_ONLY = frozenset({"usage"})


def _unname(source: Engine, target: Engine) -> int:
    """The ledger's one change since an earlier run, made in the target too: the rows whose
    person the source's purge forgot past the retention (user_id set to UNNAMED, the one
    UPDATE its triggers allow, migration 0023). Kept named in the target, they differed
    for ever: a --no-switch trial, then an hour of the server's purger, and every later
    `commune migrate` ended "the copy differs from the source in usage". Returns the rows
    unnamed."""
    from sqlalchemy import update

    from commune.store.schema import UNNAMED, usage

    done = 0
    with source.connect() as src:
        ids = src.execution_options(stream_results=True, yield_per=BATCH).execute(
            select(usage.c.id).where(usage.c.user_id == UNNAMED).order_by(usage.c.id)
        )
        for batch in ids.scalars().partitions(BATCH):
            with target.begin() as dst:
                done += (
                    dst.execute(
                        update(usage)
                        .where(
                            usage.c.id.in_(list(batch)),
                            usage.c.user_id.is_not(None),
                            usage.c.user_id != UNNAMED,
                        )
                        .values(user_id=UNNAMED)
                    ).rowcount
                    or 0
                )
    return done


def _verify(source: Engine, target: Engine) -> list[TableResult]:
    results = []
    for table in _tables():
        if table.name == "meta":
            continue  # the target's own marker lives there: compared apart
        s_rows, s_sum = checksum(source, table)
        t_rows, t_sum = checksum(target, table)
        results.append(TableResult(table.name, s_rows, t_rows, s_sum, t_sum))
    results.append(_compare_meta(source, target))
    return results


def _with_dependents(names: set[str]) -> set[str]:
    """``names`` and every table whose foreign keys lead to one of them."""
    found = set(names)
    for table in _tables():  # parents first: one pass reaches every descendant
        if any(fk.column.table.name in found for fk in table.foreign_keys):
            found.add(table.name)
    return found


def _compare_meta(source: Engine, target: Engine) -> TableResult:
    from commune.store.schema import meta

    def rows(engine: Engine) -> dict[str, str]:
        with engine.connect() as conn:
            return {r.key: r.value for r in conn.execute(select(meta)) if r.key != MARKER}

    s, t = rows(source), rows(target)

    def digest(d: dict[str, str]) -> str:
        return hashlib.sha256(repr(sorted(d.items())).encode()).hexdigest()

    return TableResult("meta", len(s), len(t), digest(s), digest(t))


def switch(home: Path, url: str) -> Path:
    """Point the home at ``url`` (commune.toml's database_url); the old file is kept."""
    from commune.config import CONFIG_FILE

    path = home / CONFIG_FILE
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if path.exists():
        # Its mode with it: the old file may hold a [metrics] token or another database's
        # password, which a .bak made at the umask's 0644 showed to every local user.
        write_whole(home / f"{CONFIG_FILE}.bak", old, like=path)
    lines = [ln for ln in old.splitlines() if not ln.strip().startswith("database_url")]
    # Top-level keys come before the first [table]: put it first.
    new = "\n".join([f"database_url = {json.dumps(url)}", *lines]) + "\n"
    # Whole or not at all: cut short, the home would not open, or open its old database.
    write_whole(path, new)
    return path
