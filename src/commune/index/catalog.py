"""The searchable snapshot of the database at one generation: a merged base on disk, and
the passages changed since, in memory (Lucene's segments, on a small scale).

The database is the truth; the index is a cache. Every content change bumps a generation
counter in its own transaction and logs which document changed (``index_log``). The base
is built at one generation and written atomically (a crash mid-build leaves the previous
one usable). At a later generation, the documents changed since the base are read from the
database alone: their current passages form a small delta segment, and their passages in
the base are masked out (tombstones), so a new or changed document is searchable at the
next query, and a retired or superseded passage vanishes at once. When the delta grows past
a share of the base, a new base is merged in a background thread while queries go on
against the old one: no query waits for a rebuild. Only a home without any base (its first
search), `commune reindex`, a change not logged per document, or a one-shot command about
to exit once the passages changed since the base reach a share of it (`commune add` and
`commune import`: ``settle``) rebuilds in the foreground.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
from sqlalchemy import Engine, Row
from sqlalchemy.exc import SQLAlchemyError

from commune.config import IndexSettings
from commune.embed import Embedder
from commune.index.dense import MatrixIndex
from commune.index.lexical import Bm25Index, Bm25Segment
from commune.index.lexicon import Lexicon, build_lexicon
from commune.store import repository as repo
from commune.store.files import flush, flush_tree


@dataclass
class Catalog:
    generation: int
    model: str
    # Per row of this catalog's own segment: the base's rows, or for a delta the changed
    # documents' rows (numbered after the base's: a delta never copies the base's arrays,
    # which at 1M passages would cost ~65 ms of every refresh).
    chunk_ids: np.ndarray  # row -> chunk id
    collection_ids: np.ndarray  # row -> collection id
    languages: np.ndarray  # row -> language code of the chunk ("fr", "en"...)
    lexical: Bm25Index  # over every row, base and delta
    dense: MatrixIndex  # over every row, base and delta
    document_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # Over every row: False for base rows whose document changed since the base (None: all
    # live).
    live: np.ndarray | None = None
    base: Catalog | None = None  # for a delta: the base its rows follow
    # The base's vocabularies, for the question's words in the other languages
    # (index/lexicon.py). A delta's new words join at the next merge.
    lexicon: Lexicon | None = None
    # A base's collection masks, by readable collection ids: a person's scope rarely changes.
    # And its language masks, by language code.
    _masks: dict[tuple[int, ...] | str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def base_generation(self) -> int:
        return self.base.generation if self.base is not None else self.generation

    @property
    def base_rows(self) -> int:
        return len(self.base.chunk_ids) if self.base is not None else len(self.chunk_ids)

    @property
    def delta_rows(self) -> int:
        return len(self.chunk_ids) if self.base is not None else 0

    def __len__(self) -> int:
        return self.base_rows + self.delta_rows

    def chunk_id(self, row: int) -> int:
        if self.base is None:
            return int(self.chunk_ids[row])
        n = self.base_rows
        return int(self.base.chunk_ids[row] if row < n else self.chunk_ids[row - n])

    def languages_of(self, rows: np.ndarray) -> np.ndarray:
        if self.base is None:
            return np.asarray(self.languages[rows])
        n = self.base_rows
        out = np.empty(rows.shape, dtype=self.base.languages.dtype)
        low = rows < n
        out[low] = self.base.languages[rows[low]]
        out[~low] = self.languages[rows[~low] - n]
        return out

    def in_language(self, lang: str) -> np.ndarray:
        """Over every row: whether its passage is written in ``lang``."""
        if self.base is None:
            found = self._masks.get(lang)
            if found is None:
                found = self.languages == lang
                found.flags.writeable = False  # shared by every search in this language
                self._masks[lang] = found
            return found
        return np.concatenate([self.base.in_language(lang), self.languages == lang])

    def in_collections(self, ids: list[int]) -> np.ndarray:
        """Over every row: whether it belongs to one of the collections ``ids``."""
        own = np.isin(self.collection_ids, ids)
        if self.base is None:
            key = tuple(sorted(ids))
            found = self._masks.get(key)
            if found is None:
                if len(self._masks) >= 32:  # bounded: 1 MB a mask at 1M passages
                    self._masks.pop(next(iter(self._masks)))
                own.flags.writeable = False  # shared by every search in this scope
                found = self._masks[key] = own
            return found
        return np.concatenate([self.base.in_collections(ids), own])


_lock = threading.Lock()
# Merge a new base once the passages changed since the old one reach this share of it
# (or MERGE_MIN_ROWS, for small homes): the delta is rebuilt from the database at each
# change, so it must stay small; merging costs a full build, in the background.
MERGE_SHARE = 0.05
MERGE_MIN_ROWS = 2000
_bases: dict[Path, Catalog] = {}  # the bases this process has read, by directory
# The newest base built but not kept on disk, by index directory and model: its database
# took no write (_write's ``unrecorded_ok``). The changes since are served beside it, as
# beside a base on disk: a replica following its primary built the whole index again at
# each change.
_unrecorded: dict[tuple[Path, str], Catalog] = {}
_lock_unrecorded = threading.Lock()  # _lock is held by a build, not by a background merge
_merging: set[Path] = set()


# Bumped when the files of a catalog change shape: an older directory is then rebuilt, not
# misread (v2: chunk languages, for language-aware fusion; v3: document ids, for deltas,
# and BM25 segments that share their statistics). A base may lack lexicon.npz (one built by
# an earlier version): its searches have no translated list until the next merge or
# `commune reindex` builds one, rather than a rebuild at the first search after an upgrade.
FORMAT = 3


# What reading a base's files raises when they are missing (a merge removed them meanwhile)
# or cut short (a power cut soon after the base was renamed into place: numpy's EOFError,
# which click took for Ctrl-D and ended every search with "Aborted!"; scipy's BadZipFile).
UNREADABLE = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile)


def _directory(index_dir: Path, generation: int, model: str) -> Path:
    return index_dir / f"g{generation}-{model}-v{FORMAT}"


Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)
EMBED_BATCH = 64  # vectors are stored batch by batch: an interrupted re-embedding resumes


def load_catalog(
    engine: Engine,
    index_dir: Path,
    embedder: Embedder,
    progress: Progress | None = None,
    rebuild: bool = False,
    settings: IndexSettings | None = None,
    settle: bool = False,
    merging: Callable[[int], None] | None = None,
    failed: Callable[[Exception], None] | None = None,
) -> Catalog:
    """The index at the database's current generation: the newest base and, when the base
    is older, the documents changed since it (see the module's docstring).

    ``settle``: the caller exits once it has the index (`commune add`), so a merge that the
    changes since the base make worth it (:func:`_worth_settling`) is built here, not in a
    thread the exit would kill. ``merging``: told the passages such a merge reads, as it
    starts (at a million, it takes minutes: `commune add` says so); ``failed``: told when it
    fails, and the changes stay beside the old base."""
    settings = settings or IndexSettings()
    with engine.connect() as conn:
        gen = repo.generation(conn)
    if not rebuild:
        catalog = _incremental(engine, index_dir, embedder, gen, settings)
        if catalog is not None:
            if settle and _worth_settling(catalog):
                return _settled(engine, index_dir, embedder, catalog, settings, merging, failed)
            _maybe_merge(engine, index_dir, embedder, catalog, settings)  # none for a base alone
            return catalog
    path = _directory(index_dir, gen, embedder.name)
    with _lock, _build_lock(index_dir):
        # Another thread or process may have built it while this one waited.
        if not rebuild and (path / "rows.npz").exists() and _of_this_database(engine, path):
            try:
                return _cached(path, gen, embedder.name, settings)
            except UNREADABLE:
                pass  # a power cut's empty files under the base's names: built again below
        previous = _previous_lexicon(index_dir, embedder.name)
        catalog = build_catalog(engine, embedder, progress, settings, previous)
        if path.exists():  # asked to rebuild, unreadable, or another database's
            # Its record forgotten too: kept, each `commune reindex` left one more for good.
            _forget(engine, [_remove_base(path)])
        _write(catalog, index_dir, engine, unrecorded_ok=not rebuild)
        _bases[path] = catalog  # what was just built serves as the base from now on
        return catalog


def _incremental(
    engine: Engine, index_dir: Path, embedder: Embedder, gen: int, settings: IndexSettings
) -> Catalog | None:
    """The newest base, with the documents changed since it beside it; None when there is no
    base, or a change was not logged per document (only a full build is then right)."""
    base = _newest_base(engine, index_dir, embedder.name, gen, settings)
    kept = _unrecorded.get((index_dir, embedder.name))
    if kept is not None and kept.generation <= gen:
        if base is None or kept.generation > base.generation:
            base = kept if not _holds_erased(engine, kept) else base
    if base is None or base.generation == gen:
        return base
    with engine.connect() as conn:
        changed = repo.changed_documents(conn, base.generation, gen)
    return None if changed is None else _with_delta(engine, embedder, base, changed, gen)


def _holds_erased(engine: Engine, catalog: Catalog) -> bool:
    """Whether ``catalog`` (a base kept in memory) holds a passage a personal-data takedown
    erased since: its terms and vocabulary keep the erased words, as a base on disk would
    (Commune._forget_erased rebuilds those); it is then built again, not served."""
    from commune.store.erasure import erased_passages

    with engine.connect() as conn:
        erased = erased_passages(conn)
    return bool(erased) and bool(np.isin(catalog.chunk_ids, list(erased)).any())


def _settled(
    engine: Engine,
    index_dir: Path,
    embedder: Embedder,
    catalog: Catalog,
    settings: IndexSettings,
    merging: Callable[[int], None] | None = None,
    failed: Callable[[Exception], None] | None = None,
) -> Catalog:
    """A merged base at the database's generation, built now. Under the build lock, another
    process may have merged meanwhile, at this generation or a later one: its base is taken
    when what is left to merge is no longer worth it. A failure leaves ``catalog`` (base and
    delta), as a failed background merge does: the documents are stored, and the next merge
    takes them in; ``failed`` is told (the command says so in its reader's language). The
    count told to ``merging`` is the passages the merge will read as of the catalog read
    under the lock (a change not logged per document: the caller's, a little older)."""
    import logging

    try:
        with _lock, _build_lock(index_dir):
            with engine.connect() as conn:
                gen = repo.generation(conn)  # read again: the wait may have been long
            again = _incremental(engine, index_dir, embedder, gen, settings)
            if again is not None and not _worth_settling(again):
                return again
            current = again if again is not None else catalog
            if merging is not None:
                merging(len(current) - _masked(current))
            previous = current.lexicon or _previous_lexicon(index_dir, embedder.name)
            built = build_catalog(engine, embedder, None, settings, previous)
            _write(built, index_dir, engine)
            _bases[_directory(index_dir, built.generation, embedder.name)] = built
            return built
    except Exception as e:  # noqa: BLE001 -- the command's own work is done and stored
        # The traceback for whoever debugs; never a warning's, which Python's last resort
        # would print to a command's user where no logging is set up.
        logging.getLogger("commune.index").debug("merge failed", exc_info=True)
        if failed is not None:
            failed(e)
        else:
            logging.getLogger("commune.index").warning(
                "the index merge failed (%s); searches go on beside the old base",
                type(e).__name__,
            )
        return catalog


def newer_base(index_dir: Path, catalog: Catalog) -> bool:
    """Whether a base newer than ``catalog``'s, and no newer than it, is on disk: another
    process merged (`commune add` settles before it exits) without a change of generation,
    so a process whose catalog holds a delta takes it at its next refresh. Directory names
    only: cheap enough for every refresh."""
    if catalog.base_generation == catalog.generation:
        return False
    return any(
        catalog.base_generation < g <= catalog.generation
        for g, _ in _bases_on_disk(index_dir, catalog.model)
    )


def _bases_on_disk(index_dir: Path, model: str) -> Iterator[tuple[int, Path]]:
    """Each complete base of ``model`` in this format on disk, with its generation."""
    suffix = f"-{model}-v{FORMAT}"
    for d in index_dir.glob(f"g*{suffix}") if index_dir.exists() else ():
        try:
            g = int(d.name[1 : -len(suffix)])
        except ValueError:
            continue
        if (d / "rows.npz").exists():
            yield g, d


def _newest_base(
    engine: Engine, index_dir: Path, model: str, gen: int, settings: IndexSettings
) -> Catalog | None:
    """The newest base on disk built from this database at or before generation ``gen``.
    A base built from another state of it (:func:`_of_this_database`) is removed: kept, it
    was taken as this database's once its generation came round again."""
    found = sorted(((g, d) for g, d in _bases_on_disk(index_dir, model) if g <= gen), reverse=True)
    if not found:
        return None
    # Read after the folders were listed: a base is recorded before it takes its name.
    with engine.connect() as conn:
        recorded = repo.index_bases(conn)
    for g, d in found:
        if not _recorded(d, recorded):
            _remove_base(d)
            continue
        try:
            return _cached(d, g, model, settings)
        except UNREADABLE:
            # Removed by a merge in another process meanwhile, or left with empty files by a
            # power cut: build (load_catalog replaces a base it cannot read).
            return None
    return None


def _history(path: Path) -> str | None:
    """The name a base was recorded under in the database it was built from (info.json);
    None for a base written before bases were recorded, or one that cannot be read."""
    try:
        info = json.loads((path / "info.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = info.get("history") if isinstance(info, dict) else None
    return name if isinstance(name, str) else None


def _recorded(path: Path, recorded: set[str]) -> bool:
    """Whether the base at ``path`` was built from the database whose records are
    ``recorded`` (repository.index_bases). The database is the one put back by pg_restore
    (or a commune.db copied back) when the base was built after its dump, from the database
    it replaced: its generation numbers are reached again, with other documents under the
    same chunk numbers. A base written before bases were recorded is taken as long as the
    database records none (the first base recorded replaces it)."""
    name = _history(path)
    return name in recorded if name is not None else not recorded


def _of_this_database(engine: Engine, path: Path) -> bool:
    with engine.connect() as conn:
        return _recorded(path, repo.index_bases(conn))


def _remove_base(path: Path) -> str | None:
    """Remove a base folder; the name it was recorded under, to forget."""
    name = _history(path)
    shutil.rmtree(path, ignore_errors=True)
    _bases.pop(path, None)
    return name


def foreign_bases(engine: Engine, index_dir: Path) -> list[str]:
    """The bases on disk built from another state of this database (put back by pg_restore
    or a copy, index/ kept): for `commune check`, which changes nothing. A base at a later
    generation than the database's is one; so is a base recorded in a database that is not
    this one. A base written before bases were recorded, at or before the database's
    generation, cannot be told apart."""
    with engine.connect() as conn:
        gen = repo.generation(conn)
    folders = [
        d
        for d in (sorted(index_dir.glob("g*-*")) if index_dir.exists() else [])
        if d.is_dir() and (d / "rows.npz").exists()
    ]
    if not folders:
        return []
    with engine.connect() as conn:  # after the listing: a base is recorded before its name
        recorded = repo.index_bases(conn)
    foreign = []
    for d in folders:
        name = _history(d)
        if (name is not None and name not in recorded) or (name is None and _later(d.name, gen)):
            foreign.append(d.name)
    return foreign


def _cached(path: Path, gen: int, model: str, settings: IndexSettings) -> Catalog:
    found = _bases.get(path)
    if found is None:
        found = _read(path, gen, model, settings)
        for old in list(_bases)[:-1]:  # keep the previous one too: threads may be using it
            _bases.pop(old, None)
        _bases[path] = found
    return found


def _with_delta(
    engine: Engine, embedder: Embedder, base: Catalog, changed: list[int], gen: int
) -> Catalog:
    """``base`` with the current passages of the ``changed`` documents beside it, and their
    base passages masked out; labelled ``gen``, the generation ``changed`` was read at. Read
    again here, a later generation would label a catalog that lacks the documents changed
    in between, and no refresh would ever bring them (a retired document kept being found, a
    new one never was). Rows newer than the label do no harm: the next refresh reads them."""
    with engine.connect() as conn, conn.begin():
        rows = list(repo.searchable_chunks(conn, changed)) if changed else []
        ids = [int(r.id) for r in rows]
        stored = repo.vectors_for(conn, ids, embedder.name)
    vectors = _vectors(engine, embedder, rows, ids, stored, None)
    live = ~np.isin(base.document_ids, np.asarray(changed, dtype=np.int64))
    lexical = Bm25Index(
        [
            *base.lexical.segments,
            Bm25Segment.build([r.terms.split() for r in rows], avgdl=base.lexical.avgdl),
        ]
    )
    return Catalog(
        generation=gen,
        model=base.model,
        **_columns(rows, ids, base.languages.dtype),
        lexical=lexical,
        dense=MatrixIndex.join([*base.dense.segments, vectors], ann=base.dense.ann),
        live=np.concatenate([live, np.ones(len(rows), dtype=bool)]),
        base=base,
        lexicon=base.lexicon,
    )


class _Columns(TypedDict):
    chunk_ids: np.ndarray
    collection_ids: np.ndarray
    languages: np.ndarray
    document_ids: np.ndarray


def _columns(
    rows: list[Row[Any]], ids: list[int], languages: np.dtype[Any] | str = "U8"
) -> _Columns:
    """The per-row arrays of a catalog's own segment, from its chunk rows."""
    return _Columns(
        chunk_ids=np.asarray(ids, dtype=np.int64),
        collection_ids=np.asarray([int(r.collection_id) for r in rows], dtype=np.int64),
        languages=np.asarray([r.language for r in rows], dtype=languages),
        document_ids=np.asarray([int(r.document_id) for r in rows], dtype=np.int64),
    )


def _masked(catalog: Catalog) -> int:
    """The base's passages masked out (tombstones): a merge leaves them behind."""
    return 0 if catalog.live is None else int((~catalog.live).sum())


def _changed_rows(catalog: Catalog) -> int:
    """The delta's passages and the base's masked ones: what a merge would take in."""
    return catalog.delta_rows + _masked(catalog)


def _worth_settling(catalog: Catalog) -> bool:
    """Whether a process about to exit merges now: once the passages changed since the base
    (the delta and its tombstones, whoever changed them) reach MERGE_SHARE of the base,
    without the MERGE_MIN_ROWS floor. The floor spares a serving process a rebuild
    every few changes, since it keeps its delta in memory; a one-shot process does not, and
    every later command would rebuild the delta from the database at its start, and search
    with the base's vocabularies (index/lexicon.py), which lack the delta's words. The demo's
    home held the French handbook in its base and the English one in a delta of 1,678
    passages, under the floor: its English vocabulary was the French handbook's few English
    paragraphs, and "paquet" stood among the English words."""
    return _settles(_changed_rows(catalog), catalog.base_rows)


def _settles(changed: int, base: int) -> bool:
    """Whether ``changed`` passages (the delta's and the base's masked ones) reach MERGE_SHARE
    of a base of ``base`` passages: the rule of :func:`_worth_settling` and :func:`unsettled`."""
    return changed >= max(1, MERGE_SHARE * base)


def unsettled(engine: Engine, index_dir: Path, model: str) -> bool:
    """Whether a one-shot command that changed nothing must still settle: the changes since
    the newest base on disk are what :func:`_worth_settling` merges (or there is no base).
    A `commune add` killed during its merge (kill -9, a power cut) left them so, its
    documents stored; the same command run again found every file unchanged and merged
    nothing, and every later command rebuilt the changes at its start and searched with the
    old base's vocabularies. Read cheaply: directory names, the base's document column and
    a count, never the base's vectors (gigabytes at a million passages)."""
    with engine.connect() as conn:
        gen = repo.generation(conn)
        found = [(g, d) for g, d in _bases_on_disk(index_dir, model) if g <= gen]
        recorded = repo.index_bases(conn)  # after the listing: recorded before its name
        # Another state of the database's base is no base: the next load removes it.
        best = max(((g, d) for g, d in found if _recorded(d, recorded)), default=None)
        if best is None:
            return gen > 0  # the first build was killed: the next search would wait for it
        if best[0] == gen:
            return False
        changed = repo.changed_documents(conn, best[0], gen)
        if changed is None:
            return True  # a change not logged per document: only a full build is right
        delta = repo.searchable_count(conn, changed)
    try:
        with np.load(best[1] / "rows.npz") as rows:
            documents = rows["document_ids"]
    except UNREADABLE:
        return True  # removed meanwhile, or a power cut's: settling builds it again
    masked = int(np.isin(documents, np.asarray(changed, dtype=np.int64)).sum())
    return _settles(delta + masked, len(documents))


def _maybe_merge(
    engine: Engine,
    index_dir: Path,
    embedder: Embedder,
    catalog: Catalog,
    settings: IndexSettings,
) -> None:
    """Past the merge threshold, build a new base in a background thread (one per home and
    process; another process already merging holds the build lock, and this one lets it)."""
    if _changed_rows(catalog) < max(MERGE_MIN_ROWS, MERGE_SHARE * catalog.base_rows):
        return
    with _lock:
        if index_dir in _merging:
            return
        _merging.add(index_dir)

    def merge() -> None:
        import fcntl
        import logging

        try:
            index_dir.mkdir(parents=True, exist_ok=True)
            with open(index_dir / ".build.lock", "a") as fh:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    return  # another process is building: its base will be found
                try:
                    _remove_leftovers(index_dir)
                    previous = catalog.lexicon or _previous_lexicon(index_dir, embedder.name)
                    built = build_catalog(engine, embedder, None, settings, previous)
                    _write(built, index_dir, engine, unrecorded_ok=True)
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)
        except Exception:  # noqa: BLE001 -- a failed merge leaves the old base and the delta
            logging.getLogger("commune.index").exception("background merge failed")
        finally:
            with _lock:
                _merging.discard(index_dir)

    threading.Thread(target=merge, name="commune-merge", daemon=True).start()


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One builder at a time across processes (API workers, CLI): the others wait for its
    result instead of building the same index and racing to rename it into place."""
    from commune.store.db import file_lock

    index_dir.mkdir(parents=True, exist_ok=True)
    with file_lock(index_dir / ".build.lock"):
        _remove_leftovers(index_dir)
        yield


def _remove_leftovers(index_dir: Path) -> None:
    """Remove the build folders a build killed midway (kill -9, a power cut) left: they grow
    with the commons (23 MB for the handbook, gigabytes at a million passages). Called with
    the build lock held, which every build holds until its folder is renamed into place: any
    folder found then is no living builder's. (They were removed once six hours old, a
    younger one taken for another process's build under way: a merge killed and run again
    at once left its gigabytes for hours.)"""
    for left in index_dir.glob(".build-*"):
        with contextlib.suppress(OSError):
            if left.is_dir():
                shutil.rmtree(left, ignore_errors=True)


def build_catalog(
    engine: Engine,
    embedder: Embedder,
    progress: Progress | None = None,
    settings: IndexSettings | None = None,
    previous: Lexicon | None = None,
) -> Catalog:
    """A base at the database's current generation; ``previous``: the last base's lexicon,
    whose words are not embedded again."""
    settings = settings or IndexSettings()
    with engine.connect() as conn:
        # Read the generation and rows in one transaction so they agree.
        with conn.begin():
            gen = repo.generation(conn)
            rows = list(repo.searchable_chunks(conn))
            ids = [int(r.id) for r in rows]
            stored = repo.vectors_for(conn, ids, embedder.name)
    matrix = _vectors(engine, embedder, rows, ids, stored, progress)
    return Catalog(
        generation=gen,
        model=embedder.name,
        **_columns(rows, ids),
        lexical=Bm25Index.build([r.terms.split() for r in rows]),
        dense=MatrixIndex.build(matrix, *_approximate(settings)),
        lexicon=build_lexicon(((r.text, r.language) for r in rows), embedder, previous),
    )


def _previous_lexicon(index_dir: Path, model: str) -> Lexicon | None:
    """The newest base's lexicon on disk, of any generation or format: its words' vectors
    serve the next base."""
    found = []
    for path in index_dir.glob(f"g*-{model}-v*/lexicon.npz") if index_dir.exists() else ():
        try:
            found.append((path.stat().st_mtime, path))
        except OSError:
            continue  # removed by another process's merge meanwhile
    for _, path in sorted(found, reverse=True):
        try:
            lexicon = Lexicon.load(path)
        except (OSError, ValueError):
            continue  # removed meanwhile, or cut short: try an older one
        if lexicon.model == model:  # not another model whose name ends like this one's
            return lexicon
    return None


def _read_lexicon(path: Path) -> Lexicon | None:
    """A base's lexicon; None when it has none or it cannot be read (the base still serves,
    without the translated list, and the next merge writes a new one)."""
    if not path.exists():
        return None
    try:
        return Lexicon.load(path)
    except (OSError, ValueError) as e:
        import logging

        logging.getLogger("commune.index").warning("lexicon skipped: %s", e)
        return None


def _vectors(
    engine: Engine,
    embedder: Embedder,
    rows: list[Row[Any]],
    ids: list[int],
    stored: dict[int, bytes],
    progress: Progress | None,
) -> np.ndarray:
    """The rows' vectors from this model, embedding (and storing) any that is missing."""
    missing = [i for i, r in enumerate(rows) if int(r.id) not in stored]
    if missing:
        from commune.ingest.pipeline import embedding_text

        # Chunks without a vector from this model (a new embedder was configured): embed
        # them now, storing each batch, so that the work survives an interruption.
        for start in range(0, len(missing), EMBED_BATCH):
            part = missing[start : start + EMBED_BATCH]
            fresh = embedder.embed_passages(
                [embedding_text(rows[i].title, rows[i].heading_path, rows[i].text) for i in part]
            )
            pairs = [(ids[i], fresh[n]) for n, i in enumerate(part)]
            with engine.begin() as conn:
                repo.store_vectors(conn, pairs, embedder.name)
            stored.update({cid: np.asarray(v, dtype="<f4").tobytes() for cid, v in pairs})
            if progress:
                progress(start + len(part), len(missing))
    matrix = np.zeros((len(rows), embedder.dim), dtype=np.float32)
    for i, cid in enumerate(ids):
        matrix[i] = np.frombuffer(stored[cid], dtype="<f4")
    return matrix


def _write(catalog: Catalog, index_dir: Path, engine: Engine, unrecorded_ok: bool = False) -> None:
    """Put ``catalog`` in place as a base, recorded in the database it was built from
    (repository.index_bases) before it takes its name, and remove the bases it replaces.

    ``unrecorded_ok`` (a load, not `commune reindex`): a database that takes no write (a
    replica, default_transaction_read_only, SQLite read-only) leaves the base off the disk,
    since a base not recorded is another database's to the next load, and ``catalog``
    serves from memory, said in one line of the log in the server's language. The
    refusal stopped `commune serve`'s start, or every search of a process with no base."""
    import uuid

    index_dir.mkdir(parents=True, exist_ok=True)
    final = _directory(index_dir, catalog.generation, catalog.model)
    history = uuid.uuid4().hex
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=index_dir))
    try:
        catalog.lexical.save(tmp / "lexical")
        catalog.dense.save(tmp / "dense")
        if catalog.lexicon is not None:
            catalog.lexicon.save(tmp / "lexicon.npz")
        np.savez(
            tmp / "rows.npz",
            chunk_ids=catalog.chunk_ids,
            collection_ids=catalog.collection_ids,
            languages=catalog.languages,
            document_ids=catalog.document_ids,
        )
        (tmp / "info.json").write_text(
            json.dumps(
                {
                    "generation": catalog.generation,
                    "model": catalog.model,
                    "rows": len(catalog),
                    "history": history,
                }
            )
        )
        if final.exists():
            if _of_this_database(engine, final):
                shutil.rmtree(tmp)
                return
            # Built from another state of the database, at this generation: replaced.
            _forget(engine, [_remove_base(final)])
        # On the disk before it has the base's name: a power cut soon after the rename
        # otherwise left the name with empty files (the next build replaces such a base).
        flush_tree(tmp)
        from commune.store.db import refuses_writes

        try:
            with engine.begin() as conn:
                repo.record_index_base(conn, history, catalog.generation, catalog.model)
        except SQLAlchemyError as exc:
            if not (unrecorded_ok and refuses_writes(exc)):
                raise
            shutil.rmtree(tmp)
            _said_unrecorded(exc, catalog.generation)
            with _lock_unrecorded:
                _unrecorded[(index_dir, catalog.model)] = catalog
            return
        with _lock_unrecorded:  # kept on disk from now on
            _unrecorded.pop((index_dir, catalog.model), None)
        try:
            os.replace(tmp, final)
        except OSError:
            _forget(engine, [history])
            if not (final / "rows.npz").exists():
                raise
            shutil.rmtree(tmp)  # another builder put the same index in place first: keep it
            return
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    flush(index_dir)
    removed = _remove_later_bases(index_dir, catalog.generation)
    with engine.connect() as conn:
        recorded = repo.index_bases(conn)
    for other in index_dir.glob("g*-*"):
        # Another state of the database's (index/ kept over a pg_restore): never served.
        if other.is_dir() and other != final and _history(other) not in (None, *recorded):
            removed.append(_remove_base(other))
    # Older generations go, but the one just before stays: another process may be reading
    # it at this moment (it moves to the new one at its next search).
    older = sorted(
        (d for d in index_dir.glob("g*-*") if d.is_dir() and d != final),
        key=lambda d: d.stat().st_mtime,
    )
    for old in older[:-1]:
        removed.append(_remove_base(old))
    _forget(engine, removed)


