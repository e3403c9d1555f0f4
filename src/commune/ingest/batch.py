"""A batch of files and directories, read to stored: here, or parsed and embedded on a Ray
cluster (ingest/distributed.py) and stored here through the same store."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from commune.account.metering import ADD, Ingestion, Metering, Work
from commune.config import Settings
from commune.errors import CommuneError
from commune.ingest.distributed import ingest_on_ray
from commune.ingest.parsing import Parser
from commune.ingest.pipeline import (
    Collected,
    FileOutcome,
    Gate,
    IngestSummary,
    Provenance,
    collect_files,
    exclusion_outside,
    legacy_joined,
    nothing_to_read,
    one_file,
    source_uri,
)
from commune.store import audit
from commune.store import repository as repo
from commune.store.db import no_wait, write_transaction

if TYPE_CHECKING:
    from commune.account.energy import Meter

log = logging.getLogger("commune.ingest")


def ingest_paths(
    engine: Engine,
    settings: Settings,
    paths: list[str | os.PathLike[str]],
    collection: str,
    provenance: Provenance,
    gate: Gate,
    progress: Callable[[FileOutcome, int, int], None] | None = None,
    ray_address: str | None = None,
    exclude: Sequence[str] = (),
    gathered: Gathered | None = None,
    work: Work = ADD,
    notice: Callable[[str], None] | None = None,
) -> IngestSummary:
    """``progress(outcome, done, total)`` is called after each file. With ``ray_address``,
    files are parsed and embedded by Ray Data jobs on that cluster (ingest/distributed.py)
    and stored here, through the same store as without it. ``exclude``: globs of the files
    found in the directories given to pass over (pipeline.excluded). ``gathered``: what
    :func:`gather` found of ``paths`` already (the caller checked it before writing
    anything); else it is gathered here, refused when nothing in it is read. ``work``: the
    face and kind its ledger rows name (account/metering.Ingestion: one row per document
    stored, in its transaction, and one for the work left at the end). ``notice``: told in
    one line, in English, what the run waits for while it waits (a Ray cluster's first
    worker)."""
    from commune.embed.registry import configured

    started, t0 = repo.now(), time.perf_counter()
    # Metered from here: the embedder's loading is this run's work too.
    ingestion = Ingestion(
        Metering(engine, settings),
        work,
        f"parsing and embedding on the Ray cluster at {ray_address}, not measured"
        if ray_address
        else None,
    )
    summary = IngestSummary()
    found = gathered if gathered is not None else gather(paths, exclude)
    files, failures = found.files, found.failures
    summary.skipped, summary.excluded = found.collected.skipped, found.collected.excluded
    summary.links, summary.folder_links = found.collected.links, found.collected.folder_links
    summary.archives = list(found.collected.archives)
    summary.unmatched = list(found.unmatched)
    # Absolute: the walk of "." finds "a.txt", not "./a.txt", and each file of `commune add .
    # --source URL` was taken for a file named alone, all given the address URL (then all but
    # the first failed as "same source ... in this batch").
    dir_members = {
        os.path.abspath(Path(p).expanduser()) for p in paths if Path(p).expanduser().is_dir()
    }
    several = len(paths) > 1  # as named: a missing one does not change the others' address

    def address(path: Path, relative: str) -> str:
        at = os.path.abspath(path)
        in_dir = any(at.startswith(d.rstrip("/") + "/") for d in dir_members)
        return source_uri(path, relative, provenance.source, in_dir or several)

    # A file reached twice at one address, through a link to its folder (docs/ and a link to
    # it, both named), is read once, as a file named twice is (gather): each of its files
    # failed as "same source as ... in this batch", the add ending in status 1.
    once: dict[tuple[str, str], Path] = {}
    files = [
        (path, relative)
        for path, relative in files
        if once.setdefault((address(path, relative), os.path.realpath(path)), path) == path
    ]
    embedder = configured("retrieval.embedder", settings.retrieval.embedder)
    total = len(failures) + len(files)
    for path_str, error in failures:
        outcome = FileOutcome(path_str, "failed", error=error)
        summary.failed += 1
        summary.outcomes.append(outcome)
        if progress:
            progress(outcome, len(summary.outcomes), total)
    with write_transaction(engine) as conn:  # two adds may create the same collection at once
        coll_id = repo.collection_id(conn, collection, create=True)
    assert coll_id is not None

    def done(outcome: FileOutcome) -> None:
        setattr(summary, outcome.status, getattr(summary, outcome.status) + 1)
        if outcome.status not in ("added", "updated"):
            ingestion.passed()  # read and not stored: its work goes in the next row
        summary.chunks += outcome.chunks
        summary.outcomes.append(outcome)
        if progress:
            progress(outcome, len(summary.outcomes), total)

    sources = []
    first: dict[str, Path] = {}  # each address in this batch, with the file that took it
    for path, relative in files:
        source = address(path, relative)
        if not _utf8(source):
            # A name in another encoding (Latin-1 from an old disk): Python keeps its bytes as
            # surrogates, which no database column can store; it stopped the whole batch.
            shown = os.fsencode(str(path)).decode("utf-8", "replace")
            done(FileOutcome(shown, "failed", error=_not_utf8(path, shown)))
            continue
        taken = first.setdefault(source, path)
        if taken != path:
            # Two files of one batch with one address (a/readme.md and b/readme.md under one
            # --source) would become two revisions of one document, the first one lost.
            done(
                FileOutcome(
                    str(path),
                    "failed",
                    error=f"{path}: same source {source} as {taken} in this batch; "
                    "add it on its own with its own --source",
                )
            )
            continue
        sources.append((path, _kept(engine, coll_id, provenance.source, relative, source)))
    finishing: tuple[bool, Meter] | None = None  # set once every file is done
    try:
        if ray_address:
            for outcome in ingest_on_ray(
                ray_address,
                engine,
                settings,
                embedder.name,
                coll_id,
                sources,
                provenance,
                gate,
                ingestion,
                notice,
            ):
                done(outcome)
        else:
            parser = Parser(settings.limits.max_parse_seconds or None)
            try:
                for path, source in sources:
                    done(
                        one_file(
                            engine,
                            settings,
                            embedder,
                            coll_id,
                            path,
                            source,
                            provenance,
                            parser,
                            gate,
                            ingestion,
                        )
                    )
            finally:
                parser.close()
        summary.seconds = time.perf_counter() - t0
        # What close() changes, for a record rolled back to be written again whole (below).
        finishing = (ingestion.pending, ingestion.meter)
        _record(engine, started, summary, ingestion, coll_id, provenance, collection)
    except BaseException as exc:
        # Ctrl-C, a cluster lost, a full disk: the documents stored so far stay (each in its
        # own transaction), and the run is recorded as what it was, not left out. A run that
        # stopped left no row: who looked for it found nothing of a half-done add.
        summary.seconds = time.perf_counter() - t0
        # Refused before a document was stored (a Ray cluster out of reach, or with half a
        # CPU): no run, as a refused upload or question counts none. Recorded, it billed the
        # collection's member for the refusal and logged an add-stopped of nothing.
        refused = isinstance(exc, CommuneError) and not (summary.added or summary.updated)
        failed = _database_failed(exc)
        recorded = False
        # A database that failed is not asked whether the record landed: a server out of
        # reach made the add wait for the connection's timeout before its one line.
        if finishing is not None and not refused and not failed:
            # Stopped while the finished run was recorded (Ctrl-C as the add waited for
            # another process's write lock, or during its commit): rolled back, the run had
            # no row though every document was stored. Recorded now as stopped, none left,
            # unless its commit landed before the interrupt; its last ledger row, rolled
            # back with it, is written again from the same meter's reading (a meter read
            # twice gives its first reading), so each stored document still has its one.
            recorded = _run_recorded(engine, started)
            if not recorded:
                if ingestion.meter is not finishing[1]:
                    ingestion.meter.discard()
                ingestion.pending, ingestion.meter = finishing
        if not refused and not recorded and not failed:
            try:
                _record(
                    engine, started, summary, ingestion, coll_id, provenance, collection, exc, total
                )
            except Exception:  # the home's own fault, perhaps: the first error is the one to say
                log.debug("recording the stopped ingest run failed", exc_info=True)
        # Out of the requests running now, recorded or not (energy.Meter: a meter the
        # exception's traceback kept alive shared the CPU time of the answers meanwhile).
        ingestion.meter.discard()
        raise
    return summary


def _run_recorded(engine: Engine, started: datetime) -> bool:
    """Whether the run started at ``started`` has its row in ``ingest_runs`` (its record
    committed before whatever stopped it); a database that cannot say is taken as yes: no
    second row is risked."""
    try:
        with engine.connect() as conn:
            return repo.ingest_run_recorded(conn, started)
    except Exception:
        log.debug("looking for the ingest run's record failed", exc_info=True)
        return True


def _record(
    engine: Engine,
    started: datetime,
    summary: IngestSummary,
    ingestion: Ingestion,
    coll_id: int,
    provenance: Provenance,
    collection: str,
    stopped: BaseException | None = None,
    total: int = 0,
) -> None:
    """The run's row in ``ingest_runs`` (what it stored, how long it took) and its work left
    on the ledger. A run ``stopped`` before its end (Ctrl-C, the Ray cluster failing, the
    home's disk) says so in the audit log too, with why, what it stored before and how many
    of its ``total`` files it left undone: ``ingest_runs`` has no column for it.

    A stopped run's record waits :data:`STOPPED_PATIENCE_MS` at most for the write lock
    another process holds: the person asked to stop (Ctrl-C, often while the add waited for
    that very lock), and the record waited busy_timeout's 30 s, silent, before the add ended.
    """
    with contextlib.ExitStack() as stack:
        if stopped is None:
            conn = stack.enter_context(write_transaction(engine))
        else:
            conn = stack.enter_context(engine.connect())
            stack.enter_context(no_wait(conn, patience_ms=STOPPED_PATIENCE_MS))
            stack.enter_context(conn.begin())
        repo.record_ingest_run(
            conn,
            started,
            summary.seconds,
            added=summary.added,
            updated=summary.updated,
            unchanged=summary.unchanged,
            failed=summary.failed,
            chunks=summary.chunks,
        )
        ingestion.close(coll_id, conn)
        if stopped is not None:
            audit.append(
                conn,
                provenance.actor.user,
                STOPPED,
                f"collection {collection}",
                why=stopped_why(stopped),
                added=summary.added,
                updated=summary.updated,
                unchanged=summary.unchanged,
                failed=summary.failed,
                left=max(0, total - len(summary.outcomes)),
            )


def _database_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is the database's own failure (its write lock held by another process
    past busy_timeout, its disk, its server gone): a run it stopped is not recorded in it.
    Recorded, the add waited for the same lock as long again (30 s), or for a server that
    drops its packets, silent, before saying the first error."""
    from sqlalchemy import exc as db_errors

    return isinstance(exc, db_errors.OperationalError | db_errors.InterfaceError)


# How long the record of a stopped run waits for another process's write lock (SQLite).
STOPPED_PATIENCE_MS = 1000


# The audit log's action for an add that stopped before its end (its details: why, and what
# it stored before).
STOPPED = "add-stopped"


def stopped_why(exc: BaseException) -> str:
    """Why a run stopped, in one line, as the audit log keeps it."""
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C)"
    said = exc.message if isinstance(exc, CommuneError) else str(exc)
    return (said.splitlines() or [type(exc).__name__])[0][:300] or type(exc).__name__


