"""Ingestion across a Ray cluster: `commune add --ray ADDRESS`.

The costly part of adding a file, reading it, cutting it into passages, analysing and
embedding them, runs as Ray Data jobs (``map_batches`` over a pool of actors, one per
CPU of the cluster, each loading the embedding model once), one per window of files of
:data:`WINDOW_BYTES`. The driver reads the files, skips those that did not change, sends a
window, and stores each prepared file through the normal store
(pipeline.store): the same revisions, curation, licences and audit as without Ray. The
database is written by one process only, so SQLite homes work too.

Ray is an optional extra (`pip install 'commune-coop[ray]'`); every node runs the same Commune
version (a local cluster shares this environment; a remote one installs it in its image).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import queue
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from commune.errors import CommuneError, IngestError
from commune.ingest.pipeline import (
    FileOutcome,
    file_error,
    read_regular_file,
    store,
    unchanged,
)
from commune.store import blobs

BATCH = 4  # files per call of a worker: small, so that one large file does not hold a batch
# Bytes of files read and sent to the cluster as one job. The whole archive was read into
# this process's memory before the first file was sent (a town's 10 GB of scanned PDFs, twice
# over with Ray's copy), and nothing was stored until all of it had been read; each window is
# stored before the next is read. Each job loads the model once per actor: a few seconds
# against the minutes a window of this size takes to embed.
WINDOW_BYTES = 256_000_000


class _Preparer:
    """A Ray Data actor: loads the embedder once, then prepares batches of files."""

    def __init__(self, settings: Any) -> None:
        from commune.embed.registry import available, get_embedder
        from commune.ingest.parsing import Parser

        self.settings = settings
        name = settings.retrieval.embedder
        if name not in available():
            # The add found the name here before it sent a job (ingest/batch.py): a node that
            # does not know it lacks the package that provides it. It said "retrieval.embedder
            # in commune.toml: … is not an embedding model" of a file the add had accepted.
            import platform

            raise CommuneError(
                f"the embedding model {name!r} is not installed on the Ray node "
                f"{platform.node() or '?'}",
                "install the package that provides it on every node of the cluster, as on this "
                "machine, then run the same command again",
            )
        self.embedder = get_embedder(name)
        self.parser = Parser(settings.limits.max_parse_seconds or None)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        from commune.ingest.pipeline import prepare

        results = []
        for name, data in zip(batch["name"], batch["data"], strict=True):
            try:
                prepared: Any = prepare(
                    bytes(data), Path(name), self.settings, self.embedder, self.parser
                )
            except (IngestError, OSError, ValueError) as exc:
                prepared = (
                    f"{Path(name).name}: {exc}" if not isinstance(exc, IngestError) else str(exc)
                )
            results.append(pickle.dumps(prepared))
        return {"i": batch["i"], "result": results}


def connect(address: str) -> Any:
    try:
        import ray
    except ImportError:
        raise CommuneError(
            "Ray is not installed", "pip install 'commune-coop[ray]' (on every node of the cluster)"
        ) from None
    host, _, port = address.rpartition(":")
    try:
        # Ray's client retries an unreachable address for minutes: ask the socket first.
        import socket

        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise CommuneError(
            f"cannot reach the Ray cluster at {address}: {exc}",
            "start it with `ray start --head` and pass its address (host:port)",
        ) from None
    # `commune add` speaks for itself: its progress bar and one line per failed file. Ray's
    # own lines (its Python loggers', its workers') go to its session logs (issue 22: they
    # flooded the terminal).
    try:
        ray.init(
            address=address,
            ignore_reinit_error=True,
            log_to_driver=False,
            logging_level=logging.ERROR,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise CommuneError(
            f"cannot reach the Ray cluster at {address}: {str(exc).splitlines()[0]}",
            "start it with `ray start --head` and pass its address (host:port)",
        ) from None
    # This process connects once, to the address given, and never starts a Ray of its own.
    # A thread of Ray Data's left waiting on a cluster whose workers are gone (_watched)
    # called into Ray after the add's shutdown, and Ray started a local cluster for it
    # (its warnings on stderr, a token written to ~/.ray).
    try:
        from ray._private import auto_init_hook

        auto_init_hook.enable_auto_connect = False
    except ImportError:  # another version of Ray: its threads may start one, said above
        pass
    # Imported first: importing ray.data configures its logger (DEBUG, with a console
    # handler), which undid a level set before it.
    import ray.data

    # Ray Data reports each job's progress on stderr: `commune add` has its own bar.
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


# Seconds to wait for a CPU on the cluster. A head started with --num-cpus=0 (so that it only
# coordinates) has none until a worker joins, and Ray gives a starting node 30 s to
# register, which a busy machine can miss: the job then waited for a CPU forever, and the
# add hung without a word.
JOIN_SECONDS = 120.0


def _cpus(
    ray: Any, address: str, stored: int = 0, notice: Callable[[str], None] | None = None
) -> int:
    """The CPUs of the cluster's live nodes, waiting :data:`JOIN_SECONDS` for a first one;
    a CommuneError when none joined, saying the ``stored`` documents of the windows before
    are kept. Counted at each window: a pool sized for a node that left since waited for
    its CPUs forever (Ray Data's default), the add silent. ``notice`` is told, in one line,
    when the wait starts and how long it lasts at most: the add said nothing for two
    minutes, which read as a hang."""
    deadline = time.monotonic() + JOIN_SECONDS
    waiting = False
    while True:
        cpus = float(ray.cluster_resources().get("CPU", 0))
        if cpus >= 1:
            return int(cpus)
        if cpus > 0:
            # Each worker asks for one whole CPU: a cluster of half of one (a node started
            # with --num-cpus=0.5, a container's quota) can start none, and the add waited
            # out the join time for a worker that was there, then said none had joined.
            shown = f"{cpus:.4f}".rstrip("0")  # "0.5": Ray counts CPUs to the ten-thousandth
            raise CommuneError(
                f"the Ray cluster at {address} has {shown} CPU, less than the one a worker "
                f"needs, {_kept(stored)}",
                f"give its node a whole CPU (`ray start --num-cpus=1`) or start a worker with "
                f"`ray start --address {address} --num-cpus=1`, then run the same command again",
            )
        if not waiting and notice is not None:
            notice(waiting_for_a_worker(address))
        waiting = True
        if time.monotonic() > deadline:
            raise CommuneError(
                f"the Ray cluster at {address} has no CPU to work on: no worker node joined "
                f"in {JOIN_SECONDS:g} s, {_kept(stored)}",
                f"start one with `ray start --address {address}` (`ray status` lists the "
                "nodes), then run the same command again",
            )
        time.sleep(1)


def waiting_for_a_worker(address: str) -> str:
    """The line that says an add waits for a CPU on the cluster at ``address``."""
    return (
        f"the Ray cluster at {address} has no CPU yet: waiting up to {JOIN_SECONDS:g} s "
        "for a worker node to join"
    )


def ingest_on_ray(
    address: str,
    engine: Any,
    settings: Any,
    model: str,
    coll_id: int,
    sources: list[tuple[Path, str]],
    prov: Any,
    gate: Any,
    ingestion: Any = None,
    notice: Callable[[str], None] | None = None,
) -> Iterator[Any]:
    """Prepare ``sources`` on the cluster and store them here; yields each file's outcome.
    ``ingestion``: the run's meter (account/metering.Ingestion), which sees this machine's
    work only; its rows say that the cluster's was not measured. ``notice``: told in one
    line what the add waits for, when it waits (a worker node to join)."""
    from commune.store import repository as repo

    meta = prov.recorded
    ray: Any = None  # connected at the first window
    window: list[tuple[Path, str, bytes]] = []
    held = stored = 0
    quiet = contextlib.ExitStack()  # Ray's own lines out of the terminal while connected

    def sent(window: list[tuple[Path, str, bytes]]) -> Iterator[Any]:
        """The window prepared on the cluster, with the CPUs it has now, and stored."""
        nonlocal ray, stored
        if ray is None:
            ray = connect(address)
            quiet.enter_context(_stderr_to_file(ray_errors_file(ray)))
        workers = _cpus(ray, address, stored, notice)
        for outcome in _prepared(
            ray,
            workers,
            engine,
            settings,
            model,
            coll_id,
            window,
            prov,
            gate,
            ingestion,
            address,
            notice,
        ):
            stored += outcome.status in ("added", "updated")
            yield outcome

    try:
        for path, source in sources:
            try:
                data = read_regular_file(path, int(settings.limits.max_file_mb * 1_000_000))
            except IngestError as exc:
                yield FileOutcome(str(path), "failed", error=str(exc))
                continue
            except OSError as exc:
                yield FileOutcome(str(path), "failed", error=file_error(path, exc))
                continue
            with engine.connect() as conn:
                existing = repo.find_document(conn, coll_id, source)
                digest = hashlib.sha256(data).hexdigest()
                if unchanged(
                    conn, existing, digest, meta, reserved=prov.tdm_reserved, exact=prov.exact
                ):
                    # Its original made whole again if a power cut left it empty, as a local
                    # add does (pipeline.one_file): the operator adds again the way they add.
                    blobs.put(settings.home, digest, data)
                    yield FileOutcome(str(path), "unchanged", int(existing.id))
                    continue
            window.append((path, source, data))
            held += len(data)
            if held >= WINDOW_BYTES:
                yield from sent(window)
                window, held = [], 0
        if window:
            yield from sent(window)
    except _Lost as lost:
        raise lost.said(address, stored) from lost.__cause__
    finally:
        if ray is not None:
            # A job's thread left reading its rows (_watched: the add stopped by Ctrl-C, by a
            # document's store, or given up) fails as Ray shuts down under it, and Ray Data
            # logged its traceback, sixty lines, above the add's one (connect() sets the
            # level back).
            logging.getLogger("ray.data").setLevel(logging.CRITICAL)
            try:
                ray.shutdown()
            finally:
                quiet.close()


def ray_errors_file(ray: Any) -> Path:
    """Where Ray's own C++ lines of this add go (:func:`_stderr_to_file`): beside the
    driver's log in the session's logs, else in the temporary directory."""
    name = f"commune-add-{os.getpid()}.err"
    try:
        logs = ray._private.worker._global_node.get_logs_dir_path()
    except AttributeError:  # another version of Ray
        logs = None
    return Path(logs or tempfile.gettempdir()) / name


@contextlib.contextmanager
def _stderr_to_file(path: Path) -> Iterator[None]:
    """The process's stderr (file descriptor 2) written to ``path``, Python's ``sys.stderr``
    still to where it wrote (the terminal): the add's progress bar and its one-line
    messages stay, and Ray's core, which writes its errors there itself whatever its
    loggers' levels ("Failed to push error to driver…" when a worker dies, dozens of lines),
    writes them to the file. Put back as it was at the end; the file removed if empty."""
    shown = sys.stderr
    try:
        on_fd2 = shown is not None and shown.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a test's capture, a closed stream
        on_fd2 = False
    try:
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    except OSError:  # the logs cannot be written: Ray's lines as they were
        yield
        return
    if on_fd2:
        shown.flush()
    saved = os.dup(2)
    os.dup2(target, 2)
    os.close(target)
    if on_fd2:
        # Python's stderr on a copy of the terminal's descriptor, closed once nothing holds
        # it: a progress bar made meanwhile writes to it to its end.
        sys.stderr = os.fdopen(
            os.dup(saved), "w", buffering=1, encoding=shown.encoding, errors=shown.errors
        )
    try:
        yield
    finally:
        if on_fd2:
            sys.stderr.flush()
            sys.stderr = shown
        os.dup2(saved, 2)
        os.close(saved)
        with contextlib.suppress(OSError):
            if path.stat().st_size == 0:  # Ray said nothing: no empty file left behind
                path.unlink()


def _kept(stored: int) -> str:
    """What an add stopped by the cluster keeps of the ``stored`` documents before."""
    if not stored:
        return "nothing was added"
    if stored == 1:
        return "1 document added or updated before it is kept"
    return f"{stored} documents added or updated before it are kept"


class _Lost(Exception):
    """The cluster failed a window's job (a node lost, the head stopped): what it said."""

    def said(self, address: str, stored: int) -> CommuneError:
        """The add's end, in one line: what the cluster said, and that the documents stored
        from the windows before stay. It was a traceback of Ray's, with no word of them."""
        cause = self.__cause__
        if isinstance(cause, _NoWorker):
            return CommuneError(
                f"the Ray cluster at {address} has no CPU to work on: its worker nodes left "
                f"during the job and none joined in {JOIN_SECONDS:g} s, {_kept(stored)}",
                f"start one with `ray start --address {address}` (`ray status` lists the "
                "nodes), then run the same command again",
            )
        # A worker that raised one of Commune's errors (its node lacks the embedder,
        # _Preparer): Ray's text ends with its traceback's last line, "commune.errors.X: what
        # (what to do)", which is said, not Ray's first line ("The actor died because of an
        # error raised in its creation task, ray::MapWorker(…).__init__() (pid=…", its
        # terminal colours' escapes included, cut at 200 characters).
        text = _COLOURS.sub("", str(cause))
        ours = re.findall(r"^commune\.errors\.\w+: (.+)$", text, re.MULTILINE)
        if ours:
            from commune.text.messages import split_hint

            what, hint = split_hint(ours[-1]) or (ours[-1], "")
            return CommuneError(
                f"the Ray cluster at {address} failed, {_kept(stored)}: {what}", hint or None
            )
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        why = (lines[0] if lines else type(cause).__name__)[:200]
        return CommuneError(
            f"the Ray cluster at {address} failed, {_kept(stored)}: {why}",
            "see `ray status`, then run the same command again to finish: the files stored "
            "are skipped",
        )


_COLOURS = re.compile(r"\x1b\[[0-9;]*m")  # a terminal's colours, which Ray writes in its errors


def workers_left(address: str) -> str:
    """The line that says an add's job lost every worker node and waits for one."""
    return (
        f"the Ray cluster at {address} lost its worker nodes during the job: waiting up to "
        f"{JOIN_SECONDS:g} s for one to join"
    )


class _NoWorker(Exception):
    """The cluster kept no CPU for :data:`JOIN_SECONDS` while a job waited for its rows."""


# Seconds between two looks at the cluster's CPUs while a job's next row is awaited.
WATCH_SECONDS = 5.0


def _watched(
    ray: Any, rows: Iterator[Any], address: str, notice: Callable[[str], None] | None = None
) -> Iterator[Any]:
    """``rows`` of a Ray Data job, as they come; :class:`_Lost` when the job fails, or when
    the cluster has had no CPU for :data:`JOIN_SECONDS` while its next row is awaited.

    Every worker node lost mid-job (a worker machine switched off), Ray Data waits for its
    actors to start again on a node that has the CPU they ask, forever, the add saying
    nothing. The rows are taken on a thread of their own, so that this one can look at the
    cluster between them. A job that takes long with its CPUs there is left to run: its
    files are large, not lost. ``notice`` is told when the CPUs are gone and the wait
    starts, as :func:`_cpus` tells it."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=4 * BATCH)

    def pump() -> None:
        try:
            for row in rows:
                box.put(("row", row))
            box.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 (given to the add, which says it)
            box.put(("error", exc))

    # A daemon: left waiting on a cluster that is gone, it does not keep the add from ending.
    threading.Thread(target=pump, name="ray-rows", daemon=True).start()
    empty_since: float | None = None
    while True:
        try:
            kind, value = box.get(timeout=WATCH_SECONDS)
        except queue.Empty:
            try:
                cpus = float(ray.cluster_resources().get("CPU", 0))
            except Exception as exc:
                raise _Lost() from exc
            if cpus >= 1:
                empty_since = None
                continue
            if empty_since is None:
                empty_since = time.monotonic()
                if notice is not None:
                    notice(workers_left(address))
            if time.monotonic() - empty_since > JOIN_SECONDS:
                # The job is given up: its thread, failing as Ray shuts down, would log Ray
                # Data's traceback under the add's one line (connect() sets the level back).
                logging.getLogger("ray.data").setLevel(logging.CRITICAL)
                raise _Lost() from _NoWorker()
            continue
        if kind == "end":
            return
        if kind == "error":
            if isinstance(value, Exception):
                raise _Lost() from value
            raise value
        yield value


def _prepared(
    ray: Any,
    workers: int,
    engine: Any,
    settings: Any,
    model: str,
    coll_id: int,
    jobs: list[tuple[Path, str, bytes]],
    prov: Any,
    gate: Any,
    ingestion: Any,
    address: str,
    notice: Callable[[str], None] | None = None,
) -> Iterator[Any]:
    """One window of files (their paths, addresses and bytes), prepared on the cluster as
    one Ray Data job and stored here as they come back. A failure of the job itself (not of
    a file, which its worker reports) is :class:`_Lost`: the store's own errors stay theirs."""
    items = [{"i": i, "name": str(p), "data": d} for i, (p, _, d) in enumerate(jobs)]
    try:
        rows = iter(
            ray.data.from_items(items)
            .map_batches(
                _Preparer,
                fn_constructor_kwargs={"settings": settings},
                batch_size=BATCH,
                # A pool of actors, each loading the embedder once (`concurrency=` is
                # deprecated since Ray 2.51, and Ray warned about it on every add).
                compute=ray.data.ActorPoolStrategy(
                    size=min(workers, max(1, len(jobs) // BATCH or 1))
                ),
                num_cpus=1,
                batch_format="numpy",
            )
            .iter_rows()
        )
    except Exception as exc:
        raise _Lost() from exc
    for row in _watched(ray, rows, address, notice):
        path, source, data = jobs[int(row["i"])]
        result = pickle.loads(row["result"])
        if isinstance(result, str):
            yield FileOutcome(str(path), "failed", error=result)
            continue
        yield store(
            engine, settings, model, coll_id, path, source, prov, data, result, gate, ingestion
        )