def _said_unrecorded(exc: BaseException, generation: int) -> None:
    import logging

    from commune.text.messages import from_environment, localise

    said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    why = said[0] if said else type(exc).__name__
    message = (
        f"the search index built at generation {generation} was not kept on disk: the database "
        f"takes no write ({why}) (searches are served from memory; it is built again at the "
        "next start, until the database takes writes)"
    )
    logging.getLogger("commune.index").warning(localise(message, from_environment(os.environ)))


def bases_holding(index_dir: Path, passages: set[int]) -> list[Path]:
    """The bases on disk, of any model or format, whose rows hold one of ``passages`` (chunk
    ids): a personal-data takedown's (store/erasure.py), whose terms (lexical/vocab.json),
    vectors and words (lexicon.npz) they keep. A base whose rows cannot be read (cut short)
    is counted among them. Reads only each base's chunk column."""
    if not passages or not index_dir.exists():
        return []
    wanted = np.asarray(sorted(passages), dtype=np.int64)
    found = []
    for d in sorted(index_dir.glob("g*-*")):
        if not (d.is_dir() and (d / "rows.npz").exists()):
            continue
        try:
            with np.load(d / "rows.npz") as rows:
                holds = bool(np.isin(rows["chunk_ids"], wanted).any())
        except UNREADABLE:
            holds = True
        if holds:
            found.append(d)
    return found