@dataclass(frozen=True)
class Gathered:
    """What the paths given to an add hold: the files to read, each with its path relative to
    the directory given, those that fail before being read (missing, or in a folder that
    cannot be listed), and the walk's counts (pipeline.collect_files)."""

    files: list[tuple[Path, str]]
    failures: list[tuple[str, str]]
    collected: Collected
    # The --exclude patterns that matched no file of the folders (pipeline.collect_files).
    unmatched: tuple[str, ...] = ()


def gather(paths: Sequence[str | os.PathLike[str]], exclude: Sequence[str] = ()) -> Gathered:
    """The files of ``paths`` to read; an IngestError (:func:`pipeline.nothing_to_read`)
    when they hold none and nothing failed: a folder of images, or an empty one, was "0
    added, 0 failed" and status 0, which a script took for a success."""
    # A link that leads nowhere (a loop, a file moved) exists as a link: it is read, and
    # fails saying so. Taken for missing, a loop was "no such file or directory".
    refused = exclusion_outside(paths, exclude)
    if refused is not None:
        raise refused
    missing = [str(p) for p in paths if not os.path.lexists(Path(p).expanduser())]
    unreadable: list[tuple[str, str]] = []
    matched: set[str] = set()
    found = collect_files([p for p in paths if str(p) not in missing], unreadable, exclude, matched)
    # A file named twice (a.txt ./a.txt, or named and in a folder named too) is read once:
    # it was "1 added, 1 unchanged", two files said for one.
    once = {os.path.abspath(f[0]): f for f in reversed(found.files)}  # each path's first
    files = [f for f in found.files if once[os.path.abspath(f[0])] is f]
    failures = [(p, f"{p}: no such file or directory") for p in missing] + unreadable
    if not files and not failures:
        raise nothing_to_read([str(p) for p in paths], found)
    unmatched = tuple(dict.fromkeys(p for p in exclude if p not in matched))
    return Gathered(files, failures, found, unmatched)


def _kept(engine: Engine, coll_id: int, base: str | None, relative: str, source: str) -> str:
    """``source``, or the address a document of this file was added under before links were
    percent-encoded (pipeline.joined), when there is one and none at ``source``: its next
    revision stays that document, not a second one beside it."""
    if base is None or source == base or source == (old := legacy_joined(base, relative)):
        return source
    with engine.connect() as conn:
        if repo.find_document(conn, coll_id, source) is None:
            if repo.find_document(conn, coll_id, old) is not None:
                return old
    return source


def _not_utf8(path: Path, shown: str) -> str:
    """Why the file at ``path`` (``shown`` as it can be printed) fails: its name, or the name
    of a folder it is in, is not UTF-8. A folder's was said as the file's, "rename it", for
    each of its files, and renaming them changed nothing."""
    folder = next(
        (parent for parent in reversed(path.absolute().parents) if not _utf8(parent.name)),
        None,
    )
    if folder is None:
        return (
            f"{shown}: its name is not UTF-8 text; rename it "
            "(convmv -f latin1 -t utf8 --notest NAME), then add it again"
        )
    where = os.fsencode(str(folder)).decode("utf-8", "replace")
    return (
        f"{shown}: the name of its folder {where} is not UTF-8 text; rename the folder "
        "(convmv -r -f latin1 -t utf8 --notest NAME), then add it again"
    )


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