def remove_bases(engine: Engine, paths: list[Path]) -> None:
    """Remove the bases ``paths`` and forget their records. A process reading one meanwhile
    keeps what it has mapped, and one about to read it builds a base (UNREADABLE)."""
    with _lock:
        _forget(engine, [_remove_base(p) for p in paths])


def _forget(engine: Engine, names: list[str | None]) -> None:
    """Forget the records of the bases removed (repository.index_bases)."""
    known = [n for n in names if n is not None]
    if known:
        with engine.begin() as conn:
            repo.forget_index_bases(conn, known)


def _later(name: str, generation: int) -> bool:
    """Whether the folder ``name`` is a base (of any model or format) built at a generation
    after ``generation``."""
    head = name.split("-", 1)[0]
    return head[:1] == "g" and head[1:].isdigit() and int(head[1:]) > generation


def _remove_later_bases(index_dir: Path, generation: int) -> list[str | None]:
    """Remove the bases built at a later generation than the base just written at
    ``generation``, the database's own as the build read it. They are no bases of this
    database: its generation only grows, and every base is written under the build lock,
    from the database as it was then. They are a replaced database's, put back without
    `commune restore` (pg_restore, which a PostgreSQL home must use, or a commune.db copied
    back): kept, the newest of them was taken for this database's once its commons reached
    that generation, and searches read its passages (other words under the same chunk ids,
    documents added since not found by their words). The names they were recorded under."""
    return [
        _remove_base(base)
        for base in list(index_dir.iterdir())
        if _later(base.name, generation) and base.is_dir()
    ]


def _approximate(settings: IndexSettings) -> tuple[int, int]:
    """(rows from which the base is searched through an inverted file, lists read a query)."""
    return settings.approximate_from_rows, settings.probes


def _read(path: Path, gen: int, model: str, settings: IndexSettings) -> Catalog:
    rows = np.load(path / "rows.npz")
    return Catalog(
        generation=gen,
        model=model,
        chunk_ids=rows["chunk_ids"],
        collection_ids=rows["collection_ids"],
        languages=rows["languages"],
        lexical=Bm25Index.load(path / "lexical"),
        dense=MatrixIndex.load(path / "dense", *_approximate(settings)),
        document_ids=rows["document_ids"],
        lexicon=_read_lexicon(path / "lexicon.npz"),
    )
